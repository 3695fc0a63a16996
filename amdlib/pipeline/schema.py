"""Declared parameters of an experiment: names, types, defaults, ranges.

Every parameter file and ``--set`` override is validated against these
declarations before any kernel starts; each notebook's ``parameters`` cell
must declare exactly these names with these defaults (a test checks it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable


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


@dataclass(frozen=True)
class Experiment:
    """An experiment: a notebook, its parameters, and how to report it.

    ``baselines`` names ``"module:function"`` taking the full params dict and
    returning a JSON-able dict of baselines and the known optimum (used by
    ``amd baselines``). ``key_metrics`` are dotted paths into results.json
    shown in the report's run table. ``paper_tables`` names a module
    ``"module:function"`` returning a list of rows (dicts with ``table``,
    ``setting``, ``metric``, ``paper``, ``ours``) comparing a run's results
    with the paper's transcribed values, or ``None``.
    """

    name: str
    notebook: str
    title: str
    params: dict[str, Param]
    baselines: str | None = None
    key_metrics: tuple[str, ...] = ()
    paper_tables: str | None = None
    description: str = ""
    #: Check across parameters, on the full validated params: None if fine, else the reason (one line).
    check: Callable[[dict[str, Any]], str | None] | None = None


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


def collect(experiment: Experiment, namespace: dict[str, Any]) -> dict[str, Any]:
    """Gather the declared parameters from a notebook's globals into a dict."""
    return {k: namespace[k] for k in experiment.params if k in namespace}


__all__ = ["Param", "Experiment", "search_params", "defaults", "collect", "SEARCH_METHODS", "PROPOSERS", "field"]
