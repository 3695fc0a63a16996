"""Denial of service: candidates that outlive their answer (alone, in bursts, holding memory) and
batches of big results. Each is contained, and afterwards an honest CPU-heavy candidate takes at
most 1.5 times its time alone (the best of three runs each, so that a loaded machine does not
decide). The lingering candidates get past the Python layer (the attribute chain of
``hostile_kernel``), so the runtime and kernel modes are the ones that matter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from amdlib.core.sandbox import Job, Sandbox
from tests.core.sandbox.conftest import VECTORISED, X
from tests.core.sandbox.hostile_kernel import CHAIN

#: Answers (a valid result of its own job, found in the worker's frame), closes its pipe and keeps
#: running, holding {MB} MiB; it would run until its 30 s limit if nothing stopped it.
LINGER = CHAIN + """

def f(x):
    os, sys, bl = disarm()
    frame = sys._getframe()
    while 'job' not in frame.f_locals:
        frame = frame.f_back
    codec = members(sys)['modules']['amdlib.core.sandbox.codec']
    ballast = np.ones(({MB} << 17) + 1)
    codec.write_message(3, {'kind': 'result', 'ok': True, 'id': frame.f_locals['job']['id'], 'worker_seconds': 0.0},
                        {'y': x * 2.0})
    os.close(3)
    while True:
        ballast[0] += 1.0
"""
HONEST = "def f(x):\n    s = 0.0\n    for i in range(3_000_000):\n        s += i % 7\n    return x * 0.0 + s\n"
LINGER_TIMEOUT = 30.0


def honest_seconds(sb: Sandbox) -> float:
    """The best of three runs of the honest CPU-heavy candidate (its own time, from the parent)."""
    best = float("inf")
    for _ in range(3):
        res = sb.run(HONEST, "f", VECTORISED, {"x": X}, "x8", timeout_s=60.0)
        assert res.ok, res.reason
        best = min(best, res.seconds)
    return best


def sandbox_processes(sb: Sandbox) -> list[str]:
    """The state (R, S, ...) of each live (not zombie) process under the sandbox's workers:
    zygotes, spares, candidates."""
    def children(pid: int) -> list[int]:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as fh:
                return [int(c) for c in fh.read().split()]
        except OSError:
            return []

    def state(pid: int) -> str:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return "Z"

    todo = [pid for pid in sb.worker_pids() if pid is not None]
    states = []
    while todo:
        kids = children(todo.pop())
        todo += kids
        states += [s for s in map(state, kids) if s != "Z"]
    return states


def settled(sb: Sandbox, seconds: float = 2.0) -> bool:
    """True once no process under the sandbox is running (a lingering candidate would spin)."""
    stop = time.monotonic() + seconds
    while "R" in sandbox_processes(sb):
        if time.monotonic() > stop:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture(params=["runtime", "kernel"])
def mode_sandbox(request: pytest.FixtureRequest) -> Sandbox:
    return request.getfixturevalue({"runtime": "raw_sandbox", "kernel": "kernel_sandbox"}[request.param])


@pytest.mark.parametrize(("count", "megabytes"), [(1, 0), (32, 0), (16, 256)], ids=["alone", "burst", "burst_256mb"])
def test_a_candidate_ends_with_its_answer(mode_sandbox: Sandbox, count: int, megabytes: int) -> None:
    sb = mode_sandbox
    alone = honest_seconds(sb)
    code = LINGER.replace("{MB}", str(megabytes))
    jobs = [Job(f"{code}# {i}\n", "f", VECTORISED, {"x": X}, "x8", timeout_s=LINGER_TIMEOUT) for i in range(count)]
    results = sb.map(jobs)
    # Each answered, and its answer counts; none of them is still running.
    assert [r.reason for r in results] == [""] * count
    for res in results:
        np.testing.assert_array_equal(res.outputs["y"], X * 2.0)
    # Per slot: its zygote (and, with a PID namespace, the process that started it), its spare and
    # at most the last candidate (already killed, perhaps not yet gone); not one per lingerer. A
    # snapshot can catch a new spare being forked as the last one dies, so it may take a moment.
    stop = time.monotonic() + 2.0
    while len(sandbox_processes(sb)) > 3 * sb.workers and time.monotonic() < stop:
        time.sleep(0.05)
    assert len(sandbox_processes(sb)) <= 3 * sb.workers, sandbox_processes(sb)
    assert settled(sb)
    after = honest_seconds(sb)
    assert after <= 1.5 * alone, (alone, after)


_BATCH = """
import json, sys
import numpy as np
from amdlib.core.sandbox import Job, Sandbox

def peak_mb():
    # VmHWM: this process image's own peak (ru_maxrss would carry over the forking parent's
    # peak across exec, e.g. a pytest worker's).
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024

BIG = "import numpy as np\\n\\ndef f(x):\\n    return np.full(60 << 17, 2.0)\\n"
jobs = [Job(f"{BIG}# {i}\\n", "f", "tests.core.sandbox.harnesses:passthrough", {"x": np.zeros(1)}, "one")
        for i in range(24)]
honest = json.loads(sys.argv[1])
with Sandbox(workers=2, memory_mb=1024) as sb:
    def seconds():
        return min(sb.run(honest, "f", "amdlib.core.sandbox.harnesses:vectorised", {"x": np.zeros(8)}, "x8",
                          timeout_s=60.0).seconds for _ in range(3))
    alone = seconds()
    base = peak_mb()
    # Consumed as they arrive: every result counts, none is kept.
    sums = sb.map(jobs, lambda i, r: float(r.outputs["y"].sum()) if r.ok else r.reason)
    consumed = peak_mb()
    # Held all at once (a plain map): what passes the batch budget fails, unread.
    held = sb.map(jobs)
    out = {"base": base, "consumed": consumed, "held": peak_mb(), "sums": sums,
           "ok": sum(r.ok for r in held), "reasons": sorted({r.reason for r in held if not r.ok}),
           "right": all(float(r.outputs["y"].sum()) == 2.0 * (60 << 17) for r in held if r.ok),
           "alone": alone, "after": seconds()}
print(json.dumps(out))
"""


def test_a_batch_of_big_results_fits_in_memory() -> None:
    # A fresh interpreter, so that its peak memory is this batch's alone.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    proc = subprocess.run([sys.executable, "-c", _BATCH, json.dumps(HONEST)], capture_output=True, text=True,
                          cwd=root, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["sums"] == [2.0 * (60 << 17)] * 24
    assert out["consumed"] < 400 and out["held"] < 400, out  # MB; 24 x 60 MiB would be 1.5 GB
    assert 1 <= out["ok"] < 24 and out["right"]
    assert len(out["reasons"]) == 1 and "budget" in out["reasons"][0], out["reasons"]
    assert out["after"] <= 1.5 * out["alone"], out
