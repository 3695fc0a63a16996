"""Reference mechanisms of the correlated setting, all evaluated and audited exactly.

Each baseline is written as score tables and goes through the same fixing
step as the evolved code (:func:`.mechanism.fix_scores`), so there is one
mechanism implementation for every use; its ``feasible``/``sp``/``ir`` flags
come from the exhaustive audit of :mod:`.audit`, never from the code that
builds it. The greedy rule "highest ironed conditional virtual value" is a
baseline like the others (its audit decides whether the fix had to change it);
E[max(ironed conditional virtual value, 0)] is reported separately, as an upper
bound that is not the revenue of any mechanism.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amdlib.problems.correlated.audit import audit, verdict
from amdlib.problems.correlated.distribution import GridLaw, ironed_virtual_values
from amdlib.problems.correlated.mechanism import FixReport, Thresholds, fix_scores, raw_allocation
from amdlib.problems.correlated.problem import SCORE_DECIMALS

NEVER = -1.0  # a score that never wins


def audited(law: GridLaw, mech: Thresholds) -> dict[str, Any]:
    """Exact audit figures of a threshold mechanism and the verdict flags computed from them."""
    x1, x2 = mech.allocation()
    p1, p2 = mech.payments(law.values)
    checks = audit(x1, p1, x2, p2, law.values, law.pmf)
    return {**verdict(checks), "audit": checks}


def run_scores(law: GridLaw, s1: np.ndarray, s2: np.ndarray | None = None) -> FixReport:
    """Fix and evaluate a rule given the score tables (bidder 2's defaults to the transpose: anonymous)."""
    return fix_scores(s1, s1.T if s2 is None else s2, law.values, law.pmf)


def _entry(law: GridLaw, rep: FixReport, **extra: Any) -> dict[str, Any]:
    return {"revenue": rep.revenue, **extra, "fix_changed_mass": rep.changed, **audited(law, rep.mechanism)}


def myerson_marginals(law: GridLaw) -> dict[str, Any]:
    """Myerson's auction designed for independent bidders with the true marginals (ironed).

    The item goes to the highest ironed marginal virtual value if it is strictly positive.
    """
    marginal = law.pmf.sum(axis=1, keepdims=True)
    phi = ironed_virtual_values(law.values, marginal)[:, 0]
    table = np.where(phi > 0, phi, NEVER)[:, None] * np.ones(law.grid_size)[None, :]
    positive = np.flatnonzero(phi > 0)
    reserve = round(float(law.values[positive[0]]), 9) if positive.size else None
    return _entry(law, run_scores(law, table), reserve=reserve)


def spa_reserve(law: GridLaw) -> dict[str, Any]:
    """Second-price auction with the best anonymous reserve on the grid (ties to bidder 1)."""
    best: tuple[float, float, FixReport | None] = (-1.0, 0.0, None)
    bids = law.values[:, None] * np.ones(law.grid_size)[None, :]
    for reserve in law.values:
        rep = run_scores(law, np.where(bids >= reserve, bids, NEVER))
        if rep.revenue > best[0] + 1e-12:
            best = (rep.revenue, round(float(reserve), 9), rep)
    assert best[2] is not None
    return _entry(law, best[2], reserve=best[1])


def conditional_virtual_values(law: GridLaw) -> tuple[np.ndarray, np.ndarray]:
    """Ironed conditional virtual values of bidder 1 and bidder 2 at every profile [a, b]."""
    phi = ironed_virtual_values(law.values, law.conditional)  # phi[a, b]: own a given other b
    return phi, phi.T


def _monotone(win: np.ndarray, axis: int) -> bool:
    """Whether each bidder's win set is an upper set in its own bid (``axis``), given the other's."""
    w = np.moveaxis(win, axis, 0).astype(int)
    return bool(np.all(np.diff(w, axis=0) >= 0))


def greedy_ironed(law: GridLaw) -> dict[str, Any]:
    """The greedy rule: the item to the higher ironed conditional virtual value if it is positive.

    Run through the fixing step like every rule; ``monotone_before_fix`` says whether the
    raw rule already had monotone win sets (then the fix leaves it unchanged), and the
    flags come from the exhaustive audit of the resulting mechanism.
    """
    phi1, phi2 = conditional_virtual_values(law)
    live = law.pmf > 0
    # rounded as evolved scores are, so that float noise does not break ties between pooled levels
    s1 = np.round(np.where(live & (phi1 > 0), phi1, NEVER), SCORE_DECIMALS)
    s2 = np.round(np.where(live & (phi2 > 0), phi2, NEVER), SCORE_DECIMALS)
    win1, win2 = raw_allocation(s1, s2)
    rep = run_scores(law, s1, s2)
    return _entry(law, rep, monotone_before_fix=_monotone(win1, 0) and _monotone(win2, 1))


def greedy_bound(law: GridLaw) -> dict[str, Any]:
    """E[max(ironed conditional virtual values, 0)]: an upper bound on any SP/IR revenue.

    Revenue of a monotone rule is E[sum_i phi_i x_i] <= E[sum_i phibar_i x_i] <= this
    bound. It is a number, not a mechanism: the greedy rule that picks the largest
    ironed value earns E[sum_i phi_i x_i], which falls short of the bound wherever
    ironing pooled levels that the rule then separates (see :func:`greedy_ironed`).
    """
    phi1, phi2 = conditional_virtual_values(law)
    live = law.pmf > 0
    best = np.where(live, np.maximum(np.maximum(phi1, phi2), 0.0), 0.0)
    return {"revenue": float(np.sum(law.pmf * best)), "mechanism": False,
            "note": "upper bound on SP/IR revenue (not a mechanism's revenue)"}


def optimum(law: GridLaw) -> dict[str, Any]:
    """The MILP optimum with its thresholds, audited like every other mechanism."""
    from amdlib.problems.correlated.optimum import optimal_mechanism

    opt = optimal_mechanism(law)
    return {"revenue": opt.revenue, "mechanism": opt.mechanism.to_dict(), **audited(law, opt.mechanism)}


def all_baselines(law: GridLaw) -> dict[str, Any]:
    """Optimum (MILP), the analytic baselines and the bound of one setting."""
    return {
        "setting": law.describe(),
        "optimum": optimum(law),
        "myerson_marginals": myerson_marginals(law),
        "spa_reserve": spa_reserve(law),
        "greedy_ironed": greedy_ironed(law),
        "greedy_bound": greedy_bound(law),
    }
