"""Experiment 6: one bidder, two items, additive values (``notebooks/06_multi_item.ipynb``).

The proposer writes ``mechanism(v1, v2) -> (x1, x2, p)``; the fixing step turns it into the menu
it induces (SP and IR by the taxation principle). The notebook evolves it, re-scores the best on a
fresh sample, audits it on a dense misreport grid, and puts it beside Manelli-Vincent's optimum,
pure bundling, selling separately and a RochetNet. The record; :mod:`.run` holds what the notebook
and the hooks call, :mod:`.paper` the literature comparison, :mod:`.plots` the figures; the
problem itself lives in :mod:`amdlib.problems.multi_item`.
"""

from __future__ import annotations

from amdlib.core.experiment import Experiment, Param, lazy_module, search_params
from amdlib.problems.multi_item.distributions import DISTRIBUTIONS


#: :mod:`.run`, imported when a hook first needs it.
_run = lazy_module(f"{__name__}.run")
#: :mod:`.paper`, imported when a hook first needs it.
_paper = lazy_module(f"{__name__}.paper")


EXPERIMENT = Experiment(
    name="multi_item",
    notebook="notebooks/06_multi_item.ipynb",
    title="One bidder, two items: menus, Manelli-Vincent and RochetNet",
    params={
        **search_params(max_evaluations=48, pop_size=8, islands=4, fit_constants=True, fit_budget=30),
        "distribution": Param(str, "uniform", "item values: uniform (U[0,1], known optimum) or beta (Beta(a, b))",
                              choices=DISTRIBUTIONS),
        "beta_a": Param(float, 2.0, "first shape parameter of the beta distribution", min=0.05, max=100.0),
        "beta_b": Param(float, 2.0, "second shape parameter of the beta distribution", min=0.05, max=100.0),
        "menu_grid": Param(int, 51, "grid points per axis where the candidate's outputs form the menu",
                           min=2, max=201),
        "n_samples": Param(int, 20_000, "value pairs scoring each candidate (common random numbers)",
                           min=100, max=1_000_000),
        "n_holdout": Param(int, 200_000, "fresh value pairs re-scoring the results", min=1000, max=10_000_000),
        "audit_grid": Param(int, 201, "misreport grid points per axis of the SP audit", min=2, max=1001),
        "audit_types": Param(int, 20_000, "true types (from the holdout sample) in the SP audit",
                             min=100, max=1_000_000),
        "rochetnet_entries": Param(int, 32, "RochetNet menu size", min=1, max=4096),
        "rochetnet_steps": Param(int, 300, "RochetNet training steps", min=1, max=200_000),
        "rochetnet_lr": Param(float, 0.02, "RochetNet Adam learning rate", min=1e-6, max=1.0),
    },
    make_problem=lambda params: _run().make_problem(params),
    baselines=lambda params: _run().baselines(params),
    key_metrics=("optimum_revenue", "best.revenue", "best.revenue_se", "best.gap_to_optimum", "audit.max_regret",
                 "baselines.bundling.holdout_revenue", "baselines.rochetnet.revenue"),
    paper_rows=lambda results, params: _paper().paper_tables(results, params),
    description="One additive bidder, two items: evolve a mechanism, fix it into the menu it induces "
                "(SP/IR by construction), compare with Manelli-Vincent's optimum, bundling and RochetNet.",
)
