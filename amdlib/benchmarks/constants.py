"""Constant fitting's cost: per fitted candidate, and its share of a search's evaluation budget.

Printed by ``amd bench search`` (see :mod:`amdlib.benchmarks.search`): a facility-location
EoH search (n = 5, K = 2, uniform, fixed weights, offline proposer, the percentile seed) with
``fit_constants`` on, 2 sandbox workers.
"""

from __future__ import annotations

import time

from amdlib.benchmarks import Figure


def fitting_figures(quick: bool) -> list[Figure]:
    """Seconds and trial evaluations per fitted candidate, and the budget share fitting used."""
    from amdlib.core.engine import SearchConfig, run_search
    from amdlib.core.sandbox import Sandbox
    from amdlib.problems.facility.problem import FacilityProblem

    budget = 120 if quick else 400
    problem = FacilityProblem(5, 2, "uniform", "fixed", n_train=1000, n_test=200, seed_rule="percentile")
    config = SearchConfig.from_params({"method": "eoh", "max_evaluations": budget, "pop_size": 8, "seed": 0,
                                       "fit_constants": True, "fit_budget": 30, "holdout": False, "workers": 2})
    with Sandbox(workers=2, memory_mb=problem.memory_mb) as sb:
        start = time.perf_counter()
        result = run_search(problem, config, progress=False, sandbox=sb)
        seconds = time.perf_counter() - start
    fit = result.stats["constant_fitting"]
    spent = result.stats["proposals"] + fit["evaluations"]
    per_eval = seconds / max(1, spent)  # fitting trials are sequential single evaluations
    fitted = max(1, fit["candidates_fitted"])
    note = (f"{fit['candidates_fitted']} of {result.stats['proposals']} candidates fitted ({fit['improved']} improved), "
            f"{fit['evaluations']} trials of {spent} evaluations; run {seconds:.1f} s")
    return [
        Figure("constant fitting: trial evaluations per fitted candidate", round(fit["evaluations"] / fitted, 1), "evals",
               "<= 30", note),
        Figure("constant fitting: seconds per fitted candidate (facility n=5 K=2)", round(per_eval * fit["evaluations"] / fitted, 3),
               "s", "", "trials x the run's mean seconds per evaluation"),
        Figure("constant fitting: share of the evaluation budget", round(100 * fit["budget_share"], 1), "%", "", note),
    ]
