"""Operating-system hardening of a sandbox worker process (runs in the worker only).

Applied once, after the worker has imported everything it will ever need:

* resource limits: address space (``RLIMIT_AS``), no core files, no file
  content (``RLIMIT_FSIZE=0``), a per-job CPU budget (``RLIMIT_CPU``);
* a private, empty network namespace (``unshare(CLONE_NEWNET)``) when allowed;
* when started as root: drop to ``nobody`` and forbid new file descriptors
  and processes (``RLIMIT_NOFILE=0``, ``RLIMIT_NPROC=0``);
* an audit hook (it cannot be removed) that, once armed, refuses every
  audited operation except a short allow-list: imports, ``open``, sockets,
  subprocesses, ``os.*``, ``ctypes.*``, ``exec`` of foreign code ... all fail
  with ``PermissionError``.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import sys
from types import CodeType
from typing import Any, Iterator

CLONE_NEWNET = 0x40000000
NOBODY = 65534

# Events numpy and CPython raise during ordinary computations.
_HARMLESS_EVENTS = frozenset({"builtins.id", "compile"})
# numpy reads these function attributes when it builds signatures lazily.
_HARMLESS_FUNCTION_ATTRS = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
# Allowed only while the worker's own code runs between candidates.
_TRUSTED_EVENTS = frozenset({"resource.setrlimit"})


class _State:
    """Mutable state the audit hook consults (never reachable from candidate code)."""

    armed = False
    trusted = False
    code: CodeType | None = None


_STATE = _State()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _STATE.armed or event in _HARMLESS_EVENTS:
        return
    if event == "exec" and args and args[0] is _STATE.code:
        return
    if event == "object.__getattr__" and len(args) > 1 and args[1] in _HARMLESS_FUNCTION_ATTRS:
        return
    if _STATE.trusted and event in _TRUSTED_EVENTS:
        return
    raise PermissionError(f"sandbox: '{event}' is not permitted")


def arm() -> None:
    """Install the audit hook and start refusing operations (irreversible per process)."""
    sys.addaudithook(_audit)
    _STATE.armed = True


def allow_exec(code: CodeType | None) -> None:
    """Let exactly ``code`` (the compiled candidate module) pass the ``exec`` check."""
    _STATE.code = code


@contextlib.contextmanager
def trusted() -> Iterator[None]:
    """Worker-internal section that may adjust its own limits."""
    _STATE.trusted = True
    try:
        yield
    finally:
        _STATE.trusted = False


def limit_resources(memory_mb: int) -> None:
    """Address space, no core dumps, and no file content may be written."""
    # Without this, a write past RLIMIT_FSIZE would kill the worker with SIGXFSZ
    # instead of failing with EFBIG.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    limit = int(memory_mb) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def isolate_network() -> bool:
    """Move into a new, empty network namespace; False if not permitted here."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


def drop_privileges() -> bool:
    """As root, become ``nobody`` with no new files or processes; False if not root."""
    if os.getuid() != 0:
        return False
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    # As nobody these limits bind (root bypasses NPROC); existing fds still work.
    resource.setrlimit(resource.RLIMIT_NOFILE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    return True


def cpu_seconds() -> float:
    """CPU time this process has used so far (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def set_cpu_budget(seconds: float) -> None:
    """Allow ``seconds`` more CPU time from now (RLIMIT_CPU is cumulative per process)."""
    soft = int(cpu_seconds() + seconds) + 2
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    with trusted():
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
