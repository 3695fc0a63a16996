"""The evaluator: bounded extraction, dedupe, policy, sandboxed harness and scoring on the toy problem."""

from __future__ import annotations

import time

import numpy as np
import pytest

from amdlib.core.evaluator import EXTRACT_SECONDS, Evaluator, ExtractionLimit, bounded, payload_digest
from amdlib.core.sandbox import Sandbox
from amdlib.problems.toy import ToyProblem
from tests.core.sandbox.hostile import EXTRACTION_BOMBS

GRID = np.linspace(0, 1, 64)
TARGET = GRID - (1 - GRID) / 2


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


@pytest.fixture
def ev(sandbox) -> Evaluator:
    return Evaluator(ToyProblem(), sandbox)


def test_seed_program_scores_minus_mse(ev):
    code, thought, h, evaluation = ev.evaluate_text(ToyProblem.seed_program)
    assert evaluation.valid and evaluation.score == pytest.approx(-np.mean(TARGET**2))
    assert "def fit(x)" in code and len(h) == 64 and thought == ""
    assert "largest error 1.0000 at x=1.000" in evaluation.diagnostics


def test_thought_is_kept_and_duplicates_are_not_rerun(ev):
    first = ev.evaluate_text("{use the identity}\n```python\ndef fit(x):\n    return x\n```")
    assert first[1] == "use the identity"
    assert first[3].score == pytest.approx(-np.mean((GRID - TARGET) ** 2))
    runs = ev.n_run
    again = ev.evaluate_text("def fit(x):\n    # reformatted\n    return (x)\n")
    assert ev.n_run == runs and again[2] == first[2] and again[3] is first[3]


def test_rejections_have_reasons_and_do_not_run(ev):
    assert ev.evaluate_text("I cannot help with that.")[3].error.startswith("extract:")
    code, _, h, bad = ev.evaluate_text("def fit(x):\n    return x.__class__\n")
    assert bad.error.startswith("policy:") and not bad.valid and code and h
    assert ev.n_run == 0


def test_runtime_and_output_failures_are_invalid(ev):
    crash = ev.evaluate_text("def fit(x):\n    return 1 / 0\n")[3]
    assert not crash.valid and "ZeroDivisionError" in crash.error
    shape = ev.evaluate_text("def fit(x):\n    return x[:5]\n")[3]
    assert not shape.valid and shape.error.startswith("output: shape (5,)")
    assert ev.n_run == 2


def test_evaluate_many_keeps_order_and_runs_each_program_once(ev):
    texts = [f"def fit(x):\n    return {c} * x\n" for c in (0.5, 1.0, 1.5, 0.5, 2.0)]
    out = ev.evaluate_many(texts)
    scores = [v[3].score for v in out]
    expected = [-np.mean((c * GRID - TARGET) ** 2) for c in (0.5, 1.0, 1.5, 0.5, 2.0)]
    np.testing.assert_allclose(scores, expected)
    assert out[0][2] == out[3][2] and ev.n_run == 4


def test_evaluate_code_on_holdout_and_raw_outputs(ev):
    toy = ev.problem
    hold = ev.evaluate_code("def fit(x):\n    return 1.5 * x - 0.5\n", split="holdout")
    assert hold.valid and hold.score == pytest.approx(0.0, abs=1e-24)
    x = np.array([0.0, 0.25, 1.0])
    out = ev.outputs("def fit(x):\n    return 2 * x\n", {"x": x}, "custom-" + payload_digest({"x": x}))
    np.testing.assert_allclose(out["y"], 2 * x)
    with pytest.raises(RuntimeError):
        ev.outputs("def fit(x):\n    return 1 / 0\n", {"x": x}, "custom-2")
    assert ev.payload("search")[1].startswith("toy-search-") and ev.payload("search")[0] is toy.payload("search")


def test_payload_digest_depends_on_content():
    a = {"x": np.arange(3.0)}
    assert payload_digest(a) == payload_digest({"x": np.arange(3.0)})
    assert payload_digest(a) != payload_digest({"x": np.arange(3.0) + 1})
    assert payload_digest(a) != payload_digest({"y": np.arange(3.0)})


@pytest.mark.parametrize("name", sorted(EXTRACTION_BOMBS))
def test_extraction_bombs_fail_quickly_with_a_reason(ev, name):
    started = time.monotonic()
    code, _thought, h, verdict = ev.evaluate_text(EXTRACTION_BOMBS[name])
    assert time.monotonic() - started < EXTRACT_SECONDS + 2.0
    assert not verdict.valid and verdict.error.startswith("extract:") and ev.n_run == 0
    # The evaluator is still fine afterwards.
    assert ev.evaluate_text(ToyProblem.seed_program)[3].valid


def test_bounded_raises_extraction_limit_and_leaves_nothing_pending():
    def spin():
        while True:
            (lambda: None)()

    with pytest.raises(ExtractionLimit, match="gave up after 0.2 s"):
        bounded(spin, seconds=0.2)
    with pytest.raises(ExtractionLimit, match="RecursionError"):
        bounded(lambda: (_ for _ in ()).throw(RecursionError()))
    assert bounded(sum, [1, 2, 3]) == 6
    # A limit that did not fire leaves nothing pending: later work in this thread is not interrupted.
    assert bounded(lambda: sum(range(10)), seconds=0.05) == 45
    time.sleep(0.1)
    assert sum(range(10**5)) == 4999950000
