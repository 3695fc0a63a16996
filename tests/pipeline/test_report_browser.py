"""The report page in headless Chromium: nothing wider than the viewport, every image loads,
every figure has a caption, and the facility Table-1 comparison figure is there."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from amdlib.experiments.facility_location import EXPERIMENT as FACILITY
from amdlib.pipeline.params import load_params
from amdlib.pipeline.report import build_report
from amdlib.pipeline.runner import execute_run

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH = 1024

_PROBE = """<script>
addEventListener('load', () => setTimeout(() => {
  const vw = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 1 || r.left < -1)) wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.width));
  }
  const imgs = Array.from(document.images);
  const figs = Array.from(document.querySelectorAll('figure'));
  const facility = document.getElementById('paper-facility_location-table-1');
  const out = document.createElement('pre'); out.id = '__amd_probe';
  out.textContent = JSON.stringify({
    viewport: vw, page_width: document.documentElement.scrollWidth, wide: wide.slice(0, 10),
    images: imgs.length, broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(-60)),
    outside_figures: imgs.filter(i => !i.closest('figure')).length,
    uncaptioned: figs.filter(f => !(f.querySelector('figcaption') && f.querySelector('figcaption').textContent.trim().length > 20)).length,
    figures: figs.length,
    facility: facility ? {loaded: facility.querySelector('img').naturalWidth > 0, caption: facility.querySelector('figcaption').textContent} : null,
  });
  document.body.appendChild(out);
}, 300));
</script>"""


def _probe(page: Path, tmp_path: Path) -> dict:
    probe = page.with_name(".probe-index.html")
    probe.write_text(page.read_text().replace("<head>", "<head>" + _PROBE, 1))
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'chromium'}", f"--window-size={WIDTH},900", "--virtual-time-budget=8000",
           "--dump-dom", probe.as_uri()]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    finally:
        probe.unlink()
    found = re.search(r'<pre id="__amd_probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the page did not finish loading: {done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it): browser checks skipped")
def test_report_fits_the_page_loads_every_image_and_captions_every_figure(quickstart_outputs, tmp_path):
    root = tmp_path / "outputs"
    shutil.copytree(quickstart_outputs, root)
    params = load_params(FACILITY, REPO / "params" / "facility_location" / "smoke.yaml")
    outcome = execute_run("facility_location", params, root, source="smoke.yaml")
    assert outcome.status == "ok", outcome.error
    report = _probe(build_report(root), tmp_path)
    assert report["wide"] == [] and report["page_width"] <= report["viewport"] == WIDTH, report
    assert report["images"] >= 4 and report["broken"] == [], report
    assert report["outside_figures"] == 0 and report["uncaptioned"] == 0 and report["figures"] == report["images"], report
    facility = report["facility"]
    assert facility and facility["loaded"], report
    assert "Table 1 (32 cells" in facility["caption"] and "learned mechanism in 1 of 32 cells" in facility["caption"]
