"""`amd bench`'s table: aligned columns, every missed target explained, exit 1 only with --strict."""

from __future__ import annotations

import types

import pytest

from amdlib.benchmarks import Figure
from amdlib.benchmarks import table as benchtable

FIGURES = [Figure("a short name", 12.5, "ms", "<= 20"),
           Figure("a much longer figure name than the others, with commas, and more words", 3.25, "s", "<= 1", "n=10, K=4"),
           Figure("throughput", 1234.5, "candidates/s", ">= 100"),
           Figure("no target", 0.5, "ratio")]


@pytest.fixture
def fake_modules(monkeypatch):
    mods = {"sandbox": types.SimpleNamespace(run=lambda quick: FIGURES[:2]),
            "search": types.SimpleNamespace(run=lambda quick: FIGURES[2:])}
    monkeypatch.setattr(benchtable, "load", mods.get)
    return mods


@pytest.mark.parametrize("strict,status", [(False, 0), (True, 1)])
def test_misses_are_explained_and_fail_only_when_strict(fake_modules, strict, status):
    lines: list[str] = []
    assert benchtable.run_benchmarks(["sandbox", "search"], quick=True, echo=lines.append, strict=strict) == status
    table = lines[:5]
    assert [ln.split()[0] for ln in table] == ["module", "sandbox", "sandbox", "search", "search"]
    col = table[0].index("verdict")  # the verdict column lines up whatever the figure's name
    assert [ln[col:col + 7].strip() for ln in table[1:]] == ["met", "MISSED", "met", "-"]
    assert {ln.index(name) for ln, name in zip(table, ["figure", *(f.name for f in FIGURES)])} == {col + 9}
    assert table[2].endswith("a much longer figure name than the others, with commas, and more words  (n=10, K=4)")
    assert lines[5] == "1 target(s) missed:"
    assert lines[6].startswith("  - sandbox: a much longer figure name") and "measured 3.25 s, target <= 1 s (lower is better)" in lines[6]
    assert "n=10, K=4" in lines[6] and "load" in lines[6]
    assert ("--strict" in lines[7]) and (lines[7].startswith("exit status 1") == strict)


def test_all_met_says_so(monkeypatch):
    monkeypatch.setattr(benchtable, "load", lambda name: types.SimpleNamespace(run=lambda quick: [FIGURES[0]]))
    lines: list[str] = []
    assert benchtable.run_benchmarks(["sandbox"], quick=True, echo=lines.append, strict=True) == 0
    assert lines[-1] == "every target met"
