"""Experiment 1: rediscover Myerson's virtual valuation (``notebooks/01_virtual_valuation.ipynb``).

The record; :mod:`.run` holds what the notebook and the hooks call, :mod:`.paper` the paper items
(the ``paper_items`` hook), :mod:`.plots` the notebook's figures.
"""

from __future__ import annotations

from typing import Any, Mapping

from amdlib.core.experiment import Experiment, Param, SearchPlan, lazy_module, search_params


def _distribution_error(value: object) -> str | None:
    """Param check of ``distribution`` (scipy, which the law needs, is imported when called)."""
    from amdlib.problems.virtual_valuation.distributions import distribution_error

    return distribution_error(value)


PARAMS: dict[str, Param] = {
    **search_params(max_evaluations=150),
    "distribution": Param(str, "beta(2,5)", "value distribution: uniform, bimodal or beta(a,b)", check=_distribution_error),
    "n_bidders": Param(int, 2, "number of i.i.d. bidders", min=1, max=20),
    "n_samples": Param(int, 3000, "Monte Carlo profiles scoring each candidate (common random numbers)", min=100, max=1_000_000),
    "sampling": Param(str, "qmc", "search sample design: qmc (scrambled Sobol') or mc (i.i.d.)", choices=("qmc", "mc")),
    "holdout_samples": Param(int, 200_000, "fresh profiles re-scoring the final mechanism", min=1000, max=10_000_000),
    "grid_size": Param(int, 2001, "bid grid on which the priority is tabulated and fixed", min=101, max=100_001),
    "compare_methods": Param(list, ["random"], "other search methods run with the same budget, for the comparison plot", item_type=str, choices=("funsearch", "eoh", "eoh-e", "random")),
    "audit_profiles": Param(int, 1000, "profiles in the SP/IR audit", min=10, max=100_000),
    "audit_grid": Param(int, 201, "misreports per bidder in the SP/IR audit (grid on [0, 1])", min=11, max=10_001),
}


#: :mod:`.run`, imported when a hook first needs it.
_run = lazy_module(f"{__name__}.run")
#: :mod:`.paper`, imported when a hook first needs it.
_paper = lazy_module(f"{__name__}.paper")


def _plan(params: Mapping[str, Any]) -> list[SearchPlan]:
    """The main search, then one search per other method of ``compare_methods`` (same budget)."""
    problem = _run().make_problem(params)
    return [SearchPlan(params["method"], problem)] + [SearchPlan(m, problem, {"method": m})
                                                      for m in _run().other_methods(params)]


EXPERIMENT = Experiment(
    name="virtual_valuation",
    notebook="01_virtual_valuation.ipynb",
    title="Rediscovering Myerson's virtual valuation",
    params=PARAMS,
    make_problem=lambda params: _run().make_problem(params),
    plan=_plan,
    baselines=lambda params: _run().baselines(params),
    key_metrics=("setting.distribution", "setting.n_bidders", "best.revenue", "optimum_revenue", "best.reserve", "audit.max_regret"),
    paper_items=lambda runs, folder: _paper().paper_items(runs, folder),
    description="Single-item revenue: evolve a priority score of a bid; the monotonicity fix keeps it SP.",
)
