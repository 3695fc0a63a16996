"""The search engine: run a strategy with a proposer and a sandboxed evaluator.

``run_search(problem, config)`` evaluates the problem's seed program, then
drives the strategy in deterministic batches (see ``amdlib.core.search.base``):
requests get global sample indices, each request's proposer seed is a hash of
the run seed and its index, a batch is evaluated in parallel and applied in
index order. Results therefore never depend on timing or on the number of
workers. A proposer that raises ``BudgetExhausted`` ends the run cleanly: the
proposals of the batch before the first refused one are kept.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any, Mapping

from amdlib.core.evaluator import Evaluator
from amdlib.core.problem import Evaluation, Problem
from amdlib.core.program import Program, ProposalRequest
from amdlib.core.search.base import Strategy, request_seed, sort_key
from amdlib.errors import BudgetExhausted, UserError

METHODS = ("funsearch", "eoh", "eoh-e", "random")


@dataclass
class SearchConfig:
    """Settings of one search (the experiment's ``search_params`` plus engine extras)."""

    method: str = "funsearch"
    proposer: str = "offline"
    max_evaluations: int = 200
    pop_size: int = 16
    islands: int = 10
    seed: int = 0
    model: str = ""
    base_url: str = ""
    temperature: float = 1.0
    max_llm_calls: int = 0
    max_cost_usd: float = 0.0
    cassette: str = ""
    workers: int = 2
    output_dir: str = ""
    #: LLM requests in flight at once.
    concurrency: int = 4
    #: FunSearch island reset period in samples (0: a quarter of the budget).
    reset_every: int = 0
    #: Re-score the best program on the holdout split.
    holdout: bool = True
    #: Samples per batch (funsearch, random); fixed so results do not depend on workers.
    batch_size: int = 8

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "SearchConfig":
        """Build from a params dict; unknown keys are ignored, missing ones take defaults."""
        known = {f.name: f for f in fields(cls)}
        values = {k: v for k, v in params.items() if k in known and v is not None}
        config = cls(**values)
        if config.method not in METHODS:
            raise UserError(f"unknown search method {config.method!r}: choose one of {', '.join(METHODS)}")
        if config.max_evaluations < 1:
            raise UserError("max_evaluations must be at least 1")
        return config


def make_strategy(config: SearchConfig, problem: Problem) -> Strategy:
    """The strategy named by ``config.method``."""
    common = dict(seed=config.seed, pop_size=config.pop_size, batch_size=config.batch_size,
                  max_evaluations=config.max_evaluations)
    if config.method == "funsearch":
        from amdlib.core.search.funsearch import FunSearch

        return FunSearch(problem, islands=config.islands, reset_every=config.reset_every, **common)
    if config.method == "eoh":
        from amdlib.core.search.eoh import EoH

        return EoH(problem, **common)
    if config.method == "eoh-e":
        from amdlib.core.search.eoh_e import EoHE

        return EoHE(problem, **common)
    if config.method == "random":
        from amdlib.core.search.random_search import RandomSearch

        return RandomSearch(problem, **common)
    raise UserError(f"unknown search method {config.method!r}: choose one of {', '.join(METHODS)}")


def reason_key(error: str) -> str:
    """A short category of a failure reason (the text before the first colon)."""
    head = error.split(":", 1)[0].strip() if error else "unknown"
    return head[:60] or "unknown"


@dataclass
class SearchResult:
    """What a search produced: the best program, its holdout verdict, everything proposed."""

    method: str
    best: Program
    holdout: Evaluation | None
    history: list[Program]
    stats: dict[str, Any]
    ledger: dict[str, Any]
    problem: dict[str, Any]

    def curve(self) -> list[tuple[int, float]]:
        """(candidates proposed so far, best valid score so far); the seed is at 0."""
        out, best = [], -math.inf
        for k, program in enumerate(self.history):
            if program.valid and math.isfinite(program.score):
                best = max(best, program.score)
            out.append((k, best))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary; wall-clock values only under ``stats["timing"]``."""
        return {
            "method": self.method,
            "problem": self.problem,
            "best": self.best.to_dict(),
            "holdout": None if self.holdout is None else self.holdout.to_dict(),
            "curve": [[k, s if math.isfinite(s) else None] for k, s in self.curve()],
            "stats": self.stats,
            "ledger": self.ledger,
        }


class _Run:
    """One search run's state: history, dedupe map, proposer calls, evaluation."""

    def __init__(self, problem: Problem, config: SearchConfig, sandbox: Any, proposer: Any, progress: bool) -> None:
        self.problem, self.config, self.proposer = problem, config, proposer
        self.evaluator = Evaluator(problem, sandbox)
        self.strategy = make_strategy(config, problem)
        self.strategy.proposer_writes_prose = bool(
            getattr(proposer, "writes_prose", getattr(proposer, "name", "") != "offline"))
        self.history: list[Program] = []
        self.first_of: dict[str, int] = {}  # code hash -> id of its first program
        self.progress = progress
        self.timing = {"propose_s": 0.0, "evaluate_s": 0.0}
        self.text_requests = 0
        parallel = getattr(proposer, "name", "") != "offline" and config.concurrency > 1
        self.pool = ThreadPoolExecutor(config.concurrency) if parallel else None

    def propose(self, requests: list[ProposalRequest]) -> tuple[list[str], bool]:
        """Texts for ``requests`` in order; stops at the first refused one (budget)."""
        t0 = time.perf_counter()
        seeds = [request_seed(self.config.seed, r.index) for r in requests]
        texts: list[str] = []
        exhausted = False
        if self.pool is None:
            for req, seed in zip(requests, seeds):
                try:
                    texts.append(self.proposer.propose(req, seed).text)
                except BudgetExhausted:
                    exhausted = True
                    break
        else:
            futures = [self.pool.submit(self.proposer.propose, r, s) for r, s in zip(requests, seeds)]
            for fut in futures:
                try:
                    proposal = fut.result()
                except BudgetExhausted:
                    exhausted = True
                    continue
                if not exhausted:
                    texts.append(proposal.text)
        self.timing["propose_s"] += time.perf_counter() - t0
        return texts, exhausted

    def add(self, req: ProposalRequest | None, verdict: tuple[str, str, str, Evaluation]) -> Program:
        code, thought, h, evaluation = verdict
        pid = len(self.history)
        program = Program(
            id=pid, code=code, code_hash=h, evaluation=evaluation, thought=thought,
            parents=tuple(p.id for p in req.parents) if req else (),
            operator=req.operator if req else "seed",
            generation=int(req.metadata.get("generation", 0)) if req else 0,
            sample_index=req.index if req else -1,
            duplicate_of=self.first_of.get(h) if h else None,
        )
        if h and h not in self.first_of:
            self.first_of[h] = pid
        self.history.append(program)
        return program

    def execute(self) -> tuple[Program, str]:
        from tqdm.auto import tqdm

        budget = self.config.max_evaluations
        seed = self.add(None, self.evaluator.evaluate_text(self.problem.seed_program))
        self.strategy.initialize(seed)
        best, stopped = seed, "complete"
        bar = tqdm(total=budget, desc=f"{self.config.method} search", disable=not self.progress)
        try:
            while len(self.history) - 1 < budget:
                text_requests = self.strategy.ask_texts()
                if text_requests:
                    texts, exhausted = self.propose(text_requests)
                    self.text_requests += len(texts)
                    if exhausted:
                        stopped = "budget"
                        break
                    self.strategy.tell_texts(text_requests, texts)
                requests = self.strategy.ask(budget - (len(self.history) - 1))
                if not requests:
                    stopped = "strategy"
                    break
                texts, exhausted = self.propose(requests)
                t0 = time.perf_counter()
                verdicts = self.evaluator.evaluate_many(texts)
                self.timing["evaluate_s"] += time.perf_counter() - t0
                programs = [self.add(req, v) for req, v in zip(requests, verdicts)]
                if programs:
                    self.strategy.tell(programs)
                for p in programs:
                    if p.valid and sort_key(p) < sort_key(best):
                        best = p
                bar.update(len(programs))
                bar.set_postfix(best=f"{best.score:.6g}")
                if exhausted:
                    stopped = "budget"
                    break
        finally:
            bar.close()
            if self.pool is not None:
                self.pool.shutdown(wait=True)
        return best, stopped

    def stats(self, stopped: str, seconds: float) -> dict[str, Any]:
        rejected: dict[str, int] = {}
        for p in self.history:
            if not p.valid and p.duplicate_of is None:
                key = reason_key(p.evaluation.error)
                rejected[key] = rejected.get(key, 0) + 1
        proposals = len(self.history) - 1
        return {
            "proposals": proposals,
            "evaluated": self.evaluator.n_run,
            "duplicates": sum(1 for p in self.history if p.duplicate_of is not None),
            "valid": sum(1 for p in self.history if p.valid),
            "rejected": dict(sorted(rejected.items())),
            "text_requests": self.text_requests,
            "stopped": stopped,
            "strategy": self.strategy.stats(),
            "timing": {"seconds": seconds, **self.timing,
                       "per_candidate_s": seconds / max(1, proposals)},
        }


def _close(obj: Any) -> None:
    close = getattr(obj, "close", None)
    if callable(close):
        close()
    elif hasattr(obj, "__exit__"):
        obj.__exit__(None, None, None)


def run_search(problem: Problem, config: SearchConfig, progress: bool = True, sandbox: Any = None,
               proposer: Any = None) -> SearchResult:
    """Run one search. A sandbox and proposer are created (and closed) when not given."""
    t0 = time.perf_counter()
    own_sandbox, own_proposer = sandbox is None, proposer is None
    if own_sandbox:
        from amdlib.core.sandbox import Sandbox

        sandbox = Sandbox(workers=config.workers, memory_mb=problem.memory_mb)
    try:
        if own_proposer:
            from amdlib.core.proposers.factory import make_proposer

            proposer = make_proposer(config, problem)
        try:
            run = _Run(problem, config, sandbox, proposer, progress)
            best, stopped = run.execute()
            holdout = None
            if config.holdout and best.code:
                holdout = run.evaluator.evaluate_code(best.code, "holdout")
        finally:
            if own_proposer:
                _close(proposer)
    finally:
        if own_sandbox:
            _close(sandbox)
    ledger = getattr(proposer, "ledger", None)
    return SearchResult(
        method=config.method, best=best, holdout=holdout, history=run.history,
        stats=run.stats(stopped, time.perf_counter() - t0),
        ledger=dict(ledger) if isinstance(ledger, Mapping) else {},
        problem=dict(problem.describe()),
    )
