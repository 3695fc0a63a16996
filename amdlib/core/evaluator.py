"""Candidate text -> verdict: extract, dedupe, policy check, sandboxed harness, score.

Untrusted code only ever runs in a sandbox worker; the parent scores the
harness outputs with ``problem.score``. Programs are deduplicated by the hash
of their normalised AST: a duplicate gets the cached verdict and costs nothing.
Payloads are computed once per split and sent under a content key, so workers
can cache them.
"""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

import numpy as np

from amdlib.core.code import code_hash, extract
from amdlib.core.problem import Evaluation, Outputs, Payload, Problem

#: (normalised code, thought, code hash, verdict) of one candidate text.
Verdict = tuple[str, str, str, Evaluation]


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
    def _job(self, code: str, payload: Payload, key: str) -> Any:
        from amdlib.core.sandbox import Job

        return Job(code=code, entry=self.problem.function.name, harness=self.problem.harness,
                   payload=payload, payload_key=key, timeout_s=self.problem.timeout_s,
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
        results = self.sandbox.map([self._job(c, payload, key) for c in codes])
        if split == "search":
            self.n_run += len(codes)
        return [self._score(r, split) for r in results]

    # ------------------------------------------------------------- public API
    def screen(self, text: str) -> tuple[str, str, str, Evaluation | None]:
        """Extraction and policy only: (code, thought, hash, verdict or None if it must run)."""
        fn = self.problem.function
        ex = extract(text, fn.name, tuple(fn.allowed_modules))
        if ex.code is None:
            return "", ex.thought, "", Evaluation.failed(f"extract: {ex.reason or 'no function found'}")
        h = code_hash(ex.code)
        if h in self._cache:
            return ex.code, ex.thought, h, self._cache[h]
        reason = _policy_reason(ex.code, fn.name, tuple(fn.allowed_modules))
        if reason:
            self._cache[h] = Evaluation.failed(reason)
            return ex.code, ex.thought, h, self._cache[h]
        return ex.code, ex.thought, h, None

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

    def outputs(self, code: str, payload: Payload, payload_key: str) -> Outputs:
        """Raw harness outputs of ``code`` on any payload; raises ``RuntimeError`` on failure."""
        result = self.sandbox.map([self._job(code, payload, payload_key)])[0]
        if not result.ok:
            raise RuntimeError(f"harness failed: {result.reason}")
        return dict(result.outputs)
