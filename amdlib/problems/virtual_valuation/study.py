"""What the virtual-valuation notebook computes around a search: baselines,
the analysis of a learned program, and the cross-run summary of a sweep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from amdlib.core.evaluator import Evaluator
from amdlib.core.sandbox import Sandbox
from amdlib.problems.virtual_valuation.auction import audit
from amdlib.problems.virtual_valuation.distributions import parse_distribution
from amdlib.problems.virtual_valuation.myerson import best_reserve, myerson, second_price_revenue
from amdlib.problems.virtual_valuation.problem import VirtualValuationProblem


def make_problem(params: Mapping[str, Any]) -> VirtualValuationProblem:
    """The problem instance a run's params describe."""
    return VirtualValuationProblem(
        distribution=params["distribution"],
        n_bidders=params["n_bidders"],
        n_samples=params["n_samples"],
        holdout_samples=params["holdout_samples"],
        grid_size=params["grid_size"],
        seed=params["seed"],
        sampling=params["sampling"],
    )


def baselines(params: Mapping[str, Any]) -> dict[str, Any]:
    """Myerson's optimum (ironed where needed) and second-price auctions, computed exactly."""
    dist = parse_distribution(params["distribution"])
    n = int(params["n_bidders"])
    opt = myerson(dist, n)
    reserve, spa_reserve = best_reserve(dist, n)
    return {
        "setting": {"distribution": dist.name, "n_bidders": n},
        "optimum_revenue": opt.revenue,
        "myerson_reserve": opt.reserve,
        "ironing_needed": opt.ironed,
        "spa": {"revenue": second_price_revenue(dist, n, 0.0)},
        "spa_reserve": {"revenue": spa_reserve, "reserve": reserve},
    }


def analyse(problem: VirtualValuationProblem, code: str, audit_profiles: int, audit_grid: int) -> dict[str, Any]:
    """Re-score a learned program on the held-out sample and audit SP/IR.

    The candidate runs in the sandbox (it is untrusted); everything after its
    tabulated priority is computed here.
    """
    with Sandbox(workers=1) as sandbox:
        outputs = Evaluator(problem, sandbox).outputs(code, problem.payload("holdout"), "vv-grid")
    auction = problem.auction(outputs)
    held = problem.score(outputs, "holdout")
    values = problem.samples("holdout")[:audit_profiles]
    checks = audit(auction, values, np.linspace(0.0, 1.0, audit_grid))
    return {
        "revenue": held.metrics["revenue"],
        "revenue_se": held.metrics["revenue_se"],
        "reserve": held.metrics["reserve"],
        "fix_cost": held.metrics["fix_cost"],
        "fix_changed_fraction": held.metrics["fix_changed_fraction"],
        "audit": checks,
        "raw_priority": np.asarray(outputs["scores"], dtype=float),
        "priority": auction.priority,
    }


def rescale_to(target: np.ndarray, learned: np.ndarray, grid: np.ndarray, lo: float = 0.05) -> np.ndarray:
    """Positive rescale ``a * learned`` that best fits ``target`` (least squares on bids
    >= ``lo`` where both are finite). A positive factor keeps both the ranking and the
    sign, so the drawn zero crossing is still the learned reserve."""
    ok = (grid >= lo) & np.isfinite(target) & np.isfinite(learned)
    x, y = learned[ok], target[ok]
    denom = float(x @ x)
    scale = float(x @ y) / denom if denom > 0 else 0.0
    return scale * learned if scale > 0 else learned


def evaluations_to_reach(curve: list[tuple[int, float]], level: float) -> int | None:
    """First evaluation count at which the best search score reaches ``level``."""
    for count, best in curve:
        if best >= level:
            return int(count)
    return None


def sweep_summary(outputs_root: str | Path) -> list[dict[str, Any]]:
    """One row per completed run of this experiment under ``outputs_root``."""
    rows = []
    for path in sorted(Path(outputs_root, "virtual_valuation").glob("*/results.json")):
        res = json.loads(path.read_text())
        rows.append(
            {
                "run": path.parent.name,
                "distribution": res["setting"]["distribution"],
                "n_bidders": res["setting"]["n_bidders"],
                "seed": res["setting"].get("seed"),
                "ratio": res["best"]["revenue"] / res["optimum_revenue"],
                "reserve_error": abs(res["best"]["reserve"] - res["baselines"]["myerson_reserve"]),
                "audit_ok": res["audit"]["max_regret"] <= 1e-9 and res["audit"]["min_utility"] >= -1e-9,
            }
        )
    return rows
