"""Sandbox side of the multi-item problem: tabulate the candidate's mechanism.

Trusted code run inside the sandbox worker; it imports numpy only. The candidate
``mechanism(v1, v2)`` is called once on the payload's value pairs (the menu grid
followed by the sample) and must return ``(x1, x2, p)``; scalars are broadcast.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def harness(fn: Callable[..., object], payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Call the candidate on copies of the values; its three outputs as float arrays of the input's shape."""
    v1 = np.array(payload["v1"], dtype=float, copy=True)
    v2 = np.array(payload["v2"], dtype=float, copy=True)
    with np.errstate(all="ignore"):  # a division by zero shows up as non-finite outputs
        out = fn(v1, v2)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise ValueError("mechanism must return a tuple (x1, x2, p) of three arrays")
    arrays = {}
    for name, value in zip(("x1", "x2", "p"), out):
        arr = np.asarray(value, dtype=float)
        try:
            arrays[name] = np.array(np.broadcast_to(arr, v1.shape), dtype=float)
        except ValueError:
            raise ValueError(f"{name} has shape {arr.shape}, expected {v1.shape} or a scalar") from None
    return arrays
