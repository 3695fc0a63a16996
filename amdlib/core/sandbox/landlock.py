"""Landlock through raw system calls (ctypes): a candidate process may touch no file at all.

The zygote builds one ruleset that *handles* every file-system right the
kernel knows (and TCP bind/connect, and signal and abstract-socket scoping
where the ABI has them) and grants none, so after ``restrict`` the process
can open, create, remove or rename nothing, reach no TCP port and signal no
process outside its own domain. Descriptors opened before (the result pipe)
keep working. Calls: ``landlock_create_ruleset`` (444) and
``landlock_restrict_self`` (446); the numbers are the same on every
architecture.
"""

from __future__ import annotations

import ctypes
import functools
import os
import struct

SYS_CREATE_RULESET = 444
SYS_RESTRICT_SELF = 446
CREATE_RULESET_VERSION = 1

# File-system rights by the ABI version that introduced them.
_FS_RIGHTS = {1: (1 << 13) - 1, 2: 1 << 13, 3: 1 << 14, 5: 1 << 15}
_NET_RIGHTS = 0b11  # ABI 4: bind and connect TCP
_SCOPES = 0b11  # ABI 6: abstract unix sockets, signals


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def abi() -> int:
    """The kernel's Landlock ABI version; 0 (with ``reason``) when unavailable."""
    return _probe()[0]


def reason() -> str:
    """Why Landlock is unavailable ('' when it is available)."""
    return _probe()[1]


@functools.lru_cache(maxsize=1)
def _probe() -> tuple[int, str]:
    try:
        libc = _libc()
    except OSError as err:
        return 0, f"no libc: {err}"
    version = libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    if version < 1:
        return 0, os.strerror(ctypes.get_errno())
    return int(version), ""


def create_ruleset(version: int) -> int:
    """A ruleset that denies every right the ABI ``version`` can express; returns its fd."""
    fs = sum(bits for v, bits in _FS_RIGHTS.items() if v <= version)
    if version >= 6:
        attr = struct.pack("=QQQ", fs, _NET_RIGHTS, _SCOPES)
    elif version >= 4:
        attr = struct.pack("=QQ", fs, _NET_RIGHTS)
    else:
        attr = struct.pack("=Q", fs)
    buf = ctypes.create_string_buffer(attr, len(attr))
    fd = _libc().syscall(SYS_CREATE_RULESET, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    return int(fd)


def restrict(ruleset_fd: int) -> None:
    """Enforce the ruleset on this process (needs no-new-privileges set first)."""
    if _libc().syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset_fd), ctypes.c_uint32(0)) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
