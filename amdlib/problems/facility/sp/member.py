"""What a fitted member of a facility family is, whatever its family: a rule that knows its own
locations and its own code.

A member spec (:class:`Member`) places K facilities on a batch of reports (``locations``), writes
itself as the body of ``mechanism(peaks, weights, K)`` (``body``) and names itself for the results
(``describe``). Everything that uses a member (the seed program, the family table, the audits)
goes through these three, so a new family plugs in by registering its fit
(:mod:`amdlib.problems.facility.sp.registry`), never by a case in a dispatch chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from amdlib.problems.facility.costs import social_costs

#: A trusted mechanism ``fn(peaks (B, n), weights (n,), K) -> (B, K)`` (baselines, audits).
Mechanism = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


class Member(Protocol):
    """A member of a facility family: trusted, in-process, vectorised over profiles."""

    def locations(self, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(B, K) facility locations on (B, n) reports with public ``weights`` (n,)."""
        ...

    def body(self) -> str:
        """The body of ``mechanism(peaks, weights, K)`` computing the same locations (4-space
        indented after its first line), for either call convention."""
        ...

    def describe(self) -> list[str]:
        """The member as text lines (what results.json records of it)."""
        ...


@dataclass(frozen=True)
class FittedMember:
    """The best member of ``family`` found on the training profiles, and its training cost."""

    family: str
    spec: Member
    train_cost: float


def mechanism(member: Member) -> Mechanism:
    """A member as a trusted mechanism ``fn(peaks, weights, K)``."""
    return lambda peaks, weights, k: member.locations(np.asarray(peaks, dtype=float), np.asarray(weights, dtype=float))


def mean_cost(member: Member, peaks: np.ndarray, weights: np.ndarray) -> float:
    """The member's mean weighted social cost on ``peaks``."""
    return float(social_costs(peaks, member.locations(peaks, weights), weights).mean())


def num(value: float) -> str:
    """A constant as rendered code writes it (6 significant digits)."""
    return repr(float(f"{float(value):.6g}"))


__all__ = ["Member", "FittedMember", "Mechanism", "mechanism", "mean_cost", "num"]
