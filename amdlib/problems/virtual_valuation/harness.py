"""The trusted harness of the virtual-valuation problem (runs inside the sandbox).

Imports numpy only: the sandbox's zygote imports the harness's module, and
every candidate process is a copy of the zygote, so a module that pulled in
scipy (as ``problem`` does, for the distributions) would make each fork and
exit of a candidate process about three times as costly.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def harness(fn: Callable[..., Any], payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Tabulate the candidate priority on the bid grid: ``{"scores": fn(grid, cdf, pdf)}``."""
    grid = payload["grid"]
    out = np.asarray(fn(grid.copy(), payload["cdf"].copy(), payload["pdf"].copy()), dtype=float)
    if out.ndim == 0:
        out = np.full(grid.shape, float(out))
    return {"scores": out}
