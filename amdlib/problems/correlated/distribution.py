"""The correlated two-bidder value distribution on a grid, and its virtual values.

Values lie on ``grid_size`` equally spaced levels of [0, 1]. With probability
``rho`` both bidders have the same value (uniform on the grid); otherwise the
two values are independent and uniform. Every expectation in this package is
an exact sum over the ``grid_size ** 2`` profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class GridLaw:
    """The joint law: ``pmf[a, b]`` = P(bidder 1 bids level a, bidder 2 level b)."""

    grid_size: int = 21
    rho: float = 0.5

    def __post_init__(self) -> None:
        if self.grid_size < 2:
            raise ValueError("grid_size must be at least 2")
        if not 0.0 <= self.rho <= 1.0:
            raise ValueError("rho must lie in [0, 1]")

    @cached_property
    def values(self) -> np.ndarray:
        """The value levels, shape (G,)."""
        return np.linspace(0.0, 1.0, self.grid_size)

    @cached_property
    def pmf(self) -> np.ndarray:
        """Joint probabilities, shape (G, G), symmetric, summing to one."""
        g = self.grid_size
        return self.rho * np.eye(g) / g + (1.0 - self.rho) * np.full((g, g), 1.0 / g**2)

    @cached_property
    def conditional(self) -> np.ndarray:
        """``conditional[a, b]`` = P(own level a | other's level b) (columns sum to one)."""
        return self.pmf / self.pmf.sum(axis=0, keepdims=True)

    def describe(self) -> dict[str, float]:
        return {"grid_size": self.grid_size, "rho": self.rho}


def tail(prob: np.ndarray) -> np.ndarray:
    """``tail[a, b]`` = sum over a' >= a of ``prob[a', b]`` (reverse cumulative sum, axis 0)."""
    return np.cumsum(prob[::-1], axis=0)[::-1]


def virtual_values(values: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Discrete virtual values along axis 0 of ``prob`` (one column per conditioning event).

    phi(a) = v_a - (v_{a+1} - v_a) P(A > a) / P(A = a), so that
    sum_a P(A = a) phi(a) 1[a >= t] = v_t P(A >= t) for every threshold t.
    """
    step = np.diff(values, append=values[-1])[:, None]
    above = tail(prob) - prob
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = values[:, None] - step * above / prob
    return np.where(prob > 0, phi, -np.inf)


def ironed_virtual_values(values: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Ironed discrete virtual values along axis 0 (one column per conditioning event).

    The revenue curve R(t) = v_t P(A >= t) is concavified in quantile space;
    the ironed virtual value of a level is the slope of the hull over that
    level's probability mass (so ironed values are non-decreasing in a).
    """
    g, m = prob.shape
    out = np.empty((g, m))
    for col in range(m):
        out[:, col] = _iron_column(values, prob[:, col])
    return out


def _iron_column(values: np.ndarray, p: np.ndarray) -> np.ndarray:
    # Quantile q_t = P(A >= t), from 0 (t = G) up to 1 (t = 0); revenue v_t q_t.
    g = len(values)
    q = np.concatenate([tail(p[:, None])[:, 0], [0.0]])  # q[t], t = 0..G
    rev = np.concatenate([values * q[:g], [0.0]])
    # Points ordered by increasing quantile: t = G, G-1, ..., 0.
    xs, ys = q[::-1], rev[::-1]
    hull = [0]
    for k in range(1, g + 1):
        while len(hull) >= 2:
            i, j = hull[-2], hull[-1]
            # Drop j if it lies on or below the chord from i to k (keeps the upper hull).
            if (ys[j] - ys[i]) * (xs[k] - xs[i]) <= (ys[k] - ys[i]) * (xs[j] - xs[i]):
                hull.pop()
            else:
                break
        hull.append(k)
    slopes = np.full(g + 1, -np.inf)
    for i, j in zip(hull[:-1], hull[1:]):
        dx = xs[j] - xs[i]
        slopes[i + 1 : j + 1] = (ys[j] - ys[i]) / dx if dx > 0 else -np.inf
    # Point k (k >= 1) in increasing-quantile order is threshold t = G - k; its mass is level t.
    phi = slopes[1:][::-1]
    return np.where(p > 0, phi, -np.inf)
