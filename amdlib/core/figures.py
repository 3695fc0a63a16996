"""Figures drawn off-screen: a matplotlib Agg canvas (no global pyplot state) and an atomic PNG save.

Shared by the report's generic figures and the experiments' paper figures, so every figure is
drawn at the same resolution and written without metadata that would change between runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: Dots per inch of every saved figure (figures are sized to be shown 1:1).
DPI = 100


def canvas(width: float, height: float) -> Any:
    """A new matplotlib Figure of ``width`` x ``height`` inches on its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def save(fig: Any, path: Path) -> None:
    """Write ``fig`` as a PNG at ``path`` atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    os.replace(tmp, path)
