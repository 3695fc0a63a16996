"""One zygote as seen from the parent: start, run a job, read the hostile answer, kill.

Everything read from a candidate's pipe is treated as hostile: the frame is
length-, type- and shape-checked (``codec``), its header must be exactly a
result of this job, and the pipe must close right after it. Any deviation is
that candidate's failure ("protocol violation"); no exception of a decoder
reaches the caller. The pipe is the candidate's own (fresh per job), so
nothing it writes can reach another candidate's result. Once an answer is
read, the zygote is told to kill its process (the slot's next candidate
starts only after it has ended). A result's body is admitted only within the
caller's ``Budget`` (the bytes a batch may hold), checked before anything is
allocated. The zygote hands each spare's pipe ends to this side (``Spare``),
which writes a job straight into it when the spare inherited its payload.
"""

from __future__ import annotations

import collections
import json
import math
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

import amdlib.core.sandbox.codec as codec

#: How long a new worker may take to import numpy and harden itself.
START_TIMEOUT_S = 60.0
#: Extra wall time the parent allows beyond a job's limit before it gives up on the zygote.
GRACE_S = 5.0
MAX_OUTPUTS = 64
_RESULT_KEYS = frozenset({"kind", "id", "ok", "reason", "worker_seconds", "arrays"})


def worker_env() -> dict[str, str]:
    """The worker's start-up environment: import path, deterministic hashing, one BLAS thread.

    The zygote clears even these once it has imported numpy: candidate
    processes see an empty environment.
    """
    paths = [os.path.abspath(p or os.getcwd()) for p in sys.path]
    env = {
        "PYTHONPATH": os.pathsep.join(p for p in dict.fromkeys(paths) if os.path.isdir(p)),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    if os.environ.get("AMDLIB_SANDBOX_STDERR"):  # debugging aid: keep the worker's stderr
        env["AMDLIB_SANDBOX_STDERR"] = "1"
    return env


def death_reason(returncode: int | None) -> str:
    """Explain why a candidate process (or a worker) ended."""
    if returncode is None:
        return "worker stopped answering"
    if returncode >= 0:
        return f"worker exited with code {returncode}"
    sig = -returncode
    name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
    if sig == signal.SIGXCPU:
        return "cpu time limit exceeded (SIGXCPU)"
    if sig == signal.SIGKILL:
        return "worker died (signal 9: SIGKILL, likely the memory limit or the cpu limit)"
    if sig == signal.SIGSYS:
        return "worker died (signal 31: SIGSYS, a forbidden system call)"
    return f"worker died (signal {sig}: {name})"


class Budget:
    """Bytes of results a batch may hold at once (thread-safe); ``None`` as ``limit``: no limit."""

    def __init__(self, limit: int | None) -> None:
        self.limit, self.held = limit, 0
        self._lock = threading.Lock()

    def take(self, nbytes: int) -> bool:
        """Reserve ``nbytes``; False (nothing reserved) if that would pass the limit."""
        with self._lock:
            if self.limit is not None and self.held + nbytes > self.limit:
                return False
            self.held += nbytes
            return True

    def give(self, nbytes: int) -> None:
        with self._lock:
            self.held = max(0, self.held - nbytes)


@dataclass
class Spare:
    """A spare candidate process the zygote announced: its job pipe, its result pipe, the
    payload keys it inherited."""

    number: int
    job_w: int
    result_r: int
    keys: frozenset[str]
    after: int | None = None  # a job whose ``done`` report must come before this spare starts

    def close(self) -> None:
        for fd in (self.job_w, self.result_r):
            try:
                os.close(fd)
            except OSError:
                pass


@dataclass
class Outcome:
    """How one job ended: the outputs, or the reason; ``need_payload`` asks to send it again."""

    ok: bool
    outputs: dict[str, np.ndarray] | None = None
    reason: str = ""
    need_payload: bool = False
    zygote_lost: bool = False
    nbytes: int = 0  # result bytes reserved in the budget


def check_result(header: Any, arrays: dict[str, np.ndarray], job_id: int) -> Outcome:
    """Validate a candidate's result frame (hostile input): an Outcome, never an exception."""
    if not isinstance(header, dict) or not set(header) <= _RESULT_KEYS:
        return Outcome(False, reason="protocol violation: unexpected header fields")
    if header.get("kind") != "result" or header.get("id") != job_id or type(header.get("ok")) is not bool:
        return Outcome(False, reason="protocol violation: not this job's result")
    seconds = header.get("worker_seconds", 0.0)
    if type(seconds) not in (int, float) or not math.isfinite(seconds):
        return Outcome(False, reason="protocol violation: bad worker_seconds")
    if not header["ok"]:
        reason = header.get("reason")
        if arrays or not isinstance(reason, str):
            return Outcome(False, reason="protocol violation: bad failure report")
        return Outcome(False, reason=reason or "failed without a reason")
    if len(arrays) > MAX_OUTPUTS or "reason" in header:
        return Outcome(False, reason="protocol violation: bad outputs")
    for name, arr in arrays.items():
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            return Outcome(False, reason=f"output '{name}' has non-finite values (NaN or inf)")
    return Outcome(True, outputs=arrays)


class WorkerProcess:
    """A started zygote with its spec (memory, modules, harness modules) and payload keys."""

    def __init__(self, spec: Mapping[str, Any], workdir: str) -> None:
        self.spec = dict(spec)
        self.jobs = 0
        self.ready = False
        self.info: dict[str, Any] = {}
        #: ``done`` reports of ended jobs by id (read as they arrive).
        self.dones: dict[int, dict[str, Any]] = {}
        self.cached: collections.OrderedDict[str, None] = collections.OrderedDict()
        #: The spare the zygote announced last (the parent starts it), and whether one is on its
        #: way (the zygote forks one at start and after each job it starts).
        self.spare: Spare | None = None
        self.spare_coming = True
        #: Ids of recent jobs whose processes were reported ended.
        self.ended: collections.deque[int] = collections.deque(maxlen=16)
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        stderr = None if os.environ.get("AMDLIB_SANDBOX_STDERR") else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "amdlib.core.sandbox.worker", "--spec", json.dumps(self.spec),
                 "--fd", str(theirs.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, cwd=workdir,
                env=worker_env(), start_new_session=True, close_fds=True, pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        self.fd = self.sock.fileno()
        os.set_blocking(self.fd, False)

    def covers(self, modules: frozenset[str], harness_module: str) -> bool:
        """True if this worker preloaded everything a job needs."""
        return modules <= set(self.spec["modules"]) and harness_module in self.spec["harness_modules"]

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Block until the zygote is prepared and listening; RuntimeError if it cannot start."""
        if self.ready:
            return
        try:
            header, _ = codec.read_message(self.fd, max_body=0, deadline=time.monotonic() + timeout_s)
        except codec.Timeout:
            self.kill()
            raise RuntimeError(f"sandbox worker did not start within {timeout_s:g} s") from None
        except codec.ProtocolError:
            raise RuntimeError(f"sandbox worker failed to start: {self.kill()}") from None
        if header.get("kind") != "ready" or not isinstance(header.get("layers"), dict):
            self.kill()
            raise RuntimeError(f"sandbox worker failed to start: {header.get('reason', header)}")
        self.info, self.ready = header, True

    def settle(self) -> bool:
        """True if the zygote is alive (ended jobs are reported as they come; nothing to wait for)."""
        return self.alive()

    def run(self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None, timeout_s: float,
            max_body: int, budget: Budget | None = None) -> Outcome:
        """Start one job and read its candidate's answer; raises ``codec.Timeout`` if the zygote hangs.

        A job whose payload the spare inherited goes straight into the spare
        (which starts it once the slot's last candidate process has ended);
        any other goes through the zygote. The candidate's process is killed
        as soon as its answer is read; a valid result is returned once its
        pipe has closed; the ``done`` report is needed (and awaited) only when
        the answer is missing or malformed. A result body larger than
        ``budget`` still allows fails the job unread.
        """
        deadline = time.monotonic() + timeout_s + GRACE_S
        job_id = int(header["id"])
        try:
            self._drain()
            pipe = self._start_spare(header, job_id, timeout_s, deadline)
            if pipe < 0:
                codec.write_message(self.fd, header, arrays, deadline=deadline)
                tag, pipe = self._message(deadline, want=(b"F", b"N"))
                if tag == b"N":
                    return Outcome(False, need_payload=True)
                self._drop_spare()  # the zygote discarded it for this job, and forks the next
                self.spare_coming = True
        except codec.ProtocolError:
            return Outcome(False, reason=self.kill(), zygote_lost=True)
        try:
            kind, outcome = self._read_candidate(pipe, job_id, max_body, deadline, budget or Budget(None))
        finally:
            os.close(pipe)
        if kind == "result":
            return outcome
        try:
            while job_id not in self.dones:
                self._message(deadline, want=(b"D",))
        except codec.ProtocolError:
            return Outcome(False, reason=self.kill(), zygote_lost=True)
        done = self.dones.pop(job_id)
        if done.get("timed_out"):
            return Outcome(False, reason=f"timeout: no result within {timeout_s:g} s (process killed)")
        if kind == "silent":  # the process died without a word: say how
            returncode = done.get("returncode")
            return Outcome(False, reason=death_reason(returncode if isinstance(returncode, int) else None))
        return outcome

    def _start_spare(self, header: Mapping[str, Any], job_id: int, timeout_s: float, deadline: float) -> int:
        """Hand the job to the spare if it holds the payload; its result pipe, or -1."""
        if self.spare is None and self.spare_coming and not header.get("has_payload"):
            self._message(deadline, want=(b"S",))  # being forked: sooner than a fork for this job
        spare = self.spare
        if spare is None or header.get("has_payload") or str(header.get("key")) not in spare.keys:
            return -1
        while spare.after is not None and spare.after not in self.ended:  # (no pidfd for the spare to wait on)
            self._message(deadline, want=(b"D",))
        self.spare = None
        try:
            os.set_blocking(spare.job_w, False)
            codec.write_message(spare.job_w, header, deadline=deadline)
        except (codec.ProtocolError, codec.Timeout, OSError):
            spare.close()  # it died (or never read): the zygote forks a child for the job instead
            return -1
        os.close(spare.job_w)
        codec.write_message(self.fd, {"kind": "start", "number": spare.number, "id": job_id,
                                      "timeout": float(timeout_s)}, deadline=deadline)
        self.spare_coming = True
        return spare.result_r

    def _drop_spare(self) -> None:
        if self.spare is not None:
            self.spare.close()
            self.spare = None

    def _drain(self) -> None:
        """File the reports and spares the zygote sent meanwhile (without waiting)."""
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        while poller.poll(0):
            self._one(time.monotonic() + START_TIMEOUT_S, want=())

    def _message(self, deadline: float, want: tuple[bytes, ...]) -> tuple[bytes, int]:
        """The zygote's next wanted message (tag, attached fd or -1); ``done`` reports and
        spares are filed on the way."""
        while True:
            tag, fd = self._one(deadline, want)
            if tag in want:
                return tag, fd

    def _one(self, deadline: float, want: tuple[bytes, ...]) -> tuple[bytes, int]:
        codec.wait_readable(self.fd, deadline)
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, 1, 2, socket.MSG_CMSG_CLOEXEC)
        except OSError as err:
            raise codec.ProtocolError(f"control socket: {err}") from None
        if data == b"F" and len(fds) == 1 and data in want:
            return data, fds[0]
        if data == b"S" and len(fds) == 2:
            self._drop_spare()
            spare = Spare(-1, fds[0], fds[1], frozenset())
            try:
                frame, _ = codec.read_message(self.fd, max_body=0, deadline=deadline)
                keys, after = frame.get("keys"), frame.get("after")
                if (frame.get("kind") != "spare" or type(frame.get("number")) is not int or not isinstance(keys, list)
                        or not all(isinstance(k, str) for k in keys) or not (after is None or type(after) is int)):
                    raise codec.ProtocolError("bad spare report")
            except BaseException:
                spare.close()
                raise
            spare.number, spare.keys, spare.after = frame["number"], frozenset(keys), after
            self.spare, self.spare_coming = spare, False
            return data, -1
        for fd in fds:
            os.close(fd)
        if data == b"N" and data in want:
            return data, -1
        if data == b"D":
            done, _ = codec.read_message(self.fd, max_body=0, deadline=deadline)
            if done.get("kind") != "done" or type(done.get("id")) is not int:
                raise codec.ProtocolError("bad done report")
            self.dones[done["id"]] = done
            self.ended.append(done["id"])
            for old in [k for k in self.dones if k < done["id"] - 8]:
                del self.dones[old]  # reports nobody waits for (jobs that answered)
            return data, -1
        raise codec.ProtocolError("zygote closed or sent an unexpected message")

    def _read_candidate(self, pipe: int, job_id: int, max_body: int, deadline: float,
                        budget: Budget) -> tuple[str, Outcome]:
        """("result", checked outcome), ("silent", -) if the pipe closed without a byte, or
        ("violation", outcome) for anything malformed (the candidate process is then killed);
        a body the budget cannot hold is a "result" that failed, unread."""
        os.set_blocking(pipe, False)
        taken = 0

        def admit(nbytes: int) -> bool:
            nonlocal taken
            if not budget.take(nbytes):
                return False
            taken = nbytes
            return True

        try:
            header, arrays = codec.read_message(pipe, max_body=max_body, deadline=deadline, admit=admit)
            # It has answered: whatever it does next (linger, keep the pipe open), it does no more.
            self._stop_candidate()
            codec.wait_readable(pipe, deadline)
            if os.read(pipe, 1):
                raise codec.ProtocolError("bytes after the result")
        except codec.OverBudget as err:
            self._stop_candidate()
            return "result", Outcome(False, reason=f"outputs: {err.nbytes >> 20} MiB would pass this batch's "
                                     f"budget of {(budget.limit or 0) >> 20} MiB of results held at once "
                                     "(evaluate fewer jobs per batch, or consume results as they arrive)")
        except codec.EmptyMessage:
            return "silent", Outcome(False)
        except codec.Timeout:
            budget.give(taken)
            self._stop_candidate()
            return "violation", Outcome(False, reason="timeout")
        except Exception as err:  # noqa: BLE001 - hostile bytes: any decoding error is a violation
            budget.give(taken)
            self._stop_candidate()
            text = str(err) if isinstance(err, codec.ProtocolError) else type(err).__name__
            return "violation", Outcome(False, reason=f"protocol violation: {text}")
        outcome = check_result(header, arrays, job_id)
        if not outcome.ok:
            budget.give(taken)
        else:
            outcome.nbytes = taken
        if outcome.reason.startswith("protocol violation"):
            return "violation", outcome
        return "result", outcome

    def _stop_candidate(self) -> None:
        try:
            self.sock.send(b"K")
        except OSError:
            pass

    def remember(self, key: str, capacity: int) -> None:
        """Mirror the worker's payload cache (least recently used first out)."""
        self.cached[key] = None
        self.cached.move_to_end(key)
        while len(self.cached) > capacity:
            self.cached.popitem(last=False)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time used so far by this worker: its zygote and the candidate processes it reaped
        (from ``/proc``; 0.0 where that cannot be read). For benchmarks."""
        def times(pid: int, fields: slice) -> float:
            stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            return sum(int(x) for x in stat[fields]) / os.sysconf("SC_CLK_TCK")

        try:
            total = times(self.proc.pid, slice(11, 15))  # the worker and the children it reaped
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                for child in f.read().split():  # the zygote when it is a PID namespace's init, or spares
                    total += times(int(child), slice(11, 15))
            return total
        except (OSError, ValueError, IndexError):
            return 0.0

    def kill(self) -> str:
        """Kill the whole process group (idempotent); returns why it ended if it had died."""
        died_alone = self.proc.poll() is not None
        if not died_alone:
            # A crashed worker may still be exiting; give it a moment before the reason is read.
            try:
                self.proc.wait(timeout=0.05)
                died_alone = True
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        code = self.proc.wait()
        self._drop_spare()
        try:
            self.sock.close()
        except OSError:
            pass
        return death_reason(code) if died_alone else "worker killed"
