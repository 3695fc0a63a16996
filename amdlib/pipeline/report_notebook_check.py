"""Executed notebooks read section by section: does any heading stand over nothing?

A section is a markdown heading and the cells up to the next heading. It *renders empty*
when it holds code cells and none of them shows anything (no text, table or image). Within
a section with output, a printed table that is only a header and its rule line (no rows) and
a cell that calls ``plt.show()`` without an image in its output are empty parts too. A
notebook that skips a part should print a sentence saying why instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_HEADING = re.compile(r"^\s*(#+)\s*(.+?)\s*$", re.M)
_RULE = re.compile(r"^[-\s]*-{3,}[-\s]*$")


def _text(output: Any) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    data = output.get("data", {})
    return str(data.get("text/markdown") or data.get("text/html") or data.get("text/plain") or "")


def _shows(cell: Any) -> bool:
    """Whether a code cell's output shows something to a reader (errors count: they are loud)."""
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error" or (kind in ("display_data", "execute_result") and "image/png" in out.get("data", {})):
            return True
        if _text(out).strip() and not _text(out).strip().startswith("<Figure size"):
            return True
    return False


def _meant_to_show(cell: Any) -> bool:
    """Whether a code cell is written to show something: it prints, displays or plots, or ends
    in a bare expression (setup cells that import and assign, or write results, are not)."""
    import ast

    source = str(cell.get("source", ""))
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return True
    if body and isinstance(body[-1], ast.Expr) and not isinstance(body[-1].value, ast.Call):
        return True
    calls = {node.func.id if isinstance(node.func, ast.Name) else node.func.attr
             for node in ast.walk(ast.Module(body=body, type_ignores=[])) if isinstance(node, ast.Call)
             and isinstance(node.func, (ast.Name, ast.Attribute))}
    return bool(calls & {"print", "display", "show"})


def _headless_tables(cell: Any) -> list[str]:
    """Printed tables with a header and a rule line but no row after them."""
    found = []
    for out in cell.get("outputs", []):
        lines = [ln for ln in _text(out).splitlines()]
        for i, line in enumerate(lines):
            if _RULE.match(line) and i > 0 and lines[i - 1].strip():
                rest = lines[i + 1:]
                if not rest or not rest[0].strip():
                    found.append(lines[i - 1].strip()[:60])
    return found


def _missing_figure(cell: Any) -> bool:
    calls_show = "plt.show()" in str(cell.get("source", ""))
    images = any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    return calls_show and not images and not _shows(cell)


def empty_sections(nb: Any) -> list[str]:
    """Sentences naming each empty section or part of an executed notebook (``nbformat`` node)."""
    problems: list[str] = []
    heading, code_cells = "(before the first heading)", []

    def close() -> None:
        meant = [c for c in code_cells if _meant_to_show(c)]
        if meant and not any(_shows(c) for c in code_cells):
            problems.append(f"section '{heading}': {len(meant)} cell(s) meant to show something, no output")

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = _HEADING.findall(str(cell.source))
            if found:
                close()
                heading, code_cells = found[-1][1], []
            continue
        if cell.cell_type != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            continue
        code_cells.append(cell)
        problems += [f"section '{heading}': a table with no rows under '{h}'" for h in _headless_tables(cell)]
        if _missing_figure(cell):
            problems.append(f"section '{heading}': a figure cell shows no figure and says nothing")
    close()
    return problems


def notebook_problems(path: Path) -> list[str]:
    """:func:`empty_sections` of the executed notebook at ``path``."""
    import nbformat

    return empty_sections(nbformat.read(path, as_version=4))
