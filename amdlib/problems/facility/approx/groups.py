"""Weighted quantiles of rank groups: the paper's Figure 2 rule and its generalisation to K facilities.

``RankGroups(cuts, levels, exponents)`` sorts the reports, splits them by rank into K contiguous
groups (group j holds ranks ``bounds[j] .. bounds[j+1] - 1``, ``bounds`` the fractions ``cuts``
of n, rounded) and puts facility j at the lower weighted ``levels[j]``-quantile of its group with
weights ``w ** exponents[j]``. LLMMech's Figure 2 mechanism (n = 10, K = 2) is
``cuts = (0, 0.5, 1)``, levels 0.5, exponents 1: the weighted median of the left and of the right
half of the agents.

Not strategy-proof with unequal weights: a report that crosses a heavy agent's moves it to the
other group and so moves that group's weighted median (with equal weights, or exponent 0, every
facility is an order statistic and the rule is strategy-proof). The dense audit measures it, and
the fit keeps only members whose regret bound is within epsilon.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from amdlib.problems.facility.sp.member import mean_cost, num

from amdlib.problems.facility.approx.audit import Z, AuditSet
from amdlib.problems.facility.approx.member import FittedApprox

#: Levels and exponents tried by the coordinate descent of the fit.
LEVELS = (0.2, 0.35, 0.5, 0.65, 0.8)
EXPONENTS = (0.0, 1.0, 4.0)
#: Cut sets (by training cost at level 0.5, exponent 1) refined by the descent.
TOP_CUTS = 4


def group_bounds(cuts: tuple[float, ...], n: int) -> list[int]:
    """Rank bounds of the groups for n reports (each group keeps at least one report when n >= K)."""
    bounds = [0]
    k = len(cuts) - 1
    for j in range(1, k):
        lo, hi = bounds[-1] + 1, n - (k - j)
        bounds.append(int(min(max(round(cuts[j] * n), lo), hi)))
    return bounds + [n]


@dataclass(frozen=True)
class RankGroups:
    """``cuts``: increasing fractions (0, ..., 1) of the ranks; ``levels`` / ``exponents``: each
    group's weighted quantile."""

    cuts: tuple[float, ...]
    levels: tuple[float, ...]
    exponents: tuple[float, ...]

    def locations(self, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        order = np.argsort(peaks, axis=1)
        s = np.take_along_axis(peaks, order, axis=1)
        bounds = group_bounds(self.cuts, peaks.shape[1])
        rows = np.arange(peaks.shape[0])
        cols = []
        for j, (q, g) in enumerate(zip(self.levels, self.exponents)):
            a, b = bounds[j], bounds[j + 1]
            c = np.cumsum((weights ** g)[order][:, a:b], axis=1)
            i = np.minimum(np.sum(c < q * c[:, -1:], axis=1), b - a - 1)
            cols.append(s[rows, a + i])
        return np.stack(cols, axis=1)

    def body(self) -> str:
        table = ", ".join(f"({num(q)}, {num(g)})" for q, g in zip(self.levels, self.exponents))
        cuts = ", ".join(num(c) for c in self.cuts)
        return "\n    ".join([
            "x = peaks.reshape(-1, peaks.shape[-1])",
            "n = x.shape[1]",
            "order = np.argsort(x, axis=1)",
            "s = np.take_along_axis(x, order, axis=1)",
            f"cuts = ({cuts},)",
            "bounds = [0]",
            "for j in range(1, len(cuts) - 1):",
            "    bounds.append(int(min(max(round(cuts[j] * n), bounds[-1] + 1), n - (len(cuts) - 1 - j))))",
            "bounds.append(n)",
            "rows = np.arange(x.shape[0])",
            "cols = []",
            f"for j, (q, g) in enumerate(({table},)):",
            "    a, b = bounds[j], bounds[j + 1]",
            "    c = np.cumsum((weights ** g)[order][:, a:b], axis=1)",
            "    i = np.minimum(np.sum(c < q * c[:, -1:], axis=1), b - a - 1)",
            "    cols.append(s[rows, a + i])",
            "out = np.stack(cols, axis=1)",
            "return out.reshape(peaks.shape[:-1] + (out.shape[1],))",
        ])

    def describe(self) -> list[str]:
        return [repr(self)]


def _descend(member: RankGroups, peaks: np.ndarray, weights: np.ndarray) -> list[RankGroups]:
    """Every member visited by a coordinate descent over each group's level and exponent."""
    seen, best, best_cost = [member], member, mean_cost(member, peaks, weights)
    for _ in range(2):
        improved = False
        for j in range(len(member.levels)):
            for q, g in itertools.product(LEVELS, EXPONENTS):
                lv, ex = list(best.levels), list(best.exponents)
                lv[j], ex[j] = q, g
                cand = RankGroups(best.cuts, tuple(lv), tuple(ex))
                c = mean_cost(cand, peaks, weights)
                seen.append(cand)
                if c < best_cost - 1e-12:
                    best, best_cost, improved = cand, c, True
        if not improved:
            break
    return seen


def fit_groups(peaks: np.ndarray, weights: np.ndarray, k: int, epsilon: float, audit: AuditSet,
               z: float = Z, keep: int = 12) -> FittedApprox | None:
    """The cheapest rank-group member on the training ``peaks`` whose dense-audit regret bound on
    ``audit`` is at most ``epsilon`` (None if none is, or K > n). Cut sets: every split of the ranks
    into K groups, the ``TOP_CUTS`` cheapest at weighted medians refined by coordinate descent; the
    ``keep`` cheapest members seen are audited."""
    n = peaks.shape[1]
    if k > n or k < 1:
        return None
    starts = []
    for inner in itertools.combinations(range(1, n), k - 1):
        m = RankGroups(tuple([0.0] + [i / n for i in inner] + [1.0]), (0.5,) * k, (1.0,) * k)
        starts.append((mean_cost(m, peaks, weights), m))
    starts.sort(key=lambda t: t[0])
    seen = {m for _, m in starts[:keep]}
    for _, m in starts[:TOP_CUTS]:
        seen.update(_descend(m, peaks, weights))
    ranked = sorted(seen, key=lambda m: (mean_cost(m, peaks, weights), repr(m)))[:keep]
    for m in ranked:
        regret = audit.regret(audit.locations(m.locations, key=m))
        if regret.ucb(z) <= epsilon:
            return FittedApprox("rank_groups", m, mean_cost(m, peaks, weights), regret.max, regret.ucb(z))
    return None


__all__ = ["RankGroups", "group_bounds", "fit_groups"]
