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
}


def available() -> dict[str, Experiment]:
    """Every experiment whose module exists, in report order."""
    found: dict[str, Experiment] = {}
    for name, module in MODULES.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name == module:
                continue
            raise
        found[name] = mod.EXPERIMENT
    return found


def get(name: str) -> Experiment:
    """The experiment called ``name``, or a one-line error listing the known ones."""
    exps = available()
    if name not in exps:
        raise UserError(f"unknown experiment '{name}'; known: {', '.join(exps) or 'none'} (see `amd list`)")
    return exps[name]
