"""Where the learned mechanisms come from: Experiment 4 runs (by run id) or a search here.

An Experiment 4 run directory ``<outputs>/facility_location/<run_id>/`` holds
``params.yaml`` (the run's setting) and ``results.json``; the learned code is read
from ``results["best"]["code"]`` (else the first ``"code"`` string found in it). The
outputs folder is the caller's to name (the notebook passes the pipeline's outputs root).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from amdlib.errors import UserError

SOURCE_EXPERIMENT = "facility_location"


@dataclass(frozen=True)
class Learned:
    """A learned mechanism and the setting it was learned in (``weights``: Experiment 4's spec)."""

    label: str
    code: str
    n: int
    k: int
    distribution: str
    weights: str
    convention: str
    source: str

    @property
    def unweighted(self) -> bool:
        return str(self.weights).strip().lower() == "none"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _find_code(data: Any) -> str | None:
    """The learned code: ``best.code`` first, else the first ``code`` string anywhere."""
    if isinstance(data, Mapping):
        best = data.get("best")
        if isinstance(best, Mapping) and isinstance(best.get("code"), str):
            return best["code"]
        if isinstance(data.get("code"), str) and data["code"].strip():
            return data["code"]
        values: Iterable[Any] = data.values()
    elif isinstance(data, list):
        values = data
    else:
        return None
    for value in values:
        found = _find_code(value)
        if found:
            return found
    return None


def run_path(run_id: str, root: str | Path) -> Path:
    """The directory of an Experiment 4 run under the outputs folder ``root``: ``run_id`` is an
    id, ``facility_location/<id>`` or a path."""
    given = Path(run_id).expanduser()
    base = Path(root).expanduser()
    for candidate in (given, base / given, base / SOURCE_EXPERIMENT / given):
        if (candidate / "results.json").is_file():
            return candidate
    raise UserError(f"source run '{run_id}': no results.json under {base / SOURCE_EXPERIMENT / run_id} (run Experiment 4 first)")


def load_run(run_id: str, root: str | Path) -> Learned:
    """The learned mechanism of one Experiment 4 run under the outputs folder ``root``, and its
    training setting."""
    path = run_path(run_id, root)
    results = json.loads((path / "results.json").read_text(encoding="utf-8"))
    params_file = path / "params.yaml"
    params = yaml.safe_load(params_file.read_text(encoding="utf-8")) if params_file.is_file() else {}
    setting = {**(results.get("setting") or {}), **(params or {})}
    code = _find_code(results)
    if not code:
        raise UserError(f"source run '{run_id}': results.json holds no learned code")
    try:
        n, k = int(setting["n_agents"]), int(setting["n_facilities"])
    except (KeyError, TypeError, ValueError):
        raise UserError(f"source run '{run_id}': n_agents / n_facilities not found in params.yaml or results") from None
    weights = setting.get("weights", "none")
    weights = ",".join(f"{float(v):g}" for v in weights) if isinstance(weights, list) else str(weights)
    dist = str(setting.get("distribution", "uniform"))
    return Learned(label=f"K={k} {weight_label(weights)} (run {path.name})", code=code, n=n, k=k, distribution=dist,
                   weights=weights, convention=str(setting.get("convention", "vectorized")), source=path.name)


def weight_label(weights: str) -> str:
    """How a table names a weighting: ``unweighted`` or ``weights <spec>``."""
    return "unweighted" if str(weights).lower() == "none" else f"weights {weights}"


__all__ = ["Learned", "SOURCE_EXPERIMENT", "run_path", "load_run", "weight_label"]
