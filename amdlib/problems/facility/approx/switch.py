"""A member switched to the exact k-median when enough agents gain from it: the vote switch.

``VoteSwitch(base, k, drop, cap, tau)`` computes the base member's locations ``a`` and the exact
weighted k-median ``b`` of the reports, and each agent's weighted gain from ``b`` over ``a``
(``w_i (dist(x_i, a) - dist(x_i, b)) / sum(w)``, as reported). Each gain is capped at ``cap`` and the
``drop`` largest are left out; the rule answers ``b`` when the rest sum to more than ``tau``, else
``a``. The optimum thus serves only profiles where it helps many agents by a margin.

Why the cap and the drop: a lone agent that exaggerates how far it is from ``a`` inflates its own
gain, which is what makes the k-median manipulable; capped and with the largest gains left out,
no single report carries the vote. Regret remains (an agent can still tip a vote near ``tau``,
and the k-median itself is manipulable where it is used); the dense audit measures it and the
fit keeps only switches whose regret bound is within epsilon.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from amdlib.problems.facility.baselines import nonsp_optimum
from amdlib.problems.facility.costs import agent_costs
from amdlib.problems.facility.sp.member import Member, mean_cost, num

from amdlib.problems.facility.approx.audit import Z, AuditSet
from amdlib.problems.facility.approx.kmedian import KMedian, kmedian_lines
from amdlib.problems.facility.approx.member import FittedApprox, nested

DROPS = (0, 1, 2)
CAPS = (None, 0.04, 0.02, 0.01, 0.005, 0.0025, 0.00125)
TAUS = (0.0, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.006, 0.008, 0.012, 0.02, 0.03)


def vote(x: np.ndarray, a: np.ndarray, b: np.ndarray, weights: np.ndarray, drop: int, cap: float | None) -> np.ndarray:
    """(B,) the vote for ``b`` over ``a`` on reports ``x``: capped weighted gains, the ``drop``
    largest left out, summed (the rendered code computes the same, operation by operation)."""
    wn = weights / weights.sum()
    c = (agent_costs(x, a) - agent_costs(x, b)) * wn
    if cap is not None:
        c = np.minimum(c, cap)
    d = c.sum(1)
    if drop:
        d = d - np.sort(c, axis=1)[:, c.shape[1] - drop:].sum(1)
    return d


@dataclass(frozen=True)
class VoteSwitch:
    """``base`` (any member), the k-median with ``k`` facilities, and the vote's ``drop``, ``cap``, ``tau``."""

    base: Member
    k: int
    drop: int
    cap: float | None
    tau: float

    def locations(self, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        a = np.asarray(self.base.locations(peaks, weights), dtype=float)
        b = nonsp_optimum(peaks, weights, self.k)
        return np.where((vote(peaks, a, b, weights, self.drop, self.cap) > self.tau)[:, None], b, a)

    def body(self) -> str:
        lines = [nested("base", self.base.body()), *kmedian_lines(),
                 "x = peaks.reshape(-1, peaks.shape[-1])",
                 "a = np.asarray(base(x), dtype=float).reshape(x.shape[0], -1)",
                 "b = kmedian(x)",
                 "wn = weights / weights.sum()",
                 "da = np.min(np.abs(x[:, :, None] - a[:, None, :]), axis=2)",
                 "db = np.min(np.abs(x[:, :, None] - b[:, None, :]), axis=2)",
                 "c = (da - db) * wn"]
        if self.cap is not None:
            lines.append(f"c = np.minimum(c, {num(self.cap)})")
        lines.append("d = c.sum(1)")
        if self.drop:
            lines.append(f"d = d - np.sort(c, axis=1)[:, c.shape[1] - {int(self.drop)}:].sum(1)")
        lines += [f"out = np.where((d > {num(self.tau)})[:, None], b, a)",
                  "return out.reshape(peaks.shape[:-1] + (out.shape[1],))"]
        return "\n    ".join(lines)

    def describe(self) -> list[str]:
        return [f"VoteSwitch(k={self.k}, drop={self.drop}, cap={self.cap}, tau={self.tau})", *self.base.describe()]


class _Pair:
    """A base and the k-median on every audit row: gains and own costs, for scoring many votes."""

    def __init__(self, audit: AuditSet, base: Member, k: int) -> None:
        self.audit = audit
        a = audit.locations(base.locations, key=base)
        b = audit.locations(lambda p, w: nonsp_optimum(p, w, k), key=("kmedian", k))
        self.a, self.b = a, b
        self.own_a, self.own_b = audit.own_costs(a), audit.own_costs(b)
        wn = audit.weights / audit.weights.sum()
        self.social_a = (np.min(np.abs(audit.peaks[:, :, None] - a[:audit.b, None, :]), axis=2) * wn).sum(1)
        self.social_b = (np.min(np.abs(audit.peaks[:, :, None] - b[:audit.b, None, :]), axis=2) * wn).sum(1)
        self._votes: dict[tuple, np.ndarray] = {}

    def vote(self, drop: int, cap: float | None) -> np.ndarray:
        if (drop, cap) not in self._votes:
            self._votes[(drop, cap)] = vote(self.audit.rows, self.a, self.b, self.audit.weights, drop, cap)
        return self._votes[(drop, cap)]

    def score(self, drop: int, cap: float | None, tau: float):
        """(audit-profile cost, Regret) of the switch."""
        m = self.vote(drop, cap) > tau
        au = self.audit
        mt, md = m[:au.b], m[au.b:].reshape(au.n, au.g, au.b)
        truthful = np.where(mt[None, :], self.own_b[0], self.own_a[0])
        dev = np.where(md, self.own_b[1], self.own_a[1])
        return float(np.where(mt, self.social_b, self.social_a).mean()), au.regret_of_costs(truthful, dev)


def fit_switch(peaks: np.ndarray, weights: np.ndarray, k: int, epsilon: float, audit: AuditSet, bases: list[Member],
               z: float = Z) -> FittedApprox | None:
    """The cheapest vote switch (or the k-median alone) on the audited training profiles among
    those whose dense-audit regret bound is at most ``epsilon``, over ``bases`` x ``DROPS`` x
    ``CAPS`` x ``TAUS``; its training cost on all of ``peaks``. None if none fits (or K < 2)."""
    if k < 2:
        return None
    best = None  # (audit cost, member, Regret)
    for base in bases:
        pair = _Pair(audit, base, k)
        for drop, cap, tau in itertools.product(DROPS, CAPS, TAUS):
            if drop >= audit.n:
                continue
            cost, regret = pair.score(drop, cap, tau)
            if regret.ucb(z) <= epsilon and (best is None or cost < best[0] - 1e-12):
                best = (cost, VoteSwitch(base, k, drop, cap, tau), regret)
    kmed = audit.regret(audit.locations(lambda p, w: nonsp_optimum(p, w, k), key=("kmedian", k)))
    if kmed.ucb(z) <= epsilon:
        member = KMedian(k)
        return FittedApprox("kmedian", member, mean_cost(member, peaks, weights), kmed.max, kmed.ucb(z))
    if best is None:
        return None
    _, member, regret = best
    return FittedApprox("vote_switch", member, mean_cost(member, peaks, weights), regret.max, regret.ucb(z))


__all__ = ["VoteSwitch", "vote", "fit_switch", "DROPS", "CAPS", "TAUS"]
