"""Registry of experiments: name -> module defining ``EXPERIMENT`` (an ``Experiment``)."""

from __future__ import annotations

import importlib

from amdlib.errors import UserError
from amdlib.pipeline.schema import Experiment

#: Experiment name -> module that defines ``EXPERIMENT``; order is the report's order.
MODULES: dict[str, str] = {
    "quickstart": "amdlib.experiments.quickstart",
    "virtual_valuation": "amdlib.experiments.virtual_valuation",
    "redistribution": "amdlib.experiments.redistribution",
    "correlated_revenue": "amdlib.experiments.correlated_revenue",
    "facility_location": "amdlib.experiments.facility_location",
    "generalization": "amdlib.experiments.generalization",
    "multi_item": "amdlib.experiments.multi_item",
}


def _load(name: str) -> Experiment | None:
    """The experiment defined by ``MODULES[name]``, or None if its module does not exist."""
    module = MODULES[name]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name == module:
            return None
        raise
    return mod.EXPERIMENT


def available() -> dict[str, Experiment]:
    """Every experiment whose module exists, in report order."""
    found = {name: _load(name) for name in MODULES}
    return {name: exp for name, exp in found.items() if exp is not None}


def get(name: str) -> Experiment:
    """The experiment called ``name``, or a one-line error listing the known ones."""
    exp = _load(name) if name in MODULES else None
    if exp is None:
        raise UserError(f"unknown experiment '{name}'; known: {', '.join(available()) or 'none'} (see `amd list`)")
    return exp
