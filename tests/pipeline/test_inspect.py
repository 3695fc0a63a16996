"""`amd runs`, `amd show`, `amd open`, `amd list` and `-p NAME` on a real outputs tree, through the command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from amdlib.pipeline.inspect import text_table


def _runs(root: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in root.glob("quickstart/*/results.json")}


def test_runs_lists_ids_status_varied_params_metrics_and_age(amd, quickstart_outputs):
    done = amd("runs", "quickstart", outputs=quickstart_outputs)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"quickstart: 3 run(s) in {quickstart_outputs / 'quickstart'}"
    header = lines[1].split()
    assert header[:4] == ["run", "status", "method", "seed"] and header[-1] == "age" and "best.score" in header
    rows = {ln.split()[0]: ln.split() for ln in lines[3:]}
    for rid, results in _runs(quickstart_outputs).items():
        row = rows[rid]
        assert row[1] == "ok" and row[2] == results["params"]["method"]
        assert float(row[header.index("best.score")]) == pytest.approx(results["best"]["score"], rel=1e-3)
        assert re.fullmatch(r"\d+[smhd]", row[-1])
    assert rows["0badc0ffee00"][1:4] == ["failed", "random", "7"]
    assert len({len(ln.rstrip()) <= len(lines[2]) for ln in lines[1:]}) == 1  # aligned under the rule line
    everything = amd("runs", outputs=quickstart_outputs)
    assert everything.returncode == 0 and "quickstart: 3 run(s)" in everything.stdout


def test_show_prints_params_metrics_absolute_files_and_accepts_a_prefix(amd, quickstart_outputs):
    rid, results = sorted(_runs(quickstart_outputs).items())[0]
    done = amd("show", rid[:6], outputs=quickstart_outputs)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.splitlines()[0] == f"quickstart/{rid}  ok  {quickstart_outputs / 'quickstart' / rid}"
    assert f"  method: {results['params']['method']}" in out and "  max_evaluations: 12" in out
    assert f"  best.score: {results['best']['score']:.4g}" in out
    files = [Path(ln.split("  (")[0].strip()) for ln in out.split("files:\n", 1)[1].splitlines() if ln.startswith("  /")]
    assert {f.name for f in files} >= {"notebook.html", "results.json", "params.yaml", "run.json", "quickstart.png"}
    assert all(f.is_absolute() and f.is_file() for f in files)
    failed = amd("show", "quickstart/0badc0ffee00", outputs=quickstart_outputs)
    assert failed.returncode == 0 and "error: ZeroDivisionError: division by zero" in failed.stdout


def test_open_prints_the_html_path_when_no_browser_is_at_hand(amd, quickstart_outputs):
    rid = sorted(_runs(quickstart_outputs))[0]
    done = amd("open", rid, outputs=quickstart_outputs)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{quickstart_outputs / 'quickstart' / rid / 'notebook.html'}\n"
    failed = amd("open", "0badc0ffee00", outputs=quickstart_outputs)
    assert failed.returncode == 2 and "has no notebook.html" in failed.stderr


@pytest.mark.parametrize("args", [["show", "ffffffffffff"], ["open", "nothex!"], ["show", "abc"], ["runs", "nope"]])
def test_a_bad_run_id_is_one_line_and_exit_2(amd, quickstart_outputs, args):
    done = amd(*args, outputs=quickstart_outputs)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("amd: error: ")


def test_list_prints_absolute_paths_and_p_shortcuts_resolve(amd, tmp_path):
    done = amd("list")
    assert done.returncode == 0
    block = re.split(r"\n(?=\S)", done.stdout.split("quickstart: ", 1)[1])[0]  # the quickstart entry
    paths = [Path(tok) for tok in block.split() if tok.startswith("/")]
    assert len(paths) >= 4 and all(p.is_absolute() and p.is_file() for p in paths)  # notebook, smoke, default, paper
    assert "amd run quickstart -p default|paper|smoke" in done.stdout
    smoke = amd("baselines", "quickstart", "-p", "smoke")  # params/quickstart/smoke.yaml: n_points 32
    full = amd("baselines", "quickstart", "-p", "default")
    assert smoke.returncode == full.returncode == 0
    assert json.loads(smoke.stdout) != json.loads(full.stdout)
    bad = amd("baselines", "quickstart", "-p", "smok")
    assert bad.returncode == 2 and "no smok.yaml" in bad.stderr and "smoke" in bad.stderr


def test_text_table_aligns_numbers_right_and_text_left():
    lines = text_table(["name", "value"], [["a", 1.5], ["longer", 10.25], ["c", None]])
    assert lines == ["name    value", "------  -----", "a         1.5", "longer  10.25", "c           -"]
