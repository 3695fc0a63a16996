"""Tree helpers shared by the offline proposer's operators: sites, literals, sizes.

A *site* is a replaceable numeric-looking expression of a function body: not a
call target, attribute base, subscript index, assignment target or
``range(...)`` argument, whose replacement would almost always break the
program.
"""

from __future__ import annotations

import ast
from amdlib.core.parsing import walk
from dataclasses import dataclass

ELIGIBLE = (ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Call, ast.Attribute, ast.IfExp,
            ast.Subscript)
_INTEGER_CALLS = frozenset({"range", "len", "int", "round", "enumerate", "zip"})


@dataclass
class Site:
    """A place in the tree holding an expression that can be replaced."""

    parent: ast.AST
    field: str
    index: int | None
    node: ast.expr

    def replace(self, new: ast.expr) -> None:
        if self.index is None:
            setattr(self.parent, self.field, new)
        else:
            getattr(self.parent, self.field)[self.index] = new
        self.node = new


def show(node: ast.AST, limit: int = 48) -> str:
    """Short source text of a node for descriptions."""
    text = ast.unparse(node).replace("{", "(").replace("}", ")")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def const(value: float) -> ast.expr:
    """A numeric literal; negatives as unary minus so unparsing keeps precedence right."""
    value = float(f"{value:.6g}")
    if value < 0:
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
    return ast.Constant(value)


def numeric_value(node: ast.AST) -> float | None:
    """The value of a numeric literal (``-c`` included), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = numeric_value(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    return None


def body_of(func: ast.FunctionDef) -> list[ast.stmt]:
    """The body without its docstring."""
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def sites(func: ast.FunctionDef) -> list[Site]:
    """Replaceable expression slots of ``func``'s body, in source order."""
    out: list[Site] = []

    def visit(node: ast.AST) -> None:
        for name, value in ast.iter_fields(node):
            if (isinstance(node, ast.Call) and name == "func") or \
                    (isinstance(node, ast.Attribute) and name == "value") or \
                    (isinstance(node, ast.Subscript) and name == "slice"):
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in _INTEGER_CALLS:
                continue
            items, listed = (value, True) if isinstance(value, list) else ([value], False)
            for i, child in enumerate(items):
                if not isinstance(child, ast.AST) or isinstance(
                        child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                    continue
                if not isinstance(getattr(child, "ctx", ast.Load()), ast.Load):
                    continue
                if isinstance(child, ELIGIBLE) and (not isinstance(child, ast.Constant)
                                                     or numeric_value(child) is not None):
                    out.append(Site(node, name, i if listed else None, child))
                visit(child)

    holder = ast.Module(body=body_of(func), type_ignores=[])
    visit(holder)
    return out


def size(func: ast.FunctionDef) -> int:
    """Number of expression and statement nodes in the body (the bloat measure)."""
    return sum(isinstance(n, (ast.expr, ast.stmt)) for s in body_of(func) for n in walk(s))


def locals_of(func: ast.FunctionDef) -> list[str]:
    """Names assigned in the body, in order of first assignment."""
    names: list[str] = []
    for stmt in body_of(func):
        for n in walk(stmt):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id not in names:
                names.append(n.id)
    return names


def additive_terms(func: ast.FunctionDef) -> list[Site]:
    """Sites that are terms of a sum: operands of ``+``/``-`` that are not sums themselves.

    ``a * x + b - g`` has the terms ``a * x``, ``b`` and ``g``.  The operands of a
    literal-only sum are left out (folding owns those).
    """
    out: list[Site] = []
    for site in sites(func):
        parent = site.parent
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub)) \
                and not (isinstance(site.node, ast.BinOp) and isinstance(site.node.op, (ast.Add, ast.Sub))):
            out.append(site)
    return out
