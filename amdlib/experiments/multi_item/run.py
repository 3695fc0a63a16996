"""What the multi-item notebook and the record's hooks call: the problem, the reference menus,
the search, the learned menu with its holdout revenue and dense audit, RochetNet, the paired
comparisons, and results.json.

Everything problem-level (value laws, the menu and its fixing step, the audits, the baselines,
RochetNet) lives in :mod:`amdlib.problems.multi_item`; heavy modules are imported when called.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from amdlib.experiments.shared import curve_rows, fixed_program, search as run_search
from amdlib.problems.multi_item.distributions import ValueLaw
from amdlib.problems.multi_item.problem import MultiItemProblem


def make_problem(params: Mapping[str, Any]) -> MultiItemProblem:
    """The multi-item problem of the run's setting."""
    law = ValueLaw(str(params["distribution"]), float(params["beta_a"]), float(params["beta_b"]))
    return MultiItemProblem(law, int(params["menu_grid"]), int(params["n_samples"]), int(params["n_holdout"]),
                            int(params["seed"]))


def search(prob: MultiItemProblem, params: Mapping[str, Any], progress: bool = True) -> Any:
    """Run the configured search on ``prob``."""
    return run_search(prob, params, progress=progress)


def learned_menu(prob: MultiItemProblem, code: str) -> tuple[Any, dict[str, np.ndarray]]:
    """Run ``code`` in a sandbox on the menu grid: the menu it induces (the fixed mechanism) and its outputs."""
    return fixed_program(prob, code)


def raw_audit(prob: MultiItemProblem, outputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    """How far the candidate's own direct mechanism is from SP/IR on the menu grid (before the fix)."""
    from amdlib.problems.multi_item.audit import audit_raw
    from amdlib.problems.multi_item.problem import grid

    on_grid = prob.split_outputs(dict(outputs), "search")[0]
    g1, g2 = grid(prob.menu_grid)
    return audit_raw(on_grid["x1"], on_grid["x2"], on_grid["p"], g1, g2)


def evaluate_menu(prob: MultiItemProblem, menu: Any, params: Mapping[str, Any]) -> dict[str, Any]:
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


def holdout_payments(prob: MultiItemProblem, menu: Any) -> np.ndarray:
    """Per-type payments of a menu on the holdout sample (for paired comparisons)."""
    v1, v2 = prob.sample("holdout")
    return menu.payments(v1, v2)


def baselines(params: Mapping[str, Any]) -> dict[str, Any]:
    """`amd baselines`: the reference menus with their exact and holdout revenues and audits."""
    from amdlib.problems.multi_item.baselines import reference_menus, two_price_menu

    prob = make_problem(params)
    out: dict[str, Any] = {"setting": prob.describe()}
    for name, spec in reference_menus(prob.law).items():
        menu = two_price_menu(float(spec["item"]), float(spec["bundle"]))
        held = evaluate_menu(prob, menu, params)
        out[name] = {**spec, "holdout_revenue": held["revenue"], "holdout_se": held["se"], "audit": held["audit"],
                     "menu": menu.entries()}
    out["optimum"] = None if prob.optimum is None else {"revenue": prob.optimum, "source": "manelli_vincent"}
    return out


#: The reference menus in the order the notebook shows them (the first present is drawn).
REFERENCES = ("manelli_vincent", "two_price", "bundling", "separate")


def reference_names(base: Mapping[str, Any]) -> list[str]:
    """The reference menus :func:`baselines` gave for this law, in :data:`REFERENCES` order."""
    return [name for name in REFERENCES if name in base]


def reference_menu(base: Mapping[str, Any], name: str) -> Any:
    """The menu of baseline ``name`` from :func:`baselines`' output."""
    from amdlib.problems.multi_item.menu import from_entries

    return from_entries([tuple(e) for e in base[name]["menu"]])


def rochetnet_config(params: Mapping[str, Any]) -> Any:
    """The RochetNet settings of the run."""
    from amdlib.problems.multi_item.rochetnet import RochetNetConfig

    return RochetNetConfig(entries=int(params["rochetnet_entries"]), steps=int(params["rochetnet_steps"]),
                           lr=float(params["rochetnet_lr"]), seed=int(params["seed"]))


def train_rochetnet(params: Mapping[str, Any], progress: Callable[..., Any] | None = None) -> Any:
    """Train the run's RochetNet (seconds on a CPU)."""
    from amdlib.problems.multi_item.rochetnet import train

    return train(make_problem(params).law, rochetnet_config(params), progress)


def comparisons(prob: MultiItemProblem, menu: Any, others: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Paired holdout differences ``learned - other`` (same types), with their SE."""
    from amdlib.problems.multi_item.baselines import paired

    ours = holdout_payments(prob, menu)
    return {name: paired(ours, holdout_payments(prob, m)) for name, m in others.items()}


def summary(prob: MultiItemProblem, result: Any, learned: Mapping[str, Any], raw_audit: Mapping[str, float],
            base: Mapping[str, Any], network: Any, net_eval: Mapping[str, Any],
            paired_rows: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
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
        "raw_audit": dict(raw_audit),
        "paired": dict(paired_rows),
        "evaluations": len(result.history),
        "curve": curve_rows(result),
        "baselines": {**{k: v for k, v in base.items() if k not in ("setting",)},
                      "rochetnet": {**network.summary(), **{k: v for k, v in net_eval.items() if k != "menu"},
                                    "entries_taken": net_eval["menu"]}},
    }
