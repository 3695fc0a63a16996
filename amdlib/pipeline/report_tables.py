"""Tables of the report: rows of runs and of paper comparisons, as HTML, CSV and Markdown.

HTML tables wrap long words (dotted metric names, run ids, file names) at their dots and
underscores and sit in a horizontally scrolling box, so a wide table never runs off the page.
A comparison row without a difference says why in its ``difference`` cell.
"""

from __future__ import annotations

import csv
import html
import io
import re
import struct
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from amdlib.pipeline.catalog import format_value

COMPARISON_COLUMNS = ("table", "setting", "metric", "paper", "ours", "difference", "run_id")
#: Why a comparison has no difference, by cause (shown in the cell; the page's footnote explains).
NOT_COMPARABLE = "n/a: the paper's setting differs"
NO_PAPER = "n/a: the paper reports no number here"
NO_OURS = "n/a: this run did not compute it"


def number(value: Any) -> float | None:
    """``value`` as a float when it is a real number (bools are not), else None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def comparison_row(row: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    """A hook's row with ``difference = ours - paper`` when both are numbers and the row is
    comparable, else the reason there is none (``reason``; the CSV's difference stays empty)."""
    paper, ours = number(row.get("paper")), number(row.get("ours"))
    out = {k: row.get(k) for k in COMPARISON_COLUMNS if k not in ("difference", "run_id")}
    out.update({"run_id": run_id, "difference": None, "reason": ""})
    for extra in ("ours_se", "paper_se", "note"):
        if row.get(extra) is not None:
            out[extra] = row[extra]
    if paper is None:
        out["reason"] = NO_PAPER
    elif not row.get("comparable", True):
        out["reason"] = NOT_COMPARABLE
    elif ours is None:
        out["reason"] = NO_OURS
    else:
        out["difference"] = ours - paper
    return out


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def to_markdown(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(format_value(r.get(c)).replace("|", "\\|") for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


_BREAK = re.compile(r"([._/,=])")


def breakable(text: str) -> str:
    """Escaped text with a line-break opportunity after dots, underscores, slashes, commas."""
    return _BREAK.sub(r"\1<wbr>", html.escape(text))


def min_width_px(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> float:
    """A rough narrowest width of a table laid out one row per row: per column, its longest
    unbreakable piece (numbers whole, text and headers split at spaces and break points)."""
    def pieces(text: str) -> int:
        return max((len(p) for p in re.split(r"(?<=[._/,=])|\s+", text)), default=0)

    total = 0.0
    for c in columns:
        chars = [pieces(c)] + [len(format_value(r.get(c))) if number(r.get(c)) is not None else pieces(format_value(r.get(c)))
                               for r in rows]
        total += 7.5 * max(chars) + 18  # ~7.5 px a character at 90% of a 16 px font, plus padding and border
    return total


def _cell(row: Mapping[str, Any], c: str, links: Mapping[str, str] | None, tag: str = "td") -> str:
    value = row.get(c)
    if c == "difference" and value is None and row.get("reason"):
        return f'<{tag} class="why">{html.escape(row["reason"])}</{tag}>'
    if value is None or value == "":
        return f'<{tag} class="why" title="not in this run\'s results">\u2013</{tag}>'
    numeric = number(value) is not None  # numbers stay whole (a page search finds them)
    text = html.escape(format_value(value)) if numeric else breakable(format_value(value))
    if links and c in links and row.get(links[c]):
        text = f'<a href="{html.escape(str(row[links[c]]))}">{text}</a>'
    klass = ' class="num"' if numeric else ' class="id"' if c in ("run", "run_id") else ""
    return f"<{tag}{klass}>{text}</{tag}>"


def html_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], links: Mapping[str, str] | None = None,
               headers: Mapping[str, str] | None = None, transpose: bool = False) -> str:
    """A table in a scrolling box; ``links`` maps a column to the row key holding its href,
    ``headers`` gives display names. A numeric cell is right-aligned; a ``reason`` (why a
    comparison is blank) fills an empty ``difference`` cell. ``transpose`` puts each row in a
    column (headed by its first column's value), for a few rows with many columns."""
    name = lambda c: breakable((headers or {}).get(c, c))
    if transpose and columns:
        first, rest = columns[0], columns[1:]
        head = f'<th scope="col">{name(first)}</th>' + "".join(_cell(r, first, links, "th") for r in rows)
        body = [f'<tr><th scope="row">{name(c)}</th>' + "".join(_cell(r, c, links) for r in rows) + "</tr>" for c in rest]
    else:
        head = "".join(f'<th scope="col">{name(c)}</th>' for c in columns)
        body = ["<tr>" + "".join(_cell(r, c, links) for c in columns) + "</tr>" for r in rows]
    return f'<div class="tablebox"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def slug(text: str) -> str:
    """A page anchor or file stem made of ``text`` (lower-case letters, digits and dashes)."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "table"


def png_width(path: Path) -> int | None:
    """Pixel width from a PNG header (shown 1:1 up to the page width, so text stays legible)."""
    try:
        head = path.read_bytes()[:24]
    except OSError:
        return None
    return struct.unpack(">I", head[16:20])[0] if head[:8] == b"\x89PNG\r\n\x1a\n" else None


def figure_html(src: str, caption: str, width: int | None = None, ident: str = "") -> str:
    """A linked, captioned image (``ident``: the figure's anchor)."""
    size = f' width="{width}"' if width else ""
    anchor = f' id="{html.escape(ident)}"' if ident else ""
    return (f'<figure{anchor}><a href="{html.escape(src)}"><img src="{html.escape(src)}"{size} alt="{html.escape(caption)}"></a>'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")
