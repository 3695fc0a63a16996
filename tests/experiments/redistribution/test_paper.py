"""The paper's redistribution numbers, shown as printed and never differenced, and the paper items
(``amd-llm/redistribution``, ``amd-llm/nna``, ``amd-llm/waterfilling``) from a real smoke run."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from amdlib.core.paperdata import rows as paper_data
from amdlib.experiments.redistribution import EXPERIMENT, paper
from amdlib.experiments.virtual_valuation.paper import REPORTED
from amdlib.pipeline import catalog
from amdlib.pipeline.params import load_params
from amdlib.pipeline.runner import execute_run

REPO = Path(__file__).resolve().parents[3]
PRINTED = {"prior manual method": 0.4935, "AMD-LLM": 0.5838, "RegretNet": 0.6254, "NNA-AMD-LLM": 0.5917}


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """One complete smoke run (n=4, m=2, U[0,1], one table setting) made by the real runner."""
    root = tmp_path_factory.mktemp("outputs")
    params = load_params(EXPERIMENT, REPO / "params" / "redistribution" / "smoke.yaml")
    outcome = execute_run("redistribution", params, root, source="smoke.yaml")
    assert outcome.status == "ok", outcome.error
    return [r for r in catalog.experiment_runs(root, "redistribution") if r.status == "ok"]


def test_paper_rows_and_hook():
    assert {r.metric: r.value for r in paper.reported()} == PRINTED
    table = EXPERIMENT.paper_rows({"setting": {"n_bidders": 4, "n_units": 2, "distribution": "uniform"},
                                   "best": {"expected_fraction": 0.7}}, {})
    assert len(table) == 4 and table[1]["ours"] == 0.7 and "unstated" in table[1]["setting"]
    assert not any(r["comparable"] for r in table) and table[0]["table"] == "Table 1"
    assert "csv" not in inspect.getsource(paper).replace("redistribution.csv", "")  # one reader: paperdata


def test_the_run_wrote_what_the_hook_gives(smoke_runs):
    run = smoke_runs[0]
    assert run.results["paper"] == EXPERIMENT.paper_rows(run.results, run.params)


def test_listing_gives_headlines_and_cells_and_draws_nothing(smoke_runs, monkeypatch):
    monkeypatch.setattr("amdlib.core.figures.canvas", lambda *a, **k: pytest.fail("drew while listing"))
    views = {v.item: v for v in EXPERIMENT.paper_items(smoke_runs, None)}
    assert list(views) == [paper.REDISTRIBUTION, paper.NNA, paper.WATERFILLING]
    assert all(not v.figures and not v.tables and len(v.headline) < 80 for v in views.values())
    # the smoke run fills the 4x2 setting of the default run's six, and the NNA main setting
    assert views[paper.REDISTRIBUTION].cells == (1, 6) == views[paper.WATERFILLING].cells
    assert views[paper.NNA].cells == (1, 1)
    audit = smoke_runs[0].results["table"][0]
    assert views[paper.WATERFILLING].headline.startswith(f"{audit['deficits']} deficits, {audit['negative_rebates']} "
                                                          f"negative rebates on {audit['audited_profiles']:,} profiles")
    assert "paper's setting unstated" in views[paper.REDISTRIBUTION].headline


def test_drawn_items_show_the_paper_as_printed_beside_ours(smoke_runs, tmp_path):
    views = {v.item: v for v in EXPERIMENT.paper_items(smoke_runs, tmp_path)}
    red, nna, water = views[paper.REDISTRIBUTION], views[paper.NNA], views[paper.WATERFILLING]
    assert len(red.figures) == 2 and len(nna.figures) == 1 and water.tables and not water.figures
    for view in views.values():
        for fig in view.figures:
            assert fig.path.is_file() and fig.path.parent == tmp_path and fig.item == view.item
        for caption in [f.caption for f in view.figures] + [t.caption for t in view.tables]:
            assert "Ours: the offline search (funsearch, 8 candidates, no LLM)" in caption
        for table in view.tables:
            assert len(set(table.columns)) == len(table.columns)
            assert all(len(row) == len(table.columns) for row in table.rows)
            assert not any("difference" in c or "−" in c and "paper" in c for c in table.columns)
    printed = {r.metric: r.value for r in paper_data("redistribution", table="Table 1")}
    for view, methods in ((red, list(PRINTED)), (nna, ["RegretNet", "NNA-AMD-LLM"])):
        main = view.tables[0]
        assert main.columns[:2] == ("method", REPORTED)
        shown = {row[0]: row[1] for row in main.rows}
        assert {m: shown[m] for m in methods} == {m: printed[m] for m in methods}  # exactly as printed
        assert {v for k, v in shown.items() if k not in printed} <= {"not printed"}
        assert "never differenced" in view.figures[0].caption and "Why not the paper's setting: " in view.figures[0].caption
    learned = dict(zip(red.tables[0].columns, next(r for r in red.tables[0].rows if r[0] == "AMD-LLM")))
    best = smoke_runs[0].results["best"]
    assert learned[red.tables[0].columns[2]] == f"{best['expected_fraction']:.4f} ± {best['expected_fraction_se']:.4f}"
    (audit_row,) = water.tables[0].rows
    assert audit_row[1] == "4x2" and audit_row[3] == smoke_runs[0].results["table"][0]["deficits"]
    assert "SP holds by construction" in water.tables[0].caption
