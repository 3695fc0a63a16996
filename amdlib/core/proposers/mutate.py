"""AST mutation operators of the offline proposer.

Every operator takes a :class:`Kit` (random generator and the problem's
grammar) and a function definition, changes the function in place and returns
a short description of what it did, or ``None`` when it does not apply (for
example: no binary operator to swap).  Operators touch only *sites* (see
:mod:`amdlib.core.proposers.tree`).
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from amdlib.core.parsing import parse as parse_source, walk
from amdlib.core.proposers.tree import (ELIGIBLE, Site, additive_terms, body_of, const, locals_of,
                                        numeric_value, show, sites, size)

__all__ = ["Kit", "OPERATORS", "BINOPS", "Site", "atom", "body_of", "numeric_value", "size", "sites",
           "perturb_constant", "jiggle_constants", "introduce_constant", "swap_operator",
           "replace_subtree", "replace_term", "wrap", "apply_function", "delete_term", "insert_statement"]

BINOPS = _BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


@dataclass
class Kit:
    """What operators draw from: the random generator and parsed grammar pieces."""

    rng: np.random.Generator
    expressions: list[ast.expr]
    constants: tuple[float, ...]
    statements: list[ast.stmt] = field(default_factory=list)
    numpy_name: str | None = "np"
    fallback_atoms: list[ast.expr] = field(default_factory=list)

    def pick(self, items: list):
        return items[int(self.rng.integers(len(items)))]

    def constant(self) -> float:
        """A grammar constant, or now and then a random one."""
        if self.constants and self.rng.random() < 0.7:
            return float(self.pick(list(self.constants)))
        return round(float(self.rng.uniform(-2.0, 2.0)), 3)


def atom(kit: Kit, func: ast.FunctionDef) -> ast.expr:
    """A fresh leaf: a grammar expression, a local variable or a constant."""
    names = locals_of(func)
    r = kit.rng.random()
    if names and r < 0.15:
        return ast.Name(id=kit.pick(names), ctx=ast.Load())
    pool = kit.expressions or kit.fallback_atoms
    if pool and r < 0.8:
        return copy.deepcopy(kit.pick(pool))
    return const(kit.constant())


def _pick_site(kit: Kit, func: ast.FunctionDef, kinds: tuple = ELIGIBLE) -> Site | None:
    """A random site; a quarter of the time the whole returned expression."""
    found = [s for s in sites(func) if isinstance(s.node, kinds)]
    if not found:
        return None
    roots = [s for s in found if isinstance(s.parent, ast.Return)]
    if roots and kit.rng.random() < 0.25:
        return kit.pick(roots)
    return kit.pick(found)


def perturb_constant(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Nudge a numeric literal at a random scale (1e-4 .. 1), multiplicatively or additively."""
    consts = [s for s in sites(func) if numeric_value(s.node) is not None
              and not (isinstance(s.parent, ast.UnaryOp) and isinstance(s.parent.op, ast.USub))]
    if not consts:
        return introduce_constant(kit, func)
    site = kit.pick(consts)
    old = numeric_value(site.node)
    scale = 10.0 ** kit.rng.uniform(-4.0, 0.0)
    r = kit.rng.random()
    if r < 0.08:
        new = kit.constant()
    elif old != 0.0 and r < 0.55:
        new = old * (1.0 + scale * kit.rng.standard_normal())
    else:
        new = old + scale * kit.rng.standard_normal() * max(1.0, abs(old))
    if isinstance(old, float) and float(f"{new:.6g}") == old:
        return None
    site.replace(const(new))
    return f"change constant {old:.6g} to {float(f'{new:.6g}'):.6g}"


def jiggle_constants(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Perturb all numeric literals together at one small relative scale (follows valleys)."""
    consts = [s for s in sites(func) if numeric_value(s.node) is not None
              and not (isinstance(s.parent, ast.UnaryOp) and isinstance(s.parent.op, ast.USub))]
    if len(consts) < 2:
        return perturb_constant(kit, func)
    scale = 10.0 ** kit.rng.uniform(-4.0, -0.5)
    for site in consts:
        old = numeric_value(site.node)
        noise = scale * kit.rng.standard_normal()
        site.replace(const(old * (1.0 + noise) if old else noise))
    return f"adjust all {len(consts)} constants by about {scale:.2g} (relative)"


def introduce_constant(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Scale or shift a subexpression by a new constant close to the identity."""
    site = _pick_site(kit, func)
    if site is None:
        return None
    noise = 0.3 * kit.rng.standard_normal()
    if kit.rng.random() < 0.5:
        new = ast.BinOp(left=site.node, op=ast.Mult(), right=const(1.0 + noise))
    else:
        new = ast.BinOp(left=site.node, op=ast.Add(), right=const(noise))
    before = show(site.node)
    site.replace(new)
    return f"tune {before} as {show(new)}"


def swap_operator(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Replace an arithmetic operator by another one."""
    site = _pick_site(kit, func, (ast.BinOp,))
    if site is None or not isinstance(site.node.op, _BINOPS):
        return None
    old = type(site.node.op)
    choices = [op for op in _BINOPS if op is not old]
    site.node.op = kit.pick(choices)()
    return f"swap {_SYMBOL[old]} for {_SYMBOL[type(site.node.op)]} in {show(site.node)}"


def replace_subtree(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Replace a subexpression by a grammar expression, a local or a constant."""
    site = _pick_site(kit, func)
    if site is None:
        return None
    new = atom(kit, func)
    if ast.dump(new) == ast.dump(site.node):
        return None
    before = show(site.node, 32)
    site.replace(new)
    return f"replace {before} with {show(new)}"


def replace_term(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Replace a whole additive term by ``c * g``: a grammar expression times a fresh constant.

    A structural move whose constant the tuning operators then adjust; without a sum,
    the returned expression gains the new term instead.
    """
    pool = kit.expressions or kit.fallback_atoms
    if not pool:
        return None
    piece = copy.deepcopy(kit.pick(pool))
    c = kit.constant() if kit.rng.random() < 0.3 else \
        float(kit.rng.choice([-1.0, 1.0])) * 10.0 ** kit.rng.uniform(-2.0, 0.0)
    new = ast.BinOp(left=const(c if c else 0.5), op=ast.Mult(), right=piece)
    terms = [s for s in additive_terms(func) if numeric_value(s.node) is None]
    if terms:
        site = kit.pick(terms)
        if ast.dump(site.node) == ast.dump(new):
            return None
        before = show(site.node, 32)
        site.replace(new)
        return f"replace term {before} with {show(new)}"
    body = body_of(func)
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        return None
    ret = body[-1]
    ret.value = ast.BinOp(left=ret.value, op=ast.Add(), right=new)
    return f"add term {show(new)}"


def wrap(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Combine a subexpression with a grammar piece: x -> x op g (g possibly scaled)."""
    site = _pick_site(kit, func)
    if site is None:
        return None
    piece = atom(kit, func)
    op = kit.pick(list(_BINOPS))()
    if numeric_value(site.node) == 0.0 and isinstance(op, (ast.Mult, ast.Div)):
        op = ast.Add()  # 0 * g would change nothing
    if numeric_value(piece) is None and kit.rng.random() < 0.6:
        # A scaled piece; a small scale under + or - makes a near-neutral step to tune later.
        small = isinstance(op, (ast.Add, ast.Sub)) and kit.rng.random() < 0.5
        scale = 10.0 ** kit.rng.uniform(-2.0, 0.0) if small else (kit.constant() or 0.5)
        piece = ast.BinOp(left=const(scale), op=ast.Mult(), right=piece)
    before = show(site.node, 32)
    pair = (site.node, piece) if kit.rng.random() < 0.75 else (piece, site.node)
    site.replace(ast.BinOp(left=pair[0], op=op, right=pair[1]))
    return f"combine {before} with {show(piece)} by {_SYMBOL[type(op)]}"


def apply_function(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Wrap a subexpression in a unary function (clip, abs, square, negate, ...)."""
    site = _pick_site(kit, func)
    if site is None or numeric_value(site.node) is not None:
        return None
    x = ast.unparse(site.node)
    np_ = kit.numpy_name
    forms = [f"({x}) ** 2", f"-({x})", f"abs({x})"]
    if np_:
        forms += [f"{np_}.maximum({x}, 0.0)", f"{np_}.minimum({x}, {kit.constant()})",
                  f"{np_}.sqrt({np_}.abs({x}))", f"{np_}.log1p({np_}.abs({x}))"]
    new = parse_source(kit.pick(forms), mode="eval").body
    site.replace(new)
    return f"apply {show(new)}"


def delete_term(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Shrink: replace an operation by one of its operands (or a call by an argument)."""
    cands = [s for s in sites(func) if isinstance(s.node, (ast.BinOp, ast.UnaryOp, ast.IfExp))
             or (isinstance(s.node, ast.Call) and s.node.args)]
    if not cands:
        return None
    site = kit.pick(cands)
    node = site.node
    if isinstance(node, ast.BinOp):
        keep = node.left if kit.rng.random() < 0.5 else node.right
    elif isinstance(node, ast.UnaryOp):
        keep = node.operand
    elif isinstance(node, ast.IfExp):
        keep = node.body if kit.rng.random() < 0.5 else node.orelse
    else:
        keep = kit.pick(node.args)
    if isinstance(keep, ast.Starred):
        return None
    before = show(node, 32)
    site.replace(keep)
    return f"simplify {before} to {show(keep)}"


def insert_statement(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Insert a grammar statement before the final return and use what it assigns."""
    body = body_of(func)
    if not kit.statements or not body or not isinstance(body[-1], ast.Return):
        return None
    stmt = copy.deepcopy(kit.pick(kit.statements))
    assigned = [n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    if any(name in locals_of(func) for name in assigned):
        return None
    func.body.insert(len(func.body) - 1, stmt)
    text = f"insert {show(stmt)}"
    if assigned and body[-1].value is not None:
        ret = Site(body[-1], "value", None, body[-1].value)
        use = ast.Name(id=assigned[-1], ctx=ast.Load())
        if numeric_value(ret.node) is not None or kit.rng.random() < 0.4:
            ret.replace(use)
        else:
            ret.replace(ast.BinOp(left=ret.node, op=kit.pick(list(_BINOPS))(), right=use))
        text += f" and use {assigned[-1]}"
    return text


Operator = Callable[[Kit, ast.FunctionDef], "str | None"]
OPERATORS: dict[str, Operator] = {
    "constant": perturb_constant, "jiggle": jiggle_constants, "introduce": introduce_constant, "swap": swap_operator,
    "replace": replace_subtree, "term": replace_term, "wrap": wrap, "function": apply_function,
    "delete": delete_term, "insert": insert_statement,
}
