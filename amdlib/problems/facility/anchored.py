"""The anchored family: a dictator's facility, the others conditioned on where it lies.

Facility 1 sits exactly at agent d's report (d: the heaviest agent). The other K - 1
facilities are a composition of generalised medians (:mod:`amdlib.problems.facility.families`)
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

from amdlib.problems.facility.families import Dictator, Quantile, _num, facility_locations, fit_family

#: Bin counts tried by the cross-validation.
BIN_CHOICES = (1, 2, 4, 6)


@dataclass(frozen=True)
class Anchored:
    """``d``: the dictator; ``edges``: increasing bin edges; ``bins``: the other facilities of each bin."""

    d: int
    edges: tuple[float, ...]
    bins: tuple[tuple, ...]


def anchored_locations(member: Anchored, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B, K) locations of an anchored member (trusted, in-process)."""
    b = np.searchsorted(np.asarray(member.edges, dtype=float), peaks[:, member.d])
    out = np.zeros((peaks.shape[0], 1 + len(member.bins[0])))
    out[:, 0] = peaks[:, member.d]
    for i, spec in enumerate(member.bins):
        m = b == i
        if m.any():
            out[m, 1:] = facility_locations(spec, peaks[m], weights)
    return out


def anchored_mechanism(member: Anchored):
    """The member as a trusted mechanism ``fn(peaks, weights, K)``."""
    return lambda peaks, weights, k: anchored_locations(member, np.asarray(peaks, dtype=float), np.asarray(weights, dtype=float))


def _fit_bins(peaks: np.ndarray, weights: np.ndarray, k: int, d: int, nbins: int, family: str = "composition") -> Anchored:
    edges = tuple(round(float(e), 6) for e in np.quantile(peaks[:, d], np.linspace(0, 1, nbins + 1)[1:-1]))
    b = np.searchsorted(np.asarray(edges), peaks[:, d])
    specs = []
    for i in range(nbins):
        sub = peaks[b == i] if np.any(b == i) else peaks
        member = fit_family(sub, weights, k, family, fixed=[Dictator(d)], sweeps=3)
        specs.append(tuple(member.spec[1:]))
    return Anchored(d, edges, tuple(specs))


def _cost(member: Anchored, peaks: np.ndarray, weights: np.ndarray) -> float:
    loc = anchored_locations(member, peaks, weights)
    return float((np.min(np.abs(peaks[:, :, None] - loc[:, None, :]), axis=2) @ (weights / weights.sum())).mean())


def fit_anchored(peaks: np.ndarray, weights: np.ndarray, k: int, family: str = "composition") -> tuple[Anchored, float, dict[int, float]]:
    """The best anchored member (K >= 2) on the training profiles: bins chosen by two-fold
    cross-validation within them, each bin's facilities from ``family`` (``"scale_free"``: no
    phantoms). Returns (member, training cost, CV cost per bin count)."""
    d = int(np.argmax(weights))
    half = peaks.shape[0] // 2
    folds = ((peaks[:half], peaks[half:]), (peaks[half:], peaks[:half]))
    cv = {nb: float(np.mean([_cost(_fit_bins(a, weights, k, d, nb, family), b, weights) for a, b in folds])) for nb in BIN_CHOICES}
    best_nb = min(cv, key=lambda nb: (cv[nb], nb))
    member = _fit_bins(peaks, weights, k, d, best_nb, family)
    return member, _cost(member, peaks, weights), cv


def render_anchored(member: Anchored) -> str:
    """The mechanism body for either call convention (see families.render_body)."""
    edges = ", ".join(_num(e) for e in member.edges)
    return binned_body([f"xd = x[:, {member.d}]", f"b = np.searchsorted(np.array([{edges}]), xd)"], ["xd"], member.bins)


def binned_body(head: list[str], fixed: list[str], bins: tuple[tuple, ...]) -> str:
    """A binned member's body (anchored and pair-anchored): ``head`` sets ``b`` (each row's bin)
    and the ``fixed`` facility expressions, which fill the first columns of ``out``; each bin's
    facilities fill the rest."""
    lines = ["x = peaks.reshape(-1, peaks.shape[-1])", *head,
             f"out = np.zeros((x.shape[0], {len(fixed) + len(bins[0])}))",
             ", ".join(f"out[:, {i}]" for i in range(len(fixed))) + " = " + ", ".join(fixed),
             *_bin_loop_lines(bins, len(fixed)),
             "return out.reshape(peaks.shape[:-1] + (out.shape[1],))"]
    return "\n    ".join(lines)


def _bin_loop_lines(bins: tuple[tuple, ...], offset: int) -> list[str]:
    """Code lines filling ``out[m, offset:]`` with each bin's facilities, given ``x``, ``b`` (the
    bin of each row) and ``out``."""
    rows = []
    for i, spec in enumerate(bins):
        quant = ", ".join(f"({_num(f.g)}, {_num(f.q)}, {_num(f.lo)}, {_num(f.hi)})" for f in spec if isinstance(f, Quantile))
        dicts = ", ".join(f"({int(f.d)}, {_num(f.lo)}, {_num(f.hi)})" for f in spec if isinstance(f, Dictator))
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


__all__ = ["Anchored", "anchored_locations", "anchored_mechanism", "fit_anchored", "render_anchored", "BIN_CHOICES",
           "fit_members", "member_mechanism", "member_body", "binned_body"]


def fit_members(peaks: np.ndarray, weights: np.ndarray, k: int, scale_free: bool = False) -> dict:
    """Every family's best member on the training profiles (families.fit_all), plus the anchored
    one for K >= 2 and the pair-anchored one where it applies (K >= 3, two tied heaviest agents;
    not with ``scale_free``), as ``{family: FittedMember}`` (an anchored member's ``spec`` is an
    Anchored, a pair-anchored one's a PairAnchored).

    ``scale_free``: only members without fitted phantoms (no fitted point of the peak scale inside
    a facility; the anchored bins still split the anchor's report), for rules that must transfer to
    other peak distributions: phantoms fitted where uniform peaks fall clip every facility once
    the peaks pile up near 0 or 1. The midpoint member (one fixed point at 1/2 among the reports,
    ``facility.midpoint``) joins them."""
    from amdlib.problems.facility.families import SCALE_FREE, FittedMember, fit_all, fit_family

    if scale_free:
        out = {f: m for f, m in fit_all(peaks, weights, k).items() if f not in ("phantom", "composition")}
        tries = [fit_family(peaks, weights, k, SCALE_FREE)] + [fit_family(peaks, weights, k, SCALE_FREE, start=m.spec) for m in out.values()]
        out[SCALE_FREE] = min(tries, key=lambda m: m.train_cost)
    else:
        out = dict(fit_all(peaks, weights, k))
    if k >= 2:
        member, cost, _ = fit_anchored(peaks, weights, k, SCALE_FREE if scale_free else "composition")
        out["anchored"] = FittedMember("anchored", member, cost)
    if scale_free:  # one fixed point in the middle of the peak space (facility.midpoint)
        from amdlib.problems.facility.midpoint import fit_midpoint

        mid = fit_midpoint(peaks, weights, k)
        if mid is not None:
            out["midpoint"] = mid
    if not scale_free:  # kept out of the transfer runs: their seeds stay as they were
        from amdlib.problems.facility.pair_anchored import fit_pair_anchored

        pair = fit_pair_anchored(peaks, weights, k)
        if pair is not None:
            out["pair_anchored"] = FittedMember("pair_anchored", pair[0], pair[1])
    return out


def member_mechanism(spec):
    """A fitted member (a facility tuple or an Anchored) as a trusted mechanism."""
    from amdlib.problems.facility.families import mechanism_of
    from amdlib.problems.facility.pair_anchored import PairAnchored, pair_locations

    from amdlib.problems.facility.midpoint import Midpoint, midpoint_locations

    if isinstance(spec, Midpoint):
        return lambda peaks, weights, k: midpoint_locations(spec, np.asarray(peaks, dtype=float))
    if isinstance(spec, PairAnchored):
        return lambda peaks, weights, k: pair_locations(spec, np.asarray(peaks, dtype=float), np.asarray(weights, dtype=float))
    return anchored_mechanism(spec) if isinstance(spec, Anchored) else mechanism_of(spec)


def member_body(spec) -> str:
    """A fitted member's mechanism body (code)."""
    from amdlib.problems.facility.families import render_body
    from amdlib.problems.facility.pair_anchored import PairAnchored, render_pair_anchored

    from amdlib.problems.facility.midpoint import Midpoint, render_midpoint

    if isinstance(spec, Midpoint):
        return render_midpoint(spec)
    if isinstance(spec, PairAnchored):
        return render_pair_anchored(spec)
    return render_anchored(spec) if isinstance(spec, Anchored) else render_body(spec)
