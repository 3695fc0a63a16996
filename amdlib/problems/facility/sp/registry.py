"""The one registry of facility families: what is fitted, in which order, for which seed set.

A family is a name and a fit (:class:`Family`). :func:`fit_members` fits every registered family
of a seed set in registry order and returns the members it offers as seeds; every member spec is
a :class:`~amdlib.problems.facility.sp.member.Member`, so nothing downstream asks which family it
came from. A new family plugs in with :func:`register` (its fit returns a ``FittedMember``, or
None where it does not apply).

Seed sets (the problem's ``seed_rule``): ``families`` (every strategy-proof family) and
``scale_free`` (members without fitted phantoms, for rules that must transfer to other peak
distributions: phantoms fitted where uniform peaks fall clip every facility once the peaks pile
up near 0 or 1; the midpoint rule, one fixed point at 1/2 among the reports, joins them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from amdlib.problems.facility.sp.anchored import fit_anchored
from amdlib.problems.facility.sp.member import FittedMember
from amdlib.problems.facility.sp.midpoint import fit_midpoint
from amdlib.problems.facility.sp.pair_anchored import fit_pair_anchored
from amdlib.problems.facility.sp.quantile import FAMILIES, SCALE_FREE, fit_best

SEED_SETS = ("families", "scale_free")


@dataclass
class FitContext:
    """What a family's fit sees: the training reports, the public weights, K, the seed set, the
    members fitted before it (``fitted``) and those of them the seed set offers (``offered``)."""

    peaks: np.ndarray
    weights: np.ndarray
    k: int
    seed_set: str
    fitted: dict[str, FittedMember] = field(default_factory=dict)
    offered: dict[str, FittedMember] = field(default_factory=dict)

    @property
    def scale_free(self) -> bool:
        return self.seed_set == "scale_free"


@dataclass(frozen=True)
class Family:
    """A registered family: ``fit(context)`` gives its best member (or None where it does not
    apply); ``seeds``: the seed sets that offer the member; ``helps``: further seed sets where it
    is fitted only as a start for the families after it."""

    name: str
    fit: Callable[[FitContext], FittedMember | None]
    seeds: tuple[str, ...] = SEED_SETS
    helps: tuple[str, ...] = ()


def _composition(name: str) -> Callable[[FitContext], FittedMember]:
    """A composition family, restarted from every member fitted before it that it may use."""
    return lambda c: fit_best(c.peaks, c.weights, c.k, name, list(c.fitted.values()))


def _scale_free(c: FitContext) -> FittedMember:
    """The composition without phantoms, restarted from the members the seed set offers so far."""
    return fit_best(c.peaks, c.weights, c.k, SCALE_FREE, list(c.offered.values()))


def _anchored(c: FitContext) -> FittedMember | None:
    if c.k < 2:
        return None
    member, cost, _ = fit_anchored(c.peaks, c.weights, c.k, SCALE_FREE if c.scale_free else "composition")
    return FittedMember("anchored", member, cost)


def _pair_anchored(c: FitContext) -> FittedMember | None:
    pair = fit_pair_anchored(c.peaks, c.weights, c.k)
    return None if pair is None else FittedMember("pair_anchored", pair[0], pair[1])


def _builtin() -> list[Family]:
    # phantom and composition clip to fitted phantoms, so only the families set offers them;
    # dictator_hybrid starts from phantom's member in either set, so it is fitted in both.
    seeds = {"phantom": ("families",), "composition": ("families",)}
    helps = {"phantom": ("scale_free",)}
    return [Family(f, _composition(f), seeds.get(f, SEED_SETS), helps.get(f, ())) for f in FAMILIES] + [
        Family(SCALE_FREE, _scale_free, seeds=("scale_free",)),
        Family("anchored", _anchored),
        Family("midpoint", lambda c: fit_midpoint(c.peaks, c.weights, c.k), seeds=("scale_free",)),
        # kept out of the transfer runs: their seeds stay as they were
        Family("pair_anchored", _pair_anchored, seeds=("families",)),
    ]


#: Every family, in fitting order (a family's fit may start from the members fitted before it).
REGISTRY: list[Family] = _builtin()


def register(family: Family) -> None:
    """Add a family after the registered ones (a name may be registered once)."""
    if any(f.name == family.name for f in REGISTRY):
        raise ValueError(f"family {family.name!r} is registered already")
    unknown = set(family.seeds + family.helps) - set(SEED_SETS)
    if unknown:
        raise ValueError(f"family {family.name!r}: unknown seed sets {sorted(unknown)}; choose from {SEED_SETS}")
    REGISTRY.append(family)


def fit_members(peaks: np.ndarray, weights: np.ndarray, k: int, scale_free: bool = False) -> dict[str, FittedMember]:
    """The best member of every family of the seed set on the training profiles, in registry
    order, as ``{family: FittedMember}`` (``scale_free``: the ``scale_free`` seed set, else
    ``families``)."""
    ctx = FitContext(peaks, weights, k, "scale_free" if scale_free else "families")
    for family in REGISTRY:
        if ctx.seed_set not in family.seeds + family.helps:
            continue
        member = family.fit(ctx)
        if member is None:
            continue
        ctx.fitted[family.name] = member
        if ctx.seed_set in family.seeds:
            ctx.offered[family.name] = member
    return dict(ctx.offered)


__all__ = ["Family", "FitContext", "REGISTRY", "SEED_SETS", "register", "fit_members"]
