"""The problem on the engine's contract: payloads, scoring, failures (harness called directly)."""

import numpy as np
import pytest

from amdlib.problems.multi_item.distributions import ValueLaw
from amdlib.problems.multi_item.harness import harness
from amdlib.problems.multi_item.problem import MultiItemProblem


def small(**kw):
    return MultiItemProblem(menu_grid=kw.pop("menu_grid", 11), n_samples=kw.pop("n_samples", 2500),
                            n_holdout=kw.pop("n_holdout", 4000), **kw)


def run(prob, fn, split="search"):
    return prob.score(harness(fn, prob.payload(split)), split)


def test_payloads_are_deterministic_and_splits_differ():
    a, b = small(seed=3), small(seed=3)
    assert np.array_equal(a.payload("search")["v1"], b.payload("search")["v1"])
    s, h = a.sample("search"), a.sample("holdout")
    assert len(s[0]) == 2500 and len(h[0]) == 4000
    assert not np.isin(s[0], h[0]).any()
    assert not np.array_equal(small(seed=4).sample("holdout")[0], h[0])
    with pytest.raises(ValueError):
        a.payload("train")


def test_posted_prices_score_their_revenue():
    prob = small()
    # selling separately at 1/2 (true revenue 0.5), the search sample is stratified: very close
    ev = run(prob, lambda v1, v2: ((v1 >= 0.5) * 1.0, (v2 >= 0.5) * 1.0, 0.5 * (v1 >= 0.5) + 0.5 * (v2 >= 0.5)))
    assert ev.valid and ev.score == pytest.approx(0.5, abs=0.003)
    assert ev.metrics["changed"] == 0.0 and ev.metrics["entries_used"] == 4
    assert ev.metrics["optimum_ratio"] == pytest.approx(0.5 / 0.549201, abs=0.01)


def test_the_fix_repairs_a_value_charging_mechanism():
    # charging the value is not SP; its menu offers every price on the grid, the buyer takes
    # the cheapest (the grid's lowest value at which the code sells): the posted price 0.5
    prob = small()
    ev = run(prob, lambda v1, v2: (np.where(v1 >= 0.5, 1.0, 0.0), 0.0, np.where(v1 >= 0.5, v1, 0.0)))
    assert ev.valid and ev.score == pytest.approx(0.25, abs=0.003)
    assert ev.metrics["raw_revenue"] == pytest.approx(0.375, abs=0.01) and ev.metrics["changed"] > 0.4


@pytest.mark.parametrize("fn, reason", [
    (lambda v1, v2: (v1, v2), "tuple"),
    (lambda v1, v2: (v1, v2, np.ones(3)), "shape"),
])
def test_malformed_returns_raise_in_the_harness(fn, reason):
    with pytest.raises(ValueError, match=reason):
        harness(fn, small().payload("search"))


def test_invalid_outputs_fail_with_a_reason():
    prob = small()
    out = harness(lambda v1, v2: (v1, v2, v1 / 0.0), prob.payload("search"))
    ev = prob.score(out, "search")
    assert not ev.valid and "non-finite" in ev.error
    assert "missing" in prob.score({"x1": out["x1"]}, "search").error


def test_beta_law_has_no_known_optimum():
    prob = small(law=ValueLaw("beta", 2.0, 2.0))
    assert prob.optimum is None
    ev = run(prob, lambda v1, v2: (1.0, 1.0, 0.78))
    assert ev.valid and "optimum_ratio" not in ev.metrics and ev.score == pytest.approx(0.582, abs=0.005)
