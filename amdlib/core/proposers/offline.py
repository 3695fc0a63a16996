"""The offline proposer: evolution by AST mutation and crossover, no LLM at all.

It is the default proposer and a real search baseline.  Given a request it
takes the best parent (or the problem's seed program), applies grammar-driven
mutations (graft a grammar expression, combine, perturb constants at several
scales, swap operators, shrink) or recombines two parents, and answers with
``{what changed}`` followed by the source of the function, which
:func:`amdlib.core.code.extract` accepts.  The answer depends only on the
request and the seed.
"""

from __future__ import annotations

import ast
import copy
import math

import numpy as np

from amdlib.core.code import code_hash, extract
from amdlib.core.problem import Problem
from amdlib.core.program import Program, Proposal, ProposalRequest
from amdlib.core.proposers import crossover, mutate, simplify
from amdlib.core.proposers.mutate import Kit

# Operator mixes (weights) per request kind; tuned on the toy regression in the tests.
_MIXES: dict[str, dict[str, float]] = {
    "init": {"replace": 0.4, "wrap": 0.35, "insert": 0.1, "function": 0.15},
    "mutate": {"constant": 0.20, "jiggle": 0.12, "wrap": 0.17, "replace": 0.13, "swap": 0.07, "delete": 0.12,
               "function": 0.04, "insert": 0.05, "introduce": 0.12},
    "params": {"constant": 0.5, "jiggle": 0.3, "introduce": 0.15, "swap": 0.05},
}
_CROSS = frozenset({"e1", "e2", "crossover"})
_INIT = frozenset({"init", "random"})


class OfflineProposer:
    """Mutation/crossover proposer over the function's AST (``name == "offline"``).

    ``max_nodes`` bounds the size of a mutant's body (expression and statement
    nodes; a parent already above it may keep its size); ``max_tries`` is how
    many mutants are drawn before falling back to the parent unchanged.
    """

    name = "offline"
    #: No LLM, so nothing to count; present so every proposer exposes a ledger.
    ledger: dict = {}

    def __init__(self, problem: Problem, max_nodes: int = 80, max_tries: int = 30) -> None:
        spec = problem.function
        self.function_name = spec.name
        self.allowed_modules = tuple(spec.allowed_modules)
        self.max_nodes = max_nodes
        self.max_tries = max_tries
        self._template = _find_def(ast.parse(spec.template), spec.name)
        if self._template is None:
            raise ValueError(f"template does not define {spec.name}()")
        grammar = problem.grammar
        self._expressions = _parse_all(grammar.expressions, "eval")
        self._statements = [s for text in grammar.statements for s in _parse_all([text], "exec")]
        self._constants = tuple(float(c) for c in grammar.constants)
        callables = _called_names([spec.template, problem.seed_program, *grammar.expressions,
                                   *grammar.statements])
        self._arg_atoms = [ast.Name(id=a, ctx=ast.Load()) for a in _arg_names(self._template)
                           if a not in callables]
        seed = self._parse_program(problem.seed_program)
        if seed is None:
            trivial = copy.deepcopy(self._template)
            trivial.body = _docstring(trivial) + [ast.Return(value=ast.Constant(0.0))]
            seed = self._parse_program(ast.unparse(ast.fix_missing_locations(trivial)))
        if seed is None:
            raise ValueError("cannot build a seed program from the problem's template")
        self._seed = seed

    def propose(self, request: ProposalRequest, seed: int) -> Proposal:
        """Mutate or recombine ``request.parents`` as ``request.operator`` says."""
        kit = Kit(rng=np.random.default_rng(abs(int(seed))), expressions=self._expressions,
                  constants=self._constants, statements=self._statements,
                  numpy_name="np" if "numpy" in self.allowed_modules else None,
                  fallback_atoms=self._arg_atoms)
        parents = [p for p in (self._parse_program(prog.code) for prog in _ranked(request.parents))
                   if p is not None]
        kind = request.operator.lower()
        group = "init" if kind in _INIT else "cross" if kind in _CROSS else \
            "params" if kind == "m2" else "mutate"
        base = parents[0] if parents else self._seed
        base_hash = code_hash(ast.unparse(base[0]))
        base_size = mutate.size(base[1])
        for _ in range(self.max_tries):
            module, func = copy.deepcopy(base)
            notes = self._change(group, kit, func, parents)
            if not notes:
                continue
            text = self._finish(module, func, notes, base_hash, base_size)
            if text is not None:
                return Proposal(text=text, usage={}, model="offline")
        source = ast.unparse(base[0])
        return Proposal(text="{no change found; parent repeated}\n" + source, usage={},
                        model="offline")

    def close(self) -> None:
        """Nothing to release."""

    # --- internals -----------------------------------------------------------------

    def _change(self, group: str, kit: Kit, func: ast.FunctionDef,
                parents: list[tuple[ast.Module, ast.FunctionDef]]) -> list[str]:
        """Apply the request's operators to ``func`` in place; descriptions of what changed."""
        notes: list[str] = []
        if group == "cross":
            others = [p for p in parents[1:] if ast.dump(p[1]) != ast.dump(parents[0][1])]
            if others:
                other = copy.deepcopy(kit.pick(others)[1])
                first, second = (crossover.blend, crossover.graft_subtree)
                if kit.rng.random() < 0.6:
                    first, second = second, first
                note = first(kit, func, other) or second(kit, func, other)
                if note:
                    notes.append(note)
                    if kit.rng.random() < 0.3:
                        notes += self._mutations("mutate", kit, func, 1)
                    return notes
            group = "mutate"
        if group == "init":
            count = 1 + int(kit.rng.integers(3))
        else:
            count = 1 if kit.rng.random() < 0.65 else 2
        return self._mutations(group, kit, func, count)

    def _mutations(self, group: str, kit: Kit, func: ast.FunctionDef, count: int) -> list[str]:
        mix = _MIXES[group]
        names = [n for n in mix if n != "insert" or self._statements]
        weights = np.array([mix[n] for n in names])
        notes: list[str] = []
        for _ in range(4 * count):  # operators that do not apply are redrawn
            if len(notes) == count:
                break
            op = names[int(kit.rng.choice(len(names), p=weights / weights.sum()))]
            note = mutate.OPERATORS[op](kit, func)
            if note:
                notes.append(note)
        return notes

    def _finish(self, module: ast.Module, func: ast.FunctionDef, notes: list[str],
                base_hash: str, base_size: int) -> str | None:
        """Clean up, check size and novelty, and render the answer text (None: reject)."""
        simplify.fold_constants(func)
        simplify.drop_dead_assignments(func)
        limit = max(self.max_nodes, base_size)
        if mutate.size(func) > limit or not mutate.body_of(func):
            return None
        new = ast.FunctionDef(name=self.function_name, args=copy.deepcopy(self._template.args),
                              body=_docstring(self._template) + mutate.body_of(func),
                              decorator_list=[], returns=None, type_comment=None, type_params=[])
        module.body = [new if isinstance(s, ast.FunctionDef) and s.name == self.function_name
                       else s for s in module.body]
        try:
            source = ast.unparse(ast.fix_missing_locations(module))
        except (AttributeError, TypeError, ValueError, RecursionError):
            return None
        thought = "; ".join(notes).replace("{", "(").replace("}", ")")
        text = "{" + thought + "}\n" + source
        ex = extract(text, self.function_name, self.allowed_modules)
        if ex.code is None or code_hash(ex.code) == base_hash:
            return None
        return "{" + thought + "}\n" + ex.code

    def _parse_program(self, code: str) -> tuple[ast.Module, ast.FunctionDef] | None:
        """(module, function) of a program, arguments renamed to the template's; None if unusable."""
        ex = extract(code or "", self.function_name, self.allowed_modules)
        if ex.code is None:
            return None
        module = ast.parse(ex.code)
        func = _find_def(module, self.function_name)
        if func is None:
            return None
        mine, theirs = _arg_names(self._template), _arg_names(func)
        if mine != theirs and len(mine) == len(theirs):
            rename = dict(zip(theirs, mine))
            for n in ast.walk(func):
                if isinstance(n, ast.Name) and n.id in rename:
                    n.id = rename[n.id]
        return module, func


def _ranked(parents: list[Program]) -> list[Program]:
    """Parents best first (stable; invalid or NaN scores last)."""
    def key(p: Program) -> float:
        s = p.score
        return -s if isinstance(s, (int, float)) and not math.isnan(s) else math.inf
    return sorted(parents, key=key)


def _find_def(module: ast.Module, name: str) -> ast.FunctionDef | None:
    return next((s for s in module.body if isinstance(s, ast.FunctionDef) and s.name == name), None)


def _arg_names(func: ast.FunctionDef) -> list[str]:
    return [a.arg for a in func.args.posonlyargs + func.args.args]


def _docstring(func: ast.FunctionDef) -> list[ast.stmt]:
    return func.body[: len(func.body) - len(mutate.body_of(func))]


def _parse_all(texts, mode: str) -> list:
    """Parse grammar snippets, skipping any that do not parse."""
    out = []
    for text in texts:
        try:
            tree = ast.parse(text.strip(), mode=mode)
        except SyntaxError:
            continue
        out.extend([tree.body] if mode == "eval" else tree.body)
    return out


def _called_names(texts: list[str]) -> set[str]:
    """Names used as call targets anywhere in ``texts`` (such arguments are functions)."""
    out: set[str] = set()
    for text in texts:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        out |= {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name)}
    return out
