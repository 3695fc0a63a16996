"""`amd report`: ``outputs/index.html`` and ``outputs/tables/`` from the complete runs.

The page lists every experiment's runs with their key metrics, figures and a
link to the rendered notebook, then the paper's numbers beside ours (from each
experiment's ``paper_tables`` hook), labelled, with the difference. It is one
static file with inline CSS and no scripts, so it opens offline.
"""

from __future__ import annotations

import csv
import html
import io
import sys
from pathlib import Path
from typing import Any, Iterable

from amdlib.pipeline import runs
from amdlib.pipeline.jsonio import read_json, write_text_atomic
from amdlib.pipeline.plugins import load_hook
from amdlib.pipeline.schema import Experiment

TABLE_COLUMNS = ("table", "setting", "metric", "paper", "ours", "difference", "run_id")
_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.figs img{max-width:48%;margin:.3em;border:1px solid #ddd}.failed{color:#a00}code{font-size:90%}"""


def lookup(data: Any, dotted: str) -> Any:
    """The value at a dotted path (``"best.score"``) in nested dicts, or None."""
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def paper_rows(exp: Experiment, run: Path, results: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows comparing one run with the paper, with ``difference = ours - paper`` where both
    are numbers and the hook did not mark the row ``comparable: False`` (a paper figure
    for a setting that is not ours is shown as reported, never differenced)."""
    if not exp.paper_tables:
        return []
    params = runs.identity(_read_params(run))
    if results is None:
        results = read_json(run / "results.json")
    rows = load_hook(exp.paper_tables)(results, params) or []
    out = []
    for row in rows:
        paper, ours = _num(row.get("paper")), _num(row.get("ours"))
        comparable = row.get("comparable", True)
        diff = ours - paper if comparable and paper is not None and ours is not None else None
        out.append({**{k: row.get(k) for k in TABLE_COLUMNS}, "difference": diff, "run_id": run.name})
    return out


def _read_params(run: Path) -> dict[str, Any]:
    import yaml

    from amdlib.pipeline.params import Loader

    return yaml.load((run / "params.yaml").read_text(encoding="utf-8"), Loader=Loader) or {}


def _csv(rows: list[dict[str, Any]], columns: Iterable[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _markdown(rows: list[dict[str, Any]], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(r.get(c)).replace("|", "\\|") for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _html_table(rows: list[dict[str, Any]], columns: list[str], links: dict[str, str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            text = html.escape(_fmt(row.get(c)))
            if links and c in links and row.get(links[c]):
                text = f'<a href="{html.escape(row[links[c]])}">{text}</a>'
            cls = ' class="num"' if _num(row.get(c)) is not None else ""
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _experiment_section(exp: Experiment, root: Path, tables: Path) -> tuple[str, int]:
    """HTML for one experiment; also writes its CSV/Markdown tables. Returns (html, runs shown)."""
    base = root / exp.name
    done = [p.parent for p in sorted(base.glob("*/run.json")) if not p.parent.name.startswith(".") and runs.is_complete(p.parent)]
    failed = [read_json(p) for p in sorted(base.glob("*.failed.json"))]
    if not done and not failed:
        return "", 0
    run_rows, comparison, figures, problems = [], [], [], []
    for run in done:
        info, results = read_json(run / "run.json"), read_json(run / "results.json")
        row = {"run": run.name, "link": f"{exp.name}/{run.name}/notebook.html", "seed": info.get("seed"),
               "proposer": info.get("proposer"), "params": info.get("params_source"), "seconds": info.get("duration_s")}
        row.update({m: lookup(results, m) for m in exp.key_metrics})
        run_rows.append(row)
        figures += [f"{exp.name}/{run.name}/figures/{f.name}" for f in sorted((run / "figures").glob("*.png"))]
        try:
            comparison += paper_rows(exp, run, results)
        except Exception as err:  # one broken hook must not hide the other runs
            problems.append(f"paper table of {run.name}: {type(err).__name__}: {err}")
            print(f"amd report: warning: {exp.name}: {problems[-1]}", file=sys.stderr)
    run_cols = ["run", "seed", "proposer", "params", "seconds", *exp.key_metrics]
    write_text_atomic(tables / f"{exp.name}_runs.csv", _csv(run_rows, run_cols))
    write_text_atomic(tables / f"{exp.name}_runs.md", _markdown(run_rows, run_cols))
    parts = [f'<h2 id="{exp.name}">{html.escape(exp.title)}</h2>']
    if exp.description:
        parts.append(f"<p>{html.escape(exp.description)}</p>")
    parts.append(_html_table(run_rows, run_cols, links={"run": "link"}))
    if comparison:
        write_text_atomic(tables / f"{exp.name}_paper.csv", _csv(comparison, TABLE_COLUMNS))
        write_text_atomic(tables / f"{exp.name}_paper.md", _markdown(comparison, list(TABLE_COLUMNS)))
        parts.append("<h3>Paper (as published) beside ours (this run)</h3>")
        parts.append(_html_table(comparison, list(TABLE_COLUMNS)))
    if figures:
        parts.append('<div class="figs">' + "".join(f'<a href="{html.escape(f)}"><img src="{html.escape(f)}" alt="{html.escape(f)}"></a>' for f in figures) + "</div>")
    for msg in problems + [f"failed run {f.get('run_id')}: {f.get('error')}" for f in failed]:
        parts.append(f'<p class="failed">{html.escape(msg)}</p>')
    return "\n".join(parts), len(done)


def build_report(root: Path) -> Path:
    """Write ``index.html`` and ``tables/`` under the outputs root; returns the page's path."""
    from amdlib.experiments import available

    root.mkdir(parents=True, exist_ok=True)
    tables = root / "tables"
    tables.mkdir(exist_ok=True)
    runs.rebuild_index(root)
    sections, toc, total = [], [], 0
    for exp in available().values():
        section, count = _experiment_section(exp, root, tables)
        if section:
            sections.append(section)
            toc.append(f'<li><a href="#{exp.name}">{html.escape(exp.title)}</a> ({count} runs)</li>')
            total += count
    empty = "" if sections else "<p>No runs yet: try <code>amd run quickstart</code>.</p>"
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>amdlib results</title>'
            f"<style>{_CSS}</style></head><body><h1>amdlib results</h1>"
            f"<p>{total} complete runs. Tables: <code>tables/</code>. Paper numbers are shown only beside ours, labelled.</p>"
            f"<ul>{''.join(toc)}</ul>{empty}{''.join(sections)}</body></html>\n")
    write_text_atomic(root / "index.html", page)
    return root / "index.html"
