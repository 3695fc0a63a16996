"""The paper's reported figure, beside ours and never comparable (another distribution), and the
paper item ``amd-llm/correlated`` from a real smoke run."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from amdlib.core.experiment import defaults
from amdlib.core.paperdata import rows as paper_data
from amdlib.experiments.correlated_revenue import EXPERIMENT, paper
from amdlib.experiments.virtual_valuation.paper import REPORTED
from amdlib.pipeline import catalog
from amdlib.pipeline.params import load_params
from amdlib.pipeline.runner import execute_run

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """One complete smoke run (21 levels, rho = 0.5: the item's setting) made by the real runner."""
    root = tmp_path_factory.mktemp("outputs")
    params = load_params(EXPERIMENT, REPO / "params" / "correlated_revenue" / "smoke.yaml")
    outcome = execute_run("correlated_revenue", params, root, source="smoke.yaml")
    assert outcome.status == "ok", outcome.error
    return [r for r in catalog.experiment_runs(root, "correlated_revenue") if r.status == "ok"]


def test_paper_rows_show_the_reported_figure_beside_ours():
    rows = EXPERIMENT.paper_rows({"best": {"revenue": 0.45}}, defaults(EXPERIMENT))
    assert rows and rows[0]["paper"] == pytest.approx(0.3857) and rows[0]["ours"] == 0.45
    assert {"table", "setting", "metric", "paper", "ours"} <= set(rows[0]) and not rows[0]["comparable"]
    assert paper.reported_revenue() == rows[0]["paper"]
    assert "csv" not in inspect.getsource(paper).replace("correlated_revenue.csv", "")  # one reader: paperdata


def test_listing_gives_the_headline_and_cells_and_draws_nothing(smoke_runs, monkeypatch):
    monkeypatch.setattr("amdlib.core.figures.canvas", lambda *a, **k: pytest.fail("drew while listing"))
    (view,) = EXPERIMENT.paper_items(smoke_runs, None)
    run = smoke_runs[0]
    assert view.item == paper.CORRELATED and not view.figures and not view.tables
    assert view.cells == (1, 1) and view.runs == (run.run_id,) and len(view.headline) < 80
    assert f"{run.results['best']['revenue']:.4f}" in view.headline and "0.3857" in view.headline


def test_the_drawn_item_shows_the_paper_as_printed_beside_ours(smoke_runs, tmp_path):
    (view,) = EXPERIMENT.paper_items(smoke_runs, tmp_path)
    (fig,), (table,) = view.figures, view.tables
    assert fig.path.is_file() and fig.path.parent == tmp_path and fig.item == paper.CORRELATED
    for caption in (fig.caption, table.caption):
        assert "Ours: the offline search (funsearch, 16 candidates, no LLM)" in caption
        assert "never differenced" in caption
    assert "Why not the paper's setting: " in fig.caption
    assert table.columns[:2] == ("mechanism", REPORTED) and len(set(table.columns)) == len(table.columns)
    printed = [r.value for r in paper_data("correlated_revenue", table="text")]
    assert table.rows[0][1] in printed and {row[1] for row in table.rows[1:]} == {"not printed"}
    cells = dict(zip(table.columns, table.rows[0]))
    results = smoke_runs[0].results
    share = 100 * results["best"]["revenue"] / results["optimum_revenue"]
    assert cells[table.columns[2]] == f"{results['best']['revenue']:.4f} ({share:.2f}%)"
    regretnet = next(row for row in table.rows if row[0] == "RegretNet")
    assert "expected regret" in regretnet[-1] and "exhaustive audit" in regretnet[-1]


def test_an_llm_run_is_named_by_its_model(smoke_runs, tmp_path):
    run = smoke_runs[0]

    class Llm:
        run_id, results = run.run_id, run.results
        params = {**run.params, "proposer": "replay", "model": "qwen2.5-7b"}

    (view,) = EXPERIMENT.paper_items([Llm()], tmp_path)
    assert "an LLM run: qwen2.5-7b replayed from a cassette (funsearch, 16 samples)" in view.figures[0].caption


def test_the_item_setting_is_the_records_default():
    assert paper.item_setting() == (EXPERIMENT.params["grid_size"].default, EXPERIMENT.params["rho"].default)
