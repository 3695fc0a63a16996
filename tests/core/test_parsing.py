"""``amdlib.core.parsing``: the faster ``unparse`` and ``walk`` must equal the standard ones exactly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amdlib.core import parsing

SOURCES = sorted(Path(__file__).resolve().parents[2].joinpath("amdlib").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES[::7], ids=lambda p: p.name)
def test_unparse_and_walk_equal_the_standard_ones_on_the_package(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert parsing.unparse(tree) == ast.unparse(tree)
    assert parsing.unparse(tree) == ast.unparse(tree)  # again, from the docstring cache
    assert [id(n) for n in parsing.walk(tree)] == [id(n) for n in ast.walk(tree)]


@settings(max_examples=200, deadline=None)
@given(doc=st.lists(st.sampled_from(list("ab \n\t'\"\\{}\x00é") + ['"""', "'''"]), max_size=20).map("".join),
       kind=st.sampled_from([None, "u"]), depth=st.integers(0, 2))
def test_unparse_renders_any_docstring_like_ast(doc: str, kind: str | None, depth: int) -> None:
    body: list[ast.stmt] = [ast.Expr(ast.Constant(doc, kind=kind)), ast.Return(ast.Constant(1.0))]
    node: ast.stmt = ast.FunctionDef(name="f", args=ast.arguments([], [], None, [], [], None, []), body=body,
                                     decorator_list=[], returns=None, type_comment=None)
    for _ in range(depth):  # the literal must not depend on the indentation it is written at
        node = ast.FunctionDef(name="g", args=ast.arguments([], [], None, [], [], None, []),
                               body=[ast.Expr(ast.Constant(doc, kind=kind)), node], decorator_list=[],
                               returns=None, type_comment=None)
    module = ast.fix_missing_locations(ast.Module(body=[ast.Expr(ast.Constant(doc, kind=kind)), node],
                                                  type_ignores=[]))
    assert parsing.unparse(module) == ast.unparse(module)


def test_walk_queues_children_before_yielding_like_ast() -> None:
    # A caller that replaces a node's children while walking still visits the old ones.
    def visited(walker) -> list[str]:
        tree = ast.parse("x = a + b")
        names = []
        for n in walker(tree):
            if isinstance(n, ast.BinOp):
                n.left = ast.Name("z", ast.Load())
            if isinstance(n, ast.Name):
                names.append(n.id)
        return names

    assert visited(parsing.walk) == visited(ast.walk) == ["x", "a", "b"]
