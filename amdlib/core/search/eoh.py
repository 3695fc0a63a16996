"""EoH (Evolution of Heuristics), the search behind LLMMech.

A population of (thought, code, fitness) individuals. Generation 0 asks for
``pop_size`` new mechanisms (operator ``i1``); each later generation runs the
operators e1, e2 (exploration, two parents) and m1, m2 (modification, one
parent) in turn, each producing ``pop_size`` offspring from parents drawn with
P(rank r) proportional to 1 / (r + N). After each operator the population is
cut back to the best ``pop_size`` distinct programs (ties: the earlier one).
Generations are counted as the papers count them: generation 0 is the initial
population, then ``generations`` evolving generations follow (LLMMech: 20 of
population 16, i.e. ``16 + 20 * 4 * 16 = 1296`` candidates, see
:func:`generations_budget`). With ``generations=0`` the number of generations
follows from the budget instead: about ``ceil((max_evaluations - pop_size) /
(4 * pop_size))``, the last one truncated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from amdlib.core.program import Program, ProposalRequest
from amdlib.core.search import prompts
from amdlib.core.search.base import Strategy, rank_select, sort_key

#: Operators of one generation, in order, with their number of parents.
GENERATION_OPERATORS: tuple[tuple[str, int], ...] = (("e1", 2), ("e2", 2), ("m1", 1), ("m2", 1))


@dataclass
class Step:
    """One operator application: ``pop_size`` offspring made with one instruction.

    ``operators`` are what the offline proposer reads (one per request, drawn
    from this tuple); ``strategy`` names the eoh-e prompt strategy, if any.
    """

    operators: tuple[str, ...]
    n_parents: int
    instruction: str
    generation: int
    strategy: int | None = None
    remaining: int = 0
    offspring: list[Program] = field(default_factory=list)


def generations_budget(pop_size: int, generations: int) -> int:
    """Candidates of an EoH run: the initial population plus ``generations`` of 4 operators x pop."""
    return int(pop_size) * (1 + len(GENERATION_OPERATORS) * int(generations))


class EoH(Strategy):
    """Evolution of Heuristics with the operators i1, e1, e2, m1, m2."""

    method = "eoh"

    def __init__(self, problem: Any, *, generations: int = 0, **kwargs: Any) -> None:
        super().__init__(problem, **kwargs)
        #: Evolving generations after the initial one (0: as many as the budget allows).
        self.generations = max(0, int(generations or 0))
        self.population: list[Program] = []
        self.generation = 0
        self._step: Step | None = None
        self._slot = 0  # index into the generation's operators
        self.log: list[dict[str, Any]] = []

    # ----------------------------------------------------------------- steps
    def initialize(self, seed_program: Program) -> None:
        super().initialize(seed_program)
        # The seed keeps the population non-empty if every i1 answer fails.
        self.population = [seed_program] if seed_program.valid else []

    def _make_step(self) -> Step:
        """The next operator application (i1 first, then e1, e2, m1, m2 per generation)."""
        if self.generation == 0:
            return Step(("i1",), 0, prompts.OPERATOR_INSTRUCTIONS["i1"], 0)
        op, n_parents = GENERATION_OPERATORS[self._slot]
        return Step((op,), n_parents, prompts.OPERATOR_INSTRUCTIONS[op], self.generation)

    def _slots_per_generation(self) -> int:
        return 1 if self.generation == 0 else len(GENERATION_OPERATORS)

    def ranked(self) -> list[Program]:
        """The population, best first."""
        return sorted(self.population, key=sort_key)

    def _request_for(self, step: Step, parents: list[Program]) -> ProposalRequest:
        operator = step.operators[int(self.rng.integers(len(step.operators)))] if len(step.operators) > 1 \
            else step.operators[0]
        messages = prompts.eoh_messages(self.problem, parents, step.instruction)
        meta: dict[str, Any] = {"generation": step.generation}
        if step.strategy is not None:
            meta["strategy"] = step.strategy
        return self.request(operator, parents, messages, step.instruction, **meta)

    # ------------------------------------------------------------- ask / tell
    def ask(self, limit: int) -> list[ProposalRequest]:
        if self.generations and self.generation > self.generations:
            return []  # the protocol's generations are done
        if self._step is None or self._step.remaining <= 0:
            self._step = self._make_step()
            self._step.remaining = self.pop_size
        step = self._step
        ranked = self.ranked()
        n = min(limit, step.remaining)
        requests = []
        for _ in range(n):
            parents = rank_select(self.rng, ranked, step.n_parents) if step.n_parents else []
            # Show parents best first, as EoH does.
            parents = sorted(parents, key=sort_key)
            requests.append(self._request_for(step, parents))
        step.remaining -= n
        return requests

    def tell(self, programs: list[Program]) -> None:
        step = self._step
        assert step is not None, "tell() without ask()"
        step.offspring.extend(programs)
        self._merge(programs)
        if step.remaining > 0:
            return
        self._finish_step(step)
        self._slot += 1
        if self._slot >= self._slots_per_generation():
            self._end_generation()
            self.generation += 1
            self._slot = 0

    def _merge(self, programs: list[Program]) -> None:
        """Add valid, new programs; keep the best ``pop_size`` (ties: earlier id)."""
        hashes = {p.code_hash for p in self.population}
        for program in programs:
            if program.valid and math.isfinite(program.score) and program.code_hash not in hashes:
                self.population.append(program)
                hashes.add(program.code_hash)
        self.population = self.ranked()[: self.pop_size]

    # ------------------------------------------------------------------ hooks
    def _finish_step(self, step: Step) -> None:
        """Called when an operator application has all its offspring (eoh-e hooks in)."""

    def _end_generation(self) -> None:
        top = [p.score for p in self.ranked()[:3]]
        self.log.append({"generation": self.generation, "best": top[0] if top else None, "top3": top})

    def stats(self) -> dict[str, Any]:
        return {"generations": self.log, "generations_planned": self.generations,
                "population": [p.id for p in self.ranked()]}
