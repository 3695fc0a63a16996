"""Experiment 6: one bidder, two items, additive values (notebooks/06_multi_item.ipynb).

The proposer writes ``mechanism(v1, v2) -> (x1, x2, p)``; the fixing step turns it
into the menu it induces (SP and IR by the taxation principle). The notebook evolves
it, re-scores the best on a fresh sample, audits it on a dense misreport grid, and
puts it beside Manelli-Vincent's optimum, pure bundling, selling separately and a
RochetNet. Everything heavy lives here and in :mod:`amdlib.problems.multi_item`.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Callable

import numpy as np

from amdlib.errors import UserError
from amdlib.pipeline.schema import Experiment, Param, search_params
from amdlib.problems.multi_item.distributions import DISTRIBUTIONS, ValueLaw

PAPER_CSV = Path(__file__).resolve().parents[1] / "data" / "paper" / "multi_item.csv"

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
    baselines="amdlib.experiments.multi_item:baselines",
    key_metrics=("optimum_revenue", "best.revenue", "best.revenue_se", "best.gap_to_optimum", "audit.max_regret",
                 "baselines.bundling.holdout_revenue", "baselines.rochetnet.revenue"),
    paper_tables="amdlib.experiments.multi_item:paper_tables",
    description="One additive bidder, two items: evolve a mechanism, fix it into the menu it induces "
                "(SP/IR by construction), compare with Manelli-Vincent's optimum, bundling and RochetNet.",
)


def law(params: dict[str, Any]) -> ValueLaw:
    """The value law of the run."""
    return ValueLaw(str(params["distribution"]), float(params["beta_a"]), float(params["beta_b"]))


def problem(params: dict[str, Any]):
    """The multi-item problem of the run's setting."""
    from amdlib.problems.multi_item.problem import MultiItemProblem

    return MultiItemProblem(law(params), int(params["menu_grid"]), int(params["n_samples"]),
                            int(params["n_holdout"]), int(params["seed"]))


def search(prob: Any, params: dict[str, Any], progress: bool = True):
    """Run the configured search on ``prob``."""
    from amdlib.core.engine import SearchConfig, run_search

    return run_search(prob, SearchConfig.from_params(params), progress=progress)


def learned_menu(prob: Any, code: str):
    """Run ``code`` in a sandbox on the menu grid and return the menu it induces (the fixed mechanism)."""
    from amdlib.core.evaluator import Evaluator
    from amdlib.core.sandbox import Sandbox

    with Sandbox(workers=1, memory_mb=prob.memory_mb) as sb:
        ev = Evaluator(prob, sb)
        payload, key = ev.payload("search")
        outputs = ev.outputs(code, payload, key)
    menu = prob.fixed(outputs)
    if isinstance(menu, str):
        raise UserError(f"the mechanism's code is unusable: {menu}")
    return menu, outputs


def raw_audit(prob: Any, outputs: dict[str, np.ndarray]) -> dict[str, float]:
    """How far the candidate's own direct mechanism is from SP/IR on the menu grid (before the fix)."""
    from amdlib.problems.multi_item.audit import audit_raw
    from amdlib.problems.multi_item.problem import grid

    on_grid = prob.split_outputs(outputs, "search")[0]
    g1, g2 = grid(prob.menu_grid)
    return audit_raw(on_grid["x1"], on_grid["x2"], on_grid["p"], g1, g2)


def evaluate_menu(prob: Any, menu: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Holdout revenue (with SE), the entries taken, and the dense-grid SP/IR audit of a menu."""
    from amdlib.problems.multi_item.audit import audit_menu
    from amdlib.problems.multi_item.baselines import mean_se
    from amdlib.problems.multi_item.menu import usage

    v1, v2 = prob.sample("holdout")
    k = menu.choose(v1, v2)
    n = min(len(v1), int(params["audit_types"]))
    out: dict[str, Any] = {**mean_se(menu.p[k]), "menu": usage(menu, k),
                           "audit": audit_menu(menu, v1[:n], v2[:n], int(params["audit_grid"]))}
    out["holdout_revenue"], out["revenue_se"] = out["revenue"], out["se"]
    if prob.optimum is not None:
        out["gap_to_optimum"] = prob.optimum - out["revenue"]
    return out


def holdout_payments(prob: Any, menu: Any) -> np.ndarray:
    """Per-type payments of a menu on the holdout sample (for paired comparisons)."""
    v1, v2 = prob.sample("holdout")
    return menu.payments(v1, v2)


def baselines(params: dict[str, Any]) -> dict[str, Any]:
    """`amd baselines`: the reference menus with their exact and holdout revenues and audits."""
    from amdlib.problems.multi_item.baselines import reference_menus, two_price_menu

    prob = problem(params)
    out: dict[str, Any] = {"setting": prob.describe()}
    for name, spec in reference_menus(prob.law).items():
        menu = two_price_menu(float(spec["item"]), float(spec["bundle"]))
        held = evaluate_menu(prob, menu, params)
        out[name] = {**spec, "holdout_revenue": held["revenue"], "holdout_se": held["se"], "audit": held["audit"],
                     "menu": menu.entries()}
    out["optimum"] = None if prob.optimum is None else {"revenue": prob.optimum, "source": "manelli_vincent"}
    return out


def reference_menu(base: dict[str, Any], name: str):
    """The menu of baseline ``name`` from :func:`baselines`' output."""
    from amdlib.problems.multi_item.menu import from_entries

    return from_entries([tuple(e) for e in base[name]["menu"]])


def rochetnet_config(params: dict[str, Any]):
    """The RochetNet settings of the run."""
    from amdlib.problems.multi_item.rochetnet import RochetNetConfig

    return RochetNetConfig(entries=int(params["rochetnet_entries"]), steps=int(params["rochetnet_steps"]),
                           lr=float(params["rochetnet_lr"]), seed=int(params["seed"]))


def train_rochetnet(params: dict[str, Any], progress: Callable[..., Any] | None = None):
    """Train the run's RochetNet (seconds on a CPU)."""
    from amdlib.problems.multi_item.rochetnet import train

    return train(law(params), rochetnet_config(params), progress)


def comparisons(prob: Any, menu: Any, others: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Paired holdout differences ``learned - other`` (same types), with their SE."""
    from amdlib.problems.multi_item.baselines import paired

    ours = holdout_payments(prob, menu)
    return {name: paired(ours, holdout_payments(prob, m)) for name, m in others.items()}


def revenue_curve(result: Any) -> list[list[float]]:
    """(candidates so far, best search revenue so far) of a search."""
    return [[int(n), float(s)] for n, s in result.curve()]


def summary(prob: Any, result: Any, learned: dict[str, Any], raw_audit: dict[str, float], base: dict[str, Any],
            network: Any, net_eval: dict[str, Any], paired_rows: dict[str, dict[str, float]]) -> dict[str, Any]:
    """results.json: every number computed by this run."""
    holdout = result.holdout
    best = {"code": result.best.code, "search_revenue": float(result.best.score),
            **{k: v for k, v in learned.items() if k != "audit"}}
    if holdout is not None and holdout.valid:
        best["engine_holdout_revenue"] = float(holdout.score)
    return {
        "setting": prob.describe(),
        "optimum_revenue": None if prob.optimum is None else float(prob.optimum),
        "best": best,
        "audit": learned["audit"],
        "raw_audit": raw_audit,
        "paired": paired_rows,
        "evaluations": len(result.history),
        "curve": revenue_curve(result),
        "baselines": {**{k: v for k, v in base.items() if k not in ("setting",)},
                      "rochetnet": {**network.summary(), **{k: v for k, v in net_eval.items() if k != "menu"},
                                    "entries_taken": net_eval["menu"]}},
    }


def paper_tables(results: dict[str, Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Literature values (analytic, two U[0, 1] items) beside ours; none for another distribution
    (the literature's figures are for U[0, 1] only, so nothing there compares)."""
    if results.get("setting", {}).get("distribution") != "uniform":
        return []
    base = results.get("baselines", {})
    ours = {
        "optimal revenue (Manelli-Vincent)": results.get("optimum_revenue"),
        "learned mechanism revenue": results.get("best", {}).get("revenue"),
        "pure bundling revenue": (base.get("bundling") or {}).get("revenue"),
        "selling separately revenue": (base.get("separate") or {}).get("revenue"),
    }
    rows = []
    with PAPER_CSV.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            rows.append({"table": rec["table"], "setting": rec["setting"], "metric": rec["metric"],
                         "paper": float(rec["value"]), "ours": ours.get(rec["metric"]), "note": rec["note"],
                         "comparable": True})
    return rows
