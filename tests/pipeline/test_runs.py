"""Run ids, atomic publication, completeness, stale working dirs, JSON canonical form."""

from __future__ import annotations

import json
import math
import os

import numpy as np

from amdlib.pipeline import runs
from amdlib.pipeline.jsonio import dumps, write_json


def test_run_id_ignores_output_dir_and_key_order():
    a = runs.run_id("quickstart", {"seed": 1, "method": "eoh", "output_dir": "/x"})
    b = runs.run_id("quickstart", {"method": "eoh", "seed": 1, "output_dir": ""})
    assert a == b and len(a) == 12
    assert a != runs.run_id("quickstart", {"method": "eoh", "seed": 2})
    assert a != runs.run_id("other", {"method": "eoh", "seed": 1})


def test_complete_only_with_ok_status_and_results(tmp_path):
    run = tmp_path / "quickstart" / "abc"
    run.mkdir(parents=True)
    assert not runs.is_complete(run)
    write_json(run / "run.json", {"status": "ok"})
    assert not runs.is_complete(run)  # no results.json yet
    write_json(run / "results.json", {})
    assert runs.is_complete(run)
    write_json(run / "run.json", {"status": "failed"})
    assert not runs.is_complete(run)


def test_publish_replaces_and_stale_dirs_go(tmp_path):
    final = runs.run_dir(tmp_path, "quickstart", "abc")
    final.mkdir(parents=True)
    (final / "old").write_text("1")
    dead = tmp_path / "quickstart" / ".tmp-abc-999999999"  # no such pid
    dead.mkdir()
    work = runs.working_dir(tmp_path, "quickstart", "abc")
    assert not dead.exists() and work.name == f".tmp-abc-{os.getpid()}"
    (work / "new").write_text("2")
    runs.publish(work, final)
    assert sorted(p.name for p in final.iterdir()) == ["new"]
    assert sorted(p.name for p in (tmp_path / "quickstart").iterdir()) == ["abc"]


def test_index_lists_only_complete_runs(tmp_path):
    for rid, status in (("r1", "ok"), ("r2", "failed")):
        d = runs.run_dir(tmp_path, "quickstart", rid)
        d.mkdir(parents=True)
        write_json(d / "run.json", {"experiment": "quickstart", "run_id": rid, "status": status})
        write_json(d / "results.json", {})
    lines = runs.rebuild_index(tmp_path).read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ["r1"]


def test_canonical_json():
    text = dumps({"b": np.float64(0.5), "a": [np.int64(2), math.inf], "c": (1, 2)})
    assert text == '{\n "a": [\n  2,\n  null\n ],\n "b": 0.5,\n "c": [\n  1,\n  2\n ]\n}\n'


def test_kernel_params_record_llm_runs_beside_the_results(tmp_path, monkeypatch):
    from amdlib.pipeline.runner import _exec_params

    monkeypatch.chdir(tmp_path)
    work = tmp_path / ".tmp-x-1"
    online = _exec_params({"proposer": "openai", "cassette": "", "seed": 0}, work)
    assert online == {"proposer": "openai", "cassette": str(work / "cassette.jsonl"), "seed": 0, "output_dir": str(work)}
    offline = _exec_params({"proposer": "offline", "cassette": ""}, work)
    assert offline["cassette"] == ""
    replay = _exec_params({"proposer": "replay", "cassette": "rec/c.jsonl"}, work)
    assert replay["cassette"] == str(tmp_path / "rec" / "c.jsonl")  # the kernel runs elsewhere: make it absolute
