"""The pair-anchored family: two dictators' facilities, the others conditioned on where both lie.

Facilities 1 and 2 sit exactly at the reports of the two heaviest agents ``a`` and ``b`` (used
when their weights tie, as with the fixed weights at n = 10: the bins then split the pair's
lower and upper report, ``min(x_a, x_b)`` and ``max(x_a, x_b)``). The other K - 2 facilities
are a composition of generalised medians (:mod:`amdlib.problems.facility.sp.quantile`) chosen by
the 2-D bin of that pair. Strategy-proof for any constants, for the same reason as the
anchored family: agents a and b are always served at cost 0, so no lie helps them; for any
other agent both anchors are fixed, so the bin is fixed and its facilities are generalised
medians of its report. The bin count per axis is chosen by two-fold cross-validation on the
training profiles, then the member is refitted on all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amdlib.problems.facility.sp.binned import Bins, binned_body, binned_locations, choose_bins
from amdlib.problems.facility.sp.member import num
from amdlib.problems.facility.sp.quantile import Dictator, fit_family

#: Bins per axis tried by the cross-validation (nb * nb bins in all).
PAIR_BIN_CHOICES = (1, 2, 3, 4)
#: A bin with fewer training profiles than this is fitted on all of them (too few to fit alone).
MIN_BIN_PROFILES = 20


@dataclass(frozen=True)
class PairAnchored:
    """``a``, ``b``: the anchors; ``lo_edges`` / ``hi_edges``: bin edges of min / max of their
    reports; ``bins``: the other facilities of each bin, row-major (lo bin, hi bin)."""

    a: int
    b: int
    lo_edges: tuple[float, ...]
    hi_edges: tuple[float, ...]
    bins: Bins

    def bin(self, peaks: np.ndarray) -> np.ndarray:
        """(B,) bin index of each profile."""
        xa, xb = peaks[:, self.a], peaks[:, self.b]
        lo = np.searchsorted(np.asarray(self.lo_edges, dtype=float), np.minimum(xa, xb))
        hi = np.searchsorted(np.asarray(self.hi_edges, dtype=float), np.maximum(xa, xb))
        return lo * (len(self.hi_edges) + 1) + hi

    def locations(self, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return binned_locations(self.bin(peaks), [peaks[:, self.a], peaks[:, self.b]], self.bins, peaks, weights)

    def body(self) -> str:
        lo = ", ".join(num(e) for e in self.lo_edges)
        hi = ", ".join(num(e) for e in self.hi_edges)
        head = [f"xa, xb = x[:, {self.a}], x[:, {self.b}]",
                f"b = np.searchsorted(np.array([{lo}], dtype=float), np.minimum(xa, xb)) * {len(self.hi_edges) + 1}"
                f" + np.searchsorted(np.array([{hi}], dtype=float), np.maximum(xa, xb))"]
        return binned_body(head, ["xa", "xb"], self.bins)

    def describe(self) -> list[str]:
        return [repr(self)]


def pair_anchors(weights: np.ndarray) -> tuple[int, int] | None:
    """The two heaviest agents when their weights tie at the top (else None: no symmetric pair)."""
    order = np.argsort(-np.asarray(weights, dtype=float), kind="stable")
    if len(order) < 3 or weights[order[0]] != weights[order[1]]:
        return None
    return int(order[0]), int(order[1])


def _fit(peaks: np.ndarray, weights: np.ndarray, k: int, anchors: tuple[int, int], nb: int, family: str) -> PairAnchored:
    a, b = anchors
    lo, hi = np.minimum(peaks[:, a], peaks[:, b]), np.maximum(peaks[:, a], peaks[:, b])
    cut = np.linspace(0, 1, nb + 1)[1:-1]
    member = PairAnchored(a, b, tuple(round(float(e), 6) for e in np.quantile(lo, cut)),
                          tuple(round(float(e), 6) for e in np.quantile(hi, cut)), ((),) * (nb * nb))
    idx = member.bin(peaks)
    specs = []
    for i in range(nb * nb):
        sub = peaks[idx == i] if np.sum(idx == i) >= MIN_BIN_PROFILES else peaks
        specs.append(tuple(fit_family(sub, weights, k, family, fixed=[Dictator(a), Dictator(b)], sweeps=3).spec.facilities[2:]))
    return PairAnchored(a, b, member.lo_edges, member.hi_edges, tuple(specs))


def fit_pair_anchored(peaks: np.ndarray, weights: np.ndarray, k: int, family: str = "composition") -> tuple[PairAnchored, float, dict[int, float]] | None:
    """The best pair-anchored member (K >= 3, two tied heaviest agents) on the training profiles:
    bins per axis by two-fold cross-validation within them. Returns (member, training cost, CV
    cost per bin count), or None where the family does not apply."""
    anchors = pair_anchors(weights)
    if k < 3 or anchors is None:
        return None
    return choose_bins(lambda tr, nb: _fit(tr, weights, k, anchors, nb, family), peaks, weights, PAIR_BIN_CHOICES)


__all__ = ["PairAnchored", "PAIR_BIN_CHOICES", "pair_anchors", "fit_pair_anchored"]
