"""The table's settings as the params write them: ``"NxM"`` (n bidders, m units)."""

from __future__ import annotations

import re
from typing import Any

from amdlib.errors import UserError

SETTING_RE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")
#: The default run's table: (n, m) settings under U[0,1] (the ``settings`` default).
SETTINGS = ["3x1", "4x1", "4x2", "5x2", "6x3", "10x5"]


def setting_error(value: Any) -> str | None:
    """Param check of ``settings``: each item is ``"NxM"`` with 1 <= M <= N - 2 and N <= 12."""
    for item in value:
        match = SETTING_RE.match(str(item))
        if not match:
            return f"setting {item!r} is not of the form NxM (e.g. 4x2)"
        n, m = int(match.group(1)), int(match.group(2))
        if not (3 <= n <= 12 and 1 <= m <= n - 2):
            return f"setting {item!r} needs 3 <= N <= 12 and 1 <= M <= N - 2"
    return None


def parse_setting(item: str) -> tuple[int, int]:
    """``"4x2"`` -> ``(4, 2)``."""
    match = SETTING_RE.match(str(item))
    if not match:
        raise UserError(f"setting {item!r} is not of the form NxM (e.g. 4x2)")
    return int(match.group(1)), int(match.group(2))
