"""The dense audit on a cached set of profiles: every agent's report replaced by every point of a grid.

Same definition as :mod:`amdlib.problems.facility.audit`: an agent's gain on a profile is its own
(unweighted) cost when truthful minus its cost, at its true peak, when it alone reports a grid
point; its regret there is the best gain (gains below ``GAIN_TOL`` count as 0); the max regret is
the max over agents of the mean over profiles. :class:`AuditSet` builds the truthful and deviation
profiles once, so a fit can score many rules, and rules mixing cached locations, on the same rows.

A fit that keeps the rule with the least cost among those whose *measured* regret is at most
epsilon picks rules whose regret was measured low by chance (on 1000 profiles the mean of an
agent's gains has a standard error of 5-15% of it). The fits therefore bound an upper confidence
value, ``mean + z * standard error`` per agent (:attr:`Regret.ucb`), not the mean alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from amdlib.problems.facility.audit import audit_payload
from amdlib.problems.facility.costs import GAIN_TOL, agent_costs, social_costs
from amdlib.problems.facility.harness import deviation_profiles

#: Grid points of the audit (the experiment's ``audit_grid`` default).
GRID = 101
#: Standard errors added to each agent's mean regret by the fits' constraint.
Z = 1.5
#: Rows handed to a rule at once (bounds the k-median's memory).
CHUNK = 100_000


@dataclass(frozen=True)
class Regret:
    """Dense-audit regret: per-agent mean over profiles and its standard error."""

    per_agent: np.ndarray
    se: np.ndarray

    @property
    def max(self) -> float:
        """The paper's max regret (max over agents of the mean over profiles)."""
        return float(self.per_agent.max()) if self.per_agent.size else 0.0

    def ucb(self, z: float = Z) -> float:
        """max over agents of mean + z standard errors (what the fits hold below epsilon)."""
        return float((self.per_agent + z * self.se).max()) if self.per_agent.size else 0.0


class AuditSet:
    """Truthful profiles ``peaks`` (B, n) and every one-agent deviation to a grid point.

    ``rows`` (B + n * G * B, n): the B truthful profiles, then the deviations ordered
    (agent i, grid point j, profile b), row ``B + (i * G + j) * B + b``.
    """

    def __init__(self, peaks: np.ndarray, weights: np.ndarray, k: int, grid: int = GRID) -> None:
        self.peaks = np.asarray(peaks, dtype=float)
        self.weights = np.asarray(weights, dtype=float)
        self.k = int(k)
        self.b, self.n = self.peaks.shape
        self.g = int(grid)
        grid_misreports = audit_payload(self.peaks, self.weights, self.k, self.g)["misreports"]
        self.rows = np.concatenate([self.peaks, deviation_profiles(self.peaks, grid_misreports)])
        self._cache: dict[object, np.ndarray] = {}

    def locations(self, rule: Callable[[np.ndarray, np.ndarray], np.ndarray], key: object = None) -> np.ndarray:
        """(rows, K) locations of ``rule(peaks, weights)`` on every row, cached under ``key``."""
        if key is not None and key in self._cache:
            return self._cache[key]
        out = np.concatenate([np.asarray(rule(self.rows[s:s + CHUNK], self.weights), dtype=float).reshape(-1, self.k)
                              for s in range(0, len(self.rows), CHUNK)])
        if key is not None:
            self._cache[key] = out
        return out

    def own_costs(self, loc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each agent's own cost at its true peak: truthful (n, B) and on its deviations (n, G, B)."""
        truthful = agent_costs(self.peaks, loc[:self.b]).T
        dev = loc[self.b:].reshape(self.n, self.g, self.b, -1)
        return truthful, np.min(np.abs(self.peaks.T[:, None, :, None] - dev), axis=3)

    def regret_of_costs(self, truthful: np.ndarray, dev: np.ndarray) -> Regret:
        """Regret from own costs (see :meth:`own_costs`)."""
        gain = truthful[:, None, :] - dev
        best = np.where(gain > GAIN_TOL, gain, 0.0).max(axis=1)  # (n, B)
        return Regret(best.mean(axis=1), best.std(axis=1, ddof=1) / np.sqrt(self.b) if self.b > 1 else np.zeros(self.n))

    def regret(self, loc: np.ndarray) -> Regret:
        """Dense-audit regret of a rule from its locations on every row."""
        return self.regret_of_costs(*self.own_costs(loc))

    def cost(self, loc: np.ndarray) -> float:
        """Mean weighted social cost on the truthful profiles."""
        return float(social_costs(self.peaks, loc[:self.b], self.weights).mean())


__all__ = ["GRID", "Z", "Regret", "AuditSet"]
