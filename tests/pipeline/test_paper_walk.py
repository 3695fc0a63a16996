"""A walk over the whole catalogue: every recoverable item has a rerun command and the paper's numbers,
and a report built from smoke-size runs of its settings draws it (a figure or a table) on its paper's
page, checked in the HTML the reader gets.

The runs are real (the `amd sweep` command, offline, the experiments' smoke budgets) and vary only
the settings each item needs; they are listed here, one sweep per experiment, so that a new item
the runs do not reach fails the walk until it is added.
"""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from amdlib.core.paperdata import catalogue
from amdlib.pipeline import paper
from amdlib.pipeline.report import build_report
from amdlib.pipeline.report_paper import page_name
from amdlib.pipeline.report_tables import slug
from tests.conftest import REPO, amd_argv, amd_env

#: Per experiment: the settings the items need, each merged over the experiment's smoke.yaml.
RUNS: dict[str, list[dict]] = {
    "facility_location": [
        {},  # Table 1 (one of its cells) and Figure 2: n = 5, K = 2, uniform, fixed weights
        {"distribution": "normal", "n_facilities": 3},  # Figure S8's stand-in: the normal-peak programs
        {"weights": "none", "neural": True, "moulin_epochs": 1, "regretnet_epochs": 1},  # Tables S6, S7
        {"weights": "none", "neural": True, "moulin_epochs": 1, "regretnet_epochs": 1,
         "regretnet_train": 25000},  # Table 2 (RegretNet@25k), Figure S7
        {"weights": "none", "n_agents": 10},  # Table S8
        {"weights": "none", "n_agents": 25, "n_facilities": 1},  # Table S9
        {"weights": "1"}, {"weights": "2"},  # Figures 1 and S6: one mechanism learned per weight set
        {"weights": "1", "n_facilities": 3, "distribution": "beta2", "epsilon": 0.001},  # Figures S9, S10
    ],
    "generalization": [
        {"weightings": ["fixed"]},  # Tables 3, S10
        {"weightings": ["fixed"], "learn_n": 10},  # Table S11
        {},  # Tables 4, S12, S15 (learned at n = 5, unweighted)
        {"learn_n": 10},  # Table S13
        {"learn_n": 25, "larger_ns": [25]},  # Table S14
    ],
    "virtual_valuation": [{}],
    "redistribution": [{}],
    "correlated_revenue": [{}],
}


@pytest.fixture(scope="module")
def paper_outputs(tmp_path_factory) -> Path:
    """An outputs root with the smoke-size runs of every item's settings, and its report."""
    root = tmp_path_factory.mktemp("paper-walk")
    for experiment, runs in RUNS.items():
        sweep = root.parent / f"walk_{experiment}.yaml"
        sweep.write_text(yaml.safe_dump({"experiment": experiment, "base": str(REPO / "params" / experiment / "smoke.yaml"),
                                         "runs": runs}))
        done = subprocess.run(amd_argv("sweep", str(sweep), "-j", "2"), cwd=REPO, env=amd_env(root),
                              capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    build_report(root)
    return root


def _section(page: str, item_id: str) -> str:
    """The HTML of one item's section on its paper's page (up to the next item's heading)."""
    start = page.index(f'<h2 id="{slug(item_id)}">')
    end = page.find("<h2 ", start + 1)
    return page[start:end if end > 0 else len(page)]


def test_every_recoverable_item_has_a_rerun_command_and_the_papers_numbers():
    for item in catalogue().items:
        if not item.recoverable:
            assert item.instead, f"{item.id}: not recoverable, so it must say what is shown instead"
            continue
        assert item.sweeps or item.why_no_sweeps, f"{item.id}: no rerun command"
        assert item.paper_rows() or item.why_no_numbers or item.setting.get("printed"), f"{item.id}: no paper numbers"


def test_a_report_of_each_items_runs_draws_it(paper_outputs):
    states = {s.item.id: s for s in paper.item_states(paper_outputs, catalogue().items)}
    pages = {key: (paper_outputs / page_name(key)).read_text(encoding="utf-8") for key in catalogue().papers}
    missing = []
    for item in catalogue().items:
        section = _section(pages[item.paper], item.id)
        if item.experiment is None:  # about the LLM itself: the page says what is shown instead
            assert "Shown instead" in section, item.id
            continue
        drawn = "<figure" in section or "<table" in section
        if not drawn or states[item.id].state == "missing":
            missing.append(f"{item.id} ({states[item.id].state})")
            continue
        for img in re.findall(r'<img src="([^"]+)"', section):
            assert (paper_outputs / html.unescape(img)).is_file(), f"{item.id}: {img} is not there"
        for caption in re.findall(r"<figcaption>(.*?)</figcaption>", section, re.S):
            text = html.unescape(caption)
            assert len(text) > 40 and ("ours" in text.lower() or "our " in text.lower()), (item.id, text[:200])
    assert not missing, "items the report of their runs does not draw: " + ", ".join(missing)


def test_amd_paper_lists_the_walk_runs_as_states_other_than_missing(paper_outputs, amd):
    done = amd("paper", "--outputs", str(paper_outputs))
    assert done.returncode == 0, done.stderr
    missing = [line.split()[0] for line in done.stdout.splitlines()[:-1] if " missing " in line]
    assert not missing, missing


def test_each_papers_page_reads_well_in_chromium(paper_outputs):
    from amdlib.pipeline.report_page_check import chromium, page_problems, probe

    if chromium() is None:
        pytest.skip("chromium is not installed (.ci/run installs it): browser checks skipped")
    for key in catalogue().papers:
        page = paper_outputs / page_name(key)
        report = probe(page)
        assert page_problems(report, page) == [], (key, report)
        drawn = [i for i in catalogue().of_paper(key) if i.experiment]
        assert len(report["paper_figures"]) >= len(drawn) - 2, (key, len(report["paper_figures"]), len(drawn))
