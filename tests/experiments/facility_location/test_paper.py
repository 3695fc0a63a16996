"""The paper's cells beside ours: lookup through the one paper-data reader, and the report hook."""

from __future__ import annotations

import pytest

from amdlib.experiments.facility_location import EXPERIMENT
from amdlib.experiments.facility_location.paper import comparison_rows, paper_cells, text_table


def test_paper_lookup():
    table, cells = paper_cells(10, 4, "beta2", "fixed")
    assert table == "Table 1" and cells["nonsp"] == 0.00549 and cells["per"] == 0.01016
    assert paper_cells(5, 2, "uniform", "none")[1]["nonsp"] == 0.07098
    assert paper_cells(7, 2, "uniform", "fixed") == ("", {})
    # n = 5 unweighted uniform is printed twice: Table 2 with RegretNet@25k, Table S6 with RegretNet on 1k.
    t2, c2 = paper_cells(5, 2, "uniform", "none", regretnet_train=25_000)
    s6, c6 = paper_cells(5, 2, "uniform", "none")
    assert (t2, c2["regretnet25k"], "regretnet" in c2) == ("Table 2", 0.08501, False)
    assert (s6, c6["regretnet"], "regretnet25k" in c6) == ("Table S6", 0.09599, False)
    assert paper_cells(5, 2, "normal", "none", regretnet_train=25_000)[0] == "Table S6"  # Table 2 is uniform only
    assert paper_cells(25, 5, "beta2", "none")[0] == "Table S9"


def test_paper_rows_hook():
    fake = {"baselines": {"percentile": {"social_cost": 0.2}, "dictatorial": {"social_cost": 0.16}},
            "best": {"test_social_cost": 0.15, "test_social_cost_se": 0.003, "max_regret": 0.0},
            "verdicts": {"profiles": 100000, "vs": {"percentile": {"verdict": "better", "mean_difference": -0.05, "paired_se": 0.001}}}}
    rows = {r["metric"]: r for r in EXPERIMENT.paper_rows(fake, {"n_agents": 5, "n_facilities": 1, "distribution": "uniform",
                                                                 "weights": "fixed", "method": "eoh"})}
    assert rows["per social cost"]["paper"] == 0.20283 and rows["per social cost"]["ours"] == 0.2
    assert rows["learned social cost (test) vs LLMMech-e"]["paper"] == 0.14948
    # The paper printed no regret for LLMMech here: no number in "paper", a note says why.
    regret = rows["learned max regret vs LLMMech"]
    assert regret["paper"] is None and "prints no regret" in regret["note"]
    assert rows["learned standard error (test)"]["ours"] == 0.003
    # The paper's ratio is derived, never printed: it is in the metric's words, not in "paper".
    (ratio,) = [r for m, r in rows.items() if m.startswith("ratio to best handcrafted: learned (the paper's LLMMech:")]
    assert ratio["ours"] == pytest.approx(0.15 / 0.16) and ratio["paper"] is None and "1.0000, derived" in ratio["metric"]
    verdict = rows["paired verdict vs percentile (100000 fresh profiles)"]
    assert verdict["ours"].startswith("better (-0.05000") and verdict["comparable"] is False
    grid = {"table1": {"rows": [{"n": 10, "K": 4, "distribution": "beta2", "learned": 0.01, "learned_max_regret": 0.0,
                                  "outcome": "tie"}]}}
    extra = EXPERIMENT.paper_rows(grid, {"n_agents": 5, "n_facilities": 2, "distribution": "uniform", "weights": "none",
                                         "method": "eoh"})
    assert [r["setting"] for r in extra] == ["n=10 K=4 beta2 weights=fixed"] * 3 and extra[-1]["ours"] == "tie"
    assert extra[1]["paper"] is None and extra[0]["paper"] == 0.00929  # LLMMech at n=10 K=4 beta2: no regret printed


def test_paper_rows_of_table_2_compare_regretnet_at_25k():
    fake = {"baselines": {"regretnet": {"social_cost": 0.09, "budget_note": "1 epochs x 1 restarts on 25000 profiles"}}}
    params = {"n_agents": 5, "n_facilities": 2, "distribution": "uniform", "weights": "none", "method": "eoh"}
    rows25 = EXPERIMENT.paper_rows(fake, {**params, "regretnet_train": 25_000})
    rows1k = EXPERIMENT.paper_rows(fake, {**params, "regretnet_train": 1000})
    assert [(r["table"], r["paper"]) for r in rows25][0] == ("Table 2", 0.08501)
    assert [(r["table"], r["paper"]) for r in rows1k][0] == ("Table S6", 0.09599)
    assert "25000 training profiles" in rows25[0]["metric"]


def test_text_tables():
    assert comparison_rows({"regretnet": 0.1}, 5, 2, "uniform", "none", 25_000)[0][2] == 0.08501
    rows = comparison_rows({"percentile": 0.21, "nonsp": None}, 5, 1, "uniform", "fixed")
    assert rows[0][:3] == ["percentile", 0.21, 0.20283] and rows[0][4] == "+3.5" and rows[1][3] is None
    text = text_table(["method", "ours", "paper", "ours-paper", "rel %"], rows)
    assert text.splitlines()[2].split() == ["percentile", "0.21000", "0.20283", "0.00717", "+3.5"]
    assert text.splitlines()[1].startswith("-")
