"""Def-before-use analysis of a function body (catches ``UnboundLocalError`` and ``NameError``).

:func:`unbound_names` walks the body in execution order and tracks the local
names that are *definitely* assigned: both branches of an ``if`` must assign a
name for it to count afterwards, a loop body may run zero times, and handlers
of a ``try`` may start anywhere in its body.  A name read where it may not be
assigned yet, or a free name that nothing defines, is reported.  The analysis
is conservative (``for i in range(3): y = i`` then ``return y`` is reported),
so callers compare a mutant's report with its parent's rather than demanding
an empty one.
"""

from __future__ import annotations

import ast
from amdlib.core.parsing import walk
import builtins

__all__ = ["unbound_names", "module_names"]

_BUILTINS = frozenset(dir(builtins))
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def module_names(module: ast.Module) -> set[str]:
    """Names bound at module level (imports, definitions, assignments)."""
    out: set[str] = set()
    for stmt in module.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in stmt.names)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(stmt.name)
        else:
            out.update(n.id for n in walk(stmt) if isinstance(n, ast.Name)
                       and isinstance(n.ctx, ast.Store))
    return out


def unbound_names(func: ast.FunctionDef, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Names ``func`` may read before they are bound.

    ``known`` are names defined outside the function (module level, modules the
    output will import); builtins and the function's parameters count as bound.
    """
    a = func.args
    params = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
    params |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    local = _assigned(func.body) - params
    checker = _Checker(local, set(known) | _BUILTINS)
    checker.block(func.body, params)
    return checker.bad


def _assigned(body: list[ast.stmt]) -> set[str]:
    """Every name a body binds anywhere (Python makes those local to the function)."""
    out: set[str] = set()
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
            continue
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((x.asname or x.name).split(".")[0] for x in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
        if isinstance(node, (ast.Lambda, *_COMPS)):
            continue  # their targets are their own scope
        stack.extend(ast.iter_child_nodes(node))
    return out


class _Checker:
    """Walks statements with the set of definitely bound names; collects bad reads."""

    def __init__(self, local: set[str], outer: set[str]) -> None:
        self.local, self.outer = local, outer
        self.bad: set[str] = set()

    # --- expressions ------------------------------------------------------------------

    def expr(self, node: ast.AST | None, bound: set[str]) -> None:
        """Check the reads of an expression; walrus targets join ``bound``."""
        if node is None:
            return
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                if node.id not in bound and (node.id in self.local or node.id not in self.outer):
                    self.bad.add(node.id)
            else:
                bound.add(node.id)
            return
        if isinstance(node, ast.NamedExpr):
            self.expr(node.value, bound)
            bound.add(node.target.id)
            return
        if isinstance(node, _COMPS):
            inner = set(bound)
            for gen in node.generators:
                self.expr(gen.iter, inner)
                inner |= {n.id for n in walk(gen.target) if isinstance(n, ast.Name)}
                for cond in gen.ifs:
                    self.expr(cond, inner)
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            for part in parts:
                self.expr(part, inner)
            return
        if isinstance(node, _NESTED):
            return  # runs later, in its own scope: not checked
        for child in ast.iter_child_nodes(node):
            self.expr(child, bound)

    def target(self, node: ast.AST, bound: set[str]) -> None:
        """Bind an assignment target (reads inside it, e.g. ``a[i] = ...``, are checked)."""
        if isinstance(node, ast.Name):
            bound.add(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self.target(elt, bound)
        elif isinstance(node, ast.Starred):
            self.target(node.value, bound)
        else:
            self.expr(node, bound)

    # --- statements -------------------------------------------------------------------

    def block(self, body: list[ast.stmt], bound: set[str]) -> set[str]:
        """Check a statement list; returns the names definitely bound after it."""
        for stmt in body:
            bound = self.stmt(stmt, bound)
            if isinstance(stmt, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
                return bound | self.local  # nothing after it runs: every name counts as bound
        return bound

    def stmt(self, s: ast.stmt, bound: set[str]) -> set[str]:
        bound = set(bound)
        if isinstance(s, ast.Assign):
            self.expr(s.value, bound)
            for t in s.targets:
                self.target(t, bound)
        elif isinstance(s, ast.AugAssign):
            self.expr(s.value, bound)
            self.expr(ast.Name(id=s.target.id, ctx=ast.Load()) if isinstance(s.target, ast.Name)
                      else s.target, bound)
            self.target(s.target, bound)
        elif isinstance(s, ast.AnnAssign):
            self.expr(s.value, bound)
            if s.value is not None:
                self.target(s.target, bound)
        elif isinstance(s, ast.If):
            self.expr(s.test, bound)
            bound = self.block(s.body, bound) & self.block(s.orelse, bound)
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            self.expr(s.iter, bound)
            inner = set(bound)
            self.target(s.target, inner)
            self.block(s.body, inner)
            bound = self.block(s.orelse, bound) if s.orelse else bound
        elif isinstance(s, ast.While):
            self.expr(s.test, bound)
            self.block(s.body, bound)
            bound = self.block(s.orelse, bound) if s.orelse else bound
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                self.expr(item.context_expr, bound)
                if item.optional_vars is not None:
                    self.target(item.optional_vars, bound)
            bound = self.block(s.body, bound)
        elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            done = self.block(s.orelse, self.block(s.body, bound))
            for h in s.handlers:
                self.expr(h.type, bound)
                start = bound | ({h.name} if h.name else set())
                done &= self.block(h.body, start)
            bound = self.block(s.finalbody, done)
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for d in s.decorator_list:
                self.expr(d, bound)
            bound.add(s.name)
        elif isinstance(s, (ast.Import, ast.ImportFrom)):
            bound.update((x.asname or x.name).split(".")[0] for x in s.names)
        elif isinstance(s, ast.Delete):
            for t in s.targets:
                if isinstance(t, ast.Name):
                    self.expr(ast.Name(id=t.id, ctx=ast.Load()), bound)
                    bound.discard(t.id)
                else:
                    self.expr(t, bound)
        elif isinstance(s, (ast.Global, ast.Nonlocal)):
            self.local -= set(s.names)
            self.outer |= set(s.names)
        else:  # Return, Expr, Raise, Assert, Match, Pass, Break, Continue
            for child in ast.iter_child_nodes(s):
                if isinstance(child, ast.expr):
                    self.expr(child, bound)
                elif isinstance(child, ast.stmt):
                    self.stmt(child, bound)
        return bound
