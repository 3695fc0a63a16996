"""`amd runs`, `amd show`, `amd open`: the runs under an outputs root, read from the shell.

Every path printed is absolute, so it works from any folder. Each function returns the lines
to print; a run that cannot be found is a one-line :class:`~amdlib.errors.UserError`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

from amdlib.errors import UserError
from amdlib.pipeline import catalog
from amdlib.pipeline.catalog import RunRecord, age, format_value, lookup

_WIDTH = 28  # widest cell of `amd runs` (longer values end in an ellipsis)


def text_table(header: Sequence[str], rows: Iterable[Sequence[Any]], width: int = _WIDTH) -> list[str]:
    """Aligned plain-text columns: numbers right-aligned, text left-aligned, two spaces apart."""
    def cell(v: Any) -> str:
        text = format_value(v) if v is not None else "-"
        return text if len(text) <= width else text[: width - 1] + "\u2026"

    rows = [list(r) for r in rows]
    body = [[cell(v) for v in row] for row in rows]
    numeric = [bool(rows) and all(r[i] is None or (isinstance(r[i], (int, float)) and not isinstance(r[i], bool)) for r in rows)
               for i in range(len(header))]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    return [line(list(header)), line(["-" * w for w in widths])] + [line(r) for r in body]


def _experiments(name: str | None) -> list[str]:
    from amdlib.experiments import available, get

    return [get(name).name] if name else list(available())


def runs_lines(root: Path, experiment: str | None = None) -> list[str]:
    """One table per experiment: id, status, the params its runs vary, key metrics, age."""
    from amdlib.experiments import get

    lines: list[str] = []
    for name in _experiments(experiment):
        records = catalog.experiment_runs(root, name)
        if not records:
            continue
        exp = get(name)
        keys = catalog.varied(records)
        metrics = list(exp.key_metrics[:4])
        rows = [[r.run_id, r.status, *[r.params.get(k) for k in keys], *[lookup(r.results, m) for m in metrics],
                 age(r.finished)] for r in records]
        lines += [f"{name}: {len(records)} run(s) in {root / name}", *text_table(["run", "status", *keys, *metrics, "age"], rows), ""]
    if not lines:
        where = f"of {experiment} " if experiment else ""
        return [f"no runs {where}under {root} (`amd list` names the experiments, `amd run NAME` starts one; --outputs picks another root)"]
    return lines[:-1]


def _files(path: Path) -> list[str]:
    out = []
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        size = f.stat().st_size
        shown = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.1f} kB"
        out.append(f"  {f}  ({shown})")
    return out


def show_lines(root: Path, ref: str) -> list[str]:
    """A run's status, params, key metrics, files and paper comparison."""
    from amdlib.experiments import get

    rec = catalog.find_run(root, ref, _experiments(None))
    exp = get(rec.experiment)
    lines = [f"{rec.experiment}/{rec.run_id}  {rec.status}  {rec.path}"]
    if rec.status == "failed":
        lines += [f"error: {rec.failure.get('error')}", f"ended: {rec.finished} ({age(rec.finished)} ago)"]
        partial = rec.path.with_suffix(".ipynb")
        if partial.is_file():
            lines.append(f"partial notebook: {partial}")
    else:
        info = rec.info
        lines.append(f"ended: {rec.finished} ({age(rec.finished)} ago), {info.get('duration_s')} s, "
                     f"params from {info.get('params_source') or '-'}, commit {(info.get('git') or {}).get('commit') or '-'}")
        ledger = info.get("llm_ledger") or {}
        if any(ledger.values()):  # offline searches have empty ledgers
            lines.append(f"llm ledger: {format_value(ledger)[:200]}")
    lines.append("params:")
    lines += [f"  {k}: {format_value(v) if v != '' else chr(34) * 2}" for k, v in rec.params.items()]
    if rec.status == "ok":
        lines.append("key metrics:")
        lines += [f"  {m}: {format_value(lookup(rec.results, m)) or '- (not in results.json)'}" for m in exp.key_metrics]
        lines.append("files:")
        lines += _files(rec.path)
        lines += _paper_lines(exp, rec)
    return lines


def _paper_lines(exp: Any, rec: RunRecord) -> list[str]:
    from amdlib.pipeline.report import paper_rows

    try:
        rows = paper_rows(exp, rec)
    except Exception as err:  # a broken hook should not hide the rest of the run
        return [f"paper comparison: unavailable ({type(err).__name__}: {err})"]
    if not rows:
        return []
    body = [[r.get("table"), r.get("setting"), r.get("metric"), r.get("paper"), r.get("ours"),
             r["difference"] if r.get("difference") is not None else r.get("reason")] for r in rows]
    return ["paper comparison (paper as published, ours from this run):",
            *("  " + ln for ln in text_table(["table", "setting", "metric", "paper", "ours", "difference"], body, width=44))]


def _can_open_browser() -> bool:
    """Open a browser only for a person at a graphical session (never in pipes, CI or ssh)."""
    graphical = sys.platform == "darwin" or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return graphical and sys.stdout.isatty()


def open_run(root: Path, ref: str, browser: bool | None = None) -> list[str]:
    """The path of a run's rendered notebook, opened in a browser when one is at hand."""
    rec = catalog.find_run(root, ref, _experiments(None))
    if rec.html is None:
        partial = rec.path.with_suffix(".ipynb")
        hint = f"; its partial notebook is {partial}" if partial.is_file() else ""
        raise UserError(f"run {rec.experiment}/{rec.run_id} {rec.status}: it has no notebook.html{hint}")
    if browser is None:
        browser = _can_open_browser()
    if browser:
        import webbrowser

        if webbrowser.open(rec.html.as_uri()):
            return [f"opened {rec.html}"]
    return [str(rec.html)]
