"""The offline proposer: evolution by AST mutation and crossover, no LLM at all.

It is the default proposer and a real search baseline.  Given a request it
takes the best parent (or the problem's seed program), applies grammar-driven
mutations (graft a grammar expression, combine, perturb constants at several
scales, swap operators, replace a term, shrink) or recombines two parents, and
answers with ``{what changed}`` followed by the source of the function, which
:func:`amdlib.core.code.extract` accepts.

Every mutant is checked before it is answered: it stays within the node
budget (shrunk by dropping terms when over it), reads no local name before
assigning it (:mod:`amdlib.core.proposers.scope`), and differs from its
parents and from this proposer's recent answers.  The answer depends only on
the request, the seed and the proposer's earlier answers (the novelty memory),
so a run that makes the same requests in the same order is reproducible.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import math
from typing import Any

import numpy as np

from amdlib.core.code import extract
from amdlib.core.problem import Problem
from amdlib.core.program import Program, Proposal, ProposalRequest
from amdlib.core.proposers import crossover, mutate, simplify
from amdlib.core.proposers.mutate import Kit
from amdlib.core.proposers.render import Parsed, Renderer, arg_names, find_def
from amdlib.core.proposers.scope import unbound_names
from amdlib.core.parsing import parse as parse_source, walk

# Operator mixes (weights) per request kind; tuned on the toy regression in the tests.
_MIXES: dict[str, dict[str, float]] = {
    "init": {"replace": 0.4, "wrap": 0.35, "insert": 0.1, "function": 0.15},
    "mutate": {"constant": 0.19, "jiggle": 0.11, "wrap": 0.15, "replace": 0.11, "term": 0.08, "swap": 0.06,
               "delete": 0.11, "function": 0.04, "insert": 0.04, "introduce": 0.11},
    "params": {"constant": 0.5, "jiggle": 0.3, "introduce": 0.15, "swap": 0.05},
}
_CROSS = frozenset({"e1", "e2", "crossover"})
_INIT = frozenset({"init", "random", "i1"})
#: How many answers the novelty memory holds.
_RECENT = 512
_CACHE = 1024


class OfflineProposer:
    """Mutation/crossover proposer over the function's AST (``name == "offline"``).

    ``max_nodes`` bounds the size of every answer's body (expression and
    statement nodes), crossover included; a mutant over it is shrunk, and one
    of a parent already above it may keep the parent's size but not grow.
    ``max_tries`` is how many mutants are drawn before falling back to the
    parent unchanged.
    """

    name = "offline"
    writes_prose = False
    #: No LLM, so nothing to count (the protocol's ledger is empty).
    ledger: dict[str, Any] = {}

    def __init__(self, problem: Problem, max_nodes: int = 80, max_tries: int = 30) -> None:
        spec = problem.function
        self.function_name = spec.name
        self.allowed_modules = tuple(spec.allowed_modules)
        self.max_nodes = max_nodes
        self.max_tries = max_tries
        template = find_def(parse_source(spec.template), spec.name)
        if template is None:
            raise ValueError(f"template does not define {spec.name}()")
        self._template = template
        self._renderer = Renderer(template, self.allowed_modules)
        grammar = problem.grammar
        self._expressions = _parse_all(grammar.expressions, "eval")
        self._statements = [s for text in grammar.statements for s in _parse_all([text], "exec")]
        self._constants = tuple(float(c) for c in grammar.constants)
        callables = _called_names([spec.template, problem.seed_program, *grammar.expressions,
                                   *grammar.statements])
        self._arg_atoms = [ast.Name(id=a, ctx=ast.Load()) for a in arg_names(template)
                           if a not in callables]
        self._cache: dict[str, Parsed | None] = {}
        self._recent: dict[str, None] = {}  # keys of recent answers, oldest first
        seed = self._parse(problem.seed_program)
        if seed is None:
            trivial = copy.deepcopy(template)
            trivial.body = template.body[: len(template.body) - len(mutate.body_of(template))] \
                + [ast.Return(value=ast.Constant(0.0))]
            seed = self._parse(ast.unparse(ast.fix_missing_locations(trivial)))
        if seed is None:
            raise ValueError("cannot build a seed program from the problem's template")
        self._seed = seed

    def admit(self, request: ProposalRequest, seed: int) -> bool:
        """No budget to reserve: every request is admitted."""
        return True

    def propose(self, request: ProposalRequest, seed: int) -> Proposal:
        """Mutate or recombine ``request.parents`` as ``request.operator`` says."""
        kit = Kit(rng=np.random.default_rng(abs(int(seed))), expressions=self._expressions,
                  constants=self._constants, statements=self._statements,
                  numpy_name="np" if "numpy" in self.allowed_modules else None,
                  fallback_atoms=self._arg_atoms)
        parents = [p for p in (self._parse(prog.code) for prog in _ranked(request.parents)) if p]
        kind = request.operator.lower()
        group = "init" if kind in _INIT else "cross" if kind in _CROSS else \
            "params" if kind == "m2" else "mutate"
        base = parents[0] if parents else self._seed
        avoid = {p.key for p in parents} | {base.key}
        repeat: str | None = None  # a recent answer again, if nothing new turns up
        for _ in range(self.max_tries):
            module, func = base.fresh(self.function_name)
            notes = self._change(group, kit, func, base, parents)
            answer = self._finish(kit, module, func, notes, base) if notes else None
            if answer is None or answer[1] in avoid:
                continue
            text, key = answer
            if key in self._recent:
                repeat = repeat or text
                continue
            self._remember(key)
            return Proposal(text=text, usage={}, model="offline")
        text = repeat or "{no change found; parent repeated}\n" + base.source
        return Proposal(text=text, usage={}, model="offline")

    def close(self) -> None:
        """Nothing to release."""

    # --- internals -----------------------------------------------------------------

    def _change(self, group: str, kit: Kit, func: ast.FunctionDef, base: Parsed,
                parents: list[Parsed]) -> list[str]:
        """Apply the request's operators to ``func`` in place; descriptions of what changed."""
        if group == "cross":
            others = [p for p in parents[1:] if p.key != base.key]
            if others:
                other_parsed = kit.pick(others)
                other = other_parsed.fresh(self.function_name)[1]
                first, second = crossover.blend, crossover.graft_subtree
                fits = base.size + other_parsed.size + 6 <= self.max_nodes
                if not fits or kit.rng.random() < 0.6:
                    first, second = second, first
                note = first(kit, func, other) or second(kit, func, other)
                if note:
                    notes = [note]
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

    def _finish(self, kit: Kit, module: ast.Module, func: ast.FunctionDef, notes: list[str],
                base: Parsed) -> tuple[str, str] | None:
        """Tidy, shrink to the budget and check a mutant; (answer text, key) or None (reject)."""
        simplify.tidy(func)
        limit = max(self.max_nodes, base.size)  # a parent over the budget (a fitted seed) may keep its size
        if mutate.size(func) > limit:
            notes = notes + simplify.shrink(kit, func, limit)
        if not mutate.body_of(func) or mutate.size(func) > limit:
            return None
        if not unbound_names(func, base.known) <= base.unbound:
            return None  # would raise UnboundLocalError / NameError where the parent does not
        try:
            source, key = self._renderer.render(module, func)
        except (AttributeError, TypeError, ValueError, RecursionError):
            return None
        thought = "; ".join(notes).replace("{", "(").replace("}", ")")
        return "{" + thought + "}\n" + source, key

    def _remember(self, key: str) -> None:
        self._recent[key] = None
        if len(self._recent) > _RECENT:
            del self._recent[next(iter(self._recent))]

    def _parse(self, code: str) -> Parsed | None:
        """The program as a :class:`Parsed` (arguments renamed to the template's); None if unusable.

        Cached by source text: parents come back request after request.
        """
        if code in self._cache:
            return self._cache[code]
        key = hashlib.sha1((code or "").encode()).hexdigest()
        if key in self._recent:  # one of this proposer's answers, already in extraction's form
            parsed = self._renderer.rendered(code, key)
            self._store(code, parsed)
            return parsed
        ex = extract(code or "", self.function_name, self.allowed_modules)
        parsed = None
        module = parse_source(ex.code) if ex.code is not None else None
        func = find_def(module, self.function_name) if module is not None else None
        if module is not None and func is not None:
            mine, theirs = arg_names(self._template), arg_names(func)
            if mine != theirs and len(mine) == len(theirs):
                rename = dict(zip(theirs, mine))
                for n in walk(func):
                    if isinstance(n, ast.Name) and n.id in rename:
                        n.id = rename[n.id]
            if len(mine) == len(theirs):
                parsed = self._renderer.parsed(module, func)
        self._store(code, parsed)
        return parsed

    def _store(self, code: str, parsed: Parsed | None) -> None:
        if len(self._cache) >= _CACHE:
            self._cache.clear()
        self._cache[code] = parsed


def _ranked(parents: list[Program]) -> list[Program]:
    """Parents best first (stable; invalid or NaN scores last)."""
    def key(p: Program) -> float:
        s = p.score
        return -s if isinstance(s, (int, float)) and not math.isnan(s) else math.inf
    return sorted(parents, key=key)


def _parse_all(texts, mode: str) -> list:
    """Parse grammar snippets, skipping any that do not parse."""
    out = []
    for text in texts:
        try:
            tree = parse_source(text.strip(), mode=mode)
        except SyntaxError:
            continue
        out.extend([tree.body] if mode == "eval" else tree.body)
    return out


def _called_names(texts: list[str]) -> set[str]:
    """Names used as call targets anywhere in ``texts`` (such arguments are functions)."""
    out: set[str] = set()
    for text in texts:
        try:
            tree = parse_source(text)
        except SyntaxError:
            continue
        out |= {n.func.id for n in walk(tree) if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name)}
    return out
