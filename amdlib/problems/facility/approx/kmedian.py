"""The exact weighted k-median of the reports as a member: the non-strategy-proof optimum.

Trusted locations come from :func:`amdlib.problems.facility.baselines.nonsp_optimum` (the one
k-median of the library); the rendered code is a line-by-line transcription of it (same operations
in the same order, so the same floats; the tests compare them on dense-audit rows). Used as a
member where its own regret fits under epsilon, and as the alternative of the switch family.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amdlib.problems.facility.baselines import nonsp_optimum

#: ``def kmedian(x)``: (B, K) optimal locations of the rows of ``x`` (B, n) with the public
#: ``weights`` and ``K`` of the enclosing mechanism (a DP over sorted reports; each facility at
#: its cluster's lower weighted median).
_KMEDIAN_LINES = (
    "def kmedian(x):",
    "    b, n = x.shape",
    "    order = np.argsort(x, axis=1)",
    "    s = np.take_along_axis(x, order, axis=1)",
    "    ww = np.broadcast_to(weights, (b, n))[np.arange(b)[:, None], order]",
    "    cw = np.concatenate([np.zeros((b, 1)), np.cumsum(ww, 1)], 1)",
    "    cwx = np.concatenate([np.zeros((b, 1)), np.cumsum(ww * s, 1)], 1)",
    "    rows = np.arange(b)",
    "    cost = np.full((n + 1, n + 1, b), np.inf)",
    "    med = np.zeros((n + 1, n + 1, b))",
    "    for a in range(n):",
    "        for e in range(a + 1, n + 1):",
    "            half = cw[:, a] + 0.5 * (cw[:, e] - cw[:, a])",
    "            m = a + np.minimum(np.sum(cw[:, a + 1:e + 1] < half[:, None] - 1e-12, axis=1), e - a - 1)",
    "            xm = s[rows, m]",
    "            left = xm * (cw[rows, m + 1] - cw[:, a]) - (cwx[rows, m + 1] - cwx[:, a])",
    "            right = (cwx[:, e] - cwx[rows, m + 1]) - xm * (cw[:, e] - cw[rows, m + 1])",
    "            cost[a, e], med[a, e] = left + right, xm",
    "    kk = min(K, n)",
    "    best = np.full((kk + 1, n + 1, b), np.inf)",
    "    arg = np.zeros((kk + 1, n + 1, b), dtype=int)",
    "    best[0, 0] = 0.0",
    "    for f in range(1, kk + 1):",
    "        for e in range(f, n + 1):",
    "            cand = best[f - 1, :e] + cost[:e, e]",
    "            arg[f, e] = np.argmin(cand, axis=0)",
    "            best[f, e] = cand[arg[f, e], rows]",
    "    loc = np.zeros((b, K))",
    "    end = np.full(b, n)",
    "    for f in range(kk, 0, -1):",
    "        start = arg[f, end, rows]",
    "        loc[:, f - 1] = med[start, end, rows]",
    "        end = start",
    "    loc[:, kk:] = loc[:, kk - 1:kk]",
    "    return loc",
)


def kmedian_lines() -> list[str]:
    """The lines of ``def kmedian(x)`` (relative indentation), for a member body."""
    return list(_KMEDIAN_LINES)


@dataclass(frozen=True)
class KMedian:
    """Facilities at the exact weighted k-median of the reports (``k`` facilities)."""

    k: int

    def locations(self, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return nonsp_optimum(np.asarray(peaks, dtype=float), np.asarray(weights, dtype=float), self.k)

    def body(self) -> str:
        lines = [*_KMEDIAN_LINES, "x = peaks.reshape(-1, peaks.shape[-1])", "loc = kmedian(x)",
                 "return loc.reshape(peaks.shape[:-1] + (loc.shape[1],))"]
        return "\n    ".join(lines)

    def describe(self) -> list[str]:
        return [f"exact weighted {self.k}-median of the reports (not strategy-proof)"]


__all__ = ["KMedian", "kmedian_lines"]
