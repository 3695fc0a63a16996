"""Trusted test harnesses, imported by the sandbox workers as ``tests.core.sandbox.harnesses``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def passthrough(fn: Callable[..., Any], payload: dict[str, np.ndarray]) -> Any:
    """Return whatever the candidate returns under "y", unconverted (tests output checks)."""
    return {"y": fn(payload["x"])}


def raw(fn: Callable[..., Any], payload: dict[str, np.ndarray]) -> Any:
    """Return the candidate's value itself as the harness result (dict or not)."""
    return fn(payload["x"])


def two_outputs(fn: Callable[..., Any], payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """An int, a bool and a float output from one candidate call."""
    y = np.asarray(fn(payload["x"]), dtype=float)
    return {"y": y, "n": np.asarray(y.size, dtype=np.int64), "pos": y > 0}
