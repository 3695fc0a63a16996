"""``Sandbox``: a pool of warm worker processes that run untrusted candidates.

``run`` is thread-safe: each call borrows an idle worker slot. A slot's worker
is started on first use with the modules the job needs (numpy, math, the
declared allow-list, the harness module) and replaced after a timeout, a
death, a protocol violation, a memory error or ``max_jobs_per_worker`` jobs,
or when a job needs a module it did not preload.
"""

from __future__ import annotations

import importlib.util
import math
import os
import queue
import shutil
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from amdlib.core.sandbox import codec
from amdlib.core.sandbox.policy import BASE_MODULES, check_modules, check_policy
from amdlib.core.sandbox.process import WorkerProcess

MAX_REASON = 300
WRITE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Job:
    """One candidate run: ``harness(code's entry function, payload)`` under ``timeout_s``."""

    code: str
    entry: str
    harness: str
    payload: Mapping[str, np.ndarray]
    payload_key: str
    timeout_s: float = 10.0
    allowed_modules: tuple[str, ...] = BASE_MODULES


@dataclass
class SandboxResult:
    """``outputs`` (the harness's arrays) when ``ok``; otherwise ``reason`` says why not."""

    ok: bool
    outputs: dict[str, np.ndarray] | None
    reason: str
    seconds: float


def _fail(reason: str, start: float) -> SandboxResult:
    reason = " ".join(reason.split())[:MAX_REASON]
    return SandboxResult(False, None, reason, time.monotonic() - start)


def _check_outputs(outputs: dict[str, np.ndarray]) -> str | None:
    for name, arr in outputs.items():
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            return f"output '{name}' has non-finite values (NaN or inf)"
    return None


def _shutdown(slots: list[WorkerProcess | None], workdir: str) -> None:
    for i, worker in enumerate(slots):
        if worker is not None:
            worker.kill()
            slots[i] = None
    shutil.rmtree(workdir, ignore_errors=True)


class Sandbox:
    """Warm worker processes for untrusted code (use as a context manager)."""

    def __init__(self, workers: int = 2, memory_mb: int = 2048, *, max_output_mb: int = 64,
                 payload_cache: int = 4, max_jobs_per_worker: int = 1000, ast_policy: bool = True) -> None:
        """``ast_policy=False`` skips the static check (only to test the run-time layers)."""
        if workers < 1 or memory_mb < 256:
            raise ValueError("need workers >= 1 and memory_mb >= 256")
        self.workers, self.memory_mb = int(workers), int(memory_mb)
        self.max_output_mb, self.payload_cache = int(max_output_mb), int(payload_cache)
        self.max_jobs_per_worker, self.ast_policy = int(max_jobs_per_worker), bool(ast_policy)
        #: The workers' working directory: empty and read-only to them.
        self.workdir = tempfile.mkdtemp(prefix="amdlib-sandbox-")
        os.chmod(self.workdir, 0o555)
        self._slots: list[WorkerProcess | None] = [None] * self.workers
        self._idle: queue.LifoQueue[int] = queue.LifoQueue()
        for i in reversed(range(self.workers)):
            self._idle.put(i)
        self._lock = threading.Lock()
        self._closed = False
        self._executor: ThreadPoolExecutor | None = None
        self._harnesses: set[str] = set()
        #: How many times a payload was sent to a worker (it is cached there by key).
        self.payload_sends = 0
        self._finalizer = weakref.finalize(self, _shutdown, self._slots, self.workdir)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Kill every worker and remove the working directory."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        self._finalizer()

    def worker_pids(self) -> list[int | None]:
        """Process id of each slot's worker (None where none is running)."""
        return [w.proc.pid if w is not None and w.alive() else None for w in self._slots]

    def run(self, code: str, entry: str, harness: str, payload: Mapping[str, np.ndarray], payload_key: str,
            timeout_s: float = 10.0, allowed_modules: tuple[str, ...] = BASE_MODULES) -> SandboxResult:
        """Run ``harness(entry function of code, payload)`` in a worker; never raises for bad code."""
        return self.run_job(Job(code, entry, harness, payload, payload_key, timeout_s, tuple(allowed_modules)))

    def map(self, jobs: list[Job]) -> list[SandboxResult]:
        """Run ``jobs`` in parallel over the workers; results in job order."""
        with self._lock:
            if self._closed:
                raise RuntimeError("sandbox is closed")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="sandbox")
            executor = self._executor
        return list(executor.map(self.run_job, jobs))

    def run_job(self, job: Job) -> SandboxResult:
        """``run`` for a ``Job`` record."""
        start = time.monotonic()
        self._validate(job)
        if self.ast_policy:
            problem = check_policy(job.code, job.entry, job.allowed_modules)
            if problem:
                return _fail(f"policy: {problem}", start)
        slot = self._idle.get()
        try:
            return self._run_on(slot, job, start)
        finally:
            self._idle.put(slot)

    def _validate(self, job: Job) -> None:
        # Caller mistakes (trusted code) raise; candidate mistakes become results.
        if self._closed:
            raise RuntimeError("sandbox is closed")
        problem = check_modules(tuple(job.allowed_modules))
        if problem:
            raise ValueError(problem)
        if not (job.timeout_s > 0 and math.isfinite(job.timeout_s)):
            raise ValueError("timeout_s must be a positive number")
        if job.harness not in self._harnesses:
            module, sep, func = job.harness.partition(":")
            if not sep or not func or importlib.util.find_spec(module) is None:
                raise ValueError(f"harness must be 'module:function' of an importable module, got {job.harness!r}")
            self._harnesses.add(job.harness)

    def _worker_for(self, slot: int, job: Job) -> WorkerProcess:
        modules = frozenset(BASE_MODULES) | frozenset(job.allowed_modules)
        harness_module = job.harness.partition(":")[0]
        worker = self._slots[slot]
        if worker is not None and (not worker.alive() or not worker.covers(modules, harness_module)
                                   or worker.jobs >= self.max_jobs_per_worker):
            # Keep what the old worker had preloaded so alternating jobs do not thrash.
            modules |= frozenset(worker.spec["modules"]) if worker.alive() else frozenset()
            harnesses = set(worker.spec["harness_modules"]) | {harness_module}
            worker.kill()
            worker = self._slots[slot] = self._start(modules, harnesses)
        elif worker is None:
            worker = self._slots[slot] = self._start(modules, {harness_module})
        worker.wait_ready()
        return worker

    def _start(self, modules: frozenset[str], harness_modules: set[str]) -> WorkerProcess:
        with self._lock:
            if self._closed:
                raise RuntimeError("sandbox is closed")
            spec = {"memory_mb": self.memory_mb, "max_output_mb": self.max_output_mb,
                    "cache_entries": self.payload_cache, "modules": sorted(modules),
                    "harness_modules": sorted(harness_modules)}
            return WorkerProcess(spec, self.workdir)

    def _replace(self, slot: int) -> str:
        """Kill the slot's worker and start a fresh one with the same spec; returns the death reason."""
        worker = self._slots[slot]
        assert worker is not None
        reason = worker.kill()
        self._slots[slot] = None
        if not self._closed:
            self._slots[slot] = self._start(frozenset(worker.spec["modules"]), set(worker.spec["harness_modules"]))
        return reason

    def _run_on(self, slot: int, job: Job, start: float) -> SandboxResult:
        ready_at = time.monotonic()
        worker = self._worker_for(slot, job)
        start += time.monotonic() - ready_at  # a worker's start-up is not the candidate's time
        worker.jobs += 1
        header = {"kind": "job", "code": job.code, "entry": job.entry, "harness": job.harness,
                  "key": str(job.payload_key), "timeout": float(job.timeout_s),
                  "modules": list(job.allowed_modules), "policy": self.ast_policy, "id": worker.jobs}
        send_payload = job.payload_key not in worker.cached
        for _attempt in range(2):
            try:
                arrays = dict(job.payload) if send_payload else None
                with self._lock:
                    self.payload_sends += int(send_payload)
                worker.send({**header, "has_payload": send_payload}, arrays, time.monotonic() + WRITE_TIMEOUT_S)
                worker.remember(str(job.payload_key), self.payload_cache)
                deadline = time.monotonic() + job.timeout_s
                reply, outputs = worker.receive((self.max_output_mb << 20) + 4096, deadline)
            except codec.Timeout:
                self._replace(slot)
                return _fail(f"timeout: no result within {job.timeout_s:g} s (worker killed)", start)
            except codec.ProtocolError as err:
                reason = self._replace(slot)
                return _fail(reason if reason != "worker killed" else f"protocol violation: {err}", start)
            if reply.get("kind") == "need_payload" and not send_payload:
                send_payload = True  # the worker evicted it: send it again once
                continue
            break
        return self._finish(slot, job, reply, outputs, start)

    def _finish(self, slot: int, job: Job, reply: dict[str, Any], outputs: dict[str, np.ndarray],
                start: float) -> SandboxResult:
        worker = self._slots[slot]
        assert worker is not None
        if reply.get("kind") != "result" or reply.get("id") != worker.jobs or not isinstance(reply.get("ok"), bool):
            self._replace(slot)
            return _fail("protocol violation: unexpected reply", start)
        if reply.get("recycle"):
            self._replace(slot)
        if not reply["ok"]:
            reason = reply.get("reason")
            return _fail(reason if isinstance(reason, str) and reason else "failed without a reason", start)
        problem = _check_outputs(outputs)
        if problem:
            return _fail(problem, start)
        return SandboxResult(True, outputs, "", time.monotonic() - start)
