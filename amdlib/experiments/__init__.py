"""Registry of experiments: the built-in packages ``amdlib.experiments.<name>`` and any installed
package that declares an entry point in the ``amdlib.experiments`` group.

An entry point names an :class:`~amdlib.core.experiment.Experiment` (``"pkg.module:EXPERIMENT"``)
or a module that defines ``EXPERIMENT``; its name must be the experiment's name. The pipeline
knows experiments only through :func:`available` and :func:`get`.
"""

from __future__ import annotations

import importlib
import sys
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from amdlib.core.experiment import Experiment
from amdlib.errors import UserError

#: The entry-point group a package declares to add experiments.
GROUP = "amdlib.experiments"

#: The built-in experiments, in report order (each a package defining ``EXPERIMENT``).
BUILTIN: tuple[str, ...] = (
    "quickstart",
    "virtual_valuation",
    "redistribution",
    "correlated_revenue",
    "facility_location",
    "generalization",
    "multi_item",
)


def _builtin(name: str) -> Experiment:
    return importlib.import_module(f"{__name__}.{name}").EXPERIMENT


def _plugin_points() -> dict[str, EntryPoint]:
    """Installed entry points by name; a name a built-in already has is left out (with a warning)."""
    points: dict[str, EntryPoint] = {}
    for point in entry_points(group=GROUP):
        if point.name in BUILTIN:
            print(f"amd: warning: {point.value} declares experiment '{point.name}', which is built in; ignored",
                  file=sys.stderr)
        elif point.name not in points:
            points[point.name] = point
    return points


@lru_cache(maxsize=None)
def _plugin(name: str) -> Experiment:
    """Load the plugin experiment ``name``; anything wrong with it is one line naming the package."""
    point = _plugin_points()[name]
    try:
        loaded = point.load()
    except Exception as err:  # a broken plugin is the plugin's bug: say which one, briefly
        raise UserError(f"experiment '{name}' ({point.value}) cannot be loaded: {type(err).__name__}: {err}") from None
    exp = loaded.EXPERIMENT if isinstance(loaded, ModuleType) else loaded
    if not isinstance(exp, Experiment):
        raise UserError(f"experiment '{name}' ({point.value}) is not an amdlib Experiment (got {type(exp).__name__})")
    if exp.name != name:
        raise UserError(f"experiment entry point '{name}' ({point.value}) names an experiment called '{exp.name}'; "
                        "the two must agree")
    return exp


def available() -> dict[str, Experiment]:
    """Every experiment: the built-ins in report order, then plugins by name. A plugin that cannot be
    loaded is left out with a one-line warning (``get`` of it gives the error)."""
    found = {name: _builtin(name) for name in BUILTIN}
    for name in sorted(_plugin_points()):
        try:
            found[name] = _plugin(name)
        except UserError as err:
            print(f"amd: warning: {err}", file=sys.stderr)
    return found


def get(name: str) -> Experiment:
    """The experiment called ``name``, or a one-line error listing the known ones."""
    if name in BUILTIN:
        return _builtin(name)
    if name in _plugin_points():
        return _plugin(name)
    known = list(BUILTIN) + sorted(_plugin_points())
    raise UserError(f"unknown experiment '{name}'; known: {', '.join(known)} (see `amd list`)")


__all__ = ["GROUP", "BUILTIN", "available", "get"]
