"""The bidder's value law: two i.i.d. additive item values on [0, 1].

Search samples are stratified (:meth:`ValueLaw.stratified`), holdout samples i.i.d.

``uniform`` is U[0, 1] (the Manelli-Vincent setting, with a known optimum);
``beta`` is Beta(a, b) on [0, 1] (no closed form: the baselines are computed
numerically). Samples are drawn from a seed, so every split is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amdlib.errors import UserError

DISTRIBUTIONS = ("uniform", "beta")


@dataclass(frozen=True)
class ValueLaw:
    """I.i.d. item values: ``uniform`` (U[0, 1]) or ``beta`` (Beta(a, b))."""

    name: str = "uniform"
    a: float = 2.0
    b: float = 2.0

    def __post_init__(self) -> None:
        if self.name not in DISTRIBUTIONS:
            raise UserError(f"unknown value distribution {self.name!r}: choose one of {', '.join(DISTRIBUTIONS)}")
        if self.name == "beta" and not (self.a > 0 and self.b > 0):
            raise UserError(f"beta shape parameters must be > 0, got a={self.a}, b={self.b}")

    @property
    def is_uniform(self) -> bool:
        return self.name == "uniform"

    def cdf(self, v: np.ndarray) -> np.ndarray:
        """P(value <= v) of one item."""
        from scipy import stats

        v = np.asarray(v, dtype=float)
        return np.clip(v, 0.0, 1.0) if self.is_uniform else stats.beta.cdf(v, self.a, self.b)

    def pdf(self, v: np.ndarray) -> np.ndarray:
        """Density of one item's value."""
        from scipy import stats

        v = np.asarray(v, dtype=float)
        if self.is_uniform:
            return ((v >= 0.0) & (v <= 1.0)).astype(float)
        return stats.beta.pdf(v, self.a, self.b)

    def sample(self, seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` value pairs (v1, v2) drawn from ``seed`` (numpy's PCG64)."""
        return self.draw(np.random.default_rng(seed), n)

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` value pairs (v1, v2) from the generator ``rng``."""
        if self.is_uniform:
            v = rng.uniform(0.0, 1.0, size=(2, n))
        else:
            v = rng.beta(self.a, self.b, size=(2, n))
        return v[0], v[1]

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """The inverse cdf of one item's value."""
        from scipy import stats

        q = np.asarray(q, dtype=float)
        return q.copy() if self.is_uniform else stats.beta.ppf(q, self.a, self.b)

    def stratified(self, seed: int, per_axis: int) -> tuple[np.ndarray, np.ndarray]:
        """``per_axis**2`` value pairs, one uniform draw in each cell of a ``per_axis`` grid of
        quantiles (jittered stratification): unbiased like i.i.d. sampling, but with about ten
        times less error on revenue, so a search compares candidates on a much sharper sample."""
        rng = np.random.default_rng(seed)
        i, j = np.meshgrid(np.arange(per_axis), np.arange(per_axis), indexing="ij")
        q = (np.stack([i.ravel(), j.ravel()]) + rng.uniform(size=(2, per_axis * per_axis))) / per_axis
        return self.ppf(q[0]), self.ppf(q[1])

    def label(self) -> str:
        """Short human-readable name (figure titles, tables)."""
        return "U[0,1]" if self.is_uniform else f"Beta({self.a:g},{self.b:g})"

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {"distribution": self.name, "items": 2, "bidders": 1}
        if not self.is_uniform:
            out.update({"beta_a": self.a, "beta_b": self.b})
        return out
