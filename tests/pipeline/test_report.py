"""The report page: varied params as columns, captioned figures, reasons for blank comparisons,
per-table paper figures (facility Table 1 over its 32 cells), failed runs collapsed."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml

from amdlib.experiments.quickstart import EXPERIMENT
from amdlib.pipeline.report import build_report
from amdlib.pipeline.report_tables import NO_OURS, NO_PAPER, NOT_COMPARABLE, comparison_row, html_table


def test_runs_table_has_the_varied_params_and_figures_are_captioned(quickstart_outputs):
    root = quickstart_outputs
    page = build_report(root).read_text()
    rows = list(csv.DictReader((root / "tables" / "quickstart_runs.csv").open()))
    assert list(rows[0])[:3] == ["run", "method", "seed"]  # method tells the two runs apart
    assert sorted(r["method"] for r in rows) == ["eoh", "funsearch"]
    for r in rows:
        results = json.loads((root / "quickstart" / r["run"] / "results.json").read_text())
        assert float(r["best.score"]) == pytest.approx(results["best"]["score"], rel=1e-3)
        caption = re.search(rf"<figcaption>Run {r['run']} \(method={r['method']}\): ([^<]+)</figcaption>", page)
        assert caption, f"no caption naming run {r['run']} and its method"
    assert page.count("<figure>") == page.count("<figcaption>") == len(rows)
    assert 'class="tablebox"' in page and "overflow-x:auto" in page


def test_failed_runs_sit_in_their_own_collapsed_section(quickstart_outputs):
    page = build_report(quickstart_outputs).read_text()
    failed = page[page.index('<h2 id="failed">'):]
    assert failed.startswith('<h2 id="failed">Failed runs</h2><details class="failed"><summary>')
    assert "0badc0ffee00" in failed and "ZeroDivisionError: division by zero" in failed
    assert "0badc0ffee00" not in page[: page.index('<h2 id="failed">')].split("<ul>", 1)[1].split("</ul>", 1)[1]
    assert "<details class=\"failed\" open" not in page


def test_blank_differences_say_why():
    assert comparison_row({"paper": 0.5, "ours": 0.75}, "r")["difference"] == pytest.approx(0.25)
    cases = [({"paper": 0.5, "ours": 0.7, "comparable": False}, NOT_COMPARABLE), ({"paper": "n/a", "ours": 0.7}, NO_PAPER),
             ({"paper": 0.5, "ours": None}, NO_OURS), ({"paper": 0.5, "ours": True}, NO_OURS)]
    for row, reason in cases:
        out = comparison_row(row, "r")
        assert out["difference"] is None and out["reason"] == reason
        assert f'<td class="why">{reason.replace(chr(39), "&#x27;")}</td>' in html_table([out], ["paper", "ours", "difference"])


def _paper_rows(results, params):
    return [{"table": "T1", "setting": params["target"], "metric": "best score", "paper": -0.5, "ours": results["best"]["score"]},
            {"table": "T1", "setting": "the paper's own grid", "metric": "best score", "paper": -0.1, "ours": results["best"]["score"],
             "comparable": False},
            {"table": "T 2", "setting": params["target"], "metric": "evaluations", "paper": 10, "ours": results["evaluations"]}]


def _broken(results, params):
    raise KeyError("best")


def test_one_figure_per_paper_table_and_a_footnote(quickstart_outputs, monkeypatch, tmp_path):
    exp = dataclasses.replace(EXPERIMENT, paper_rows=_paper_rows)
    monkeypatch.setattr("amdlib.experiments.available", lambda: {"quickstart": exp})
    page = build_report(quickstart_outputs).read_text()
    figs = sorted(p.name for p in (quickstart_outputs / "report").glob("quickstart-*.png"))
    assert figs == ["quickstart-t-2.png", "quickstart-t1.png"]
    assert page.count('src="report/quickstart-') == 2
    assert "the paper&#x27;s setting differs" in page and "Blank differences say why" in page
    rows = list(csv.DictReader((quickstart_outputs / "tables" / "quickstart_paper.csv").open()))
    assert [r["difference"] == "" for r in rows] == [False, True, False, False, True, False]
    # a hook that raises leaves the page, its tables and the other figures in place, with the reason shown
    monkeypatch.setattr("amdlib.experiments.available",
                        lambda: {"quickstart": dataclasses.replace(EXPERIMENT, paper_rows=_broken)})
    page = build_report(quickstart_outputs).read_text()
    assert "paper table of" in page and "KeyError" in page and "<figure>" in page


def test_sweep_status_lists_the_sweeps_own_runs_and_names_the_missing(quickstart_outputs, tmp_path):
    from amdlib.pipeline.sweep import load_sweep
    from amdlib.pipeline.sweep_status import sweep_status

    sweep = tmp_path / "sweep.yaml"
    smoke = Path(__file__).resolve().parents[2] / "params" / "quickstart" / "smoke.yaml"
    sweep.write_text(yaml.safe_dump({"experiment": "quickstart", "base": str(smoke), "grid": {"method": ["funsearch", "eoh", "random"]}}))
    runs = load_sweep(sweep).runs
    status = sweep_status("quickstart", runs[1], quickstart_outputs, sweep=sweep)
    assert [m.state for m in status.members] == ["complete", "this run", "not run yet"]
    assert status.varied == ["method"] and [status.describe(m) for m in status.missing()] == ["method=random"]
    assert status.headline() == "sweep sweep.yaml: 3 runs (1 this run, 1 complete, 1 not run yet)"
    assert sweep_status("quickstart", {**runs[0], "seed": 99}, quickstart_outputs).path is None  # in no params/ sweep
