"""`amd report`: ``outputs/index.html`` and ``outputs/tables/`` from the runs under an outputs root.

For every registered experiment with runs, the page shows a table whose columns are the
parameters its runs vary plus its key metrics, the paper's numbers beside ours (from the
experiment's ``paper_rows`` hook; a blank difference says why), one figure per paper table,
and each run's figures captioned with the run and its setting. Failed runs are listed in their
own collapsed section. The page is one static file with inline CSS and no scripts; its own
figures go to ``report/`` beside it.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from amdlib.pipeline import catalog, runs
from amdlib.pipeline.catalog import RunRecord, lookup, setting_text
from amdlib.pipeline.jsonio import write_text_atomic
from amdlib.pipeline.report_figures import Drawn, comparison_figure
from amdlib.pipeline.report_tables import (COMPARISON_COLUMNS, NO_OURS, NO_PAPER, NOT_COMPARABLE, comparison_row,
                                           figure_html, html_table, min_width_px, png_width, slug, to_csv, to_markdown)
from amdlib.core.experiment import Experiment

__all__ = ["build_report", "paper_rows", "lookup", "TABLE_COLUMNS"]

TABLE_COLUMNS = COMPARISON_COLUMNS
#: A runs table too wide for a page of this many pixels (a 1024-px window), with at most
#: _MAX_TRANSPOSED runs, shows one run per column; a wider one scrolls inside its box.
_PAGE_PX, _MAX_TRANSPOSED = 900, 8
_CSS = """body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222;line-height:1.4}
*{box-sizing:border-box}h2{margin-top:2em;border-bottom:1px solid #ddd}
.tablebox{max-width:100%;overflow-x:auto;margin:.5em 0 1em}
table{border-collapse:collapse;max-width:100%;font-size:90%}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;
vertical-align:top;overflow-wrap:break-word}th{background:#f3f3f3}th[scope=row]{font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.id{white-space:nowrap;font-family:monospace}
.why{color:#666;font-style:italic}
figure{margin:1em 0;max-width:100%}figure img{max-width:100%;height:auto;border:1px solid #ddd;display:block}
figcaption{font-size:90%;color:#444;margin-top:.3em}.note{font-size:90%;color:#555}
details{margin:.5em 0}summary{cursor:pointer;font-weight:600}.failed{color:#a00}code{font-size:90%;overflow-wrap:anywhere}"""


def paper_rows(exp: Experiment, run: Path | RunRecord, results: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows comparing one run with the paper, with ``difference = ours - paper`` where both are
    numbers and the hook did not mark the row ``comparable: False`` (a paper figure for a setting
    that is not ours is shown as reported, never differenced); otherwise ``reason`` says why."""
    if exp.paper_rows is None:
        return []
    rec = run if isinstance(run, RunRecord) else RunRecord(exp.name, run.name, run, "ok")
    rows = exp.paper_rows(rec.results if results is None else results, rec.params) or []
    return [comparison_row(row, rec.run_id) for row in rows]


def _describe(rec: RunRecord, keys: Sequence[str]) -> str:
    """What tells a run apart: its varied params, else its method and seed."""
    shown = list(keys) or [k for k in ("method", "proposer", "seed") if k in rec.params]
    return setting_text(rec.params, shown)


def _run_row(exp: Experiment, rec: RunRecord, keys: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"run": rec.run_id, "link": f"{exp.name}/{rec.run_id}/notebook.html", "seed": rec.params.get("seed"),
                           "proposer": rec.params.get("proposer"), "params": rec.info.get("params_source"),
                           "seconds": rec.info.get("duration_s")}
    row.update({k: rec.params.get(k) for k in keys})
    row.update({m: lookup(rec.results, m) for m in exp.key_metrics})
    return row


def _comparisons(exp: Experiment, done: Sequence[RunRecord], problems: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rec in done:
        try:
            rows += paper_rows(exp, rec)
        except Exception as err:  # one broken hook or odd results file must not hide the other runs
            problems.append(f"paper table of {rec.run_id}: {type(err).__name__}: {err}")
            print(f"amd report: warning: {exp.name}: {problems[-1]}", file=sys.stderr)
    return rows


def _paper_figures(exp: Experiment, done: Sequence[RunRecord], comparison: Sequence[Mapping[str, Any]], out: Path,
                   problems: list[str]) -> list[Drawn]:
    """The experiment's own paper figures, then one generic figure per paper table they do not draw."""
    drawn: list[Drawn] = []
    tables: dict[str, list[Mapping[str, Any]]] = {}
    for row in comparison:
        tables.setdefault(str(row.get("table") or "paper"), []).append(row)
    try:
        own = list(exp.paper_figures(done, out)) if exp.paper_figures is not None else []
        drawn += [Drawn(f.path, f.caption, f.anchor) for f in own]
        covered = {t for f in own for t in f.tables}
        for table, rows in tables.items():
            if table in covered:
                continue
            fig = comparison_figure(f"{exp.name}, paper {table}", rows, out / f"{exp.name}-{slug(table)}.png")
            drawn += [fig] if fig else []
    except Exception as err:  # a figure that cannot be drawn leaves the tables in place
        problems.append(f"paper figure: {type(err).__name__}: {err}")
        print(f"amd report: warning: {exp.name}: {problems[-1]}", file=sys.stderr)
    return drawn


_FOOTNOTE = ("Blank differences say why in the cell: <i>{nc}</i> (the paper's number is for a setting that is not ours, "
             "so it is shown as published and not differenced), <i>{np}</i>, or <i>{no}</i>. Difference = ours \u2212 paper.")


def _comparison_html(exp: Experiment, comparison: list[dict[str, Any]], drawn: list[Drawn], root: Path) -> list[str]:
    parts = ["<h3>The paper's numbers (as published) beside ours (computed by these runs)</h3>"]
    if comparison:
        parts.append(html_table(comparison, list(COMPARISON_COLUMNS)))
        if any(r.get("reason") for r in comparison):
            parts.append('<p class="note">' + _FOOTNOTE.format(nc=html.escape(NOT_COMPARABLE), np=html.escape(NO_PAPER),
                                                                no=html.escape(NO_OURS)) + "</p>")
    for fig in drawn:
        parts.append(figure_html(fig.path.relative_to(root).as_posix(), fig.caption, png_width(fig.path), fig.anchor or f"paper-{fig.path.stem}"))
    return parts


def _figures_html(exp: Experiment, done: Sequence[RunRecord], keys: Sequence[str], root: Path) -> list[str]:
    parts = []
    for rec in done:
        figs = rec.figures()
        if not figs:
            continue
        setting = _describe(rec, keys)
        shown = [figure_html(f.relative_to(root).as_posix(), f"Run {rec.run_id} ({setting}): {f.stem.replace('_', ' ')}",
                         png_width(f)) for f in figs]
        count = f"{len(figs)} figure{'s' if len(figs) > 1 else ''}"
        parts.append(f'<details open><summary>Figures of run {html.escape(rec.run_id)} ({html.escape(setting)}): '
                     f"{count}</summary>{''.join(shown)}</details>")
    return parts


def _experiment_section(exp: Experiment, done: list[RunRecord], root: Path, tables: Path) -> str:
    """HTML for one experiment's complete runs; also writes its CSV and Markdown tables."""
    keys = [k for k in catalog.varied(done) if k not in ("seed", "proposer")]
    run_rows = [_run_row(exp, rec, keys) for rec in done]
    run_cols = ["run", *keys, "seed", "proposer", "params", "seconds", *exp.key_metrics]
    write_text_atomic(tables / f"{exp.name}_runs.csv", to_csv(run_rows, run_cols))
    write_text_atomic(tables / f"{exp.name}_runs.md", to_markdown(run_rows, run_cols))
    problems: list[str] = []
    comparison = _comparisons(exp, done, problems)
    if comparison:
        write_text_atomic(tables / f"{exp.name}_paper.csv", to_csv(comparison, COMPARISON_COLUMNS))
        write_text_atomic(tables / f"{exp.name}_paper.md", to_markdown(comparison, list(COMPARISON_COLUMNS)))
    drawn = _paper_figures(exp, done, comparison, root / "report", problems)
    varied = " Before <code>seed</code> come the parameters these runs vary." if keys else ""
    parts = [f'<h2 id="{exp.name}">{html.escape(exp.title)}</h2>']
    if exp.description:
        parts.append(f"<p>{html.escape(exp.description)}</p>")
    wide = min_width_px(run_rows, run_cols) > _PAGE_PX and len(run_rows) <= _MAX_TRANSPOSED
    layout = " One column per run." if wide else ""
    parts.append(f'<p class="note">{len(done)} complete run(s); the run id links to its notebook.{varied}{layout}</p>')
    parts.append(html_table(run_rows, run_cols, links={"run": "link"}, transpose=wide))
    if comparison or drawn:
        parts += _comparison_html(exp, comparison, drawn, root)
    parts += _figures_html(exp, done, keys, root)
    parts += [f'<p class="failed">{html.escape(msg)}</p>' for msg in problems]
    return "\n".join(parts)


def _failed_section(failed: list[RunRecord], root: Path) -> str:
    if not failed:
        return ""
    rows = []
    for rec in failed:
        partial = rec.path.with_suffix(".ipynb")
        rows.append({"experiment": rec.experiment, "run": rec.run_id, "error": rec.failure.get("error"),
                     "ended": rec.finished, "params": rec.failure.get("params_source"),
                     "notebook": partial.name if partial.is_file() else None,
                     "href": partial.relative_to(root).as_posix() if partial.is_file() else None})
    table = html_table(rows, ["experiment", "run", "error", "ended", "params", "notebook"], links={"notebook": "href"})
    return (f'<h2 id="failed">Failed runs</h2><details class="failed"><summary>{len(failed)} failed run(s): '
            f"their last error (the next sweep or run redoes them)</summary>{table}</details>")


def _paper_links(root: Path) -> str:
    """Write each paper's item-by-item page and return the index's paragraph linking them."""
    from amdlib.pipeline.report_paper import paper_pages

    links = []
    for paper, page, states in paper_pages(root, _CSS):
        shown = sum(s.state in ("complete", "partial") for s in states)
        links.append(f'<li><a href="{html.escape(page.name)}">{html.escape(paper.short)}, item by item</a>: '
                     f"{shown} of {len(states)} items drawn from these runs ({html.escape(paper.title)})</li>")
    return f"<h2 id=\"papers\">The papers, item by item</h2><ul>{''.join(links)}</ul>"


def build_report(root: Path) -> Path:
    """Write ``index.html``, ``tables/`` and ``report/`` under the outputs root; returns the page's path."""
    from amdlib.experiments import available

    root.mkdir(parents=True, exist_ok=True)
    tables = root / "tables"
    tables.mkdir(exist_ok=True)
    runs.rebuild_index(root)
    sections, toc, failed, total = [], [], [], 0
    for exp in available().values():
        records = catalog.experiment_runs(root, exp.name)
        done = [r for r in records if r.status == "ok"]
        failed += [r for r in records if r.status == "failed"]
        if done:
            sections.append(_experiment_section(exp, done, root, tables))
            toc.append(f'<li><a href="#{exp.name}">{html.escape(exp.title)}</a> ({len(done)} runs)</li>')
            total += len(done)
    if failed:
        toc.append(f'<li><a href="#failed">Failed runs</a> ({len(failed)})</li>')
    papers = _paper_links(root)
    empty = "" if sections else "<p>No runs yet: <code>amd list</code> names the experiments, <code>amd run NAME</code> runs one.</p>"
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>amdlib results</title>'
            f"<style>{_CSS}</style></head><body><h1>amdlib results</h1>"
            f"<p>{total} complete runs under <code>{html.escape(str(root))}</code>. Tables as CSV and Markdown: "
            f"<code>tables/</code>. Paper numbers are shown only beside ours, labelled as the paper's.</p>"
            f"{papers}<ul>{''.join(toc)}</ul>{empty}{''.join(sections)}{_failed_section(failed, root)}</body></html>\n")
    write_text_atomic(root / "index.html", page)
    return root / "index.html"
