"""The static policy: what it accepts, what it rejects, and the reasons it gives."""

from __future__ import annotations

import pytest

from amdlib.core.sandbox import check_policy
from amdlib.core.sandbox.policy import module_allowed

GOOD = [
    "import numpy as np\nimport math\n\ndef f(x):\n    return np.maximum(x, 0) * math.pi\n",
    "from math import sqrt, exp\n\ndef f(x):\n    return sqrt(abs(x)) + exp(-x)\n",
    "import numpy.linalg\nfrom numpy.random import default_rng\n\ndef f(x):\n    return x\n",
    "def helper(v):\n    return v * 2\n\ndef f(x):\n    for _ in range(3):\n        x = helper(x)\n    return x\n",
    "def f(x, type=float):\n    return type(x)\n",  # a parameter named like a denied builtin
    "def f(x):\n    g = (v * v for v in x)\n    return sorted(g, reverse=True)[0] if len(x) else 0.0\n",
    "def f(x):\n    try:\n        return 1 / x\n    except ZeroDivisionError as err:\n        return 0.0\n",
]


@pytest.mark.parametrize("code", GOOD)
def test_ordinary_candidates_pass(code: str) -> None:
    assert check_policy(code, "f", ("numpy", "math")) is None


@pytest.mark.parametrize(("code", "reason"), [
    ("def f(x):\n    return x.__class__\n", "attribute '__class__' starts with '_' (line 2)"),
    ("def f(x):\n    _y = x\n    return _y\n", "name '_y' starts with '_' (line 2)"),
    ("def f(_x):\n    return 1\n", "name '_x' starts with '_' (line 1)"),
    ("def f(x):\n    return dict(__x=1)\n", "name '__x' starts with '_' (line 2)"),
    ("import os\n\ndef f(x):\n    return x\n", "import of 'os' is not allowed (line 1)"),
    ("import numpy.ctypeslib\n\ndef f(x):\n    return x\n", "import of 'numpy.ctypeslib' is not allowed (line 1)"),
    ("from numpy import ctypeslib\n\ndef f(x):\n    return x\n", "attribute 'ctypeslib' is not allowed (line 1)"),
    ("from numpy import *\n\ndef f(x):\n    return x\n", "star imports are not allowed (line 1)"),
    ("from . import x\n\ndef f(x):\n    return x\n", "relative imports are not allowed (line 1)"),
    ("import scipy\n\ndef f(x):\n    return x\n", "import of 'scipy' is not allowed (line 1)"),
    ("def f(x):\n    return eval('1')\n", "builtin 'eval' is not allowed (line 2)"),
    ("def f(x):\n    return getattr(x, 'real')\n", "builtin 'getattr' is not allowed (line 2)"),
    ("def f(x):\n    return open('a')\n", "builtin 'open' is not allowed (line 2)"),
    ("def f(x):\n    return x.gi_frame\n", "attribute 'gi_frame' is not allowed (line 2)"),
    ("def f(x):\n    return x.f_back\n", "attribute 'f_back' is not allowed (line 2)"),
    ("def f(x):\n    return x.tofile\n", "attribute 'tofile' is not allowed (line 2)"),
    ("def f(x):\n    x.shape = (2, 2)\n    return x\n", "assigning or deleting attributes is not allowed (line 2)"),
    ("class A:\n    pass\n\ndef f(x):\n    return x\n", "class definitions are not allowed (line 1)"),
    ("async def f(x):\n    return x\n", "async functions are not allowed (line 1)"),
    ("def f(x):\n    match x:\n        case str(real=r):\n            return r\n", None),
    ("def f(x):\n    match x:\n        case str(__class__=c):\n            return c\n", "attribute '__class__' starts with '_' (line 3)"),
    ("def g(x):\n    return x\n", "no top-level function named 'f'"),
    ("def f(x):\n    return x +\n", "syntax error: invalid syntax (line 2)"),
    ("x" * 200_001, "code longer than 200000 characters"),
])
def test_reasons(code: str, reason: str | None) -> None:
    assert check_policy(code, "f", ("numpy", "math")) == reason


def test_declared_modules() -> None:
    code = "import scipy.special\n\ndef f(x):\n    return x\n"
    assert check_policy(code, "f", ("scipy.special",)) is None
    assert check_policy(code, "f", ("scipy.stats",)) == "import of 'scipy.special' is not allowed (line 1)"
    assert check_policy("def f(x):\n    return x\n", "f", ("os",)) == "module 'os' can never be allowed"
    assert module_allowed("numpy.linalg", ())
    assert not module_allowed("numpy._core", ())
    assert not module_allowed("numpy.testing", ("numpy",))
    assert not module_allowed("subprocess", ("subprocess",))


def test_deep_nesting_does_not_crash_the_parent() -> None:
    reason = check_policy("def f(x):\n    return " + "(" * 5000 + "x" + ")" * 5000 + "\n", "f", ())
    assert reason is not None and ("syntax error" in reason or "unparsable" in reason)
