"""Sandbox benchmark: per-candidate overhead on a warm worker, throughput on 2 workers."""

from __future__ import annotations

import statistics
import time

import numpy as np

from amdlib.benchmarks import Figure
from amdlib.core.sandbox import Job, Sandbox

HARNESS = "amdlib.core.sandbox.harnesses:vectorised"
TRIVIAL = "def f(x):\n    return x\n"


def run(quick: bool) -> list[Figure]:
    """Median round trip of a trivial candidate, worker start-up, and candidates per second."""
    sequential, parallel = (50, 200) if quick else (300, 2000)
    payload = {"x": np.linspace(0.0, 1.0, 1000)}
    with Sandbox(workers=2, memory_mb=2048) as sb:
        started = time.perf_counter()
        first = sb.run(TRIVIAL, "f", HARNESS, payload, "bench")
        startup_ms = (time.perf_counter() - started) * 1e3
        if not first.ok:
            raise RuntimeError(f"sandbox benchmark candidate failed: {first.reason}")
        times = []
        for _ in range(sequential):
            t0 = time.perf_counter()
            sb.run(TRIVIAL, "f", HARNESS, payload, "bench")
            times.append((time.perf_counter() - t0) * 1e3)
        jobs = [Job(TRIVIAL, "f", HARNESS, payload, "bench")] * parallel
        sb.map(jobs[: 2 * sb.workers])  # warm the second worker
        t0 = time.perf_counter()
        results = sb.map(jobs)
        rate = parallel / (time.perf_counter() - t0)
        failed = sum(not r.ok for r in results)
    return [
        Figure("sandbox overhead per trivial candidate, warm worker (median)", statistics.median(times), "ms",
               "<= 20", note=f"{sequential} sequential runs; p90 {np.percentile(times, 90):.2f} ms"),
        Figure("sandbox throughput, trivial candidates on 2 workers", rate, "candidates/s",
               note=f"{parallel} jobs via Sandbox.map, {failed} failed"),
        Figure("sandbox first candidate incl. worker start-up", startup_ms, "ms",
               note="python + numpy import + hardening"),
    ]
