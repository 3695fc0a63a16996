"""The runs under an outputs root, complete and failed, as records the report and the shell read.

A :class:`RunRecord` is one run directory (``<experiment>/<run_id>/``) or one failed attempt
(``<experiment>/<run_id>.failed.json``); its params, results and run info are read lazily.
:func:`varied` names the parameters that tell a set of runs apart, which is what a table of
runs shows as columns; :func:`find_run` resolves what a user typed (an id, a prefix, a path).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping

from amdlib.errors import UserError
from amdlib.pipeline import runs
from amdlib.pipeline.jsonio import read_json

#: Params never shown as "varied": they say where or how a run went, not what it computed.
_NOT_SETTINGS = ("output_dir", "workers", "cassette", "base_url")


def lookup(data: Any, dotted: str) -> Any:
    """The value at a dotted path (``"best.score"``) in nested dicts, or None."""
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    from amdlib.pipeline.params import Loader

    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader) or {}
    except (OSError, yaml.YAMLError):
        return {}


@dataclass
class RunRecord:
    """One run of an experiment: ``status`` is ``ok`` (complete) or ``failed``."""

    experiment: str
    run_id: str
    path: Path
    status: str
    failure: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def info(self) -> dict[str, Any]:
        """run.json of a complete run (empty for a failure)."""
        return read_json(self.path / "run.json") if self.status == "ok" else {}

    @cached_property
    def params(self) -> dict[str, Any]:
        """The run's full params (defaults included), without where it was written."""
        if self.status == "ok":
            return runs.identity(_read_yaml(self.path / "params.yaml"))
        return runs.identity(self.failure.get("params") or {})

    @cached_property
    def results(self) -> dict[str, Any]:
        """results.json of a complete run (empty for a failure or an unreadable file)."""
        if self.status != "ok":
            return {}
        try:
            return read_json(self.path / "results.json")
        except (OSError, ValueError):
            return {}

    @property
    def finished(self) -> str | None:
        """When the run (or the failed attempt) ended, ISO 8601."""
        return (self.info or self.failure).get("end")

    @property
    def html(self) -> Path | None:
        """The rendered notebook of a complete run."""
        page = self.path / "notebook.html"
        return page if self.status == "ok" and page.is_file() else None

    def figures(self) -> list[Path]:
        return sorted((self.path / "figures").glob("*.png")) if self.status == "ok" else []


def experiment_runs(root: Path, experiment: str) -> list[RunRecord]:
    """Complete runs then failed attempts of one experiment (a run that later succeeded is not failed)."""
    base = root / experiment
    done = [RunRecord(experiment, p.name, p, "ok") for p in sorted(base.glob("*/")) if not p.name.startswith(".") and runs.is_complete(p)]
    ok_ids = {r.run_id for r in done}
    failed = []
    for rec in sorted(base.glob("*.failed.json")):
        rid = rec.name[: -len(".failed.json")]
        if rid in ok_ids:
            continue
        try:
            data = read_json(rec)
        except (OSError, ValueError):
            data = {"error": "unreadable failure record"}
        failed.append(RunRecord(experiment, rid, rec, "failed", data))
    return done + failed


def all_runs(root: Path, experiments: Iterable[str]) -> list[RunRecord]:
    return [r for name in experiments for r in experiment_runs(root, name)]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def varied(records: Iterable[RunRecord]) -> list[str]:
    """Parameters whose values differ between the runs (sorted, seed last)."""
    records = [r for r in records if r.params]  # a record without params (a lost worker) says nothing
    keys = sorted({k for r in records for k in r.params if k not in _NOT_SETTINGS})
    out = [k for k in keys if len({_key(r.params.get(k)) for r in records}) > 1]
    return sorted(out, key=lambda k: (k == "seed", k))


def setting_text(params: Mapping[str, Any], keys: Iterable[str]) -> str:
    """``k=v`` pairs of the given keys, e.g. ``method=eoh seed=1`` (empty when no keys)."""
    return " ".join(f"{k}={format_value(params.get(k))}" for k in keys)


def format_value(value: Any) -> str:
    """A short display form: floats to 4 significant digits, lists joined by commas."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ",".join(format_value(v) for v in value)
    return "" if value is None else str(value)


def age(iso: str | None, now: datetime | None = None) -> str:
    """How long ago an ISO timestamp was, coarsely (``42s``, ``5m``, ``3h``, ``2d``)."""
    if not iso:
        return "-"
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return "-"
    secs = max(0, int(((now or datetime.now(timezone.utc)) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def find_run(root: Path, ref: str, experiments: Iterable[str]) -> RunRecord:
    """The run a user named: a run dir path, ``EXP/ID``, a run id or a unique prefix of one."""
    path = Path(ref).expanduser()
    if path.is_dir() and (path / "run.json").is_file():
        path = path.resolve()
        status = "ok" if runs.is_complete(path) else "incomplete"
        if status != "ok":
            raise UserError(f"{ref}: the run is not complete (no successful run.json); rerun it with `amd run`")
        return RunRecord(path.parent.name, path.name, path, "ok")
    exp_part, _, rid_part = ref.rpartition("/")
    names = [exp_part] if exp_part else list(experiments)
    prefix = rid_part.strip()
    if len(prefix) < 4 or not all(c in "0123456789abcdef" for c in prefix):
        raise UserError(f"'{ref}' is not a run id (12 hex digits, or a prefix of at least 4; `amd runs` lists them)")
    hits = [r for name in names for r in experiment_runs(root, name) if r.run_id.startswith(prefix)]
    if not hits:
        raise UserError(f"no run '{ref}' under {root} (`amd runs` lists the runs there; --outputs picks another root)")
    if len({(r.experiment, r.run_id) for r in hits}) > 1:
        listed = ", ".join(f"{r.experiment}/{r.run_id}" for r in hits[:4])
        raise UserError(f"run id prefix '{ref}' is ambiguous: {listed}; give more digits")
    return hits[0]


#: ``-p NAME`` shortcuts every experiment has in ``params/<experiment>/``.
SHORTCUTS = ("smoke", "default", "paper")


def resolve_params_file(experiment: str, given: str | None) -> str | None:
    """A ``-p`` value as a path: an existing file as given, else ``params/<experiment>/<given>[.yaml]``
    (so ``-p smoke`` works from any folder); anything else is a one-line error."""
    if not given or Path(given).expanduser().is_file():
        return given
    base = runs.params_dir(experiment)
    for candidate in (base / given, base / f"{given}.yaml"):
        if candidate.is_file() and candidate.resolve().is_relative_to(base.resolve()):
            return str(candidate)
    names = ", ".join(sorted(p.stem for p in base.glob("*.yaml") if not p.stem.startswith("sweep"))) or "none"
    raise UserError(f"-p {given}: no such file, and {base} has no {Path(given).stem}.yaml (names there: {names})")
