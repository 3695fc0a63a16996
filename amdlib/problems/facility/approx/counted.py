"""The counted anchored rule: the anchored family's bins, refined by how many reports lie below the anchor.

Facility 1 sits at the heaviest agent's report ``x_d``. The other K - 1 facilities are a composition
of generalised medians (:mod:`amdlib.problems.facility.sp.quantile`) chosen by the key
``bin(x_d) * n + c``, where ``c`` is the number of reports below ``x_d``. Without ``c`` this is the
strategy-proof anchored family; ``c`` lets the rule send the free facilities to the side of the
anchor where the reports are (the non-SP optimum's main choice at n = 5).

Not strategy-proof, but its regret is small: agent d is served at cost 0; another agent changes
the key only by reporting across ``x_d``, a lie at least as long as its distance to the anchor,
which is also at most its cost, so what it can gain is bounded by its distance to the anchor. The
dense audit measures it (measured 0-0.0002 on the Table-1 n = 5 cells), and the fit keeps only
members whose regret bound is within epsilon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amdlib.problems.facility.sp.binned import Bins, binned_body, binned_locations
from amdlib.problems.facility.sp.member import mean_cost, num
from amdlib.problems.facility.sp.quantile import Dictator, fit_family

from amdlib.problems.facility.approx.audit import Z, AuditSet
from amdlib.problems.facility.approx.member import FittedApprox

#: Bin counts of the anchor tried by the fit.
BIN_CHOICES = (1, 2, 4)
#: Families of the free facilities tried by the fit.
FAMILIES = ("scale_free", "composition")
#: A key with fewer training profiles than this uses its bin's composition.
MIN_KEY_PROFILES = 25


@dataclass(frozen=True)
class CountedAnchored:
    """``d``: the anchor; ``edges``: its bin edges; ``n``: the reports the keys count (counts are
    capped at n - 1 for other n); ``bins``: the free facilities of each key ``bin * n + c``."""

    d: int
    edges: tuple[float, ...]
    n: int
    bins: Bins

    def key(self, peaks: np.ndarray) -> np.ndarray:
        """(B,) key of each profile."""
        xd = peaks[:, self.d]
        count = np.minimum(np.sum(peaks < xd[:, None], axis=1), self.n - 1)
        return np.searchsorted(np.asarray(self.edges, dtype=float), xd) * self.n + count

    def locations(self, peaks: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return binned_locations(self.key(peaks), [peaks[:, self.d]], self.bins, peaks, weights)

    def body(self) -> str:
        edges = ", ".join(num(e) for e in self.edges)
        head = [f"xd = x[:, {self.d}]",
                f"b = np.searchsorted(np.array([{edges}], dtype=float), xd) * {self.n}"
                f" + np.minimum(np.sum(x < xd[:, None], axis=1), {self.n - 1})"]
        return binned_body(head, ["xd"], self.bins)

    def describe(self) -> list[str]:
        return [repr(self)]


def _fit_member(peaks: np.ndarray, weights: np.ndarray, k: int, nb: int, family: str) -> CountedAnchored:
    d, n = int(np.argmax(weights)), peaks.shape[1]
    edges = tuple(round(float(e), 6) for e in np.quantile(peaks[:, d], np.linspace(0, 1, nb + 1)[1:-1]))
    member = CountedAnchored(d, edges, n, ((),) * (nb * n))
    key = member.key(peaks)
    bins = []
    for i in range(nb):
        in_bin = key // n == i
        sub = peaks[in_bin] if in_bin.any() else peaks
        default = fit_family(sub, weights, k, family, fixed=[Dictator(d)], sweeps=3).spec.facilities
        for c in range(n):
            rows = peaks[key == i * n + c]
            if len(rows) >= MIN_KEY_PROFILES:
                bins.append(fit_family(rows, weights, k, family, fixed=[Dictator(d)], start=default[1:], sweeps=3).spec.facilities[1:])
            else:
                bins.append(default[1:])
    return CountedAnchored(d, edges, n, tuple(bins))


def _cv_cost(peaks: np.ndarray, weights: np.ndarray, k: int, nb: int, family: str) -> float:
    """Two-fold cross-validated cost of the fit (the choice among feasible members)."""
    half = peaks.shape[0] // 2
    folds = ((peaks[:half], peaks[half:]), (peaks[half:], peaks[:half]))
    return float(np.mean([mean_cost(_fit_member(tr, weights, k, nb, family), te, weights) for tr, te in folds]))


def fit_counted(peaks: np.ndarray, weights: np.ndarray, k: int, epsilon: float, audit: AuditSet,
                z: float = Z) -> FittedApprox | None:
    """The counted anchored member (K >= 2) with the least two-fold cross-validated cost on the
    training ``peaks`` among those whose dense-audit regret bound on ``audit`` is at most
    ``epsilon`` (bin counts ``BIN_CHOICES`` x ``FAMILIES``), refitted on all of them; None if none."""
    if k < 2 or peaks.shape[1] < 2:
        return None
    best = None
    for nb in BIN_CHOICES:
        for family in FAMILIES:
            member = _fit_member(peaks, weights, k, nb, family)
            regret = audit.regret(audit.locations(member.locations, key=member))
            if regret.ucb(z) > epsilon:
                continue
            cv = _cv_cost(peaks, weights, k, nb, family)
            if best is None or cv < best[0] - 1e-12:
                best = (cv, FittedApprox("counted_anchored", member, mean_cost(member, peaks, weights), regret.max, regret.ucb(z)))
    return None if best is None else best[1]


__all__ = ["CountedAnchored", "fit_counted", "BIN_CHOICES"]
