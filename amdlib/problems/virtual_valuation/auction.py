"""The priority auction, its monotonicity fix, and exact threshold payments.

A priority function is tabulated on a bid grid. The auction gives the item to
the bidder with the highest priority (lowest index on ties) if that priority
is >= 0; the winner pays its critical bid, the smallest bid at which it would
still win. The fix replaces the priority by its running minimum from the
right, the largest non-decreasing function below it: allocations become
monotone, so threshold payments make the auction exactly SP and IR.
Priorities between grid points are linear interpolations, which stay monotone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def monotone_fix(scores: np.ndarray) -> np.ndarray:
    """Running minimum from the right: the largest non-decreasing minorant."""
    return np.minimum.accumulate(scores[::-1])[::-1]


def _first_reach(grid: np.ndarray, mono: np.ndarray, level: np.ndarray, strict: bool) -> np.ndarray:
    """inf{b : phi(b) >= level} (or ``> level`` if strict) for non-decreasing
    piecewise-linear phi; +inf where phi never gets there."""
    side = "right" if strict else "left"
    k = np.searchsorted(mono, level, side=side)
    out = np.full(level.shape, np.inf)
    # Below the first grid point the priority is flat (np.interp clamps), so a
    # level already met there is met by every bid down to 0.
    out[k == 0] = 0.0
    inner = (k > 0) & (k < len(grid))
    ki = k[inner]
    s0, s1 = mono[ki - 1], mono[ki]
    g0, g1 = grid[ki - 1], grid[ki]
    out[inner] = g0 + (level[inner] - s0) / (s1 - s0) * (g1 - g0)
    return out


@dataclass(frozen=True)
class PriorityAuction:
    """A single-item auction defined by a non-decreasing priority on ``grid``."""

    grid: np.ndarray
    priority: np.ndarray  # non-decreasing, same length as grid

    @classmethod
    def from_scores(cls, grid: np.ndarray, scores: np.ndarray) -> "PriorityAuction":
        """Apply the monotonicity fix to raw scores."""
        return cls(grid, monotone_fix(np.asarray(scores, dtype=float)))

    @property
    def reserve(self) -> float:
        """Smallest bid whose priority is >= 0 (inf if none)."""
        return float(_first_reach(self.grid, self.priority, np.zeros(1), strict=False)[0])

    def run(self, bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Winners (index, -1 for no sale) and payments for bid profiles (P, n)."""
        return _run(self.grid, self.priority, self.priority, bids)


def _run(grid: np.ndarray, alloc_scores: np.ndarray, pay_scores: np.ndarray, bids: np.ndarray):
    """Allocate by ``alloc_scores``; price with the monotone ``pay_scores``."""
    bids = np.atleast_2d(np.asarray(bids, dtype=float))
    p_count, n = bids.shape
    prio = np.interp(bids, grid, alloc_scores)
    winner = np.argmax(prio, axis=1)
    top = prio[np.arange(p_count), winner]
    sold = top >= 0
    # Highest rival priority below and above the winner's index (ties go to the lower index).
    idx = np.arange(n)[None, :]
    masked_before = np.where(idx < winner[:, None], prio, -np.inf).max(axis=1)
    masked_after = np.where(idx > winner[:, None], prio, -np.inf).max(axis=1)
    threshold = _first_reach(grid, pay_scores, np.zeros(p_count), strict=False)
    has_before = np.isfinite(masked_before)
    has_after = np.isfinite(masked_after)
    threshold = np.where(has_before, np.maximum(threshold, _first_reach(grid, pay_scores, np.where(has_before, masked_before, 0.0), strict=True)), threshold)
    threshold = np.where(has_after, np.maximum(threshold, _first_reach(grid, pay_scores, np.where(has_after, masked_after, 0.0), strict=False)), threshold)
    payment = np.where(sold, threshold, 0.0)
    return np.where(sold, winner, -1), payment


def naive_revenue(grid: np.ndarray, raw_scores: np.ndarray, bids: np.ndarray) -> np.ndarray:
    """Per-profile revenue of the *unfixed* rule: the highest raw priority wins and
    pays the lowest bid at which its raw priority first reaches the needed level
    (not strategy-proof when the scores are not monotone)."""
    reach = np.maximum.accumulate(raw_scores)
    _, pay = _run(grid, raw_scores, reach, bids)
    return pay


def utilities(auction: PriorityAuction, values: np.ndarray, bids: np.ndarray) -> np.ndarray:
    """Quasi-linear utilities (P, n) of bidders with ``values`` when ``bids`` are reported."""
    winner, pay = auction.run(bids)
    p_count, n = bids.shape
    u = np.zeros((p_count, n))
    sold = winner >= 0
    rows = np.nonzero(sold)[0]
    u[rows, winner[sold]] = values[rows, winner[sold]] - pay[sold]
    return u


def audit(auction: PriorityAuction, values: np.ndarray, misreports: np.ndarray) -> dict[str, float]:
    """Exhaustive SP/IR check on sampled profiles.

    For every profile and bidder, every misreport on ``misreports`` (a grid)
    is tried with the others truthful. Returns the largest gain from lying
    (``max_regret``, 0 for an SP mechanism) and the smallest truthful utility
    (``min_utility``, >= 0 for an IR one).
    """
    p_count, n = values.shape
    truthful = utilities(auction, values, values)
    m = len(misreports)
    best_gain = 0.0
    for i in range(n):
        bids = np.repeat(values[:, None, :], m, axis=1)  # (P, M, n)
        bids[:, :, i] = misreports[None, :]
        u = utilities(auction, np.repeat(values, m, axis=0), bids.reshape(-1, n))[:, i].reshape(p_count, m)
        best_gain = max(best_gain, float((u.max(axis=1) - truthful[:, i]).max()))
    return {"max_regret": best_gain, "min_utility": float(truthful.min())}
