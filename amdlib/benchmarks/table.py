"""`amd bench`: run benchmark modules and print their figures against targets.

The table has fixed-width columns (module, value, unit, target, verdict) with the figure's
name last, so rows stay aligned whatever the name's length and print as each module finishes.
Every missed target is explained after the table. A miss exits 0 unless ``strict``: timing
targets depend on the machine and its load, so a miss is information, not a failure.
"""

from __future__ import annotations

from typing import Callable, Sequence

from amdlib.benchmarks import MODULES, Figure, load
from amdlib.errors import UserError

_MODULE_W = max(len(m) for m in MODULES)
_UNIT_W = 12
#: Units of figures that measure time or speed (their targets assume an idle 2-core machine).
_TIMING_UNITS = {"s", "ms", "us", "1/s", "candidates/s", "x"}


def header() -> str:
    return f"{'module':{_MODULE_W}s}  {'value':>10s}  {'unit':{_UNIT_W}s}  {'target':>10s}  {'verdict':7s}  figure"


def format_row(module: str, fig: Figure) -> str:
    """One table row: module, value, unit, target, verdict, then the figure's name and note."""
    verdict = {True: "met", False: "MISSED", None: "-"}[fig.ok]
    note = f"  ({fig.note})" if fig.note else ""
    return (f"{module:{_MODULE_W}s}  {fig.value:>10.4g}  {fig.unit:{_UNIT_W}s}  {fig.target or '-':>10s}  {verdict:7s}  "
            f"{fig.name}{note}")


def explain_miss(module: str, fig: Figure) -> str:
    """Why a target was missed, in words: what was measured against what, and what it depends on."""
    better = "higher" if fig.target.startswith(">") else "lower"
    text = f"{module}: {fig.name}: measured {fig.value:.4g} {fig.unit}, target {fig.target} {fig.unit} ({better} is better)"
    if fig.note:
        text += f"; {fig.note}"
    if fig.unit in _TIMING_UNITS:
        text += ("; a timing figure: it depends on this machine's cores and load (targets assume an idle 2-core machine), "
                 "so rerun on an idle machine before reading it as a regression")
    return text


def run_benchmarks(names: Sequence[str], quick: bool, echo: Callable[[str], None] = print, strict: bool = False) -> int:
    """Run the named benchmark modules (all when empty); exit status 1 on a missed target only if ``strict``."""
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        raise UserError(f"unknown benchmark '{unknown[0]}'; known: {', '.join(MODULES)}")
    missed: list[tuple[str, Figure]] = []
    echo(header())
    for name in names or list(MODULES):
        module = load(name)
        if module is None:
            echo(f"{name:{_MODULE_W}s}  not available")
            continue
        for fig in module.run(quick):
            if fig.ok is False:
                missed.append((name, fig))
            echo(format_row(name, fig))
    if not missed:
        echo("every target met")
        return 0
    echo(f"{len(missed)} target(s) missed:")
    for name, fig in missed:
        echo(f"  - {explain_miss(name, fig)}")
    echo("exit status 1 (--strict)" if strict else "exit status 0: misses are reported, not failed (pass --strict to fail on them)")
    return 1 if strict else 0
