"""The paper-data reader: transcriptions, the catalogue, and its refusals."""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

import pytest
import yaml

from amdlib.core import paperdata
from amdlib.core.paperdata import PaperRow, index, parse_catalogue, parse_rows, rows, table_label, values
from amdlib.errors import UserError

REPO = Path(__file__).resolve().parents[2]
HEADER = "table,setting,metric,value,note\n"


def test_rows_are_typed_and_filtered_by_label():
    all_rows = rows("generalization")
    assert all_rows == rows("generalization.csv") and all(isinstance(r, PaperRow) for r in all_rows)
    assert all(isinstance(r.value, float) for r in all_rows)
    t3 = rows("generalization", table="Table 3")
    assert t3 == rows("generalization", table="3") and t3 and {r.label for r in t3} == {"Table 3"}
    one = rows("facility_location", table="Table S9", setting="n=25 K=5 beta2 weights=none")
    assert {r.metric: r.value for r in one}["nonsp"] == 0.01041


def test_values_index_the_rows():
    v = values("generalization")
    assert v[("S14", "n=25 unweighted beta2 K=5", "NonSP")] == 0.01041
    assert values("facility_location", table="Table 1")[("Table 1", "n=5 K=1 uniform weights=fixed", "per")] == 0.20283


def test_index_keeps_equal_repeats_and_refuses_conflicts():
    a = PaperRow("S12", "n=5 unweighted normal K=1", "NonSP", 0.09444, "first panel")
    repeated = [a, dataclasses.replace(a, note="second panel")]
    assert index(repeated) == {("S12", "n=5 unweighted normal K=1", "NonSP"): 0.09444}
    with pytest.raises(UserError, match="twice with different values"):
        index([a, dataclasses.replace(a, value=0.09445)])


@pytest.mark.parametrize("table, label", [("3", "Table 3"), ("S10", "Table S10"), ("Table 1", "Table 1"), ("text", "text"),
                                          (" S7 ", "Table S7"), ("literature", "literature")])
def test_table_label(table, label):
    assert table_label(table) == label


def test_csv_names_and_unknown_name():
    names = paperdata.csv_names()
    assert names == tuple(sorted(names)) and all(n.endswith(".csv") for n in names)
    with pytest.raises(UserError, match="no paper transcription 'nope.csv': the package has") as err:
        rows("nope")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text, message", [
    ("table,setting,metric,value\nT,s,m,1\n", "header must be"),
    (HEADER + "T,s,m,abc,\n", "line 2: value 'abc' is not a number"),
    (HEADER + "T,s,m\n", "expected 5 columns"),
    (HEADER + "T,s,m,1,n,extra\n", "expected 5 columns"),
    (HEADER + "T,,m,1,n\n", "must not be empty"),
])
def test_parse_rows_refuses_malformed_files(text, message):
    with pytest.raises(UserError, match=message):
        parse_rows(text, "x.csv")


def test_parse_rows_reads_quoted_notes():
    (row,) = parse_rows(HEADER + 'Table 1,"n=5, K=1",per,0.5,"a, b"\n', "x.csv")
    assert row == PaperRow("Table 1", "n=5, K=1", "per", 0.5, "a, b")


def test_catalogue_lookups():
    cat = paperdata.catalogue()
    assert cat is paperdata.catalogue()  # parsed once
    item = cat.item("llmmech/table-1")
    assert (item.label, item.kind, item.experiment, item.recoverable) == ("Table 1", "table", "facility_location", True)
    assert item.paper_rows() and all(r.label == "Table 1" for r in item.paper_rows())
    assert set(cat.ids()) == {i.id for i in cat.of_paper("llmmech")} | {i.id for i in cat.of_paper("amd-llm")}
    assert cat.item("llmmech/figure-s4").experiment is None
    assert {i.id for i in cat.of_experiment("virtual_valuation")} == {"amd-llm/myerson", "amd-llm/reserve-price"}
    assert cat.papers["llmmech"].arxiv == "2503.09533" and cat.papers["amd-llm"].short == "AMD-LLM"


def test_numbers_can_select_metrics():
    nna = paperdata.catalogue().item("amd-llm/nna")
    assert {r.metric for r in nna.paper_rows()} == {"RegretNet", "NNA-AMD-LLM"}


@pytest.mark.parametrize("asked, hint", [("llmmech/tabel-1", "llmmech/table-1"), ("table-s9", "llmmech/table-s9"),
                                         ("amd-llm/myerso", "amd-llm/myerson")])
def test_unknown_item_is_one_line_naming_close_ids(asked, hint):
    with pytest.raises(UserError) as err:
        paperdata.catalogue().item(asked)
    assert hint in str(err.value) and repr(asked) in str(err.value) and "\n" not in str(err.value)
    assert err.value.exit_code == 2


def test_catalogue_objects_are_read_only():
    item = paperdata.catalogue().items[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.label = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        item.setting["n"] = 3  # type: ignore[index]


def _minimal() -> dict:
    return {
        "papers": {"p": {"short": "P", "title": "T", "authors": ["A"], "arxiv": "1", "url": "u", "text": "full"}},
        "items": [{"id": "p/table-1", "paper": "p", "label": "Table 1", "kind": "table", "shows": "s",
                   "experiment": "e", "setting": {"n": 5}, "recoverable": True,
                   "numbers": [{"csv": "x.csv", "table": "Table 1"}], "sweeps": ["params/e/sweep.yaml"], "source": "s"}],
    }


def _parse(doc: dict) -> paperdata.Catalogue:
    return parse_catalogue(yaml.safe_dump(doc), "c.yaml", known_csvs=["x.csv"])


def test_a_minimal_catalogue_parses():
    cat = _parse(_minimal())
    assert cat.ids() == ("p/table-1",) and cat.items[0].numbers[0].csv == "x.csv"


def _set(path: str, value):
    def change(doc: dict) -> None:
        *keys, last = path.split(".")
        target = doc["items"][0]
        for k in keys:
            target = target[k]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_set("shows", KeyError), "missing shows"),
    (_set("colour", "red"), "unknown keys colour"),
    (_set("kind", "chart"), "kind 'chart' is not one of"),
    (_set("id", "q/table-1"), "the id must be lower-case 'p/<name>'"),
    (_set("id", "p/Table-1"), "the id must be lower-case"),
    (_set("paper", "q"), "paper 'q' is not one of"),
    (_set("recoverable", "yes"), "'recoverable' must be true or false"),
    (_set("recoverable", False), "'instead' must say what the package shows"),
    (_set("sweeps", []), "needs 'sweeps'"),
    (_set("numbers", []), "'why_no_numbers' must say why"),
    (_set("numbers", [{"csv": "y.csv", "table": "Table 1"}]), "numbers name 'y.csv'"),
    (_set("numbers", [{"file": "x.csv"}]), "each 'numbers' entry has csv, table"),
    (_set("sweeps", ["params/other/sweep.yaml"]), "belongs to another experiment"),
    (_set("sweeps", ["sweep.yaml"]), "is not a path params/<experiment>/<file>.yaml"),
    (_set("experiment", None), "no experiment reruns cannot be recoverable"),
    (_set("setting", [1]), "'setting' must be a mapping"),
    (_set("shows", ""), "'shows' must be a non-empty string"),
])
def test_parse_catalogue_refuses_a_bad_item(change, message):
    doc = _minimal()
    change(doc)
    with pytest.raises(UserError, match=message) as err:
        _parse(doc)
    assert str(err.value).startswith("c.yaml") and "\n" not in str(err.value)


def test_parse_catalogue_refuses_a_bad_file():
    doc = _minimal()
    doc["items"].append(dict(doc["items"][0]))
    with pytest.raises(UserError, match="'p/table-1' appears twice"):
        _parse(doc)
    with pytest.raises(UserError, match="exactly 'papers' and 'items'"):
        _parse({**_minimal(), "extra": 1})
    with pytest.raises(UserError, match="not valid YAML"):
        parse_catalogue("items: [", "c.yaml", known_csvs=[])
    bad_paper = _minimal()
    del bad_paper["papers"]["p"]["url"]
    with pytest.raises(UserError, match="paper p: needs exactly"):
        _parse(bad_paper)


def test_packaged_numbers_refs_must_have_rows():
    doc = _minimal()
    doc["items"][0]["numbers"] = [{"csv": "facility_location.csv", "table": "Table S99"}]
    doc["items"][0]["sweeps"] = ["params/e/sweep.yaml"]
    with pytest.raises(UserError, match="has no rows of table 'Table S99'"):
        parse_catalogue(yaml.safe_dump(doc), "c.yaml")


def test_the_reader_sits_in_core_and_names_no_experiment():
    source = (REPO / "amdlib" / "core" / "paperdata.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] if not a.name.startswith("amdlib") else a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module if node.module.startswith("amdlib") else node.module.split(".")[0])
    outside = {m for m in imported if m not in sys.stdlib_module_names and m not in ("yaml", "numpy", "amdlib.errors")}
    assert outside == set(), f"paperdata imports {outside}"
    experiments = [p.name for p in (REPO / "params").iterdir() if p.is_dir()]
    assert experiments and not [e for e in experiments if e in source]
