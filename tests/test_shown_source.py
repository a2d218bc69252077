"""Every ``show_source(...)`` output committed in a notebook is the current source of what it shows,
so the code a student reads cannot drift from the package: a changed function means a re-published
notebook (``python -m course_utils.course --profile cpu --publish --seeds 0 NN``)."""

from __future__ import annotations

import ast
import inspect

import nbformat
import pytest

from course_utils.catalogue import CATALOGUE


def course_imports(cells) -> dict:
    """The namespace of the notebook's imports from course_utils (names and aliases)."""
    namespace: dict = {}
    for cell in cells:
        try:
            tree = ast.parse("\n".join(line for line in cell.source.splitlines() if not line.startswith("%")))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and "course_utils" in ast.unparse(node):
                exec(ast.unparse(node), namespace)
    return namespace


def shown(cells):
    """(cell index, the expressions shown, the committed code displays) of every cell that shows source."""
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or "show_source(" not in cell.source:
            continue
        calls = [
            node
            for node in ast.walk(ast.parse(cell.source))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_source"
        ]
        expressions = [ast.unparse(arg) for call in sorted(calls, key=lambda c: c.lineno) for arg in call.args]
        displays = [
            out["data"]["text/plain"]
            for out in cell.get("outputs", [])
            if out.get("output_type") == "display_data" and "text/latex" in out.get("data", {})
        ]
        yield index, expressions, displays


@pytest.mark.parametrize("nb", CATALOGUE, ids=[nb.stem for nb in CATALOGUE])
def test_shown_source_is_the_current_source(nb):
    cells = nbformat.read(nb.path, as_version=4).cells
    namespace = course_imports(cells)
    for index, expressions, displays in shown(cells):
        assert len(displays) == len(expressions), f"{nb.file} cell {index}: run the notebook again"
        for expression, display in zip(expressions, displays):
            current = inspect.getsource(eval(expression, namespace))
            assert display == current.rstrip("\n") or display == current, (
                f"{nb.file} cell {index} shows an old {expression}: re-publish the notebook"
            )
