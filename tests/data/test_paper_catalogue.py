"""The paper transcriptions and the catalogue, checked against the papers.

The paper texts live outside the repository (``/work/shared/papers``, or ``$AMDLIB_PAPERS``).
What the checks need from them is extracted mechanically into ``paper_tables.json`` beside this
file: LLMMech's markdown tables cell by cell, the table and figure labels each text mentions, and
the decimals the AMD-LLM summary prints, with each text's SHA-256. Where the texts are present,
the fixture must equal a fresh extraction (so it cannot drift from the papers); everywhere, the
CSVs and the catalogue are checked against the fixture. Refresh it with
``python tests/data/test_paper_catalogue.py`` after a change of the paper texts.

LLMMech's text has no captions and its inline math (n, K) is blank, so which markdown table is
which comes from :data:`LLMMECH_TABLES`; the catalogue's caveats say how each n was identified.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable

import pytest
import yaml

from amdlib.core import paperdata
from amdlib.core.paperdata import PaperRow

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).with_name("paper_tables.json")
PAPER_FILES = {"llmmech": "001_179781a8fbda6c63.txt", "amd-llm": "000_d70a431b504dc587.txt"}

#: LLMMech's markdown tables in order of appearance: (label, n, panel). A panel is "" for a
#: one-panel table, else "in-distribution" (baselines trained on the test distribution) or "ood"
#: (baselines trained on uniform peaks).
LLMMECH_TABLES: list[tuple[str, int | None, str]] = [
    ("Table 1", 5, ""), ("Table 1", 10, ""), ("Table 2", 5, ""), ("Table 3", 5, ""), ("Table 3", 10, ""),
    ("Table 4", 10, ""), ("Table S5", None, ""), ("Table S6", 5, ""), ("Table S7", 5, ""), ("Table S8", 10, ""),
    ("Table S9", 25, ""),
    ("Table S10", 5, "in-distribution"), ("Table S10", 5, "ood"), ("Table S11", 10, "in-distribution"),
    ("Table S11", 10, "ood"), ("Table S12", 5, "in-distribution"), ("Table S12", 5, "ood"),
    ("Table S13", 10, "in-distribution"), ("Table S13", 10, "ood"), ("Table S14", 25, "in-distribution"),
    ("Table S14", 25, "ood"), ("Table S15", 25, ""),
]
#: facility_location.csv's metric names -> LLMMech's column headers (``<metric>_regret``: the
#: number in parentheses).
FACILITY_COLUMNS = {"per": "Per.", "dict": "Dict.", "cons": "Cons.", "moulinnet": "MoulinNet", "regretnet": "RegretNet",
                    "regretnet25k": "RegretNet@25k", "llmmech": "LLMMech", "llmmech_e": "LLMMech-e", "nonsp": "NonSP"}
#: Transcriptions of LLMMech's tables, and of AMD-LLM's printed numbers.
LLMMECH_CSVS = ("facility_location.csv", "generalization.csv")
AMD_LLM_CSVS = ("redistribution.csv", "correlated_revenue.csv")
#: Not a paper's numbers: analytic values from the literature (Manelli and Vincent 2006).
NOT_PAPER_CSVS = {"multi_item.csv": "literature values of the multi-item experiment, from neither paper"}
#: A word of the AMD-LLM summary's sentence that prints each transcribed metric.
AMD_LLM_KEYWORDS = {"prior manual method": "prior", "AMD-LLM": "redistribution", "RegretNet": "RegretNet",
                    "NNA-AMD-LLM": "NNA-AMD-LLM", "AMD-LLM revenue": "payment"}
#: Sweep files the catalogue names that do not exist yet (to be written with the `amd paper` work);
#: remove a name here once its file exists.
PENDING_SWEEPS: set[str] = set()

_SEPARATOR = re.compile(r"^\|(\s*-+\s*\|)+\s*$")
_CELL = re.compile(r"^(\d+\.\d+)(?:\s*\((\d+\.\d+)\))?$")
_MENTION = re.compile(r"\b(Table|Figure)s?\s+(S?\d+)((?:\s*(?:,|and)\s*S?\d+)*)", re.IGNORECASE)
_DECIMAL = re.compile(r"(?<![\d.])0\.\d{4}(?![\d.])")


# ------------------------------------------------------------------ extraction from the texts
def papers_dir() -> Path | None:
    """The folder with the paper texts, or None where they are not available (CI). ``$AMDLIB_PAPERS``,
    when set, is the only place looked at (set it to an empty folder to run as CI does)."""
    if "AMDLIB_PAPERS" in os.environ:
        candidates = [Path(os.environ["AMDLIB_PAPERS"])]
    else:
        candidates = [REPO.parent / "shared" / "papers", REPO / "shared" / "papers"]
    return next((c for c in candidates if all((c / f).is_file() for f in PAPER_FILES.values())), None)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("|")][1:-1]


def markdown_tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """(non-empty header cells, row cells) of each markdown table; a table starts at a line
    followed by a ``|---|`` separator (the text's tables follow each other without blank lines)."""
    lines = text.splitlines()

    def header(k: int) -> bool:
        return lines[k].startswith("|") and k + 1 < len(lines) and bool(_SEPARATOR.match(lines[k + 1]))

    out, i = [], 0
    while i < len(lines):
        if header(i):
            j, rows = i + 2, []
            while j < len(lines) and lines[j].startswith("|") and not header(j):
                rows.append(_cells(lines[j]))
                j += 1
            out.append(([c for c in _cells(lines[i]) if c], rows))
            i = j
        else:
            i += 1
    return out


def mentions(text: str) -> list[str]:
    """Every table and figure label the text names, lists included ("Tables S6, S8, S9")."""
    found = set()
    for m in _MENTION.finditer(text):
        kind = m.group(1).capitalize()
        for num in [m.group(2)] + re.findall(r"S?\d+", m.group(3)):
            found.add(f"{kind} {num.upper()}")
    return sorted(found)


def build_fixture(texts: dict[str, str]) -> dict[str, Any]:
    """What the checks need from the paper texts (the content of ``paper_tables.json``)."""
    tables = markdown_tables(texts["llmmech"])
    assert len(tables) == len(LLMMECH_TABLES), \
        f"LLMMech has {len(tables)} markdown tables, LLMMECH_TABLES lists {len(LLMMECH_TABLES)}"
    return {
        "llmmech": {
            "file": PAPER_FILES["llmmech"], "sha256": hashlib.sha256(texts["llmmech"].encode()).hexdigest(),
            "mentions": mentions(texts["llmmech"]),
            "tables": [{"label": label, "n": n, "panel": panel, "columns": header, "rows": rows}
                       for (label, n, panel), (header, rows) in zip(LLMMECH_TABLES, tables)],
        },
        "amd-llm": {
            "file": PAPER_FILES["amd-llm"], "sha256": hashlib.sha256(texts["amd-llm"].encode()).hexdigest(),
            "mentions": mentions(texts["amd-llm"]),
            "numbers": sorted(set(_DECIMAL.findall(texts["amd-llm"]))),
        },
    }


def read_texts(folder: Path) -> dict[str, str]:
    return {key: (folder / name).read_text(encoding="utf-8") for key, name in PAPER_FILES.items()}


def load_fixture() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def dump_fixture(fixture: dict[str, Any]) -> str:
    """JSON with one table row per line (small diffs when a table changes)."""
    text = json.dumps(fixture, indent=1, ensure_ascii=True)
    # collapse each innermost list (a row, a header, a mention list) onto one line
    return re.sub(r"\[\n\s*([^\[\]{}]*?)\n\s*\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"


# ------------------------------------------------------------------ the checks (pure functions)
Cell = tuple[str, "int | None", str, str, str, str]  # label, n, panel, distribution, K, column


def cell_index(fixture: dict[str, Any]) -> dict[Cell, tuple[str, str | None]]:
    """(label, n, panel, distribution, K, column) -> (printed value, printed regret or None)."""
    out: dict[Cell, tuple[str, str | None]] = {}
    for t in fixture["llmmech"]["tables"]:
        if t["label"] == "Table S5":
            continue
        for row in t["rows"]:
            dist, k, values = row[0], row[1], row[2:]
            assert len(values) == len(t["columns"]), (t["label"], row)
            for col, text in zip(t["columns"], values):
                m = _CELL.match(text)
                assert m, f"{t['label']}: cell {text!r} is not 'value' or 'value (regret)'"
                out[(t["label"], t["n"], t["panel"], dist, k, col)] = (m.group(1), m.group(2))
    return out


def _panels(fixture: dict[str, Any], label: str, n: int) -> set[str]:
    return {t["panel"] for t in fixture["llmmech"]["tables"] if t["label"] == label and t["n"] == n}


def locate(csv_name: str, row: PaperRow, fixture: dict[str, Any]) -> tuple[Cell, int] | str:
    """The paper cell a transcribed row claims and which of its numbers (0: value, 1: regret),
    or a problem. Each CSV has its own conventions (see the module docstring of each reader)."""
    label = row.label
    n_m, k_m = re.search(r"\bn=(\d+)\b", row.setting), re.search(r"\bK=(\d+)\b", row.setting)
    dist_m = re.search(r"\b(uniform|normal|beta1|beta2)\b", row.setting)
    if not (n_m and k_m and dist_m):
        return f"setting {row.setting!r} does not name n, K and a distribution"
    n, k, dist = int(n_m.group(1)), k_m.group(1), dist_m.group(1)
    panels = _panels(fixture, label, n)
    if not panels:
        return f"{label} has no n = {n} table in the paper"
    weighted = label in ("Table 1", "Table 3", "Table S10", "Table S11")
    if csv_name == "facility_location.csv":
        if ("weights=fixed" in row.setting) != weighted or ("weights=none" in row.setting) == weighted:
            return f"setting {row.setting!r}: {label} is {'weighted' if weighted else 'unweighted'}"
        metric, part = (row.metric[:-len("_regret")], 1) if row.metric.endswith("_regret") else (row.metric, 0)
        if metric not in FACILITY_COLUMNS:
            return f"metric {row.metric!r} is not a column of facility_location.csv's convention"
        column = FACILITY_COLUMNS[metric]
    else:
        if ("fixed weights" in row.setting) != weighted or ("unweighted" in row.setting) == weighted:
            return f"setting {row.setting!r}: {label} is {'weighted' if weighted else 'unweighted'}"
        column, part = row.metric.replace(" (smaller n)", " ()"), 0
    panel = "" if panels == {""} else ("ood" if "tested OOD" in row.note else "in-distribution")
    return (label, n, panel, dist, k, column), part


def check_llmmech(rows_by_csv: dict[str, Iterable[PaperRow]], fixture: dict[str, Any]) -> list[str]:
    """Problems of the LLMMech transcriptions: a number not printed in the paper's cell it claims,
    a regret (in parentheses in the paper) missing or wrong, and a printed cell of a transcribed
    table panel that no row holds."""
    cells = cell_index(fixture)
    problems: list[str] = []
    covered: set[tuple[Cell, int]] = set()
    for csv_name, rows in rows_by_csv.items():
        for row in rows:
            where = f"{csv_name}: {row.table} | {row.setting} | {row.metric}"
            found = locate(csv_name, row, fixture)
            if isinstance(found, str):
                problems.append(f"{where}: {found}")
                continue
            key, part = found
            if key not in cells:
                problems.append(f"{where}: the paper has no such cell {key}")
                continue
            printed = cells[key][part]
            if printed is None:
                problems.append(f"{where}: the paper prints no regret in {key}")
            elif float(printed) != row.value:
                problems.append(f"{where}: {row.value} but the paper prints {printed} in {key}")
            covered.add((key, part))
            if csv_name == "generalization.csv":  # this file keeps the printed regret in the note
                noted = re.search(r"\bregret (\d+\.\d+)", row.note)
                if (noted.group(1) if noted else None) != cells[key][1]:
                    problems.append(f"{where}: note says regret {noted and noted.group(1)}, "
                                    f"the paper prints {cells[key][1]}")
                elif noted:
                    covered.add((key, 1))
    transcribed = {key[:3] for key, _ in covered}
    for key, (value, regret) in cells.items():
        if key[:3] not in transcribed:
            continue
        for part, printed in ((0, value), (1, regret)):
            if printed is not None and (key, part) not in covered:
                problems.append(f"not transcribed: {key} {'regret' if part else 'value'} {printed}")
    return problems


def transcribed_panels(rows_by_csv: dict[str, Iterable[PaperRow]], fixture: dict[str, Any]) -> set[tuple[str, Any, str]]:
    """(label, n, panel) of every paper table panel a transcription holds."""
    out = set()
    for csv_name, rows in rows_by_csv.items():
        for row in rows:
            found = locate(csv_name, row, fixture)
            if not isinstance(found, str):
                out.add(found[0][:3])
    return out


def check_amd_llm(rows_by_csv: dict[str, Iterable[PaperRow]], fixture: dict[str, Any]) -> list[str]:
    """Problems of the AMD-LLM transcriptions: a number the summary does not print, a printed
    decimal no row holds."""
    printed = set(fixture["amd-llm"]["numbers"])
    problems, seen = [], set()
    for csv_name, rows in rows_by_csv.items():
        for row in rows:
            text = next((p for p in printed if float(p) == row.value), None)
            if text is None:
                problems.append(f"{csv_name}: {row.metric} = {row.value} is not printed in the AMD-LLM summary")
            seen.add(text)
    problems += [f"AMD-LLM prints {p}, which no transcription holds" for p in sorted(printed - seen)]
    return problems


def check_mentions(catalogue: paperdata.Catalogue, fixture: dict[str, Any]) -> list[str]:
    """Problems: a table or figure the paper names (or a table in its text) with no catalogue
    item, and a catalogued table or figure the paper does not have."""
    problems = []
    for paper in ("llmmech", "amd-llm"):
        named = set(fixture[paper]["mentions"])
        if paper == "llmmech":
            named |= {t["label"] for t in fixture[paper]["tables"]}
        labels = {i.label for i in catalogue.of_paper(paper)}
        problems += [f"{paper}: {lab} has no catalogue item" for lab in sorted(named - labels)]
        extra = {i.label for i in catalogue.of_paper(paper) if i.kind in ("table", "figure")} - named
        problems += [f"{paper}: catalogue item {lab} is not a table or figure of the paper" for lab in sorted(extra)]
    return problems


def _paper_rows(names: Iterable[str]) -> dict[str, tuple[PaperRow, ...]]:
    return {name: paperdata.rows(name) for name in names}


# ------------------------------------------------------------------ tests
@pytest.fixture(scope="module")
def fixture() -> dict[str, Any]:
    return load_fixture()


@pytest.fixture(scope="module")
def catalogue() -> paperdata.Catalogue:
    return paperdata.catalogue()


def test_fixture_is_what_the_paper_texts_hold(fixture):
    folder = papers_dir()
    if folder is None:
        pytest.skip("paper texts not available (set AMDLIB_PAPERS); the CSVs are still checked against paper_tables.json")
    fresh = build_fixture(read_texts(folder))
    for paper in fresh:  # the hash only records provenance: a re-extracted text with the same tables passes
        fresh[paper].pop("sha256")
    stored = copy.deepcopy(fixture)
    for paper in stored:
        stored[paper].pop("sha256")
    assert fresh == stored, "paper_tables.json differs from the paper texts: run python tests/data/test_paper_catalogue.py"


def test_amd_llm_numbers_sit_in_the_sentences_that_name_them():
    folder = papers_dir()
    if folder is None:
        pytest.skip("paper texts not available (set AMDLIB_PAPERS)")
    text = read_texts(folder)["amd-llm"]
    sentences = re.split(r"(?<=[.!?])\s+|\n", text)
    for name in AMD_LLM_CSVS:
        for row in paperdata.rows(name):
            shown = f"{row.value:.4f}"
            holding = [s for s in sentences if shown in s]
            assert holding, f"{name}: {row.metric} {shown} is not in the summary"
            assert any(AMD_LLM_KEYWORDS[row.metric] in s for s in holding), \
                f"{name}: {shown} is printed, but not in a sentence about {row.metric!r}"


def test_llmmech_transcriptions_match_the_paper(fixture):
    assert check_llmmech(_paper_rows(LLMMECH_CSVS), fixture) == []


def test_amd_llm_transcriptions_match_the_summary(fixture):
    assert check_amd_llm(_paper_rows(AMD_LLM_CSVS), fixture) == []


def test_every_transcription_is_checked():
    assert set(paperdata.csv_names()) == set(LLMMECH_CSVS) | set(AMD_LLM_CSVS) | set(NOT_PAPER_CSVS)


def test_every_numeric_llmmech_table_is_transcribed(fixture):
    """Every table panel of numbers is in a CSV, except those printed twice (S10, S11's first panels are Table 3's)."""
    have = transcribed_panels(_paper_rows(LLMMECH_CSVS), fixture)
    cells = cell_index(fixture)
    repeats = {("Table S10", 5, "in-distribution"): ("Table 3", 5, ""),
               ("Table S11", 10, "in-distribution"): ("Table 3", 10, "")}
    for t in fixture["llmmech"]["tables"]:
        key = (t["label"], t["n"], t["panel"])
        if t["label"] == "Table S5" or key in have:
            continue
        assert key in repeats, f"{key} is not transcribed"
        same = {c[3:]: v for c, v in cells.items() if c[:3] == repeats[key]}
        assert {c[3:]: v for c, v in cells.items() if c[:3] == key} == same, f"{key} is not a repeat of {repeats[key]}"


@pytest.mark.parametrize("damage", ["value", "regret", "drop", "move", "panel", "table"])
def test_the_check_catches_a_damaged_transcription(fixture, damage):
    rows = {name: list(paperdata.rows(name)) for name in LLMMECH_CSVS}
    fl, gen = rows["facility_location.csv"], rows["generalization.csv"]
    if damage == "value":  # one digit off
        i = next(i for i, r in enumerate(fl) if r.table == "Table S9" and r.metric == "llmmech_e")
        fl[i] = PaperRow(fl[i].table, fl[i].setting, fl[i].metric, fl[i].value + 0.00001, fl[i].note)
    elif damage == "regret":  # a regret kept in generalization.csv's note
        i = next(i for i, r in enumerate(gen) if "regret 0.00021" in r.note)
        gen[i] = dataclasses.replace(gen[i], note=gen[i].note.replace("0.00021", "0.00012"))
    elif damage == "drop":
        del fl[next(i for i, r in enumerate(fl) if r.table == "Table 2" and r.metric == "regretnet25k_regret")]
    elif damage == "move":  # the right number in the wrong row
        i = next(i for i, r in enumerate(fl) if r.table == "Table 1" and r.setting == "n=5 K=2 beta1 weights=fixed")
        fl[i] = PaperRow(fl[i].table, fl[i].setting.replace("K=2", "K=3"), fl[i].metric, fl[i].value, fl[i].note)
    elif damage == "panel":  # an OOD-panel number put in the in-distribution panel
        i = next(i for i, r in enumerate(gen) if r.table == "S12" and r.metric == "Per. (OOD)")
        gen[i] = PaperRow(gen[i].table, gen[i].setting, "Per.", gen[i].value, "baselines in distribution")
    else:  # the right number under another table
        i = next(i for i, r in enumerate(fl) if r.table == "Table S8")
        fl[i] = PaperRow("Table S6", fl[i].setting, fl[i].metric, fl[i].value, fl[i].note)
    assert check_llmmech(rows, fixture) != []


def test_the_amd_llm_check_catches_a_wrong_number(fixture):
    rows = {name: list(paperdata.rows(name)) for name in AMD_LLM_CSVS}
    r = rows["redistribution.csv"][0]
    rows["redistribution.csv"][0] = PaperRow(r.table, r.setting, r.metric, 0.4953, r.note)
    problems = check_amd_llm(rows, fixture)
    assert any("0.4953" in p for p in problems) and any("0.4935" in p for p in problems)


def test_every_table_and_figure_the_papers_name_is_catalogued(catalogue, fixture):
    assert check_mentions(catalogue, fixture) == []


def test_the_mention_check_catches_a_missing_item(catalogue, fixture):
    broken = copy.deepcopy(fixture)
    broken["llmmech"]["mentions"].append("Figure S11")
    assert check_mentions(catalogue, broken) == ["llmmech: Figure S11 has no catalogue item"]
    fewer = paperdata.Catalogue(catalogue.papers, tuple(i for i in catalogue.items if i.label != "Table S7"))
    assert check_mentions(fewer, fixture) == ["llmmech: Table S7 has no catalogue item"]


def test_mentions_read_lists_of_labels():
    text = "see Tables S6, S8, S9 and Figure 1; Tables S10 and S11; [table 1]"
    assert mentions(text) == ["Figure 1", "Table 1", "Table S10", "Table S11", "Table S6", "Table S8", "Table S9"]


def test_items_have_what_the_report_needs(catalogue):
    assert set(catalogue.papers) == {"llmmech", "amd-llm"}
    for item in catalogue.items:
        assert item.shows and item.source and item.label and item.setting, item.id
        if item.experiment is not None:
            assert (REPO / "params" / item.experiment).is_dir(), f"{item.id}: no experiment {item.experiment!r}"
        if item.recoverable:
            assert item.experiment, item.id
            assert item.numbers or item.why_no_numbers, item.id
            assert item.sweeps or item.why_no_sweeps, item.id
        else:
            assert item.instead and len(item.instead) > 40, item.id
        for ref in item.numbers:
            assert ref.rows(), f"{item.id}: no rows of {ref}"
        if item.kind == "table" and item.paper == "llmmech" and item.label != "Table S5":
            assert item.recoverable and item.numbers, item.id


def test_every_transcribed_table_belongs_to_an_item(catalogue):
    referenced = {(ref.csv, paperdata.table_label(ref.table)) for i in catalogue.items for ref in i.numbers}
    for name in set(LLMMECH_CSVS) | set(AMD_LLM_CSVS):
        for row in paperdata.rows(name):
            assert (name, row.label) in referenced, f"{name}: {row.label} is in no catalogue item's numbers"


def test_llmmech_tables_point_at_their_own_numbers(catalogue):
    for item in catalogue.of_paper("llmmech"):
        if item.kind == "table" and item.numbers:
            assert item.label in {paperdata.table_label(r.table) for r in item.numbers}, item.id


def test_sweep_files_exist_and_belong_to_the_item(catalogue):
    named = {p for i in catalogue.items for p in i.sweeps + i.full_sweeps}
    for item in catalogue.items:
        for path in item.sweeps + item.full_sweeps:
            file = REPO / path
            if path in PENDING_SWEEPS:
                assert not file.exists(), f"{path} exists now: remove it from PENDING_SWEEPS"
                continue
            assert file.is_file(), f"{item.id}: sweep {path} does not exist"
            assert yaml.safe_load(file.read_text())["experiment"] == item.experiment, f"{item.id}: {path}"
    assert PENDING_SWEEPS <= named, f"PENDING_SWEEPS names files no item uses: {sorted(PENDING_SWEEPS - named)}"


def test_table_s5_weights_are_the_packages(fixture):
    from amdlib.problems.facility.data import TABLE_S5

    table = next(t for t in fixture["llmmech"]["tables"] if t["label"] == "Table S5")
    assert [int(r[0]) for r in table["rows"]] == list(range(1, 11))
    assert tuple(tuple(map(int, r[1].split())) for r in table["rows"]) == TABLE_S5[5]
    assert tuple(tuple(map(int, r[2].split())) for r in table["rows"]) == TABLE_S5[10]


if __name__ == "__main__":  # refresh the fixture from the paper texts
    folder = papers_dir()
    if folder is None:
        sys.exit("paper texts not found: set AMDLIB_PAPERS to the folder holding " + ", ".join(PAPER_FILES.values()))
    FIXTURE.write_text(dump_fixture(build_fixture(read_texts(folder))), encoding="utf-8")
    print(f"wrote {FIXTURE}")
