"""The sandbox side: call a candidate mechanism on truthful and misreported profiles.

Runs inside the sandbox worker with the untrusted candidate, so it imports numpy
only. Two call conventions: ``vectorized`` (``fn(peaks (B, n), weights (n,), K)
-> (B, K)``, the default) and ``per_profile`` (``fn(peaks (n,), weights, K) ->
(K,)``, looped here).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

#: Rows re-run one at a time to catch candidates that mix profiles of a batch.
CONSISTENCY_ROWS = 4
#: Largest batch handed to a vectorised candidate in one call (bounds its memory).
CHUNK = 50_000
#: Deviation-profile floats built at once (about 64 MB of float64): at n = 200 all of them
#: would take 3.2 GB, beyond a worker's memory, so they are built profile block by block.
BLOCK_FLOATS = 8_000_000


def block_size(n: int, m: int) -> int:
    """Profiles per block so that a block's n * m deviation profiles hold about BLOCK_FLOATS floats."""
    return max(1, BLOCK_FLOATS // max(1, n * max(m, 1) * n))


def deviation_profiles(peaks: np.ndarray, misreports: np.ndarray) -> np.ndarray:
    """Profiles where exactly one agent misreports, shape (n * M * B, n), ordered (agent, misreport, profile).

    Row ``(i * M + j) * B + b`` is ``peaks[b]`` with entry i replaced by ``misreports[b, j, i]``.
    """
    b, m, n = misreports.shape
    dev = np.broadcast_to(peaks[None, None, :, :], (n, m, b, n)).copy()
    agents = np.arange(n)
    # dev[i, j, b, i] = misreports[b, j, i]
    dev[agents, :, :, agents] = np.transpose(misreports, (2, 1, 0))
    return dev.reshape(n * m * b, n)


def per_profile(fn: Callable) -> Callable:
    """Adapt a one-profile mechanism ``fn(peaks (n,), weights, K) -> (K,)`` to a batch."""

    def batched(peaks: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
        # ``peaks`` is already a private copy (see _call); rows are views into it.
        rows = [fn(p, weights, k) for p in peaks]
        out = np.asarray(rows, dtype=float)
        return out.reshape(len(rows), -1) if rows else np.zeros((0, k))

    return batched


def _call(fn: Callable, peaks: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Call in chunks on copies (a candidate must not alter the payload) and coerce to (B, K) floats."""
    parts = []
    for start in range(0, peaks.shape[0], CHUNK):
        chunk = np.array(peaks[start : start + CHUNK], dtype=float)
        out = np.asarray(fn(chunk, weights.copy(), k), dtype=float)
        if out.ndim == 1 and out.shape[0] == chunk.shape[0] and k == 1:
            out = out[:, None]  # a (B,) answer for one facility
        try:  # (K,) or a scalar: the same locations for every profile
            parts.append(np.broadcast_to(out, (chunk.shape[0], k)))
        except ValueError:
            raise ValueError(f"mechanism returned shape {out.shape}; expected ({chunk.shape[0]}, {k})") from None
    return np.concatenate(parts, axis=0) if parts else np.zeros((0, k))


def _deviation_locations(fn: Callable, peaks: np.ndarray, misreports: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Locations on every one-agent deviation, (n*M*B, K) in deviation_profiles' order, built in
    profile blocks so memory stays bounded at any n."""
    b, m, n = misreports.shape
    step = block_size(n, m)
    parts = [_call(fn, deviation_profiles(peaks[s : s + step], misreports[s : s + step]), weights, k).reshape(n, m, -1, k)
             for s in range(0, b, step)]
    if not parts:
        return np.zeros((0, k))
    return np.concatenate(parts, axis=2).reshape(n * m * b, k)


def harness(fn: Callable, payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Locations on the truthful profiles (``loc``, (B, K)), on every one-agent deviation
    (``loc_dev``, (n*M*B, K)) and on the first rows run alone (``loc_single``)."""
    peaks = np.asarray(payload["peaks"], dtype=float)
    misreports = np.asarray(payload["misreports"], dtype=float)
    weights = np.asarray(payload["weights"], dtype=float)
    k = int(np.asarray(payload["K"]).reshape(-1)[0])
    if int(np.asarray(payload.get("per_profile", np.zeros(1))).reshape(-1)[0]):
        fn = per_profile(fn)
    loc = _call(fn, peaks, weights, k)
    loc_dev = _deviation_locations(fn, peaks, misreports, weights, k)
    rows = min(CONSISTENCY_ROWS, peaks.shape[0])
    single = [_call(fn, peaks[r : r + 1], weights, k).reshape(-1) for r in range(rows)]
    return {"loc": loc, "loc_dev": loc_dev, "loc_single": np.asarray(single, dtype=float)}


def locations(fn: Callable, payload: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Locations on the truthful profiles only (``loc``, (B, K)): large fresh samples for paired
    cost comparisons, where regret is not measured (the dense audit does that)."""
    peaks = np.asarray(payload["peaks"], dtype=float)
    weights = np.asarray(payload["weights"], dtype=float)
    k = int(np.asarray(payload["K"]).reshape(-1)[0])
    if int(np.asarray(payload.get("per_profile", np.zeros(1))).reshape(-1)[0]):
        fn = per_profile(fn)
    return {"loc": _call(fn, peaks, weights, k)}
