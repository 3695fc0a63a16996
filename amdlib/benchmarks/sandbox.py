"""Sandbox benchmark: per-candidate overhead (a fresh restricted process each) vs spawn-per-candidate.

The baseline is how EoH-style tools evaluate: start a new Python process per
candidate, import numpy, run the candidate, read the answer. Our overhead is
the round trip of a trivial candidate through ``Sandbox.run`` (fork from a
warm zygote, Landlock, seccomp, rlimits, hostile-frame checks), each
candidate a new text as in a search. The CPU figure (parent, zygote and the
candidate processes it reaped, from ``/proc``) is the one to compare on a
loaded machine; reproduce with ``amd bench sandbox``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import numpy as np

from amdlib.benchmarks import Figure
from amdlib.core.sandbox import Job, Sandbox

HARNESS = "amdlib.core.sandbox.harnesses:vectorised"
TRIVIAL = "def f(x):\n    return x\n"
_SPAWN = ("import sys, numpy as np\nfrom amdlib.core.sandbox import harnesses\nns = {}\n"
          "exec(sys.stdin.read(), ns)\nout = harnesses.vectorised(ns['f'], {'x': np.linspace(0.0, 1.0, 1000)})\n"
          "sys.stdout.write(str(float(out['y'].sum())))\n")


def _spawn_once() -> float:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _SPAWN], input=TRIVIAL, capture_output=True, text=True,
                         env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, check=True)
    elapsed = (time.perf_counter() - t0) * 1e3
    if abs(float(out.stdout) - 500.0) > 1e-9:
        raise RuntimeError(f"spawn baseline gave {out.stdout!r}")
    return elapsed


def run(quick: bool) -> list[Figure]:
    """Median round trip of a trivial candidate, the spawn baseline and their ratio, throughput."""
    sequential, parallel, spawns = (100, 200, 8) if quick else (400, 2000, 30)
    payload = {"x": np.linspace(0.0, 1.0, 1000)}
    load = os.getloadavg()[0]
    with Sandbox(workers=2, memory_mb=2048) as sb:
        started = time.perf_counter()
        first = sb.run(TRIVIAL, "f", HARNESS, payload, "bench")
        startup_ms = (time.perf_counter() - started) * 1e3
        if not first.ok:
            raise RuntimeError(f"sandbox benchmark candidate failed: {first.reason}")
        times = []
        cpu0 = sb.cpu_seconds() + time.process_time()
        for i in range(sequential):
            code = f"{TRIVIAL}# candidate {i}\n"  # each one new, as in a search (no cached policy verdict)
            t0 = time.perf_counter()
            res = sb.run(code, "f", HARNESS, payload, "bench")
            times.append((time.perf_counter() - t0) * 1e3)
            if not res.ok:
                raise RuntimeError(f"sandbox benchmark candidate failed: {res.reason}")
        cpu_ms = (sb.cpu_seconds() + time.process_time() - cpu0) / sequential * 1e3
        jobs = [Job(f"{TRIVIAL}# job {i}\n", "f", HARNESS, payload, "bench") for i in range(parallel)]
        sb.map(jobs[: 2 * sb.workers])  # warm the second zygote
        t0 = time.perf_counter()
        results = sb.map(jobs)
        rate = parallel / (time.perf_counter() - t0)
        failed = sum(not r.ok for r in results)
        kernel = ", ".join(k for k in ("seccomp", "landlock") if sb.layers()[k].startswith("on")) or "none"
    spawn = statistics.median(_spawn_once() for _ in range(spawns))
    overhead = statistics.median(times)
    return [
        Figure("sandbox overhead per trivial candidate, fresh process from a warm zygote (median)", overhead, "ms",
               "<= 2", note=f"{sequential} sequential runs; p90 {np.percentile(times, 90):.2f} ms; kernel layers: "
                            f"{kernel}; load average {load:.1f} on {os.cpu_count()} cores"),
        Figure("sandbox CPU per trivial candidate, all processes (parent, zygote, candidate process)", cpu_ms, "ms",
               note="CPU time, not wall time: less sensitive to other load; includes fork and exit"),
        Figure("spawn-per-candidate baseline (new python + numpy import per candidate, median)", spawn, "ms",
               note=f"{spawns} runs"),
        Figure("sandbox overhead / spawn-per-candidate", overhead / spawn, "ratio", "<= 0.1"),
        Figure("sandbox throughput, trivial candidates on 2 workers", rate, "candidates/s",
               note=f"{parallel} jobs via Sandbox.map, {failed} failed"),
        Figure("sandbox first candidate incl. zygote start-up", startup_ms, "ms",
               note="python + numpy import + namespaces + Landlock/seccomp probe"),
    ]
