"""The report page in headless Chromium: nothing wider than the viewport, every image loads,
every figure has a caption, and the paper-comparison figures (facility location's Table 1 among them) load.

The same checks (and `amd runs/show/open` on every run, and no empty notebook section) run on
any outputs tree with ``scripts/check-report.py OUTPUTS``; with ``AMDLIB_REPORT_OUTPUTS=DIR``
set (e.g. ``outputs`` after `make reproduce`) :func:`test_a_given_outputs_tree_passes_every_check`
runs it on that tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from amdlib.experiments.facility_location import EXPERIMENT as FACILITY
from amdlib.pipeline.params import load_params
from amdlib.pipeline.report import build_report
from amdlib.pipeline.report_page_check import WIDTH, chromium, declared_figures, page_problems, probe
from amdlib.pipeline.report_paper import DRAWN_ATTR
from amdlib.pipeline.runner import execute_run

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "scripts" / "check-report.py"
needs_chromium = pytest.mark.skipif(chromium() is None, reason="chromium is not installed (.ci/run installs it): browser checks skipped")
pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def report_tree(quickstart_outputs, tmp_path_factory) -> Path:
    """The quickstart sweep (two runs and a failure) plus a facility smoke run, and its report."""
    root = tmp_path_factory.mktemp("browser") / "outputs"
    shutil.copytree(quickstart_outputs, root)
    params = load_params(FACILITY, REPO / "params" / "facility_location" / "smoke.yaml")
    outcome = execute_run("facility_location", params, root, source="smoke.yaml")
    assert outcome.status == "ok", outcome.error
    build_report(root)
    return root


def _check(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), str(root), *args], capture_output=True, text=True, timeout=900)


def test_report_fits_the_page_loads_every_image_and_captions_every_figure(report_tree):
    report = probe(report_tree / "index.html")
    assert report["wide"] == [] and report["page_width"] <= report["viewport"] == WIDTH, report
    assert report["images"] >= 4 and report["broken"] == [], report
    assert report["outside_figures"] == 0 and report["uncaptioned"] == 0 and report["figures"] == report["images"], report
    facility = {f["id"]: f for f in report["paper_figures"]}.get("paper-facility_location-table-1")
    assert facility and facility["loaded"], report
    assert "Table 1 (32 cells" in facility["caption"] and "learned mechanism in 1 of 32 cells" in facility["caption"]
    assert page_problems(report, report_tree / "index.html") == []


def test_the_page_check_names_overflow_broken_images_bare_images_and_missing_paper_figures(report_tree, tmp_path):
    root = tmp_path / "outputs"
    shutil.copytree(report_tree, root)
    page = root / "index.html"
    text = page.read_text().replace('id="paper-', 'id="renamed-')
    text = text.replace("</body>", '<div style="width:3000px">wide</div><img src="report/gone.png"></body>')
    page.write_text(text)
    problems = page_problems(probe(page), page)
    assert len(problems) == 6, problems
    wide, broken, bare, count, facility, links = problems
    assert "wider than the 1024-px window" in wide and "DIV. 3000" in wide
    assert broken.startswith("1 image(s) do not load") and "gone.png" in broken
    figures, images = (int(w) for w in count.split()[0:4:3])
    assert bare.startswith("1 image(s) outside a <figure>") and images == figures + 1 and " figures for " in count
    assert "no figure puts a paper's numbers beside ours" in facility and "report/gone.png" in links


def test_a_paper_page_with_nothing_drawn_passes_only_while_it_says_so(report_tree, tmp_path):
    page = report_tree / "paper-amd-llm.html"  # the tree has no run of an AMD-LLM item's settings
    assert declared_figures(page) == 0
    assert page_problems(probe(page), page) == []
    lying = tmp_path / "paper-amd-llm.html"
    lying.write_text(page.read_text().replace(f'{DRAWN_ATTR}="0"', f'{DRAWN_ATTR}="2"'))
    problems = page_problems(probe(lying), lying)
    assert any("says it drew 2 figure(s) but shows 0" in p for p in problems), problems
    assert any("no image at all" in p for p in problems), problems


def test_check_report_passes_on_a_good_tree_and_fails_with_reasons_on_a_broken_one(report_tree, tmp_path):
    done = _check(report_tree)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # index.html, the two papers' pages, the shell commands, the notebooks
    assert [ln.split()[0] for ln in lines[:5]] == ["ok"] * 5 and lines[-1] == "all checks passed", done.stdout
    assert [ln.split("/")[-1].split()[0] for ln in lines[:3]] == ["index.html", "paper-amd-llm.html", "paper-llmmech.html"]
    assert "amd runs/show/open on the runs under" in lines[3] and "15 commands" in lines[3]
    broken = tmp_path / "outputs"
    shutil.copytree(report_tree, broken)
    figure = next((broken / "quickstart").glob("*/figures/*.png"))
    figure.unlink()
    done = _check(broken, "--skip", "shell")  # the commands were checked above; a figure file changes none of them
    assert done.returncode == 1 and done.stdout.startswith("FAIL report page"), done.stdout
    assert "runs/show/open" not in done.stdout and "executed notebooks" in done.stdout
    assert figure.name in done.stdout and "some checks failed" in done.stdout
    missing = _check(tmp_path / "nowhere")
    assert missing.returncode == 2 and missing.stderr.startswith("check-report: error: ") and missing.stdout == ""


@pytest.mark.skipif(not os.environ.get("AMDLIB_REPORT_OUTPUTS"), reason="set AMDLIB_REPORT_OUTPUTS=DIR to check that outputs tree")
def test_a_given_outputs_tree_passes_every_check():
    """`AMDLIB_REPORT_OUTPUTS=outputs pytest tests/pipeline/test_report_browser.py` after `make reproduce`."""
    done = _check(Path(os.environ["AMDLIB_REPORT_OUTPUTS"]))
    assert done.returncode == 0, done.stdout + done.stderr
