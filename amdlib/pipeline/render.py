"""Render an executed notebook to self-contained HTML (no external scripts).

nbconvert's ``lab`` template loads require.js, MathJax and the widget manager
from CDNs. Outputs must open offline and without console errors, so a small
template extending it empties those blocks; figures are already inline PNGs.
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
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
_EXTERNAL = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def external_references(html: str) -> list[str]:
    """Script or stylesheet tags that would fetch something from the network."""
    return [m.group(0) for m in _EXTERNAL.finditer(html)]


def to_html(nb: nbformat.NotebookNode) -> str:
    """HTML of a notebook, self-contained; raises RuntimeError if a remote script slipped in."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
    )
    html, _ = exporter.from_notebook_node(nb)
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
