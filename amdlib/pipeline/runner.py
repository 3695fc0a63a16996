"""Execute one run: an experiment's notebook with validated params, via papermill.

A run works in ``<experiment>/.tmp-<run_id>-<pid>/`` and is renamed into
``<experiment>/<run_id>/`` only when everything (executed notebook, HTML,
results, params, run.json) is written, so a killed run never looks complete.
A failed run leaves ``<run_id>.failed.json`` (and the partial notebook as
``<run_id>.failed.ipynb``) and no run dir.

:func:`execute_run` takes only picklable arguments and never raises for a run
failure, so it can be shipped to pool or Dask workers as is.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from amdlib.pipeline import runs
from amdlib.pipeline.kernels import CELL_TIMEOUT_ENV, cell_timeout, execute_notebook, kill_live_kernels  # noqa: F401 (re-exported)
from amdlib.pipeline.jsonio import read_json, write_json, write_text_atomic

#: Distributions whose versions each run records.
_VERSIONED = ("amdlib", "numpy", "scipy", "torch", "matplotlib", "papermill", "nbclient", "ipykernel", "openai", "llama_cpp_python")
@dataclass
class Outcome:
    """What happened to one run: ``status`` is ``ok``, ``skipped`` or ``failed``."""

    experiment: str
    run_id: str
    status: str
    path: str
    error: str = ""
    duration_s: float = 0.0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@lru_cache(maxsize=1)
def git_state() -> dict[str, Any]:
    """The checkout's commit and whether tracked files differ from it (None outside git)."""
    import subprocess

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(runs.REPO_ROOT), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(dirty) if dirty is not None else None}


@lru_cache(maxsize=1)
def sandbox_layers() -> dict[str, str]:
    """Which containment layers hold on this machine (``on ...`` / ``off: why``): as the run's own
    sandbox reported them for this boot, probed (once) only where none ran."""
    from amdlib.core.sandbox.pool import machine_layers

    try:
        return machine_layers()
    except Exception as err:  # never fail a finished run over its record of the machine
        return {"probe": f"failed: {type(err).__name__}: {err}"}


@lru_cache(maxsize=1)
def versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape a run's numbers."""
    import platform

    found: dict[str, str | None] = {"python": platform.python_version()}
    for dist in _VERSIONED:
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = None
    return found


def _error_line(err: BaseException) -> str:
    """One line for a failure: the notebook's exception, not papermill's wrapper text."""
    ename, evalue = getattr(err, "ename", None), getattr(err, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(err).__name__}: {err}"
    return " ".join(text.split())[:500]


def _exec_params(params: dict[str, Any], work: Path) -> dict[str, Any]:
    """The params the kernel sees: the run's working dir, absolute cassette paths."""
    out = dict(params, output_dir=str(work))
    if "cassette" in out:
        if out["cassette"]:
            out["cassette"] = str(Path(out["cassette"]).expanduser().resolve())
        elif out.get("proposer") == "openai":
            out["cassette"] = str(work / "cassette.jsonl")  # record every exchange beside the results
    return out


def _run_info(experiment: str, rid: str, params: dict[str, Any], work: Path, start: str, t0: float, source: str) -> dict[str, Any]:
    ledger_path = work / "ledger.json"
    return {
        "experiment": experiment,
        "run_id": rid,
        "status": "ok",
        "start": start,
        "end": _now(),
        "duration_s": round(time.monotonic() - t0, 3),
        "git": git_state(),
        "versions": versions(),
        "seed": params.get("seed"),
        "proposer": params.get("proposer"),
        "params_source": source,
        "llm_ledger": read_json(ledger_path) if ledger_path.is_file() else {},
        # All LLM searches of the run with the run's totals (llm_ledger has the ones the notebook named).
        "llm_run": read_json(work / "llm_run.json") if (work / "llm_run.json").is_file() else {},
        "cassette": "cassette.jsonl" if (work / "cassette.jsonl").is_file() else None,
        "sandbox_layers": sandbox_layers(),
    }


def _publishable(notebook: Path, work: Path, final: Path) -> None:
    """Rewrite the injected parameters so the published notebook names no temporary folder.

    ``output_dir`` becomes ``""`` (re-executing a published notebook writes nothing) and
    any other injected path inside the working dir is moved to the final run dir.
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    changed = False
    for cell in nb.cells:
        if "injected-parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        lines = []
        for line in cell.source.splitlines():
            if line.startswith("output_dir = "):
                line = 'output_dir = ""  # cleared on publishing: a re-execution writes nothing'
            lines.append(line.replace(str(work), str(final)))
        new = "\n".join(lines)
        changed |= new != cell.source
        cell.source = new
    meta = nb.metadata.get("papermill", {})
    if meta:  # papermill records the parameters and paths too
        before = json.dumps(meta, sort_keys=True)
        if "output_dir" in meta.get("parameters", {}):
            meta["parameters"]["output_dir"] = ""
        nb.metadata["papermill"] = json.loads(before.replace(json.dumps(str(work))[1:-1], json.dumps(str(final))[1:-1]))
        if "output_dir" in meta.get("parameters", {}):
            nb.metadata["papermill"]["parameters"]["output_dir"] = ""
        changed |= json.dumps(nb.metadata["papermill"], sort_keys=True) != before
    if changed:
        write_text_atomic(notebook, nbformat.writes(nb))


def execute_run(experiment: str, params: dict[str, Any], root: str | Path, force: bool = False, source: str = "") -> Outcome:
    """Execute one run of ``experiment`` with full validated ``params`` under outputs ``root``.

    Skips a run whose complete run dir exists (unless ``force``). A second process asked
    for the same run waits for the first (a lock) and then skips it. Never raises for a
    failure of the run itself: the outcome says ``failed`` and why. An interrupt (Ctrl-C)
    kills the run's kernel, removes its working dir, leaves a failed record and re-raises.
    """
    from amdlib.experiments import get

    root = Path(root)
    exp = get(experiment)
    rid = runs.run_id(experiment, params)
    final = runs.run_dir(root, experiment, rid)
    if not force and runs.is_complete(final):
        return Outcome(experiment, rid, "skipped", str(final))

    waited = []

    def waiting(pid: int | None) -> None:
        import sys

        waited.append(pid)
        print(f"{experiment}/{rid}: waiting for the same run in progress (pid {pid or '?'})", file=sys.stderr, flush=True)

    with runs.run_lock(root, experiment, rid, on_wait=waiting):
        if runs.is_complete(final) and (not force or waited):  # the run we waited for did the work
            return Outcome(experiment, rid, "skipped", str(final))
        return _execute_locked(exp, params, root, rid, final, source)


def _execute_locked(exp: Any, params: dict[str, Any], root: Path, rid: str, final: Path, source: str) -> Outcome:
    from amdlib.pipeline.render import render_file

    experiment = exp.name
    from amdlib.pipeline import resume

    t0, start = time.monotonic(), _now()
    # An LLM run's own cassette outlives failed and killed attempts; the next attempt resumes it.
    own_cassette = params.get("proposer") == "openai" and not params.get("cassette")
    if own_cassette:
        resume.salvage(root, experiment, rid)
    work = runs.working_dir(root, experiment, rid)
    if own_cassette:
        resume.start(work, root, experiment, rid)
    failed = runs.failed_record(root, experiment, rid)
    kernel_log = work / "kernel.log"  # the kernel process's own log; dropped before publishing

    def record_failure(line: str) -> None:
        partial = work / "notebook.ipynb"
        if partial.is_file():
            shutil.copyfile(partial, failed.with_suffix(".ipynb"))
        log_tail = kernel_log.read_text(errors="replace")[-4000:] if kernel_log.is_file() else ""
        write_json(failed, {"experiment": experiment, "run_id": rid, "status": "failed", "error": line, "kernel_log": log_tail,
                            "start": start, "end": _now(), "params": runs.identity(params), "params_source": source})
        if own_cassette:
            resume.finish(work, root, experiment, rid, ok=False)  # paid answers are kept for the rerun
        shutil.rmtree(work, ignore_errors=True)

    try:
        tag = f"{rid[:8]}-{os.getpid()}"
        execute_notebook(runs.notebook_path(exp), work / "notebook.ipynb", _exec_params(params, work), tag, kernel_log)
        if not (work / "results.json").is_file():
            raise RuntimeError("the notebook finished without writing results.json (call ctx.write_results)")
        _publishable(work / "notebook.ipynb", work, final)
        render_file(work / "notebook.ipynb", work / "notebook.html")
        kernel_log.unlink(missing_ok=True)
        write_text_atomic(work / "params.yaml", yaml.safe_dump(runs.identity(params), sort_keys=True))
        write_json(work / "run.json", _run_info(experiment, rid, params, work, start, t0, source))
        runs.publish(work, final)
        if own_cassette:
            resume.finish(work, root, experiment, rid, ok=True)
    except KeyboardInterrupt:
        kill_live_kernels()
        record_failure("interrupted (Ctrl-C) before the run finished")
        raise
    except Exception as err:  # a run failure is data, not a crash of the sweep
        line = _error_line(err)
        record_failure(line)
        return Outcome(experiment, rid, "failed", str(failed), error=line, duration_s=time.monotonic() - t0)
    failed.unlink(missing_ok=True)
    failed.with_suffix(".ipynb").unlink(missing_ok=True)
    runs.rebuild_index(root)
    return Outcome(experiment, rid, "ok", str(final), duration_s=time.monotonic() - t0)
