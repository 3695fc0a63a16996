"""What the sandbox layers were on this machine, remembered per user and boot (for run records).

A run's record (run.json) names the containment layers that held. Finding
out means starting a zygote (about half a second of CPU), and the process
that writes the record is not the one whose sandbox ran the candidates (the
notebook's kernel is). So every ``Sandbox`` that applies all kernel layers
writes what its first zygote reported to
``<tmp>/amdlib-layers-<uid>.json``, stamped with the boot id, kernel
release, user, Python and the sandbox code's version; ``machine_layers``
reads that back when the stamp matches (a file of this user, writable only
by it) and otherwise probes.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from typing import Any, Callable


_DECIDERS = ("zygote", "jail", "landlock", "seccomp", "pool")


def _path() -> str:
    return os.path.join(tempfile.gettempdir(), f"amdlib-layers-{os.geteuid()}.json")


def _stamp() -> dict[str, Any]:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = ""
    here = os.path.dirname(os.path.abspath(__file__))
    try:  # the code that decides the status: a changed version probes again
        code = [os.stat(os.path.join(here, f"{name}.py")).st_mtime_ns for name in _DECIDERS]
    except OSError:
        code = []
    return {"boot_id": boot, "release": os.uname().release, "euid": os.geteuid(), "python": sys.executable,
            "code": code}


def remember(status: dict[str, str]) -> None:
    """Record a zygote's layer status for this boot (best effort: a failure only costs a probe)."""
    stamp = _stamp()
    if not stamp["boot_id"]:
        return
    path = _path()
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"stamp": stamp, "layers": status}, f)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def recall() -> dict[str, str] | None:
    """The recorded status if it is this user's, for this boot, kernel and Python; else None."""
    path = _path()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or info.st_size > 1 << 16:
            return None
        with os.fdopen(fd, "r") as f:
            fd = -1
            record = json.load(f)
    except (OSError, ValueError):
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    layers = record.get("layers") if isinstance(record, dict) else None
    if record.get("stamp") != _stamp() or not isinstance(layers, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in layers.items()):
        return None
    return dict(layers)


def machine_layers(probe: Callable[[], dict[str, str]]) -> dict[str, str]:
    """The recorded status of this boot, or ``probe()`` (which starts a zygote) when there is none."""
    return recall() or probe()
