"""Per-run accounting of LLM calls: tokens, estimated cost, and the hard budgets.

The ledger is shared by the threads that call the endpoint, so every method
takes a lock. A call first *reserves* a slot (which is where the budgets are
enforced, before anything is sent), then either *records* its usage or
*releases* the slot when it failed without being charged.
"""

from __future__ import annotations

import json
import os
import threading
from importlib import resources
from typing import Any, Mapping

from amdlib.errors import BudgetExhausted, UserError

PRICES_ENV = "AMD_LLM_PRICES"

Prices = dict[str, dict[str, float]]


def load_prices(path: str | None = None) -> Prices:
    """The price table: USD per million tokens, ``{model: {"input": x, "output": y}}``.

    The packaged table is read first; a JSON file of the same shape named by
    ``path`` (or the ``AMD_LLM_PRICES`` environment variable) overrides it.
    """
    text = resources.files("amdlib").joinpath("data", "llm_prices.json").read_text(encoding="utf-8")
    table: Prices = dict(json.loads(text)["models"])
    extra = path or os.environ.get(PRICES_ENV, "")
    if extra:
        try:
            with open(extra, encoding="utf-8") as fh:
                data = json.load(fh)
            table.update(data.get("models", data))
        except (OSError, ValueError, AttributeError) as exc:
            raise UserError(f"cannot read the LLM price table {extra!r} ({exc}); fix or unset {PRICES_ENV}") from exc
    return table


def price_for(model: str, prices: Mapping[str, Mapping[str, float]]) -> dict[str, float] | None:
    """The price entry of ``model`` by longest prefix match, or None when unknown.

    A ``provider/`` part is dropped and dated variants match their family
    (``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``).
    """
    name = model.rsplit("/", 1)[-1].lower()
    best = ""
    for key in prices:
        if name.startswith(key.lower()) and len(key) > len(best):
            best = key
    return dict(prices[best]) if best else None


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int, prices: Mapping[str, Any]) -> float:
    """Estimated USD cost of one call (0 for unknown or local models)."""
    entry = price_for(model, prices)
    if entry is None:
        return 0.0
    return (prompt_tokens * entry.get("input", 0.0) + completion_tokens * entry.get("output", 0.0)) / 1e6


class Ledger:
    """Thread-safe counters of one run's LLM use, with hard budgets (0 = none).

    ``max_calls`` caps the calls started; ``max_cost_usd`` stops before a call
    whose expected cost (the mean cost of the calls so far) would take the
    estimated spend beyond the cap.
    """

    def __init__(
        self,
        model: str,
        max_calls: int = 0,
        max_cost_usd: float = 0.0,
        prices: Prices | None = None,
        source: str = "openai",
    ) -> None:
        self.model = model
        self.max_calls = int(max_calls or 0)
        self.max_cost_usd = float(max_cost_usd or 0.0)
        self.prices = load_prices() if prices is None else prices
        self.source = source
        self._lock = threading.Lock()
        self.calls = 0
        self.in_flight = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost_usd = 0.0
        self.retries = 0
        self.failures = 0
        self.seconds = 0.0
        self.stopped_by_budget = ""

    def reserve(self, index: int | None = None) -> None:
        """Claim a slot for one call, or raise BudgetExhausted if it would exceed a budget.

        ``index`` is the request's sample index. A run numbers its requests
        from 0, so ``index >= max_calls`` is refused up front: which requests
        of a concurrent batch get the last slots then does not depend on
        thread timing.
        """
        with self._lock:
            started = self.calls + self.in_flight
            over_index = index is not None and index >= self.max_calls
            if self.max_calls and (over_index or started >= self.max_calls):
                self.stopped_by_budget = "max_llm_calls"
                raise BudgetExhausted(f"LLM call budget used up ({self.max_calls} calls)")
            if self.max_cost_usd:
                mean = self.cost_usd / self.calls if self.calls else 0.0
                expected = self.cost_usd + mean * (self.in_flight + 1)
                if self.cost_usd >= self.max_cost_usd or expected > self.max_cost_usd:
                    self.stopped_by_budget = "max_cost_usd"
                    raise BudgetExhausted(
                        f"LLM cost budget used up (${self.cost_usd:.4f} of ${self.max_cost_usd:.4f})"
                    )
            self.in_flight += 1

    def release(self, failed: bool = True) -> None:
        """Give back a reserved slot whose call was not charged."""
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)
            self.failures += int(failed)

    def record(self, usage: Mapping[str, Any], seconds: float = 0.0, model: str | None = None) -> float:
        """Turn a reserved slot into a completed call; returns its estimated cost."""
        prompt = int(usage.get("prompt_tokens", 0) or 0)
        completion = int(usage.get("completion_tokens", 0) or 0)
        cost = estimate_cost(model or self.model, prompt, completion, self.prices)
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)
            self.calls += 1
            self.prompt_tokens += prompt
            self.completion_tokens += completion
            self.cost_usd += cost
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
                "source": self.source,
                "model": self.model,
                "calls": self.calls,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens,
                "cost_usd": round(self.cost_usd, 6),
                "priced": price_for(self.model, self.prices) is not None,
                "retries": self.retries,
                "failures": self.failures,
                "seconds": round(self.seconds, 3),
                "max_llm_calls": self.max_calls,
                "max_cost_usd": self.max_cost_usd,
                "stopped_by_budget": self.stopped_by_budget,
            }
