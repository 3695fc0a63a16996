"""Canonical, atomic JSON writing shared by notebooks, the runner and the report."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)


def plain(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples, paths and non-finite floats to plain JSON values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [plain(v) for v in items]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return plain(value.tolist())  # numpy arrays and scalars
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no inf/nan; None reads as "not available"
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    return value


def dumps(value: Any) -> str:
    """Canonical text: sorted keys, indent 1, trailing newline."""
    return json.dumps(plain(value), sort_keys=True, indent=1, allow_nan=False) + "\n"


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; outputs are meant to be shared
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str | Path, value: Any) -> None:
    """Atomically write ``value`` as canonical JSON."""
    write_text_atomic(path, dumps(value))


def read_json(path: str | Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
