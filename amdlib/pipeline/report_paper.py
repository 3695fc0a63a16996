"""One report page per paper (``paper-<key>.html`` beside ``index.html``): every item of the paper, in
its order, with what the runs show of it in the paper's own form.

For each item the page says what it shows, its setting, its state (how much of its grid the runs
fill) and the command that reruns it, then the experiment's figures and tables for it (drawn by
the experiment's ``paper_items`` hook; their captions say what "ours" is and which paper numbers
are printed), or, for an item the package cannot rerun as the paper set it up, what it shows
instead and why. Items are also written as CSV and Markdown under ``tables/``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Sequence

from amdlib.core.experiment import PaperTable
from amdlib.core.paperdata import Paper, catalogue
from amdlib.pipeline.jsonio import write_text_atomic
from amdlib.pipeline.paper import ItemState, item_states
from amdlib.pipeline.report_tables import figure_html, html_table, png_width, slug, to_csv, to_markdown


#: The ``<body>`` attribute holding how many figures a paper's page drew.
DRAWN_ATTR = "data-figures-drawn"


def page_name(paper: str) -> str:
    """The file name of a paper's page."""
    return f"paper-{paper}.html"


def _figure(root: Path, path: Path, caption: str, ident: str) -> str:
    return figure_html(path.relative_to(root).as_posix(), caption, png_width(path), ident)


def _rows(table: PaperTable) -> list[dict[str, Any]]:
    return [dict(zip(table.columns, row)) for row in table.rows]


def _table(table: PaperTable, tables: Path, name: str) -> str:
    rows, cols = _rows(table), list(table.columns)
    write_text_atomic(tables / f"{name}.csv", to_csv(rows, cols))
    write_text_atomic(tables / f"{name}.md", to_markdown(rows, cols))
    return (f'<p class="note"><b>{html.escape(table.caption)}</b> (also <code>tables/{html.escape(name)}.csv</code>)</p>'
            + html_table(rows, cols))


def _item_html(state: ItemState, root: Path, tables: Path) -> str:
    item = state.item
    ident = slug(item.id)
    setting = "; ".join(f"{k}: {v}" for k, v in item.setting.items())
    parts = [f'<h2 id="{ident}">{html.escape(item.label)}</h2>',
             f"<p>{html.escape(' '.join(item.shows.split()))}</p>",
             f'<p class="note">Setting: {html.escape(setting)}. Experiment: '
             f"<code>{html.escape(item.experiment or 'none (about the LLM itself)')}</code>.</p>"]
    cells = ""
    if state.view is not None and state.view.cells[1]:
        cells = f" ({state.view.cells[0]} of {state.view.cells[1]} settings)"
    rerun = f" Rerun: <code>{html.escape(state.command)}</code>." if state.command else ""
    if item.full_sweeps:
        rerun += f" The full grid: <code>amd paper run --full {html.escape(item.id)}</code>."
    parts.append(f'<p class="state"><b>State: {html.escape(state.state)}</b>{cells}. '
                 f"{html.escape(state.headline)}.{rerun}</p>")
    if item.instead:
        parts.append(f'<p class="why">Shown instead: {html.escape(" ".join(item.instead.split()))}</p>')
    view = state.view
    if view is not None:
        for i, fig in enumerate(view.figures):
            parts.append(_figure(root, fig.path, fig.caption, fig.anchor or f"paper-{ident}-{i + 1}"))
        for i, table in enumerate(view.tables):
            parts.append(_table(table, tables, f"{ident}-{i + 1}"))
    parts += [f'<p class="note">Caveat: {html.escape(" ".join(c.split()))}</p>' for c in item.caveats]
    return "\n".join(parts)


def paper_page(paper: Paper, states: Sequence[ItemState], root: Path, css: str) -> Path:
    """Write one paper's page under ``root``; returns its path."""
    tables = root / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    toc = "".join(f'<li><a href="#{slug(s.item.id)}">{html.escape(s.item.label)}</a>: {html.escape(s.state)}</li>'
                  for s in states)
    body = "\n".join(_item_html(s, root, tables) for s in states)
    # The page says how many figures it drew, so a checker can tell "nothing run yet" from "broken".
    drawn = sum(len(s.view.figures) for s in states if s.view is not None)
    authors = ", ".join(paper.authors)
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(paper.short)}, item by '
            f"item</title><style>{css}</style></head><body {DRAWN_ATTR}=\"{drawn}\"><p><a href=\"index.html\">All results</a></p>"
            f"<h1>{html.escape(paper.short)}, item by item</h1>"
            f"<p>{html.escape(paper.title)} ({html.escape(authors)}, arXiv:{html.escape(paper.arxiv)}). What we had of it: "
            f"{html.escape(paper.text)}. Numbers labelled as the paper's are the ones it printed; every other number was "
            "computed by the runs under this folder, and each caption says what \u201cours\u201d is.</p>"
            f"<ul>{toc}</ul>{body}</body></html>\n")
    path = root / page_name(paper.key)
    write_text_atomic(path, page)
    return path


def paper_pages(root: Path, css: str) -> list[tuple[Paper, Path, list[ItemState]]]:
    """Every paper's page (its figures drawn into ``root/report``); (paper, page, its items' states)."""
    cat = catalogue()
    states = item_states(root, cat.items, draw=root / "report")
    out = []
    for paper in cat.papers.values():
        mine = [s for s in states if s.item.paper == paper.key]
        out.append((paper, paper_page(paper, mine, root, css), mine))
    return out


__all__ = ["DRAWN_ATTR", "paper_pages", "paper_page", "page_name"]
