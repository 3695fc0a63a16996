"""Sandbox side of the bilateral-trade problem (numpy only): the candidate's price per public draw."""

from __future__ import annotations

import numpy as np


def harness(fn, payload):
    """``fn(u)`` for the public uniform draws ``u``: one posted price per meeting (a scalar: one for all)."""
    u = np.array(payload["u"], dtype=float, copy=True)
    with np.errstate(all="ignore"):
        prices = np.asarray(fn(u), dtype=float)
    try:
        prices = np.array(np.broadcast_to(prices, u.shape), dtype=float)
    except ValueError:
        raise ValueError(f"price must return shape {u.shape} or a scalar, got {prices.shape}") from None
    return {"price": prices}
