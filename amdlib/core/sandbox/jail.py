"""Operating-system hardening of the sandbox processes (runs in the worker only).

Once per zygote (after it imported everything it will ever need):

* as root: private network and PID namespaces, then drop to ``nobody``;
  as another user: a user namespace and, inside it, network and PID
  namespaces (``enter_namespaces``), where the kernel allows them;
* where Landlock is unavailable, a private mount namespace whose root is an
  empty read-only tmpfs (``private_root``), before the privilege drop;
* no core files, and an audit hook installed disarmed (``install_hook``).

Once per candidate process, right after ``fork`` (``limit_candidate``):
address space (``RLIMIT_AS``), CPU seconds (``RLIMIT_CPU``, soft = hard, so
the kernel kills), no file content (``RLIMIT_FSIZE=0``), no new descriptors
(``RLIMIT_NOFILE=0``) or processes (``RLIMIT_NPROC=0``); then Landlock and
seccomp (``landlock``, ``seccomp``) and finally the armed audit hook, which
refuses every audited operation except a short allow-list. The hook is the
Python layer: it can be disarmed by a candidate that reaches this module,
which is why the kernel layers come first and do not depend on it.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import resource
import signal
import sys
from types import CodeType
from typing import Any

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
NOBODY = 65534
CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
MNT_DETACH = 2
SYS_PIVOT_ROOT = 155  # x86_64

# Events numpy and CPython raise during ordinary computations.
_HARMLESS_EVENTS = frozenset({"builtins.id", "compile"})
# numpy reads these function attributes when it builds signatures lazily.
_HARMLESS_FUNCTION_ATTRS = frozenset({"__code__", "__defaults__", "__kwdefaults__"})


class _State:
    """Mutable state the audit hook consults."""

    armed = False
    code: CodeType | None = None


_STATE = _State()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _STATE.armed or event in _HARMLESS_EVENTS:
        return
    if event == "exec" and args and args[0] is _STATE.code:
        return
    if event == "object.__getattr__" and len(args) > 1 and args[1] in _HARMLESS_FUNCTION_ATTRS:
        return
    raise PermissionError(f"sandbox: '{event}' is not permitted")


def install_hook() -> None:
    """Install the audit hook, disarmed (the zygote itself must fork and talk freely)."""
    sys.addaudithook(_audit)


def arm() -> None:
    """Start refusing audited operations in this process (a candidate process)."""
    _STATE.armed = True


def allow_exec(code: CodeType | None) -> None:
    """Let exactly ``code`` (the compiled candidate module) pass the ``exec`` check."""
    _STATE.code = code


def _unshare(flags: int) -> str:
    """'' on success, else the error text."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(flags) == 0:
            return ""
        return os.strerror(ctypes.get_errno())
    except (OSError, AttributeError) as err:
        return str(err)


def enter_namespaces() -> dict[str, str]:
    """Unshare user (non-root only), network and PID namespaces; ``{layer: "on" | "off: why"}``.

    The PID namespace applies to children: the caller must fork once (the
    child becomes the namespace's init) for it to take effect.
    """
    out: dict[str, str] = {}
    if os.geteuid() == 0:
        out["user_namespace"] = "not needed (root drops to nobody)"
    else:
        err = _unshare(CLONE_NEWUSER)
        out["user_namespace"] = "on" if not err else f"off: {err}"
    for name, flag in (("network_namespace", CLONE_NEWNET), ("pid_namespace", CLONE_NEWPID)):
        err = _unshare(flag)
        out[name] = "on" if not err else f"off: {err}"
    return out


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def private_root() -> str:
    """Enter a new mount namespace whose root is an empty, read-only tmpfs; '' or why not.

    The file-system layer where Landlock is unavailable: after this, no path
    leads to a file, ``/proc`` or a device. Needs ``CAP_SYS_ADMIN`` in the
    process's user namespace (root, or after ``CLONE_NEWUSER``), so it runs
    before the privilege drop. The tmpfs is mounted over the working
    directory (in this namespace only) and becomes the root with ``pivot_root``.
    """
    libc = _libc()

    def check(rc: int, what: str) -> None:
        if rc != 0:
            raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")

    try:
        here = os.getcwd().encode()
        check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        check(libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None), "mount(MS_PRIVATE)")
        check(libc.mount(b"none", here, b"tmpfs", ctypes.c_ulong(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC),
                         b"size=4k,mode=555"), "mount(tmpfs)")
        os.chdir(here)
        check(libc.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
        check(libc.umount2(b".", MNT_DETACH), "umount2(old root)")
        os.chdir("/")
        if os.listdir("/"):
            return "the new root is not empty"
    except OSError as err:
        return str(err.strerror or err)
    return ""


def close_range(first: int, last: int = 0xFFFFFFFF) -> None:
    """Close every descriptor in ``first..last`` (one ``close_range`` call where the kernel has it)."""
    if _libc().syscall(436, ctypes.c_uint(first), ctypes.c_uint(last), ctypes.c_uint(0)) != 0:
        os.closerange(first, min(last, (1 << 16) - 1) + 1)


def warm_libc() -> None:
    """Resolve (in the zygote) the libc calls every candidate process makes, so that each of them
    does not pay for a ``dlsym`` and the ctypes wrappers again (about 0.5 ms and 100 page faults)."""
    _libc().syscall(436, ctypes.c_uint(0xFFFFFFFE), ctypes.c_uint(0xFFFFFFFE), ctypes.c_uint(0))


def fork() -> int:
    """``fork`` without CPython's at-fork bookkeeping; only for the single-threaded zygote.

    ``os.fork`` re-initialises the interpreter's locks and threads and runs
    the ``register_at_fork`` callbacks (``random`` reseeds itself) in the
    child: about 0.9 ms and 190 copied pages per candidate on a VM. The
    zygote has one thread, holds no lock while it forks (the GIL stays held:
    ``PyDLL``), and its random states are seeded once for every candidate,
    so the child is a plain copy of it, which is all a candidate process needs.
    """
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:  # not the zygote's case: be safe
        return os.fork()
    return int(_FORK())


_FORK = ctypes.PyDLL(None).fork
_FORK.restype = ctypes.c_int
_FORK.argtypes = []


def drop_privileges() -> str:
    """As root, become ``nobody`` with no supplementary groups; the layer's status."""
    if os.getuid() != 0:
        return "not needed (not root)"
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    return "on (nobody)"


def limit_zygote() -> None:
    """No core files; a write past RLIMIT_FSIZE fails with EFBIG instead of killing."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def limit_candidate(memory_mb: int) -> None:
    """Per-candidate limits (only ever lowered, soft = hard: the candidate cannot raise them)."""
    memory = int(memory_mb) << 20
    for limit, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, 0),
                         (resource.RLIMIT_NPROC, 0), (resource.RLIMIT_NOFILE, 0)):
        resource.setrlimit(limit, (value, value))


def limit_cpu(seconds: float) -> None:
    """CPU seconds for this process (soft = hard, so the kernel kills it at the limit)."""
    cpu = max(1, math.ceil(seconds) + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
