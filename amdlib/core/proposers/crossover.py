"""Crossover operators of the offline proposer: recombine two parent functions.

``graft_subtree`` puts an expression of the second parent into the first
(only one whose free names the first parent also has); ``blend`` mixes the
two returned expressions, ``a * f1 + (1 - a) * f2``, when both parents are
straight-line functions ending in a single return.
"""

from __future__ import annotations

import ast
import copy

from amdlib.core.proposers.mutate import Kit
from amdlib.core.proposers.tree import body_of, const, locals_of, show, sites
from amdlib.core.parsing import walk


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in walk(node) if isinstance(n, ast.Name)}


def graft_subtree(kit: Kit, first: ast.FunctionDef, second: ast.FunctionDef) -> str | None:
    """Replace a subexpression of ``first`` by a compatible one of ``second``."""
    here = sites(first)
    donors = [s.node for s in sites(second)]
    if not here or not donors:
        return None
    other_locals = set(locals_of(second)) - set(locals_of(first))
    present = {ast.dump(s.node) for s in here}  # built once: dumping is the costly part
    usable = [d for d in donors if not (_names(d) & other_locals) and ast.dump(d) not in present]
    if not usable:
        return None
    # Prefer larger donors: they carry the other parent's ideas, not just a leaf.
    weights = [1.0 + len(list(walk(d))) for d in usable]
    total = sum(weights)
    donor = usable[int(kit.rng.choice(len(usable), p=[w / total for w in weights]))]
    site = kit.pick(here)
    before = show(site.node, 32)
    site.replace(copy.deepcopy(donor))
    return f"take {show(donor)} from the other parent in place of {before}"


def _straight(func: ast.FunctionDef) -> bool:
    """True for a body of return-free statements followed by one final ``return expr``."""
    body = body_of(func)
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        return False
    return not any(isinstance(n, ast.Return) for s in body[:-1] for n in walk(s))


def blend(kit: Kit, first: ast.FunctionDef, second: ast.FunctionDef) -> str | None:
    """``first`` becomes: both bodies, then ``return a * r1 + (1 - a) * r2``."""
    if not (_straight(first) and _straight(second)):
        return None
    other = copy.deepcopy(second)
    taken = set(locals_of(first)) | {a.arg for a in first.args.args}
    rename: dict[str, str] = {}
    for name in locals_of(other):
        if name in taken:
            new, k = f"{name}_b", 2
            while new in taken or new in rename.values():
                new, k = f"{name}_b{k}", k + 1
            rename[name] = new
    for n in walk(other):
        if isinstance(n, ast.Name) and n.id in rename:
            n.id = rename[n.id]
    mine, theirs = body_of(first), body_of(other)
    r1, r2 = mine[-1].value, theirs[-1].value
    if ast.dump(r1) == ast.dump(r2):
        return None
    a = round(float(kit.rng.uniform(0.2, 0.8)), 3)
    mixed = ast.BinOp(
        left=ast.BinOp(left=const(a), op=ast.Mult(), right=r1), op=ast.Add(),
        right=ast.BinOp(left=const(round(1.0 - a, 3)), op=ast.Mult(), right=r2))
    docstring = first.body[: len(first.body) - len(mine)]
    first.body = docstring + mine[:-1] + theirs[:-1] + [ast.Return(value=mixed)]
    return f"blend the parents' results with weights {a:g} and {1 - a:.3g}"
