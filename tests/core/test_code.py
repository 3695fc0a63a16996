"""Tests of amdlib.core.code: extraction from messy model text, normalisation, hashing."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amdlib.core.code import code_hash, extract, normalize

DATA = Path(__file__).resolve().parents[1] / "data" / "smollm2_outputs.jsonl"


def run(code: str, name: str, *args):
    """Execute extracted (trusted, test-authored) code and call the function."""
    ns: dict = {}
    exec(code, ns)  # noqa: S102 - test inputs written here
    return ns[name](*args)


# --- hand-written edge cases ----------------------------------------------------------------


def test_fenced_with_prose_and_brace_thought():
    text = ("{Use the virtual value of the bid.}\nHere is my answer:\n```python\n"
            "def priority(bid, cdf, pdf):\n    return bid - (1 - cdf(bid)) / pdf(bid)\n```\n"
            "This works because of Myerson.")
    ex = extract(text, "priority")
    assert ex.reason == ""
    assert ex.thought == "Use the virtual value of the bid."
    assert ex.code == "def priority(bid, cdf, pdf):\n    return bid - (1 - cdf(bid)) / pdf(bid)"


def test_unfenced_with_prose_before_and_after():
    text = ("Sure! The function below doubles x. It is simple.\n\ndef f(x):\n    # twice\n"
            "    return 2 * x\n\nThis function returns twice its input.\n")
    ex = extract(text, "f")
    assert ex.thought == "Sure!"
    assert ex.code == "def f(x):\n    return 2 * x"


def test_first_sentence_thought_without_braces():
    ex = extract("Use the bid minus a margin.\n```\ndef f(x):\n    return x - 1\n```", "f")
    assert ex.thought == "Use the bid minus a margin."
    assert run(ex.code, "f", 3) == 2


def test_versioned_names_take_highest_and_rename_recursion():
    text = ("def priority_v0(bid, cdf, pdf):\n    return bid\n\n"
            "def priority_v2(bid, cdf, pdf):\n    if bid > 1:\n        return priority_v2(bid / 2, cdf, pdf)\n"
            "    return bid * 3\n\n"
            "def priority_v1(bid, cdf, pdf):\n    return -bid\n")
    ex = extract(text, "priority")
    tree = ast.parse(ex.code)
    assert [n.name for n in tree.body] == ["priority"]
    assert "priority_v2" not in ex.code and "priority(bid / 2, cdf, pdf)" in ex.code
    assert run(ex.code, "priority", 4.0, None, None) == 3.0


def test_several_blocks_choose_the_one_defining_the_function():
    text = ("```bash\npip install numpy\n```\nThen:\n```python\nimport numpy as np\n\n"
            "def rebate(others, m):\n    return float(np.sum(others)) / m\n```\n"
            "Usage:\n```python\nprint(rebate([1, 2], 2))\n```")
    ex = extract(text, "rebate")
    assert ex.code == "import numpy as np\n\ndef rebate(others, m):\n    return float(np.sum(others)) / m"


def test_later_block_wins_ties():
    text = "```python\ndef f(x):\n    return 1\n```\nBetter:\n```python\ndef f(x):\n    return 2\n```"
    assert run(extract(text, "f").code, "f", 0) == 2


def test_helpers_and_constants_kept_unused_parts_dropped():
    text = ("import random\nimport numpy as np\nfrom typing import List\nSCALE = 2.0\nUNUSED = 5\n\n"
            "def helper(y: float) -> float:\n    return y * SCALE\n\n"
            "def mechanism(peaks: List[float], k: int) -> List[float]:\n"
            "    return [helper(np.median(peaks))] * k\n\nprint(mechanism([1, 2, 3], 2))\n")
    ex = extract(text, "mechanism")
    tree = ast.parse(ex.code)
    kinds = [type(n).__name__ for n in tree.body]
    assert kinds == ["Import", "Assign", "FunctionDef", "FunctionDef"]
    assert "random" not in ex.code and "typing" not in ex.code and "UNUSED" not in ex.code
    assert "print" not in ex.code and "List" not in ex.code
    assert run(ex.code, "mechanism", [1, 2, 3], 2) == [4.0, 4.0]


def test_missing_imports_added_only_for_allowed_modules():
    text = "def f(x):\n    return np.sqrt(x) + math.pi + numpy.abs(-1) + scipy.special.erf(0)\n"
    ex = extract(text, "f")
    assert ex.code.splitlines()[:3] == ["import numpy as np", "import numpy", "import math"]
    assert "import scipy" not in ex.code
    only_math = extract("def f(x):\n    return np.sqrt(x) + math.e\n", "f", allowed_modules=("math",))
    assert only_math.code.splitlines()[0] == "import math"
    assert "import numpy" not in only_math.code


def test_local_import_counts_as_import():
    ex = extract("def f(x):\n    import math\n    return math.floor(x)\n", "f")
    assert ex.code == "def f(x):\n    import math\n    return math.floor(x)"


def test_truncated_output_keeps_the_complete_function():
    text = ("```python\ndef f(x):\n    return x + 1\n\ndef g(y):\n    z = (y +")
    ex = extract(text, "f")
    assert ex.code == "def f(x):\n    return x + 1"


def test_truncated_inside_function_keeps_complete_branch():
    ex = extract("def f(x):\n    if x > 1:\n        return x\n    y = (x +", "f")
    assert ex.code == "def f(x):\n    if x > 1:\n        return x"


def test_truncated_before_any_return_is_rejected_with_cause():
    ex = extract("def f(x):\n    y = 2\n    return x * (1 - cdf(", "f")
    assert ex.code is None
    assert ex.reason.startswith("function returns nothing (after dropping a tail: syntax error at line 3")


def test_real_syntax_error_is_reported_with_line():
    ex = extract("Here:\ndef f(x):\n    y = x +* 2\n    z = y\n    w = z\n    return w\n", "f")
    assert ex.code is None
    assert ex.reason == "syntax error at line 3: invalid syntax"


def test_no_return_and_return_none_rejected():
    assert extract("def f(x):\n    print(x)\n", "f").reason == "function returns nothing"
    assert extract("def f(x):\n    return None\n", "f").reason == "function returns nothing"
    assert extract("def f(x):\n    ...\n", "f").reason == "function returns nothing"


def test_generator_rejected():
    assert extract("def f(x):\n    yield x\n    return 1\n", "f").reason.startswith("function is a generator")


def test_prose_only_and_empty_text():
    assert extract("I cannot help with that.", "f") .reason == "no code found"
    assert extract("", "f").reason == "no code found"
    assert extract("x = 1\nprint(x)", "f").reason in ("no code found", "no function definition")


def test_lambda_assignment_becomes_function():
    ex = extract("```python\nf = lambda x, y=2: x * y\n```", "f")
    assert ex.code == "def f(x, y=2):\n    return x * y"
    assert run(ex.code, "f", 3) == 6


def test_bare_lambda_is_no_function():
    ex = extract("```python\nlambda x: x + 1\n```", "f")
    assert ex.code is None and ex.reason == "no function definition"


def test_differently_named_function_is_renamed():
    ex = extract("```python\ndef compute_priority(bid, cdf, pdf):\n    return bid\n```", "priority")
    assert ex.code == "def priority(bid, cdf, pdf):\n    return bid"


def test_class_method_only_is_no_function():
    ex = extract("class A:\n    def f(self, x):\n        return x\n", "f")
    assert ex.code is None and ex.reason == "no function definition"


def test_indented_code_block_in_prose():
    text = "Answer:\n\n    def f(x):\n        return x ** 2\n\nDone."
    assert run(extract(text, "f").code, "f", 3) == 9


# --- normalize and code_hash ---------------------------------------------------------------------


def test_normalize_keeps_docstring_and_drops_comments():
    src = 'def f(x):\n    """Doc."""\n    # comment\n    return (x+1)  # trailing\n'
    assert normalize(src) == 'def f(x):\n    """Doc."""\n    return x + 1'


def test_code_hash_ignores_docstrings_comments_formatting_but_not_semantics():
    a = 'def f(x):\n    """One."""\n    return x + 1  # c\n'
    b = "def f( x ):\n\n    return (x+1)\n"
    c = "def f(x):\n    return x + 2\n"
    assert code_hash(a) == code_hash(b) != code_hash(c)
    assert len(code_hash(a)) == 64 and int(code_hash(a), 16) >= 0
    assert code_hash("def (") == code_hash("def   (") != code_hash("def )")


_names = st.sampled_from(["x", "y", "bid", "np.pi"])
_numbers = st.one_of(st.integers(0, 99), st.floats(0, 10, allow_nan=False).map(lambda v: round(v, 3)))
_exprs = st.recursive(
    st.one_of(_names, _numbers.map(str)),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "%"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"-{e}"),
        st.tuples(inner, inner).map(lambda t: f"max({t[0]}, {t[1]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} > {t[2]} else 0.5)"),
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_exprs, st.lists(_exprs, max_size=2))
def test_normalize_is_idempotent(ret, assigns):
    lines = ["def f(x, y, bid):", '    """Doc."""']
    lines += [f"    v{i} = {e}" for i, e in enumerate(assigns)]
    lines.append(f"    return {ret}")
    once = normalize("\n".join(lines))
    assert normalize(once) == once


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_exprs, st.integers(0, 3), st.text("abc #", max_size=12), st.booleans())
def test_code_hash_invariant_to_layout_comments_docstring(ret, pad, comment, doc):
    plain = f"def f(x, y, bid):\n    return {ret}\n"
    space = " " * pad
    messy = (f"def f(x,{space}y, bid):{space}# {comment}\n"
             + ('    """A docstring."""\n' if doc else "")
             + f"\n    # {comment}\n    return ({space}{ret}{space})  # {comment}\n")
    assert code_hash(messy) == code_hash(plain) == code_hash(normalize(plain))


# --- real outputs of the embedded SmolLM2-135M-Instruct ------------------------------------------


def _records() -> list[dict]:
    if not DATA.exists():
        return []
    return [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


@pytest.mark.skipif(not DATA.exists(), reason="recorded SmolLM2 outputs missing")
def test_recorded_outputs_cover_both_outcomes():
    recs = _records()
    assert len(recs) >= 40
    assert all(r["expect"] is not None for r in recs)
    oks = sum(r["expect"]["ok"] for r in recs)
    assert 5 <= oks <= len(recs) - 5


@pytest.mark.parametrize("rec", _records(), ids=lambda r: f"{r['name']}-{r['seed']}")
def test_recorded_smollm2_output(rec):
    ex = extract(rec["text"], rec["name"])
    expect = rec["expect"]
    if expect["ok"]:
        assert ex.reason == "" and ex.code is not None
        tree = ast.parse(ex.code)
        assert any(isinstance(n, ast.FunctionDef) and n.name == rec["name"] for n in tree.body)
        for piece in expect["contains"]:
            assert piece in ex.code
        for piece in expect.get("absent", []):
            assert piece not in ex.code
        assert normalize(ex.code) == ex.code
    else:
        assert ex.code is None
        assert ex.reason.startswith(expect["reason"])
