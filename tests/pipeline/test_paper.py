"""`amd paper`: every catalogue item listed with its state; bad input is one line and exit 2."""

from __future__ import annotations

import yaml

from amdlib.core.paperdata import catalogue
from amdlib.pipeline import paper
from tests.conftest import REPO


def test_a_fresh_outputs_root_lists_every_item_missing_one_line_each(amd, tmp_path):
    done = amd("paper", "--outputs", str(tmp_path / "outputs"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    items = catalogue().items
    assert len(lines) == len(items) + 1
    for item, line in zip(items, lines):
        words = line.split()
        assert words[0] == item.id
        want = "missing" if item.recoverable else "not recoverable"
        assert want in line and "complete" not in line and "partial" not in line, line
        assert len(line) < 160, line
    assert lines[-1].startswith(f"{len(items)} items under ") and "missing" in lines[-1]
    assert not (tmp_path / "outputs").exists()  # listing writes nothing


def test_one_item_is_shown_whole(amd, tmp_path):
    done = amd("paper", "llmmech/table-1", "--outputs", str(tmp_path))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("llmmech/table-1: Table 1 of LLMMech") and "rerun: amd paper run llmmech/table-1" in text
    assert "params/facility_location/sweep_table1.yaml" in text


def test_bad_item_ids_and_bad_combinations_are_one_line_and_exit_2(amd, tmp_path):
    for args in (["paper", "llmmech/table-99"], ["paper", "run"], ["paper", "run", "--all", "llmmech/table-1"],
                 ["paper", "--all"], ["paper", "run", "llmmech/figure-s4"], ["paper", "run", "nonsense"]):
        done = amd(*args, "--outputs", str(tmp_path / "out"))
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("amd: error:"), done.stderr
    assert not (tmp_path / "out").exists()


def test_a_close_id_is_suggested(amd, tmp_path):
    done = amd("paper", "llmmech/table-s99", "--outputs", str(tmp_path))
    assert done.returncode == 2 and "llmmech/table-s" in done.stderr


def test_every_runnable_item_names_sweep_files_that_exist_and_load():
    for item in paper.runnable(catalogue().items):
        for path in paper.sweep_paths(item, full=True):
            assert path.is_file(), f"{item.id}: {path.relative_to(REPO)} is missing"
    sweeps = paper.merged_sweeps(paper.runnable(catalogue().items))
    assert {s.experiment for s in sweeps} >= {"facility_location", "virtual_valuation"}
    for sweep in sweeps:  # a run two items share is run once
        assert len(set(sweep.run_ids())) == len(sweep.runs)


def test_merged_sweeps_collapse_runs_two_items_share(tmp_path, monkeypatch):
    item = catalogue().item("llmmech/table-s6")
    twin = catalogue().item("llmmech/table-s8")
    assert set(item.sweeps) & set(twin.sweeps)
    one = paper.merged_sweeps([item])
    both = paper.merged_sweeps([item, twin])
    assert [len(s.runs) for s in one] == [len(s.runs) for s in both]
    assert yaml.safe_load((REPO / item.sweeps[0]).read_text())["experiment"] == "facility_location"


def test_the_readme_maps_every_item_to_its_command():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The papers, item by item"):text.index("## One run")]
    for item in catalogue().items:
        verb = "amd paper run " if item.sweeps else "amd paper "
        rows = [line for line in section.splitlines() if line.startswith("|") and item.id in line]
        assert rows, f"README's paper table has no row for {item.id}"
        assert verb in rows[0], f"{item.id}: its README row should say `{verb}...`"
