"""The one full prompt each notebook shows: one the model received, or one it would receive.

An LLM run (``openai`` or ``replay``) shows the first candidate-writing request of its
cassette, exactly as sent. An offline run sent nothing, so it shows the prompt an LLM run
with the same params would send to change the search's seed program
(:func:`amdlib.core.search.prompts.example_prompt`), labelled as such. Either way the
prompt carries the diagnostics the run computed, so it quotes a known optimum only when
``reveal_optimum`` is true.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

#: How a prompt-evolution (EoH-E strategy) request is told apart from a candidate request.
_STRATEGY_SYSTEM = "design instructions"


def _messages_text(messages: list[Mapping[str, str]]) -> str:
    return "\n\n".join(f"[{m.get('role', '?')}]\n{m.get('content', '')}" for m in messages)


def recorded_prompt(cassette: str | Path) -> tuple[int, str, list[dict[str, str]]] | None:
    """The first candidate request in a cassette: (its index, model, messages), or None."""
    path = Path(cassette)
    if not path.is_file():
        return None
    first = None
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:  # a killed run's last, half-written line
            continue
        messages = row.get("messages") or []
        if not messages or _STRATEGY_SYSTEM in str(messages[0].get("content", "")):
            continue
        if first is None or int(row.get("index", 0)) < first[0]:
            first = (int(row.get("index", 0)), str(row.get("model", "")), messages)
    return first


def shown_prompt(problem: Any, result: Any, params: Mapping[str, Any]) -> tuple[str, str]:
    """(label, full prompt text) for a notebook: the first prompt the model received in this
    run (from its cassette), or, for an offline run or one without a cassette, the prompt an
    LLM run with these params would send to change the seed program."""
    from amdlib.core.search.prompts import example_prompt

    proposer = str(params.get("proposer", "offline"))
    method = str(params.get("method", getattr(result, "method", "eoh")))
    if proposer in ("openai", "replay") and params.get("cassette"):
        found = recorded_prompt(str(params["cassette"]))
        if found is not None:
            index, model, messages = found
            verb = "received" if proposer == "openai" else "received when the cassette was recorded"
            return (f"The first prompt the model ({model or 'unnamed'}) {verb} in this run: request {index} of "
                    f"its cassette, exactly as sent ({method}).", _messages_text(messages))
    operator = "FunSearch's versioned prompt" if method == "funsearch" else "EoH's m1 operator (modify one parent)"
    who = ("this run's proposer is offline (AST mutation), so no model was asked anything"
           if proposer == "offline" else "this run kept no cassette to show its own")
    label = (f"Not sent: {who}. This is the prompt an LLM run with these params (proposer: openai, "
             f"method: {method}) would send to change the seed program, built by {operator}.")
    return label, example_prompt(problem, list(result.history[:1]), method)
