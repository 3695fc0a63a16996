"""`amd clean`: remove what failed or killed runs left under the outputs root.

Removed: ``<run_id>.failed.json`` / ``.failed.ipynb`` records, working folders
``.tmp-<run_id>-<pid>`` of processes that are gone, half-replaced ``.old-*`` folders and
run locks (``.locks/``) nobody holds. Complete runs are never touched.
"""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

from amdlib.pipeline import runs


def _lock_free(path: Path) -> bool:
    """Whether no process holds the run lock ``path`` right now."""
    try:
        with open(path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fh, fcntl.LOCK_UN)
            return True
    except (BlockingIOError, OSError):
        return False


def _owner_gone(path: Path) -> bool:
    pid = path.name.rsplit("-", 1)[-1]
    return pid.isdigit() and not runs.pid_alive(int(pid))


def leftovers(root: Path) -> list[Path]:
    """Everything :func:`clean` would remove, sorted."""
    found: list[Path] = []
    for exp_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found += exp_dir.glob("*.failed.json")
        found += exp_dir.glob("*.failed.ipynb")
        found += [p for p in exp_dir.glob(".tmp-*") if _owner_gone(p)]
        found += [p for p in exp_dir.glob(".old-*") if _owner_gone(p)]
    locks = root / ".locks"
    found += [p for p in locks.iterdir() if _lock_free(p)] if locks.is_dir() else []
    return sorted(found)


def clean(root: Path, dry_run: bool = False) -> list[Path]:
    """Remove the leftovers under ``root`` (or only list them); returns what was found."""
    found = leftovers(root)
    if not dry_run:
        for path in found:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    return found
