"""Render an executed notebook to self-contained HTML (no external scripts).

nbconvert's ``lab`` template loads require.js, MathJax and the widget manager
from CDNs. Outputs must open offline and without console errors, so a small
template extending it empties those blocks; figures are already inline PNGs.
When the markdown has math, MathJax 3 (``tex-svg``, one self-contained file
from the ``django-static-mathjax`` wheel) is inlined instead of linked.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import nbformat

_TEMPLATE_NAME = "amdlib_offline.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}<!--amdlib-mathjax-->{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
_MATH_SLOT = "<!--amdlib-mathjax-->"
_MATH = re.compile(r"\$[^$\n]+\$|\$\$|\\\(|\\\[")
_MATHJAX_CONFIG = (
    "<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], "
    "processEscapes: true}, svg: {fontCache: 'global'}};</script>"
)
_EXTERNAL = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def external_references(html: str) -> list[str]:
    """Script or stylesheet tags that would fetch something from the network."""
    return [m.group(0) for m in _EXTERNAL.finditer(html)]


def _mathjax_script() -> str:
    """MathJax's combined TeX-to-SVG component, inline (about 2 MB, fonts included)."""
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return ""  # not installed: math shows as TeX source, nothing breaks
    path = Path(list(spec.submodule_search_locations)[0], "static", "mathjax", "es5", "tex-svg.js")
    if not path.is_file():
        return ""
    code = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
    return f"{_MATHJAX_CONFIG}<script>{code}</script>"


def _has_math(nb: nbformat.NotebookNode) -> bool:
    return any(cell.cell_type == "markdown" and _MATH.search(cell.source) for cell in nb.cells)


_OVERWRITTEN = re.compile(r"[^\n]*\r(?!\n)")


def _settle_streams(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy where consecutive stream outputs are merged and text overwritten by
    carriage returns (progress bars) is dropped, as a terminal would show it: one
    final line per bar instead of every refresh."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        merged: list = []
        for out in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if out.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream" and last.get("name") == out.get("name"):
                last["text"] += out["text"]
            else:
                merged.append(out)
        for out in merged:
            if out.get("output_type") == "stream":
                out["text"] = _OVERWRITTEN.sub("", out["text"])
        if "outputs" in cell:
            cell["outputs"] = merged
    return nb


def to_html(nb: nbformat.NotebookNode) -> str:
    """HTML of a notebook, self-contained; raises RuntimeError if a remote script slipped in."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
    )
    html, _ = exporter.from_notebook_node(_settle_streams(nb))
    html = html.replace(_MATH_SLOT, _mathjax_script() if _has_math(nb) else "", 1)
    remote = external_references(html)
    if remote:
        raise RuntimeError(f"rendered HTML still references remote resources: {remote[:3]}")
    return html


def render_file(notebook: str | Path, html_path: str | Path) -> Path:
    """Render ``notebook`` (an .ipynb path) to ``html_path``."""
    from amdlib.pipeline.jsonio import write_text_atomic

    nb = nbformat.read(str(notebook), as_version=4)
    write_text_atomic(html_path, to_html(nb))
    return Path(html_path)
