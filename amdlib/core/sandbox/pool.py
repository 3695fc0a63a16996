"""``Sandbox``: a pool of warm zygotes; each candidate runs in its own fresh, restricted process.

``run`` is thread-safe: each call borrows an idle worker slot. A slot's
zygote is started on first use with the modules the job needs (numpy, math,
the declared allow-list, the harness module) and forks one process per
candidate (``zygote``), which is killed once its result is read and has
ended before the slot's next job starts, so no candidate can change what a
later one sees or outlive its answer. A zygote is replaced when it dies or hangs, after
``max_jobs_per_worker`` jobs, or when a job needs a module it did not
preload.

A batch fits a memory budget: ``map`` holds at most ``max_batch_mb`` of
results at once (a result that would pass it fails, unread, with a reason
saying so), and ``map(jobs, consume)`` hands each result to ``consume`` as it
arrives and keeps only what ``consume`` returns, with at most ``workers + 1``
jobs in flight, so the parent's memory does not grow with the batch.

``Sandbox.layers()`` says which containment layers hold on this machine
(where Landlock is off, a private mount namespace with an empty read-only
root takes its place for the file system: ``mount_namespace``)
(``{"seccomp": "on", "landlock": "on (ABI 7)", "pid_namespace": "off: ...",
...}``); a missing one is logged once per process. Where neither seccomp nor
Landlock works, the sandbox refuses to run code (``SandboxUnsafe``) unless
it was made with ``unsafe=True`` or ``AMDLIB_UNSAFE_SANDBOX=1`` is set (what
the CLI's ``--unsafe-sandbox`` must set).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import queue
import shutil
import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

import amdlib.core.sandbox.codec as codec
import amdlib.core.sandbox.layercache as layercache
import amdlib.core.sandbox.workdir as workdir
from amdlib.core.sandbox.policy import BASE_MODULES, check_modules, check_policy
from amdlib.core.sandbox.process import Budget, WorkerProcess
from amdlib.errors import UserError

MAX_REASON = 300
#: Kernel layers a sandbox applies (a private mount namespace only where Landlock is off).
KERNEL_LAYERS = ("seccomp", "landlock", "mount_namespace")
#: Layers of which at least one must hold before untrusted code runs (unless unsafe).
REQUIRED_ONE_OF = ("seccomp", "landlock")
UNSAFE_ENV = "AMDLIB_UNSAFE_SANDBOX"
LOG = logging.getLogger("amdlib.sandbox")
_REPORTED: set[str] = set()


def machine_layers() -> dict[str, str]:
    """``Sandbox.layers()`` of a default sandbox on this machine, as the last one of this user and
    boot reported it (``layercache``); probed with a zygote only when none has run."""
    def probe() -> dict[str, str]:
        with Sandbox(workers=1, unsafe=True) as sb:
            return sb.layers()

    status = layercache.machine_layers(probe)
    _report_once(status)  # the missing layers, in this process's log too
    return status


class SandboxUnsafe(UserError):
    """No kernel layer holds here, and running untrusted code without one was not allowed."""


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


def _report_once(status: dict[str, str]) -> None:
    off = ", ".join(f"{k} ({v[4:].strip()})" for k, v in sorted(status.items()) if v.startswith("off"))
    if off and off not in _REPORTED:
        _REPORTED.add(off)
        LOG.warning("sandbox layers unavailable on this machine: %s", off)


def _shutdown(slots: list[WorkerProcess | None], workdir_path: str) -> None:
    for i, worker in enumerate(slots):
        if worker is not None:
            worker.kill()
            slots[i] = None
    shutil.rmtree(workdir_path, ignore_errors=True)


class Sandbox:
    """Warm worker processes for untrusted code (use as a context manager)."""

    def __init__(self, workers: int = 2, memory_mb: int = 2048, *, max_output_mb: int = 64,
                 max_batch_mb: int | None = None, payload_cache: int = 4, max_jobs_per_worker: int = 1000,
                 ast_policy: bool = True, python_layer: bool = True,
                 kernel_layers: tuple[str, ...] = KERNEL_LAYERS, unsafe: bool | None = None) -> None:
        """``max_output_mb`` caps one result, ``max_batch_mb`` (default four results) what one
        ``map`` holds at once. ``ast_policy=False`` skips the static check, ``python_layer=False``
        the restricted builtins and audit hook, and ``kernel_layers`` names the kernel filters to
        apply (all three only to test the other layers alone). ``unsafe`` allows running where no
        kernel layer holds (default: whether the ``AMDLIB_UNSAFE_SANDBOX`` variable is set)."""
        if workers < 1 or memory_mb < 256:
            raise ValueError("need workers >= 1 and memory_mb >= 256")
        self.workers, self.memory_mb = int(workers), int(memory_mb)
        self.max_output_mb, self.payload_cache = int(max_output_mb), int(payload_cache)
        self.max_batch_mb = int(max_batch_mb) if max_batch_mb is not None else 4 * self.max_output_mb
        if self.max_batch_mb < self.max_output_mb:
            raise ValueError("max_batch_mb must hold at least one result (max_output_mb)")
        self.max_jobs_per_worker, self.ast_policy = int(max_jobs_per_worker), bool(ast_policy)
        self.python_layer = bool(python_layer)
        unknown = set(kernel_layers) - set(KERNEL_LAYERS)
        if unknown:
            raise ValueError(f"unknown kernel layers {sorted(unknown)}; known: {KERNEL_LAYERS}")
        self.kernel_layers = tuple(kernel_layers)
        self.unsafe = bool(os.environ.get(UNSAFE_ENV)) if unsafe is None else bool(unsafe)
        self._layers: dict[str, str] | None = None
        workdir.clean_stale()
        #: The workers' working directory: empty and read-only to them.
        self.workdir = workdir.make()
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

    def layers(self) -> dict[str, str]:
        """Each containment layer and whether it holds here: ``"on ..."`` or ``"off: why"``.

        Starts a worker if none has started yet (the zygote finds out what
        the kernel allows). Meant for run.json and the log.
        """
        if self._layers is None:
            slot = self._idle.get()
            try:
                if self._slots[slot] is None:
                    self._slots[slot] = self._start(frozenset(BASE_MODULES), {"amdlib.core.sandbox.harnesses"})
                self._ready(self._slots[slot])
            finally:
                self._idle.put(slot)
        assert self._layers is not None
        return dict(self._layers)

    def _ready(self, worker: WorkerProcess) -> None:
        """Wait for a zygote, learn the layers once, and refuse if no kernel layer holds."""
        worker.wait_ready()
        status = {str(k): str(v) for k, v in worker.info["layers"].items()}
        if self._layers is None:
            _report_once(status)
        status["ast_policy"] = "on" if self.ast_policy else "off"
        status["python_layer"] = "on (restricted builtins, audit hook)" if self.python_layer else "off"
        if self._layers is None:
            self._layers = status
            if self.kernel_layers == KERNEL_LAYERS and self.ast_policy and self.python_layer:
                layercache.remember(status)  # what run records report (``machine_layers``)
        if not self.unsafe and not any(status.get(k, "").startswith("on") for k in REQUIRED_ONE_OF):
            worker.kill()
            why = "; ".join(f"{k}: {status.get(k, 'off')}" for k in REQUIRED_ONE_OF)
            raise SandboxUnsafe(f"no kernel sandbox layer works on this machine ({why}), so untrusted code "
                                f"would be contained by Python alone; use Linux >= 5.13 with seccomp, or pass "
                                f"--unsafe-sandbox ({UNSAFE_ENV}=1) to run it anyway")

    def worker_pids(self) -> list[int | None]:
        """Process id of each slot's worker (None where none is running)."""
        return [w.proc.pid if w is not None and w.alive() else None for w in self._slots]

    def cpu_seconds(self) -> float:
        """CPU time of the running workers (zygotes and their reaped candidate processes)."""
        return sum(w.cpu_seconds() for w in list(self._slots) if w is not None)

    def run(self, code: str, entry: str, harness: str, payload: Mapping[str, np.ndarray], payload_key: str,
            timeout_s: float = 10.0, allowed_modules: tuple[str, ...] = BASE_MODULES) -> SandboxResult:
        """Run ``harness(entry function of code, payload)`` in a worker; never raises for bad code."""
        return self.run_job(Job(code, entry, harness, payload, payload_key, timeout_s, tuple(allowed_modules)))

    def map(self, jobs: Sequence[Job], consume: Callable[[int, SandboxResult], Any] | None = None) -> list[Any]:
        """Run ``jobs`` in parallel over the workers; results in job order.

        Without ``consume`` the results are returned, at most ``max_batch_mb``
        of outputs held at once (a result past that fails with a reason).
        With ``consume(index, result)``, called in this thread as each result
        arrives (in completion order), what it returns is kept instead, and at
        most ``workers + 1`` jobs are in flight: memory does not grow with the
        batch.
        """
        if len(jobs) == 1:  # in this thread: no hand-off to a pool thread and back (two wake-ups)
            res = self.run_job(jobs[0])
            return [res if consume is None else consume(0, res)]
        with self._lock:
            if self._closed:
                raise RuntimeError("sandbox is closed")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="sandbox")
            executor = self._executor
        if consume is None:
            budget = Budget(self.max_batch_mb << 20)
            return [res for res, _ in executor.map(lambda job: self._run_job(job, budget), jobs)]
        # Results come back through a queue (not kept by futures), each dropped once consumed;
        # the window of jobs in flight bounds what is held.
        arrived: queue.SimpleQueue[tuple[int, SandboxResult | None, BaseException | None]] = queue.SimpleQueue()

        def work(i: int, job: Job) -> None:
            try:
                arrived.put((i, self.run_job(job), None))
            except BaseException as err:  # noqa: BLE001 - raised in the caller's thread
                arrived.put((i, None, err))

        out: list[Any] = [None] * len(jobs)
        todo = iter(enumerate(jobs))
        futures: list[Future[None]] = []

        def submit_next() -> None:
            for i, job in todo:
                futures.append(executor.submit(work, i, job))
                return

        for _ in range(self.workers + 1):
            submit_next()
        try:
            for _ in range(len(jobs)):
                i, res, err = arrived.get()
                if err is not None:
                    raise err
                assert res is not None
                out[i] = consume(i, res)
                del res
                submit_next()
        finally:
            for future in futures:
                future.cancel()
        return out

    def run_job(self, job: Job) -> SandboxResult:
        """``run`` for a ``Job`` record."""
        return self._run_job(job, Budget(None))[0]

    def _run_job(self, job: Job, budget: Budget) -> tuple[SandboxResult, int]:
        """The result and the bytes it holds in ``budget`` (given back by the caller)."""
        start = time.monotonic()
        self._validate(job)
        if self.ast_policy:
            problem = check_policy(job.code, job.entry, job.allowed_modules)
            if problem:
                return _fail(f"policy: {problem}", start), 0
        slot = self._idle.get()
        try:
            return self._run_on(slot, job, start, budget)
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
        if worker is not None and (not worker.settle() or not worker.covers(modules, harness_module)
                                   or worker.jobs >= self.max_jobs_per_worker):
            # Keep what the old worker had preloaded so alternating jobs do not thrash.
            modules |= frozenset(worker.spec["modules"]) if worker.alive() else frozenset()
            harnesses = set(worker.spec["harness_modules"]) | {harness_module}
            worker.kill()
            worker = self._slots[slot] = self._start(modules, harnesses)
        elif worker is None:
            worker = self._slots[slot] = self._start(modules, {harness_module})
        self._ready(worker)
        return worker

    def _start(self, modules: frozenset[str], harness_modules: set[str]) -> WorkerProcess:
        with self._lock:
            if self._closed:
                raise RuntimeError("sandbox is closed")
            spec = {"memory_mb": self.memory_mb, "max_output_mb": self.max_output_mb,
                    "cache_entries": self.payload_cache, "modules": sorted(modules),
                    "kernel_layers": list(self.kernel_layers),
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

    def _run_on(self, slot: int, job: Job, start: float, budget: Budget) -> tuple[SandboxResult, int]:
        ready_at = time.monotonic()
        worker = self._worker_for(slot, job)
        start += time.monotonic() - ready_at  # a worker's start-up is not the candidate's time
        worker.jobs += 1
        header = {"kind": "job", "code": job.code, "entry": job.entry, "harness": job.harness,
                  "key": str(job.payload_key), "timeout": float(job.timeout_s),
                  "modules": list(job.allowed_modules), "policy": self.ast_policy,
                  "python_layer": self.python_layer, "id": worker.jobs}
        send_payload = job.payload_key not in worker.cached
        max_body = (self.max_output_mb << 20) + 4096
        for _attempt in range(2):
            arrays = dict(job.payload) if send_payload else None
            with self._lock:
                self.payload_sends += int(send_payload)
            try:
                outcome = worker.run({**header, "has_payload": send_payload}, arrays, job.timeout_s, max_body,
                                     budget)
            except codec.Timeout:
                self._replace(slot)
                return _fail(f"timeout: no result within {job.timeout_s:g} s (worker killed)", start), 0
            if outcome.zygote_lost:
                self._replace(slot)
                return _fail(outcome.reason, start), 0
            worker.remember(str(job.payload_key), self.payload_cache)
            if outcome.need_payload and not send_payload:
                send_payload = True  # the zygote evicted it: send it again once
                continue
            break
        if outcome.ok and outcome.outputs is not None:
            return SandboxResult(True, outcome.outputs, "", time.monotonic() - start), outcome.nbytes
        return _fail(outcome.reason or "failed without a reason", start), 0
