"""The ``openai`` proposer: any OpenAI-compatible chat endpoint through the ``openai`` package.

Works with OpenAI, DeepSeek, vLLM, Ollama and llama.cpp servers (``amd
llm-server``). Settings come from the run config or the environment
(``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``OPENAI_MODEL``). The API key lives
only in the client object: it is never logged, put in a ledger or cassette, or
shown in an error message.

Transient failures (rate limits, timeouts, 5xx) are retried with jittered
exponential backoff, within ``request_timeout_s x attempts`` in all; bad credentials, an unreachable endpoint or an unknown model are a
one-line :class:`~amdlib.errors.UserError`. Budgets are enforced by the
:class:`~amdlib.core.proposers.ledger.Ledger` before a request is sent.

Reasoning models: a ``reasoning_content`` / ``reasoning`` field of the answer
is kept in front of the text as a ``<think>...</think>`` block, which code
extraction sets aside (the final answer's code wins), so the cassette keeps
everything that was paid for.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

import openai

from amdlib.core.program import Proposal, ProposalRequest
from amdlib.core.proposers.cassette import sampling_params
from amdlib.core.proposers.ledger import Ledger, RunBudget, resolve_price, run_for
from amdlib.errors import UserError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers (llama.cpp, Ollama, vLLM) ignore the key, but the client insists on one.
PLACEHOLDER_KEY = "sk-no-key-required"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
DEFAULT_MAX_TOKENS = 2048
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_RETRIES = 5
#: Answer fields where reasoning models put their thinking (DeepSeek, vLLM, OpenRouter).
REASONING_FIELDS = ("reasoning_content", "reasoning")
FIX_ENDPOINT = "set OPENAI_BASE_URL (or base_url) to a running endpoint, or start one with `amd llm-server`"


def redact_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages and ledgers."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def is_local(url: str) -> bool:
    """True when ``url`` points at this machine (no key needed)."""
    return (urlsplit(url).hostname or "").lower() in LOCAL_HOSTS


@dataclass(frozen=True)
class Endpoint:
    """A resolved endpoint; ``api_key`` is kept out of ``repr`` so it cannot leak into logs."""

    base_url: str
    model: str
    api_key: str = field(repr=False)
    local: bool = False


def resolve_endpoint(model: str = "", base_url: str = "", env: Mapping[str, str] | None = None) -> Endpoint:
    """Fill the model, URL and key from the config, else the environment.

    A local endpoint gets a placeholder key when none is set; a remote one
    without a key is a UserError. An empty model is allowed only for a local
    endpoint (the proposer then asks the server which model it serves).
    """
    env = os.environ if env is None else env
    url = (base_url or env.get("OPENAI_BASE_URL", "") or DEFAULT_BASE_URL).strip().rstrip("/")
    if not urlsplit(url).scheme.startswith("http") or not urlsplit(url).hostname:
        raise UserError(f"invalid OpenAI base URL {redact_url(url)!r}: expected e.g. http://127.0.0.1:8080/v1")
    local = is_local(url)
    key = env.get("OPENAI_API_KEY", "").strip()
    if not key:
        if not local:
            raise UserError(
                f"no API key for {redact_url(url)}: set OPENAI_API_KEY, or use a local endpoint"
                " (`amd llm-server`, then set OPENAI_BASE_URL to the URL it prints)"
            )
        key = PLACEHOLDER_KEY
    name = (model or env.get("OPENAI_MODEL", "")).strip()
    if not name and not local:
        raise UserError(f"no model for {redact_url(url)}: set the model parameter or OPENAI_MODEL")
    return Endpoint(base_url=url, model=name, api_key=key, local=local)


def _retry_after(exc: Exception) -> float | None:
    """Seconds from a Retry-After header, when the server sent one."""
    response = getattr(exc, "response", None)
    try:
        return float(response.headers.get("retry-after")) if response is not None else None
    except (TypeError, ValueError):
        return None


def _is_connect_timeout(exc: Exception) -> bool:
    """Whether a timeout happened while connecting (the host never answered) rather than reading."""
    cause = exc.__cause__ or exc.__context__
    return cause is not None and "Connect" in type(cause).__name__


class OpenAIProposer:
    """Proposes by chatting with an OpenAI-compatible endpoint.

    Thread-safe: at most ``concurrency`` requests are in flight at once.
    ``ledger`` is a dict of calls, tokens and estimated cost.
    """

    name = "openai"
    writes_prose = True

    def __init__(
        self,
        model: str = "",
        base_url: str = "",
        *,
        temperature: float = 1.0,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        concurrency: int = 4,
        max_llm_calls: int = 0,
        max_cost_usd: float = 0.0,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        connect_timeout_s: float = 10.0,
        max_retries: int = DEFAULT_RETRIES,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        price_in: float = -1.0,
        price_out: float = -1.0,
        run: RunBudget | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoint = resolve_endpoint(model, base_url, env)
        self.base_url = redact_url(self.endpoint.base_url)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.timeout_s = float(timeout_s)
        self._jitter = random.Random()  # backoff jitter only: never affects what a run computes
        self._client = openai.OpenAI(
            base_url=self.endpoint.base_url,
            api_key=self.endpoint.api_key,
            max_retries=0,  # retries are ours: counted in the ledger, with our backoff
            timeout=openai.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s)),
        )
        self._sem = threading.BoundedSemaphore(max(1, int(concurrency or 1)))
        self._lock = threading.Lock()
        self._model = self.endpoint.model
        self._answered = False  # has the endpoint answered once? (then connection errors are transient)
        self._token_param = "max_tokens"
        self._prices = (float(price_in), float(price_out))
        explicit = resolve_price("", *self._prices, prices={})
        self._ledger = Ledger(self._model, max_llm_calls, max_cost_usd, source="openai", price=explicit,
                              max_tokens=self.max_tokens, run=run or run_for(max_llm_calls, max_cost_usd))
        if self._model:
            self._ledger.check_priced()  # a cost cap on an unpriced model is refused before any call

    # -- public API -----------------------------------------------------------------

    @property
    def model(self) -> str:
        """The model name sent with each request (asked of a local server when unset)."""
        with self._lock:
            if not self._model:
                self._model = self._served_model()
                self._ledger.model = self._model
                self._ledger.check_priced()
            return self._model

    def sampling_params(self, seed: int) -> dict[str, Any]:
        """Temperature, max_tokens and the endpoint seed of the request made with ``seed``."""
        return sampling_params(self.temperature, self.max_tokens, seed)

    def admit(self, request: ProposalRequest, seed: int) -> bool:
        """Reserve the budget for ``request`` before it is sent; False when a cap refuses it."""
        self.model  # noqa: B018 - resolves (and prices) the model before the first reservation
        return self._ledger.admit(request.index, request.messages)

    def propose(self, request: ProposalRequest, seed: int) -> Proposal:
        """Ask the endpoint for one completion; BudgetExhausted before a call beyond budget."""
        model = self.model
        self._ledger.reserve(request.index, request.messages)
        try:
            with self._sem:
                start = time.monotonic()  # latency of the call itself, not the wait for a slot
                text, usage = self._complete(model, request.messages, self.sampling_params(seed))
                seconds = time.monotonic() - start
        except BaseException:
            self._ledger.release(index=request.index)
            raise
        self._ledger.record(usage, seconds, index=request.index)
        return Proposal(text=text, usage=usage, model=model)

    @property
    def budget_ledger(self) -> Ledger:
        """The ledger object (wrappers charge calls they answer from a cassette to it)."""
        return self._ledger

    @property
    def ledger(self) -> dict[str, Any]:
        return {**self._ledger.to_dict(), "base_url": self.base_url}

    def close(self) -> None:
        self._client.close()

    # -- internals ------------------------------------------------------------------

    def _served_model(self) -> str:
        try:
            models = [m.id for m in self._client.models.list()]
        except openai.APIConnectionError:
            raise UserError(f"cannot reach the LLM endpoint {self.base_url}; {FIX_ENDPOINT}") from None
        except openai.APIStatusError as exc:
            raise UserError(
                f"{self.base_url} did not list its models (HTTP {exc.status_code}); set the model parameter or OPENAI_MODEL"
            ) from None
        if not models:
            raise UserError(f"{self.base_url} serves no model; set the model parameter or OPENAI_MODEL")
        self._answered = True
        return models[0]

    def _clean(self, text: str) -> str:
        """A server message cut to one short line with the key taken out."""
        text = " ".join(str(text).split())[:200]
        return text.replace(self.endpoint.api_key, "***") if self.endpoint.api_key else text

    def _create(self, model: str, messages: list[dict[str, str]], params: dict[str, Any]) -> Any:
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "temperature": params["temperature"],
            "seed": params["seed"],
            self._token_param: params["max_tokens"],
        }
        return self._client.chat.completions.create(**kwargs)

    def _complete(self, model: str, messages: list[dict[str, str]], params: dict[str, Any]) -> tuple[str, dict[str, int]]:
        last = ""
        attempts = self.max_retries + 1
        deadline = time.monotonic() + self.timeout_s * attempts  # all attempts and waits together
        for attempt in range(attempts):
            wait: float | None = None
            try:
                response = self._create(model, messages, params)
                self._answered = True
                return self._parse(response)
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise UserError(
                    f"{self.base_url} rejected the credentials (HTTP {exc.status_code}):"
                    " set OPENAI_API_KEY to a valid key for this endpoint"
                ) from None
            except openai.NotFoundError as exc:
                raise UserError(
                    f"{self.base_url} answered 404 for model {model!r} ({self._clean(exc.message)}):"
                    " check the model parameter / OPENAI_MODEL and the base URL"
                ) from None
            except openai.RateLimitError as exc:
                if "insufficient_quota" in str(exc.body) + exc.message:
                    raise UserError(f"{self.base_url}: the account's quota is used up; add credit or use another key") from None
                last, wait = "HTTP 429 rate limited", _retry_after(exc)
            except openai.APITimeoutError as exc:
                if not self._answered and _is_connect_timeout(exc):
                    raise UserError(f"cannot reach the LLM endpoint {self.base_url} (connect timeout); {FIX_ENDPOINT}") from None
                last = "timeout"
            except openai.APIConnectionError:
                if not self._answered:
                    raise UserError(f"cannot reach the LLM endpoint {self.base_url}; {FIX_ENDPOINT}") from None
                last = "connection error"
            except openai.BadRequestError as exc:
                message = self._clean(exc.message)
                if self._token_param == "max_tokens" and "max_completion_tokens" in message:
                    self._token_param = "max_completion_tokens"  # newer OpenAI models renamed the cap
                    continue
                raise UserError(f"{self.base_url} refused the request (HTTP 400): {message}") from None
            except openai.APIStatusError as exc:
                if exc.status_code < 500:
                    raise UserError(
                        f"{self.base_url} refused the request (HTTP {exc.status_code}): {self._clean(exc.message)}"
                    ) from None
                last, wait = f"HTTP {exc.status_code}", _retry_after(exc)
            left = deadline - time.monotonic()
            if attempt < self.max_retries and left > 0:
                self._ledger.note_retry()
                # Full jitter: concurrent callers that failed together do not retry together.
                backoff = self._jitter.uniform(0.5, 1.0) * self.backoff_s * 2**attempt if wait is None else wait
                time.sleep(min(self.max_backoff_s, max(0.0, backoff), left))
            elif attempt < self.max_retries:
                break
        if last == "timeout":
            raise UserError(
                f"{self.base_url} did not answer within request_timeout_s={self.timeout_s:g}s"
                f" ({attempts} attempts): check the endpoint, or raise request_timeout_s"
            )
        raise UserError(
            f"{self.base_url} kept failing ({last}) after {attempts} attempts;"
            " try again later or lower the concurrency"
        )

    @staticmethod
    def _parse(response: Any) -> tuple[str, dict[str, int]]:
        choices = getattr(response, "choices", None) or []
        message = choices[0].message if choices else None
        text = (getattr(message, "content", None) or "") if message is not None else ""
        extra = getattr(message, "model_extra", None) or {}
        for name in REASONING_FIELDS:
            thinking = getattr(message, name, None) or extra.get(name)
            if isinstance(thinking, str) and thinking.strip():
                text = f"<think>\n{thinking.strip()}\n</think>\n{text}"  # set aside by code extraction
                break
        usage_obj = getattr(response, "usage", None)
        usage = {
            k: int(getattr(usage_obj, k, 0) or 0)
            for k in ("prompt_tokens", "completion_tokens", "total_tokens")
        } if usage_obj is not None else {}
        return text, usage
