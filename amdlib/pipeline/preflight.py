"""Checks of a run's LLM settings before any kernel starts (``amd run`` / ``amd sweep``).

Each problem is a one-line :class:`~amdlib.errors.UserError` (exit 2) raised
before anything is written under outputs/:

* ``proposer: replay`` without a cassette, with a missing one, or a malformed one;
* ``proposer: openai`` without an API key for a remote endpoint, with an
  endpoint that cannot be reached (a short ``GET /models``), or with a cost cap
  on a model that has no price (``price_in`` / ``price_out`` fix it).

For an ``openai`` run, the cost estimate's one line is returned for printing.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterable, Mapping

from amdlib.errors import UserError

#: Seconds the reachability check waits for the endpoint.
PROBE_TIMEOUT_S = 5.0


def _replay(params: Mapping[str, Any]) -> None:
    from amdlib.core.proposers.cassette import load_cassette

    cassette = str(params.get("cassette", "") or "")
    if not cassette:
        raise UserError("proposer replay needs a cassette: set cassette to a recorded .jsonl file"
                        " (e.g. the cassette.jsonl of an earlier openai run)")
    path = Path(cassette).expanduser()
    if path.is_dir():
        raise UserError(f"cassette {path} is a folder: name the recorded .jsonl file")
    load_cassette(path)  # missing or malformed: a one-line UserError


def probe(base_url: str, api_key: str, timeout_s: float = PROBE_TIMEOUT_S) -> str:
    """GET ``<base_url>/models``: the first model id the endpoint lists ("" when it lists none
    or does not implement the route). An endpoint that cannot be reached is a UserError."""
    from amdlib.core.proposers.openai_client import FIX_ENDPOINT, redact_url

    request = urllib.request.Request(f"{base_url.rstrip('/')}/models",
                                     headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - http(s) checked upstream
            body = response.read(1_000_000)
    except urllib.error.HTTPError as err:
        if err.code in (401, 403):
            raise UserError(f"{redact_url(base_url)} rejected the credentials (HTTP {err.code}):"
                            " set OPENAI_API_KEY to a valid key for this endpoint") from None
        return ""  # it answers: some servers just do not list models
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        why = "timed out" if "timed out" in str(reason) else str(reason).split("]")[-1].strip() or "no answer"
        raise UserError(f"cannot reach the LLM endpoint {redact_url(base_url)} ({why}); {FIX_ENDPOINT}") from None
    try:
        data = json.loads(body)
        return str(data["data"][0]["id"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def _openai(params: Mapping[str, Any], env: Mapping[str, str]) -> str:
    from amdlib.core.proposers.ledger import require_price, resolve_price
    from amdlib.core.proposers.openai_client import resolve_endpoint

    endpoint = resolve_endpoint(str(params.get("model", "") or ""), str(params.get("base_url", "") or ""), env)
    served = probe(endpoint.base_url, endpoint.api_key)
    model = endpoint.model or served
    price = resolve_price(model, float(params.get("price_in", -1.0)), float(params.get("price_out", -1.0)))
    require_price(model, price, float(params.get("max_cost_usd", 0.0) or 0.0))
    return model


_KEYS = ("proposer", "model", "base_url", "cassette", "max_cost_usd", "price_in", "price_out")


def check(experiment: str, params: Mapping[str, Any], env: Mapping[str, str] | None = None,
          _models: dict[str, str] | None = None) -> str:
    """Check one run's LLM settings; returns the estimate line for an openai run, else ""."""
    env = os.environ if env is None else env
    proposer = params.get("proposer")
    if proposer == "replay":
        _replay(params)
        return ""
    if proposer != "openai":
        return ""
    key = json.dumps([params.get(k) for k in _KEYS], default=str)
    cache = {} if _models is None else _models
    if key not in cache:
        cache[key] = _openai(params, env)  # each distinct endpoint setting is probed once
    from amdlib.pipeline.estimate import estimate

    return estimate(experiment, {**params, "model": cache[key] or env.get("OPENAI_MODEL", "")}).line()


def check_all(experiment: str, runs: Iterable[Mapping[str, Any]], env: Mapping[str, str] | None = None) -> list[str]:
    """Check every run of a sweep; the estimate lines of its LLM runs and, for several, their total."""
    from amdlib.pipeline.estimate import estimate

    models: dict[str, str] = {}
    lines, calls, cost, priced = [], 0, 0.0, True
    for params in runs:
        line = check(experiment, params, env, models)
        if line:
            est = estimate(experiment, {**params, "model": models[json.dumps([params.get(k) for k in _KEYS],
                                                                              default=str)]})
            lines.append(line)
            calls += est.calls
            value = est.cost()
            priced = priced and value is not None
            cost += value or 0.0
    if len(lines) > 1:
        usd = f"~${cost:,.2f}" if priced else "unpriced"
        return [f"LLM estimate for the sweep: {len(lines)} LLM runs, {calls:,} calls, {usd} in total"]
    return lines
