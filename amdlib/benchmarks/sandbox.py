"""Sandbox benchmark: per-candidate overhead (a fresh restricted process each) vs spawn-per-candidate,
and a real candidate's evaluation path against the same work in-process.

The baseline is how EoH-style tools evaluate: start a new Python process per
candidate, import numpy, run the candidate, read the answer. Our overhead is
the round trip of a trivial candidate through ``Sandbox.run`` (fork from a
warm zygote, Landlock, seccomp, rlimits, hostile-frame checks), each
candidate a new text as in a search. The CPU figure (parent, zygote and the
candidate processes it reaped, from ``/proc``) is the one to compare on a
loaded machine; reproduce with ``amd bench sandbox``.

The facility figure is what a search pays per candidate above the work
itself: ``Evaluator.evaluate_text`` on a model answer (extraction, policy,
the sandboxed harness, scoring) of a facility-location mechanism (n=5, K=2,
weights [5,1,1,1,1], 1000 profiles with 10 misreports each, the
strategy-proofness audit included), minus the harness and the score run
in-process on the same trusted code; the two are timed alternately, each
candidate a new program, and the median of the paired differences is
reported.
"""

from __future__ import annotations

import importlib
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

from amdlib.benchmarks import Figure
from amdlib.core.evaluator import Evaluator
from amdlib.core.sandbox import Job, Sandbox
from amdlib.problems.facility.problem import FacilityProblem, percentile_body

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


def _facility_answers(count: int) -> list[tuple[str, str]]:
    """``count`` distinct (model answer, its code): percentile rules, two quantile levels each."""
    pairs = [(round(a, 3), round(b, 3)) for a in np.linspace(0.05, 0.5, 10) for b in np.linspace(0.55, 0.95, 6)]
    codes = [f"import numpy as np\n\n\ndef mechanism(peaks, weights, K):\n    {percentile_body([a, b], False)}\n"
             for a, b in pairs[:count]]
    return [(f"Facilities at two quantiles of the reports.\n\n```python\n{code}```\n", code) for code in codes]


def facility_path(reps: int) -> dict[str, Any]:
    """Per-candidate milliseconds of ``evaluate_text`` and of the in-process floor (paired)."""
    problem = FacilityProblem(n_agents=5, n_facilities=2, distribution="uniform", weights="fixed", seed=0)
    module, _, name = problem.harness.partition(":")
    harness = getattr(importlib.import_module(module), name)
    payload = problem.payload("search")
    answers = _facility_answers(50)
    sandboxed, floor, diffs = [], [], []
    with Sandbox(workers=2, memory_mb=problem.memory_mb) as sb:
        Evaluator(problem, sb).evaluate_text(answers[0][0])  # the zygote starts, the payload is sent
        for _ in range(reps):
            evaluator = Evaluator(problem, sb)  # a fresh dedupe cache: every program runs
            for text, code in answers[1:]:
                namespace: dict[str, Any] = {}
                exec(code, namespace)  # our own trusted rule, for the in-process floor
                t0 = time.perf_counter()
                problem.score(harness(namespace["mechanism"], payload), "search")
                t1 = time.perf_counter()
                _, _, _, verdict = evaluator.evaluate_text(text)
                t2 = time.perf_counter()
                if not verdict.valid:
                    raise RuntimeError(f"facility benchmark candidate failed: {verdict.error}")
                floor.append((t1 - t0) * 1e3)
                sandboxed.append((t2 - t1) * 1e3)
                diffs.append(sandboxed[-1] - floor[-1])
    return {"sandboxed": statistics.median(sandboxed), "floor": statistics.median(floor),
            "overhead": statistics.median(diffs), "p90": float(np.percentile(diffs, 90)), "n": len(diffs),
            "load": os.getloadavg()[0]}


def run(quick: bool) -> list[Figure]:
    """Median round trip of a trivial candidate, the spawn baseline and their ratio, throughput,
    and the facility candidate's cost above its in-process floor."""
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
    fac = facility_path(1 if quick else 3)
    return [
        Figure("facility candidate through Evaluator + Sandbox, above its in-process floor (median)",
               fac["overhead"], "ms", "<= 4",
               note=f"{fac['n']} paired runs: evaluate_text {fac['sandboxed']:.2f} ms, harness + score in-process "
                    f"{fac['floor']:.2f} ms (medians); p90 of the difference {fac['p90']:.2f} ms; load average "
                    f"{fac['load']:.1f} on {os.cpu_count()} cores"),
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
