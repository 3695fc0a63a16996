"""Experiment 5: learned facility-location mechanisms out of distribution and at larger n
(notebooks/05_generalization).

The package: ``sources`` (the learned mechanisms of Experiment 4 runs), ``study`` (the problems,
the mechanisms learned here, the OOD and larger-n studies), ``paper`` (the paper's numbers beside
one run's, the ``paper_rows`` hook), ``item_data``, ``items`` and ``item_figures`` (Tables 3, 4 and
S10-S15 in the paper's layout from all complete runs: the ``paper_items`` and ``paper_figures``
hooks) and ``notebook`` (the notebook's tables and results). The problem itself
(:class:`~amdlib.problems.generalization.problem.ScaledFacilityProblem`, the exact DPs) lives in
:mod:`amdlib.problems.generalization`. This module holds the record; its hooks import the rest
when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from amdlib.core.experiment import Experiment, ItemView, PaperFigure, Param, RunView, SearchPlan, search_params

if TYPE_CHECKING:  # typing only: the problem imports numpy and the SP families
    from amdlib.problems.facility.problem import FacilityProblem

DISTS = ("uniform", "normal", "beta1", "beta2")


def _weightings_error(values: list) -> str | None:
    ok = all(str(v).lower() in ("none", "fixed") or str(v).isdigit() for v in values)
    return None if ok else "weightings: each one 'none', 'fixed' or a Table S5 set 1..10"


PARAMS: dict[str, Param] = {
    **search_params(method="eoh", max_evaluations=60, pop_size=8, fit_constants=True, fit_budget=20),
    "seed_rule": Param(str, "families", "seed of the searches run here: the best fitted member of Experiment 4's SP "
                       "families on the uniform training profiles, the same without fitted phantoms (scale_free: no fitted "
                       "point of the peak scale inside a facility, so it transfers to skewed peaks; the midpoint rule's "
                       "fixed point 1/2 joins them), the best percentile rule, "
                       "or the constant rule", choices=("families", "scale_free", "percentile", "constant")),
    "source_runs": Param(list, [], "Experiment 4 run ids (outputs/facility_location/<id>) whose learned mechanisms are "
                         "evaluated; empty: learn them here with a small search on uniform peaks", item_type=str),
    "learn_n": Param(int, 5, "agents of the mechanisms learned here (when source_runs is empty)", min=2, max=50),
    "learn_distribution": Param(str, "uniform", "peak distribution the mechanisms learned here are trained on: uniform "
                                "for the OOD tables (3, S10-S14); normal, beta1 or beta2 fill the other rows of the "
                                "larger-n tables (4, S15)", choices=DISTS),
    "ks": Param(list, [2], "facility counts learned here (one search per K and weighting)", item_type=int, min=1, max=6),
    "weightings": Param(list, ["none", "fixed"], "weightings learned here: none (unweighted), fixed (Table 1) or 1..10 "
                        "(Table S5)", item_type=str, check=_weightings_error),
    "ood_distributions": Param(list, ["normal", "beta1", "beta2"], "test distributions of the OOD study (uniform is "
                               "always added as the in-distribution reference)", item_type=str, choices=DISTS),
    "larger_ns": Param(list, [5, 10, 25, 50, 100, 200], "agent counts of the larger-n study and the scaling curve "
                       "(unweighted)", item_type=int, min=2, max=1000),
    "n_train": Param(int, 200, "training profiles (search, rule fitting) per setting; the paper uses 1000", min=10, max=100_000),
    "n_test": Param(int, 200, "test profiles per setting; the paper uses 1000", min=10, max=100_000),
    "n_misreports": Param(int, 10, "misreports per agent and profile", min=1, max=100),
    "audit_profiles": Param(int, 5, "profiles in the dense SP audit at each n", min=1, max=10_000),
    "audit_grid": Param(int, 21, "misreports per agent in the dense SP audit (grid on [0, 1])", min=3, max=10_001),
    "timeout_s": Param(float, 180.0, "sandbox limit for one evaluation of a learned mechanism (s)", min=1.0, max=3600.0),
}


def make_problem(params: Mapping[str, Any]) -> "FacilityProblem":
    """The first problem a run learns on: ``learn_distribution`` peaks, the first K and weighting
    (:func:`amdlib.experiments.generalization.study.make_problem`)."""
    from amdlib.experiments.generalization.study import make_problem as make

    return make(params)


def plan(params: Mapping[str, Any]) -> list[SearchPlan]:
    """One search per K and weighting on ``learn_distribution`` peaks; none when the mechanisms come from source runs."""
    if params.get("source_runs"):
        return []
    from amdlib.experiments.generalization.study import make_problem as make

    return [SearchPlan(f"K={k} weights={w}", make(params, k, str(w))) for k in params["ks"] for w in params["weightings"]]


def baselines(params: Mapping[str, Any]) -> dict[str, Any]:
    """`amd baselines generalization` (:func:`amdlib.experiments.generalization.study.baselines`)."""
    from amdlib.experiments.generalization.study import baselines as fit

    return fit(params)


def paper_rows(results: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The run beside the paper's tables (:func:`amdlib.experiments.generalization.paper.paper_rows`)."""
    from amdlib.experiments.generalization.paper import paper_rows as rows

    return rows(results, params)


def paper_items(runs: Sequence[RunView], folder: Path | None) -> list[ItemView]:
    """LLMMech's Tables 3, 4, S10-S15 from the complete runs
    (:func:`amdlib.experiments.generalization.items.paper_items`)."""
    from amdlib.experiments.generalization.items import paper_items as items

    return items(runs, folder)


def paper_figures(runs: Sequence[RunView], folder: Path) -> list[PaperFigure]:
    """The same tables' figures for the experiment's report section, in place of generic ones
    (:func:`amdlib.experiments.generalization.items.paper_figures`)."""
    from amdlib.experiments.generalization.items import paper_figures as figures

    return figures(runs, folder)


EXPERIMENT = Experiment(
    name="generalization",
    notebook="05_generalization.ipynb",
    title="Learned facility-location mechanisms out of distribution and at larger n",
    params=PARAMS,
    make_problem=make_problem,
    plan=plan,
    baselines=baselines,
    key_metrics=("source_runs", "summary.ood_worst_ratio", "summary.largest_n", "summary.largest_n_ratio_to_percentile",
                 "summary.dense_audit_max_regret"),
    paper_rows=paper_rows,
    paper_figures=paper_figures,
    paper_items=paper_items,
    description="Mechanisms learned on uniform peaks at small n, scored on normal and beta peaks and with up to 200 agents.",
)
