"""Records that flow through a search: candidate programs, proposal requests, proposals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from amdlib.core.problem import Evaluation


@dataclass
class Program:
    """One evaluated (or rejected) candidate.

    ``code`` is the normalised source of the function (empty when the
    proposer's text was unusable, with ``evaluation.error`` saying why);
    ``thought`` is the one-line idea behind it (EoH); ``code_hash`` is the hash
    of the normalised AST used for deduplication.
    """

    id: int
    code: str
    code_hash: str
    evaluation: Evaluation
    thought: str = ""
    parents: tuple[int, ...] = ()
    operator: str = "seed"
    generation: int = 0
    sample_index: int = -1
    duplicate_of: int | None = None

    @property
    def score(self) -> float:
        return self.evaluation.score

    @property
    def valid(self) -> bool:
        return self.evaluation.valid

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "code_hash": self.code_hash,
            "thought": self.thought,
            "parents": list(self.parents),
            "operator": self.operator,
            "generation": self.generation,
            "sample_index": self.sample_index,
            "duplicate_of": self.duplicate_of,
            "evaluation": self.evaluation.to_dict(),
        }


@dataclass
class ProposalRequest:
    """What a search strategy asks a proposer for.

    LLM proposers read ``messages`` (chat format); the offline proposer reads
    ``operator`` and ``parents`` and mutates their code. ``index`` is the
    global sample index of the run: together with the run seed it makes every
    proposal reproducible and keys the cassette.
    """

    index: int
    operator: str
    parents: list[Program]
    messages: list[dict[str, str]]
    instruction: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Proposal:
    """A proposer's raw answer: free-form text (code, maybe prose) and usage."""

    text: str
    usage: dict[str, int] = field(default_factory=dict)
    model: str = ""
