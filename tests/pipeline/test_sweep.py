"""`amd sweep` end to end with real kernels: skip on rerun, kill and resume, failures, Dask.

All tests of this module share one outputs root (xdist's loadscope keeps them on one worker);
every run is the quickstart at smoke size, so each takes seconds.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from amdlib.pipeline import runs
from amdlib.pipeline.jsonio import read_json
from amdlib.pipeline.sweep import load_sweep

SMOKE = str(Path(__file__).resolve().parents[2] / "params" / "quickstart" / "smoke.yaml")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("outputs")


def sweep_file(write_yaml, name: str, **spec) -> Path:
    return write_yaml(name, {"experiment": "quickstart", "base": SMOKE, **spec})


def complete_ids(outputs: Path) -> set[str]:
    base = outputs / "quickstart"
    return {p.name for p in base.iterdir() if not p.name.startswith(".") and p.is_dir() and runs.is_complete(p)} if base.exists() else set()


def test_sweep_expansion_is_validated_and_stable(write_yaml):
    path = sweep_file(write_yaml, "s.yaml", grid={"method": ["funsearch", "eoh"], "target": ["linear", "smooth"]},
                      runs=[{"n_points": 16}, {"n_points": 32}], seeds=[0, 1])
    sweep = load_sweep(path)
    assert len(sweep.runs) == 16 and len(set(sweep.run_ids())) == 16
    assert load_sweep(path).run_ids() == sweep.run_ids()
    assert {(p["method"], p["target"], p["n_points"], p["seed"]) for p in sweep.runs} == {
        (m, t, n, s) for m in ("funsearch", "eoh") for t in ("linear", "smooth") for n in (16, 32) for s in (0, 1)
    }
    assert all(p["max_evaluations"] == 12 for p in sweep.runs)  # from the base file


def test_sweep_j2_then_rerun_skips_everything(amd, write_yaml, outputs):
    path = sweep_file(write_yaml, "two.yaml", seeds=[0, 1])
    first = amd("sweep", str(path), "-j", "2", outputs=outputs)
    assert first.returncode == 0, first.stderr
    expected = set(load_sweep(path).run_ids())
    assert complete_ids(outputs) == expected
    assert "quickstart: 2 ran, 0 skipped (complete), 0 failed" in first.stdout
    stamps = {rid: (outputs / "quickstart" / rid / "run.json").stat().st_mtime_ns for rid in expected}
    second = amd("sweep", str(path), "-j", "2", outputs=outputs)
    assert second.returncode == 0, second.stderr
    assert "quickstart: 0 ran, 2 skipped (complete), 0 failed" in second.stdout
    assert stamps == {rid: (outputs / "quickstart" / rid / "run.json").stat().st_mtime_ns for rid in expected}
    dry = amd("sweep", str(path), "--dry-run", outputs=outputs)
    assert dry.returncode == 0 and dry.stdout.count("complete") == 2


def test_a_failing_run_fails_the_sweep_but_not_the_others(amd, write_yaml, outputs, tmp_path):
    # An empty cassette passes the pre-flight check, then the run fails at its first request.
    empty = tmp_path / "empty-cassette.jsonl"
    empty.write_text("")
    path = sweep_file(write_yaml, "fail.yaml", runs=[{"seed": 2}, {"proposer": "replay", "cassette": str(empty)}])
    good, bad = load_sweep(path).run_ids()
    done = amd("sweep", str(path), "-j", "2", outputs=outputs)
    assert done.returncode == 1
    assert "1 ran, 0 skipped (complete), 1 failed" in done.stdout
    assert runs.is_complete(outputs / "quickstart" / good)
    assert not (outputs / "quickstart" / bad).exists()
    record = read_json(outputs / "quickstart" / f"{bad}.failed.json")
    assert record["status"] == "failed" and record["error"] and "\n" not in record["error"]
    assert not list((outputs / "quickstart").glob(".tmp-*"))


def test_killed_sweep_resumes_without_reporting_partial_runs(amd, amd_popen, write_yaml, outputs):
    path = sweep_file(write_yaml, "kill.yaml", seeds=[3, 4])
    first_id, second_id = load_sweep(path).run_ids()
    proc = amd_popen("sweep", str(path), "-j", "1", outputs=outputs)
    deadline = time.monotonic() + 300
    try:
        while first_id not in complete_ids(outputs) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert first_id in complete_ids(outputs), "the first run never completed"
    assert second_id not in complete_ids(outputs), "the sweep finished before it could be killed"
    assert not (outputs / "quickstart" / second_id).exists()  # only a hidden .tmp dir, if anything
    # (the kill may land between publishing the first run and rebuilding the index)
    assert second_id not in (outputs / "index.jsonl").read_text() if (outputs / "index.jsonl").is_file() else True
    again = amd("sweep", str(path), outputs=outputs)
    assert again.returncode == 0, again.stderr
    assert "1 ran, 1 skipped (complete), 0 failed" in again.stdout
    assert {first_id, second_id} <= complete_ids(outputs)
    index = (outputs / "index.jsonl").read_text()
    assert first_id in index and second_id in index
    time.sleep(0.5)  # the killed run's kernel notices its parent is gone and exits
    assert not [p for p in (outputs / "quickstart").glob(f".tmp-{second_id}-*")]


def test_sweep_on_a_dask_local_cluster(amd, write_yaml, outputs):
    from distributed import LocalCluster

    path = sweep_file(write_yaml, "dask.yaml", seeds=[5, 6])
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        done = amd("sweep", str(path), "--scheduler", cluster.scheduler_address, outputs=outputs)
    assert done.returncode == 0, done.stderr
    assert "2 ran, 0 skipped (complete), 0 failed" in done.stdout
    assert set(load_sweep(path).run_ids()) <= complete_ids(outputs)


def test_unreachable_scheduler_is_a_user_error(amd, write_yaml, outputs):
    path = sweep_file(write_yaml, "nodask.yaml", seeds=[7])
    done = amd("sweep", str(path), "--scheduler", "tcp://127.0.0.1:9", outputs=outputs, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Dask scheduler" in done.stderr
