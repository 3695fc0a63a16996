"""AMDLIB_CELL_TIMEOUT: a cell that runs too long fails its run cleanly; a bad value is a one-line error."""

import json


def test_bad_cell_timeout_is_a_one_line_error(amd, tmp_path, monkeypatch):
    monkeypatch.setenv("AMDLIB_CELL_TIMEOUT", "soon")
    out = amd("run", "quickstart", "-p", "params/quickstart/smoke.yaml", outputs=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "AMDLIB_CELL_TIMEOUT" in out.stderr
    assert not (tmp_path / "quickstart").exists()


def test_a_cell_over_the_limit_fails_the_run_and_publishes_nothing(amd, tmp_path, monkeypatch):
    monkeypatch.setenv("AMDLIB_CELL_TIMEOUT", "3")
    out = amd("run", "quickstart", "-p", "params/quickstart/smoke.yaml", "--set", "max_evaluations=200000", outputs=tmp_path)
    assert out.returncode != 0
    failed = list((tmp_path / "quickstart").glob("*.failed.json"))
    assert len(failed) == 1
    assert "timed out" in json.loads(failed[0].read_text())["error"].lower()
    assert not [p for p in (tmp_path / "quickstart").iterdir() if p.is_dir()]
