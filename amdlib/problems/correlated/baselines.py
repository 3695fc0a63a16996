"""Reference mechanisms of the correlated setting, all evaluated exactly.

Each feasible baseline is written as anonymous score tables and goes through
the same fixing step as the evolved code (:func:`.mechanism.fix_scores`), so
there is one mechanism implementation for every use. The greedy conditional
virtual-value figure is an upper bound, not a mechanism (marked infeasible).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amdlib.problems.correlated.distribution import GridLaw, ironed_virtual_values
from amdlib.problems.correlated.mechanism import FixReport, fix_scores

NEVER = -1.0  # a score that never wins


def run_scores(law: GridLaw, s1: np.ndarray) -> FixReport:
    """Fix and evaluate an anonymous rule given bidder 1's score table (bidder 2's is its transpose)."""
    return fix_scores(s1, s1.T, law.values, law.pmf)


def myerson_marginals(law: GridLaw) -> dict[str, Any]:
    """Myerson's auction designed for independent bidders with the true marginals (ironed).

    The item goes to the highest ironed marginal virtual value if it is strictly positive.
    """
    marginal = law.pmf.sum(axis=1, keepdims=True)
    phi = ironed_virtual_values(law.values, marginal)[:, 0]
    table = np.where(phi > 0, phi, NEVER)[:, None] * np.ones(law.grid_size)[None, :]
    rep = run_scores(law, table)
    positive = np.flatnonzero(phi > 0)
    reserve = round(float(law.values[positive[0]]), 9) if positive.size else None
    return {"revenue": rep.revenue, "reserve": reserve, "feasible": True}


def spa_reserve(law: GridLaw) -> dict[str, Any]:
    """Second-price auction with the best anonymous reserve on the grid (ties to bidder 1)."""
    best: tuple[float, float] = (-1.0, 0.0)
    bids = law.values[:, None] * np.ones(law.grid_size)[None, :]
    for reserve in law.values:
        rep = run_scores(law, np.where(bids >= reserve, bids, NEVER))
        if rep.revenue > best[0] + 1e-12:
            best = (rep.revenue, round(float(reserve), 9))
    return {"revenue": best[0], "reserve": best[1], "feasible": True}


def conditional_virtual_values(law: GridLaw) -> tuple[np.ndarray, np.ndarray]:
    """Ironed conditional virtual values of bidder 1 and bidder 2 at every profile [a, b]."""
    phi = ironed_virtual_values(law.values, law.conditional)  # phi[a, b]: own a given other b
    return phi, phi.T


def greedy_bound(law: GridLaw) -> dict[str, Any]:
    """E[max(ironed conditional virtual values, 0)]: an upper bound on any SP/IR revenue.

    Revenue of a monotone rule is E[sum_i phi_i x_i] <= E[sum_i phibar_i x_i] <= this
    bound; the greedy rule attaining it is not monotone, hence not a mechanism. The
    revenue of the greedy rule after the fixing step is reported beside it.
    """
    phi1, phi2 = conditional_virtual_values(law)
    live = law.pmf > 0
    best = np.where(live, np.maximum(np.maximum(phi1, phi2), 0.0), 0.0)
    bound = float(np.sum(law.pmf * best))
    fixed = fix_scores(np.where(live, phi1, NEVER), np.where(live, phi2, NEVER), law.values, law.pmf)
    return {"revenue": bound, "feasible": False, "fixed_revenue": fixed.revenue,
            "note": "upper bound; the greedy rule is not monotone (infeasible)"}


def all_baselines(law: GridLaw) -> dict[str, Any]:
    """Optimum (MILP) and the analytic baselines of one setting."""
    from amdlib.problems.correlated.optimum import optimal_mechanism

    opt = optimal_mechanism(law)
    return {
        "setting": law.describe(),
        "optimum": {"revenue": opt.revenue, "feasible": True, "mechanism": opt.mechanism.to_dict()},
        "myerson_marginals": myerson_marginals(law),
        "spa_reserve": spa_reserve(law),
        "greedy_bound": greedy_bound(law),
    }
