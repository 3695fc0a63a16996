"""Strategy-proof families for K facilities, fitted on training profiles, rendered as code.

Every facility of a member is a *generalised median* of the reports with public weights:

- ``Quantile(g, q, lo, hi)``: the lower weighted ``q``-quantile of the reports with weights
  ``w ** g``, clipped to the phantom peaks ``[lo, hi]``. ``g = 0`` gives order statistics
  (the percentile rule), ``g = 1`` the weighted quantile, which is the paper's
  weight-replicated percentile rule (an agent of integer weight w counted w times,
  Figure S8); large ``g`` hands the facility to the heaviest agents, negative ``g``
  leaves them out. Clipping is Moulin's generalised median with two phantoms.
- ``Dictator(d, lo, hi)``: agent ``d``'s report, clipped to ``[lo, hi]``.

A report can move such a facility only away from the reporter's true peak (it does not
move while the report stays on the same side, and moves outward when the report crosses
it), so no lie brings any facility closer: every K-tuple of them (every *composition*) is
strategy-proof whatever its constants. The tests audit each family on a dense grid.

Families (what :func:`fit_family` may use): ``percentile`` (g = 0, no phantoms),
``weight_replicated`` (g = 1, no phantoms), ``weighted_quantile`` (several g), ``phantom``
(g = 0 or 1 with phantoms), ``dictator_hybrid`` (dictators and quantiles) and
``composition`` (all blocks, phantoms included), fitted by coordinate descent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np

#: Exponents on the weights tried by the fit (leave heavy agents out ... hand them the facility).
EXPONENTS = (-4.0, 0.0, 1.0, 2.0, 4.0)
#: Phantom grid of the fit.
PHANTOMS = np.linspace(0.0, 1.0, 41)
FAMILIES = ("percentile", "weight_replicated", "weighted_quantile", "phantom", "dictator_hybrid", "composition")
#: The composition without phantoms: weighted quantiles (every exponent) and dictators only, so no
#: fixed point of the peak scale enters the rule (used where rules must transfer to other
#: distributions; not in ``fit_all``'s list, so Experiment 4's seed is unchanged).
SCALE_FREE = "scale_free"
#: Families whose blocks include dictators.
_DICTATOR_FAMILIES = ("dictator_hybrid", "composition", SCALE_FREE)
#: Most candidate quantile levels per exponent (midpoints between attainable weight fractions).
MAX_LEVELS = 120


@dataclass(frozen=True)
class Quantile:
    g: float
    q: float
    lo: float = 0.0
    hi: float = 1.0


@dataclass(frozen=True)
class Dictator:
    d: int
    lo: float = 0.0
    hi: float = 1.0


Facility = Union[Quantile, Dictator]


def weighted_quantile(peaks: np.ndarray, w: np.ndarray, q: float) -> np.ndarray:
    """Lower weighted q-quantile of each row: the smallest report whose cumulative weight reaches q * sum(w)."""
    order = np.argsort(peaks, axis=1)
    c = np.cumsum(w[order], axis=1)
    j = np.minimum(np.sum(c < q * np.sum(w), axis=1), peaks.shape[1] - 1)
    return np.take_along_axis(peaks, order, axis=1)[np.arange(peaks.shape[0]), j]


def facility_locations(spec: Sequence[Facility], peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B, K) locations of a member on (B, n) reports (trusted, in-process)."""
    cols = []
    for f in spec:
        raw = weighted_quantile(peaks, weights ** f.g, f.q) if isinstance(f, Quantile) else peaks[:, f.d]
        cols.append(np.clip(raw, f.lo, f.hi))
    return np.stack(cols, axis=1)


def mechanism_of(spec: Sequence[Facility]):
    """A member as a trusted mechanism ``fn(peaks, weights, K)`` (baselines, audits)."""
    return lambda peaks, weights, k: facility_locations(spec, np.asarray(peaks, dtype=float), np.asarray(weights, dtype=float))


def _num(v: float) -> str:
    return repr(float(f"{float(v):.6g}"))


def render_body(spec: Sequence[Facility]) -> str:
    """The mechanism body (4-space indented after the first line) for either call convention."""
    quant = [f for f in spec if isinstance(f, Quantile)]
    dicts = [f for f in spec if isinstance(f, Dictator)]
    lines = ["x = peaks.reshape(-1, peaks.shape[-1])", "cols = []"]
    if quant:
        table = ", ".join(f"({_num(f.g)}, {_num(f.q)}, {_num(f.lo)}, {_num(f.hi)})" for f in quant)
        lines += ["order = np.argsort(x, axis=1)", "s = np.take_along_axis(x, order, axis=1)",
                  f"for g, q, lo, hi in ({table},):",
                  "    c = np.cumsum((weights ** g)[order], axis=1)",
                  "    j = np.minimum(np.sum(c < q * np.sum(weights ** g), axis=1), x.shape[1] - 1)",
                  "    cols.append(np.clip(s[np.arange(x.shape[0]), j], lo, hi))"]
    if dicts:
        table = ", ".join(f"({int(f.d)}, {_num(f.lo)}, {_num(f.hi)})" for f in dicts)
        lines += [f"for d, lo, hi in ({table},):", "    cols.append(np.clip(x[:, d], lo, hi))"]
    lines.append("return np.stack(cols, axis=1).reshape(peaks.shape[:-1] + (len(cols),))")
    return "\n    ".join(lines)


# ----------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class FittedMember:
    family: str
    spec: tuple
    train_cost: float


def _levels(peaks: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Quantile levels between consecutive attainable cumulative weight fractions (mid-gap, so
    float rounding never decides a comparison)."""
    c = np.cumsum(w[np.argsort(peaks, axis=1)], axis=1) / np.sum(w)
    fr = np.unique(np.round(np.concatenate([[0.0], c.ravel()]), 9))
    mids = (fr[:-1] + fr[1:]) / 2
    if mids.size > MAX_LEVELS:
        mids = mids[np.linspace(0, mids.size - 1, MAX_LEVELS).round().astype(int)]
    return mids


def _quantile_columns(peaks: np.ndarray, w: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """(B, Q) lower weighted quantiles of each row at every level of ``qs`` (one sort for all levels)."""
    order = np.argsort(peaks, axis=1)
    c = np.cumsum(w[order], axis=1)
    j = np.minimum(np.sum(c[:, :, None] < qs[None, None, :] * np.sum(w), axis=1), peaks.shape[1] - 1)
    return np.take_along_axis(np.take_along_axis(peaks, order, axis=1), j, axis=1)


def _blocks(peaks: np.ndarray, weights: np.ndarray, family: str) -> tuple[list[Facility], np.ndarray]:
    """The unclipped candidate facilities of a family and their (B, C) columns (duplicates dropped)."""
    gs = {"percentile": (0.0,), "weight_replicated": (1.0,), "phantom": (0.0, 1.0), "dictator_hybrid": (0.0, 1.0)}.get(family, EXPONENTS)
    blocks: list[Facility] = []
    cols: list[np.ndarray] = []
    seen: set[bytes] = set()
    for g in gs:
        w = weights ** g
        qs = _levels(peaks, w)
        for q, col in zip(qs, _quantile_columns(peaks, w, qs).T):
            key = col.tobytes()
            if key not in seen:
                seen.add(key)
                blocks.append(Quantile(float(g), round(float(q), 6)))
                cols.append(col)
    if family in _DICTATOR_FAMILIES:
        for d in range(peaks.shape[1]):
            col = peaks[:, d].copy()
            if col.tobytes() not in seen:
                seen.add(col.tobytes())
                blocks.append(Dictator(d))
                cols.append(col)
    return blocks, np.stack(cols, axis=1)


def _cost(peaks: np.ndarray, wn: np.ndarray, loc: np.ndarray) -> float:
    return float((np.min(np.abs(peaks[:, :, None] - loc[:, None, :]), axis=2) @ wn).mean())


def _clip(f: Facility, lo: float, hi: float) -> Facility:
    return Quantile(f.g, f.q, lo, hi) if isinstance(f, Quantile) else Dictator(f.d, lo, hi)


def fit_family(peaks: np.ndarray, weights: np.ndarray, k: int, family: str, start: Sequence[Facility] | None = None,
               sweeps: int = 4, fixed: Sequence[Facility] = ()) -> FittedMember:
    """Best member of ``family`` on the training ``peaks`` by coordinate descent over the K
    facilities (each: the best candidate block given the others, then its phantoms). ``fixed``
    facilities come first in the spec, count in K and are never changed."""
    if family not in FAMILIES + (SCALE_FREE,):
        raise ValueError(f"unknown family {family!r}")
    wn = weights / weights.sum()
    blocks, cols = _blocks(peaks, weights, family)
    phantoms = family in ("phantom", "composition")
    spec = list(fixed) + (list(start) if start else [])
    while len(spec) < k:  # greedy start: add the block that helps most
        d_now = _distances(spec, peaks, weights)
        spec.append(blocks[int(np.argmin(_column_costs(d_now, peaks, cols, wn)))])
    best = _cost(peaks, wn, facility_locations(spec, peaks, weights))
    for _ in range(sweeps):
        improved = False
        for i in range(len(fixed), k):
            d_oth = _distances([f for j, f in enumerate(spec) if j != i], peaks, weights)
            c = int(np.argmin(_column_costs(d_oth, peaks, cols, wn)))
            f, raw = blocks[c], cols[:, c]
            if phantoms:
                f = _tune_phantoms(f, raw, peaks, wn, d_oth)
            spec_new = spec[:i] + [f] + spec[i + 1:]
            cost = _cost(peaks, wn, facility_locations(spec_new, peaks, weights))
            if cost < best - 1e-12:
                spec, best, improved = spec_new, cost, True
        if not improved:
            break
    return FittedMember(family, tuple(spec), best)


def _distances(spec: Sequence[Facility], peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B, n) distance of every peak to the nearest facility of ``spec`` (inf when it is empty)."""
    if not spec:
        return np.full(peaks.shape, np.inf)
    return np.min(np.abs(peaks[:, :, None] - facility_locations(spec, peaks, weights)[:, None, :]), axis=2)


#: Candidate columns scored at once: a (B, n, 16) float32 block stays in cache, which makes the
#: scoring (the fit's hot loop) several times faster than one big float64 temporary.
COLUMN_BLOCK = 16


def _column_costs(d_oth: np.ndarray, peaks: np.ndarray, cols: np.ndarray, wn: np.ndarray) -> np.ndarray:
    """(C,) mean weighted cost when one facility sits at each candidate column and the others
    leave distances ``d_oth`` (B, n). Float32 screening: the fit re-scores its choice in float64."""
    p, d = peaks.astype(np.float32)[:, :, None], d_oth.astype(np.float32)[:, :, None]
    c32, w32 = cols.astype(np.float32), wn.astype(np.float32)
    out = np.empty(cols.shape[1])
    buf = np.empty((peaks.shape[0], peaks.shape[1], COLUMN_BLOCK), dtype=np.float32)
    for s in range(0, cols.shape[1], COLUMN_BLOCK):
        block = c32[:, None, s:s + COLUMN_BLOCK]
        b = buf[:, :, :block.shape[2]]
        np.subtract(p, block, out=b)
        np.abs(b, out=b)
        np.minimum(b, d, out=b)
        out[s:s + block.shape[2]] = np.matmul(w32, b).sum(axis=0) / peaks.shape[0]
    return out


def _tune_phantoms(f: Facility, raw: np.ndarray, peaks: np.ndarray, wn: np.ndarray, d_oth: np.ndarray) -> Facility:
    """Phantoms [lo, hi] of one facility on the grid, given the other facilities' distances
    (every grid point scored at once)."""
    lo, hi = 0.0, 1.0
    for _ in range(2):
        cand = np.clip(raw[:, None], PHANTOMS[None, :], np.maximum(PHANTOMS, hi)[None, :])  # (B, G): lo = each grid point
        lo = float(PHANTOMS[int(np.argmin(_column_costs(d_oth, peaks, cand, wn)))])
        cand = np.clip(raw[:, None], np.minimum(lo, PHANTOMS)[None, :], PHANTOMS[None, :])
        hi = float(PHANTOMS[int(np.argmin(_column_costs(d_oth, peaks, cand, wn)))])
        lo = min(lo, hi)
    return _clip(f, lo, hi)


def fit_all(peaks: np.ndarray, weights: np.ndarray, k: int) -> dict[str, FittedMember]:
    """The best member of every family on training profiles. Coordinate descent has local
    optima, so each family also restarts from the best members found before it (when they
    belong to it); ``composition`` restarts from every other family's best, so it is never
    worse than any of them on the training profiles."""
    out: dict[str, FittedMember] = {}
    for fam in FAMILIES:
        tries = [fit_family(peaks, weights, k, fam)]
        for prev in out.values():
            if fam == "composition" or _belongs(prev.spec, fam):
                tries.append(fit_family(peaks, weights, k, fam, start=prev.spec))
        out[fam] = min(tries, key=lambda m: m.train_cost)
    return out


def _belongs(spec: Sequence[Facility], family: str) -> bool:
    """Whether every facility of ``spec`` is a block the family may use."""
    gs = {"percentile": (0.0,), "weight_replicated": (1.0,), "phantom": (0.0, 1.0), "dictator_hybrid": (0.0, 1.0)}.get(family, EXPONENTS)
    for f in spec:
        if isinstance(f, Dictator) and family not in _DICTATOR_FAMILIES:
            return False
        if isinstance(f, Quantile) and f.g not in gs:
            return False
        if (f.lo, f.hi) != (0.0, 1.0) and family not in ("phantom", "composition"):
            return False
    return True


__all__ = ["Quantile", "Dictator", "FAMILIES", "SCALE_FREE", "weighted_quantile", "facility_locations", "mechanism_of", "render_body",
           "FittedMember", "fit_family", "fit_all"]
