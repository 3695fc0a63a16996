"""LLMMech's Tables 3, 4 and S10-S15 from real smoke-size runs (the ``paper_items`` hook)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, Mapping

import pytest

from amdlib.core import paperdata
from amdlib.core.experiment import ItemView
from amdlib.experiments.generalization import EXPERIMENT, item_data, items
from amdlib.pipeline import catalog
from amdlib.pipeline.params import load_params
from amdlib.pipeline.runner import execute_run

REPO = Path(__file__).resolve().parents[3]
ALL = tuple(s.item for s in item_data.SPECS)
#: Four smoke runs: n = 5 and n = 10 with both weightings (OOD on normal, larger n 10 and 25),
#: n = 25 unweighted, and n = 5 unweighted learned on beta1 peaks (Table 4's beta1 row; no OOD
#: study); K = 1 each. Together they touch every item.
RUNS = ({"learn_n": 5, "weightings": ["none", "fixed"], "larger_ns": [10, 25]},
        {"learn_n": 10, "weightings": ["none", "fixed"], "larger_ns": [10]},
        {"learn_n": 25, "weightings": ["none"], "larger_ns": [25]},
        {"learn_n": 5, "weightings": ["none"], "larger_ns": [10], "learn_distribution": "beta1", "ood_distributions": []})
#: Settings each item gets from those runs: (filled, the item's).
CELLS = {"llmmech/table-3": (2, 24), "llmmech/table-4": (2, 16), "llmmech/table-s10": (1, 12),
         "llmmech/table-s11": (1, 12), "llmmech/table-s12": (1, 12), "llmmech/table-s13": (1, 12),
         "llmmech/table-s14": (1, 15), "llmmech/table-s15": (1, 16)}


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    base = load_params(EXPERIMENT, REPO / "params" / "generalization" / "smoke.yaml")
    for extra in RUNS:
        params = {**base, "max_evaluations": 8, "n_train": 40, "n_test": 40, "audit_profiles": 2, **extra}
        outcome = execute_run("generalization", params, root, source="smoke.yaml")
        assert outcome.status == "ok", outcome.error
    return root, [r for r in catalog.experiment_runs(root, "generalization") if r.status == "ok"]


@pytest.fixture(scope="module")
def drawn(smoke_runs) -> dict[str, ItemView]:
    """The items drawn where the report draws them (``<outputs>/report``)."""
    return {v.item: v for v in EXPERIMENT.paper_items(smoke_runs[1], smoke_runs[0] / "report")}


def test_settings_are_the_papers_ordered_n_k_distribution():
    counts = {s.item: len(item_data.item_settings(s)) for s in item_data.SPECS}
    assert counts == {item: total for item, (_, total) in CELLS.items()}
    table3 = item_data.item_settings(item_data.SPECS[0])
    assert [(s.n, s.k, s.distribution) for s in table3[:4]] == [(5, 1, "normal"), (5, 1, "beta1"), (5, 1, "beta2"),
                                                                (5, 2, "normal")]
    assert [s.n for s in table3] == [5] * 12 + [10] * 12
    assert item_data.parse_setting("n=25 unweighted beta2 K=5") == item_data.Setting(25, 5, "beta2", "none")
    assert item_data.Setting(10, 3, "normal", "fixed").key == "n=10 fixed weights normal K=3"


def test_ours_says_who():
    offline = {"proposer": "offline", "method": "eoh", "max_evaluations": 80, "seed_rule": "scale_free",
               "fit_constants": True, "fit_budget": 20, "n_train": 1000}
    assert item_data.ours_text(offline).startswith("the offline search (eoh, 80 candidates, no LLM) seeded with the best "
                                               "scale-free member")
    llm = {**offline, "proposer": "openai", "model": "gpt-4o-mini", "generations": 20, "pop_size": 16}
    assert item_data.ours_text(llm).startswith("an LLM run: gpt-4o-mini via its API (eoh, 1296 samples)")
    assert "Experiment 4 runs abc" in item_data.ours_text({**offline, "source_runs": ["abc"]})


def test_listing_gives_headlines_and_cells_and_draws_nothing(smoke_runs, monkeypatch, tmp_path):
    monkeypatch.setattr("amdlib.core.figures.canvas", lambda *a, **k: pytest.fail("drew while listing"))
    views = {v.item: v for v in EXPERIMENT.paper_items(smoke_runs[1], None)}
    assert tuple(views) == ALL
    assert {k: v.cells for k, v in views.items()} == CELLS
    for view in views.values():
        assert not view.figures and not view.tables and view.runs
        assert re.fullmatch(r"ours/Per \d\.\d{3}, LLMMech/Per \d\.\d{3} \(paper\); ours/LLMMech \d\.\d{3} "
                            r"\(offline eoh 8\)", view.headline), view.headline


def test_drawn_items_have_a_figure_and_the_papers_tables(drawn, smoke_runs):
    assert tuple(drawn) == ALL
    for spec in item_data.SPECS:
        view = drawn[spec.item]
        assert len(view.figures) == 1 and len(view.tables) == len(spec.panels)
        fig = view.figures[0]
        assert fig.path.is_file() and fig.path.stat().st_size > 10_000 and fig.item == spec.item
        assert fig.path.name == f"generalization-{spec.slug}.png"
        for caption in [fig.caption] + [t.caption for t in view.tables]:
            assert caption.startswith(spec.label)
            assert "Ours: the offline search (eoh, 8 candidates, no LLM)" in caption
            assert "(paper) hold only numbers LLMMech printed" in caption and "(derived from paper)" in caption


def _printed(table: str, setting: str, metric: str) -> float | None:
    return item_data.paper_values().get((table, setting, metric))


def test_paper_columns_hold_only_printed_numbers_in_the_papers_row_order(drawn):
    for spec in item_data.SPECS:
        for panel, table in zip(spec.panels, drawn[spec.item].tables):
            settings = item_data.item_settings(spec)
            keys = [item_data.Setting(r[0], r[1], r[2], settings[0].weighting).key for r in table.rows]
            assert keys == [s.key for s in settings]  # every setting, in the paper's order
            paper_cols = [c for c in table.columns if c.endswith(" (paper)")]
            assert paper_cols and [c.removesuffix(" (paper)") for c in paper_cols] == list(item_data.panel_metrics(panel))
            for key, row in zip(keys, table.rows):
                cells = dict(zip(table.columns, row))
                for col in paper_cols:
                    assert cells[col] == _printed(panel.table, key, col.removesuffix(" (paper)"))
                    assert cells[col] is not None
                for col in (c for c in table.columns if c.endswith("(derived from paper)")):
                    num, den = col.removesuffix(" (derived from paper)").split(" / ")
                    assert cells[col] == pytest.approx(_printed(panel.table, key, num) / _printed(panel.table, key, den),
                                                       abs=1e-4)
            rest = [c for c in table.columns[3:] if not c.endswith(("(paper)", "(derived from paper)"))]
            assert rest and all(c.endswith("(ours)") for c in rest)


def _cells(table: Any) -> list[Mapping[str, Any]]:
    return [dict(zip(table.columns, row)) for row in table.rows]


def test_ours_is_what_the_runs_computed(drawn, smoke_runs):
    runs = {r.params["learn_n"]: r for r in smoke_runs[1] if r.params["learn_distribution"] == "uniform"}
    entry = runs[5].results["ood"]["normal"]["n=5 K=1 weights fixed"]
    (learned,) = entry["learned"].values()
    rows = _cells(drawn["llmmech/table-3"].tables[0])
    (filled,) = [r for r in rows if r["n"] == 5 and r["trials (ours)"]]
    assert (filled["K"], filled["distribution"]) == (1, "normal")
    assert filled["learned on uniform, scored OOD (ours)"] == round(learned["social_cost"], 5)
    assert filled["Per. fitted in distribution (ours)"] == round(
        entry["baselines_in_distribution"]["percentile"]["social_cost"], 5)
    assert filled["NonSP (ours)"] == round(entry["nonsp"], 5)
    ood = _cells(drawn["llmmech/table-s10"].tables[1])
    (filled,) = [r for r in ood if r["trials (ours)"]]
    assert filled["Per. fitted on uniform (ours)"] == round(entry["baselines_ood"]["percentile"]["social_cost"], 5)
    # larger n: the mechanisms learned at n = 5 on uniform and on beta1 peaks, each run at n = 10 on its own peaks
    (big,) = runs[5].results["larger_n"]["10"]["learned"].values()
    (beta,) = [r for r in smoke_runs[1] if r.params["learn_distribution"] == "beta1"]
    (big_beta,) = beta.results["larger_n"]["10"]["learned"].values()
    assert big_beta["distribution"] == "beta1" and big_beta["trained_n"] == 5
    rows = [r for r in _cells(drawn["llmmech/table-4"].tables[0]) if r["trials (ours)"]]
    assert [(r["distribution"], r["K"]) for r in rows] == [("uniform", 1), ("beta1", 1)]  # the paper's row order
    assert rows[0]["learned at n = 5, run at this n (ours)"] == round(big["social_cost"], 5)
    assert rows[1]["learned at n = 5, run at this n (ours)"] == round(big_beta["social_cost"], 5)
    assert all(r["its regret, dense audit (ours)"] is not None for r in rows)
    # the beta1 run is scored in distribution only, so it fills no OOD table
    assert list(beta.results["ood"]) == ["uniform"] and beta.run_id not in drawn["llmmech/table-s12"].runs
    # rows no run fills are blank on our side
    empty = [r for r in _cells(drawn["llmmech/table-s14"].tables[0]) if not r["trials (ours)"]]
    assert len(empty) == 14 and all(r["NonSP (ours)"] is None for r in empty)


def test_the_kind_of_run_filling_most_settings_is_shown(smoke_runs):
    runs = smoke_runs[1]
    base = next(r for r in runs if r.params["learn_n"] == 5 and r.params["learn_distribution"] == "uniform")

    @dataclasses.dataclass(frozen=True)
    class View:
        run_id: str
        params: Mapping[str, Any]
        results: Mapping[str, Any]

    llm = View("zz-llm", {**base.params, "proposer": "openai", "model": "some-model"}, base.results)
    spec = item_data.SPECS[0]
    ours = item_data.collect(spec, [*runs, llm])
    assert [r.run_id for r in ours.runs] != ["zz-llm"] and ours.others == 1  # the offline kind fills 2 settings
    ours = item_data.collect(spec, [base, llm])
    assert [r.run_id for r in ours.runs] == ["zz-llm"] and ours.others == 1  # a tie: the LLM run
    assert items.view(spec, ours, None).headline.endswith("(some-model)")
    # one trial per seed and setting: a second run of the same seed learned the same mechanism there
    twin = View("zz-twin", base.params, base.results)
    other_seed = View("zz-seed", {**base.params, "seed": 7}, base.results)
    assert {c.trials for c in item_data.collect(spec, [base, twin]).cells.values()} == {1}
    assert {c.trials for c in item_data.collect(spec, [base, twin, other_seed]).cells.values()} == {2}


def test_paper_page_shows_the_items(smoke_runs, drawn):
    from amdlib.pipeline.paper import item_states
    from amdlib.pipeline.report_paper import paper_page

    root = smoke_runs[0]
    cat = paperdata.catalogue()
    states = item_states(root, [cat.item(i) for i in ALL])  # headlines and states only: nothing drawn
    assert {s.item.id: s.state for s in states} == {i: "partial" for i in ALL}
    states = [dataclasses.replace(s, view=drawn[s.item.id]) for s in states]
    text = paper_page(cat.papers["llmmech"], states, root, "").read_text()
    for spec in item_data.SPECS:
        assert f'src="report/generalization-{spec.slug}.png"' in text
        assert f"tables/{spec.slug}-1.csv" in text
    assert text.count("Ours: the offline search (eoh, 8 candidates, no LLM)") >= 2 * len(ALL)
