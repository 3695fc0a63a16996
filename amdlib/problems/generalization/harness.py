"""The sandbox side at large n: Experiment 4's harness, run on blocks of profiles.

Experiment 4's harness builds every one-agent deviation profile at once, an array of
n * M * B rows of n peaks: 3.2 GB at n = 200, M = 10, B = 1000, beyond a worker's
memory. Here the same harness runs on blocks of profiles small enough to stay near
``BLOCK_FLOATS`` floats, and the blocks' outputs are put back into its layout
(agent, misreport, profile), so Experiment 4's scorer reads them unchanged.
Imports numpy only (it runs next to untrusted code).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from amdlib.problems.facility.harness import harness as facility_harness

#: Deviation-profile floats built per block (about 64 MB of float64).
BLOCK_FLOATS = 8_000_000


def block_size(n: int, m: int) -> int:
    """Profiles per block so that a block's n * m deviation profiles hold about BLOCK_FLOATS floats."""
    return max(1, BLOCK_FLOATS // max(1, n * max(m, 1) * n))


def harness(fn: Callable, payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Same outputs as :func:`amdlib.problems.facility.harness.harness` (``loc``, ``loc_dev``,
    ``loc_single``), computed block by block over the profiles."""
    peaks = np.asarray(payload["peaks"], dtype=float)
    b, n = peaks.shape
    m = int(np.asarray(payload["misreports"]).shape[1])
    step = block_size(n, m)
    if b <= step:
        return facility_harness(fn, payload)
    locs, devs, single = [], [], None
    for start in range(0, b, step):
        part = dict(payload, peaks=payload["peaks"][start : start + step], misreports=payload["misreports"][start : start + step])
        out = facility_harness(fn, part)
        rows = out["loc"].shape[0]
        locs.append(out["loc"])
        devs.append(np.asarray(out["loc_dev"]).reshape(n, m, rows, -1))
        if single is None:  # the batch-independence check needs only the first rows once
            single = out["loc_single"]
    k = locs[0].shape[1]
    loc_dev = np.concatenate(devs, axis=2).reshape(n * m * b, k)
    return {"loc": np.concatenate(locs, axis=0), "loc_dev": loc_dev, "loc_single": single}
