"""One sandbox worker process as seen from the parent: start, talk, kill, explain death."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, Mapping

import numpy as np

from amdlib.core.sandbox import codec

#: How long a new worker may take to import numpy and harden itself.
START_TIMEOUT_S = 60.0


def worker_env() -> dict[str, str]:
    """A minimal environment: deterministic hashing, one BLAS thread, no bytecode writes."""
    paths = [os.path.abspath(p or os.getcwd()) for p in sys.path]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(p for p in dict.fromkeys(paths) if os.path.isdir(p)),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }
    if os.environ.get("AMDLIB_SANDBOX_STDERR"):  # debugging aid: keep the worker's stderr
        env["AMDLIB_SANDBOX_STDERR"] = "1"
    return env


def death_reason(returncode: int | None) -> str:
    """Explain why a worker process ended."""
    if returncode is None:
        return "worker stopped answering"
    if returncode >= 0:
        return f"worker exited with code {returncode}"
    sig = -returncode
    name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
    if sig == signal.SIGXCPU:
        return "cpu time limit exceeded (SIGXCPU)"
    if sig == signal.SIGKILL:
        return "worker died (signal 9: SIGKILL, likely the memory limit)"
    return f"worker died (signal {sig}: {name})"


class WorkerProcess:
    """A started worker with its spec (memory, modules, harness modules) and payload keys."""

    def __init__(self, spec: Mapping[str, Any], workdir: str) -> None:
        self.spec = dict(spec)
        self.jobs = 0
        self.ready = False
        self.info: dict[str, Any] = {}
        self.cached: collections.OrderedDict[str, None] = collections.OrderedDict()
        stderr = None if os.environ.get("AMDLIB_SANDBOX_STDERR") else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "amdlib.core.sandbox.worker", "--spec", json.dumps(self.spec)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, cwd=workdir,
            env=worker_env(), start_new_session=True, close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.to_fd, self.from_fd = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(self.to_fd, False)
        os.set_blocking(self.from_fd, False)

    def covers(self, modules: frozenset[str], harness_module: str) -> bool:
        """True if this worker preloaded everything a job needs."""
        return modules <= set(self.spec["modules"]) and harness_module in self.spec["harness_modules"]

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Block until the worker is hardened and listening; RuntimeError if it cannot start."""
        if self.ready:
            return
        try:
            header, _ = codec.read_message(self.from_fd, max_body=0, deadline=time.monotonic() + timeout_s)
        except codec.Timeout:
            self.kill()
            raise RuntimeError(f"sandbox worker did not start within {timeout_s:g} s") from None
        except codec.ProtocolError:
            raise RuntimeError(f"sandbox worker failed to start: {self.kill()}") from None
        if header.get("kind") != "ready":
            self.kill()
            raise RuntimeError(f"sandbox worker failed to start: {header.get('reason', header)}")
        self.info, self.ready = header, True

    def send(self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None, deadline: float) -> None:
        codec.write_message(self.to_fd, header, arrays, deadline=deadline)

    def receive(self, max_body: int, deadline: float) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return codec.read_message(self.from_fd, max_body=max_body, deadline=deadline)

    def remember(self, key: str, capacity: int) -> None:
        """Mirror the worker's payload cache (least recently used first out)."""
        self.cached[key] = None
        self.cached.move_to_end(key)
        while len(self.cached) > capacity:
            self.cached.popitem(last=False)

    def alive(self) -> bool:
        return self.proc.poll() is None

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
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()  # type: ignore[union-attr]
            except OSError:
                pass
        return death_reason(code) if died_alone else "worker killed"
