"""Experiment 4: weighted multi-facility location (LLMMech, Tables 1, 2, S5-S9, Figures 1, S6-S10).

A run is one setting (n, K, distribution, weights, epsilon) with one search. The package:
``run`` (the work: problem, baselines, neural nets, search, audit, verdicts, side studies),
``notebook`` (the notebook's steps and its results), ``paper`` (the paper's numbers beside ours,
the report's rows), ``table1`` (Table 1's grid, its 32-cell view and figure), and the paper items
drawn from the runs: ``ours`` (a run read for them), ``tables`` (the tables in the paper's
layout), ``figures`` (the drawings) and ``items`` (the ``paper_items`` and ``paper_figures``
hooks). ``params`` declares the parameters. This module holds the record; its hooks import the
rest when called, so importing it stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from amdlib.core.experiment import Experiment, ItemView, PaperFigure, RunView, SearchPlan
from amdlib.experiments.facility_location.params import PARAMS, check_epsilon

if TYPE_CHECKING:  # typing only: the problem imports numpy and the SP families
    from amdlib.problems.facility.problem import FacilityProblem

__all__ = ["EXPERIMENT", "PARAMS", "check_epsilon", "make_problem", "plan", "baselines", "paper_rows", "paper_figures",
           "paper_items"]


def make_problem(params: Mapping[str, Any]) -> "FacilityProblem":
    """The run's problem (:func:`amdlib.experiments.facility_location.run.make_problem`)."""
    from amdlib.experiments.facility_location.run import make_problem as make

    return make(params)


def plan(params: Mapping[str, Any]) -> list[SearchPlan]:
    """One search per restart, and with ``table1_grid`` the same in each Table-1 setting."""
    from amdlib.experiments.facility_location.table1 import TABLE1_GRID

    problem = make_problem(params)
    restarts = int(params.get("restarts", 1))
    out = [SearchPlan(f"restart {r}", problem) for r in range(restarts)]
    if params.get("table1_grid"):
        out.append(SearchPlan(f"Table 1 grid ({len(TABLE1_GRID)} settings)", problem, times=len(TABLE1_GRID) * restarts))
    return out


def baselines(params: Mapping[str, Any]) -> dict[str, Any]:
    """`amd baselines facility_location`: the non-neural baselines of the setting (test set)."""
    from amdlib.experiments.facility_location.run import fit_baselines

    problem = make_problem(params)
    return {"setting": dict(problem.describe()), "baselines": fit_baselines(problem)}


def paper_rows(results: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The run beside the paper's printed cells (:func:`amdlib.experiments.facility_location.paper.paper_rows`)."""
    from amdlib.experiments.facility_location.paper import paper_rows as rows

    return rows(results, params)


def paper_figures(runs: Sequence[RunView], folder: Path) -> list[PaperFigure]:
    """Table 1 over its 32 cells and a figure by setting for Tables 2, S6, S8 and S9
    (:func:`amdlib.experiments.facility_location.items.paper_figures`)."""
    from amdlib.experiments.facility_location.items import paper_figures as figures

    return figures(runs, folder)


def paper_items(runs: Sequence[RunView], folder: Path | None) -> list[ItemView]:
    """LLMMech's facility-location items from the runs (:func:`amdlib.experiments.facility_location.items.paper_items`)."""
    from amdlib.experiments.facility_location.items import paper_items as items

    return items(runs, folder)


EXPERIMENT = Experiment(
    name="facility_location",
    notebook="notebooks/04_facility_location.ipynb",
    title="Weighted multi-facility location (LLMMech)",
    params=PARAMS,
    make_problem=make_problem,
    plan=plan,
    baselines=baselines,
    key_metrics=(
        "setting.n_agents",
        "setting.n_facilities",
        "setting.distribution",
        "setting.weights_spec",
        "best.vs_percentile",
        "best.test_social_cost",
        "best.max_regret",
        "best.dense_audit_max_regret",
        "verdicts.vs.percentile.verdict",
        "verdicts.vs.dictatorial.verdict",
        "verdicts.vs.moulinnet.verdict",
        "baselines.percentile.social_cost",
        "baselines.nonsp.social_cost",
        "table1.summary.no_worse",
        "table1.summary.strictly_better",
    ),
    paper_rows=paper_rows,
    paper_figures=paper_figures,
    paper_items=paper_items,
    description="Evolve strategy-proof mechanisms placing K facilities among n weighted agents; compare with "
    "percentile, dictatorial and constant rules, MoulinNet, RegretNet and the non-SP optimum.",
    check=check_epsilon,  # refused before any kernel starts
)

