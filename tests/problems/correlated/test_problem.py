"""The revenue problem: harness + score with plain Python candidates (trusted, no sandbox)."""

import numpy as np
import pytest

from amdlib.core.proposers.offline import OfflineProposer
from amdlib.problems.correlated.harness import harness
from amdlib.problems.correlated.problem import CorrelatedRevenueProblem


@pytest.fixture(scope="module")
def prob():
    return CorrelatedRevenueProblem(21, 0.5)


def _score(prob, fn):
    return prob.score(harness(fn, prob.payload("search")), "search")


def test_seed_is_a_second_price_auction(prob):
    ev = _score(prob, lambda b, o, ps, pa, st: np.zeros_like(b))
    assert ev.valid and ev.score == pytest.approx(0.424603, abs=1e-6)
    assert ev.metrics["fix_cost"] == 0.0 and ev.metrics["max_regret"] == 0.0


def test_reserve_only_against_low_bids_reaches_99_percent(prob):
    ev = _score(prob, lambda b, o, ps, pa, st: b - 0.55 * (np.minimum(b, o) < 0.2))
    assert ev.score == pytest.approx(0.450794, abs=1e-6)
    assert ev.metrics["optimum_ratio"] > 0.99
    assert "99.0% of the optimum" in ev.diagnostics


def test_conditional_virtual_value_loses_revenue_to_the_fix(prob):
    ev = _score(prob, lambda b, o, ps, pa, st: b - st * pa / ps)
    assert ev.score == pytest.approx(0.425283, abs=1e-6)
    assert ev.metrics["fix_cost"] == pytest.approx(0.017460, abs=1e-6)
    assert ev.metrics["changed_mass"] > 0.19
    assert ev.metrics["min_utility"] >= 0.0 and ev.metrics["max_regret"] == 0.0


def test_scalar_output_is_broadcast_and_float_noise_does_not_move_the_reserve(prob):
    assert _score(prob, lambda *a: 1.0).score == pytest.approx(0.424603, abs=1e-6)
    # 2v - 1 is exactly 0 at v = 0.5 only up to float noise; rounding keeps 0.5 as the reserve.
    noisy = _score(prob, lambda b, o, ps, pa, st: (2 * b - 1) * 1.0000001 + 1e-12)
    assert noisy.score == pytest.approx(_score(prob, lambda b, o, ps, pa, st: 2 * b - 1).score)


@pytest.mark.parametrize("fn, reason", [
    (lambda b, o, ps, pa, st: b / 0.0, "non-finite"),
    (lambda b, o, ps, pa, st: b[:5], "shape"),
    (lambda b, o, ps, pa, st: np.where(b > 0.5, np.nan, b), "non-finite"),
])
def test_bad_outputs_fail_with_a_reason(prob, fn, reason):
    ev = _score(prob, fn)
    assert not ev.valid and reason in ev.error
    assert not prob.score({}, "search").valid


def test_payload_is_exact_and_shared_by_splits(prob):
    p = prob.payload("search")
    assert p is prob.payload("holdout")
    assert p["bid"].shape == (441,) and float(p["step"]) == pytest.approx(0.05)
    assert np.allclose(p["p_same"] + p["p_above"] <= 1.0 + 1e-12, True)
    with pytest.raises(ValueError):
        prob.payload("train")


def test_seed_program_and_grammar_parse_for_the_offline_proposer(prob):
    OfflineProposer(prob)  # raises if the template/seed/grammar do not fit together
    ns: dict = {}
    exec(prob.seed_program, ns)
    assert _score(prob, ns["priority"]).score == pytest.approx(0.424603, abs=1e-6)
    assert prob.describe() == {"problem": "correlated_revenue", "grid_size": 21, "rho": 0.5}
