"""The papers' data: transcribed numbers and the catalogue of paper items (``amdlib/data/paper``).

This is the package's one reader of that folder.

- :func:`rows` reads a transcription ``<name>.csv`` (columns ``table,setting,metric,value,note``).
  Every value in these files is a number the paper printed; nothing derived is transcribed.
  The ``table`` column is written as the file's own convention has it (``Table 1``, ``3``,
  ``S10``, ``text``); :func:`table_label` turns it into the paper's label.
- :func:`catalogue` reads ``catalogue.yaml``: the two papers and every numbered table and
  figure of LLMMech and every result the AMD-LLM summary states, each with what it shows, the
  experiment and sweep files that rerun it, where its printed numbers are, and, when it cannot
  be rerun as printed, what the package shows instead.

Both are parsed once per process and returned as immutable objects. Malformed data raises
:class:`~amdlib.errors.UserError` with one line naming the file, the row or item and the field.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import yaml

from amdlib.errors import UserError

#: Package (``importlib.resources``) and folder of the paper data.
DATA_PACKAGE, DATA_DIR = "amdlib.data", "paper"
CATALOGUE_FILE = "catalogue.yaml"
CSV_COLUMNS = ("table", "setting", "metric", "value", "note")
KINDS = ("table", "figure", "claim")

_ID_RE = re.compile(r"^[a-z0-9-]+/[a-z0-9][a-z0-9-]*$")
_TABLE_ID_RE = re.compile(r"^S?\d+$")
#: Keys of a catalogue item: required ones, then optional ones.
_ITEM_REQUIRED = ("id", "paper", "label", "kind", "shows", "experiment", "setting", "recoverable", "numbers", "sweeps",
                  "source")
_ITEM_OPTIONAL = ("instead", "why_no_numbers", "why_no_sweeps", "full_sweeps", "caveats")
_PAPER_REQUIRED = ("short", "title", "authors", "arxiv", "url", "text")


@dataclass(frozen=True)
class PaperRow:
    """One printed number: ``value`` of ``metric`` in ``setting`` of the paper's ``table``."""

    table: str
    setting: str
    metric: str
    value: float
    note: str

    @property
    def label(self) -> str:
        """The paper's label of the row's table (``"3"`` -> ``"Table 3"``)."""
        return table_label(self.table)


@dataclass(frozen=True)
class NumbersRef:
    """Where an item's printed numbers are: the rows of ``csv`` whose ``table`` column is ``table``
    (only the listed ``metrics`` when given)."""

    csv: str
    table: str
    metrics: tuple[str, ...] = ()

    def rows(self) -> tuple[PaperRow, ...]:
        """The referenced rows of the packaged transcription."""
        found = rows(self.csv, table=self.table)
        return tuple(r for r in found if r.metric in self.metrics) if self.metrics else found


@dataclass(frozen=True)
class Paper:
    """A paper the package reproduces. ``text`` says what the package's authors had of it."""

    key: str
    short: str
    title: str
    authors: tuple[str, ...]
    arxiv: str
    url: str
    text: str


@dataclass(frozen=True)
class PaperItem:
    """One numbered table or figure of a paper, or one result its text states.

    ``experiment`` is the amdlib experiment that reruns it (``None``: the item is about the LLM
    itself). ``recoverable`` is False when the paper's setting cannot be rebuilt from the text or
    the item shows the LLM's own artefacts; ``instead`` then says what the package shows in its
    place and why. ``sweeps`` are the sweep files (paths from the repository root) that rerun it at
    the offline default budget, ``full_sweeps`` larger ones; ``numbers`` point at the printed
    numbers (empty: ``why_no_numbers`` says why). ``caveats`` record what the paper's own tables
    leave ambiguous."""

    id: str
    paper: str
    label: str
    kind: str
    shows: str
    experiment: str | None
    setting: Mapping[str, Any]
    recoverable: bool
    instead: str | None
    numbers: tuple[NumbersRef, ...]
    why_no_numbers: str | None
    sweeps: tuple[str, ...]
    why_no_sweeps: str | None
    full_sweeps: tuple[str, ...]
    source: str
    caveats: tuple[str, ...]

    def paper_rows(self) -> tuple[PaperRow, ...]:
        """All printed numbers of the item, in file order."""
        return tuple(r for ref in self.numbers for r in ref.rows())


@dataclass(frozen=True)
class Catalogue:
    """The papers and their items, in the catalogue's order."""

    papers: Mapping[str, Paper]
    items: tuple[PaperItem, ...]

    def ids(self) -> tuple[str, ...]:
        """Every item id, in order."""
        return tuple(i.id for i in self.items)

    def item(self, item_id: str) -> PaperItem:
        """The item with this id; an unknown id is a :class:`UserError` naming the closest ids."""
        for it in self.items:
            if it.id == item_id:
                return it
        ids = self.ids()
        close = difflib.get_close_matches(item_id, ids, n=3, cutoff=0.5)
        close = close or [i for i in ids if i.split("/")[-1] == item_id.split("/")[-1]][:3]
        hint = f"did you mean {', '.join(close)}?" if close else f"ids look like {ids[0]}; `amd paper` lists them"
        raise UserError(f"unknown paper item {item_id!r}: {hint}")

    def of_paper(self, paper: str) -> tuple[PaperItem, ...]:
        """The items of one paper (``llmmech`` or ``amd-llm``)."""
        return tuple(i for i in self.items if i.paper == paper)

    def of_experiment(self, experiment: str) -> tuple[PaperItem, ...]:
        """The items an experiment reruns."""
        return tuple(i for i in self.items if i.experiment == experiment)


def table_label(table: str) -> str:
    """The paper's label of a CSV ``table`` value: ``"3"`` and ``"Table 3"`` -> ``"Table 3"``,
    ``"S10"`` -> ``"Table S10"``; other values (``"text"``, ``"literature"``) are returned as they are."""
    t = table.strip()
    return f"Table {t}" if _TABLE_ID_RE.match(t) else t


def _files() -> Any:
    return resources.files(DATA_PACKAGE).joinpath(DATA_DIR)


def _csv_file(name: str) -> str:
    return name if name.endswith(".csv") else f"{name}.csv"


@lru_cache(maxsize=1)
def csv_names() -> tuple[str, ...]:
    """The transcriptions in the package, as file names (``<name>.csv``), sorted."""
    return tuple(sorted(p.name for p in _files().iterdir() if p.name.endswith(".csv")))


def parse_rows(text: str, source: str) -> tuple[PaperRow, ...]:
    """Parse a transcription's text (the reader behind :func:`rows`; ``source`` names it in errors)."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise UserError(f"{source}: the header must be {','.join(CSV_COLUMNS)}, not {','.join(reader.fieldnames or ())}")
    out = []
    for rec in reader:
        where = f"{source} line {reader.line_num}"
        if None in rec or any(rec[c] is None for c in CSV_COLUMNS):
            raise UserError(f"{where}: expected {len(CSV_COLUMNS)} columns ({','.join(CSV_COLUMNS)})")
        try:
            value = float(rec["value"])
        except ValueError:
            raise UserError(f"{where}: value {rec['value']!r} is not a number") from None
        if not (rec["table"].strip() and rec["setting"].strip() and rec["metric"].strip()):
            raise UserError(f"{where}: table, setting and metric must not be empty")
        out.append(PaperRow(rec["table"], rec["setting"], rec["metric"], value, rec["note"]))
    return tuple(out)


@lru_cache(maxsize=None)
def _all_rows(file: str) -> tuple[PaperRow, ...]:
    if file not in csv_names():
        raise UserError(f"no paper transcription {file!r}: the package has {', '.join(csv_names())}")
    return parse_rows(_files().joinpath(file).read_text(encoding="utf-8"), f"amdlib/data/paper/{file}")


def rows(name: str, *, table: str | None = None, setting: str | None = None) -> tuple[PaperRow, ...]:
    """Rows of the transcription ``name`` (with or without ``.csv``), in file order; with ``table``,
    only that table's (matched by label: ``"3"`` and ``"Table 3"`` are the same table); with
    ``setting``, only that setting's (exact text)."""
    found = _all_rows(_csv_file(name))
    if table is not None:
        want = table_label(table)
        found = tuple(r for r in found if r.label == want)
    if setting is not None:
        found = tuple(r for r in found if r.setting == setting)
    return found


def index(rows_: Iterable[PaperRow]) -> dict[tuple[str, str, str], float]:
    """``(table, setting, metric) -> value``. A cell the paper prints twice (the same learned
    column in two panels of one table) may be transcribed twice with the same value; two
    different values for one key are a :class:`UserError`."""
    out: dict[tuple[str, str, str], float] = {}
    for r in rows_:
        key = (r.table, r.setting, r.metric)
        if key in out and out[key] != r.value:
            raise UserError(f"paper data: {key} is transcribed twice with different values ({out[key]} and {r.value})")
        out[key] = r.value
    return out


def values(name: str, *, table: str | None = None) -> dict[tuple[str, str, str], float]:
    """:func:`index` of :func:`rows`: ``(table, setting, metric) -> value`` of one transcription."""
    return index(rows(name, table=table))


def _text(raw: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str | None:
    value = raw.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{where}: '{key}' must be a non-empty string")
    return " ".join(value.split())


def _strings(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UserError(f"{where}: '{key}' must be a list of strings")
    return tuple(" ".join(v.split()) for v in value)


def _numbers(raw: Any, where: str) -> tuple[NumbersRef, ...]:
    if not isinstance(raw, list):
        raise UserError(f"{where}: 'numbers' must be a list of {{csv, table}} (empty when the paper printed none)")
    refs = []
    for ref in raw:
        if not isinstance(ref, dict) or set(ref) - {"csv", "table", "metrics"} or not {"csv", "table"} <= set(ref):
            raise UserError(f"{where}: each 'numbers' entry has csv, table and optionally metrics, not {ref!r}")
        refs.append(NumbersRef(str(ref["csv"]), str(ref["table"]), _strings(ref, "metrics", where)))
    return tuple(refs)


def _item(raw: Any, papers: Mapping[str, Paper], source: str) -> PaperItem:
    if not isinstance(raw, dict):
        raise UserError(f"{source}: each item is a mapping, not {raw!r}")
    where = f"{source} item {raw.get('id', '?')}"
    missing = [k for k in _ITEM_REQUIRED if k not in raw]
    unknown = sorted(set(raw) - set(_ITEM_REQUIRED) - set(_ITEM_OPTIONAL))
    if missing or unknown:
        raise UserError(f"{where}: " + "; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                                               unknown and f"unknown keys {', '.join(unknown)}"])))
    item_id, paper = _text(raw, "id", where), _text(raw, "paper", where)
    if paper not in papers:
        raise UserError(f"{where}: paper {paper!r} is not one of {', '.join(papers)}")
    if not _ID_RE.match(item_id) or not item_id.startswith(paper + "/"):
        raise UserError(f"{where}: the id must be lower-case '{paper}/<name>' (letters, digits, '-')")
    kind = _text(raw, "kind", where)
    if kind not in KINDS:
        raise UserError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    experiment = raw["experiment"]
    if experiment is not None and (not isinstance(experiment, str) or not experiment.strip()):
        raise UserError(f"{where}: 'experiment' is an experiment name or null (an item about the LLM itself)")
    if not isinstance(raw["setting"], dict):
        raise UserError(f"{where}: 'setting' must be a mapping")
    if not isinstance(raw["recoverable"], bool):
        raise UserError(f"{where}: 'recoverable' must be true or false")
    item = PaperItem(
        id=item_id, paper=paper, label=_text(raw, "label", where), kind=kind, shows=_text(raw, "shows", where),
        experiment=experiment, setting=MappingProxyType(dict(raw["setting"])), recoverable=raw["recoverable"],
        instead=_text(raw, "instead", where, optional=True), numbers=_numbers(raw["numbers"], where),
        why_no_numbers=_text(raw, "why_no_numbers", where, optional=True), sweeps=_strings(raw, "sweeps", where),
        why_no_sweeps=_text(raw, "why_no_sweeps", where, optional=True), full_sweeps=_strings(raw, "full_sweeps", where),
        source=_text(raw, "source", where), caveats=_strings(raw, "caveats", where))
    _check_item(item, where)
    return item


def _check_item(item: PaperItem, where: str) -> None:
    """The rules every item keeps (what the report and ``amd paper`` rely on)."""
    if not item.recoverable and not item.instead:
        raise UserError(f"{where}: not recoverable, so 'instead' must say what the package shows in its place and why")
    if item.experiment is None and item.recoverable:
        raise UserError(f"{where}: an item no experiment reruns cannot be recoverable")
    if not item.numbers and not item.why_no_numbers:
        raise UserError(f"{where}: 'numbers' is empty, so 'why_no_numbers' must say why")
    if item.numbers and item.why_no_numbers:
        raise UserError(f"{where}: has numbers, so drop 'why_no_numbers'")
    if item.recoverable and not item.sweeps and not item.why_no_sweeps:
        raise UserError(f"{where}: recoverable, so it needs 'sweeps' (or 'why_no_sweeps')")
    for path in item.sweeps + item.full_sweeps:
        if not re.match(r"^params/[a-z0-9_]+/[A-Za-z0-9_.-]+\.yaml$", path):
            raise UserError(f"{where}: sweep {path!r} is not a path params/<experiment>/<file>.yaml")
        if item.experiment is not None and path.split("/")[1] != item.experiment:
            raise UserError(f"{where}: sweep {path!r} belongs to another experiment than {item.experiment!r}")
    if item.sweeps and item.experiment is None:
        raise UserError(f"{where}: has sweeps but no experiment")


def parse_catalogue(text: str, source: str = CATALOGUE_FILE, known_csvs: Iterable[str] | None = None) -> Catalogue:
    """Parse and check a catalogue's YAML text (the reader behind :func:`catalogue`). Each
    ``numbers`` entry must name a transcription in ``known_csvs`` (default: the package's) and a
    table that has rows there."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{source}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(raw, dict) or set(raw) != {"papers", "items"}:
        raise UserError(f"{source}: the top level must have exactly 'papers' and 'items'")
    if not isinstance(raw["papers"], dict) or not isinstance(raw["items"], list):
        raise UserError(f"{source}: 'papers' is a mapping and 'items' a list")
    papers: dict[str, Paper] = {}
    for key, p in raw["papers"].items():
        where = f"{source} paper {key}"
        if not isinstance(p, dict) or set(p) != set(_PAPER_REQUIRED):
            raise UserError(f"{where}: needs exactly {', '.join(_PAPER_REQUIRED)}")
        papers[str(key)] = Paper(str(key), _text(p, "short", where), _text(p, "title", where),
                                 _strings(p, "authors", where), _text(p, "arxiv", where), _text(p, "url", where),
                                 _text(p, "text", where))
    items = tuple(_item(it, papers, source) for it in raw["items"])
    seen: set[str] = set()
    for it in items:
        if it.id in seen:
            raise UserError(f"{source}: item id {it.id!r} appears twice")
        seen.add(it.id)
    csvs = set(csv_names() if known_csvs is None else known_csvs)
    for it in items:
        for ref in it.numbers:
            if _csv_file(ref.csv) not in csvs:
                raise UserError(f"{source} item {it.id}: numbers name {ref.csv!r}, not one of {', '.join(sorted(csvs))}")
    if known_csvs is None:
        for it in items:
            for ref in it.numbers:
                found = ref.rows()
                if not found:
                    raise UserError(f"{source} item {it.id}: {ref.csv} has no rows of table {ref.table!r}"
                                    + (f" and metrics {', '.join(ref.metrics)}" if ref.metrics else ""))
    return Catalogue(MappingProxyType(papers), items)


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The package's catalogue of paper items (``amdlib/data/paper/catalogue.yaml``)."""
    text = _files().joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    return parse_catalogue(text, f"amdlib/data/paper/{CATALOGUE_FILE}")
