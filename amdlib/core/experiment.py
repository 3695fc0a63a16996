"""The experiment contract: declared parameters, and what the pipeline may ask of an experiment.

An experiment is a notebook plus a record (:class:`Experiment`) that says everything the
pipeline (run, sweep, estimate, report, validate, ``amd paper``) uses: its parameters (every
parameter file and ``--set`` is validated against them before any kernel starts; the notebook's
``parameters`` cell declares exactly these names with these defaults), how to make its problem,
which searches a run performs (for ``amd estimate``), its baselines, its key metrics and its
paper comparison. The pipeline reads nothing else: an experiment from another package (an
``amdlib.experiments`` entry point) is a record like any other.

The record's hooks get runs as :class:`RunView` (a run's id, params and results), so an
experiment never needs the pipeline's own types.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, Sequence

if TYPE_CHECKING:  # typing only: core.problem is a sibling contract
    from amdlib.core.problem import Problem


@dataclass(frozen=True)
class Param:
    """One declared parameter.

    ``type`` is one of ``int``, ``float``, ``str``, ``bool``, ``list``;
    ``item_type`` types the items of a list. ``choices`` restricts values;
    ``min``/``max`` bound numbers (inclusive).
    """

    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    item_type: type | None = None
    #: Extra check on the coerced value: returns None if fine, else the reason (one line).
    check: Callable[[Any], str | None] | None = None


class RunView(Protocol):
    """What an experiment's hooks see of one complete run."""

    @property
    def run_id(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...

    @property
    def results(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class SearchPlan:
    """One search a run performs, as ``amd estimate`` counts it: ``problem`` searched with the
    run's search params changed by ``overrides`` (e.g. ``{"method": "random"}`` or
    ``{"max_evaluations": 100}``), ``times`` times (restarts, or one search per setting)."""

    name: str
    problem: "Problem"
    overrides: Mapping[str, Any] = field(default_factory=dict)
    times: int = 1


@dataclass(frozen=True)
class PaperFigure:
    """A figure an experiment drew for the report: the PNG, its caption (saying what "ours" is
    and which paper numbers are printed), the paper item it shows (e.g. ``llmmech/table-1``), the
    page anchor, and the ``table`` labels of ``paper_rows`` it draws (the report then draws no
    generic comparison figure for those)."""

    path: Path
    caption: str
    item: str = ""
    anchor: str = ""
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class PaperTable:
    """A table in the paper's own layout: ``columns`` and ``rows`` of cells (numbers or text).
    Columns holding the paper's printed numbers are named ``... (paper)``; numbers the paper did
    not print but that follow from its printed ones are in columns named ``... (derived from
    paper)``; everything else is ours, computed by the runs."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str


@dataclass(frozen=True)
class ItemView:
    """What the runs show of one paper item (``item``: its catalogue id, e.g. ``llmmech/table-2``):
    a one-line ``headline`` (ours against the paper's), and its figures and tables (none when the
    hook was asked not to draw). ``runs`` are the ids of the runs it was built from; ``cells`` how
    much of the item's grid they fill (filled, total: e.g. 4 of Table 1's 32 settings)."""

    item: str
    headline: str
    figures: tuple[PaperFigure, ...] = ()
    tables: tuple[PaperTable, ...] = ()
    runs: tuple[str, ...] = ()
    cells: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Experiment:
    """An experiment: a notebook, its parameters, and the hooks the pipeline calls.

    - ``make_problem(params)``: the run's main problem (validated params in, a ``Problem`` out).
    - ``plan(params)``: the searches a run performs, for ``amd estimate``; when ``None``, one
      search of ``make_problem(params)``.
    - ``baselines(params)``: a JSON-able dict of reference mechanisms and the known optimum
      (``amd baselines``).
    - ``key_metrics``: dotted paths into results.json shown in the report's run table.
    - ``paper_rows(results, params)``: rows (dicts with ``table``, ``setting``, ``metric``,
      ``paper``, ``ours``, optional ``comparable``, ``note``) comparing one run with the paper's
      printed numbers.
    - ``paper_figures(runs, folder)``: figures for the experiment's section of the report, drawn
      from its complete runs into ``folder``.
    - ``paper_items(runs, folder)``: one :class:`ItemView` per paper item (of the catalogue in
      ``amdlib/data/paper/catalogue.yaml``) the runs show, in the paper's own form; with
      ``folder=None`` only the headlines (``amd paper`` lists them without drawing).
    - ``check(params)``: refuses a combination of values that are each valid (one line), before
      any kernel starts.
    - ``notebook``: the source notebook, a path relative to the checkout (``notebooks/`` may be
      omitted) or absolute (a plugin's own); ``params_dir``: its parameter files (``None``: the
      checkout's ``params/<name>/``).
    """

    name: str
    notebook: str
    title: str
    params: dict[str, Param]
    make_problem: Callable[[Mapping[str, Any]], "Problem"] | None = None
    plan: Callable[[Mapping[str, Any]], Sequence[SearchPlan]] | None = None
    baselines: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    key_metrics: tuple[str, ...] = ()
    paper_rows: Callable[[Mapping[str, Any], Mapping[str, Any]], list[dict[str, Any]]] | None = None
    paper_figures: Callable[[Sequence[RunView], Path], list[PaperFigure]] | None = None
    paper_items: Callable[[Sequence[RunView], Path | None], list[ItemView]] | None = None
    description: str = ""
    check: Callable[[dict[str, Any]], str | None] | None = None
    params_dir: Path | None = None

    def searches(self, params: Mapping[str, Any]) -> list[SearchPlan]:
        """The searches a run with ``params`` performs (``plan``, else one of ``make_problem``)."""
        if self.plan is not None:
            return list(self.plan(params))
        if self.make_problem is None:
            return []
        return [SearchPlan("search", self.make_problem(params))]


SEARCH_METHODS = ("funsearch", "eoh", "eoh-e", "random")
PROPOSERS = ("offline", "openai", "replay")


def _price_check(value: Any) -> str | None:
    """A price is -1 (use the table) or a non-negative number."""
    return None if value == -1.0 or value >= 0 else "expected -1 (use the price table) or a price >= 0"


def search_params(**defaults: Any) -> dict[str, Param]:
    """The parameters every evolving experiment shares; ``defaults`` override defaults."""
    p: dict[str, Param] = {
        "seed": Param(int, 0, "random seed of the run (data, search and proposer)", min=0),
        "method": Param(str, "funsearch", "search strategy", choices=SEARCH_METHODS),
        "proposer": Param(str, "offline", "who writes candidates", choices=PROPOSERS),
        "max_evaluations": Param(int, 200, "candidates proposed in the search (the budget)", min=1, max=1_000_000),
        "pop_size": Param(int, 16, "population size (eoh, eoh-e)", min=2, max=1000),
        "islands": Param(int, 10, "number of islands (funsearch)", min=1, max=100),
        "model": Param(str, "", "LLM model name (openai proposer); empty: from OPENAI_MODEL"),
        "base_url": Param(str, "", "OpenAI-compatible endpoint; empty: from OPENAI_BASE_URL"),
        "temperature": Param(float, 1.0, "LLM sampling temperature", min=0.0, max=2.0),
        "max_llm_calls": Param(int, 0, "hard cap on LLM calls (0: none)", min=0),
        "max_cost_usd": Param(float, 0.0, "hard cap on estimated LLM cost in USD (0: none)", min=0.0),
        "cassette": Param(str, "", "cassette path: recorded to (openai) or replayed from (replay)"),
        "generations": Param(int, 0, "eoh/eoh-e: evolving generations after the initial population, as the papers "
                             "count them; sets the budget to pop_size * (1 + 4 * generations) (0: use max_evaluations)",
                             min=0, max=10_000),
        "reveal_optimum": Param(bool, False, "let the diagnostics shown to the model quote the known optimum"),
        "concurrency": Param(int, 4, "LLM requests in flight at once", min=1, max=256),
        "request_timeout_s": Param(float, 120.0, "seconds one LLM request may take before it is retried",
                                   min=1.0, max=3600.0),
        "max_tokens": Param(int, 2048, "completion token cap of one LLM answer (reasoning models need more)",
                            min=16, max=200_000),
        "retries": Param(int, 5, "retries of a failed LLM request (rate limit, timeout, 5xx), with jittered "
                         "exponential backoff", min=0, max=20),
        "backoff_s": Param(float, 1.0, "first retry wait in seconds (doubles per retry, jittered)", min=0.0, max=600.0),
        "price_in": Param(float, -1.0, "USD per million prompt tokens (-1: from the price table)", min=-1.0,
                          check=_price_check),
        "price_out": Param(float, -1.0, "USD per million completion tokens (-1: from the price table)", min=-1.0,
                           check=_price_check),
        "workers": Param(int, 2, "sandbox worker processes", min=1, max=64),
        "output_dir": Param(str, "", "run directory (set by the runner; empty when run by hand)"),
    }
    for key, value in defaults.items():
        old = p.get(key) or OPTIONAL_SEARCH_PARAMS[key]
        p[key] = dataclasses.replace(old, default=value)
    return p


#: Search parameters an experiment opts into by giving their default to ``search_params``
#: (its notebook's parameters cell then declares them too).
OPTIONAL_SEARCH_PARAMS: dict[str, Param] = {
    "fit_constants": Param(bool, False, "tune promising candidates' float literals on the training split (scipy "
                           "Nelder-Mead); every trial counts in max_evaluations"),
    "fit_budget": Param(int, 30, "trial evaluations per fitted candidate (constant fitting)", min=1, max=10_000),
}


def defaults(experiment: Experiment) -> dict[str, Any]:
    """The default value of every declared parameter."""
    return {k: v.default for k, v in experiment.params.items()}


def lazy_module(name: str) -> Callable[[], ModuleType]:
    """A function that imports module ``name`` when first called and returns it: an experiment's
    record names its run and paper modules this way and stays cheap to import."""
    return functools.partial(importlib.import_module, name)


def collect(experiment: Experiment, namespace: dict[str, Any]) -> dict[str, Any]:
    """Gather the declared parameters from a notebook's globals into a dict."""
    return {k: namespace[k] for k in experiment.params if k in namespace}


__all__ = ["Param", "Experiment", "SearchPlan", "PaperFigure", "PaperTable", "ItemView", "RunView", "search_params", "defaults", "collect", "lazy_module",
           "SEARCH_METHODS", "PROPOSERS"]
