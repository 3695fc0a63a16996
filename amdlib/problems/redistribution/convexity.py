"""The fix's domain of exactness: the two rebate families whose worst case sits at a breakpoint.

The fix of :mod:`.fix` takes the worst case over an agent's own bid at the
breakpoints only. That is the worst case over all own bids

1. whenever the clipped rebate ``max(h, 0)`` is convex along every coordinate
   line of the ordered simplex (one order statistic moving between its
   neighbours): ``s T(x) - R(x)`` is then convex between breakpoints; or
2. whenever ``max(h, 0) = g(o_m)`` depends on the m-th highest of the others'
   bids alone, with ``g`` nondecreasing and ``g(x) / x`` nonincreasing
   ("star-shaped": every concave ``g`` with ``g(0) >= 0``, e.g. ``min(o_m, c)``).
   Proof: with own bid ``x`` and the others' ``o``, ``R(x) = m clip(x, o_{m+1},
   o_m)`` and the total clipped rebate is ``T(x) = m g(v_{m+1}) + (n - m) g(v_m)``
   (``v`` the full sorted profile: a bidder among the top m sees ``v_{m+1}``,
   the others ``v_m``). For ``x >= o_m``, ``R = m o_m`` is constant and ``T``
   nondecreasing in ``x``, so ``R / T`` is smallest at ``x = 1``; for
   ``o_{m+1} <= x <= o_m``, ``R / T = m / (m g(x) / x + (n - m) g(o_m) / x)``
   is nondecreasing in ``x``, smallest at ``x = o_{m+1}``; below ``o_{m+1}``
   nothing changes. Both minima are breakpoints.

A candidate is screened on random coordinate lines (five evenly spaced points
per line): it passes if either condition holds on every line, up to rounding.
The audit (random and adversarial profiles) has the last word on non-deficit.
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


def star_violation(values: np.ndarray, points: np.ndarray, m: int) -> float:
    """How far ``max(h, 0)`` is from a star-shaped nondecreasing function of ``o_m`` alone (0: it is one).

    ``values`` are the raw rebates at ``points`` (:func:`lines`' output, in order).
    Returns the largest violation, relative to ``1 + max|h|``, of: constant along the
    lines of every other order statistic; nondecreasing and ``g(x)/x`` nonincreasing
    along the lines of ``o_m`` (``g(x2) x1 <= g(x1) x2`` for ``x1 < x2``, which also
    needs ``g(0) >= 0``).
    """
    d = points.shape[1]
    h = np.maximum(np.asarray(values, dtype=float), 0.0).reshape(-1, d, POINTS)
    if h.size == 0:
        return 0.0
    q = m - 1
    others = [j for j in range(d) if j != q]
    flat = float(np.ptp(h[:, others, :], axis=2).max()) if others else 0.0
    g, x = h[:, q, :], points.reshape(-1, d, POINTS, d)[:, q, :, q]
    down = float((g[:, :-1] - g[:, 1:]).max())
    star = float((g[:, 1:] * x[:, :-1] - g[:, :-1] * x[:, 1:]).max())
    return max(flat, down, star, 0.0) / (1.0 + float(np.abs(h).max()))
