"""The problem's harness and score on trusted rules (the candidate runs in the sandbox in real runs)."""

import numpy as np
import pytest

from amdlib.problems.redistribution.harness import harness
from amdlib.problems.redistribution.model import n_queries, path_index, queries
from amdlib.problems.redistribution.problem import RedistributionProblem


@pytest.fixture(scope="module")
def problem():
    return RedistributionProblem(4, 2, n_search=500, n_holdout=1000, n_lines=50)


def score(problem, fn, split="search"):
    return problem.score(harness(fn, problem.payload(split)), split)


def test_bc_scores_its_fraction(problem):
    ev = score(problem, lambda o, n, m: m / n * o[:, m])
    assert ev.valid and ev.score == pytest.approx(problem._bc_fraction(problem.profiles("search")), abs=1e-12)
    assert ev.metrics["fix_loss"] == pytest.approx(0.0, abs=1e-12) and ev.metrics["fix_gain"] == pytest.approx(0.0, abs=1e-12)


def test_nonlinear_rule_beats_bc_on_holdout(problem):
    ev = score(problem, lambda o, n, m: o[:, m - 1], "holdout")
    assert ev.valid and ev.score > problem._bc_fraction(problem.profiles("holdout")) + 0.05


@pytest.mark.parametrize("fn,reason", [
    (lambda o, n, m: np.sqrt(o[:, m]), "not convex"),
    (lambda o, n, m: np.minimum(o[:, m], 0.3), "not convex"),  # a cap on another order statistic
    (lambda o, n, m: np.minimum(o[:, m - 1], 0.3) + 0.1 * o[:, 0], "not convex"),  # o_m, but not alone
    (lambda o, n, m: np.minimum(1.0 - o[:, m - 1], 0.5), "not convex"),  # o_m alone, but decreasing
])
def test_non_convex_rejected(problem, fn, reason):
    ev = score(problem, fn)
    assert not ev.valid and reason in ev.error


def test_bad_outputs(problem):
    with pytest.raises(ValueError, match="shape"):
        harness(lambda o, n, m: o, problem.payload("search"))
    with pytest.raises(ValueError, match="row"):
        harness(lambda o, n, m: o[:, 0] + o.shape[0], problem.payload("search"))
    assert not problem.score({"rebates": np.zeros((3, 4))}, "search").valid
    out = harness(lambda o, n, m: o[:, m], problem.payload("search"))
    out["rebates"] = out["rebates"] * np.nan
    assert "non-finite" in problem.score(out, "search").error


def test_scalar_output_broadcasts(problem):
    ev = score(problem, lambda o, n, m: 1.0)  # constant h + fix = Bailey-Cavallo
    assert ev.valid and ev.score == pytest.approx(problem._bc_fraction(problem.profiles("search")), abs=1e-9)


def test_query_layout():
    n = 5
    b = -np.sort(-np.random.default_rng(0).uniform(size=(3, n)), axis=1)
    q = queries(b).reshape(-1, 3, n - 1).transpose(1, 0, 2)  # query-major -> (P, V, n-1)
    assert q.shape[1] == n_queries(n) == path_index(n).n_queries
    assert np.all(np.diff(q, axis=2) <= 0)  # every query vector sorted descending
    for k in range(n):
        assert np.allclose(q[:, k], np.delete(b, k, axis=1))


def test_payload_deterministic():
    a = RedistributionProblem(5, 2, n_search=200, seed=3).payload("search")
    b = RedistributionProblem(5, 2, n_search=200, seed=3).payload("search")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_seed_program_is_bailey_cavallo(problem):
    ns: dict = {"np": np}
    exec(problem.seed_program, ns)
    ev = score(problem, ns["rebate"])
    assert ev.valid and ev.score == pytest.approx(problem._bc_fraction(problem.profiles("search")), abs=1e-12)


def test_offline_search_reaches_the_order_statistic_rule():
    """From the BC seed, the grammar's order statistics lead to others[:, m - 1] (0.844 at 5x2, BC 0.80)."""
    from amdlib.core.engine import SearchConfig, run_search

    prob = RedistributionProblem(5, 2, n_search=1000, n_holdout=2000, n_lines=50)
    target = score(prob, lambda o, n, m: o[:, m - 1]).score
    bc = prob._bc_fraction(prob.profiles("search"))
    assert target > bc + 0.04
    result = run_search(prob, SearchConfig(max_evaluations=100, seed=0, workers=2, holdout=False))
    assert result.best.valid and result.best.score >= target - 1e-9


def test_star_shaped_cap_is_accepted_and_beats_the_plain_order_statistic():
    """min(o_m, c) is concave, hence rejected by the convexity screen, but exact (star-shaped in o_m alone)."""
    prob = RedistributionProblem(5, 2, n_search=4000, n_holdout=1000, n_lines=50)
    plain = score(prob, lambda o, n, m: o[:, m - 1])
    capped = score(prob, lambda o, n, m: np.minimum(o[:, m - 1], 0.75))
    assert plain.valid and capped.valid
    assert capped.score > plain.score + 0.005  # measured: 0.853 against 0.844 on 10^5 profiles
