"""Answers of reasoning models: thinking is set aside before extraction; the final answer's code wins."""

from __future__ import annotations

import pytest

from amdlib.core.code import extract
from amdlib.core.code_locate import split_reasoning
from amdlib.core.search.prompts import clean_strategy_text

FINAL = "{Use the median of the reports.}\n```python\ndef f(x):\n    return x + 1\n```"
DRAFT_FENCED = "```python\ndef f(x):\n    return 0\n```"
DRAFT_BARE = "def f(x):\n    return 0\n"


@pytest.mark.parametrize("text", [
    f"<think>\n{DRAFT_FENCED}\n</think>\n{FINAL}",
    f"<think>{DRAFT_BARE}</think>{FINAL}",
    f"<THINKING>\nfirst {DRAFT_BARE}</THINKING>\n\n{FINAL}",
    f"{DRAFT_BARE}\nso the final:\n</think>\n{FINAL}",  # the server put <think> in the prompt
    f"<reasoning>{DRAFT_FENCED}</reasoning>{FINAL}<think>more {DRAFT_BARE}</think>",
])
def test_final_code_wins_and_the_thought_is_the_answers_idea(text: str) -> None:
    out = extract(text, "f")
    assert out.code is not None and "x + 1" in out.code and "return 0" not in out.code
    assert out.thought == "Use the median of the reports."


def test_split_reasoning_keeps_the_thinking_apart() -> None:
    answer, thinking = split_reasoning(f"<think>\nplan A\n</think>\n{FINAL}")
    assert answer == FINAL and thinking == "plan A"
    assert split_reasoning(FINAL) == (FINAL, "")
    assert split_reasoning("") == ("", "")


def test_answer_cut_off_while_thinking_has_no_code() -> None:
    out = extract(f"<think>\nlet me try {DRAFT_FENCED}\nand then", "f")
    assert out.code is None and out.reason.startswith("no code found (only a reasoning block")
    assert "max_tokens" in out.reason and out.thought == ""


def test_strategy_answers_drop_the_thinking() -> None:
    text = "<think>They want something new.</think>\nCombine the parents' breakpoints, then tune them."
    assert clean_strategy_text(text) == "Combine the parents' breakpoints, then tune them."
