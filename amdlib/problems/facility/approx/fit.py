"""Every approximate family under one epsilon: the member to seed a search with.

:func:`fit_approx` returns the cheapest member on the training profiles among the strategy-proof
member it is given and the approximate families' fits whose dense-audit regret bound (on the
first ``audit_profiles`` training profiles, grid ``grid``) is at most ``epsilon``. At epsilon 0 it
returns the strategy-proof member as given (or None): no measured regret makes a rule
strategy-proof.
"""

from __future__ import annotations

import numpy as np

from amdlib.problems.facility.sp.member import FittedMember

from amdlib.problems.facility.approx.audit import GRID, Z, AuditSet
from amdlib.problems.facility.approx.counted import fit_counted
from amdlib.problems.facility.approx.groups import fit_groups
from amdlib.problems.facility.approx.switch import fit_switch

#: Training profiles the fits' constraint audits (the experiment's ``audit_profiles`` in paper.yaml).
AUDIT_PROFILES = 1000


def fit_approx(peaks: np.ndarray, weights: np.ndarray, k: int, epsilon: float, sp: FittedMember | None,
               audit_profiles: int = AUDIT_PROFILES, grid: int = GRID, z: float = Z,
               audit: AuditSet | None = None) -> FittedMember | None:
    """The cheapest of ``sp`` and the approximate families' fits within ``epsilon`` (see the module).
    ``audit``: a prepared :class:`AuditSet` of the training profiles (shared between epsilons)."""
    fits = fit_all(peaks, weights, k, epsilon, sp, audit_profiles, grid, z, audit)
    return min(fits.values(), key=lambda m: m.train_cost) if fits else None


def fit_all(peaks: np.ndarray, weights: np.ndarray, k: int, epsilon: float, sp: FittedMember | None,
            audit_profiles: int = AUDIT_PROFILES, grid: int = GRID, z: float = Z,
            audit: AuditSet | None = None) -> dict[str, FittedMember]:
    """``{family: fit}`` for ``sp`` (key ``"sp"``) and each family that has a member within epsilon."""
    peaks, weights = np.asarray(peaks, dtype=float), np.asarray(weights, dtype=float)
    out: dict[str, FittedMember] = {} if sp is None else {"sp": sp}
    if epsilon <= 0:
        return out
    audit = audit or AuditSet(peaks[:audit_profiles], weights, k, grid)
    counted = fit_counted(peaks, weights, k, epsilon, audit, z)
    groups = fit_groups(peaks, weights, k, epsilon, audit, z)
    bases = [m.spec for m in (sp, counted) if m is not None]
    switch = fit_switch(peaks, weights, k, epsilon, audit, bases, z) if bases else None
    for name, fit in (("counted_anchored", counted), ("rank_groups", groups), ("switch", switch)):
        if fit is not None:
            out[name] = fit
    return out


__all__ = ["fit_approx", "fit_all", "AUDIT_PROFILES"]
