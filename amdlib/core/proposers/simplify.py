"""Simplification of mutants: fold literal arithmetic, drop dead assignments, shrink.

Keeping constants as single leaves (``x * 6.0`` rather than ``x * 2.0 * 3.0``)
makes them tunable by one perturbation and keeps programs from bloating.
"""

from __future__ import annotations

import ast
import math

from amdlib.core.proposers.mutate import Kit, delete_term
from amdlib.core.proposers.tree import body_of, const, numeric_value, show, sites, size
from amdlib.core.parsing import walk


def _fold_pair(node: ast.BinOp) -> ast.expr | None:
    """A simpler equal form of ``node``, or None (literal arithmetic, chains, identities)."""
    a, b = numeric_value(node.left), numeric_value(node.right)
    op = type(node.op)
    try:
        if a is not None and b is not None:
            value = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(op)
            if value is None:
                value = a / b if op is ast.Div else a ** b if op is ast.Pow else None
            if isinstance(value, float) and math.isfinite(value) and abs(value) < 1e12:
                return const(value)
            return None
        inner = node.left
        if b is not None and isinstance(inner, ast.BinOp) and numeric_value(inner.right) is not None:
            c = numeric_value(inner.right)
            mul, add = (ast.Mult, ast.Div), (ast.Add, ast.Sub)
            if op in mul and type(inner.op) in mul:  # (e * c) / b -> e * (c / b)
                k = (c if isinstance(inner.op, ast.Mult) else 1.0 / c) * (b if op is ast.Mult else 1.0 / b)
                return ast.BinOp(left=inner.left, op=ast.Mult(), right=const(k))
            if op in add and type(inner.op) in add:  # (e + c) - b -> e + (c - b)
                k = (c if isinstance(inner.op, ast.Add) else -c) + (b if op is ast.Add else -b)
                return ast.BinOp(left=inner.left, op=ast.Add(), right=const(k))
    except ZeroDivisionError:
        return None
    if b is not None and ((b == 0.0 and op in (ast.Add, ast.Sub)) or (b == 1.0 and op in (ast.Mult, ast.Div))):
        return node.left
    if a is not None and ((a == 0.0 and op is ast.Add) or (a == 1.0 and op is ast.Mult)):
        return node.right
    if b is not None and b < 0 and op in (ast.Add, ast.Sub):  # e + -c -> e - c
        flipped = ast.Sub() if op is ast.Add else ast.Add()
        return ast.BinOp(left=node.left, op=flipped, right=const(-b))
    return None


_PURE = {"abs": abs, "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "log1p": math.log1p,
         "maximum": max, "minimum": min, "max": max, "min": min}


def _fold_call(node: ast.Call) -> ast.expr | None:
    """``np.sqrt(4.0) -> 2.0`` and the like, for a few pure functions of literals."""
    fname = node.func.attr if isinstance(node.func, ast.Attribute) else \
        node.func.id if isinstance(node.func, ast.Name) else None
    values = [numeric_value(a) for a in node.args]
    if fname not in _PURE or node.keywords or not values or None in values:
        return None
    try:
        value = float(_PURE[fname](*values))
    except (TypeError, ValueError, OverflowError):
        return None
    return const(value) if math.isfinite(value) else None


def fold_constants(func: ast.FunctionDef) -> None:
    """Simplify literal arithmetic so constants stay single, tunable leaves.

    ``2.0 * 0.5 -> 1.0``, ``x * 2 * 3 -> x * 6``, ``x + 0.0 -> x``, ``x + -c -> x - c``.
    The identities can drop a broadcast (``x * 1.0`` of a scalar ``x``), which the
    harness's ``np.asarray`` handles.
    """
    for _ in range(3):
        changed = False
        for site in reversed(sites(func)):  # children before parents
            node = site.node
            while isinstance(node, (ast.BinOp, ast.Call)):
                simpler = _fold_pair(node) if isinstance(node, ast.BinOp) else _fold_call(node)
                if simpler is None:
                    break
                site.replace(simpler)
                node, changed = simpler, True
        if not changed:
            break


def drop_dead_assignments(func: ast.FunctionDef) -> None:
    """Remove top-level assignments to names that are never read (left by shrinking)."""
    while True:
        read = {n.id for s in func.body for n in walk(s)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        dead = [stmt for stmt in body_of(func) if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id not in read]
        if not dead:
            return
        func.body = [stmt for stmt in func.body if not any(stmt is d for d in dead)]


def _coefficient(term: ast.expr) -> float | None:
    """The literal factor of ``c * g`` / ``g * c`` / ``g / c`` (or the literal itself)."""
    value = numeric_value(term)
    if value is not None:
        return value
    if isinstance(term, ast.BinOp) and isinstance(term.op, ast.Mult):
        left, right = numeric_value(term.left), numeric_value(term.right)
        return left if left is not None else right
    if isinstance(term, ast.BinOp) and isinstance(term.op, ast.Div):
        right = numeric_value(term.right)
        return 1.0 / right if right else None
    return None


def drop_term(kit: Kit, func: ast.FunctionDef) -> str | None:
    """Remove one term of a sum, preferring terms with a small literal coefficient.

    ``a + 0.001 * g -> a`` changes the function least; terms without a literal
    coefficient count as having coefficient 1.
    """
    choices: list[tuple[object, bool, float]] = []  # (site of the sum, drop its right operand?, weight)
    for site in sites(func):
        node = site.node
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))):
            continue
        for right in (False, True):
            term = node.right if right else node.left
            if isinstance(term, ast.BinOp) and isinstance(term.op, (ast.Add, ast.Sub)):
                continue  # a partial sum: its own terms are candidates
            coef = _coefficient(term)
            weight = 1.0 / (abs(1.0 if coef is None else coef) + 0.02)
            choices.append((site, right, weight))
    if not choices:
        return None
    weights = [w for _, _, w in choices]
    total = sum(weights)
    site, right, _ = choices[int(kit.rng.choice(len(choices), p=[w / total for w in weights]))]
    node = site.node
    if right:
        dropped, keep = node.right, node.left
    else:
        dropped = node.left
        keep = node.right if isinstance(node.op, ast.Add) else ast.UnaryOp(op=ast.USub(), operand=node.right)
    site.replace(keep)
    return f"drop term {show(dropped, 32)}"


def tidy(func: ast.FunctionDef) -> None:
    """Fold constants, then remove assignments nobody reads."""
    fold_constants(func)
    drop_dead_assignments(func)


def shrink(kit: Kit, func: ast.FunctionDef, limit: int, steps: int = 8) -> list[str]:
    """Drop terms (else operations) until ``size(func) <= limit``; what was done.

    Used on mutants over the node budget: shrinking keeps most of a crossover's
    or mutation's idea where a plain rejection would waste it.
    """
    notes: list[str] = []
    for _ in range(steps):
        if size(func) <= limit:
            break
        note = drop_term(kit, func) if kit.rng.random() < 0.9 else None
        note = note or delete_term(kit, func)
        if note is None:
            break
        tidy(func)
        notes.append(note)
    return notes
