"""Vectorised costs: agent costs, weighted social cost and regret from misreports.

Conventions: ``peaks`` (B, n), ``loc`` (B, K); deviation locations ``loc_dev``
are ordered (agent i, misreport j, profile b) as built by
:func:`amdlib.problems.facility.harness.deviation_profiles`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Gains below this are floating-point noise, not a profitable misreport.
GAIN_TOL = 1e-9


def agent_costs(peaks: np.ndarray, loc: np.ndarray) -> np.ndarray:
    """Distance from each agent's peak to its nearest facility, shape (B, n)."""
    return np.min(np.abs(peaks[:, :, None] - loc[:, None, :]), axis=2)


def social_costs(peaks: np.ndarray, loc: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted social cost of each profile, sum_i w_i c_i / sum_i w_i, shape (B,)."""
    return agent_costs(peaks, loc) @ (weights / weights.sum())


@dataclass(frozen=True)
class RegretTable:
    """Per-profile regrets and the best deviation behind each.

    ``regret`` (n, B): max(0, best gain) of agent i on profile b; ``best`` (n, B):
    the index of that misreport; ``gain`` (n, M, B): every gain.
    """

    regret: np.ndarray
    best: np.ndarray
    gain: np.ndarray

    @property
    def agent_regret(self) -> np.ndarray:
        """Mean regret of each agent over profiles, shape (n,)."""
        return self.regret.mean(axis=1)

    @property
    def max_regret(self) -> float:
        """The paper's max regret: max over agents of the mean over profiles."""
        return float(self.agent_regret.max()) if self.regret.size else 0.0


def regret_table(peaks: np.ndarray, loc: np.ndarray, loc_dev: np.ndarray) -> RegretTable:
    """Regret of every agent on every profile from truthful and deviation locations.

    An agent's gain is its own (unweighted) cost when truthful minus its cost, at its
    true peak, when it alone reports the misreport.
    """
    b, n = peaks.shape
    m = loc_dev.shape[0] // (n * b)
    truthful = agent_costs(peaks, loc).T  # (n, B)
    dev = loc_dev.reshape(n, m, b, -1)
    true_peak = peaks.T[:, None, :, None]  # (n, 1, B, 1)
    dev_cost = np.min(np.abs(true_peak - dev), axis=3)  # (n, M, B)
    gain = truthful[:, None, :] - dev_cost
    gain = np.where(gain > GAIN_TOL, gain, 0.0)
    best = np.argmax(gain, axis=1)
    regret = np.take_along_axis(gain, best[:, None, :], axis=1)[:, 0, :]
    return RegretTable(regret=regret, best=best, gain=gain)
