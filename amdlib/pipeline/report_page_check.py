"""The report page as a reader's browser shows it: rendered in headless Chromium and measured.

:func:`probe` loads a copy of ``index.html`` with a small script that, once the page and its
images have loaded, records what overflows the viewport, which images failed to load, which
figures lack a caption and which paper figures (anchors ``paper-...``) are there and load; :func:`page_problems`
turns that record (and the page's local links) into sentences, one per problem.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from amdlib.errors import UserError
from amdlib.pipeline.report_paper import DRAWN_ATTR

#: The width of the window the page is checked in (a laptop's browser window).
WIDTH = 1024
#: Anchors of the figures that put the papers' numbers beside ours start with this.
PAPER_FIGURE = "paper-"

_PROBE = """<script>
addEventListener('load', () => setTimeout(() => {
  const vw = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.parentElement && el.parentElement.closest('.tablebox')) continue;  // scrolls inside its own box
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 1 || r.left < -1)) wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.width));
  }
  const imgs = Array.from(document.images);
  const figs = Array.from(document.querySelectorAll('figure'));
  const papers = Array.from(document.querySelectorAll('figure[id^="%PAPER%"]'));
  const out = document.createElement('pre'); out.id = '__amd_probe';
  out.textContent = JSON.stringify({
    viewport: vw, page_width: document.documentElement.scrollWidth, wide: wide.slice(0, 10),
    images: imgs.length, broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(-60)),
    outside_figures: imgs.filter(i => !i.closest('figure')).length,
    uncaptioned: figs.filter(f => !(f.querySelector('figcaption') && f.querySelector('figcaption').textContent.trim().length > 20)).length,
    figures: figs.length,
    paper_figures: papers.map(f => ({id: f.id, loaded: f.querySelector('img').naturalWidth > 0, caption: f.querySelector('figcaption').textContent})),
  });
  document.body.appendChild(out);
}, 300));
</script>""".replace("%PAPER%", PAPER_FIGURE)


def chromium() -> str | None:
    """The headless browser used for the check (``/usr/bin/chromium`` where installed)."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def probe(page: Path, width: int = WIDTH, browser: str | None = None, timeout_s: float = 180) -> dict[str, Any]:
    """Render ``page`` in headless Chromium at ``width`` px and return what the probe measured.

    The probe page is a copy in a temporary folder whose ``<base>`` is the page's folder (so
    relative image paths resolve): nothing is written under the outputs root.
    """
    browser = browser or chromium()
    if browser is None:
        raise UserError("no chromium found (install it, e.g. `apt-get install chromium`): the page check needs a browser")
    if not page.is_file():
        raise UserError(f"{page} does not exist: build it with `amd report --outputs {page.parent}`")
    base = f'<base href="{html.escape(page.parent.resolve().as_uri())}/">'
    with tempfile.TemporaryDirectory(prefix="amd-chromium-") as tmp:
        probe_page = Path(tmp) / "probe-index.html"
        probe_page.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + base + _PROBE, 1),
                              encoding="utf-8")
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={Path(tmp) / 'profile'}", f"--window-size={width},900", "--virtual-time-budget=8000",
               "--allow-file-access-from-files", "--dump-dom", probe_page.as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    found = re.search(r'<pre id="__amd_probe">(.*?)</pre>', done.stdout, re.S)
    if not found:
        raise RuntimeError(f"the page did not finish loading in Chromium: {done.stderr[-2000:]}")
    return json.loads(html.unescape(found.group(1)))


def broken_links(page: Path) -> list[str]:
    """Local ``href``/``src`` targets of the page that are not files (runs' notebooks, figures)."""
    text = page.read_text(encoding="utf-8")
    missing = []
    for target in sorted(set(re.findall(r'(?:href|src)="([^"#]+)"', text))):
        url = urlparse(html.unescape(target))
        if url.scheme in ("", "file") and not (page.parent / unquote(url.path)).is_file():
            missing.append(target)
    return missing


def declared_figures(page: Path) -> int | None:
    """How many figures a paper's page says it drew (``None``: the page does not say)."""
    found = re.search(rf'<body {DRAWN_ATTR}="(\d+)"', page.read_text(errors="replace"))
    return int(found.group(1)) if found else None


def page_problems(report: dict[str, Any], page: Path, width: int = WIDTH, paper: bool = True) -> list[str]:
    """What is wrong with the rendered page, one sentence each (empty: it passes).

    With ``paper`` at least one figure must put a paper's numbers beside ours; every such figure
    must load and have a caption. A paper's page that declares it drew no figure (no runs of its
    items yet) must show none, and is not asked for one.
    """
    problems = []
    declared = declared_figures(page)
    if declared is not None:
        if report["figures"] != declared:
            problems.append(f"the page says it drew {declared} figure(s) but shows {report['figures']}")
    # A page that drew nothing (no runs of its items yet) is honest without images.
    empty_ok = declared == 0
    paper = paper and not empty_ok
    if report["wide"] or report["page_width"] > report["viewport"] or report["viewport"] != width:
        problems.append(f"wider than the {width}-px window: page {report['page_width']} px, "
                        f"elements {report['wide'] or 'none'} (viewport {report['viewport']} px)")
    if report["images"] == 0 and not empty_ok:
        problems.append("the page shows no image at all")
    if report["broken"]:
        problems.append(f"{len(report['broken'])} image(s) do not load: {report['broken'][:5]}")
    if report["outside_figures"]:
        problems.append(f"{report['outside_figures']} image(s) outside a <figure> (so without a caption)")
    if report["uncaptioned"]:
        problems.append(f"{report['uncaptioned']} of {report['figures']} figure(s) have no caption (or one under 20 characters)")
    if report["figures"] != report["images"]:
        problems.append(f"{report['figures']} figures for {report['images']} images (one image per captioned figure expected)")
    figs = report.get("paper_figures") or []
    if paper and not figs:
        problems.append(f"no figure puts a paper's numbers beside ours (no #{PAPER_FIGURE}... figure): are there complete runs "
                        "of an experiment with paper items?")
    bad = [f["id"] for f in figs if not f["loaded"] or len(f["caption"].strip()) < 20]
    if bad:
        problems.append(f"{len(bad)} paper figure(s) do not load or have no caption: {bad[:5]}")
    links = broken_links(page)
    if links:
        problems.append(f"{len(links)} local link(s) point at no file: {links[:5]}")
    return problems
