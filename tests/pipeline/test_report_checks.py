"""The checks of scripts/check-report.py that need no browser: notebook sections, the command
output parser, and `amd runs`/`amd show` compared with the runs on disk (a tampered record fails)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from amdlib.pipeline import catalog
from amdlib.pipeline.inspect import text_table
from amdlib.pipeline.report_notebook_check import empty_sections
from amdlib.pipeline.report_shell_check import parse_table, runs_problems, show_problems

REPO = Path(__file__).resolve().parents[2]


def _cell(source: str, *texts: str, image: bool = False):
    cell = new_code_cell(source)
    cell.outputs = [new_output("stream", name="stdout", text=t) for t in texts]
    if image:
        cell.outputs.append(new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}))
    return cell


def test_empty_sections_names_silent_headings_rowless_tables_and_missing_figures():
    nb = new_notebook(cells=[
        new_markdown_cell("# Title"), _cell("import numpy as np\nx = 1"),  # setup: says nothing by design
        new_markdown_cell("## Fine"), _cell("print(x)", "1\n"), _cell("plt.plot(); plt.show()", image=True),
        new_markdown_cell("## Silent"), _cell("print(table)"),
        new_markdown_cell("## Rowless"), _cell("print(t)", "n  K  outcome\n-  -  -------\n"),
        new_markdown_cell("## No figure"), _cell("print('curve')", "curve\n"), _cell("if rows:\n    plt.show()"),
        new_markdown_cell("## Skipped, said why"), _cell("if rows:\n    plt.show()\nelse:\n    print('skipped: no rows')",
                                                         "skipped: no rows\n"),
    ])
    assert empty_sections(nb) == ["section 'Silent': 1 cell(s) meant to show something, no output",
                                  "section 'Rowless': a table with no rows under 'n  K  outcome'",
                                  "section 'No figure': a figure cell shows no figure and says nothing"]


def test_the_committed_notebooks_executed_in_this_checkout_have_no_empty_section(quickstart_outputs):
    pages = sorted(quickstart_outputs.glob("quickstart/*/notebook.ipynb"))
    assert len(pages) == 2 and all(empty_sections(nbformat.read(p, as_version=4)) == [] for p in pages)


def test_parse_table_reads_columns_by_the_rule_line_even_with_blank_cells():
    lines = text_table(["run", "model", "best.score", "age"], [["abc", "", 0.5, "3m"], ["defg", "gpt x", None, "1h"]])
    assert parse_table(lines) == [{"run": "abc", "model": "", "best.score": "0.5", "age": "3m"},
                                  {"run": "defg", "model": "gpt x", "best.score": "-", "age": "1h"}]


def test_runs_and_show_output_match_the_records_and_a_tampered_record_is_caught(quickstart_outputs, tmp_path):
    records = catalog.experiment_runs(quickstart_outputs, "quickstart")
    assert runs_problems(quickstart_outputs, tmp_path, "quickstart", records) == []
    ok = next(r for r in records if r.status == "ok")
    assert show_problems(quickstart_outputs, tmp_path, ok) == []
    ok.results = {**ok.results, "best": {**ok.results["best"], "score": ok.results["best"]["score"] + 1.0}}
    ok.params = {**ok.params, "not_a_param": 1}
    found = runs_problems(quickstart_outputs, tmp_path, "quickstart", records)
    assert len(found) == 1 and f"run {ok.run_id} best.score" in found[0], found
    shown = show_problems(quickstart_outputs, tmp_path, ok)
    assert any("params not shown: ['not_a_param']" in p for p in shown) and any("best.score" in p for p in shown), shown
