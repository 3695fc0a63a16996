"""A seccomp-bpf allow-list for one candidate process, assembled by hand (no libseccomp).

No maintained libseccomp binding installs from PyPI (the official ``seccomp``
module is not published there; ``pyseccomp`` is an unmaintained 2021 ctypes
wrapper), so the filter is a short classic-BPF program written here and
installed with ``prctl(PR_SET_SECCOMP)`` through ctypes.

The program allows only what a numpy computation needs once everything is
imported: memory management, signals within the process, clocks, sleeping,
entropy, ``read``, ``close``, ``exit``. Arguments are checked where a call
could reach outside: ``write`` and ``writev`` only to the result descriptor, ``tgkill``
only to the process itself, ``prlimit64`` only to read the process's own limits,
``sched_getaffinity`` only for itself, the ``clock_*`` calls only on the standard clocks
(a negative clock id names another process's CPU clock): none of them can tell whether
another process exists. Everything else - ``open``,
``socket``, ``connect``, ``clone``/``fork``, ``execve``, ``kill``,
``pidfd_*``, ``ptrace``, ``mkdir``, ``unlink``, ``mount``, ``io_uring``,
``bpf`` ... - fails with ``EPERM``. A foreign architecture or an x32 call
kills the process. Only x86_64 has a syscall table here; elsewhere
``available()`` says why the layer is off.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import platform
import struct

PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_EPERM = 0x00050000 | errno.EPERM

# Classic BPF opcodes.
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K

# struct seccomp_data offsets: nr, arch, instruction pointer, args[6] (u64, little-endian).
_NR, _ARCH = 0, 4


def _arg_lo(i: int) -> int:
    return 16 + 8 * i


def _arg_hi(i: int) -> int:
    return 20 + 8 * i


#: x86_64 system calls a candidate may make without argument checks.
X86_64_ALLOWED: dict[str, int] = {
    "read": 0, "close": 3, "fstat": 5, "poll": 7, "lseek": 8, "mmap": 9, "mprotect": 10, "munmap": 11,
    "brk": 12, "rt_sigaction": 13, "rt_sigprocmask": 14, "rt_sigreturn": 15, "select": 23,
    "sched_yield": 24, "mremap": 25, "madvise": 28, "nanosleep": 35, "getpid": 39, "exit": 60,
    "uname": 63, "getrusage": 98, "times": 100, "getuid": 102, "getgid": 104, "geteuid": 107,
    "getegid": 108, "getppid": 110, "sigaltstack": 131, "gettid": 186, "time": 201, "futex": 202,
    "restart_syscall": 219, "exit_group": 231, "pselect6": 270, "ppoll": 271, "getrandom": 318,
}
#: x86_64 system calls allowed only with checked arguments.
X86_64_CHECKED: dict[str, int] = {"write": 1, "writev": 20, "tgkill": 234, "prlimit64": 302,
                                  "sched_getaffinity": 204, "clock_gettime": 228, "clock_getres": 229,
                                  "clock_nanosleep": 230}
#: Calls checked like another one (``writev``: the same descriptor rule as ``write``).
_SAME_CHECK = {"writev": "write", "clock_getres": "clock_gettime", "clock_nanosleep": "clock_gettime"}


class _Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Insn))]


def available() -> str | None:
    """None if a filter can be built here, else why not."""
    machine = platform.machine()
    if machine not in ("x86_64", "AMD64"):
        return f"no syscall table for {machine}"
    return None


class _Asm:
    """Classic BPF with forward jumps to labels (None: fall through)."""

    def __init__(self) -> None:
        self.code: list[tuple[int, str | None, str | None, int]] = []
        self.labels: dict[str, int] = {}

    def op(self, code: int, k: int, jt: str | None = None, jf: str | None = None) -> None:
        self.code.append((code, jt, jf, k))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def word_is(self, offset: int, value: int, then: str) -> None:
        """Go to ``then`` if the 32-bit word at ``offset`` equals ``value``, else to deny."""
        self.op(_LD_ABS, offset)
        self.op(_JEQ, value, then, "deny")

    def resolve(self) -> list[tuple[int, int, int, int]]:
        out = []
        for i, (code, jt, jf, k) in enumerate(self.code):
            offsets = [0 if t is None else self.labels[t] - i - 1 for t in (jt, jf)]
            if not all(0 <= o <= 255 for o in offsets):
                raise AssertionError(f"seccomp jump out of range at {i}")
            out.append((code, offsets[0], offsets[1], k))
        return out


def program(result_fd: int, pid: int) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions.

    ``result_fd`` is the only descriptor ``write`` may use and ``pid`` the
    process's own id (as the process sees it) for ``tgkill``.
    """
    a = _Asm()
    a.op(_LD_ABS, _ARCH)
    a.op(_JEQ, AUDIT_ARCH_X86_64, None, "kill")
    a.op(_LD_ABS, _NR)
    a.op(_JGE, X32_SYSCALL_BIT, "kill", None)
    for nr in sorted(X86_64_ALLOWED.values()):
        a.op(_JEQ, nr, "allow", None)
    for name, nr in X86_64_CHECKED.items():
        a.op(_JEQ, nr, _SAME_CHECK.get(name, name), None)
    a.op(_JEQ, 0xFFFFFFFF, "deny", "deny")  # nothing matched
    # Argument checks (low then high word of a 64-bit argument).
    a.label("write")
    a.word_is(_arg_lo(0), result_fd, "write_hi")
    a.label("write_hi")
    a.word_is(_arg_hi(0), 0, "allow")
    a.label("tgkill")
    a.word_is(_arg_lo(0), pid, "tgkill_hi")
    a.label("tgkill_hi")
    a.word_is(_arg_hi(0), 0, "allow")
    a.label("prlimit64")  # pid (args[0], an int) 0: this process; new_limit (args[2]) NULL: reading only
    a.word_is(_arg_lo(0), 0, "prlimit64_new")
    a.label("prlimit64_new")
    a.word_is(_arg_lo(2), 0, "prlimit64_hi")
    a.label("prlimit64_hi")
    a.word_is(_arg_hi(2), 0, "allow")
    a.label("sched_getaffinity")  # pid (an int) 0: this process
    a.word_is(_arg_lo(0), 0, "allow")
    a.label("clock_gettime")  # clock id (an int) >= 0: not a CPU clock of a process by id
    a.op(_LD_ABS, _arg_lo(0))
    a.op(_JGE, 0x80000000, "deny", "allow")
    a.label("deny")
    a.op(_RET, RET_EPERM)
    a.label("allow")
    a.op(_RET, RET_ALLOW)
    a.label("kill")
    a.op(_RET, RET_KILL_PROCESS)
    return a.resolve()


def assemble(insns: list[tuple[int, int, int, int]]) -> bytes:
    """The program as the kernel's ``struct sock_filter`` array."""
    return b"".join(struct.pack("=HBBI", *insn) for insn in insns)


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def no_new_privs() -> None:
    """``prctl(PR_SET_NO_NEW_PRIVS)``: needed before seccomp and Landlock without privileges."""
    if _libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def warm_libc() -> None:
    """Resolve ``prctl`` once in the zygote (a harmless ``PR_GET_NO_NEW_PRIVS``)."""
    _libc().prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)


class Filter:
    """A filter built once (in the zygote) and installed in each candidate process.

    ``pid_slot`` is the instruction holding the process's own id for
    ``tgkill``: ``install`` patches it with the id of the process installing.
    """

    def __init__(self, result_fd: int) -> None:
        marker = 0x7FFFFFFE
        insns = program(result_fd, marker)
        self._array = (_Insn * len(insns))(*[_Insn(*insn) for insn in insns])
        self._pid_slot = next(i for i, insn in enumerate(insns) if insn[3] == marker)
        self._prog = _Prog(len(insns), self._array)

    def install(self, pid: int) -> None:
        """Set no-new-privileges and install the filter on this (single-threaded) process."""
        self._array[self._pid_slot].k = pid
        no_new_privs()
        if _libc().prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self._prog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")

