"""The zygote's loop: one fresh process per candidate, forked (and half-restricted) ahead of time.

A *spare* child is forked ahead of each job: it applies ``zygote.harden_early``,
prepares its heap (``heap.prepare``: faulted in ahead, as much as recent
candidates used), does the trusted per-job work once on sample data
(``_prefault``: the pages it writes are copied now, not on the job's critical
path) and blocks on its job pipe. The zygote hands both ends the parent needs
(the job pipe's write end, the result pipe's read end) to the parent at once
(``S``, ``SCM_RIGHTS``) and keeps neither: the parent writes a job whose
payload the spare inherited straight into the spare (no hop through the
zygote), then tells the zygote it started (a ``start`` frame: the zygote
arms the job's wall-clock limit and forks the next spare). Any other job (its
payload sent with it, or not in the spare) goes to the zygote, which forks a
child for it (the spare is discarded) and passes its result pipe back
(``F``). Either way the child answers on its own fresh result pipe, which
holds up to ``PIPE_BYTES`` so that most answers go out in one write, and is
gone afterwards: no state survives a candidate.

A candidate process ends with its answer: the parent sends ``K`` as soon as it
has read a result (a process that answered and kept running is killed then,
not at its deadline), and no job starts before every earlier job's process has
ended (the zygote kills and reaps them before it forks a job's child; a spare,
given the pidfd of the job's process that was current when it was forked,
waits on it once it has its job), so a slot never has more than one live
candidate process, however its predecessors behave. Anything a candidate process could have started (it cannot:
``RLIMIT_NPROC`` is 0 and seccomp refuses ``clone``) would be reaped too: the
zygote reaps every child it has, as init of its PID namespace orphans
included.

Zygote -> parent, on the control socket, one tag byte each: ``S`` (a spare's
two pipe ends attached, then a ``spare`` frame: its number and payload keys),
``F`` (the job's result pipe attached), ``N`` (payload not cached: send it),
``D`` followed by a ``done`` frame (a job's process ended: id, returncode,
timed_out). Parent -> zygote: ``job`` frames, ``start`` frames (spare number,
job id, timeout) and ``K`` (kill the current job's process). A job's process is
killed at its wall-clock limit.
"""

from __future__ import annotations

import fcntl
import gc
import json
import os
import resource
import select
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import amdlib.core.sandbox.codec as codec
import amdlib.core.sandbox.heap as heap
import amdlib.core.sandbox.jail as jail
from amdlib.core.sandbox.zygote import CONTROL_FD, JOB_FD, RESULT_FD, WATCH_FD, Layers, harden_early, harden_late

RunCandidate = Callable[[dict[str, Any], Any], None]
Lookup = Callable[[dict[str, Any], dict[str, Any]], Any]
#: Capacity asked for each result pipe (Linux's default cap for unprivileged users is 1 MiB).
PIPE_BYTES = 1 << 20


@dataclass
class Child:
    pid: int
    pidfd: int
    job_id: Any = None  # None: no job (a spare), or a job whose end is not reported
    deadline: float = float("inf")
    timed_out: bool = False
    prefault: int = 0  # heap bytes the spare faulted in ahead of its job
    number: int = 0  # a spare's number (0: forked for a job)
    limit: float = 0.0  # its job's wall-clock limit (seconds)
    after: int = 0  # a process this one waits for: its limit starts when that one has ended


def _pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


class ForkServer:
    """The zygote's state: live children, the spare, the control socket."""

    def __init__(self, control: socket.socket, layers: Layers, memory_mb: int, run: RunCandidate,
                 lookup: Lookup, cached_keys: Callable[[], frozenset[str]]) -> None:
        self.control, self.layers, self.memory_mb = control, layers, memory_mb
        self.run_candidate, self.lookup, self.cached_keys = run, lookup, cached_keys
        self.children: dict[int, Child] = {}
        self.current: Child | None = None
        self.spare: Child | None = None
        self.spares = 0
        #: Spares that ended before the parent started them: number -> (status, rusage).
        self.ended: dict[int, tuple[int, Any]] = {}
        self.heap = heap.Estimate(memory_mb << 17)  # at most an eighth of the memory limit

    # ------------------------------------------------------------ children
    def _fork(self, job: dict[str, Any] | None, payload: Any, watch: int = -1) -> tuple[Child, int, int]:
        """A child for ``job`` (or a spare, waiting on its job pipe, then for the process of
        pidfd ``watch`` to end); with the result pipe's read end and the job pipe's write end
        (-1 for a job's child)."""
        result_r, result_w = os.pipe()
        try:
            fcntl.fcntl(result_w, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # over this user's pipe allowance: the default size still works
            pass
        job_r, job_w = os.pipe() if job is None else (-1, -1)
        prefault = heap.rounded(self.heap.bytes) if job is None else 0
        pid = jail.fork()  # a plain copy of this single-threaded zygote (see jail.fork)
        if pid == 0:  # pragma: no cover - the candidate process
            self._child(job, payload, result_w, job_r, prefault, watch)
        os.close(result_w)
        if job_r >= 0:
            os.close(job_r)
        child = Child(pid, _pidfd(pid), prefault=prefault)
        self.children[pid] = child
        return child, result_r, job_w

    def _new_spare(self) -> None:
        """Fork the next spare and hand its pipe ends to the parent (the zygote keeps neither).

        The spare starts its job only once the current job's process has ended: it waits on
        that process's pidfd itself, or (where there are no pidfds) the parent waits for the
        job's ``done`` report first (``after``)."""
        current = self.current if self.current is not None and self.current.pid in self.children else None
        watch = current.pidfd if current is not None else -1
        after = current.job_id if current is not None and watch < 0 else None
        self.spare, result_r, job_w = self._fork(None, None, watch)
        self.spares += 1
        self.spare.number = self.spares
        self.spare.after = current.pid if current is not None and watch >= 0 else 0
        try:
            self._send(b"S", {"kind": "spare", "number": self.spares, "keys": sorted(self.cached_keys()),
                              "after": after}, fds=[job_w, result_r])
        finally:
            os.close(job_w)
            os.close(result_r)

    def _child(self, job: dict[str, Any] | None, payload: Any, result_w: int, job_r: int,
               prefault: int, watch: int) -> None:  # pragma: no cover
        code = 1
        try:
            os.dup2(result_w, RESULT_FD)
            if job_r >= 0:
                os.dup2(job_r, JOB_FD)
            if watch >= 0:
                os.dup2(watch, WATCH_FD)
            try:
                keep = RESULT_FD if job is not None else WATCH_FD if watch >= 0 else JOB_FD
                harden_early(self.layers, self.memory_mb, keep=keep)
                heap.prepare(prefault)
                if job is None:  # a spare: wait for the job, then find its payload in the inherited cache
                    _prefault(numpy_work=prefault > 0)
                    job = _read_job(JOB_FD)
                    os.close(JOB_FD)
                    if watch >= 0:  # the slot's previous candidate process must be gone first
                        _wait_gone(WATCH_FD)
                        os.close(WATCH_FD)
                    payload = self.lookup(job, {})
                harden_late(self.layers, float(job["timeout"]), bool(job.get("python_layer", True)))
            except BaseException as err:  # never run a candidate half-restricted
                if job is not None:
                    codec.write_message(RESULT_FD, {"kind": "result", "id": job.get("id"), "ok": False,
                                                    "reason": f"sandbox: could not restrict the process: {err}"})
                os._exit(1)
            self.run_candidate(job, payload)
            code = 0
        finally:
            os._exit(code)

    def _kill(self, child: Child) -> None:
        if child.pid in self.children:  # not reaped yet: the pid cannot have been reused
            try:
                os.kill(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _discard_spare(self) -> None:
        if self.spare is not None:
            self._kill(self.spare)
            self.spare = None

    def _reap(self) -> None:
        """Reap every ended child (orphans a candidate left to this init included)."""
        while self.children:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is not None:
                self._ended(child, status, usage)

    def _retire(self) -> None:
        """Kill and reap every earlier job's process (blocking): the slot's next candidate
        starts alone, with the memory and CPU of the ones before it given back."""
        for child in [c for c in self.children.values() if c is not self.spare]:
            self._kill(child)
            _, status, usage = os.wait4(child.pid, 0)
            del self.children[child.pid]
            self._ended(child, status, usage)

    def _ended(self, child: Child, status: int, usage: Any) -> None:
        if child.pidfd >= 0:
            os.close(child.pidfd)
        for waiting in self.children.values():  # its successor starts now: so does its time limit
            if waiting.after == child.pid:
                waiting.after = 0
                if waiting.job_id is not None:
                    waiting.deadline = time.monotonic() + waiting.limit
        if child is self.spare:  # it may have been started by the parent already: keep how it ended
            self.spare = None
            self.ended = {n: v for n, v in self.ended.items() if n > child.number - 8}
            self.ended[child.number] = (status, usage)
        if child.job_id is not None:  # learn how much memory candidates touch (capped: a hint)
            growth = (usage.ru_maxrss - resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) << 10
            self.heap.update(child.prefault, growth)
            self._done(child.job_id, child.timed_out, status, usage)

    def _done(self, job_id: Any, timed_out: bool, status: int, usage: Any) -> None:
        self._send(b"D", {"kind": "done", "id": job_id, "timed_out": timed_out,
                          "returncode": os.waitstatus_to_exitcode(status),
                          "cpu_seconds": usage.ru_utime + usage.ru_stime})

    def _send(self, tag: bytes, frame: dict[str, Any] | None = None, fds: list[int] | None = None) -> None:
        if fds:
            socket.send_fds(self.control, [tag], fds)
        else:
            self.control.sendall(tag)
        if frame is not None:
            codec.write_message(CONTROL_FD, frame)

    # ---------------------------------------------------------------- jobs
    def _dispatch(self, job: dict[str, Any], arrays: dict[str, Any]) -> None:
        """A job sent to the zygote: a child forked for it (the spare, announced to the parent,
        is the parent's to start, so it is discarded here)."""
        payload = self.lookup(job, arrays)
        if payload is None:
            self._send(b"N")
            return
        self._retire()
        self._discard_spare()
        child, result_r, _ = self._fork(job, payload)
        child.job_id, child.deadline = job.get("id"), time.monotonic() + float(job["timeout"])
        self.current = child
        try:
            self._send(b"F", fds=[result_r])
        finally:
            os.close(result_r)
        self._new_spare()

    def _start(self, start: dict[str, Any]) -> None:
        """The parent handed a job to spare ``number``: arm its limit (or report how it ended)."""
        number, job_id = start.get("number"), start.get("id")
        spare = self.spare if self.spare is not None and self.spare.number == number else None
        if spare is None and number not in self.ended:
            raise codec.ProtocolError(f"start of an unknown spare {number!r}")
        self.spare = None
        earlier = [c for c in self.children.values() if c is not spare and c.job_id is not None]
        for child in earlier:  # answered (or failed) already: the spare waits for its end
            self._kill(child)
        if spare is not None:
            # Its time limit starts once the process it waits for (the one current when it was
            # forked) has ended: a predecessor never shortens a candidate's time.
            spare.job_id, spare.limit = job_id, float(start["timeout"])
            spare.after = spare.after if spare.after in self.children else 0
            spare.deadline = float("inf") if spare.after else time.monotonic() + spare.limit
            self.current = spare
        else:  # it ended before this start arrived (it may have run the job already)
            status, usage = self.ended.pop(number)
            self.current = None
            self._done(job_id, False, status, usage)
        self._new_spare()

    def serve(self) -> int:
        """Answer jobs until the parent closes the socket."""
        gc.collect()
        gc.freeze()  # the zygote's objects stay out of the children's collections (fewer copied pages)
        self._new_spare()
        while True:
            fds = {CONTROL_FD} | {c.pidfd for c in self.children.values() if c.pidfd >= 0}
            poller = select.poll()
            for fd in fds:
                poller.register(fd, select.POLLIN)
            waits = [c.deadline - time.monotonic() for c in self.children.values() if not c.timed_out]
            wait_ms = min([1000.0] + [max(0.0, w) * 1000 + 1 for w in waits])
            if any(c.pidfd < 0 for c in self.children.values()):
                wait_ms = min(wait_ms, 5.0)  # no pidfd here: look for ended children often
            events = {fd for fd, _ in poller.poll(wait_ms)}
            if CONTROL_FD in events and not self._control():
                for child in list(self.children.values()):
                    self._kill(child)
                return 0
            now = time.monotonic()
            for child in self.children.values():
                if not child.timed_out and child.deadline <= now:
                    child.timed_out = True
                    self._kill(child)
            self._reap()

    def _control(self) -> bool:
        """Handle what the parent sent; False when it is gone."""
        try:
            first = self.control.recv(1, socket.MSG_PEEK)
            if first == b"K":
                self.control.recv(1)
                if self.current is not None:
                    self._kill(self.current)
                return True
            if not first:
                return False
            frame, arrays = codec.read_message(CONTROL_FD, max_body=1 << 40, readonly=True)
            if frame.get("kind") == "start":
                self._start(frame)
                return True
        except (codec.ProtocolError, OSError, KeyError, TypeError, ValueError):
            return False
        self._dispatch(frame, arrays)
        return True


_SAMPLE_JOB = json.dumps({"kind": "job", "code": "import numpy as np\n\ndef f(x):\n    return np.asarray(x)\n",
                          "entry": "f", "harness": "m:h", "key": "k", "timeout": 10.0, "modules": ["numpy", "math"],
                          "policy": True, "python_layer": True, "id": 1, "has_payload": False})


def _prefault(numpy_work: bool) -> None:  # pragma: no cover - in a spare
    """Do, while a spare waits for its job, the trusted work every job repeats (parse a job,
    compile a function, frame a reply) and, where recent candidates did real work
    (``numpy_work``: they needed heap), the numpy operations harnesses and mechanisms use most,
    once on small sample data: the memory pages that work writes (reference counts, caches) are
    copied from the zygote, and numpy's code pages mapped, now instead of on the job's critical
    path (a page fault each: about 300 fewer for a facility candidate; for trivial candidates the
    numpy part would cost more than it saves). Nothing of a candidate exists yet; what is left
    behind is free memory."""
    job = json.loads(_SAMPLE_JOB)
    codec.decode_arrays([], memoryview(b""))
    compile(job["code"], "<prefault>", "exec", dont_inherit=True)
    codec.encode({"kind": "result", "ok": True, "id": 1, "worker_seconds": 0.001}, {"y": [0.0, 1.0]})
    if not numpy_work:
        return
    x = np.linspace(0.0, 1.0, 64).reshape(8, 8)
    best = np.argmax(x, axis=1)
    (np.quantile(x, np.array([0.25, 0.75]), axis=1, method="inverted_cdf"), np.median(x, axis=1),
     np.sort(x, axis=1), np.argsort(x, axis=0), np.partition(x, 3, axis=1), np.cumsum(x, axis=1),
     np.concatenate([x, x]), np.stack([x, x]), np.broadcast_to(x[:1], (4, 8)).copy(), np.abs(x - 0.5).min(axis=1),
     np.take_along_axis(x, best[:, None], axis=1), np.where(x > 0.5, x, 0.0).mean(axis=0), np.maximum(x, 0.5).sum(),
     x @ x[0], np.asarray(x, dtype=float), np.isfinite(x).all(), np.allclose(x, x), np.transpose(x).copy())


def _wait_gone(pidfd: int) -> None:  # pragma: no cover - in a spare
    """Block until the process of ``pidfd`` has ended (its memory is given back then). With
    ``select``: ``poll`` refuses more descriptors than ``RLIMIT_NOFILE``, which is 0 here."""
    while not select.select([pidfd], [], [])[0]:
        pass


def _read_job(fd: int) -> dict[str, Any]:  # pragma: no cover - in a spare
    """The job frame the parent writes into a spare's job pipe (exit quietly if it closes it)."""
    try:
        job, _ = codec.read_message(fd, max_body=0)
    except codec.ProtocolError:
        os._exit(0)  # discarded, or the parent went away
    return job
