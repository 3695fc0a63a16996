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

import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import IO, Any, Iterator

import yaml

from amdlib.pipeline import runs
from amdlib.pipeline.jsonio import read_json, write_json, write_text_atomic

#: Distributions whose versions each run records.
_VERSIONED = ("amdlib", "numpy", "scipy", "torch", "matplotlib", "papermill", "nbclient", "ipykernel", "openai", "llama_cpp_python")
#: Where kernels put their IPC sockets (short: AF_UNIX paths are limited to ~100 bytes).
IPC_DIR = Path("/tmp/amdk")
#: Environment variable: seconds one notebook cell may run before the run fails (unset: no limit).
CELL_TIMEOUT_ENV = "AMDLIB_CELL_TIMEOUT"


def cell_timeout() -> int | None:
    """The per-cell time limit from ``AMDLIB_CELL_TIMEOUT``, or None; a bad value is a one-line error."""
    text = os.environ.get(CELL_TIMEOUT_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        from amdlib.errors import UserError

        raise UserError(f"{CELL_TIMEOUT_ENV}={text!r}: expected a whole number of seconds >= 1 (or unset it)")
    return int(text)


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


def ipc_kernel_manager(tag: str, log: IO[bytes]) -> type:
    """A kernel manager class whose kernels talk over IPC sockets under ``/tmp/amdk/<tag>``.

    Kernels started in parallel with TCP pick free ports independently and can
    collide; IPC socket paths are unique per run instead. The kernel process's
    own stdout/stderr (its log, not cell output) go to ``log``.
    """
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    IPC_DIR.mkdir(parents=True, exist_ok=True)
    prefix = str(IPC_DIR / tag)

    class IpcKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", prefix)
            super().__init__(**kwargs)

        async def start_kernel(self, **kwargs: Any) -> None:
            kwargs.setdefault("stdout", log)
            kwargs.setdefault("stderr", log)
            await KernelManager._async_start_kernel(self, **kwargs)

    return IpcKernelManager


@contextmanager
def _kernel_env() -> Iterator[None]:
    """Kernels inherit our environment: drop a non-inline MPLBACKEND so figures reach the notebook."""
    saved = os.environ.pop("MPLBACKEND", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved


def execute_notebook(source: Path, target: Path, params: dict[str, Any], tag: str, log_path: Path) -> None:
    """Run ``source`` with ``params`` injected, saving the executed copy to ``target``.

    The kernel's own log goes to ``log_path`` (cell outputs are in the notebook).
    """
    import papermill

    with _kernel_env(), open(log_path, "ab") as log:
        try:
            papermill.execute_notebook(
                str(source),
                str(target),
                parameters=params,
                kernel_name="python3",
                cwd=str(runs.REPO_ROOT),
                progress_bar=False,
                start_timeout=180,
                execution_timeout=cell_timeout(),
                kernel_manager_class=ipc_kernel_manager(tag, log),
            )
        finally:
            for leftover in IPC_DIR.glob(f"{tag}-*"):
                leftover.unlink(missing_ok=True)


def _clean_ipc(prefix: str) -> None:
    """Remove IPC sockets left by killed runs (``<prefix>-<pid>-<n>`` of processes that are gone)."""
    for sock in IPC_DIR.glob(f"{prefix}-*-*"):
        pid = sock.name.split("-")[1]
        if pid.isdigit() and not runs.pid_alive(int(pid)):
            sock.unlink(missing_ok=True)


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
        "cassette": "cassette.jsonl" if (work / "cassette.jsonl").is_file() else None,
    }


def execute_run(experiment: str, params: dict[str, Any], root: str | Path, force: bool = False, source: str = "") -> Outcome:
    """Execute one run of ``experiment`` with full validated ``params`` under outputs ``root``.

    Skips a run whose complete run dir exists (unless ``force``). Never raises
    for a failure of the run itself: the outcome says ``failed`` and why.
    """
    from amdlib.experiments import get
    from amdlib.pipeline.render import render_file

    root = Path(root)
    exp = get(experiment)
    rid = runs.run_id(experiment, params)
    final = runs.run_dir(root, experiment, rid)
    if not force and runs.is_complete(final):
        return Outcome(experiment, rid, "skipped", str(final))
    t0, start = time.monotonic(), _now()
    work = runs.working_dir(root, experiment, rid)
    failed = runs.failed_record(root, experiment, rid)
    kernel_log = work / "kernel.log"  # the kernel process's own log; dropped before publishing
    try:
        tag = f"{rid[:8]}-{os.getpid()}"
        _clean_ipc(rid[:8])
        execute_notebook(runs.notebook_path(exp), work / "notebook.ipynb", _exec_params(params, work), tag, kernel_log)
        if not (work / "results.json").is_file():
            raise RuntimeError("the notebook finished without writing results.json (call ctx.write_results)")
        render_file(work / "notebook.ipynb", work / "notebook.html")
        kernel_log.unlink(missing_ok=True)
        write_text_atomic(work / "params.yaml", yaml.safe_dump(runs.identity(params), sort_keys=True))
        write_json(work / "run.json", _run_info(experiment, rid, params, work, start, t0, source))
        runs.publish(work, final)
    except Exception as err:  # a run failure is data, not a crash of the sweep
        line = _error_line(err)
        partial = work / "notebook.ipynb"
        if partial.is_file():
            shutil.copyfile(partial, failed.with_suffix(".ipynb"))
        log_tail = kernel_log.read_text(errors="replace")[-4000:] if kernel_log.is_file() else ""
        write_json(failed, {"experiment": experiment, "run_id": rid, "status": "failed", "error": line, "kernel_log": log_tail,
                            "start": start, "end": _now(), "params": runs.identity(params), "params_source": source})
        shutil.rmtree(work, ignore_errors=True)
        return Outcome(experiment, rid, "failed", str(failed), error=line, duration_s=time.monotonic() - t0)
    failed.unlink(missing_ok=True)
    failed.with_suffix(".ipynb").unlink(missing_ok=True)
    runs.rebuild_index(root)
    return Outcome(experiment, rid, "ok", str(final), duration_s=time.monotonic() - t0)
