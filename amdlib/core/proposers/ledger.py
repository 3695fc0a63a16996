"""Accounting of LLM calls: tokens, estimated cost, and the hard budgets of a run.

Two levels, both thread-safe:

* :class:`RunBudget` holds one *run's* caps and totals, across all the searches
  the run makes (a notebook kernel is one run: :func:`begin_run` starts it).
* :class:`Ledger` holds one search's counters and charges its run.

Both count in a :class:`Totals` record (calls, in flight, tokens, cost, resumed, stop reason).

A call first *reserves* a slot, which is where the caps are enforced, before
anything is sent: the reservation holds the call's worst-case cost (its prompt
plus ``max_tokens`` of output, or the mean cost so far if that is larger), so
calls in flight can never take the spend beyond the cap. The slot is then
*recorded* with the actual usage, or *released* when the call failed uncharged.
"""

from __future__ import annotations

import math
import sys
import threading
from dataclasses import dataclass
from typing import Any, Mapping

from amdlib.core.proposers.prices import (  # noqa: F401 (re-exported: the ledger's public API)
    PRICES_ENV, Prices, call_cost, estimate_cost, load_prices, price_for, prompt_chars, require_price, resolve_price,
)
from amdlib.errors import BudgetExhausted

#: Characters per token assumed when a prompt's tokens must be estimated before sending it.
#: Conservative for reservations (real tokenizers average about 4 characters per token).
RESERVE_CHARS_PER_TOKEN = 3.0
#: Tokens of chat framing per message (role markers), added to estimates.
TOKENS_PER_MESSAGE = 4


@dataclass
class Totals:
    """The counters a run and each of its searches both keep: one record, so one place counts.

    Not locked itself: its owner (a :class:`RunBudget` or a :class:`Ledger`) holds its own lock around it.
    """

    calls: int = 0
    in_flight: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    resumed: int = 0
    stopped_by_budget: str = ""  # which cap refused a call first ("" while none has)

    def finish(self, cost: float | None, prompt: int = 0, completion: int = 0, resumed: bool = False,
               held: bool = True) -> None:
        """A call ends: charged ``cost`` (completed) or nothing (None); ``held``: it was in flight here."""
        if held:
            self.in_flight = max(0, self.in_flight - 1)
        if cost is not None:
            self.calls += 1
            self.cost_usd += cost
            self.prompt_tokens += prompt
            self.completion_tokens += completion
            self.resumed += int(resumed)

    def to_dict(self) -> dict[str, Any]:
        """The totals as the ledgers report them."""
        return {
            "calls": self.calls, "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "cost_usd": round(self.cost_usd, 6), "resumed_from_cassette": self.resumed,
            "stopped_by_budget": self.stopped_by_budget,
        }


class RunBudget:
    """One run's LLM caps (0 = none) and totals, shared by all the searches of the run."""

    def __init__(self, max_calls: int = 0, max_cost_usd: float = 0.0, announce: bool = True) -> None:
        self.max_calls = int(max_calls or 0)
        self.max_cost_usd = float(max_cost_usd or 0.0)
        self.announce = announce
        self._lock = threading.Lock()
        self.totals = Totals()
        self.reserved_usd = 0.0
        self.ledgers: list["Ledger"] = []

    def reserve(self, worst_cost: float) -> float:
        """Claim a slot holding ``worst_cost`` (raised to the mean cost so far); returns the amount held."""
        with self._lock:
            t = self.totals
            if self.max_calls and t.calls + t.in_flight >= self.max_calls:
                self._refuse("max_llm_calls", f"LLM call budget reached: max_llm_calls={self.max_calls}"
                             f" ({t.calls + t.in_flight} calls made, ${t.cost_usd:.4f})")
            hold = max(worst_cost, t.cost_usd / t.calls if t.calls else 0.0)
            if self.max_cost_usd and t.cost_usd + self.reserved_usd + hold > self.max_cost_usd:
                self._refuse("max_cost_usd", f"LLM cost budget reached: max_cost_usd={self.max_cost_usd:g}"
                             f" (${t.cost_usd:.4f} spent in {t.calls} calls, next call up to ${hold:.4f})")
            t.in_flight += 1
            self.reserved_usd += hold
            return hold

    def _refuse(self, which: str, message: str) -> None:
        first = not self.totals.stopped_by_budget
        self.totals.stopped_by_budget = which
        if first and self.announce:
            print(f"amd: {message}; the search stops with what it has", file=sys.stderr, flush=True)
        raise BudgetExhausted(message)

    def settle(self, held: float, cost: float | None, prompt: int = 0, completion: int = 0,
               resumed: bool = False) -> None:
        """End a reservation: charge ``cost`` (a completed call) or nothing (``cost`` None)."""
        with self._lock:
            self.reserved_usd = max(0.0, self.reserved_usd - held)
            self.totals.finish(cost, prompt, completion, resumed)

    def charge(self, cost: float, prompt: int = 0, completion: int = 0, resumed: bool = False) -> None:
        """Count a completed call that held no reservation here (a replayed one)."""
        with self._lock:
            self.totals.finish(cost, prompt, completion, resumed, held=False)

    def to_dict(self) -> dict[str, Any]:
        """The run's totals, and each search's ledger."""
        with self._lock:
            out = {**self.totals.to_dict(), "max_llm_calls": self.max_calls, "max_cost_usd": self.max_cost_usd}
            ledgers = list(self.ledgers)
        out["searches"] = [ledger.to_dict() for ledger in ledgers]
        return out


_RUN: RunBudget | None = None
_RUN_LOCK = threading.Lock()


def begin_run(max_calls: int = 0, max_cost_usd: float = 0.0) -> RunBudget:
    """Start this process's run: every later ledger charges it (a notebook kernel is one run)."""
    global _RUN
    with _RUN_LOCK:
        _RUN = RunBudget(max_calls, max_cost_usd)
        return _RUN


def current_run() -> RunBudget | None:
    """The run begun in this process, if any."""
    return _RUN


def run_for(max_calls: int, max_cost_usd: float) -> RunBudget | None:
    """The begun run a search with these caps belongs to (None: the search is its own run).

    A search whose caps differ from the run's was configured apart from it
    (a library call inside a test process, say) and keeps its own budget.
    """
    run = _RUN
    if run is None or (run.max_calls, run.max_cost_usd) != (int(max_calls or 0), float(max_cost_usd or 0.0)):
        return None
    return run


def end_run() -> None:
    """Forget this process's run (tests, or a kernel reused for another run)."""
    global _RUN
    with _RUN_LOCK:
        _RUN = None


class Ledger:
    """Thread-safe counters of one search's LLM use, charging its run's budget.

    ``run`` is the run this search belongs to; without one, the search is its
    own run with caps ``max_calls`` / ``max_cost_usd``. ``price`` (USD per million tokens)
    overrides the price table. ``max_tokens`` bounds a call's output for its
    worst-case reservation. ``enforce=False`` counts without capping (replay:
    the cassette says where the recorded run stopped).
    """

    def __init__(
        self,
        model: str,
        max_calls: int = 0,
        max_cost_usd: float = 0.0,
        prices: Prices | None = None,
        source: str = "openai",
        *,
        price: Mapping[str, float] | None = None,
        max_tokens: int = 0,
        run: RunBudget | None = None,
        enforce: bool = True,
    ) -> None:
        self.prices = load_prices() if prices is None else prices
        self._price_override = dict(price) if price is not None else None
        self.source = source
        self.max_tokens = int(max_tokens or 0)
        self.enforce = enforce
        self.run = run if run is not None else RunBudget(max_calls, max_cost_usd, announce=False)
        self._caps = self.run if enforce else RunBudget()  # not enforcing: an uncapped stand-in for reservations
        self.max_calls = self.run.max_calls if enforce else 0
        self.max_cost_usd = self.run.max_cost_usd if enforce else 0.0
        self._lock = threading.Lock()
        self.model = model
        self.totals = Totals()
        self.retries = 0
        self.failures = 0
        self.seconds = 0.0
        self._held: dict[int, float] = {}  # request index -> amount reserved (admitted ahead)
        self.run.ledgers.append(self)

    @property
    def price(self) -> dict[str, float] | None:
        """USD per million input/output tokens of this ledger's model (None: unpriced)."""
        return self._price_override if self._price_override is not None else price_for(self.model, self.prices)

    def check_priced(self) -> None:
        """Refuse (UserError) a cost cap on a model with no price."""
        if self.enforce:
            require_price(self.model, self.price, self.run.max_cost_usd)

    def worst_cost(self, messages: list[Mapping[str, str]] | None) -> float:
        """The most one call with ``messages`` can cost: its prompt plus ``max_tokens`` of output."""
        n_messages = len(messages or [])
        prompt = math.ceil(prompt_chars(messages) / RESERVE_CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * n_messages
        return call_cost(self.price, prompt, self.max_tokens)

    def reserve(self, index: int | None = None, messages: list[Mapping[str, str]] | None = None) -> None:
        """Claim a slot for one call, or raise BudgetExhausted if it would exceed a cap.

        A request admitted ahead (:meth:`admit`) uses the slot it already holds.
        """
        with self._lock:
            if index is not None and index in self._held:
                return
        try:
            held = self._caps.reserve(self.worst_cost(messages))
        except BudgetExhausted:
            with self._lock:
                self.totals.stopped_by_budget = self._caps.totals.stopped_by_budget
            raise
        with self._lock:
            self.totals.in_flight += 1
            self._held[index if index is not None else -1 - len(self._held)] = held

    def admit(self, index: int, messages: list[Mapping[str, str]] | None = None) -> bool:
        """Reserve for request ``index`` ahead of sending it; False when a cap refuses it.

        The engine admits a batch's requests in index order before sending any,
        so which requests get the last slots never depends on thread timing.
        """
        try:
            self.reserve(index, messages)
        except BudgetExhausted:
            return False
        return True

    def _end(self, index: int | None, cost: float | None, prompt: int = 0, completion: int = 0,
             resumed: bool = False) -> None:
        """End ``index``'s reservation (or the oldest anonymous one) here and in the budget holding it."""
        with self._lock:
            if index is None or index not in self._held:
                index = next((k for k in self._held if k < 0), None)
            held = self._held.pop(index, 0.0)
            self.totals.finish(cost, prompt, completion, resumed)
        self._caps.settle(held, cost, prompt, completion, resumed)

    def release(self, failed: bool = True, index: int | None = None) -> None:
        """Give back a reserved slot whose call was not charged."""
        self._end(index, None)
        with self._lock:
            self.failures += int(failed)

    def record(self, usage: Mapping[str, Any], seconds: float = 0.0, model: str | None = None,
               index: int | None = None, resumed: bool = False) -> float:
        """Turn a reserved slot into a completed call; returns its estimated cost."""
        prompt = int(usage.get("prompt_tokens", 0) or 0)
        completion = int(usage.get("completion_tokens", 0) or 0)
        price = self._price_override if self._price_override is not None else price_for(model or self.model, self.prices)
        cost = call_cost(price, prompt, completion)
        self._end(index, cost, prompt, completion, resumed)
        if not self.enforce:  # replay: the run's totals still count the recorded calls
            self.run.charge(cost, prompt, completion, resumed)
        with self._lock:
            self.seconds += seconds
        return cost

    def note_retry(self) -> None:
        """Count one retried attempt (rate limit, timeout, 5xx)."""
        with self._lock:
            self.retries += 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot (no credentials: the ledger never sees them)."""
        with self._lock:
            return {
                "source": self.source, "model": self.model, **self.totals.to_dict(),
                "priced": self.price is not None, "retries": self.retries, "failures": self.failures,
                "seconds": round(self.seconds, 3), "max_llm_calls": self.max_calls, "max_cost_usd": self.max_cost_usd,
            }
