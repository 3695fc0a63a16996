"""Experiment 2: VCG redistribution (``notebooks/02_redistribution.ipynb``).

One run studies the main setting (``n_bidders``, ``n_units``) in depth -- search, holdout
comparison with BC/WCO/OEL, audit, worst case, the neural baseline and its NNA distillation --
and every entry of ``settings`` with a smaller budget (``table_evaluations``) for the table over
(n, m). The record; :mod:`.run` holds what the notebook and the hooks call, :mod:`.paper` the
paper comparison, :mod:`.plots` the figures.
"""

from __future__ import annotations

from typing import Any, Mapping

from amdlib.core.experiment import Experiment, Param, SearchPlan, lazy_module, search_params
from amdlib.experiments.redistribution.settings import SETTINGS, parse_setting, setting_error
from amdlib.problems.redistribution.model import DISTRIBUTIONS

PARAMS: dict[str, Param] = {
    **search_params(max_evaluations=60),
    "n_bidders": Param(int, 4, "bidders n of the main setting", min=3, max=12),
    "n_units": Param(int, 2, "identical units m of the main setting (1 <= m <= n - 2)", min=1, max=10),
    "distribution": Param(str, "uniform", "value distribution: uniform (U[0,1]) or beta (Beta(2,5))",
                          choices=tuple(DISTRIBUTIONS)),
    "n_samples": Param(int, 3000, "profiles scoring each candidate (common random numbers)", min=100, max=100_000),
    "holdout_samples": Param(int, 10_000, "fresh profiles re-scoring the learned and manual rules", min=1000,
                             max=10_000_000),
    "settings": Param(list, list(SETTINGS), "(n, m) settings of the table, as NxM", item_type=str,
                      check=setting_error),
    "table_evaluations": Param(int, 30, "search budget per table setting", min=1, max=100_000),
    "audit_profiles": Param(int, 5000, "random profiles of the non-deficit/IR audit (plus the adversarial grid)",
                            min=100, max=10_000_000),
    "neural_steps": Param(int, 300, "training steps of the neural rebate network", min=1, max=100_000),
    "nna_evaluations": Param(int, 30, "search budget of the NNA distillation", min=1, max=100_000),
}


#: :mod:`.run`, imported when a hook first needs it.
_run = lazy_module(f"{__name__}.run")
#: :mod:`.paper`, imported when a hook first needs it.
_paper = lazy_module(f"{__name__}.paper")


def _plan(params: Mapping[str, Any]) -> list[SearchPlan]:
    """The main search, the network's distillation (NNA), and one search per other table setting."""
    make_problem = _run().make_problem
    n, m = params["n_bidders"], params["n_units"]
    problem = make_problem(params)
    out = [SearchPlan(f"{n}x{m}", problem),
           SearchPlan("nna (distil the network)", problem, {"max_evaluations": params["nna_evaluations"]})]
    for nn, mm in map(parse_setting, params.get("settings", [])):
        if (nn, mm) != (n, m):
            out.append(SearchPlan(f"table {nn}x{mm}", make_problem(params, nn, mm),
                                  {"max_evaluations": params["table_evaluations"]}))
    return out


EXPERIMENT = Experiment(
    name="redistribution",
    notebook="02_redistribution.ipynb",
    title="VCG redistribution: evolved rebates with a worst-case scaling fix",
    params=PARAMS,
    make_problem=lambda params: _run().make_problem(params),
    plan=_plan,
    baselines=lambda params: _run().baselines(params),
    key_metrics=("setting.n_bidders", "setting.n_units", "best.expected_fraction", "best.expected_fraction_se",
                 "baselines.best_manual_fraction", "best.z_vs_best_manual", "audit.deficits"),
    paper_rows=lambda results, params: _paper().paper_tables(results, params),
    paper_items=lambda runs, folder: _paper().paper_items(runs, folder),
    description="Multi-unit VCG: evolve a rebate of the others' bids; the fix keeps SP, IR and non-deficit.",
)
