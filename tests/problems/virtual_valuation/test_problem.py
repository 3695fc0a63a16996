"""The problem contract: harness outputs, validation, scoring on common random numbers."""

import numpy as np
import pytest

from amdlib.problems.virtual_valuation.problem import VirtualValuationProblem, harness


def myerson_priority(bid, cdf, pdf):
    return bid - (1 - cdf) / pdf


@pytest.fixture(scope="module")
def problem():
    return VirtualValuationProblem(holdout_samples=200_000)


def test_virtual_value_scores_near_optimum_on_holdout(problem):
    ev = problem.score(harness(myerson_priority, problem.payload("holdout")), "holdout")
    assert ev.valid
    assert abs(ev.score - 0.2216193) < 3 * ev.metrics["revenue_se"]
    assert ev.metrics["reserve"] == pytest.approx(0.235571, abs=1e-3)
    assert ev.metrics["fix_cost"] == 0.0


def test_common_random_numbers_make_scores_repeatable(problem):
    a = problem.score(harness(lambda b, c, p: b, problem.payload("search")), "search")
    again = VirtualValuationProblem().score(harness(lambda b, c, p: b, problem.payload("search")), "search")
    assert a.score == again.score
    assert a.score != VirtualValuationProblem(seed=1).score(harness(lambda b, c, p: b, problem.payload("search")), "search").score


def test_scalar_output_is_broadcast(problem):
    ev = problem.score(harness(lambda b, c, p: 0.0, problem.payload("search")), "search")
    assert ev.valid and ev.score == 0.0


@pytest.mark.parametrize(
    "outputs,reason",
    [({"scores": np.zeros(7)}, "shape"), ({"scores": np.full(2001, np.nan)}, "NaN")],
)
def test_unusable_outputs_fail_with_reason(problem, outputs, reason):
    ev = problem.score(outputs, "search")
    assert not ev.valid and reason in ev.error


def test_infinite_priorities_are_meaningful(problem):
    ev = problem.score(harness(lambda b, c, p: np.where(b < 0.3, -np.inf, b), problem.payload("search")), "search")
    assert ev.valid and ev.metrics["reserve"] == pytest.approx(0.3, abs=1e-3)


def test_fix_cost_is_reported_for_non_monotone_candidates(problem):
    ev = problem.score(harness(lambda b, c, p: np.cos(8 * b) * (b - 0.2), problem.payload("search")), "search")
    assert ev.valid and ev.metrics["fix_changed_fraction"] > 0.1 and "fix" in ev.diagnostics


def test_grammar_floor_irons_the_bimodal_virtual_value():
    """The grammar's floored virtual value, through the fix, is the ironed one: Myerson's optimum."""
    from amdlib.problems.virtual_valuation.myerson import myerson

    prob = VirtualValuationProblem("bimodal", 2, holdout_samples=200_000)
    snippet = next(e for e in prob.grammar.expressions if e.startswith("np.maximum(bid - (1 - cdf) / pdf"))
    ns: dict = {"np": np}
    exec(f"def f(bid, cdf, pdf):\n    return {snippet}\n", ns)
    opt = myerson(prob.dist, 2).revenue
    floored = prob.score(harness(ns["f"], prob.payload("holdout")), "holdout")
    plain = prob.score(harness(myerson_priority, prob.payload("holdout")), "holdout")
    assert floored.metrics["fix_changed_fraction"] > 0.05  # the fix flattens the bump
    assert abs(floored.score - opt) < 3 * floored.metrics["revenue_se"]
    assert plain.score < 0.9 * opt  # without ironing the fix alone loses a lot
