"""One real run of the quickstart: its outputs tree, determinism, validation, report and browser checks."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from amdlib.experiments.quickstart import EXPERIMENT
from amdlib.pipeline import runs
from amdlib.pipeline.jsonio import dumps, read_json
from amdlib.pipeline.params import load_params
from amdlib.pipeline.render import external_references
from amdlib.pipeline.report import build_report
from amdlib.pipeline.runner import execute_run
from amdlib.pipeline.validate import nbval

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A complete quickstart smoke run in a scratch outputs root: (root, run dir, params)."""
    root = tmp_path_factory.mktemp("outputs")
    params = load_params(EXPERIMENT, REPO / "params" / "quickstart" / "smoke.yaml")
    outcome = execute_run("quickstart", params, root, source="smoke.yaml")
    assert outcome.status == "ok", outcome.error
    return root, Path(outcome.path), params


def test_run_dir_holds_everything(run):
    root, path, params = run
    assert path == root / "quickstart" / runs.run_id("quickstart", params)
    names = {p.name for p in path.iterdir()}
    assert {"notebook.ipynb", "notebook.html", "params.yaml", "results.json", "run.json", "figures"} <= names
    assert "cassette.jsonl" not in names  # offline: no LLM, no cassette
    info = read_json(path / "run.json")
    assert info["status"] == "ok" and info["run_id"] == path.name and info["seed"] == 0 and info["proposer"] == "offline"
    assert info["duration_s"] > 0 and info["start"] <= info["end"]
    assert re.fullmatch(r"[0-9a-f]{40}", info["git"]["commit"] or "") and info["versions"]["numpy"]
    saved = yaml.safe_load((path / "params.yaml").read_text())
    assert "output_dir" not in saved and runs.run_id("quickstart", saved) == path.name
    results_text = (path / "results.json").read_text()
    results = json.loads(results_text)
    assert results_text == dumps(results)  # canonical: sorted keys, indent 1
    assert results["experiment"] == "quickstart" and results["evaluations"] >= params["max_evaluations"]
    assert results["best"]["score"] >= results["baselines"]["seed_program"]["score"]
    png = (path / "figures" / "quickstart.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") > 300  # width in pixels
    assert [p.name for p in (root / "quickstart").iterdir()] == [path.name]  # no tmp or failed leftovers
    assert json.loads((root / "index.jsonl").read_text())["run_id"] == path.name


def test_notebook_is_parameterised_and_html_self_contained(run):
    _, path, _ = run
    nb = nbformat.read(path / "notebook.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "max_evaluations = 12" in injected[0].source
    page = (path / "notebook.html").read_text()
    assert external_references(page) == []
    assert not re.search(r"cdnjs|unpkg\.com|jsdelivr|require\.min\.js|MathJax\.js", page)
    assert page.count("data:image/png;base64,") >= 1
    assert "best search score" in page


def test_rerun_skips_and_forced_rerun_reproduces_results(run):
    root, path, params = run
    before = (path / "results.json").read_text()
    assert execute_run("quickstart", params, root).status == "skipped"
    forced = execute_run("quickstart", params, root, force=True)
    assert forced.status == "ok" and forced.path == str(path)
    assert (path / "results.json").read_text() == before


def test_validate_reproduces_and_detects_a_changed_output(run, tmp_path):
    _, path, _ = run
    assert nbval(path / "notebook.ipynb").ok
    nb = nbformat.read(path / "notebook.ipynb", as_version=4)
    checked = next(c for c in nb.cells if c.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in c.source and c.outputs)
    checked.outputs[0]["text"] = "a number the run never printed\n"
    tampered = tmp_path / "notebook.ipynb"
    nbformat.write(nb, tampered)
    verdict = nbval(tampered)
    assert not verdict.ok and "failed" in verdict.summary


def _paper_rows(results, params):
    """A stand-in paper-table hook: one row with a paper value beside the run's own number."""
    return [{"table": "T1", "setting": params["target"], "metric": "best score", "paper": -0.5, "ours": results["best"]["score"]},
            {"table": "T1", "setting": params["target"], "metric": "note", "paper": "n/a", "ours": "text"}]


def test_report_lists_runs_metrics_figures_and_paper_tables(run, monkeypatch):
    root, path, _ = run
    with_tables = dataclasses.replace(EXPERIMENT, paper_rows=_paper_rows)
    monkeypatch.setattr("amdlib.experiments.available", lambda: {"quickstart": with_tables})
    (root / "quickstart" / "feedbeef0000.failed.json").write_text(json.dumps({"run_id": "feedbeef0000", "error": "Boom: x"}))
    index = build_report(root)
    page = index.read_text()
    best = read_json(path / "results.json")["best"]["score"]
    assert f'href="quickstart/{path.name}/notebook.html"' in page
    assert f'src="quickstart/{path.name}/figures/quickstart.png"' in page
    assert f"{best:.4g}" in page and "Boom: x" in page and external_references(page) == []
    rows = list(__import__("csv").DictReader((root / "tables" / "quickstart_paper.csv").open()))
    assert [r["metric"] for r in rows] == ["best score", "note"]
    assert float(rows[0]["difference"]) == pytest.approx(best + 0.5) and rows[1]["difference"] == ""
    assert "| T1 | linear | best score | -0.5 |" in (root / "tables" / "quickstart_paper.md").read_text()
    assert (root / "tables" / "quickstart_runs.csv").read_text().splitlines()[0] == "run,seed,proposer,params,seconds,best.score,holdout.mse,evaluations"
    (root / "quickstart" / "feedbeef0000.failed.json").unlink()


_PROBE = """<script>
window.__amd = [];
addEventListener('error', e => __amd.push('error: ' + (e.message || (e.target && (e.target.src || e.target.href)))), true);
const __err = console.error; console.error = (...a) => { __amd.push('console.error: ' + a.join(' ')); __err(...a); };
addEventListener('load', () => setTimeout(() => {
  const imgs = Array.from(document.images);
  const out = document.createElement('pre'); out.id = '__amd_probe';
  out.textContent = JSON.stringify({images: imgs.length, broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 60)), errors: __amd});
  document.body.appendChild(out);
}, 200));
</script>"""


def browser_check(page: Path, tmp_path: Path) -> dict:
    """Load ``page`` in headless Chromium; return images seen, broken images and console errors."""
    probe = page.with_name(f".probe-{page.name}")
    text = page.read_text()
    probe.write_text(text.replace("<head>", "<head>" + _PROBE, 1) if "<head>" in text else _PROBE + text)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'chromium'}", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        probe.unlink()
    found = re.search(r'<pre id="__amd_probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the page did not finish loading: {done.stderr[-2000:]}"
    report = json.loads(html.unescape(found.group(1)))
    report["errors"] += [ln for ln in done.stderr.splitlines() if "CONSOLE" in ln and ("Uncaught" in ln or "Error" in ln)]
    return report


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it): browser checks skipped")
def test_pages_load_in_chromium_with_figures_and_no_errors(run, tmp_path):
    root, path, _ = run
    build_report(root)
    for page, min_images in ((path / "notebook.html", 1), (root / "index.html", 1)):
        report = browser_check(page, tmp_path)
        assert report["errors"] == [], (page, report["errors"])
        assert report["images"] >= min_images and report["broken"] == [], (page, report)
