"""Deterministic threshold mechanisms for two bidders on a grid, and the fixing step.

A mechanism is a pair of threshold arrays: bidder 1 wins at profile (a, b)
iff ``a >= t1[b]`` and pays the value of level ``t1[b]``; bidder 2 wins iff
``b >= t2[a]`` and pays level ``t2[a]``. A threshold equal to ``G`` means
"never wins". Such a mechanism is strategy-proof and ex-post IR; it is
feasible iff no profile has two winners. Index convention everywhere: tables
have shape (G, G) and are indexed ``[a, b]`` = [bidder 1's level, bidder 2's].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Thresholds:
    """Threshold levels ``t1[b]`` (bidder 1 given bidder 2's level) and ``t2[a]``."""

    t1: np.ndarray
    t2: np.ndarray

    @property
    def grid_size(self) -> int:
        return len(self.t1)

    def allocation(self) -> tuple[np.ndarray, np.ndarray]:
        """Win indicators ``(x1, x2)``, each (G, G) of 0/1 floats indexed [a, b]."""
        levels = np.arange(self.grid_size)
        x1 = levels[:, None] >= self.t1[None, :]
        x2 = levels[None, :] >= self.t2[:, None]
        return x1.astype(float), x2.astype(float)

    def payments(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Payments ``(p1, p2)`` (G, G): the winner pays its threshold's value, losers nothing."""
        x1, x2 = self.allocation()
        price = np.append(values, 0.0)  # level G (never wins) costs nothing
        return x1 * price[self.t1][None, :], x2 * price[self.t2][:, None]

    def feasible(self) -> bool:
        """True iff no profile has two winners."""
        x1, x2 = self.allocation()
        return not bool(np.any((x1 + x2) > 1))

    def to_dict(self) -> dict[str, list[int]]:
        return {"t1": [int(t) for t in self.t1], "t2": [int(t) for t in self.t2]}


def revenue(mech: Thresholds, values: np.ndarray, pmf: np.ndarray) -> float:
    """Exact expected revenue: sum over all profiles of pmf times both payments."""
    p1, p2 = mech.payments(values)
    return float(np.sum(pmf * (p1 + p2)))


def _suffix_all(win: np.ndarray, axis: int) -> np.ndarray:
    """``out[k] = all(win[k:])`` along ``axis`` (keeps only the top run of wins)."""
    flipped = np.flip(win, axis=axis)
    return np.flip(np.cumprod(flipped, axis=axis), axis=axis).astype(bool)


def raw_allocation(s1: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The unfixed rule: the higher non-negative score wins.

    ``s1[a, b]`` is bidder 1's score at profile (a, b), ``s2[a, b]`` bidder 2's.
    Equal scores go to the higher bid, and at equal bids to bidder 1, so each
    profile has at most one winner.
    """
    g = s1.shape[0]
    levels = np.arange(g)
    first_on_tie = levels[:, None] >= levels[None, :]
    win1 = (s1 >= 0) & ((s1 > s2) | ((s1 == s2) & first_on_tie))
    win2 = (s2 >= 0) & ~win1 & ((s2 > s1) | (s2 == s1))
    return win1, win2


def fix(win1: np.ndarray, win2: np.ndarray) -> Thresholds:
    """The fixing step: make each bidder's win set an upper set in its own bid.

    Given the other's bid, a bidder keeps only the wins at and above the
    highest bid where it loses (its threshold becomes the smallest bid above
    which it wins for every higher bid). Wins are only removed, never added, so
    a rule with at most one winner per profile stays feasible, and threshold
    payments make the result exactly SP and IR.
    """
    g = win1.shape[0]
    keep1 = _suffix_all(win1, axis=0)
    keep2 = _suffix_all(win2, axis=1)
    t1 = g - keep1.sum(axis=0)
    t2 = g - keep2.sum(axis=1)
    return Thresholds(t1.astype(int), t2.astype(int))


def lowest_win_payments(win1: np.ndarray, win2: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Payments of an unfixed rule if each winner paid its lowest winning bid given the other's."""
    g = win1.shape[0]
    price = np.append(values, 0.0)
    low1 = np.where(win1.any(axis=0), np.argmax(win1, axis=0), g)
    low2 = np.where(win2.any(axis=1), np.argmax(win2, axis=1), g)
    return win1 * price[low1][None, :], win2 * price[low2][:, None]


@dataclass(frozen=True)
class FixReport:
    """The fixed mechanism and what the fix did."""

    mechanism: Thresholds
    revenue: float
    raw_revenue: float
    changed: float  # probability mass of profiles whose winner changed

    @property
    def fix_cost(self) -> float:
        """Revenue of the unfixed rule (lowest-winning-bid payments) minus the fixed revenue."""
        return self.raw_revenue - self.revenue


def fix_scores(s1: np.ndarray, s2: np.ndarray, values: np.ndarray, pmf: np.ndarray) -> FixReport:
    """Scores -> raw allocation -> fixed threshold mechanism, with revenues before and after."""
    win1, win2 = raw_allocation(s1, s2)
    mech = fix(win1, win2)
    r1, r2 = lowest_win_payments(win1, win2, values)
    x1, x2 = mech.allocation()
    changed = float(np.sum(pmf * ((x1 != win1) | (x2 != win2))))
    return FixReport(mech, revenue(mech, values, pmf), float(np.sum(pmf * (r1 + r2))), changed)
