"""Tests of the offline (AST mutation/crossover) proposer and its operators."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest

from amdlib.core.code import code_hash, extract
from amdlib.core.problem import Evaluation, FunctionSpec, Grammar, Problem
from amdlib.core.program import Program, ProposalRequest
from amdlib.core.proposers import crossover, mutate, scope, simplify
from amdlib.core.proposers.mutate import Kit
from amdlib.core.proposers.offline import OfflineProposer

X = np.linspace(0.0, 1.0, 101)
TARGET = X - (1 - X) / 2


class Toy(Problem):
    """Fit f(x) = x - (1 - x) / 2 on a grid; scored directly by trusted test code."""

    name = "toy"
    function = FunctionSpec("f", 'def f(x):\n    """Value at x."""\n    ...\n')
    task = "fit a curve"
    seed_program = 'def f(x):\n    """Value at x."""\n    return 0.0\n'
    grammar = Grammar(expressions=("x", "(1 - x)", "x * (1 - x)"), constants=(0.0, 0.5, 1.0, 2.0),
                      statements=("w = 1 - x",))
    harness = "tests:none"

    def payload(self, split):
        return {"x": X}

    def score(self, outputs, split):
        err = float(np.mean((outputs["y"] - TARGET) ** 2))
        return Evaluation(valid=math.isfinite(err), score=-err)


class Auction(Toy):
    function = FunctionSpec("priority", 'def priority(bid, cdf, pdf):\n    """Priority."""\n    ...\n')
    seed_program = 'def priority(bid, cdf, pdf):\n    """Priority."""\n    return 0.0\n'
    grammar = Grammar(expressions=("bid", "(1 - cdf(bid)) / pdf(bid)", "cdf(bid)"))


def error(code: str) -> float:
    """Squared error of a candidate (trusted test code: exec in a plain dict)."""
    ns: dict = {}
    try:
        exec(code, ns)  # noqa: S102
        with np.errstate(all="ignore"):
            y = np.asarray(ns["f"](X), dtype=float) * np.ones_like(X)
        err = float(np.mean((y - TARGET) ** 2))
    except Exception:  # noqa: BLE001 - any failing mutant is just invalid
        return math.inf
    return err if math.isfinite(err) else math.inf


def program(code: str, score: float = 0.0, pid: int = 0) -> Program:
    code = extract(code, "f").code
    return Program(pid, code, code_hash(code), Evaluation(True, score))


def request(op: str, parents: list[Program], index: int = 0) -> ProposalRequest:
    return ProposalRequest(index=index, operator=op, parents=parents, messages=[])


def kit(seed: int = 0, expressions=("x", "(1 - x)"), statements=()) -> Kit:
    return Kit(rng=np.random.default_rng(seed), constants=(0.5, 1.0),
               expressions=[ast.parse(e, mode="eval").body for e in expressions],
               statements=[ast.parse(s).body[0] for s in statements])


def func(src: str) -> ast.FunctionDef:
    return ast.parse(src).body[0]


def shape(node: ast.AST) -> str:
    """The returned expression with every numeric literal blanked out (structure only)."""
    node = next(n for n in ast.walk(ast.parse(ast.unparse(node))) if isinstance(n, ast.Return))
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and type(n.value) in (int, float):
            n.value = 0
    return ast.dump(node)


# --- the proposer -----------------------------------------------------------------------


OPERATORS = ["init", "random", "i1", "m1", "m2", "funsearch", "mutate", "e1", "e2", "crossover",
             "invented strategy"]


def test_name_and_determinism():
    prop = OfflineProposer(Toy())
    assert prop.name == "offline"
    parents = [program("def f(x):\n    return 0.5 * x + 0.1\n", -1.0),
               program("def f(x):\n    return 1 - x\n", -2.0, 1)]
    other = OfflineProposer(Toy())
    for op in OPERATORS:
        # Same requests in the same order: same answers (the novelty memory included).
        a = [prop.propose(request(op, parents), seed).text for seed in range(8)]
        b = [other.propose(request(op, parents), seed).text for seed in range(8)]
        assert a == b
        assert len(set(a)) >= 4, op
        # A fresh proposer answers the first request alike.
        assert OfflineProposer(Toy()).propose(request(op, parents), 11).text == \
            OfflineProposer(Toy()).propose(request(op, parents), 11).text
    assert prop.propose(request("m1", parents), 3).model == "offline"
    prop.close()


@pytest.mark.parametrize("op", OPERATORS)
def test_every_output_is_accepted_and_keeps_the_template(op):
    prop = OfflineProposer(Toy(), max_nodes=40)
    parents = [program("def f(x):\n    w = 2.0 * x\n    return w - 0.5\n", -0.5),
               program("def f(x):\n    return x * (1 - x) + 0.25\n", -0.7, 1)]
    for seed in range(25):
        text = prop.propose(request(op, parents, seed), seed).text
        assert text.startswith("{") and text.index("}") < text.index("def f(x):")
        ex = extract(text, "f")
        assert ex.code is not None, (text, ex.reason)
        assert ex.thought and "{" not in ex.thought
        fdef = next(n for n in ast.parse(ex.code).body if isinstance(n, ast.FunctionDef))
        assert [a.arg for a in fdef.args.args] == ["x"]
        assert ast.get_docstring(fdef) == "Value at x."
        assert mutate.size(fdef) <= 40
        names = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)}
        assert not any(name.startswith("_") for name in names)
        imports = [a.name for n in ast.walk(ast.parse(ex.code))
                   if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names]
        assert set(imports) <= {"numpy", "math"}


@pytest.mark.parametrize("op", ["init", "i1"])
def test_init_from_seed_is_diverse_and_uses_the_grammar(op):
    prop = OfflineProposer(Toy())
    codes = {extract(prop.propose(request(op, []), s).text, "f").code for s in range(30)}
    assert len(codes) >= 20
    assert sum("(1 - x)" in c or "x * (1 - x)" in c for c in codes) >= 5
    varying = 0
    for code in codes:
        ns: dict = {}
        exec(code, ns)  # noqa: S102
        with np.errstate(all="ignore"):
            y = np.asarray(ns["f"](X), dtype=float) * np.ones_like(X)
        varying += not np.isfinite(y).all() or float(np.ptp(y)) > 1e-3
    assert varying >= 24  # mostly no longer constant like the seed


def test_mutation_starts_from_the_best_parent():
    prop = OfflineProposer(Toy())
    worse = program("def f(x):\n    return (1 - x) * 7.0\n", -5.0)
    best = program("def f(x):\n    return x * 3.0 - 1.0\n", -1.0, 1)
    invalid = Program(2, best.code.replace("3.0", "9.0"), "h", Evaluation.failed("boom"))
    for seed in range(10):
        code = extract(prop.propose(request("m2", [worse, invalid, best]), seed).text, "f").code
        assert shape(ast.parse(code)) == shape(ast.parse(best.code)) or "7.0" not in code


def test_m2_mostly_tunes_constants_only():
    prop = OfflineProposer(Toy())
    parent = program("def f(x):\n    return x * 3.0 - 1.0\n", -1.0)
    same_shape = 0
    for seed in range(30):
        code = extract(prop.propose(request("m2", [parent]), seed).text, "f").code
        same_shape += shape(ast.parse(code)) == shape(ast.parse(parent.code))
    assert same_shape >= 18


def test_crossover_mixes_both_parents():
    prop = OfflineProposer(Toy())
    a = program("def f(x):\n    return x * x * 3.0\n", -1.0)
    b = program("def f(x):\n    return (1 - x) / 7.0\n", -2.0, 1)
    mixed = 0
    for seed in range(20):
        code = extract(prop.propose(request("e1", [a, b]), seed).text, "f").code
        mixed += ("3.0" in code or "x * x" in code) and ("7.0" in code or "1 - x" in code)
    assert mixed >= 10


def test_bloated_parent_is_not_grown():
    big = "def f(x):\n    return " + " + ".join(f"{k}.5 * x" for k in range(20)) + "\n"
    prop = OfflineProposer(Toy(), max_nodes=30)
    parent = program(big, -1.0)
    limit = mutate.size(next(n for n in ast.parse(parent.code).body))
    for seed in range(15):
        code = extract(prop.propose(request("m1", [parent]), seed).text, "f").code
        assert mutate.size(next(n for n in ast.parse(code).body)) <= limit


def test_unusable_parent_falls_back_to_seed():
    prop = OfflineProposer(Toy())
    broken = Program(0, "", "", Evaluation.failed("no code found"))
    ex = extract(prop.propose(request("m1", [broken]), 1).text, "f")
    assert ex.code is not None and "def f(x):" in ex.code


def run_all(code: str) -> str:
    """'' if ``code`` runs on X, else the exception's class name."""
    ns: dict = {}
    exec(code, ns)  # noqa: S102
    try:
        with np.errstate(all="ignore"):
            ns["f"](X)
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__
    return ""


@pytest.mark.parametrize("op", ["m1", "e1", "funsearch", "init"])
def test_no_mutant_reads_a_local_before_assigning_it(op):
    prop = OfflineProposer(Toy(), max_nodes=60)
    parents = [program("def f(x):\n    w = 2.0 * x\n    v = w * (1 - x)\n    return v - 0.5 * w\n", -0.5),
               program("def f(x):\n    v = x * x\n    w = v + 1.0\n    return w / 2.0 + v\n", -0.7, 1)]
    failures = []
    for seed in range(150):
        code = extract(prop.propose(request(op, parents, seed), seed).text, "f").code
        error = run_all(code)
        if error in ("UnboundLocalError", "NameError"):
            failures.append(code)
    assert not failures, failures[0]


def test_unbound_names_analysis():
    def bad(src: str) -> set[str]:
        return scope.unbound_names(func(src), {"np"})

    assert bad("def f(x):\n    y = x\n    return np.abs(y)\n") == set()
    assert bad("def f(x):\n    z = y * 2\n    y = x\n    return z\n") == {"y"}
    assert bad("def f(x):\n    y = y + x\n    return y\n") == {"y"}
    assert bad("def f(x):\n    if x > 0:\n        y = 1\n    return y\n") == {"y"}
    assert bad("def f(x):\n    if x > 0:\n        y = 1\n    else:\n        return 0\n    return y\n") == set()
    assert bad("def f(x):\n    return [i * x for i in range(3)] + q\n") == {"q"}
    assert bad("def f(x):\n    try:\n        y = 1\n    except ValueError:\n        y = 2\n    return y\n") == set()


def test_crossover_keeps_the_node_budget():
    terms = " + ".join(f"{k}.5 * x * (1 - x)" for k in range(1, 5))
    a = program(f"def f(x):\n    v = {terms}\n    return v * x\n", -1.0)
    b = program(f"def f(x):\n    u = {terms.replace('.5', '.25')}\n    return u - x\n", -2.0, 1)
    prop = OfflineProposer(Toy(), max_nodes=50)
    sizes = [mutate.size(next(n for n in ast.parse(extract(
        prop.propose(request(op, [a, b], s), s).text, "f").code).body if isinstance(n, ast.FunctionDef)))
        for op in ("e1", "e2") for s in range(20)]
    assert max(sizes) <= 50


def test_bloated_parents_shrink_fast():
    import time

    body = "\n".join(f"    v{k} = {k}.5 * (x - (1 - x) * 0.{k}) + np.maximum(x, 0.5) * {k}.25" for k in range(8))
    big = f"def f(x):\n{body}\n    return " + " + ".join(f"0.{k}1 * v{k}" for k in range(8)) + "\n"
    parents = [program(big, -1.0), program(big.replace("v3", "w3").replace("0.5)", "0.25)"), -2.0, 1)]
    prop = OfflineProposer(Toy(), max_nodes=40)
    limit = mutate.size(next(n for n in ast.parse(parents[0].code).body if isinstance(n, ast.FunctionDef)))
    t0 = time.perf_counter()
    for seed in range(20):
        code = extract(prop.propose(request("e1" if seed % 2 else "m1", parents, seed), seed).text, "f").code
        assert mutate.size(next(n for n in ast.parse(code).body if isinstance(n, ast.FunctionDef))) <= limit
        assert run_all(code) == ""
    assert time.perf_counter() - t0 < 10.0  # was minutes: graft_subtree re-dumped every site per donor


def test_recent_answers_are_not_repeated():
    prop = OfflineProposer(Toy())
    parent = program("def f(x):\n    return 0.5 * x + 0.1\n", -1.0)
    first = prop.propose(request("m1", [parent]), 5).text
    again = prop.propose(request("m1", [parent]), 5).text  # same request and seed
    assert again != first
    texts = [prop.propose(request("m2", [parent], k), k).text for k in range(40)]
    codes = [code_hash(extract(t, "f").code) for t in texts]
    assert len(set(codes)) == len(codes)


# --- operators on small examples ------------------------------------------------------------


def test_perturb_constant_changes_only_a_constant():
    for seed in range(10):
        f = func("def f(x):\n    return 0.5 * x + 2.0\n")
        before = shape(f)
        note = mutate.perturb_constant(kit(seed), f)
        assert note and note.startswith("change constant")
        assert shape(f) == before and ast.unparse(f) != "def f(x):\n    return 0.5 * x + 2.0"


def test_perturbation_scales_span_fine_and_coarse():
    steps = []
    for seed in range(60):
        f = func("def f(x):\n    return x * 1.0\n")
        mutate.perturb_constant(kit(seed), f)
        value = mutate.numeric_value(f.body[0].value.right)
        if value is not None:
            steps.append(abs(value - 1.0))
    steps = np.array([s for s in steps if s > 0])
    assert steps.min() < 1e-3 and steps.max() > 0.1


def test_replace_term_puts_a_scaled_grammar_expression():
    f = func("def f(x):\n    return 2.0 * x + 0.5 * (x * x)\n")
    note = mutate.replace_term(kit(4, expressions=("(1 - x)",)), f)
    assert note.startswith("replace term")
    terms = {ast.unparse(t) for t in (f.body[0].value.left, f.body[0].value.right)}
    assert any(t.endswith("* (1 - x)") and mutate.numeric_value(ast.parse(t, mode="eval").body.left)
               is not None for t in terms)
    g = func("def f(x):\n    return x * 3.0\n")
    assert mutate.replace_term(kit(1, expressions=("(1 - x)",)), g).startswith("add term")
    assert ast.unparse(g.body[0].value).startswith("x * 3.0 + ")


def test_shrink_prefers_small_terms():
    dropped = 0
    for seed in range(20):
        f = func("def f(x):\n    return 2.0 * x + 0.001 * (1 - x) + 3.0 * x * x\n")
        before = mutate.size(f)
        notes = simplify.shrink(kit(seed), f, before - 1)
        assert notes and mutate.size(f) < before
        dropped += "0.001" not in ast.unparse(f)
    assert dropped >= 15


def test_swap_operator():
    f = func("def f(x):\n    return x + 1.0\n")
    assert mutate.swap_operator(kit(1), f).startswith("swap +")
    assert type(f.body[0].value.op) in (ast.Sub, ast.Mult, ast.Div)


def test_replace_and_wrap_graft_grammar():
    grafted = 0
    for seed in range(20):
        f = func("def f(x):\n    return 0.0\n")
        mutate.replace_subtree(kit(seed, expressions=("(1 - x)",)), f)
        grafted += "1 - x" in ast.unparse(f)
        g = func("def f(x):\n    return x * 3.0\n")
        mutate.wrap(kit(seed, expressions=("(1 - x)",)), g)
        assert "x * 3.0" in ast.unparse(g) or "3.0" in ast.unparse(g)
    assert grafted >= 10


def test_delete_term_shrinks():
    f = func("def f(x):\n    return x + 2.0 * (1 - x)\n")
    before = mutate.size(f)
    assert mutate.delete_term(kit(0), f).startswith("simplify")
    assert mutate.size(f) < before


def test_insert_statement_uses_the_new_name():
    f = func("def f(x):\n    return x * 2.0\n")
    note = mutate.insert_statement(kit(0, statements=("w = 1 - x",)), f)
    assert note.startswith("insert w = 1 - x")
    assert ast.unparse(f.body[0]) == "w = 1 - x" and "w" in ast.unparse(f.body[1])


def test_fold_constants_and_dead_assignments():
    f = func("def f(x):\n    y = 3\n    return x * 2.0 * 3.0 + 0.0 + -0.5 + np.sqrt(4.0)\n")
    simplify.fold_constants(f)
    simplify.drop_dead_assignments(f)
    assert ast.unparse(f) == "def f(x):\n    return x * 6.0 + 1.5"


def test_blend_is_convex_combination():
    a = func("def f(x):\n    v = x * x\n    return v\n")
    b = func("def f(x):\n    v = 1 - x\n    return v / 2\n")
    note = crossover.blend(kit(3), a, b)
    assert note.startswith("blend")
    ns: dict = {}
    exec(ast.unparse(ast.fix_missing_locations(ast.Module(body=[a], type_ignores=[]))), ns)
    w = float(note.split()[-3])
    assert ns["f"](0.3) == pytest.approx(w * 0.09 + (1 - w) * 0.35)


def test_graft_subtree_takes_an_expression_of_the_other_parent():
    a = func("def f(x):\n    return x + 1.0\n")
    b = func("def f(x):\n    return (1 - x) * 7.0\n")
    assert crossover.graft_subtree(kit(2), a, b).startswith("take")
    donors = {ast.unparse(n) for n in ast.walk(b.body[0].value)}
    assert any(ast.unparse(n) in donors for n in ast.walk(a.body[0].value) if isinstance(n, ast.expr))


# --- search strength ---------------------------------------------------------------------


def climb(problem: Problem, score, seed: int, proposals: int = 300, lam: int = 4) -> tuple[float, float]:
    """(1+lambda) hill climb with the offline proposer; returns (seed error, best error)."""
    prop = OfflineProposer(problem)
    code = extract(problem.seed_program, problem.function.name).code
    best = Program(0, code, code_hash(code), Evaluation(True, -score(code)))
    start = -best.score
    for k in range(0, proposals, lam):
        kids = []
        for j in range(lam):
            text = prop.propose(request("m1", [best], k + j), seed * 10_000 + k + j).text
            kid = extract(text, problem.function.name).code
            kids.append((score(kid), kid))
        err, kid = min(kids)
        if err <= -best.score:
            best = Program(0, kid, code_hash(kid), Evaluation(True, -err))
    return start, -best.score


def test_hill_climb_fits_the_target():
    runs = [climb(Toy(), error, seed) for seed in range(3)]
    start = runs[0][0]
    ends = sorted(end for _, end in runs)
    assert start > 0.25
    assert ends[1] < 0.02 * start  # median run: 50x lower error than `return 0.0`
    assert ends[2] < 0.1 * start


def test_hill_climb_approaches_virtual_value():
    from scipy import stats

    beta = stats.beta(2, 5)
    bids = np.linspace(0.05, 0.9, 60)
    phi = bids - (1 - beta.cdf(bids)) / beta.pdf(bids)

    def score(code: str) -> float:
        ns: dict = {}
        try:
            exec(code, ns)  # noqa: S102
            with np.errstate(all="ignore"):
                y = np.asarray(ns["priority"](bids, beta.cdf, beta.pdf), dtype=float) * np.ones_like(bids)
            err = float(np.mean((y - phi) ** 2))
        except Exception:  # noqa: BLE001
            return math.inf
        return err if math.isfinite(err) else math.inf

    runs = [climb(Auction(), score, seed, proposals=200) for seed in range(5)]
    start = runs[0][0]
    assert start > 0.2
    # A lone (1+4) climb finds phi exactly only now and then and sometimes sticks in a
    # local optimum (over 20 seeds: about 1 in 4 exact, median error 0.004, worst 0.04);
    # the typical run must get much closer than the seed, and every run clearly closer.
    ends = sorted(end for _, end in runs)
    assert ends[2] < 0.03 * start
    assert ends[-1] < 0.2 * start
