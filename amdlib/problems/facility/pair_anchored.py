"""The pair-anchored family: two dictators' facilities, the others conditioned on where both lie.

Facilities 1 and 2 sit exactly at the reports of the two heaviest agents ``a`` and ``b`` (used
when their weights tie, as with the fixed weights at n = 10: the bins then split the pair's
lower and upper report, ``min(x_a, x_b)`` and ``max(x_a, x_b)``). The other K - 2 facilities
are a composition of generalised medians (:mod:`amdlib.problems.facility.families`) chosen by
the 2-D bin of that pair. Strategy-proof for any constants, for the same reason as the
anchored family: agents a and b are always served at cost 0, so no lie helps them; for any
other agent both anchors are fixed, so the bin is fixed and its facilities are generalised
medians of its report. The bin count per axis is chosen by two-fold cross-validation on the
training profiles, then the member is refitted on all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amdlib.problems.facility.families import Dictator, facility_locations, fit_family

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
    bins: tuple[tuple, ...]


def pair_bin(member: PairAnchored, peaks: np.ndarray) -> np.ndarray:
    """(B,) bin index of each profile."""
    xa, xb = peaks[:, member.a], peaks[:, member.b]
    lo = np.searchsorted(np.asarray(member.lo_edges, dtype=float), np.minimum(xa, xb))
    hi = np.searchsorted(np.asarray(member.hi_edges, dtype=float), np.maximum(xa, xb))
    return lo * (len(member.hi_edges) + 1) + hi


def pair_locations(member: PairAnchored, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B, K) locations of a pair-anchored member (trusted, in-process)."""
    b = pair_bin(member, peaks)
    out = np.zeros((peaks.shape[0], 2 + len(member.bins[0])))
    out[:, 0], out[:, 1] = peaks[:, member.a], peaks[:, member.b]
    for i, spec in enumerate(member.bins):
        m = b == i
        if m.any():
            out[m, 2:] = facility_locations(spec, peaks[m], weights)
    return out


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
    idx = pair_bin(member, peaks)
    specs = []
    for i in range(nb * nb):
        sub = peaks[idx == i] if np.sum(idx == i) >= MIN_BIN_PROFILES else peaks
        specs.append(tuple(fit_family(sub, weights, k, family, fixed=[Dictator(a), Dictator(b)], sweeps=3).spec[2:]))
    return PairAnchored(a, b, member.lo_edges, member.hi_edges, tuple(specs))


def _cost(member: PairAnchored, peaks: np.ndarray, weights: np.ndarray) -> float:
    loc = pair_locations(member, peaks, weights)
    return float((np.min(np.abs(peaks[:, :, None] - loc[:, None, :]), axis=2) @ (weights / weights.sum())).mean())


def fit_pair_anchored(peaks: np.ndarray, weights: np.ndarray, k: int, family: str = "composition") -> tuple[PairAnchored, float, dict[int, float]] | None:
    """The best pair-anchored member (K >= 3, two tied heaviest agents) on the training profiles:
    bins per axis by two-fold cross-validation within them. Returns (member, training cost, CV
    cost per bin count), or None where the family does not apply."""
    anchors = pair_anchors(weights)
    if k < 3 or anchors is None:
        return None
    half = peaks.shape[0] // 2
    folds = ((peaks[:half], peaks[half:]), (peaks[half:], peaks[:half]))
    cv = {nb: float(np.mean([_cost(_fit(tr, weights, k, anchors, nb, family), te, weights) for tr, te in folds]))
          for nb in PAIR_BIN_CHOICES}
    best_nb = min(cv, key=lambda nb: (cv[nb], nb))
    member = _fit(peaks, weights, k, anchors, best_nb, family)
    return member, _cost(member, peaks, weights), cv


def render_pair_anchored(member: PairAnchored) -> str:
    """The mechanism body for either call convention (see families.render_body)."""
    from amdlib.problems.facility.anchored import binned_body
    from amdlib.problems.facility.families import _num

    lo = ", ".join(_num(e) for e in member.lo_edges)
    hi = ", ".join(_num(e) for e in member.hi_edges)
    head = [f"xa, xb = x[:, {member.a}], x[:, {member.b}]",
            f"b = np.searchsorted(np.array([{lo}], dtype=float), np.minimum(xa, xb)) * {len(member.hi_edges) + 1}"
            f" + np.searchsorted(np.array([{hi}], dtype=float), np.maximum(xa, xb))"]
    return binned_body(head, ["xa", "xb"], member.bins)


__all__ = ["PairAnchored", "PAIR_BIN_CHOICES", "pair_anchors", "pair_bin", "pair_locations", "fit_pair_anchored",
           "render_pair_anchored"]
