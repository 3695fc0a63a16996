"""What the binned families (anchored, pair-anchored) share: facilities at some agents' own
reports, the others a composition chosen by the bin those reports fall in.

A binned member fills the first columns with its anchors' reports and the rest, row by row,
with its bin's facilities (:func:`binned_locations`); its code does the same
(:func:`binned_body`). The number of bins is chosen by two-fold cross-validation on the training
profiles, then the member is refitted on all of them (:func:`choose_bins`).
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

import numpy as np

from amdlib.problems.facility.sp.member import Member, mean_cost
from amdlib.problems.facility.sp.quantile import Facility, block_tables, facility_locations

Bins = tuple[tuple[Facility, ...], ...]
M = TypeVar("M", bound=Member)


def binned_locations(b: np.ndarray, anchors: Sequence[np.ndarray], bins: Bins, peaks: np.ndarray,
                     weights: np.ndarray) -> np.ndarray:
    """(B, K) locations: the ``anchors`` columns first, then each row's bin ``b`` facilities."""
    out = np.zeros((peaks.shape[0], len(anchors) + len(bins[0])))
    for i, col in enumerate(anchors):
        out[:, i] = col
    for i, spec in enumerate(bins):
        m = b == i
        if m.any():
            out[m, len(anchors):] = facility_locations(spec, peaks[m], weights)
    return out


def binned_body(head: list[str], fixed: list[str], bins: Bins) -> str:
    """A binned member's body: ``head`` sets ``b`` (each row's bin) and the ``fixed`` facility
    expressions, which fill the first columns of ``out``; each bin's facilities fill the rest."""
    lines = ["x = peaks.reshape(-1, peaks.shape[-1])", *head,
             f"out = np.zeros((x.shape[0], {len(fixed) + len(bins[0])}))",
             ", ".join(f"out[:, {i}]" for i in range(len(fixed))) + " = " + ", ".join(fixed),
             *_bin_loop_lines(bins, len(fixed)),
             "return out.reshape(peaks.shape[:-1] + (out.shape[1],))"]
    return "\n    ".join(lines)


def _bin_loop_lines(bins: Bins, offset: int) -> list[str]:
    """Code lines filling ``out[m, offset:]`` with each bin's facilities, given ``x``, ``b`` (the
    bin of each row) and ``out``."""
    rows = []
    for i, spec in enumerate(bins):
        quant, dicts = block_tables(spec)
        rows.append(f"({i}, ({quant + ',' if quant else ''}), ({dicts + ',' if dicts else ''}))")
    return [
        "order = np.argsort(x, axis=1)",
        "s = np.take_along_axis(x, order, axis=1)",
        f"for i, quants, dicts in ({', '.join(rows)},):",
        "    m = b == i",
        "    xm, om, sm = x[m], order[m], s[m]",
        "    cols = []",
        "    for g, q, lo, hi in quants:",
        "        c = np.cumsum((weights ** g)[om], axis=1)",
        "        j = np.minimum(np.sum(c < q * np.sum(weights ** g), axis=1), x.shape[1] - 1)",
        "        cols.append(np.clip(sm[np.arange(xm.shape[0]), j], lo, hi))",
        "    for d, lo, hi in dicts:",
        "        cols.append(np.clip(xm[:, d], lo, hi))",
        f"    out[m, {offset}:] = np.stack(cols, axis=1)",
    ]


def choose_bins(fit: Callable[[np.ndarray, int], M], peaks: np.ndarray, weights: np.ndarray,
                choices: Sequence[int]) -> tuple[M, float, dict[int, float]]:
    """``fit(training peaks, bins)`` for each bin count of ``choices``, scored by two-fold
    cross-validation within ``peaks``; the best count (ties: the fewest bins) refitted on all of
    them. Returns (member, training cost, CV cost per bin count)."""
    half = peaks.shape[0] // 2
    folds = ((peaks[:half], peaks[half:]), (peaks[half:], peaks[:half]))
    cv = {nb: float(np.mean([mean_cost(fit(tr, nb), te, weights) for tr, te in folds])) for nb in choices}
    best_nb = min(cv, key=lambda nb: (cv[nb], nb))
    member = fit(peaks, best_nb)
    return member, mean_cost(member, peaks, weights), cv


__all__ = ["Bins", "binned_locations", "binned_body", "choose_bins"]
