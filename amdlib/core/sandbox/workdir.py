"""The sandbox's temporary working directory, and removal of those a killed parent left behind.

A directory is named ``amdlib-sandbox-<owner pid>-<random>``: at the next
start, a directory of this user whose owner process is gone is removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile

PREFIX = "amdlib-sandbox-"


def make() -> str:
    """A new empty directory, read-only to the workers (their working directory)."""
    path = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
    os.chmod(path, 0o555)
    return path


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (folders here and in outputs/ are named by pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(root: str | None = None) -> list[str]:
    """Remove this user's sandbox directories whose owner process is dead; returns their paths."""
    root = root or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        owner, _, rest = entry.name[len(PREFIX):].partition("-")
        if not entry.name.startswith(PREFIX) or not owner.isdigit() or not rest:
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        if int(owner) == os.getpid() or pid_alive(int(owner)):
            continue
        try:
            os.chmod(entry.path, 0o755)  # it was left read-only
        except OSError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        if not os.path.exists(entry.path):
            removed.append(entry.path)
    return removed
