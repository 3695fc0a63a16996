"""What an LLM run will cost, before it starts: calls, tokens and dollars per search and in total.

``amd estimate <exp> -p FILE`` prints it, and ``amd run`` / ``amd sweep`` print
the total line before an LLM run starts. The estimate follows from the budget
(which searches the experiment's notebook runs, and how many candidates each
asks for), the prompts the strategies build (the problem's task and template,
plus parents whose code is about as long as an answer) and the price table.

Assumptions, stated with every estimate: a token is 4 characters, an answer is
:data:`ANSWER_TOKENS` tokens (``max_tokens`` bounds the "at most" figure), and
eoh-e's prompt-strategy calls are counted at their maximum (two per stagnation
period of ``stagnation`` generations).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Mapping

from amdlib.core.experiment import SearchPlan
from amdlib.core.problem import Problem
from amdlib.core.proposers.ledger import TOKENS_PER_MESSAGE, call_cost, resolve_price

CHARS_PER_TOKEN = 4.0
#: Typical completion length of a mechanism answer (an idea and one function), in tokens.
ANSWER_TOKENS = 450
#: What one parent adds to a prompt besides its code: its idea, fitness and diagnostics line.
PARENT_EXTRA_CHARS = 350
#: A FunSearch version's header line (version, fitness, diagnostics).
FUNSEARCH_EXTRA_CHARS = 150
#: Strategy prompts of eoh-e: the task, up to five instructions, the request; and a short answer.
STRATEGY_PROMPT_EXTRA_CHARS = 1200
STRATEGY_ANSWER_TOKENS = 80
STAGNATION = 3
#: Parents per request: EoH operators i1 (0), then e1, e2 (2 each) and m1, m2 (1 each); FunSearch 2.
EOH_MEAN_PARENTS = 1.5
FUNSEARCH_PARENTS = 2


@dataclass
class SearchEstimate:
    """One search of a run: its calls and expected tokens."""

    name: str
    method: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    strategy_calls: int = 0

    @property
    def total_calls(self) -> int:
        return self.calls + self.strategy_calls


@dataclass
class Estimate:
    """A run's estimate: its searches, the price, the caps."""

    experiment: str
    model: str
    price: dict[str, float] | None
    searches: list[SearchEstimate]
    max_tokens: int
    max_llm_calls: int = 0
    max_cost_usd: float = 0.0

    @property
    def calls(self) -> int:
        n = sum(s.total_calls for s in self.searches)
        return min(n, self.max_llm_calls) if self.max_llm_calls else n

    def _scale(self) -> float:
        """The share of the planned calls the call cap lets through."""
        planned = sum(s.total_calls for s in self.searches)
        return self.calls / planned if planned else 0.0

    @property
    def prompt_tokens(self) -> int:
        return round(sum(s.prompt_tokens for s in self.searches) * self._scale())

    @property
    def completion_tokens(self) -> int:
        return round(sum(s.completion_tokens for s in self.searches) * self._scale())

    def cost(self, search: SearchEstimate | None = None) -> float | None:
        """Expected USD of the run's calls (after the call cap; None: unpriced model)."""
        if self.price is None:
            return None
        if search is not None:
            return call_cost(self.price, search.prompt_tokens, search.completion_tokens)
        return call_cost(self.price, self.prompt_tokens, self.completion_tokens)

    def cost_stop(self) -> int | None:
        """About how many calls the cost cap lets through, when it stops the run early."""
        cost = self.cost()
        if not self.max_cost_usd or cost is None or cost <= self.max_cost_usd:
            return None
        return int(self.calls * self.max_cost_usd / cost)

    def at_most(self) -> float | None:
        """USD if every answer used ``max_tokens`` (before the cost cap)."""
        if self.price is None:
            return None
        return call_cost(self.price, self.prompt_tokens, self.calls * self.max_tokens)

    def _usd(self, value: float | None) -> str:
        return "unpriced" if value is None else f"${value:,.2f}"

    def line(self) -> str:
        """The one-line summary printed before an LLM run starts."""
        caps = []
        if self.max_llm_calls and self.max_llm_calls < sum(s.total_calls for s in self.searches):
            caps.append(f"max_llm_calls={self.max_llm_calls} stops it at {self.max_llm_calls:,} calls")
        stop = self.cost_stop()
        if stop is not None:
            caps.append(f"max_cost_usd={self.max_cost_usd:g} stops it after about {stop:,} calls")
        elif self.max_cost_usd:
            caps.append(f"within max_cost_usd={self.max_cost_usd:g}")
        cap = f"; {'; '.join(caps)}" if caps else ""
        return (f"LLM estimate for {self.experiment} on {self.model or '(served model)'}: {self.calls:,} calls in "
                f"{len(self.searches)} search(es), ~{self.prompt_tokens + self.completion_tokens:,} tokens, "
                f"~{self._usd(self.cost())} (at most {self._usd(self.at_most())} if every answer used "
                f"max_tokens={self.max_tokens}){cap}")

    def table(self) -> list[str]:
        """Per-search lines, a total and the assumptions."""
        price = ("not in the price table (set price_in/price_out)" if self.price is None else
                 f"${self.price['input']:g} in / ${self.price['output']:g} out per million tokens")
        lines = [f"{self.experiment}: model {self.model or '(served model)'}, {price}",
                 f"{'search':34s} {'method':9s} {'calls':>7s} {'prompt tok':>12s} {'answer tok':>11s} {'USD':>10s}"]
        for s in self.searches:
            extra = f" (+{s.strategy_calls} strategy)" if s.strategy_calls else ""
            lines.append(f"{s.name[:34]:34s} {s.method:9s} {s.total_calls:7,d} {s.prompt_tokens:12,d} "
                         f"{s.completion_tokens:11,d} {self._usd(self.cost(s)):>10s}{extra}")
        lines.append(f"{'total (after the call cap)':34s} {'':9s} {self.calls:7,d} {self.prompt_tokens:12,d} "
                     f"{self.completion_tokens:11,d} {self._usd(self.cost()):>10s}")
        lines.append(self.line())
        lines.append(f"assumptions: {CHARS_PER_TOKEN:g} characters per token, {ANSWER_TOKENS} tokens per answer, "
                     "parents as long as answers, eoh-e strategy calls at their maximum")
        return lines


# --- the prompts ----------------------------------------------------------------------------


def _base_chars(problem: Problem, method: str = "eoh") -> int:
    """Characters of a prompt without parents (system message, task, template, instruction, answer
    format), measured on the strategy's own prompt builder (EoH: the mean over its operators)."""
    from amdlib.core.proposers.ledger import prompt_chars
    from amdlib.core.search import prompts

    if method == "funsearch":
        return prompt_chars(prompts.funsearch_messages(problem, []))
    ops = [prompts.OPERATOR_INSTRUCTIONS[k] for k in ("i1", "e1", "e2", "m1", "m2")]
    return round(sum(prompt_chars(prompts.eoh_messages(problem, [], op)) for op in ops) / len(ops))


def search_estimate(name: str, problem: Problem, params: Mapping[str, Any], budget: int | None = None) -> SearchEstimate:
    """Calls and tokens of one search of ``problem`` with the run's search settings."""
    from amdlib.core.engine import SearchConfig

    cfg = SearchConfig.from_params({**params, **({"max_evaluations": budget} if budget is not None else {})})
    calls = cfg.max_evaluations
    answer_chars = ANSWER_TOKENS * CHARS_PER_TOKEN
    parents = EOH_MEAN_PARENTS if cfg.method in ("eoh", "eoh-e") else FUNSEARCH_PARENTS if cfg.method == "funsearch" else 1
    seed_chars = len(problem.seed_program)
    if cfg.method in ("eoh", "eoh-e"):
        # The initial population (i1) has no parents.
        first = min(calls, cfg.pop_size)
        parent_chars = (calls - first) * EOH_MEAN_PARENTS * (answer_chars + PARENT_EXTRA_CHARS)
    else:
        # The first batch sees only the seed program; later prompts show evolved parents.
        first = min(calls, cfg.batch_size)
        parent_chars = (first * (seed_chars + FUNSEARCH_EXTRA_CHARS)
                        + (calls - first) * parents * (answer_chars + FUNSEARCH_EXTRA_CHARS))
    base = _base_chars(problem, cfg.method)
    prompt = calls * (base / CHARS_PER_TOKEN + 2 * TOKENS_PER_MESSAGE) + parent_chars / CHARS_PER_TOKEN
    strategy = 0
    strategy_prompt = 0.0
    if cfg.method == "eoh-e":
        generations = cfg.generations or max(0, math.ceil((calls - cfg.pop_size) / (4 * cfg.pop_size)))
        strategy = 2 * (generations // STAGNATION)
        strategy_prompt = strategy * (len(problem.task) + STRATEGY_PROMPT_EXTRA_CHARS) / CHARS_PER_TOKEN
    return SearchEstimate(name, cfg.method, calls, round(prompt + strategy_prompt),
                          calls * ANSWER_TOKENS + strategy * STRATEGY_ANSWER_TOKENS, strategy)


# --- the searches a run performs (the experiment's own plan) ---------------------------------


def _times(s: SearchEstimate, n: int) -> SearchEstimate:
    return SearchEstimate(s.name, s.method, s.calls * n, s.prompt_tokens * n, s.completion_tokens * n,
                          s.strategy_calls * n)


def planned(plan: SearchPlan, params: Mapping[str, Any]) -> SearchEstimate:
    """The estimate of one planned search (its overrides applied, times its count)."""
    return _times(search_estimate(plan.name, plan.problem, {**params, **plan.overrides}), plan.times)


def estimate(experiment: str, params: Mapping[str, Any]) -> Estimate:
    """The estimate of one run of ``experiment`` with validated ``params``."""
    from amdlib.experiments import get

    searches = [planned(plan, params) for plan in get(experiment).searches(params)]
    model = str(params.get("model", "") or "") or os.environ.get("OPENAI_MODEL", "")
    price = resolve_price(model, float(params.get("price_in", -1.0)), float(params.get("price_out", -1.0)))
    return Estimate(experiment, model, price, searches, int(params.get("max_tokens", 2048)),
                    int(params.get("max_llm_calls", 0) or 0), float(params.get("max_cost_usd", 0.0) or 0.0))
