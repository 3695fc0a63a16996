"""Random search: independent samples from the seed prompt, no evolution.

Every request shows the seed program alone (operator ``"random"``), so the best
of N samples is the budget-matched baseline for the evolutionary strategies.
"""

from __future__ import annotations

from typing import Any

from amdlib.core.program import Program, ProposalRequest
from amdlib.core.search import prompts
from amdlib.core.search.base import Strategy, sort_key


class RandomSearch(Strategy):
    """Best-of-N sampling from the seed prompt."""

    method = "random"

    def __init__(self, problem: Any, **kwargs: Any) -> None:
        super().__init__(problem, **kwargs)
        self.best: Program | None = None

    def initialize(self, seed_program: Program) -> None:
        super().initialize(seed_program)
        self.best = seed_program

    def ask(self, limit: int) -> list[ProposalRequest]:
        assert self.seed_program is not None, "initialize() first"
        instruction = prompts.OPERATOR_INSTRUCTIONS["random"]
        messages = prompts.eoh_messages(self.problem, [self.seed_program], instruction)
        n = min(limit, self.batch_size)
        return [self.request("random", [self.seed_program], messages, instruction) for _ in range(n)]

    def tell(self, programs: list[Program]) -> None:
        for program in programs:
            if program.valid and (self.best is None or sort_key(program) < sort_key(self.best)):
                self.best = program
