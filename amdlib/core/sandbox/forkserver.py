"""The zygote's loop: one fresh process per candidate, forked (and half-restricted) ahead of time.

A *spare* child is forked right after each job is handed out: it applies
``zygote.harden_early``, does the trusted per-job work once on sample data
(``_prefault``: the pages it writes are copied now, not on the job's
critical path) and blocks on its job pipe. The next job (if its
payload was cached when the spare was forked) goes to the spare, which then
applies ``zygote.harden_late`` and runs it; otherwise a child is forked for
the job. Either way the child answers on its own fresh result pipe, whose
read end goes to the parent (``SCM_RIGHTS``), and is gone afterwards: no
state survives a candidate, and fork and teardown stay off the critical path.

Zygote -> parent, on the control socket, one tag byte each: ``F`` (the
job's result pipe attached), ``N`` (payload not cached: send it), ``D``
followed by a ``done`` frame (a child ended: id, returncode, timed_out).
Parent -> zygote: job frames, and ``K`` (kill the current job's child).
A child is killed at its job's wall-clock limit.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable

from amdlib.core.sandbox import codec, jail
from amdlib.core.sandbox.zygote import CONTROL_FD, JOB_FD, RESULT_FD, Layers, harden_early, harden_late

RunCandidate = Callable[[dict[str, Any], Any], None]
Lookup = Callable[[dict[str, Any], dict[str, Any]], Any]


@dataclass
class Child:
    pid: int
    pidfd: int
    result_r: int = -1
    job_w: int = -1
    keys: frozenset[str] = frozenset()  # payload keys the child inherited (spares)
    job_id: Any = None  # None: no job (a spare), or a job whose end is not reported
    deadline: float = float("inf")
    timed_out: bool = False


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

    # ------------------------------------------------------------ children
    def _fork(self, job: dict[str, Any] | None, payload: Any) -> Child:
        result_r, result_w = os.pipe()
        job_r, job_w = os.pipe() if job is None else (-1, -1)
        pid = jail.fork()  # a plain copy of this single-threaded zygote (see jail.fork)
        if pid == 0:  # pragma: no cover - the candidate process
            self._child(job, payload, result_w, job_r)
        os.close(result_w)
        if job_r >= 0:
            os.close(job_r)
        child = Child(pid, _pidfd(pid), result_r, job_w, self.cached_keys() if job is None else frozenset())
        self.children[pid] = child
        return child

    def _child(self, job: dict[str, Any] | None, payload: Any, result_w: int, job_r: int) -> None:  # pragma: no cover
        code = 1
        try:
            os.dup2(result_w, RESULT_FD)
            if job_r >= 0:
                os.dup2(job_r, JOB_FD)
            try:
                harden_early(self.layers, self.memory_mb)
                if job is None:  # a spare: wait for the job, then find its payload in the inherited cache
                    _prefault()
                    job = _read_job(JOB_FD)
                    os.close(JOB_FD)
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
            for fd in (self.spare.result_r, self.spare.job_w):
                os.close(fd)
            self._kill(self.spare)
            self.spare = None

    def _reap(self) -> None:
        for pid, child in list(self.children.items()):
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if not done:
                continue
            del self.children[pid]
            if child.pidfd >= 0:
                os.close(child.pidfd)
            if child is self.spare:
                self._discard_spare()
            if child.job_id is not None:
                self._send(b"D", {"kind": "done", "id": child.job_id, "timed_out": child.timed_out,
                                  "returncode": os.waitstatus_to_exitcode(status),
                                  "cpu_seconds": usage.ru_utime + usage.ru_stime})

    def _send(self, tag: bytes, frame: dict[str, Any] | None = None, fd: int = -1) -> None:
        if fd >= 0:
            socket.send_fds(self.control, [tag], [fd])
        else:
            self.control.sendall(tag)
        if frame is not None:
            codec.write_message(CONTROL_FD, frame)

    # ---------------------------------------------------------------- jobs
    def _dispatch(self, job: dict[str, Any], arrays: dict[str, Any]) -> None:
        payload = self.lookup(job, arrays)
        if payload is None:
            self._send(b"N")
            return
        key = str(job["key"])
        spare, self.spare = self.spare, None
        if spare is not None and not job.get("has_payload") and key in spare.keys:
            body = json.dumps(job).encode()
            _write_all(spare.job_w, len(body).to_bytes(8, "little") + body)  # one write: one wake-up
            os.close(spare.job_w)
            child = spare
        else:
            self.spare = spare
            self._discard_spare()
            child = self._fork(job, payload)
        child.job_id, child.deadline = job.get("id"), time.monotonic() + float(job["timeout"])
        self.current = child
        self._send(b"F", fd=child.result_r)
        os.close(child.result_r)
        self.spare = self._fork(None, None)  # ready for the next job

    def serve(self) -> int:
        """Answer jobs until the parent closes the socket."""
        gc.collect()
        gc.freeze()  # the zygote's objects stay out of the children's collections (fewer copied pages)
        self.spare = self._fork(None, None)
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
            job, arrays = codec.read_message(CONTROL_FD, max_body=1 << 40, readonly=True)
        except (codec.ProtocolError, OSError):
            return False
        self._dispatch(job, arrays)
        return True


_SAMPLE_JOB = json.dumps({"kind": "job", "code": "import numpy as np\n\ndef f(x):\n    return np.asarray(x)\n",
                          "entry": "f", "harness": "m:h", "key": "k", "timeout": 10.0, "modules": ["numpy", "math"],
                          "policy": True, "python_layer": True, "id": 1, "has_payload": False})


def _prefault() -> None:  # pragma: no cover - in a spare
    """Do, while a spare waits for its job, the trusted work every job repeats (parse a job,
    compile a function, frame a reply) once on sample data: the memory pages that work writes
    are copied from the zygote now instead of on the job's critical path (a page fault each).
    Nothing of a candidate exists yet; what is left behind is free memory."""
    job = json.loads(_SAMPLE_JOB)
    compile(job["code"], "<prefault>", "exec", dont_inherit=True)
    codec.encode({"kind": "result", "ok": True, "id": 1, "worker_seconds": 0.001}, {"y": [0.0, 1.0]})


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_job(fd: int) -> dict[str, Any]:  # pragma: no cover - in a spare
    def exactly(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                os._exit(0)  # the zygote went away
            buf += chunk
        return buf

    return json.loads(exactly(int.from_bytes(exactly(8), "little")))
