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
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from amdlib.core.evaluator import Evaluator
from amdlib.core.problem import Evaluation, Problem
from amdlib.core.program import Program, ProposalRequest
from amdlib.core.proposers.base import Proposer
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
    #: eoh/eoh-e: evolving generations after the initial population, as the papers count them
    #: (0: as many as max_evaluations allows); when set, the budget is computed from it.
    generations: int = 0
    #: Let diagnostics shown to the model quote the known optimum (the papers' models never saw it).
    reveal_optimum: bool = False
    #: LLM endpoint knobs (openai proposer): seconds per request, answer token cap, retries and
    #: first backoff of failed requests, and USD per million tokens (-1: from the price table).
    request_timeout_s: float = 120.0
    max_tokens: int = 2048
    retries: int = 5
    backoff_s: float = 1.0
    price_in: float = -1.0
    price_out: float = -1.0
    #: FunSearch island reset period in samples (0: a quarter of the budget).
    reset_every: int = 0
    #: Re-score the best program on the holdout split.
    holdout: bool = True
    #: Samples per batch (funsearch, random); fixed so results do not depend on workers.
    batch_size: int = 8
    #: Tune promising candidates' float literals on the search split (amdlib.core.constants);
    #: every trial counts in ``max_evaluations``.
    fit_constants: bool = False
    #: Trial evaluations per fitted candidate.
    fit_budget: int = 30
    #: Optimiser of the constant fit: ``nelder-mead`` or ``powell``.
    fit_method: str = "nelder-mead"
    #: Fit only candidates within this relative margin of the best score so far.
    fit_margin: float = 0.05

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "SearchConfig":
        """Build from a params dict; unknown keys are ignored, missing ones take defaults."""
        known = {f.name: f for f in fields(cls)}
        values = {k: v for k, v in params.items() if k in known and v is not None}
        config = cls(**values)
        if config.generations > 0 and config.method in ("eoh", "eoh-e"):
            from amdlib.core.search.eoh import generations_budget

            config.max_evaluations = generations_budget(config.pop_size, config.generations)
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

        return EoH(problem, generations=config.generations, **common)
    if config.method == "eoh-e":
        from amdlib.core.search.eoh_e import EoHE

        return EoHE(problem, generations=config.generations, **common)
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

    def __init__(self, problem: Problem, config: SearchConfig, sandbox: Any, proposer: Proposer, progress: bool) -> None:
        self.problem, self.config, self.proposer = problem, config, proposer
        self.evaluator = Evaluator(problem, sandbox)
        self.strategy = make_strategy(config, problem)
        self.strategy.proposer_writes_prose = bool(proposer.writes_prose)
        self.history: list[Program] = []
        self.first_of: dict[str, int] = {}  # code hash -> id of its first program
        self.fitter = None
        if config.fit_constants and config.fit_budget > 0:
            from amdlib.core.constants import ConstantFitter, FitConfig

            self.fitter = ConstantFitter(self.evaluator, FitConfig(
                budget=config.fit_budget, method=config.fit_method, margin=config.fit_margin))
        self.progress = progress
        self.timing = {"propose_s": 0.0, "evaluate_s": 0.0}
        self.text_requests = 0
        self.llm_answers = 0
        parallel = proposer.writes_prose and config.concurrency > 1
        self.pool = ThreadPoolExecutor(config.concurrency) if parallel else None

    def propose(self, requests: list[ProposalRequest]) -> tuple[list[str], bool]:
        """Texts for ``requests`` in order; stops at the first refused one (budget)."""
        t0 = time.perf_counter()
        seeds = [request_seed(self.config.seed, r.index) for r in requests]
        texts: list[str] = []
        exhausted = False
        # Budgets are reserved in index order before anything is sent, so which requests
        # get the last slots never depends on thread timing (and in-flight calls cannot overshoot).
        admitted = 0
        while admitted < len(requests) and self.proposer.admit(requests[admitted], seeds[admitted]):
            admitted += 1
        if admitted < len(requests):
            exhausted = True
            requests, seeds = requests[:admitted], seeds[:admitted]
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
        self.llm_answers += len(texts)
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

    def spent(self) -> int:
        """Evaluations used so far: proposals plus constant-fitting trials (the seed is free)."""
        return len(self.history) - 1 + (self.fitter.stats["evaluations"] if self.fitter else 0)

    def fit(self, program: Program, best_score: float) -> None:
        """Replace ``program``'s literals by fitted ones (in place) when the fit improves it."""
        if self.fitter is None or program.duplicate_of is not None or not program.code:
            return
        if not self.fitter.wants(program.evaluation, best_score, program.code):
            return
        left = self.config.max_evaluations - self.spent()
        if left <= 0:
            return
        res = self.fitter.fit(program.code, program.evaluation, program.code_hash, left)
        if res.improved:
            from amdlib.core.code import code_hash

            program.code, program.evaluation = res.code, res.evaluation
            program.code_hash = code_hash(res.code)
            program.operator = f"{program.operator}+fit"
            self.first_of.setdefault(program.code_hash, program.id)

    def execute(self) -> tuple[Program, str]:
        from tqdm.auto import tqdm

        budget = self.config.max_evaluations
        seed = self.add(None, self.evaluator.evaluate_text(self.problem.seed_program))
        self.fit(seed, -math.inf)
        self.strategy.initialize(seed)
        best, stopped = seed, "complete"
        bar = tqdm(total=budget, desc=f"{self.config.method} search", disable=not self.progress)
        try:
            while self.spent() < budget:
                text_requests = self.strategy.ask_texts()
                if text_requests:
                    texts, exhausted = self.propose(text_requests)
                    self.text_requests += len(texts)
                    if exhausted:
                        stopped = "budget"
                        break
                    self.strategy.tell_texts(text_requests, texts)
                requests = self.strategy.ask(budget - self.spent())
                if not requests:
                    stopped = "strategy"
                    break
                texts, exhausted = self.propose(requests)
                t0 = time.perf_counter()
                verdicts = self.evaluator.evaluate_many(texts)
                self.timing["evaluate_s"] += time.perf_counter() - t0
                programs = [self.add(req, v) for req, v in zip(requests, verdicts)]
                for p in programs:
                    self.fit(p, best.score if best.valid else -math.inf)
                if programs:
                    self.strategy.tell(programs)
                for p in programs:
                    if p.valid and sort_key(p) < sort_key(best):
                        best = p
                bar.n = min(budget, self.spent())
                bar.refresh()
                bar.set_postfix(self.progress_fields(best))
                if exhausted:
                    stopped = "budget"
                    break
        finally:
            bar.close()
            if self.pool is not None:
                self.pool.shutdown(wait=True)
        return best, stopped

    def progress_fields(self, best: Program) -> dict[str, str]:
        """What the progress bar shows: best score, valid candidates, and LLM calls/tokens/cost so far."""
        fields = {"best": f"{best.score:.6g}", "valid": f"{sum(p.valid for p in self.history) - 1}"
                  f"/{len(self.history) - 1}"}
        ledger = self.proposer.ledger
        if ledger.get("calls") is not None:
            fields.update(calls=str(ledger["calls"]), tokens=str(ledger.get("total_tokens", 0)),
                          usd=f"{ledger.get('cost_usd', 0.0):.4f}")
        return fields

    def check_answers(self) -> None:
        """An LLM search whose answers gave no valid candidate fails with one line: the endpoint
        answers, but not with usable code (a reasoning model out of tokens, empty answers, ...)."""
        if self.llm_answers == 0 or not self.proposer.writes_prose:
            return
        candidates = self.history[1:]
        if candidates and not any(p.valid for p in candidates):
            reasons: dict[str, int] = {}
            for p in candidates:
                key = (p.evaluation.error or "unknown").split(";")[0].strip()[:70]
                reasons[key] = reasons.get(key, 0) + 1
            top = ", ".join(f"{k} ({v})" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
            raise UserError(
                f"the LLM answered {len(candidates)} times but no answer was a valid candidate ({top}):"
                " check the model (a reasoning model may need a larger max_tokens) and the endpoint's answers"
                " in the cassette")

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
            "constant_fitting": self.fit_stats(),
            "strategy": self.strategy.stats(),
            "timing": {"seconds": seconds, **self.timing,
                       "per_candidate_s": seconds / max(1, proposals)},
        }


    def fit_stats(self) -> dict[str, Any]:
        """What constant fitting did and cost (its trials are part of the evaluation budget)."""
        if self.fitter is None:
            return {"enabled": False}
        spent = max(1, self.spent())
        fits = self.fitter.stats
        return {"enabled": True, "method": self.config.fit_method, "budget_per_candidate": self.config.fit_budget,
                **fits, "budget_share": fits["evaluations"] / spent,
                "evaluations_per_fitted_candidate": fits["evaluations"] / max(1, fits["candidates_fitted"])}


def run_search(problem: Problem, config: SearchConfig, progress: bool = True, sandbox: Any = None,
               proposer: Proposer | None = None) -> SearchResult:
    """Run one search. A sandbox and proposer are created (and closed) when not given."""
    t0 = time.perf_counter()
    own_sandbox, own_proposer = sandbox is None, proposer is None
    if own_sandbox:
        from amdlib.core.sandbox import Sandbox

        sandbox = Sandbox(workers=config.workers, memory_mb=problem.memory_mb)
    try:
        if proposer is None:
            from amdlib.core.proposers.factory import make_proposer

            proposer = make_proposer(config, problem)
        try:
            problem.reveal_optimum = bool(config.reveal_optimum)  # read by diagnostics that know the optimum
            run = _Run(problem, config, sandbox, proposer, progress)
            best, stopped = run.execute()
            run.check_answers()
            holdout = None
            if config.holdout and best.code:
                holdout = run.evaluator.evaluate_code(best.code, "holdout")
        finally:
            if own_proposer:
                proposer.close()
    finally:
        if own_sandbox:
            sandbox.close()
    return SearchResult(
        method=config.method, best=best, holdout=holdout, history=run.history,
        stats=run.stats(stopped, time.perf_counter() - t0),
        ledger=dict(proposer.ledger),
        problem=dict(problem.describe()),
    )


#: Restart r of a run searches with seed ``seed + RESTART_STRIDE * r`` (its data stay those of ``seed``).
RESTART_STRIDE = 7919


def restart_seed(seed: int, restart: int) -> int:
    """The search seed of restart ``restart`` of a run seeded ``seed``."""
    return seed + RESTART_STRIDE * restart


def run_restarts(problem: Problem, config: SearchConfig, restarts: int, progress: bool = True,
                 sandbox: Any = None) -> tuple[SearchResult, list[SearchResult]]:
    """``restarts`` independent searches of ``problem`` (restart r: search seed
    :func:`restart_seed`), each with the full budget, in one sandbox. Returns the one whose best
    program has the best search score (ties: the earliest restart) and all of them in order."""
    own = sandbox is None
    if own:
        from amdlib.core.sandbox import Sandbox

        sandbox = Sandbox(workers=config.workers, memory_mb=problem.memory_mb)
    try:
        results = [run_search(problem, replace(config, seed=restart_seed(config.seed, r)), progress=progress,
                              sandbox=sandbox) for r in range(max(1, restarts))]
    finally:
        if own:
            sandbox.close()
    chosen = min(range(len(results)), key=lambda r: (sort_key(results[r].best)[0], r))
    return results[chosen], results
