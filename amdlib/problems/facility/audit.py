"""Dense-grid strategy-proofness audit with a counterexample.

For each audited profile and each agent, every point of a fine grid of [0, 1] is tried
as a misreport (not just the 10 sampled ones). It reuses the harness: the audit
payload is an ordinary payload whose misreports are the grid, so a code string is
audited through the sandbox (``Evaluator.outputs``) and a trusted mechanism in-process.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from amdlib.problems.facility.costs import agent_costs, regret_table
from amdlib.problems.facility.data import Profiles
from amdlib.problems.facility.evaluation import payload_of
from amdlib.problems.facility.harness import deviation_profiles, harness


def audit_payload(peaks: np.ndarray, weights: np.ndarray, k: int, grid_points: int = 101, per_profile: bool = False) -> dict:
    """A payload whose misreports are the grid {0, 1/(G-1), ..., 1} for every agent."""
    grid = np.linspace(0.0, 1.0, int(grid_points))
    b, n = peaks.shape
    mis = np.broadcast_to(grid[None, :, None], (b, grid.size, n))
    return payload_of(Profiles(np.asarray(peaks, dtype=float), mis), weights, k, per_profile)


def audit_outputs(outputs: dict[str, np.ndarray], payload: dict[str, np.ndarray]) -> dict[str, Any]:
    """Summarise an audit: max regret (paper definition, grid misreports), the largest single
    gain, the share of manipulable profiles, and the worst counterexample (None if SP on the grid)."""
    peaks, weights = payload["peaks"], payload["weights"]
    grid = payload["misreports"][0, :, 0]
    b, n = peaks.shape
    k = int(payload["K"][0])
    loc = np.asarray(outputs["loc"], dtype=float).reshape(b, k)
    loc_dev = np.asarray(outputs["loc_dev"], dtype=float).reshape(n * grid.size * b, k)
    table = regret_table(peaks, loc, loc_dev)
    result: dict[str, Any] = {
        "profiles": int(b),
        "grid_points": int(grid.size),
        "max_regret": table.max_regret,
        "max_gain": float(table.regret.max()) if table.regret.size else 0.0,
        "manipulable_share": float(np.mean(table.regret.max(axis=0) > 0)) if b else 0.0,
        "strategyproof_on_grid": bool(table.regret.max() <= 0) if table.regret.size else True,
        "counterexample": None,
    }
    if not result["strategyproof_on_grid"]:
        agent, row = np.unravel_index(int(np.argmax(table.regret)), table.regret.shape)
        j = int(table.best[agent, row])
        dev_loc = loc_dev.reshape(n, grid.size, b, k)[agent, j, row]
        profile = peaks[row]
        result["counterexample"] = {
            "peaks": [round(float(v), 6) for v in profile],
            "weights": [float(v) for v in weights],
            "agent": int(agent),
            "true_peak": round(float(profile[agent]), 6),
            "misreport": round(float(grid[j]), 6),
            "truthful_locations": [round(float(v), 6) for v in loc[row]],
            "misreport_locations": [round(float(v), 6) for v in dev_loc],
            "truthful_cost": round(float(agent_costs(profile[None], loc[row][None])[0, agent]), 6),
            "misreport_cost": round(float(np.min(np.abs(profile[agent] - dev_loc))), 6),
            "gain": round(float(table.regret[agent, row]), 6),
        }
    return result


def audit_mechanism(
    fn: Callable, peaks: np.ndarray, weights: np.ndarray, k: int, grid_points: int = 101, per_profile: bool = False
) -> dict[str, Any]:
    """Audit a trusted mechanism in-process (baselines, neural nets, tests)."""
    payload = audit_payload(peaks, weights, k, grid_points, per_profile)
    return audit_outputs(harness(fn, payload), payload)


def audit_code(evaluator: Any, code: str, peaks: np.ndarray, weights: np.ndarray, k: int, grid_points: int = 101,
               per_profile: bool = False) -> dict[str, Any]:
    """Audit a code string through the sandbox (``evaluator``: amdlib.core.evaluator.Evaluator)."""
    payload = audit_payload(peaks, weights, k, grid_points, per_profile)
    key = f"facility-audit-{peaks.shape[0]}x{peaks.shape[1]}-k{k}-g{grid_points}-{abs(hash(peaks.tobytes())) % 10**12}"
    return audit_outputs(evaluator.outputs(code, payload, key), payload)


__all__ = ["audit_payload", "audit_outputs", "audit_mechanism", "audit_code", "deviation_profiles"]
