"""The paper items ``amd-llm/myerson`` and ``amd-llm/reserve-price`` from a real smoke run: headlines
and cells without drawing (nor running code), figures and tables in the paper's form with captions
that say what "ours" is, and the rescaled shape comparison."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from amdlib.core.experiment import ItemView
from amdlib.experiments.virtual_valuation import EXPERIMENT, paper
from amdlib.pipeline import catalog
from amdlib.pipeline.params import load_params
from amdlib.pipeline.runner import execute_run

REPO = Path(__file__).resolve().parents[3]
RESERVE = (2 + math.sqrt(39)) / 35


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """One complete smoke run (Beta(2,5), 2 bidders: the item's setting) made by the real runner."""
    root = tmp_path_factory.mktemp("outputs")
    params = load_params(EXPERIMENT, REPO / "params" / "virtual_valuation" / "smoke.yaml")
    outcome = execute_run("virtual_valuation", params, root, source="smoke.yaml")
    assert outcome.status == "ok", outcome.error
    return [r for r in catalog.experiment_runs(root, "virtual_valuation") if r.status == "ok"]


@dataclasses.dataclass(frozen=True)
class View:
    """A RunView with other params (what an LLM run of the same program would show)."""

    run_id: str
    params: dict
    results: dict


def test_listing_gives_headlines_and_cells_and_draws_nothing(smoke_runs, monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("drew or ran code while listing")

    monkeypatch.setattr("amdlib.core.figures.canvas", refuse)
    monkeypatch.setattr("amdlib.core.sandbox.Sandbox", refuse)
    views = EXPERIMENT.paper_items(smoke_runs, None)
    assert [v.item for v in views] == [paper.MYERSON, paper.RESERVE]
    run = smoke_runs[0]
    for view in views:
        assert isinstance(view, ItemView) and not view.figures and not view.tables
        assert view.cells == (1, 1) and view.runs == (run.run_id,)
        assert len(view.headline) < 80 and f"{run.results['best']['reserve']:.4f}" in view.headline
        assert f"{run.results['baselines']['myerson_reserve']:.4f}" in view.headline and "offline" in view.headline


def test_drawn_items_have_a_figure_and_a_table_whose_captions_say_what_ours_is(smoke_runs, tmp_path):
    views = {v.item: v for v in EXPERIMENT.paper_items(smoke_runs, tmp_path)}
    best = smoke_runs[0].results["best"]
    for view in views.values():
        (fig,) = view.figures
        assert fig.path.parent == tmp_path and fig.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and fig.item == view.item
        for caption in [fig.caption] + [t.caption for t in view.tables]:
            assert "Ours: the offline search (funsearch, 40 candidates, no LLM)" in caption
            assert "The paper prints no number for this claim" in caption and "Not drawn" not in caption
        (table,) = view.tables
        assert table.rows and all(len(row) == len(table.columns) for row in table.rows)
        assert not any("paper" in c for c in table.columns)  # the paper printed no number here
    myerson = dict(zip(views[paper.MYERSON].tables[0].columns, views[paper.MYERSON].tables[0].rows[0]))
    reserve = dict(zip(views[paper.RESERVE].tables[0].columns, views[paper.RESERVE].tables[0].rows[0]))
    assert myerson["our reserve"] == round(best["reserve"], 4) == reserve["our reserve (zero crossing)"]
    assert reserve["Myerson reserve φ⁻¹(0)"] == pytest.approx(RESERVE, abs=1e-4)
    assert myerson["q99"] == pytest.approx(0.7057, abs=1e-4)  # Beta(2,5)'s 99th percentile
    assert isinstance(myerson["max |a·ours − φ| from φ⁻¹(0) to q99"], float)


def test_an_llm_run_is_named_by_its_model(smoke_runs, tmp_path):
    run = smoke_runs[0]
    llm = View(run.run_id, {**run.params, "proposer": "openai", "model": "gpt-4o"}, run.results)
    (view, _) = EXPERIMENT.paper_items([llm], tmp_path)
    assert "an LLM run: gpt-4o via its API (funsearch, 40 samples)" in view.figures[0].caption
    assert "(gpt-4o)" in view.headline


def test_the_rerun_program_reproduces_the_recorded_reserve(smoke_runs):
    rows = [paper.read_row(r) for r in smoke_runs]
    (shape,) = paper.shapes(rows).values()
    assert isinstance(shape, paper.Shape) and shape.matches_run
    assert shape.reserve == pytest.approx(rows[0].reserve, abs=1e-12) and shape.scale > 0
    assert shape.grid.size == smoke_runs[0].params["grid_size"] and not shape.ironed


def test_the_fit_finds_the_factor_the_fix_ignores():
    grid = np.linspace(0.001, 0.999, 999)
    phi = 2 * grid - 1  # U[0,1]
    scale = paper.fit(phi, 5 * phi, grid, 0.5, 0.99)
    assert scale == pytest.approx(0.2, rel=1e-4)
    assert paper.max_gap(phi, scale * 5 * phi, grid, 0.5, 0.99) < 1e-4
    bent = np.sqrt(np.clip(phi, 0, None))  # same sign and ranking above 0.5, another shape
    assert paper.max_gap(phi, paper.fit(phi, bent, grid, 0.5, 0.99) * bent, grid, 0.5, 0.99) > 0.05
    assert paper.fit(phi, -phi, grid, 0.5, 0.99) > 0  # a factor never flips the ranking


def test_runs_without_the_needed_results_are_left_out(smoke_runs):
    broken = View("broken", dict(smoke_runs[0].params), {"best": {}})
    assert EXPERIMENT.paper_items([broken], None) == []
    assert paper.item_settings(paper.MYERSON) == [("beta(2,5)", 2)]
