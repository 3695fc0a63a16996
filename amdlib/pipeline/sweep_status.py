"""Which runs make up the sweep a run belongs to, and which of them exist yet.

A notebook that summarises "the runs of a sweep" reads the sweep's own run list (its file in
``params/<experiment>/``) instead of whatever happens to sit in the outputs tree, so it can say
which runs are still missing, failed or in progress rather than silently showing fewer rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from amdlib.pipeline import runs
from amdlib.pipeline.catalog import setting_text

#: What a sweep member can be: the run asking, complete, failed, running now, or not run yet.
STATES = ("this run", "complete", "failed", "running", "not run yet")


@dataclass
class Member:
    run_id: str
    params: dict[str, Any]
    state: str
    error: str = ""


@dataclass
class SweepStatus:
    """The sweep file (None if no sweep lists the run), the params its runs vary, its members."""

    path: Path | None
    varied: list[str]
    members: list[Member]

    def missing(self) -> list[Member]:
        return [m for m in self.members if m.state not in ("this run", "complete")]

    def describe(self, member: Member) -> str:
        return setting_text(member.params, self.varied) or member.run_id

    def headline(self) -> str:
        if self.path is None:
            return "this run belongs to no sweep file in params/ (run one with `amd sweep`)"
        counts = {s: sum(m.state == s for m in self.members) for s in STATES}
        shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        return f"sweep {self.path.name}: {len(self.members)} runs ({shown})"


def _sweep_files(experiment: str) -> list[Path]:
    base = runs.params_dir(experiment)
    files = sorted(base.glob("sweep_*.yaml"))
    return sorted(files, key=lambda p: p.name != "sweep_default.yaml")  # the reproduce sweep first


def _state(root: Path, experiment: str, rid: str) -> tuple[str, str]:
    if runs.is_complete(runs.run_dir(root, experiment, rid)):
        return "complete", ""
    for tmp in (root / experiment).glob(f".tmp-{rid}-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and runs.pid_alive(int(pid)):
            return "running", ""
    record = runs.failed_record(root, experiment, rid)
    if record.is_file():
        from amdlib.pipeline.jsonio import read_json

        try:
            return "failed", str(read_json(record).get("error", ""))
        except (OSError, ValueError):
            return "failed", ""
    return "not run yet", ""


def sweep_status(experiment: str, params: Mapping[str, Any], root: str | Path, sweep: str | Path | None = None) -> SweepStatus:
    """The members of ``sweep`` (default: the first sweep file of the experiment listing this
    run, ``sweep_default.yaml`` first) with their state under outputs ``root``."""
    from amdlib.pipeline.sweep import load_sweep

    root, me = Path(root), runs.run_id(experiment, params)
    candidates = [Path(sweep)] if sweep else _sweep_files(experiment)
    chosen = None
    for path in candidates:
        loaded = load_sweep(path)
        if sweep or me in loaded.run_ids():
            chosen = (path, loaded)
            break
    if chosen is None:
        return SweepStatus(None, [], [])
    path, loaded = chosen
    members = []
    for rid, p in zip(loaded.run_ids(), loaded.runs):
        state, error = ("this run", "") if rid == me else _state(root, experiment, rid)
        members.append(Member(rid, runs.identity(p), state, error))
    keys = sorted(k for k in members[0].params if len({repr(m.params.get(k)) for m in members}) > 1)
    return SweepStatus(path, keys, members)
