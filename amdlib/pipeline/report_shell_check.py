"""`amd runs`, `amd show` and `amd open` run as a user would, against any outputs root.

Each command runs in a subprocess from a scratch folder (so every path it prints must work
from anywhere) and its output is compared with the runs on disk: the run table's rows and
numbers, each run's params, key metrics and files, the notebook page ``open`` names, and a
one-line error (exit 2) for run ids that do not exist or are malformed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

from amdlib.pipeline import catalog
from amdlib.pipeline.catalog import RunRecord, format_value, lookup

#: Run ids that are not under any root (unknown, malformed, too short), and an unknown experiment.
BAD_REFS = (("show", "ffffffffffff"), ("open", "nothex!"), ("show", "abc"), ("runs", "nope"))


def amd_argv(*args: str) -> list[str]:
    """The installed ``amd`` console script beside this interpreter (else ``python -m amdlib``)."""
    script = Path(sys.executable).with_name("amd")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "amdlib", *args]


def _amd(root: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("AMDLIB_OUTPUTS", "DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(amd_argv(*args, "--outputs", str(root)), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def parse_table(lines: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a :func:`~amdlib.pipeline.inspect.text_table` (header, rule, rows) by column span."""
    spans, start = [], None
    rule = lines[1] + " "
    for i, ch in enumerate(rule):
        if ch == "-" and start is None:
            start = i
        elif ch != "-" and start is not None:
            spans.append((start, i))
            start = None
    cut = [(a, spans[k + 1][0] if k + 1 < len(spans) else None) for k, (a, _) in enumerate(spans)]
    names = [lines[0][a:b].strip() for a, b in cut]
    return [{n: ln[a:b].strip() for n, (a, b) in zip(names, cut)} for ln in lines[2:]]


def _same_number(shown: str, value: Any) -> bool:
    if shown.endswith("\u2026"):  # a long cell is cut; its start must still match
        return format_value(value).startswith(shown[:-1])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return shown == (format_value(value) if value is not None else "-")
    try:
        return abs(float(shown) - value) <= 1e-3 * max(1.0, abs(value))
    except ValueError:
        return False


def runs_problems(root: Path, cwd: Path, experiment: str, records: Sequence[RunRecord]) -> list[str]:
    """`amd runs EXP`: its title, one row per run with the right status and key metrics."""
    done = _amd(root, cwd, "runs", experiment)
    if done.returncode != 0:
        return [f"amd runs {experiment}: exit {done.returncode}: {done.stderr.strip()[-300:]}"]
    lines = done.stdout.splitlines()
    want = f"{experiment}: {len(records)} run(s) in {root / experiment}"
    if not lines or lines[0] != want:
        return [f"amd runs {experiment}: first line {lines[:1]}, expected {want!r}"]
    rows = {r["run"]: r for r in parse_table(lines[1:])}
    problems = []
    for rec in records:
        row = rows.get(rec.run_id)
        if row is None:
            problems.append(f"amd runs {experiment}: no row for run {rec.run_id}")
            continue
        if row["status"] != rec.status:
            problems.append(f"amd runs {experiment}: run {rec.run_id} shown {row['status']}, is {rec.status}")
        for name, shown in row.items():
            if rec.status == "ok" and name not in ("run", "status", "age") and name not in rec.params:
                if not _same_number(shown, lookup(rec.results, name)):
                    problems.append(f"amd runs {experiment}: run {rec.run_id} {name} = {shown}, "
                                    f"results.json has {lookup(rec.results, name)}")
    return problems


def show_problems(root: Path, cwd: Path, rec: RunRecord) -> list[str]:
    """`amd show ID-PREFIX`: its path line, every param, the key metrics, files that exist."""
    done = _amd(root, cwd, "show", rec.run_id[:8])
    name = f"amd show {rec.run_id[:8]}"
    if done.returncode != 0:
        return [f"{name}: exit {done.returncode}: {done.stderr.strip()[-300:]}"]
    out = done.stdout
    first = f"{rec.experiment}/{rec.run_id}  {rec.status}  {rec.path}"
    problems = [] if out.startswith(first + "\n") else [f"{name}: first line {out.splitlines()[:1]}, expected {first!r}"]
    missing = [k for k in rec.params if f"\n  {k}: " not in out]
    if missing:
        problems.append(f"{name}: params not shown: {missing[:5]}")
    if rec.status != "ok":
        if f"error: {rec.failure.get('error')}" not in out:
            problems.append(f"{name}: the failed run's error is not shown")
        return problems
    from amdlib.experiments import get

    for metric in get(rec.experiment).key_metrics:
        value = lookup(rec.results, metric)
        if value is not None and f"\n  {metric}: {format_value(value)}" not in out:
            problems.append(f"{name}: key metric {metric} ({format_value(value)}) not shown")
    files = [Path(ln.strip().rsplit("  (", 1)[0]) for ln in out.split("\nfiles:\n", 1)[-1].splitlines() if ln.startswith("  /")]
    bad = [str(f) for f in files if not (f.is_absolute() and f.is_file())]
    names = {f.name for f in files}
    if bad or not {"notebook.html", "results.json", "run.json", "params.yaml"} <= names:
        problems.append(f"{name}: files listed {sorted(names)[:8]}, not files from here: {bad[:3]}")
    return problems


def open_problems(root: Path, cwd: Path, rec: RunRecord) -> list[str]:
    """`amd open ID` off a terminal: the notebook page's absolute path (a failed run: exit 2)."""
    done = _amd(root, cwd, "open", rec.run_id)
    if rec.status != "ok":
        ok = done.returncode == 2 and done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
        return [] if ok else [f"amd open {rec.run_id} (failed run): exit {done.returncode}, {done.stderr.strip()[:200]!r}"]
    page = Path(done.stdout.strip())
    if done.returncode != 0 or done.stdout != f"{rec.path / 'notebook.html'}\n" or not page.is_file():
        return [f"amd open {rec.run_id}: exit {done.returncode}, printed {done.stdout.strip()[:200]!r}"]
    return []


def bad_ref_problems(root: Path, cwd: Path) -> list[str]:
    """Unknown or malformed run ids: nothing on stdout, one line on stderr, exit 2."""
    problems = []
    for args in BAD_REFS:
        done = _amd(root, cwd, *args)
        lines = done.stderr.strip().splitlines()
        if done.returncode != 2 or done.stdout or len(lines) != 1 or not lines[0].startswith("amd: error: "):
            problems.append(f"amd {' '.join(args)}: exit {done.returncode}, stdout {done.stdout[:80]!r}, "
                            f"stderr {done.stderr.strip()[:200]!r} (expected one line and exit 2)")
    return problems


def shell_problems(root: Path, jobs: int = 4) -> tuple[int, list[str]]:
    """Every check above on every run under ``root``: (commands run, problems found)."""
    from amdlib.experiments import available

    by_exp = {name: catalog.experiment_runs(root, name) for name in available()}
    by_exp = {name: recs for name, recs in by_exp.items() if recs}
    records = [r for recs in by_exp.values() for r in recs]
    with tempfile.TemporaryDirectory(prefix="amd-elsewhere-") as elsewhere:
        cwd = Path(elsewhere)
        tasks = [lambda: bad_ref_problems(root, cwd)]
        tasks += [lambda e=e, r=r: runs_problems(root, cwd, e, r) for e, r in by_exp.items()]
        tasks += [lambda r=r: show_problems(root, cwd, r) + open_problems(root, cwd, r) for r in records]
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            found = [p for ps in pool.map(lambda task: task(), tasks) for p in ps]
        everything = _amd(root, cwd, "runs")
    titles = [f"{e}: {len(r)} run(s) in {root / e}" for e, r in by_exp.items()]
    if everything.returncode != 0 or [ln for ln in everything.stdout.splitlines() if ln in titles] != titles:
        found.append(f"amd runs: exit {everything.returncode}; expected one table per experiment with runs: {titles}")
    if not records:
        found.append(f"no runs under {root}: nothing to show or open")
    return len(BAD_REFS) + len(by_exp) + 2 * len(records) + 1, found
