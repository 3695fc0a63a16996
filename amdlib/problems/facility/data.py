"""Peak distributions, weight sets and the train/test profiles with misreports.

The paper does not state the distribution parameters; following the spec we use
uniform on [0, 1], N(0.5, 0.14^2) truncated to [0, 1] ("normal"), Beta(1, 9)
("beta1") and Beta(9, 1) ("beta2"). Which beta the paper calls beta1 cannot be
told from costs (the two are mirror images), so this is a documented choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amdlib.errors import UserError

DISTRIBUTIONS: dict[str, str] = {
    "uniform": "U[0, 1]",
    "normal": "N(0.5, 0.14^2) truncated to [0, 1]",
    "beta1": "Beta(1, 9)",
    "beta2": "Beta(9, 1)",
}
NORMAL_MEAN, NORMAL_SD = 0.5, 0.14
BETA_PARAMS = {"beta1": (1.0, 9.0), "beta2": (9.0, 1.0)}

#: Paper Table S5: ten arbitrary weight sets per n (integers 1..5), 1-based index.
TABLE_S5: dict[int, tuple[tuple[int, ...], ...]] = {
    5: (
        (5, 3, 3, 3, 1), (4, 4, 4, 3, 3), (3, 3, 3, 2, 1), (5, 2, 1, 1, 1), (5, 4, 3, 3, 2),
        (4, 4, 4, 3, 1), (4, 2, 2, 2, 1), (5, 4, 2, 2, 1), (5, 4, 4, 3, 2), (5, 4, 4, 3, 3),
    ),
    10: (
        (5, 4, 4, 3, 2, 2, 2, 1, 1, 1), (5, 5, 4, 3, 2, 2, 2, 1, 1, 1), (5, 5, 4, 3, 3, 2, 2, 2, 1, 1),
        (5, 5, 4, 4, 4, 3, 2, 2, 1, 1), (4, 4, 4, 4, 4, 4, 4, 3, 2, 2), (5, 4, 4, 3, 3, 2, 1, 1, 1, 1),
        (5, 5, 4, 3, 3, 3, 3, 2, 2, 1), (5, 4, 4, 3, 3, 3, 3, 2, 2, 1), (5, 5, 5, 5, 4, 4, 4, 4, 4, 4),
        (5, 5, 5, 4, 4, 3, 2, 2, 2, 1),
    ),
}
_SPLIT_STREAM = {"train": 1, "test": 2, "audit": 3, "fresh": 4}


def sample_peaks(distribution: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw i.i.d. peaks in [0, 1] from a named distribution."""
    if distribution == "uniform":
        return rng.uniform(0.0, 1.0, shape)
    if distribution == "normal":
        x = rng.normal(NORMAL_MEAN, NORMAL_SD, shape)
        bad = (x < 0.0) | (x > 1.0)
        while bad.any():  # truncation by rejection (about 4 in 10,000 draws)
            x[bad] = rng.normal(NORMAL_MEAN, NORMAL_SD, int(bad.sum()))
            bad = (x < 0.0) | (x > 1.0)
        return x
    if distribution in BETA_PARAMS:
        a, b = BETA_PARAMS[distribution]
        return rng.beta(a, b, shape)
    raise UserError(f"unknown distribution '{distribution}'; choose one of {', '.join(DISTRIBUTIONS)}")


def resolve_weights(spec: str | list | tuple, n: int) -> np.ndarray:
    """Public agent weights from a spec: ``fixed`` (Table 1), ``none``, ``1``..``10`` (Table S5),
    or an explicit list (``"5,1,1,1,1"`` or a list of numbers)."""
    if isinstance(spec, (list, tuple)):
        values = [float(v) for v in spec]
    else:
        text = str(spec).strip().lower()
        if text == "none":
            values = [1.0] * n
        elif text == "fixed":
            heavy = {5: 1, 10: 2}.get(n)
            if heavy is None:
                raise UserError(f"weights 'fixed' is defined for n_agents 5 and 10 only (got {n}); use 'none' or a list")
            values = [5.0] * heavy + [1.0] * (n - heavy)
        elif text.isdigit():
            idx = int(text)
            if n not in TABLE_S5 or not 1 <= idx <= 10:
                raise UserError(f"weights '{text}': Table S5 has sets 1..10 for n_agents 5 and 10 (got n_agents {n})")
            values = [float(v) for v in TABLE_S5[n][idx - 1]]
        else:
            try:
                values = [float(v) for v in text.replace("[", "").replace("]", "").split(",")]
            except ValueError:
                raise UserError(f"weights '{spec}': use fixed, none, 1..10 or a comma-separated list") from None
    w = np.asarray(values, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise UserError(f"weights '{spec}': need {n} positive numbers, got {len(values)}")
    return w


@dataclass(frozen=True)
class Profiles:
    """``peaks`` (B, n) true peaks and ``misreports`` (B, M, n): agent i's j-th misreport is
    ``misreports[:, j, i]`` (column i of misreport profile j)."""

    peaks: np.ndarray
    misreports: np.ndarray

    @property
    def size(self) -> int:
        return int(self.peaks.shape[0])


def make_profiles(distribution: str, n: int, size: int, n_misreports: int, seed: int, split: str) -> Profiles:
    """Deterministic profiles for a split (``train``, ``test`` or ``audit``) of a seed."""
    rng = np.random.default_rng([int(seed), _SPLIT_STREAM[split], int(n)])
    peaks = sample_peaks(distribution, (size, n), rng)
    misreports = sample_peaks(distribution, (size, n_misreports, n), rng)
    return Profiles(peaks, misreports)
