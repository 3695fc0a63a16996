"""Candidate text -> verdict: extract, dedupe, policy check, sandboxed harness, score.

Untrusted code only ever runs in a sandbox worker; the parent scores the
harness outputs with ``problem.score``, each as soon as it arrives (the
outputs are dropped once scored, so a batch's memory does not grow with its
size, and scoring overlaps the sandbox runs). Programs are deduplicated by
the hash of their normalised AST: a duplicate gets the cached verdict and
costs nothing. Payloads are computed once per split and sent under a content
key, so workers can cache them.

Extraction parses hostile text in the parent, so it is bounded (``bounded``):
texts over ``MAX_TEXT_CHARS`` are refused before parsing, and parsing that
recurses too deeply, runs out of memory or takes longer than
``EXTRACT_SECONDS`` fails that candidate with an ``extract:`` reason.
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
import time
from typing import Any, Callable, Sequence, TypeVar

import numpy as np

from amdlib.core.code import code_hash, extract
from amdlib.core.problem import Evaluation, Outputs, Payload, Problem

#: (normalised code, thought, code hash, verdict) of one candidate text.
Verdict = tuple[str, str, str, Evaluation]
#: Longest candidate text that is parsed at all (model answers are a few thousand characters).
MAX_TEXT_CHARS = 100_000
#: Seconds (wall clock) extraction, hashing and the policy check may take on one text.
EXTRACT_SECONDS = 3.0
T = TypeVar("T")


class ExtractionLimit(Exception):
    """Extraction of one text hit a bound; the message is the candidate's reason."""


class _Overtime(BaseException):
    # A BaseException, so that no ``except Exception`` in the parsing code swallows it.
    pass


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None)


class _Watchdog:
    """One daemon thread that raises ``_Overtime`` in threads whose deadline passed.

    The exception is delivered between bytecodes, so it stops the Python
    loops that re-parse a pathological text over and over (each single
    parse is short: the text is capped), at no cost per call.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._deadlines: dict[int, float] = {}
        self._fired: set[int] = set()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> None:
        with self._cond:
            self._deadlines[threading.get_ident()] = time.monotonic() + seconds
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="extract-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self) -> None:
        """Stop watching this thread; withdraw an exception that was sent but not yet delivered."""
        tid = threading.get_ident()
        with self._cond:
            self._deadlines.pop(tid, None)
            if tid in self._fired:
                self._fired.discard(tid)
                _raise_in(tid, None)

    def _watch(self) -> None:
        with self._cond:
            while True:
                if not self._deadlines:
                    self._cond.wait()
                    continue
                tid, deadline = min(self._deadlines.items(), key=lambda item: item[1])
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                # Again every 50 ms until disarmed: one delivered inside a gc or __del__
                # callback is swallowed there.
                self._deadlines[tid] = time.monotonic() + 0.05
                self._fired.add(tid)
                _raise_in(tid, _Overtime)


_WATCHDOG = _Watchdog()


def bounded(fn: Callable[..., T], *args: Any, seconds: float = EXTRACT_SECONDS) -> T:
    """``fn(*args)`` under a time limit; recursion and memory failures become ``ExtractionLimit``."""
    try:
        _WATCHDOG.arm(seconds)
        try:
            return fn(*args)
        finally:
            _WATCHDOG.disarm()
    except _Overtime:
        _WATCHDOG.disarm()
        raise ExtractionLimit(f"gave up after {seconds:g} s of parsing (pathological text)") from None
    except RecursionError:
        raise ExtractionLimit("nested too deeply to parse (RecursionError)") from None
    except MemoryError:
        raise ExtractionLimit("too large to parse (MemoryError)") from None
    except SystemError:  # the limit's exception landed inside the C parser, which reports it so
        raise ExtractionLimit(f"gave up after {seconds:g} s of parsing (pathological text)") from None
    except (ValueError, OverflowError, SyntaxError) as err:
        raise ExtractionLimit(f"unparsable text ({type(err).__name__})") from None


def payload_digest(payload: Payload) -> str:
    """A short content hash of a payload (names, dtypes, shapes and bytes)."""
    h = hashlib.sha256()
    for key in sorted(payload):
        arr = np.ascontiguousarray(payload[key])
        h.update(f"{key}:{arr.dtype.str}:{arr.shape};".encode())
        h.update(arr.tobytes())
    return h.hexdigest()[:16]


def _policy_reason(code: str, entry: str, allowed: tuple[str, ...]) -> str:
    """Why ``code`` breaks the sandbox's static policy ('' when it is fine)."""
    from amdlib.core.sandbox import check_policy

    reason = check_policy(code, entry, allowed)
    return f"policy: {reason}" if reason else ""


class Evaluator:
    """Evaluates candidates of one problem in one sandbox, with a per-run dedupe cache."""

    def __init__(self, problem: Problem, sandbox: Any) -> None:
        self.problem = problem
        self.sandbox = sandbox
        self._payloads: dict[str, tuple[Payload, str]] = {}
        self._cache: dict[str, Evaluation] = {}  # code hash -> verdict on the search split
        #: Candidates run in the sandbox on the search split (duplicates and rejections excluded).
        self.n_run = 0

    # --------------------------------------------------------------- payloads
    def payload(self, split: str) -> tuple[Payload, str]:
        """The split's payload and its content key (computed once)."""
        if split not in self._payloads:
            payload = self.problem.payload(split)
            self._payloads[split] = (payload, f"{self.problem.name}-{split}-{payload_digest(payload)}")
        return self._payloads[split]

    # ------------------------------------------------------------------- jobs
    def _job(self, code: str, payload: Payload, key: str, harness: str = "", timeout_s: float | None = None) -> Any:
        """A sandbox job of ``code`` through the scoring harness, or the problem's extra harness
        called ``harness`` (a key of ``problem.harnesses``)."""
        from amdlib.core.sandbox import Job

        return Job(code=code, entry=self.problem.function.name,
                   harness=self.problem.harnesses[harness] if harness else self.problem.harness,
                   payload=payload, payload_key=key, timeout_s=self.problem.timeout_s if timeout_s is None else timeout_s,
                   allowed_modules=tuple(self.problem.function.allowed_modules))

    def _score(self, result: Any, split: str) -> Evaluation:
        if not result.ok:
            return Evaluation.failed(str(result.reason) or "sandbox: failed")
        try:
            return self.problem.score(result.outputs, split)
        except Exception as exc:  # noqa: BLE001 - bad outputs must not end the run
            return Evaluation.failed(f"score: {type(exc).__name__}: {exc}")

    def _run(self, codes: Sequence[str], split: str) -> list[Evaluation]:
        if not codes:
            return []
        payload, key = self.payload(split)
        verdicts = self.sandbox.map([self._job(c, payload, key) for c in codes], lambda _i, r: self._score(r, split))
        if split == "search":
            self.n_run += len(codes)
        return verdicts

    # ------------------------------------------------------------- public API
    def screen(self, text: str) -> tuple[str, str, str, Evaluation | None]:
        """Extraction and policy only: (code, thought, hash, verdict or None if it must run)."""
        if not isinstance(text, str):
            return "", "", "", Evaluation.failed("extract: the answer is not text")
        if len(text) > MAX_TEXT_CHARS:
            return "", "", "", Evaluation.failed(f"extract: text longer than {MAX_TEXT_CHARS} characters")
        try:
            code, thought, h, reason = bounded(self._extract, text)
        except ExtractionLimit as err:
            return "", "", "", Evaluation.failed(f"extract: {err}")
        if not code:
            return "", thought, "", Evaluation.failed(reason)
        if h in self._cache:
            return code, thought, h, self._cache[h]
        if reason:
            self._cache[h] = Evaluation.failed(reason)
            return code, thought, h, self._cache[h]
        return code, thought, h, None

    def _extract(self, text: str) -> tuple[str, str, str, str]:
        """(code, thought, hash, reason): the parsing steps that ``bounded`` guards."""
        fn = self.problem.function
        ex = extract(text, fn.name, tuple(fn.allowed_modules))
        if ex.code is None:
            return "", ex.thought, "", f"extract: {ex.reason or 'no function found'}"
        h = code_hash(ex.code)
        if h in self._cache:
            return ex.code, ex.thought, h, ""
        return ex.code, ex.thought, h, _policy_reason(ex.code, fn.name, tuple(fn.allowed_modules))

    def evaluate_many(self, texts: Sequence[str]) -> list[Verdict]:
        """Evaluate texts in parallel over the sandbox workers; results in input order.

        A text whose program was seen before (earlier in the run or earlier in
        ``texts``) is not run again: it gets the cached verdict.
        """
        screened = [self.screen(t) for t in texts]
        to_run: dict[str, str] = {}  # hash -> code, first occurrence order
        for code, _, h, ev in screened:
            if ev is None and h not in to_run:
                to_run[h] = code
        for h, ev in zip(to_run, self._run(list(to_run.values()), "search")):
            self._cache[h] = ev
        return [(code, thought, h, ev if ev is not None else self._cache[h]) for code, thought, h, ev in screened]

    def evaluate_text(self, text: str) -> Verdict:
        """Evaluate one candidate text: (normalised code, thought, code hash, verdict)."""
        return self.evaluate_many([text])[0]

    def evaluate_code(self, code: str, split: str = "search") -> Evaluation:
        """Score trusted or already-extracted code on ``split`` (search verdicts are cached)."""
        h = code_hash(code)
        if split == "search" and h in self._cache:
            return self._cache[h]
        ev = self._run([code], split)[0]
        if split == "search":
            self._cache[h] = ev
        return ev

    def outputs(self, code: str, payload: Payload, payload_key: str, harness: str = "",
                timeout_s: float | None = None) -> Outputs:
        """Raw outputs of ``code`` on any payload, through the scoring harness or the problem's extra
        harness ``harness``; raises ``RuntimeError`` on failure."""
        return self.outputs_many(code, [(payload, payload_key)], harness, timeout_s)[0]

    def outputs_many(self, code: str, payloads: Sequence[tuple[Payload, str]], harness: str = "",
                     timeout_s: float | None = None) -> list[Outputs]:
        """Raw outputs of ``code`` on each ``(payload, payload_key)``, run in parallel sandbox jobs
        (in order); raises ``RuntimeError`` with the first failure's reason."""
        results = self.sandbox.map([self._job(code, p, k, harness, timeout_s) for p, k in payloads])
        bad = [r.reason for r in results if not r.ok]
        if bad:
            raise RuntimeError(f"harness failed: {bad[0]}")
        return [dict(r.outputs) for r in results]
