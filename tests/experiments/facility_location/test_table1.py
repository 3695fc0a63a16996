"""Table 1: one grid (the sweep file runs the same cells), the 32-cell view of a set of runs, and
the report's figure drawn by the experiment's ``paper_figures`` hook."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from amdlib.core.experiment import PaperFigure
from amdlib.experiments.facility_location import EXPERIMENT
from amdlib.experiments.facility_location.table1 import (TABLE1_GRID, load_table1_runs, main, our_table1, paper_table1,
                                                         table1_acceptance, table1_figure)
from tests.conftest import REPO


@dataclass
class Run:
    """A run as the report hands it to an experiment's hooks (RunView)."""

    run_id: str
    params: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)


def test_the_sweep_file_runs_exactly_the_grid():
    sweep = yaml.safe_load((REPO / "params/facility_location/sweep_table1.yaml").read_text())
    grid = sweep["grid"]
    cells = {(n, k, d) for n in grid["n_agents"] for k in grid["n_facilities"] for d in grid["distribution"]}
    assert len(TABLE1_GRID) == 32 and cells == set(TABLE1_GRID)
    assert all(run.get("weights") == "fixed" for run in sweep["runs"])


def test_the_figure_reads_runs_and_the_paper_numbers(tmp_path):
    paper = paper_table1()
    assert set(paper) == set(TABLE1_GRID) and all({"per", "moulinnet", "llmmech", "llmmech_e"} <= set(c) for c in paper.values())
    assert paper[(5, 1, "uniform")]["per"] == pytest.approx(0.20283)
    base = {"weights": "fixed", "epsilon": 0.0, "n_agents": 5, "n_facilities": 2, "distribution": "uniform"}
    runs = [
        Run("a" * 12, {**base, "seed": 0}, {"best": {"test_social_cost": 0.10, "test_social_cost_se": 0.004},
                                            "baselines": {"percentile": {"social_cost": 0.12}}}),
        Run("b" * 12, {**base, "seed": 1}, {"best": {"test_social_cost": 0.12},
                                            "table1": {"rows": [{"n": 10, "K": 3, "distribution": "beta1",
                                                                 "learned": 0.05, "percentile": 0.06}]}}),
        Run("c" * 12, {**base, "epsilon": 0.01}, {"best": {"test_social_cost": 0.01}}),  # not Table 1
        Run("e" * 12, {**base, "epsilon_source": "paper-llmmech"}, {"best": {"test_social_cost": 0.01}}),  # matched regret
        Run("d" * 12, {**base, "weights": "3"}, {"best": {"test_social_cost": "broken"}}),
    ]
    ours = our_table1(runs)
    assert set(ours) == {(5, 2, "uniform"), (10, 3, "beta1")}
    assert ours[(5, 2, "uniform")]["ours: learned"] == [(0.10, 0.004), (0.12, None)]
    assert ours[(10, 3, "beta1")] == {"ours: learned": [(0.05, None)], "ours: Per.": [(0.06, None)]}
    (drawn,) = EXPERIMENT.paper_figures(runs, tmp_path)
    assert isinstance(drawn, PaperFigure) and drawn.path == tmp_path / "facility_location-table-1.png"
    assert (drawn.item, drawn.anchor, drawn.tables) == ("llmmech/table-1", "paper-facility_location-table-1", ("Table 1",))
    png = drawn.path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") >= 1200
    assert "learned mechanism in 2 of 32 cells" in drawn.caption and "LLMMech-e" in drawn.caption
    empty = table1_figure([], tmp_path / "t0.png")
    assert "in 0 of 32 cells" in empty.caption  # no runs: the paper's numbers alone, said so


def _run_dir(root: Path, rid: str, params: dict, results: dict) -> None:
    run = root / "facility_location" / rid
    run.mkdir(parents=True)
    (run / "params.yaml").write_text(yaml.safe_dump(params))
    (run / "results.json").write_text(json.dumps(results))


def test_the_32_cell_view_of_an_outputs_folder(tmp_path, capsys):
    verdict = {"verdict": "better", "mean_difference": -0.01, "paired_se": 0.001}
    _run_dir(tmp_path, "a" * 12, {"weights": "fixed", "epsilon": 0.0, "n_agents": 10, "n_facilities": 1, "distribution": "uniform"},
             {"best": {"test_social_cost": 0.1, "max_regret": 0.0, "dense_audit_max_regret": 0.0},
              "baselines": {"percentile": {"social_cost": 0.2}, "dictatorial": {"social_cost": 0.15},
                            "nonsp": {"social_cost": 0.1}}, "verdicts": {"vs": {"percentile": verdict}}})
    _run_dir(tmp_path, "b" * 12, {"weights": "fixed", "epsilon": 0.0, "n_agents": 5, "n_facilities": 4, "distribution": "beta2"},
             {"best": {"test_social_cost": 0.02, "max_regret": 0.001, "dense_audit_max_regret": 0.002}})
    _run_dir(tmp_path, "c" * 12, {"weights": "none", "epsilon": 0.0, "n_agents": 5, "n_facilities": 4, "distribution": "beta2"},
             {"best": {"test_social_cost": 0.02}})  # not Table 1
    rows = load_table1_runs(tmp_path)
    assert [(r["n"], r["K"], r["distribution"]) for r in rows] == [(5, 4, "beta2"), (10, 1, "uniform")]
    cell = rows[1]
    assert cell["ratio"] == pytest.approx(0.1 / 0.15) and cell["k1_optimal"] and cell["within_sp_baselines"]
    assert cell["paper_llmmech"] is not None and cell["verdicts"] == {"percentile": "better"}
    assert not rows[0]["within_sp_baselines"]  # it lies profitably on the dense grid
    counts = table1_acceptance(rows)
    assert counts["cells"] == 2 and counts["k1_cells"] == 1 and counts["k1_optimal"] == 1
    assert counts["verdicts"]["percentile"] == {"better": 1, "tie": 0, "worse": 0}
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "LLMMech-e (reg)" in out and '"cells": 2' in out


def test_matched_regret_runs_are_their_own_view_held_to_the_printed_regret(tmp_path, capsys):
    cell = {"weights": "fixed", "epsilon": 0.0, "n_agents": 5, "n_facilities": 2, "distribution": "normal"}
    base = {"percentile": {"social_cost": 0.05}, "dictatorial": {"social_cost": 0.04}}
    best = {"test_social_cost": 0.02, "max_regret": 0.001}  # ratio 0.5, the paper's LLMMech about 0.69
    _run_dir(tmp_path, "a" * 12, {**cell, "epsilon_source": "paper-llmmech"},  # printed regret 0.00404
             {"best": {**best, "dense_audit_max_regret": 0.004}, "baselines": base})
    _run_dir(tmp_path, "b" * 12, {**cell, "epsilon_source": "paper-llmmech-e"},  # also 0.00404: this one lies more
             {"best": {**best, "dense_audit_max_regret": 0.005}, "baselines": base})
    assert load_table1_runs(tmp_path) == []  # the strict view holds none of them
    (llm,) = load_table1_runs(tmp_path, "paper-llmmech")
    (llm_e,) = load_table1_runs(tmp_path, "paper-llmmech-e")
    assert llm["beats_llmmech"] and not llm["beats_llmmech_e"]  # a run answers for its own column only
    assert not llm_e["beats_llmmech_e"] and llm_e["ratio"] < llm_e["paper_ratio_llmmech_e"]  # cheaper, but over the regret
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "epsilon_source paper-llmmech " in out and '"ratio_le_llmmech": 1' in out and '"ratio_le_llmmech_e": 0' in out
