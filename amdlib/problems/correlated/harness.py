"""Sandbox side of the correlated-revenue problems: tabulate the candidate's scores.

Trusted code run inside the sandbox worker; it imports numpy only. The
candidate ``priority(bid, other_bid, p_same, p_above, step, bidder)`` is called
twice on the same flat arrays (every profile of the grid seen by the scored
bidder: own bid, other's bid, own conditional law): once with ``bidder = 0``
(bidder 1) and once with ``bidder = 1`` (bidder 2), so a rule may treat the two
bidders differently. The joint law is symmetric, so bidder 2's view of profile
(a, b) is entry (b, a) of these arrays; :func:`.problem.score_tables` transposes.

A candidate written for the older five-argument template (no ``bidder``) is
called once and scores both bidders alike.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

PAYLOAD_KEYS = ("bid", "other_bid", "p_same", "p_above")
#: Positional arguments of the current template (``bidder`` is the sixth).
ARITY = 6
_VARARGS = 0x04  # inspect.CO_VARARGS, without importing inspect in the worker


def takes_bidder(fn: Callable[..., object]) -> bool:
    """Whether ``fn`` accepts the sixth argument ``bidder`` (positionally or through ``*args``)."""
    code = getattr(fn, "__code__", None)
    if code is None:  # a callable object: assume the current template
        return True
    return code.co_argcount >= ARITY or bool(code.co_flags & _VARARGS)


def _call(fn: Callable[..., object], payload: dict[str, np.ndarray], *extra: int) -> np.ndarray:
    args = [np.array(payload[k], dtype=float, copy=True) for k in PAYLOAD_KEYS]  # fresh copies per call
    with np.errstate(all="ignore"):  # a division by zero shows up as non-finite scores
        return np.asarray(fn(*args, float(payload["step"]), *extra), dtype=float)


def harness(fn: Callable[..., object], payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Scores of bidder 1 (``score``) and bidder 2 (``score_2``), each on the payload's flat view."""
    if not takes_bidder(fn):
        scores = _call(fn, payload)
        return {"score": scores, "score_2": scores}
    return {"score": _call(fn, payload, 0), "score_2": _call(fn, payload, 1)}
