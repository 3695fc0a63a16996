"""Experiment 3: revenue with correlated bidders (AMD-LLM), on an exactly solvable grid.

Two bidders, values on a grid of [0, 1], equal with probability ``rho`` and otherwise
independent. The notebook ``03_correlated_revenue.ipynb`` evolves the allocation score, fixes
it, compares it with the MILP optimum and the baselines, trains a RegretNet and distils it into
code (NNA), and sweeps rho. The record; :mod:`.run` holds what the notebook and the hooks call,
:mod:`.paper` the paper comparison (the ``paper_rows``
and ``paper_items`` hooks), :mod:`.plots` the figures; the problem itself lives in
:mod:`amdlib.problems.correlated`.
"""

from __future__ import annotations

from typing import Any, Mapping

from amdlib.core.experiment import Experiment, Param, SearchPlan, lazy_module, search_params


#: :mod:`.run`, imported when a hook first needs it.
_run = lazy_module(f"{__name__}.run")
#: :mod:`.paper`, imported when a hook first needs it.
_paper = lazy_module(f"{__name__}.paper")


def _plan(params: Mapping[str, Any]) -> list[SearchPlan]:
    """Each restart's search and an NNA distillation at ``rho``; one search and one distillation
    at each other rho of ``sweep_learned``."""
    make_problem = _run().make_problem
    out = []
    for rho in [params["rho"]] + [r for r in params.get("sweep_learned", []) if r != params["rho"]]:
        problem = make_problem(params, rho)
        restarts = int(params.get("restarts", 1)) if rho == params["rho"] else 1
        out.append(SearchPlan(f"rho={rho:g}", problem, times=restarts))
        out.append(SearchPlan(f"rho={rho:g} nna", problem, {"max_evaluations": params["nna_evaluations"]}))
    return out


EXPERIMENT = Experiment(
    name="correlated_revenue",
    notebook="notebooks/03_correlated_revenue.ipynb",
    title="Revenue with correlated bidders",
    params={
        **search_params(max_evaluations=64, pop_size=8, islands=4),
        "grid_size": Param(int, 21, "value levels on [0, 1] (G; exact sums over G^2 profiles)", min=3, max=61),
        "rho": Param(float, 0.5, "probability that both values are equal", min=0.0, max=1.0),
        "regretnet_steps": Param(int, 200, "RegretNet full-batch training steps", min=1, max=200_000),
        "regretnet_hidden": Param(int, 32, "RegretNet hidden units per layer", min=2, max=1024),
        "regretnet_lr": Param(float, 0.005, "RegretNet Adam learning rate", min=1e-6, max=1.0),
        "nna_evaluations": Param(int, 48, "candidates proposed when distilling the network (NNA)", min=1,
                                 max=1_000_000),
        "sweep_points": Param(int, 11, "rho values from 0 to 1 for the optimum/baseline sweep", min=2, max=101),
        "sweep_learned": Param(list, [], "extra rho values where the search, network and NNA also run",
                               item_type=float, min=0.0, max=1.0),
        "restarts": Param(int, 1, "independent searches (search seeds seed + 7919 r); the reported one has the "
                          "best exact revenue, the search's own objective", min=1, max=20),
    },
    make_problem=lambda params: _run().make_problem(params),
    plan=_plan,
    baselines=lambda params: _run().baselines(params),
    key_metrics=("optimum_revenue", "best.revenue", "best.ratio", "audit.max_regret",
                 "baselines.regretnet.revenue", "baselines.nna.revenue"),
    paper_rows=lambda results, params: _paper().paper_tables(results, params),
    paper_items=lambda runs, folder: _paper().paper_items(runs, folder),
    description="Two correlated bidders on a grid: evolve a priority score, fix it to SP/IR, "
                "compare with the exact MILP optimum, RegretNet and its distillation (NNA).",
)
