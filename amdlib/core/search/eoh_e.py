"""LLMMech-e: EoH plus evolution of the prompt strategies themselves.

Prompt strategies are the instructions of the variation operators, of two
kinds: exploration (several parents) and modification (one parent). They start
as EoH's e1, e2 (exploration) and m1, m2 (modification). Each generation has two
exploration and two modification slots; a slot uses a strategy on trial if one
is waiting, otherwise one chosen by fitness (P(rank r) ~ 1 / (r + S); untried
strategies rank first). A strategy's fitness is the mean score of the best 3
offspring it produced.

Stagnation (the top-3 scores unchanged for 3 generations) triggers prompt
evolution: one new strategy per kind. A proposer that writes prose is asked for
it (operator ``"strategy"``); the offline proposer cannot, so a new strategy is
composed by recombining existing operators (a new mix of operator names, whose
instructions are concatenated). A new strategy is admitted only if at least one
of its offspring is valid; each kind keeps at most ``prompt_pop_size`` (5)
strategies, the best by fitness.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from amdlib.core.program import Program, ProposalRequest
from amdlib.core.search import prompts
from amdlib.core.search.base import rank_select
from amdlib.core.search.eoh import EoH, Step

KINDS: dict[str, tuple[tuple[str, ...], int]] = {
    # kind -> (its builtin operators, number of parents)
    "exploration": (prompts.EXPLORATION, 2),
    "modification": (prompts.MODIFICATION, 1),
}
#: Kinds of the four slots of a generation (as EoH's e1, e2, m1, m2).
SLOTS = ("exploration", "exploration", "modification", "modification")
ALL_OPERATORS = prompts.EXPLORATION + prompts.MODIFICATION


@dataclass
class PromptStrategy:
    """One instruction in the prompt population, with the scores of its offspring."""

    id: int
    kind: str
    text: str
    operators: tuple[str, ...]
    origin: str  # "builtin", "llm" or "recombined"
    created: int  # generation
    status: str = "active"  # "trial", "active", "rejected", "evicted"
    n_offspring: int = 0
    scores: list[float] = field(default_factory=list)  # valid offspring only

    @property
    def fitness(self) -> float | None:
        """Mean score of the best 3 valid offspring (None before any)."""
        if not self.scores:
            return None
        top = sorted(self.scores, reverse=True)[:3]
        return float(sum(top) / len(top))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "text": self.text, "operators": list(self.operators),
                "origin": self.origin, "created": self.created, "status": self.status,
                "n_offspring": self.n_offspring, "valid_offspring": len(self.scores), "fitness": self.fitness}


def _selection_key(s: PromptStrategy) -> tuple[int, float, int]:
    """Selection order, best first: untried strategies, then by fitness (none valid: last), then older."""
    fitness = s.fitness
    return (0 if s.n_offspring == 0 else 1, -fitness if fitness is not None else float("inf"), s.id)


def _survival_key(s: PromptStrategy) -> tuple[float, int]:
    """Eviction order, best first: by fitness (no valid offspring yet: last), then older."""
    fitness = s.fitness
    return (-fitness if fitness is not None else float("inf"), s.id)


class EoHE(EoH):
    """EoH with prompt-strategy evolution on stagnation (LLMMech-e)."""

    method = "eoh-e"

    def __init__(self, problem: Any, *, prompt_pop_size: int = 5, stagnation: int = 3, top_k: int = 3,
                 **kwargs: Any) -> None:
        super().__init__(problem, **kwargs)
        self.prompt_pop_size = int(prompt_pop_size)
        self.stagnation = int(stagnation)
        self.top_k = int(top_k)
        self.strategies: list[PromptStrategy] = []
        for kind, (ops, _) in KINDS.items():
            for op in ops:
                self._add(kind, prompts.OPERATOR_INSTRUCTIONS[op], (op,), "builtin", "active")
        self._stagnant = 0
        self._last_top: tuple[float, ...] | None = None
        self._pending_kinds: list[str] = []
        self._used_this_generation: set[int] = set()
        self.events: list[dict[str, Any]] = []

    def _add(self, kind: str, text: str, operators: tuple[str, ...], origin: str, status: str) -> PromptStrategy:
        s = PromptStrategy(len(self.strategies), kind, text, operators, origin, self.generation, status)
        self.strategies.append(s)
        return s

    def active(self, kind: str, key=_selection_key) -> list[PromptStrategy]:
        """The admitted strategies of ``kind``, best first (in selection order by default)."""
        return sorted((s for s in self.strategies if s.kind == kind and s.status == "active"), key=key)

    # ------------------------------------------------------------ slot choice
    def _make_step(self) -> Step:
        if self.generation == 0:
            return super()._make_step()
        kind = SLOTS[self._slot]
        trial = [s for s in self.strategies if s.kind == kind and s.status == "trial"]
        if trial:
            chosen = trial[0]
        else:
            pool = [s for s in self.active(kind) if s.id not in self._used_this_generation] or self.active(kind)
            chosen = rank_select(self.rng, pool, 1)[0]
        self._used_this_generation.add(chosen.id)
        return Step(chosen.operators, KINDS[kind][1], chosen.text, self.generation, strategy=chosen.id)

    def _finish_step(self, step: Step) -> None:
        if step.strategy is None:
            return
        strategy = self.strategies[step.strategy]
        strategy.n_offspring += len(step.offspring)
        strategy.scores.extend(p.score for p in step.offspring if p.valid and math.isfinite(p.score))
        if strategy.status == "trial":
            self.conclude_trial(strategy, step.offspring)

    def conclude_trial(self, strategy: PromptStrategy, offspring: list[Program]) -> bool:
        """Admit ``strategy`` iff one of its offspring is valid; keep the best ``prompt_pop_size``.

        The caller has recorded the offspring's scores in ``strategy.scores``.
        """
        admitted = any(p.valid for p in offspring)
        strategy.status = "active" if admitted else "rejected"
        evicted: list[int] = []
        if admitted:
            ranked = self.active(strategy.kind, key=_survival_key)
            for s in ranked[self.prompt_pop_size:]:
                s.status = "evicted"
                evicted.append(s.id)
        self.events.append({"event": "admitted" if admitted else "rejected", "generation": self.generation,
                            "strategy": strategy.id, "kind": strategy.kind, "evicted": evicted})
        return admitted

    # ------------------------------------------------------------- stagnation
    def _end_generation(self) -> None:
        super()._end_generation()
        self._used_this_generation = set()
        top = tuple(p.score for p in self.ranked()[: self.top_k])
        if self.generation > 0 and top == self._last_top:
            self._stagnant += 1
        else:
            self._stagnant = 0
        self._last_top = top
        if self._stagnant >= self.stagnation:
            self._stagnant = 0
            self._pending_kinds = list(KINDS)
            self.events.append({"event": "stagnation", "generation": self.generation, "top": list(top)})

    def ask_texts(self) -> list[ProposalRequest]:
        """Requests for new strategies (prose proposers); offline, recombine at once instead."""
        if not self._pending_kinds:
            return []
        if not self.proposer_writes_prose:
            for kind in self._pending_kinds:
                self._recombine(kind)
            self._pending_kinds = []
            return []
        requests = []
        for kind in self._pending_kinds:
            shown = [(s.text, s.fitness) for s in self.active(kind)]
            messages = prompts.strategy_messages(kind, shown, self.problem)
            requests.append(self.request("strategy", [], messages, kind=kind, generation=self.generation))
        return requests

    def tell_texts(self, requests: list[ProposalRequest], texts: list[str]) -> None:
        for req, text in zip(requests, texts):
            kind = req.metadata["kind"]
            cleaned = prompts.clean_strategy_text(text)
            if cleaned:
                self._add(kind, cleaned, KINDS[kind][0], "llm", "trial")
                self.events.append({"event": "created", "generation": self.generation, "kind": kind,
                                    "strategy": len(self.strategies) - 1, "origin": "llm"})
            else:
                self._recombine(kind)
        self._pending_kinds = []

    def _recombine(self, kind: str) -> PromptStrategy | None:
        """A new strategy of ``kind``: a mix of operators not used yet by that kind."""
        used = {tuple(sorted(s.operators)) for s in self.strategies if s.kind == kind}
        ranked = self.active(kind, key=_survival_key)
        best = ranked[0].operators if ranked else KINDS[kind][0]
        # Prefer mixes that extend the best strategy's operators, then any other mix.
        mixes = [tuple(sorted(c)) for r in (2, 3) for c in itertools.combinations(ALL_OPERATORS, r)]
        order = self.rng.permutation(len(mixes))
        candidates = [mixes[i] for i in order]
        candidates.sort(key=lambda m: 0 if set(best) <= set(m) else 1)
        for mix in candidates:
            if mix not in used:
                text = "Apply in turn: " + " / ".join(prompts.OPERATOR_INSTRUCTIONS[o] for o in mix)
                s = self._add(kind, text, mix, "recombined", "trial")
                self.events.append({"event": "created", "generation": self.generation, "kind": kind,
                                    "strategy": s.id, "origin": "recombined"})
                return s
        return None

    def stats(self) -> dict[str, Any]:
        out = super().stats()
        out["strategies"] = [s.to_dict() for s in self.strategies]
        out["strategy_events"] = self.events
        return out
