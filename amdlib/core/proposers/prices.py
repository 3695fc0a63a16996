"""The LLM price table and what calls cost: USD per million tokens, list prices with their sources.

The packaged table is ``amdlib/data/llm_prices.json``; each entry names its
source page and date. ``price_in``/``price_out`` override it for one run.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from typing import Any, Mapping

from amdlib.errors import UserError

PRICES_ENV = "AMD_LLM_PRICES"

Prices = dict[str, dict[str, float]]


def load_prices(path: str | None = None) -> Prices:
    """The price table: USD per million tokens, ``{model: {"input": x, "output": y}}``.

    The packaged table is read first; a JSON file of the same shape named by
    ``path`` (or the ``AMD_LLM_PRICES`` environment variable) overrides it.
    """
    text = resources.files("amdlib").joinpath("data", "llm_prices.json").read_text(encoding="utf-8")
    table: Prices = {k: {"input": v["input"], "output": v["output"]} for k, v in json.loads(text)["models"].items()}
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


def resolve_price(model: str, price_in: float = -1.0, price_out: float = -1.0,
                  prices: Prices | None = None) -> dict[str, float] | None:
    """USD per million input/output tokens: the explicit ``price_in``/``price_out`` when both
    are given (>= 0), else the price table's entry for ``model`` (None when unknown)."""
    if price_in is not None and price_out is not None and price_in >= 0 and price_out >= 0:
        return {"input": float(price_in), "output": float(price_out)}
    return price_for(model, load_prices() if prices is None else prices)


def require_price(model: str, price: Mapping[str, float] | None, max_cost_usd: float) -> None:
    """A cost cap needs a price: an unknown model with a cap is a one-line UserError."""
    if max_cost_usd and price is None:
        raise UserError(
            f"model {model or '(unnamed)'!r} is not in the LLM price table, so max_cost_usd={max_cost_usd:g} cannot be"
            " enforced: set price_in and price_out (USD per million tokens, e.g. --set price_in=2.5 --set"
            " price_out=10), or set max_cost_usd=0 for no cost cap"
        )


def call_cost(price: Mapping[str, float] | None, prompt_tokens: float, completion_tokens: float) -> float:
    """USD cost of one call at ``price`` (0 for an unpriced model)."""
    if price is None:
        return 0.0
    return (prompt_tokens * price.get("input", 0.0) + completion_tokens * price.get("output", 0.0)) / 1e6


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int, prices: Mapping[str, Any]) -> float:
    """Estimated USD cost of one call (0 for unknown or local models)."""
    return call_cost(price_for(model, prices), prompt_tokens, completion_tokens)


def prompt_chars(messages: list[Mapping[str, str]] | None) -> int:
    """Characters of a chat prompt's contents."""
    return sum(len(str(m.get("content", ""))) for m in messages or [])
