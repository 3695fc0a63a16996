"""`amd bench`: run benchmark modules and print their figures against targets."""

from __future__ import annotations

from typing import Callable, Sequence

from amdlib.benchmarks import MODULES, Figure, load
from amdlib.errors import UserError


def format_row(module: str, fig: Figure) -> str:
    """One table row: module, figure, value with unit, target, verdict."""
    verdict = {True: "met", False: "MISSED", None: "-"}[fig.ok]
    note = f"  ({fig.note})" if fig.note else ""
    return f"{module:18s} {fig.name:44s} {fig.value:12.4g} {fig.unit:8s} {fig.target or '-':>10s}  {verdict}{note}"


def run_benchmarks(names: Sequence[str], quick: bool, echo: Callable[[str], None] = print) -> int:
    """Run the named benchmark modules (all when empty); exit status 1 if a target is missed."""
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        raise UserError(f"unknown benchmark '{unknown[0]}'; known: {', '.join(MODULES)}")
    missed = 0
    echo(f"{'module':18s} {'figure':44s} {'value':>12s} {'unit':8s} {'target':>10s}  verdict")
    for name in names or list(MODULES):
        module = load(name)
        if module is None:
            echo(f"{name:18s} not available")
            continue
        for fig in module.run(quick):
            missed += fig.ok is False
            echo(format_row(name, fig))
    return 1 if missed else 0
