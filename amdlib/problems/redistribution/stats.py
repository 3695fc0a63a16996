"""Standard errors of expected-fraction estimates (ratio of means), alone and paired."""

from __future__ import annotations

import numpy as np


def ratio_se(total: np.ndarray, revenue: np.ndarray) -> float:
    """Delta-method standard error of ``mean(total) / mean(revenue)`` over i.i.d. profiles."""
    total, revenue = np.asarray(total, float), np.asarray(revenue, float)
    fraction = total.mean() / revenue.mean()
    resid = total - fraction * revenue
    return float(resid.std(ddof=1) / np.sqrt(total.size) / revenue.mean())


def paired_difference(total_a: np.ndarray, total_b: np.ndarray, revenue: np.ndarray) -> tuple[float, float]:
    """Difference of two mechanisms' fractions on the same profiles and its standard error.

    Both fractions share the denominator, so the difference is
    ``mean(a - b) / mean(revenue)``; its delta-method SE uses the per-profile
    differences, which removes the profile-to-profile noise the two share.
    """
    diff = np.asarray(total_a, float) - np.asarray(total_b, float)
    return float(diff.mean() / np.mean(revenue)), ratio_se(diff, revenue)
