"""`amd bench`: each module here measures one part and returns figures.

A benchmark module defines ``run(quick: bool) -> list[Figure]``. Targets are
strings such as ``"<= 20 ms"``; ``Figure.ok`` says whether the target is met.
"""

from __future__ import annotations

import importlib
import statistics
import time
from dataclasses import dataclass
from typing import Callable

#: name -> module; order is the print order.
MODULES: dict[str, str] = {
    "sandbox": "amdlib.benchmarks.sandbox",
    "search": "amdlib.benchmarks.search",
    "pipeline": "amdlib.benchmarks.pipeline",
    "virtual_valuation": "amdlib.benchmarks.virtual_valuation",
    "redistribution": "amdlib.benchmarks.redistribution",
    "correlated_revenue": "amdlib.benchmarks.correlated_revenue",
    "facility_location": "amdlib.benchmarks.facility_location",
    "generalization": "amdlib.benchmarks.generalization",
    "multi_item": "amdlib.benchmarks.multi_item",
    "neural": "amdlib.benchmarks.neural",
}


@dataclass
class Figure:
    """One measured figure: ``value`` in ``unit``, with an optional target like ``"<= 20"``."""

    name: str
    value: float
    unit: str
    target: str = ""
    note: str = ""

    @property
    def ok(self) -> bool | None:
        if not self.target:
            return None
        op, _, num = self.target.partition(" ")
        bound = float(num)
        return {"<=": self.value <= bound, ">=": self.value >= bound, "<": self.value < bound, ">": self.value > bound}[op]


def load(name: str):
    """Import a benchmark module, or None if it does not exist yet."""
    try:
        return importlib.import_module(MODULES[name])
    except ModuleNotFoundError as err:
        if err.name == MODULES[name]:
            return None
        raise


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
