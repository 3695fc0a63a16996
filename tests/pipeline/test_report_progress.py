"""Progress of `amd run`: cell lines and the notebook's output, one line per step in a pipe."""

from __future__ import annotations

import io
import subprocess
import time

import nbformat
from tqdm import tqdm

from amdlib.pipeline.progress import RunProgress, cell_labels
from tests.conftest import REPO, amd_argv, amd_env


def test_redraws_become_rate_limited_lines_off_a_terminal():
    out = io.StringIO()
    progress = RunProgress(out, interval=0.05, heartbeat=60, tty=False)
    progress.cell_start(3, 9, "Search: result = run_search(...)")
    bar = tqdm(total=40, desc="funsearch search", file=progress.stream(), mininterval=0, ascii=True)
    for _ in range(40):
        bar.update(1)
        time.sleep(0.005)
    bar.close()
    progress.write("best 0.25\nno newline at the end")
    progress.settle()
    text = out.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and lines[0].endswith("cell 3/9  Search: result = run_search(...)")
    bars = [ln for ln in lines if "funsearch search" in ln]
    assert 2 <= len(bars) < 20  # some redraws shown, most dropped
    assert "40/40" in bars[-1] and lines[-2].endswith("  best 0.25") and lines[-1].endswith("  no newline at the end")


def test_a_bar_on_stderr_never_runs_into_a_line_printed_on_stdout():
    out = io.StringIO()
    progress = RunProgress(out, interval=0, heartbeat=60, tty=False)
    err, std = progress.stream("stderr"), progress.stream("stdout")
    err.write("\r search:  50%|##   | 4/8 [best=0.5]")
    err.write("\r search: 100%|#####| 8/8 [best=0.7]")
    std.write("setting 4x2: best search fraction 0.7000\n")
    err.write("\n")
    std.write("trailing")
    progress.settle()
    lines = [ln.split("] ", 1)[1] for ln in out.getvalue().splitlines()]
    assert lines == ["   search:  50%|##   | 4/8 [best=0.5]", "  setting 4x2: best search fraction 0.7000",
                     "   search: 100%|#####| 8/8 [best=0.7]", "  trailing"]


def test_a_terminal_gets_the_raw_redraws_and_quiet_drops_printed_lines():
    out = io.StringIO()
    RunProgress(out, tty=True).write("\r 10%|#\r 20%|##")
    assert out.getvalue() == "\r 10%|#\r 20%|##"
    quiet = io.StringIO()
    progress = RunProgress(quiet, tty=False, quiet=True, interval=0)
    progress.write("a table row\n\r 50%|#####\r100%|##########\n")
    assert "a table row" not in quiet.getvalue() and quiet.getvalue().rstrip().endswith("100%|##########")


def test_cell_labels_name_the_heading_and_first_code_line():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title\n\n## The search\ntext"),
                                         nbformat.v4.new_code_cell("# a comment\nresult = run()\nmore()"),
                                         nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["injected-parameters"]})])
    assert cell_labels(nb) == {1: "The search: result = run()", 2: "The search: (parameters of this run)"}


def test_amd_run_in_a_pipe_prints_cells_steadily_without_carriage_returns(tmp_path):
    """`amd run ... | cat`: a line at least every 10 s (kernel start included), cells as they start."""
    proc = subprocess.Popen(amd_argv("run", "quickstart", "-p", "smoke"), cwd=REPO, env=amd_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stamps, lines = [time.monotonic()], []
    for line in proc.stdout:
        stamps.append(time.monotonic())
        lines.append(line)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert max(gaps) <= 10.5, (gaps, lines)
    text = "".join(lines)
    assert "\r" not in text and text.startswith("running quickstart (")
    cells = [ln for ln in lines if "] cell " in ln]
    source = nbformat.read(REPO / "notebooks" / "00_quickstart.ipynb", as_version=4)
    total = sum(c.cell_type == "code" for c in source.cells) + 1  # papermill adds the run's parameters cell
    assert [ln.split("] cell ")[1].split()[0] for ln in cells] == [f"{i}/{total}" for i in range(1, total + 1)]
    assert "  best search score " in text and lines[-1].startswith("ok ")
