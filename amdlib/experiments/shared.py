"""What the built-in experiments' run modules share.

- :func:`search`: the run's configured search through the engine's one restarts loop, every
  restart's seed, best score and candidate count recorded in ``result.stats["restarts"]``;
- :func:`run_once` and :func:`fixed_program`: a learned program run once through the
  :class:`~amdlib.core.evaluator.Evaluator` (its own one-worker sandbox) and, for the grid
  auctions, turned into the mechanism the problem's fixing step makes of it;
- :func:`curve_rows`: a search's progress as JSON rows;
- :func:`revenue_table`: the notebooks' closing table of revenues against the optimum;
- :func:`llm_label`: a caption's words for an LLM run (its model, live or replayed).

Heavy modules (the engine, the sandbox) are imported when called.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence

from amdlib.core.problem import Outputs, Problem
from amdlib.errors import UserError


def search(problem: Problem, params: Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
           restarts: int = 1, progress: bool = True, sandbox: Any = None) -> Any:
    """Search ``problem`` with the run's search params changed by ``overrides``.

    ``restarts`` independent searches (restart r: search seed ``seed + 7919 r``, each with the full
    budget; :func:`amdlib.core.engine.run_restarts`) run in one sandbox (``sandbox``, or their own);
    the one returned has the best search score, ties to the earliest. Every restart's seed, best
    score (``None`` when it found no valid program) and candidate count go to
    ``result.stats["restarts"]``.
    """
    from amdlib.core.engine import SearchConfig, restart_seed, run_restarts

    config = SearchConfig.from_params({**params, **(overrides or {})})
    chosen, every = run_restarts(problem, config, max(1, int(restarts)), progress=progress, sandbox=sandbox)
    chosen.stats["restarts"] = [{"seed": restart_seed(config.seed, r),
                                 "score": res.best.score if res.best.valid else None,
                                 "evaluations": len(res.history)} for r, res in enumerate(every)]
    return chosen


def run_once(problem: Problem, code: str, split: str = "search") -> Outputs:
    """The harness outputs of ``code`` on the split's payload, run in a one-worker sandbox through
    the Evaluator (the candidate is untrusted even after its search); ``RuntimeError`` on failure."""
    from amdlib.core.evaluator import Evaluator
    from amdlib.core.sandbox import Sandbox

    with Sandbox(workers=1, memory_mb=problem.memory_mb) as sandbox:
        evaluator = Evaluator(problem, sandbox)
        return evaluator.outputs(code, *evaluator.payload(split))


class FixingProblem(Protocol):
    """A problem whose fixing step turns harness outputs into a mechanism (or says why it cannot)."""

    memory_mb: int

    def fixed(self, outputs: Outputs) -> Any: ...


def fixed_program(problem: FixingProblem, code: str) -> tuple[Any, Outputs]:
    """``code`` run once on the search payload and fixed: (the mechanism, the raw outputs).
    Outputs the fixing step cannot use are a one-line ``UserError``."""
    outputs = run_once(problem, code)  # type: ignore[arg-type]
    mechanism = problem.fixed(outputs)
    if isinstance(mechanism, str):
        raise UserError(f"the mechanism's code is unusable: {mechanism}")
    return mechanism, outputs


def curve_rows(result: Any) -> list[list[float]]:
    """A search's progress, ``[candidates so far, best search score so far]`` per step (JSON)."""
    return [[int(n), float(s)] for n, s in result.curve()]


def revenue_table(rows: Sequence[tuple[str, float, str]], optimum: float | None, digits: int = 1) -> str:
    """HTML table of ``(mechanism, revenue, note)`` rows with each revenue's share of ``optimum``
    (``n/a`` where no optimum is known), for a notebook's summary."""
    html = "<table><tr><th>mechanism</th><th>revenue</th><th>% of optimum</th><th>note</th></tr>"
    for name, revenue, note in rows:
        share = f"{100 * revenue / optimum:.{digits}f}%" if optimum else "n/a"
        html += f"<tr><td>{name}</td><td>{revenue:.4f}</td><td>{share}</td><td>{note}</td></tr>"
    return html + "</table>"


def llm_label(params: Mapping[str, Any], method: str, budget: str) -> str | None:
    """What "ours" is for an LLM run (its model, live or replayed, method and budget); ``None`` for
    the offline search, which each experiment words with its own seeding."""
    if params.get("proposer", "offline") == "offline":
        return None
    model = params.get("model") or "the model OPENAI_MODEL named (not in the params)"
    how = "replayed from a cassette" if params.get("proposer") == "replay" else "via its API"
    return f"an LLM run: {model} {how} ({method}, {budget})"


__all__ = ["search", "run_once", "fixed_program", "curve_rows", "revenue_table", "llm_label", "FixingProblem"]
