"""Runs that clean up after themselves: Ctrl-C, a second identical run, published notebooks,
private kernel sockets, `amd clean`, and `amd validate` that writes nothing.

Every run here is a real papermill run of the quickstart (smoke or default size).
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from amdlib.pipeline import runs
from amdlib.pipeline.clean import clean
from amdlib.pipeline.jsonio import read_json, write_json
from amdlib.pipeline.kernels import ipc_dir
from tests.conftest import REPO, amd_argv, amd_env

DEFAULT_SWEEP = REPO / "params" / "quickstart" / "sweep_default.yaml"


def _start(args: list[str], outputs: Path) -> subprocess.Popen:
    return subprocess.Popen(amd_argv(*args), cwd=REPO, env=amd_env(outputs), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_ctrl_c_stops_a_sweep_quickly_and_leaves_no_working_dir(tmp_path):
    out = tmp_path / "out"
    proc = _start(["sweep", str(DEFAULT_SWEEP), "-j", "2"], out)
    deadline = time.monotonic() + 120
    while len(glob.glob(str(out / "quickstart" / ".tmp-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.0)  # the kernels are busy in their cells
    sent = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    assert proc.returncode == 130 and took < 2.5, (proc.returncode, took, err)
    assert err.strip().splitlines() == ["amd: interrupted; nothing new was started and unfinished runs were cleaned up"]
    time.sleep(2.0)  # nothing may start after the interrupt
    names = sorted(p.name for p in (out / "quickstart").iterdir())
    assert not [n for n in names if n.startswith(".tmp-")], names
    failed = [n for n in names if n.endswith(".failed.json")]
    assert len(failed) == 2 and not [n for n in names if not n.startswith(".") and "." not in n]
    assert all("interrupted" in read_json(out / "quickstart" / n)["error"] for n in failed)


def test_a_second_identical_run_waits_instead_of_computing(tmp_path):
    out = tmp_path / "out"
    args = ["run", "quickstart", "-p", "params/quickstart/smoke.yaml"]
    first = _start(args, out)
    deadline = time.monotonic() + 60
    while not list((out / "quickstart").glob(".tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = _start(args, out)
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, (err1, err2)
    assert out1.splitlines()[-1].startswith("ok ") and out2.splitlines()[-1].startswith("skipped "), (out1, out2)
    assert "waiting for the same run in progress" in err2


def test_published_notebook_names_no_temporary_folder(tmp_path):
    from amdlib.experiments.quickstart import EXPERIMENT
    from amdlib.pipeline.params import load_params
    from amdlib.pipeline.runner import execute_run

    params = load_params(EXPERIMENT, REPO / "params" / "quickstart" / "smoke.yaml")
    outcome = execute_run("quickstart", params, tmp_path, source="smoke.yaml")
    assert outcome.status == "ok", outcome.error
    run = Path(outcome.path)
    nb = nbformat.read(str(run / "notebook.ipynb"), as_version=4)
    injected = [c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'output_dir = ""' in injected[0]
    for name in ("notebook.ipynb", "notebook.html"):
        assert ".tmp-" not in (run / name).read_text(), name


def test_kernel_sockets_live_in_a_private_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    folder = ipc_dir()
    info = folder.stat()
    assert folder == tmp_path / "amdk" and info.st_uid == os.getuid() and info.st_mode & 0o777 == 0o700
    folder.chmod(0o777)  # opened up (or made by someone else): never used
    other = ipc_dir()
    assert other != folder and other.stat().st_mode & 0o777 == 0o700 and other.stat().st_uid == os.getuid()
    assert ipc_dir() == other  # one fallback folder per process (removed at exit), not one per call


def test_fallback_ipc_folder_is_removed_when_the_process_exits(tmp_path):
    code = ("import os, sys; os.environ['XDG_RUNTIME_DIR'] = sys.argv[1]; os.chmod(sys.argv[1] + '/amdk', 0o777)\n"
            "from amdlib.pipeline.kernels import ipc_dir; print(ipc_dir())")
    (tmp_path / "amdk").mkdir()
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    made = Path(out.stdout.strip())
    assert made.name.startswith(f"amdk-{os.getuid()}-") and not made.exists()


def test_clean_removes_leftovers_and_keeps_complete_runs(tmp_path):
    exp = tmp_path / "quickstart"
    done = exp / "abc123abc123"
    done.mkdir(parents=True)
    write_json(done / "run.json", {"status": "ok"})
    write_json(done / "results.json", {})
    write_json(exp / "dead00dead00.failed.json", {"status": "failed"})
    (exp / "dead00dead00.failed.ipynb").write_text("{}")
    dead_pid = 2**22 + 12345  # above pid_max's default: no such process
    (exp / f".tmp-dead00dead00-{dead_pid}").mkdir()
    live = exp / f".tmp-live00live00-{os.getpid()}"
    live.mkdir()
    with runs.run_lock(tmp_path, "quickstart", "held00held00"):
        found = clean(tmp_path, dry_run=True)
        assert runs.lock_path(tmp_path, "quickstart", "held00held00") not in found
        assert clean(tmp_path) == found and len(found) == 3
    assert runs.is_complete(done) and live.is_dir()
    assert sorted(p.name for p in exp.iterdir()) == [live.name, done.name]


@pytest.mark.parametrize("cmd", [["clean", "--dry-run"], ["clean"]])
def test_clean_command_prints_what_it_removes(amd, tmp_path, cmd):
    write_json(tmp_path / "quickstart" / "x.failed.json", {"status": "failed"})
    done = amd(*cmd, "--outputs", str(tmp_path))
    assert done.returncode == 0 and "x.failed.json" in done.stdout and "1 leftover(s)" in done.stdout
    assert (tmp_path / "quickstart" / "x.failed.json").exists() == (cmd[-1] == "--dry-run")
