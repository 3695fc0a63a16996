"""The trusted harness: runs a candidate rebate function inside the sandbox worker.

The candidate ``rebate(others, n, m)`` receives a batch of the others' sorted
bids, shape (B, n-1), and returns one rebate per row. The harness calls it on
every query vector of the payload's profiles (the true others' vectors and the
own-bid paths of :mod:`.model`), applies the fixing step of :mod:`.fix` right
here (returning ``n^3/2`` raw values per profile to the parent would cost more
than the fix itself) and also evaluates the candidate on the convexity-check
lines. Payload keys:

* ``profiles`` (P, n) sorted descending, ``n`` and ``m`` (0-d ints);
* optional ``queries_t`` (n-1, P*V): the query vectors, transposed so that each
  column of ``others`` is contiguous (search split; skips the gather);
* optional ``lines_t`` (n-1, L): extra vectors whose raw rebates are returned as
  ``lines`` (the convexity check, or the others' vectors for distillation);
* optional ``paths`` (0-d, default 1): 0 skips the mechanism entirely.

Imports numpy and this package's numpy-only modules.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from amdlib.problems.redistribution.fix import apply_fix
from amdlib.problems.redistribution.model import path_index, queries

#: Profiles per internal chunk when the harness builds the query vectors itself.
CHUNK_QUERIES = 1_000_000
#: Rows re-evaluated alone to check that the rule does not depend on the batch.
PROBE_ROWS = 8


def call(fn: Callable[..., object], others: np.ndarray, n: int, m: int) -> np.ndarray:
    """The candidate's rebates for the rows of ``others`` as a float vector (scalars broadcast)."""
    out = np.asarray(fn(others, n, m), dtype=float)
    rows = others.shape[0]
    if out.ndim == 0 or out.shape == (1,):
        return np.full(rows, float(out.reshape(())))
    if out.shape != (rows,):
        raise ValueError(f"rebate must return shape ({rows},) for others of shape {others.shape}, got {out.shape}")
    if rows > PROBE_ROWS:  # a rule must be a function of each row alone (not of the batch)
        probe = np.broadcast_to(np.asarray(fn(others[:PROBE_ROWS], n, m), dtype=float), (PROBE_ROWS,))
        if not np.allclose(probe, out[:PROBE_ROWS], rtol=1e-9, atol=1e-12):
            raise ValueError("rebate must compute each row from that row alone (results change with the batch)")
    return out


def mechanism(fn: Callable[..., object], payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Raw and fixed rebates (P, n) and the fix's scales of the payload's profiles."""
    profiles = payload["profiles"]
    n, m = int(payload["n"]), int(payload["m"])
    v = path_index(n).n_queries
    if "queries_t" in payload:
        chunks = [(profiles, call(fn, payload["queries_t"].T, n, m))]
    else:
        step = max(1, CHUNK_QUERIES // v)
        chunks = []
        for start in range(0, profiles.shape[0], step):
            part = profiles[start : start + step]
            chunks.append((part, call(fn, np.asfortranarray(queries(part)), n, m)))
    fixed = [apply_fix(h.reshape(v, part.shape[0]), part, m) for part, h in chunks]
    return {
        "raw": np.concatenate([f.raw for f in fixed]),
        "rebates": np.concatenate([f.rebates for f in fixed]),
        "scale": np.concatenate([f.scale for f in fixed]),
    }


def harness(fn: Callable[..., object], payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Entry point run by the sandbox: see the module docstring for the payload keys."""
    n, m = int(payload["n"]), int(payload["m"])
    out: dict[str, np.ndarray] = {}
    if int(payload.get("paths", 1)):
        out.update(mechanism(fn, payload))
    if "lines_t" in payload:
        out["lines"] = call(fn, payload["lines_t"].T, n, m)
    return out
