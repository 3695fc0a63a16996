"""Generalised medians with public weights, and the families built of them.

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
it), so no lie brings any facility closer: every K-tuple of them (a :class:`Composition`)
is strategy-proof whatever its constants. The tests audit each family on a dense grid.

A family is the set of blocks its members may use (:class:`Blocks`): ``percentile`` (g = 0, no
phantoms), ``weight_replicated`` (g = 1, no phantoms), ``weighted_quantile`` (several g),
``phantom`` (g = 0 or 1 with phantoms), ``dictator_hybrid`` (dictators and quantiles),
``composition`` (all blocks, phantoms included) and ``scale_free`` (all blocks, no phantoms),
each fitted by coordinate descent (:func:`fit_family`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterable, Sequence, Union

import numpy as np

from amdlib.problems.facility.costs import agent_costs, social_costs
from amdlib.problems.facility.sp.member import FittedMember, num

#: Exponents on the weights tried by the fit (leave heavy agents out ... hand them the facility).
EXPONENTS = (-4.0, 0.0, 1.0, 2.0, 4.0)
#: Phantom grid of the fit.
PHANTOMS = np.linspace(0.0, 1.0, 41)
#: Most candidate quantile levels per exponent (midpoints between attainable weight fractions).
MAX_LEVELS = 120


@dataclass(frozen=True)
class Quantile:
    """The lower weighted ``q``-quantile of the reports with weights ``w ** g``, clipped to [lo, hi]."""

    g: float
    q: float
    lo: float = 0.0
    hi: float = 1.0

    def raw(self, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(B,) the unclipped facility."""
        return weighted_quantile(peaks, weights ** self.g, self.q)

    def row(self) -> str:
        """The block's entry in rendered code's table of quantiles."""
        return f"({num(self.g)}, {num(self.q)}, {num(self.lo)}, {num(self.hi)})"

    def allowed(self, blocks: "Blocks") -> bool:
        """Whether a family with these blocks may use this one."""
        return self.g in blocks.exponents and (blocks.phantoms or (self.lo, self.hi) == (0.0, 1.0))


@dataclass(frozen=True)
class Dictator:
    """Agent ``d``'s report, clipped to [lo, hi]."""

    d: int
    lo: float = 0.0
    hi: float = 1.0

    def raw(self, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(B,) the unclipped facility."""
        return peaks[:, self.d]

    def row(self) -> str:
        """The block's entry in rendered code's table of dictators."""
        return f"({int(self.d)}, {num(self.lo)}, {num(self.hi)})"

    def allowed(self, blocks: "Blocks") -> bool:
        """Whether a family with these blocks may use this one."""
        return blocks.dictators and (blocks.phantoms or (self.lo, self.hi) == (0.0, 1.0))


Facility = Union[Quantile, Dictator]


@dataclass(frozen=True)
class Blocks:
    """What a family's facilities may be: quantiles with these weight exponents, dictators or
    not, clipped to fitted phantoms or not."""

    exponents: tuple[float, ...]
    dictators: bool = False
    phantoms: bool = False


#: The families of compositions, in the order they are fitted (see the registry).
FAMILY_BLOCKS: dict[str, Blocks] = {
    "percentile": Blocks((0.0,)),
    "weight_replicated": Blocks((1.0,)),
    "weighted_quantile": Blocks(EXPONENTS),
    "phantom": Blocks((0.0, 1.0), phantoms=True),
    "dictator_hybrid": Blocks((0.0, 1.0), dictators=True),
    "composition": Blocks(EXPONENTS, dictators=True, phantoms=True),
    #: The composition without phantoms: no fixed point of the peak scale enters the rule (for
    #: rules that must transfer to other distributions).
    "scale_free": Blocks(EXPONENTS, dictators=True),
}
FAMILIES = ("percentile", "weight_replicated", "weighted_quantile", "phantom", "dictator_hybrid", "composition")
SCALE_FREE = "scale_free"


def weighted_quantile(peaks: np.ndarray, w: np.ndarray, q: float) -> np.ndarray:
    """Lower weighted q-quantile of each row: the smallest report whose cumulative weight reaches q * sum(w)."""
    order = np.argsort(peaks, axis=1)
    c = np.cumsum(w[order], axis=1)
    j = np.minimum(np.sum(c < q * np.sum(w), axis=1), peaks.shape[1] - 1)
    return np.take_along_axis(peaks, order, axis=1)[np.arange(peaks.shape[0]), j]


def facility_locations(spec: Sequence[Facility], peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B, K) locations of a tuple of facilities on (B, n) reports (trusted, in-process)."""
    return np.stack([np.clip(f.raw(peaks, weights), f.lo, f.hi) for f in spec], axis=1)


def block_tables(spec: Sequence[Facility]) -> tuple[str, str]:
    """The rendered tables of a facility tuple: its quantiles' rows and its dictators' rows."""
    quant = ", ".join(f.row() for f in spec if isinstance(f, Quantile))
    dicts = ", ".join(f.row() for f in spec if isinstance(f, Dictator))
    return quant, dicts


def render_body(spec: Sequence[Facility]) -> str:
    """The mechanism body (4-space indented after the first line) for either call convention."""
    quant, dicts = block_tables(spec)
    lines = ["x = peaks.reshape(-1, peaks.shape[-1])", "cols = []"]
    if quant:
        lines += ["order = np.argsort(x, axis=1)", "s = np.take_along_axis(x, order, axis=1)",
                  f"for g, q, lo, hi in ({quant},):",
                  "    c = np.cumsum((weights ** g)[order], axis=1)",
                  "    j = np.minimum(np.sum(c < q * np.sum(weights ** g), axis=1), x.shape[1] - 1)",
                  "    cols.append(np.clip(s[np.arange(x.shape[0]), j], lo, hi))"]
    if dicts:
        lines += [f"for d, lo, hi in ({dicts},):", "    cols.append(np.clip(x[:, d], lo, hi))"]
    lines.append("return np.stack(cols, axis=1).reshape(peaks.shape[:-1] + (len(cols),))")
    return "\n    ".join(lines)


@dataclass(frozen=True)
class Composition:
    """A member made of K generalised medians, one per facility."""

    facilities: tuple[Facility, ...]

    def locations(self, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return facility_locations(self.facilities, peaks, weights)

    def body(self) -> str:
        return render_body(self.facilities)

    def describe(self) -> list[str]:
        return [repr(f) for f in self.facilities]


# ----------------------------------------------------------------------------- fitting
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


def _blocks(peaks: np.ndarray, weights: np.ndarray, blocks: Blocks) -> tuple[list[Facility], np.ndarray]:
    """The unclipped candidate facilities of a family and their (B, C) columns (duplicates dropped)."""
    found: list[Facility] = []
    cols: list[np.ndarray] = []
    seen: set[bytes] = set()
    for g in blocks.exponents:
        w = weights ** g
        qs = _levels(peaks, w)
        for q, col in zip(qs, _quantile_columns(peaks, w, qs).T):
            key = col.tobytes()
            if key not in seen:
                seen.add(key)
                found.append(Quantile(float(g), round(float(q), 6)))
                cols.append(col)
    if blocks.dictators:
        for d in range(peaks.shape[1]):
            col = peaks[:, d].copy()
            if col.tobytes() not in seen:
                seen.add(col.tobytes())
                found.append(Dictator(d))
                cols.append(col)
    return found, np.stack(cols, axis=1)


def _cost(spec: Sequence[Facility], peaks: np.ndarray, weights: np.ndarray) -> float:
    return float(social_costs(peaks, facility_locations(spec, peaks, weights), weights).mean())


def fit_family(peaks: np.ndarray, weights: np.ndarray, k: int, family: str, start: Sequence[Facility] | None = None,
               sweeps: int = 4, fixed: Sequence[Facility] = ()) -> FittedMember:
    """Best member of ``family`` on the training ``peaks`` by coordinate descent over the K
    facilities (each: the best candidate block given the others, then its phantoms). ``fixed``
    facilities come first, count in K and are never changed. The spec is a :class:`Composition`."""
    if family not in FAMILY_BLOCKS:
        raise ValueError(f"unknown family {family!r}")
    blocks = FAMILY_BLOCKS[family]
    wn = weights / weights.sum()
    candidates, cols = _blocks(peaks, weights, blocks)
    spec = list(fixed) + (list(start) if start else [])
    while len(spec) < k:  # greedy start: add the block that helps most
        d_now = _distances(spec, peaks, weights)
        spec.append(candidates[int(np.argmin(_column_costs(d_now, peaks, cols, wn)))])
    best = _cost(spec, peaks, weights)
    for _ in range(sweeps):
        improved = False
        for i in range(len(fixed), k):
            d_oth = _distances([f for j, f in enumerate(spec) if j != i], peaks, weights)
            c = int(np.argmin(_column_costs(d_oth, peaks, cols, wn)))
            f, raw = candidates[c], cols[:, c]
            if blocks.phantoms:
                f = _tune_phantoms(f, raw, peaks, wn, d_oth)
            spec_new = spec[:i] + [f] + spec[i + 1:]
            cost = _cost(spec_new, peaks, weights)
            if cost < best - 1e-12:
                spec, best, improved = spec_new, cost, True
        if not improved:
            break
    return FittedMember(family, Composition(tuple(spec)), best)


def fit_best(peaks: np.ndarray, weights: np.ndarray, k: int, family: str, starts: Iterable[FittedMember]) -> FittedMember:
    """The cheapest of :func:`fit_family` from its greedy start and from each of ``starts`` that
    is a composition of blocks the family may use (coordinate descent has local optima); ties:
    the earlier try."""
    blocks = FAMILY_BLOCKS[family]
    tries = [fit_family(peaks, weights, k, family)]
    for m in starts:
        if isinstance(m.spec, Composition) and all(f.allowed(blocks) for f in m.spec.facilities):
            tries.append(fit_family(peaks, weights, k, family, start=m.spec.facilities))
    return min(tries, key=lambda m: m.train_cost)


def fit_all(peaks: np.ndarray, weights: np.ndarray, k: int) -> dict[str, FittedMember]:
    """The best member of every family of :data:`FAMILIES` on training profiles, each restarted
    from the members fitted before it that it may use (``composition`` may use them all, so it is
    never worse than any of them on the training profiles)."""
    out: dict[str, FittedMember] = {}
    for fam in FAMILIES:
        out[fam] = fit_best(peaks, weights, k, fam, list(out.values()))
    return out


def _distances(spec: Sequence[Facility], peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B, n) distance of every peak to the nearest facility of ``spec`` (inf when it is empty)."""
    if not spec:
        return np.full(peaks.shape, np.inf)
    return agent_costs(peaks, facility_locations(spec, peaks, weights))


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
    return dataclasses.replace(f, lo=lo, hi=hi)


__all__ = ["Quantile", "Dictator", "Facility", "Blocks", "Composition", "FAMILY_BLOCKS", "FAMILIES", "SCALE_FREE",
           "EXPONENTS", "weighted_quantile", "facility_locations", "block_tables", "render_body", "fit_family",
           "fit_best", "fit_all"]
