"""Generic trusted harnesses (numpy only), used by tests and the benchmark.

A harness runs inside the worker, calls the untrusted candidate ``fn`` on the
payload and returns a dict of float arrays; it checks shapes so that a
candidate returning the wrong thing fails with a clear reason.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def vectorised(fn: Callable[..., Any], payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{"y": fn(payload["x"])}``; the result must have the shape of ``x``."""
    x = payload["x"]
    y = np.asarray(fn(x), dtype=float)
    if y.shape != x.shape:
        raise ValueError(f"expected shape {x.shape}, got {y.shape}")
    return {"y": y}


def elementwise(fn: Callable[..., Any], payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{"y": [fn(float(v)) for v in payload["x"]]}``; each result must be a scalar."""
    values = []
    for v in payload["x"].ravel():
        y = np.asarray(fn(float(v)), dtype=float)
        if y.shape != ():
            raise ValueError(f"expected a scalar, got shape {y.shape}")
        values.append(float(y))
    return {"y": np.asarray(values, dtype=float).reshape(payload["x"].shape)}
