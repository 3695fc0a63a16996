"""Sandbox side of the correlated-revenue problems: tabulate the candidate's scores.

Trusted code run inside the sandbox worker; it imports numpy only. The
candidate ``priority(bid, other_bid, p_same, p_above, step)`` is called once,
on bidder 1's view of every profile (flat arrays of length G * G); bidder 2's
scores follow by symmetry, since the function does not know which bidder it is.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

PAYLOAD_KEYS = ("bid", "other_bid", "p_same", "p_above")


def harness(fn: Callable[..., object], payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Call the candidate on copies of the payload arrays and return its scores as floats."""
    args = [np.array(payload[k], dtype=float, copy=True) for k in PAYLOAD_KEYS]
    step = float(payload["step"])
    with np.errstate(all="ignore"):  # a division by zero shows up as non-finite scores
        scores = np.asarray(fn(*args, step), dtype=float)
    return {"score": scores}
