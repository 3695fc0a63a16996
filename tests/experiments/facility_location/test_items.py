"""LLMMech's facility-location items from real smoke-size runs (the ``paper_items`` hook): one view
per item with a figure or a table, captions that say what "ours" is, paper columns holding only
printed numbers, rows in the order n, K, distribution, Table 2 apart from Table S6, and no drawing
when no folder is given."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amdlib.core import paperdata
from amdlib.core.experiment import ItemView
from amdlib.experiments.facility_location import EXPERIMENT, items, tables
from amdlib.experiments.facility_location.ours import DISTRIBUTION_ORDER
from amdlib.experiments.facility_location.paper import verdict_text
from amdlib.pipeline import catalog
from amdlib.pipeline.params import load_params
from amdlib.pipeline.runner import execute_run

REPO = Path(__file__).resolve().parents[3]
TINY = {"n_train": 100, "n_test": 100, "max_evaluations": 8, "pop_size": 2, "audit_profiles": 20, "audit_grid": 21,
        "fit_budget": 4, "verdict_profiles": 2000, "moulin_epochs": 1, "regretnet_epochs": 1}
#: Five runs that touch every item: Table 1 and Figure 2's setting; Table 2 (RegretNet@25k) and
#: S6 (RegretNet@1k) at K = 1, which make Table S7 and Figure S7 too; a Figure 1 weight set; a
#: Figure S9 / S10 run with epsilon > 0 (beta2, n = 5, K = 3, the catalogue's rerun setting).
RUNS = (
    {"weights": "fixed", "n_facilities": 2},
    {"weights": "none", "n_facilities": 1, "neural": True, "regretnet_train": 25_000},
    {"weights": "none", "n_facilities": 1, "neural": True},
    {"weights": "1", "n_facilities": 2},
    {"weights": "1", "n_facilities": 3, "distribution": "beta2", "epsilon": 0.001},
)
ITEMS = {"llmmech/table-1": (1, 32), "llmmech/table-2": (1, 4), "llmmech/table-s5": (20, 20),
         "llmmech/table-s6": (1, 16), "llmmech/table-s7": (1, 4), "llmmech/figure-1": (0, 1),
         "llmmech/figure-s6": (0, 32), "llmmech/figure-s7": (0, 0), "llmmech/figure-s9": (1, 50),
         "llmmech/figure-s10": (1, 50), "llmmech/figure-2": (0, 0)}


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    base = load_params(EXPERIMENT, REPO / "params" / "facility_location" / "smoke.yaml")
    for extra in RUNS:
        outcome = execute_run("facility_location", {**base, **TINY, **extra}, root, source="smoke.yaml")
        assert outcome.status == "ok", outcome.error
    return [r for r in catalog.experiment_runs(root, "facility_location") if r.status == "ok"]


@pytest.fixture(scope="module")
def drawn(smoke_runs, tmp_path_factory) -> tuple[Path, dict[str, ItemView]]:
    folder = tmp_path_factory.mktemp("report")
    return folder, {v.item: v for v in EXPERIMENT.paper_items(smoke_runs, folder)}


def test_listing_draws_nothing(smoke_runs, tmp_path):
    views = {v.item: v for v in EXPERIMENT.paper_items(smoke_runs, None)}
    assert {item: v.cells for item, v in views.items()} == ITEMS
    assert all(not v.figures and not v.tables and v.headline and v.runs for v in views.values())
    assert "offline search, no LLM" in views["llmmech/table-1"].headline and views["llmmech/table-1"].headline.startswith("1/32 settings")
    assert not list(tmp_path.iterdir())


def test_every_item_has_a_figure_or_a_table_that_says_what_ours_is(drawn):
    folder, views = drawn
    assert set(views) == set(ITEMS)
    for item, view in views.items():
        assert view.figures or view.tables, item
        for fig in view.figures:
            assert fig.path.parent == folder and fig.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", item
            assert fig.item == item
        texts = [f.caption for f in view.figures] + [t.caption for t in view.tables]
        if item != "llmmech/table-s5":  # an input listing: no run, no "ours"
            assert any("offline search" in t and "no LLM" in t for t in texts), item
    for item in ("llmmech/figure-1", "llmmech/figure-s6", "llmmech/figure-s9", "llmmech/figure-s10", "llmmech/figure-s7"):
        assert "printed no numbers" in views[item].figures[0].caption or "prints no numbers" in views[item].figures[0].caption
    # The neural budgets are said beside the paper's.
    assert re.search(r"RegretNet: 1 epochs x 1 restarts on 25000 profiles", views["llmmech/table-2"].tables[0].caption)
    assert "1000 epochs x 10 restarts" in views["llmmech/table-2"].tables[0].caption


_METRICS = {"LLMMech": "llmmech", "LLMMech-e": "llmmech_e", "RegretNet": "regretnet", "RegretNet@25k": "regretnet25k"}


@pytest.mark.parametrize("item", ["llmmech/table-1", "llmmech/table-2", "llmmech/table-s6", "llmmech/table-s7"])
def test_tables_in_the_papers_layout(drawn, item):
    both = drawn[1][item].tables
    spec = tables.SPECS.get(item, tables.S7)
    assert len(both) == 3 and all(len(t.columns) <= 12 for t in both)  # each fits a 1024-px page
    paper_columns = [c for t in both for c in t.columns if c.endswith("(paper)")]
    assert len(paper_columns) >= 4
    for table in both:
        assert table.columns[:3] == ("n", "K", "distribution") and len(table.rows) == len(spec.grid)
        keys = [(r[0], r[1], DISTRIBUTION_ORDER.index(r[2])) for r in table.rows]
        assert keys == sorted(keys)  # n, then K, then the distribution
        for i, column in enumerate(table.columns):
            for row in table.rows:
                setting = f"n={row[0]} K={row[1]} {row[2]} weights={spec.weights}"
                found = {r.metric: r.value for r in paperdata.rows("facility_location", table=spec.label, setting=setting)}
                if column.endswith("(paper)"):  # only what the paper printed; blank where it printed nothing
                    name = column[: -len(" (paper)")]
                    metric = _METRICS[name[: -len(" regret")]] + "_regret" if name.endswith(" regret") else _METRICS[name]
                    assert row[i] == found.get(metric), (column, row)
                elif column.endswith("(derived from paper)"):
                    assert row[i] is None or row[i] > 0
                else:
                    assert "paper" not in column.lower()
    # A learned column printed without a regret has a blank regret, not 0.0 (Table 1, n = 5, K = 1, uniform).
    if item == "llmmech/table-1":
        costs, regrets = (dict(zip(t.columns, t.rows[0])) for t in both[:2])
        assert costs["LLMMech-e (paper)"] == 0.14948 and regrets["LLMMech-e regret (paper)"] is None


def test_table_2_is_regretnet_at_25k_and_s6_at_1k(drawn, smoke_runs):
    views = drawn[1]
    t2, s6 = views["llmmech/table-2"].tables[0], views["llmmech/table-s6"].tables[0]
    assert "RegretNet@25k" in t2.columns and "RegretNet" in s6.columns and "RegretNet@25k" not in s6.columns
    assert views["llmmech/table-2"].runs != views["llmmech/table-s6"].runs
    by_train = {r.params["regretnet_train"]: r for r in smoke_runs if r.params["weights"] == "none"}
    rows25 = EXPERIMENT.paper_rows(by_train[25_000].results, by_train[25_000].params)
    rows1k = EXPERIMENT.paper_rows(by_train[1000].results, by_train[1000].params)
    assert {r["table"] for r in rows25} == {"Table 2"} and {r["table"] for r in rows1k} == {"Table S6"}
    net25 = next(r for r in rows25 if r["metric"].startswith("regretnet25k social cost"))
    assert net25["paper"] == 0.20128  # Table 2's RegretNet@25k, n = 5, K = 1
    assert next(r for r in rows1k if r["metric"].startswith("regretnet social cost"))["paper"] == 0.21570
    for rows in (rows25, rows1k):  # only printed numbers in "paper": no 0.0 for an unprinted regret, no ratio
        printed = {r.value for r in paperdata.rows("facility_location")}
        assert all(r["paper"] is None or r["paper"] in printed for r in rows)


def test_k1_verdicts_never_read_better_by_rounding(drawn):
    (row,) = [r for r in drawn[1]["llmmech/table-s6"].tables[2].rows if r[0] == 5 and r[1] == 1 and r[2] == "uniform"]
    verdict = row[-1]
    assert verdict and not re.search(r"[+-]0\.0+ ", verdict)
    assert verdict_text({"verdict": "better", "mean_difference": -3e-17, "paired_se": 1e-18, "identical_share": 1.0}) \
        == "equal (|diff| < 1e-09; same cost on 100% of profiles)"
    assert verdict_text({"verdict": "better", "mean_difference": -0.0123, "paired_se": 0.0004}) == "better (-0.01230 +- 0.00040)"
    assert verdict_text({"verdict": "worse", "mean_difference": 3.2e-6, "paired_se": 4e-7}) == "worse (+3.20e-06 +- 4.00e-07)"


def test_weight_set_and_epsilon_figures_use_their_own_runs(drawn, smoke_runs):
    views = drawn[1]
    ws = {r.run_id for r in smoke_runs if r.params["weights"] == "1"}
    assert set(views["llmmech/figure-1"].runs) <= ws and set(views["llmmech/figure-s9"].runs) <= ws
    assert set(views["llmmech/figure-1"].runs).isdisjoint(views["llmmech/figure-s9"].runs)  # epsilon 0 vs 0.001
    cap = views["llmmech/figure-s9"].figures[0].caption
    assert "dense audit" in cap and "sampled" in cap
    panels = items.weight_set_panels(items.read_all(smoke_runs))
    assert [key for key in panels] == [((5, 2, "uniform"), 0.0)] and list(panels[(5, 2, "uniform"), 0.0]) == [1]


def test_table_s5_is_read_from_both_sides(drawn):
    (table,) = drawn[1]["llmmech/table-s5"].tables  # one table: the listing
    assert [r[3] for r in table.rows] == ["equal"] * 10 and [r[6] for r in table.rows] == ["equal"] * 10
    assert table.rows[0][1:3] == ("5 3 3 3 1", "5 3 3 3 1")
    bad = tables.s5_view({5: ["5 3 3 3 2"] + ["x"] * 9, 10: []})
    assert bad[1] == 0 and bad[0].rows[0][3] == "DIFFERENT"


def test_the_learned_program_is_shown_for_figure_2(drawn):
    view = drawn[1]["llmmech/figure-2"]
    (table,) = view.tables
    assert table.rows[0][:3] == (5, 2, "uniform") and "test cost" in view.headline
    assert view.figures[0].path.stat().st_size > 5000


def test_report_figures_cover_every_table_with_rows(smoke_runs, tmp_path):
    figs = EXPERIMENT.paper_figures(smoke_runs, tmp_path)
    covered = {t for f in figs for t in f.tables}
    labels = {r["table"] for run in smoke_runs for r in EXPERIMENT.paper_rows(run.results, run.params)}
    assert labels - {""} <= covered and "Table 1" in covered


def test_catalogue_transcribes_table_s5_as_the_paper_prints_it():
    import json

    fixture = json.loads((REPO / "tests" / "data" / "paper_tables.json").read_text())
    (s5,) = [t for t in fixture["llmmech"]["tables"] if t["label"] == "Table S5"]
    printed = paperdata.catalogue().item("llmmech/table-s5").setting["printed"]
    assert [r[1] for r in s5["rows"]] == printed[5] and [r[2] for r in s5["rows"]] == printed[10]
