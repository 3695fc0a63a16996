"""Exact strategy-proofness and IR audit of a two-bidder mechanism on the grid.

Works for any allocation/payment tables (deterministic or randomised, e.g. a
RegretNet's), indexed ``[a, b]`` = [bidder 1's level, bidder 2's level]. Every
misreport on the grid is enumerated, so the figures are exact, not sampled.
"""

from __future__ import annotations

import numpy as np


def regret_tables(x1: np.ndarray, p1: np.ndarray, x2: np.ndarray, p2: np.ndarray,
                  values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each bidder's regret at each profile: best misreport utility minus truthful utility (>= 0)."""
    r1 = _regret_own_axis0(x1, p1, values)
    r2 = _regret_own_axis0(x2.T, p2.T, values).T  # bidder 2's own bid is axis 1
    return r1, r2


def _regret_own_axis0(x: np.ndarray, p: np.ndarray, values: np.ndarray) -> np.ndarray:
    # util[true, report, other] = x[report, other] * v[true] - p[report, other]
    util = values[:, None, None] * x[None, :, :] - p[None, :, :]
    truthful = np.einsum("aab->ab", util)
    return np.maximum(util.max(axis=1) - truthful, 0.0)


def utilities(x1: np.ndarray, p1: np.ndarray, x2: np.ndarray, p2: np.ndarray,
              values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Truthful utilities (u1, u2) at every profile."""
    return x1 * values[:, None] - p1, x2 * values[None, :] - p2


def audit(x1: np.ndarray, p1: np.ndarray, x2: np.ndarray, p2: np.ndarray,
          values: np.ndarray, pmf: np.ndarray) -> dict[str, float]:
    """Exact figures over the profiles with positive probability.

    ``max_regret``: the largest gain any bidder gets from any misreport;
    ``expected_regret``: the sum over bidders of the expected regret (RegretNet's
    measure); ``min_utility``: the smallest truthful utility (negative = IR
    violated); ``max_allocation``: the largest total allocation (> 1 = infeasible).
    """
    live = pmf > 0
    r1, r2 = regret_tables(x1, p1, x2, p2, values)
    u1, u2 = utilities(x1, p1, x2, p2, values)
    return {
        "max_regret": float(max(r1[live].max(), r2[live].max())),
        "expected_regret": float(np.sum(pmf * (r1 + r2))),
        "min_utility": float(min(u1[live].min(), u2[live].min())),
        "max_allocation": float((x1 + x2)[live].max()),
    }


#: Slack of the verdict below (exact sums of grid values; only rounding remains).
TOL = 1e-9


def verdict(checks: dict[str, float], tol: float = TOL) -> dict[str, bool]:
    """SP, IR and feasibility as computed by :func:`audit` (each bidder, every profile and misreport).

    ``sp``: no bidder gains by any misreport; ``ir``: no truthful utility below 0;
    ``feasible``: at most one unit allocated per profile and both of the above.
    """
    sp = checks["max_regret"] <= tol
    ir = checks["min_utility"] >= -tol
    one_item = checks["max_allocation"] <= 1.0 + tol
    return {"sp": bool(sp), "ir": bool(ir), "feasible": bool(sp and ir and one_item)}
