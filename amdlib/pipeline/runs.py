"""Where runs live, what they are called, and when one counts as complete.

Layout under the outputs root (``./outputs``, ``$AMDLIB_OUTPUTS`` or ``--outputs``)::

    <experiment>/<run_id>/              a complete run (renamed into place at the end)
    <experiment>/.tmp-<run_id>-<pid>/   a run in progress (or killed: never complete)
    <experiment>/<run_id>.failed.json   the error of the last failed attempt
    index.jsonl                         one line per complete run (rebuilt from run.json)
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from amdlib.core.sandbox.workdir import pid_alive  # noqa: F401 (one definition, used here and re-exported)
from amdlib.pipeline.jsonio import read_json, write_text_atomic
from amdlib.core.experiment import Experiment

#: The checkout the package runs from (holds notebooks/ and params/).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Params that say where a run goes rather than what it computes.
_NOT_IDENTITY = ("output_dir",)


def outputs_root(override: str | Path | None = None) -> Path:
    """The outputs root: ``override``, else ``$AMDLIB_OUTPUTS``, else ``./outputs``."""
    chosen = override or os.environ.get("AMDLIB_OUTPUTS") or "outputs"
    return Path(chosen).expanduser().resolve()


def notebook_path(experiment: Experiment) -> Path:
    """The source notebook of an experiment (``Experiment.notebook`` may omit ``notebooks/``)."""
    given = Path(experiment.notebook)
    for candidate in (given, REPO_ROOT / given, REPO_ROOT / "notebooks" / given):
        if candidate.is_file():
            return candidate.resolve()
    return (REPO_ROOT / "notebooks" / given.name).resolve()


def params_dir(experiment: str | Experiment) -> Path:
    """The experiment's parameter files: its own ``params_dir`` (a plugin's), else ``params/<name>/``
    in the checkout."""
    if isinstance(experiment, str):
        from amdlib.experiments import get

        experiment = get(experiment)
    return experiment.params_dir or REPO_ROOT / "params" / experiment.name


def identity(params: Mapping[str, Any]) -> dict[str, Any]:
    """The params that determine a run's results (everything but where it is written)."""
    return {k: v for k, v in sorted(params.items()) if k not in _NOT_IDENTITY}


def run_id(experiment_name: str, params: Mapping[str, Any]) -> str:
    """Short stable hash of the experiment name and its canonical full params."""
    blob = json.dumps({"experiment": experiment_name, "params": identity(params)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_dir(root: Path, experiment_name: str, rid: str) -> Path:
    return root / experiment_name / rid


def failed_record(root: Path, experiment_name: str, rid: str) -> Path:
    return root / experiment_name / f"{rid}.failed.json"


def is_complete(path: Path) -> bool:
    """A run dir is complete when its run.json says ok and its results exist."""
    try:
        info = read_json(path / "run.json")
    except (OSError, ValueError):
        return False
    return info.get("status") == "ok" and (path / "results.json").is_file()


def clean_stale(root: Path, experiment_name: str, rid: str = "*") -> list[Path]:
    """Remove working dirs of this run (``*``: of any run) left by processes that no longer
    exist (killed runs); returns the folders removed."""
    base = root / experiment_name
    removed = []
    for tmp in base.glob(f".tmp-{rid}-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def working_dir(root: Path, experiment_name: str, rid: str) -> Path:
    """A fresh working dir beside the final one (same filesystem: the rename is atomic)."""
    clean_stale(root, experiment_name, rid)
    tmp = root / experiment_name / f".tmp-{rid}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def publish(tmp: Path, final: Path) -> None:
    """Move a finished working dir into place, replacing an older attempt if any."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """An exclusive lock on the outputs root (index updates from concurrent commands)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def complete_runs(root: Path) -> list[dict[str, Any]]:
    """The run.json of every complete run, ordered by experiment then run id."""
    rows = []
    for info_path in sorted(root.glob("*/*/run.json")):
        run = info_path.parent
        if run.name.startswith(".") or not is_complete(run):
            continue
        rows.append(read_json(info_path))
    return rows


def rebuild_index(root: Path) -> Path:
    """Rewrite ``index.jsonl`` from the run.json files (under the outputs lock)."""
    keys = ("experiment", "run_id", "status", "start", "duration_s", "seed", "proposer", "params_source")
    with locked(root):
        lines = [json.dumps({k: r.get(k) for k in keys}, sort_keys=True) for r in complete_runs(root)]
        write_text_atomic(root / "index.jsonl", "".join(line + "\n" for line in lines))
    return root / "index.jsonl"


def lock_path(root: Path, experiment_name: str, rid: str) -> Path:
    """The lock file of one run id (kept out of the experiment's folder of runs)."""
    return root / ".locks" / f"{experiment_name}-{rid}"


@contextmanager
def run_lock(root: Path, experiment_name: str, rid: str, on_wait: Any = None) -> Iterator[None]:
    """Hold the lock of one run id: a second process with the same params waits here.

    ``on_wait(holder_pid)`` is called once if another process holds the lock. The lock is
    an ``flock`` (released by the kernel when its holder dies, so a killed run never
    blocks the next one); the file itself only names the holder.
    """
    path = lock_path(root, experiment_name, rid)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            if on_wait is not None:
                on_wait(int(holder) if holder.isdigit() else None)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def check_outputs_root(root: Path, must_exist: bool = False) -> Path:
    """``root`` if runs can be written there (created if missing), else a one-line error.

    With ``must_exist`` (commands that read runs) a missing folder is the error instead.
    """
    from amdlib.errors import UserError

    hint = "choose another with --outputs DIR or AMDLIB_OUTPUTS"
    if root.exists() and not root.is_dir():
        raise UserError(f"outputs root {root} is not a folder; {hint}")
    if must_exist:
        if not root.is_dir():
            raise UserError(f"outputs root {root} does not exist (no runs yet? run `amd run` first, or {hint})")
        return root
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise UserError(f"cannot write runs under {root} ({err.strerror or err}); {hint}") from None
    return root
