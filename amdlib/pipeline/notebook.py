"""What a notebook calls: validate its parameters, seed, save figures, write results.

Usage inside a notebook, right after the ``parameters`` cell::

    from amdlib.pipeline.notebook import start
    ctx = start("virtual_valuation", globals())
    ...
    ctx.save_figure(fig, "revenue_curve")
    ctx.write_results(results, searches={"search": result})   # ledger.json: "search: offline"

When the runner executes the notebook it injects ``output_dir`` (the run's
working directory); by hand ``output_dir`` is ``""`` and nothing is written.
With ``AMDLIB_NO_WRITE=1`` (nbval re-validation) nothing is written either.
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from amdlib.pipeline.jsonio import write_json
from amdlib.pipeline.params import validate
from amdlib.core.experiment import Experiment, collect

#: Resolution of saved figures (the HTML embeds the inline ones, not these).
FIGURE_DPI = 110


def writes_disabled() -> bool:
    """True during nbval re-validation, when a run must not touch its outputs."""
    return os.environ.get("AMDLIB_NO_WRITE", "") not in ("", "0")


def seed_everything(seed: int) -> None:
    """Seed ``random``, numpy and (only if already imported) torch."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # numpy is a dependency; guard only for minimal installs
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def _default_progress() -> Callable[..., Any]:
    import warnings

    with warnings.catch_warnings():  # without ipywidgets tqdm.auto warns, then falls back to text bars
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm
    return tqdm


@dataclass
class RunContext:
    """The validated parameters of a notebook run and where its outputs go."""

    experiment: Experiment
    params: dict[str, Any]
    output_dir: Path | None
    progress: Callable[..., Any] = field(default_factory=_default_progress)

    def _target(self, *parts: str) -> Path | None:
        if self.output_dir is None or writes_disabled():
            return None
        path = self.output_dir.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def save_figure(self, fig: Any, name: str) -> None:
        """Write ``figures/<name>.png`` into the run dir (if any); the figure still shows inline."""
        path = self._target("figures", f"{name}.png")
        if path is not None:
            tmp = path.with_name(f".{path.name}.tmp")
            fig.savefig(tmp, dpi=FIGURE_DPI, bbox_inches="tight", format="png")
            os.replace(tmp, path)

    def write_results(self, results: Mapping[str, Any], searches: Mapping[str, Any] | None = None) -> None:
        """Write ``results.json`` (and ``ledger.json`` with the searches' LLM ledgers).

        ``results`` must hold only values computed by the run (no wall-clock
        times): it is compared across reruns. Nothing is written by hand or under nbval.
        """
        path = self._target("results.json")
        if path is None:
            return
        if searches:
            ledgers = {ledger_key(name, res): ledger_entry(name, res) for name, res in searches.items()}
            write_json(path.with_name("ledger.json"), ledgers)
        from amdlib.core.proposers.ledger import current_run

        run = current_run()
        if run is not None and run.ledgers:
            # Every LLM search of the run, also those not passed in ``searches`` (run.json's cost).
            write_json(path.with_name("llm_run.json"), run.to_dict())
        write_json(path, {"experiment": self.experiment.name, **dict(results)})


def proposer_label(result: Any) -> str:
    """Who wrote a search's candidates: ``offline``, or ``<proposer>/<model>`` for an LLM search
    (``openai/gpt-4o-mini``, ``replay/gpt-4o-mini``), read from the search's own ledger."""
    ledger = getattr(result, "ledger", None) or {}
    if not ledger:
        return "offline"
    source, model = str(ledger.get("source") or "llm"), str(ledger.get("model") or "")
    return f"{source}/{model}" if model else source


def ledger_key(name: str, result: Any) -> str:
    """The key of a search in ledger.json: the notebook's name for it and its proposer/model,
    e.g. ``search: openai/gpt-4o-mini`` or ``nna: offline``."""
    return f"{name}: {proposer_label(result)}"


def ledger_entry(name: str, result: Any) -> dict[str, Any]:
    """A search's ledger as ledger.json holds it: empty for an offline search (no LLM use), else
    the LLM ledger with the search's name and proposer/model label."""
    ledger = dict(getattr(result, "ledger", None) or {})
    return {"search": name, "proposer": proposer_label(result), **ledger} if ledger else {}


def start(experiment: str | Experiment, namespace: Mapping[str, Any]) -> RunContext:
    """Validate the notebook's declared params from ``namespace``, seed, and return the context.

    Raises :class:`~amdlib.errors.UserError` (one line) on a bad value.
    """
    if isinstance(experiment, str):
        from amdlib.experiments import get

        experiment = get(experiment)
    params = validate(experiment, collect(experiment, dict(namespace)), "notebook parameters")
    if "seed" in params:
        seed_everything(int(params["seed"]))
    if "max_llm_calls" in params:
        from amdlib.core.proposers.ledger import begin_run

        # LLM caps hold per run, across all of the run's searches.
        begin_run(int(params.get("max_llm_calls") or 0), float(params.get("max_cost_usd") or 0.0))
    out = params.get("output_dir", "")
    # Under validation nothing is written and nothing cached in the run is reused.
    output_dir = Path(out).resolve() if out and not writes_disabled() else None
    if output_dir is not None and not writes_disabled():
        output_dir.mkdir(parents=True, exist_ok=True)
    return RunContext(experiment, params, output_dir)
