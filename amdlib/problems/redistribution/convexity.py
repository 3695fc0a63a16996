"""The fix's domain of exactness: convexity of the rebate along each order statistic.

The fix of :mod:`.fix` takes the worst case over an agent's own bid at the
breakpoints only; that is the worst case over all own bids whenever the
clipped rebate ``max(h, 0)`` is convex along every coordinate line of the
ordered simplex (one order statistic moving between its neighbours). A
candidate is screened on random such lines: five evenly spaced points per
line, every second difference must be >= 0 (up to rounding).
"""

from __future__ import annotations

import numpy as np

#: Points per line (evenly spaced from the lower to the upper neighbour).
POINTS = 5


def lines(rng: np.random.Generator, count: int, n: int, distribution_sampler=None) -> np.ndarray:
    """Points on random coordinate lines: shape (count * (n-1) * POINTS, n-1), sorted rows.

    Each of ``count`` random others' vectors gives one line per order
    statistic ``q``: ``o_q`` moves from ``o_{q+1}`` (0 for the last) to
    ``o_{q-1}`` (1 for the first) while the others stay put.
    """
    d = n - 1
    base = rng.uniform(0.0, 1.0, (count, d)) if distribution_sampler is None else distribution_sampler(rng, (count, d))
    base = -np.sort(-base, axis=1)
    padded = np.concatenate([np.ones((count, 1)), base, np.zeros((count, 1))], axis=1)
    t = np.linspace(0.0, 1.0, POINTS)
    out = np.repeat(base[:, None, None, :], d, axis=1).repeat(POINTS, axis=2)  # (count, d, POINTS, d)
    q = np.arange(d)
    hi, lo = padded[:, q], padded[:, q + 2]  # (count, d) neighbours of o_q
    out[:, q, :, q] = (lo[..., None] + t * (hi - lo)[..., None]).transpose(1, 0, 2)
    return out.reshape(-1, d)


def worst_second_difference(values: np.ndarray) -> float:
    """Most negative second difference of ``max(values, 0)`` along the lines, relative to the scale.

    ``values`` are the raw rebates at :func:`lines`' points (in order). Returns
    ``min(d2) / (1 + max|h|)``; a convex candidate gives a value >= -1e-9.
    """
    h = np.maximum(np.asarray(values, dtype=float).reshape(-1, POINTS), 0.0)
    if h.size == 0:
        return 0.0
    d2 = h[:, :-2] - 2.0 * h[:, 1:-1] + h[:, 2:]
    return float(d2.min() / (1.0 + np.abs(h).max()))
