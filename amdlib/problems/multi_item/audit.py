"""SP and IR audits: a menu mechanism on a dense misreport grid, and a raw candidate on its grid.

The menu audit does not trust the taxation-principle argument: it runs the fixed
mechanism at every misreport of a dense grid, and for each true type compares the
utility of every outcome a misreport obtains with the truthful one. The raw audit
measures how far the candidate's *own* direct mechanism (before the fix) is from SP
and IR on the menu grid, which says how much the fix had to change.
"""

from __future__ import annotations

import numpy as np

from amdlib.problems.multi_item.menu import Menu, distinct_entries

#: Misreport grid points per axis of the default audit (201 x 201 = 40401 misreports).
AUDIT_GRID = 201


def misreport_grid(points: int = AUDIT_GRID, high: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A regular ``points x points`` grid of [0, high]^2, flattened."""
    axis = np.linspace(0.0, high, points)
    a, b = np.meshgrid(axis, axis, indexing="ij")
    return a.ravel(), b.ravel()


def _best_utility(menu: Menu, v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """max over the menu's entries of each type's utility (chunked)."""
    out = np.empty(len(v1))
    step = max(1, 2_000_000 // max(1, len(menu)))
    for lo in range(0, len(v1), step):
        out[lo:lo + step] = menu.utilities(v1[lo:lo + step], v2[lo:lo + step]).max(axis=1)
    return out


def audit_menu(menu: Menu, v1: np.ndarray, v2: np.ndarray, points: int = AUDIT_GRID) -> dict[str, float]:
    """Regret and utility of the true types ``(v1, v2)`` against every misreport of a dense grid.

    ``max_regret`` is the largest gain of any true type from any grid misreport
    (0: no misreport helps anyone), ``min_utility`` the smallest truthful utility
    (>= 0: IR); ``sp`` and ``ir`` are those two checks as 0/1.
    """
    v1, v2 = np.ravel(np.asarray(v1, dtype=float)), np.ravel(np.asarray(v2, dtype=float))
    high = max(1.0, float(np.max(v1, initial=1.0)), float(np.max(v2, initial=1.0)))
    r1, r2 = misreport_grid(points, high)
    reached = np.unique(menu.choose(r1, r2))  # outcomes a misreport can obtain
    sub = Menu(menu.x1[reached], menu.x2[reached], menu.p[reached])
    k = menu.choose(v1, v2)
    truthful = v1 * menu.x1[k] + v2 * menu.x2[k] - menu.p[k]
    regret = np.maximum(_best_utility(sub, v1, v2) - truthful, 0.0)
    return {
        "max_regret": float(regret.max()), "mean_regret": float(regret.mean()),
        "min_utility": float(truthful.min()), "types": float(len(v1)), "misreports": float(len(r1)),
        "outcomes_reached": float(len(reached)),
        "sp": float(regret.max() <= 0.0), "ir": float(truthful.min() >= 0.0),
    }


def audit_raw(x1: np.ndarray, x2: np.ndarray, p: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> dict[str, float]:
    """The candidate's own direct mechanism on the grid types ``(v1, v2)``, misreports = the same grid.

    ``max_regret``/``mean_regret``: gain from the best grid misreport; ``ir_violations``:
    share of types with negative utility. Allocations are clipped to [0, 1] first.
    """
    x1c, x2c = np.clip(x1, 0.0, 1.0), np.clip(x2, 0.0, 1.0)
    truthful = v1 * x1c + v2 * x2c - p
    best = _best_utility(distinct_entries(x1, x2, p), v1, v2)
    regret = np.maximum(best - truthful, 0.0)
    return {"max_regret": float(regret.max()), "mean_regret": float(regret.mean()),
            "ir_violations": float(np.mean(truthful < -1e-12)), "min_utility": float(truthful.min())}
