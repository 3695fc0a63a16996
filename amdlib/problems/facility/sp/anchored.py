"""The anchored family: a dictator's facility, the others conditioned on where it lies.

Facility 1 sits exactly at agent d's report (d: the heaviest agent). The other K - 1
facilities are a composition of generalised medians (:mod:`amdlib.problems.facility.sp.quantile`)
whose blocks are chosen by the bin of ``x_d`` (bin edges on [0, 1]). Strategy-proof for any
constants: agent d is always served at cost 0, so no lie helps it; for every other agent,
``x_d`` is fixed, so the bin is fixed and its facilities are generalised medians of its report.
(A clipped dictator would break this: agent d could then gain by moving the other facilities.)

The number of bins is chosen by two-fold cross-validation on the training profiles, then
the member is refitted on all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amdlib.problems.facility.sp.binned import Bins, binned_body, binned_locations, choose_bins
from amdlib.problems.facility.sp.member import num
from amdlib.problems.facility.sp.quantile import Dictator, fit_family

#: Bin counts tried by the cross-validation.
BIN_CHOICES = (1, 2, 4, 6)


@dataclass(frozen=True)
class Anchored:
    """``d``: the dictator; ``edges``: increasing bin edges; ``bins``: the other facilities of each bin."""

    d: int
    edges: tuple[float, ...]
    bins: Bins

    def locations(self, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        b = np.searchsorted(np.asarray(self.edges, dtype=float), peaks[:, self.d])
        return binned_locations(b, [peaks[:, self.d]], self.bins, peaks, weights)

    def body(self) -> str:
        edges = ", ".join(num(e) for e in self.edges)
        return binned_body([f"xd = x[:, {self.d}]", f"b = np.searchsorted(np.array([{edges}]), xd)"], ["xd"], self.bins)

    def describe(self) -> list[str]:
        return [repr(self)]


def _fit_bins(peaks: np.ndarray, weights: np.ndarray, k: int, d: int, nbins: int, family: str = "composition") -> Anchored:
    edges = tuple(round(float(e), 6) for e in np.quantile(peaks[:, d], np.linspace(0, 1, nbins + 1)[1:-1]))
    b = np.searchsorted(np.asarray(edges), peaks[:, d])
    specs = []
    for i in range(nbins):
        sub = peaks[b == i] if np.any(b == i) else peaks
        member = fit_family(sub, weights, k, family, fixed=[Dictator(d)], sweeps=3)
        specs.append(tuple(member.spec.facilities[1:]))
    return Anchored(d, edges, tuple(specs))


def fit_anchored(peaks: np.ndarray, weights: np.ndarray, k: int, family: str = "composition") -> tuple[Anchored, float, dict[int, float]]:
    """The best anchored member (K >= 2) on the training profiles: bins chosen by two-fold
    cross-validation within them, each bin's facilities from ``family`` (``"scale_free"``: no
    phantoms). Returns (member, training cost, CV cost per bin count)."""
    d = int(np.argmax(weights))
    return choose_bins(lambda tr, nb: _fit_bins(tr, weights, k, d, nb, family), peaks, weights, BIN_CHOICES)


__all__ = ["Anchored", "BIN_CHOICES", "fit_anchored"]
