"""The notebook tags in course_utils' docstrings stay true.

Two forms, each checked against the committed notebooks:

- "Introduced in notebook 05" (or "every notebook"): the object is named in that notebook, in its
  code cells or in source the notebook shows (``show_source(...)``, whose output is committed).
  Every other notebook the same sentence names ("; notebook 06 times batch size 1 with it") must
  name it too.
- "Used by notebook 05 through `coffee_data.list_samples`" (or "notebooks 01 and 02", "every
  notebook"; several names joined by "and"/"or"): an indirect use. Each listed notebook names one
  of the given objects, and the object is reachable from each of them through the package's own
  references (a function's body, a class's methods), followed across modules.

A name counts as an identifier (a variable, an attribute, an import), never as a word in prose.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_utils"
NOTEBOOKS = {p.stem[:2]: p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
NUMBERS = r"(?:every notebook|notebooks? \d\d(?:(?:, | and )\d\d)*)"
INTRODUCED = re.compile(rf"Introduced in ({NUMBERS})([^\n]*(?:\n(?!\s*\n)[^\n]*)*)")
USED = re.compile(rf"Used by ({NUMBERS})(?: [^`\n]*?)? through (`[\w.]+`(?:(?:,\s+|\s+and\s+|\s+or\s+)`[\w.]+`)*)")


def _numbers(text: str) -> list[str]:
    return sorted(NOTEBOOKS) if text.startswith("every notebook") else re.findall(r"\d\d", text)


def _identifiers(source: str) -> set[str]:
    # IPython lines (%pip, !ls) are not Python; blank them and keep the rest parseable.
    tree = ast.parse(re.sub(r"^(\s*)[%!].*$", r"\1pass", textwrap.dedent(source), flags=re.M))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {part for alias in node.names for part in alias.name.split(".")}
    return names


@cache
def named_in(number: str) -> frozenset[str]:
    """Identifiers of a notebook's code cells and of the source its show_source calls display."""
    names = set()
    for cell in json.loads(NOTEBOOKS[number].read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        names |= _identifiers(source)
        if "show_source(" in source:
            for out in cell["outputs"]:
                if out["output_type"] == "display_data" and "text/plain" in out.get("data", {}):
                    names |= _identifiers("".join(out["data"]["text/plain"]))
    return frozenset(names)


@cache
def modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.glob("*.py"))}


def _top_level(tree: ast.Module) -> dict[str, ast.AST]:
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {node.name: node for node in tree.body if isinstance(node, kinds)}


@cache
def references() -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(module, name) of every top-level function and class -> the package objects its body names."""
    graph = {}
    for module, tree in modules().items():
        local = {name: (module, name) for name in _top_level(tree)}
        imported_modules = {}
        for node in ast.walk(tree):  # imports inside functions count too (data.verify_coffee's)
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                for alias in node.names:
                    if node.module is None:
                        imported_modules[alias.asname or alias.name] = alias.name
                    else:
                        local[alias.asname or alias.name] = (node.module, alias.name)
        for name, node in _top_level(tree).items():
            found = set()
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and sub.id in local:
                    found.add(local[sub.id])
                elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                    if sub.value.id in imported_modules:
                        found.add((imported_modules[sub.value.id], sub.attr))
            graph[(module, name)] = found - {(module, name)}
    return graph


def _resolve(dotted: str) -> tuple[str, str]:
    """`module.name`, or a bare name defined at the top of exactly one module."""
    if "." in dotted:
        module, name = dotted.split(".")
        assert name in _top_level(modules()[module]), f"`{dotted}` is not defined in course_utils/{module}.py"
        return module, name
    owners = [m for m, tree in modules().items() if dotted in _top_level(tree)]
    assert len(owners) == 1, f"`{dotted}` is defined in {owners or 'no module'}: write it as `module.{dotted}`"
    return owners[0], dotted


def reaches(start: tuple[str, str], target: tuple[str, str]) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for nxt in references().get(todo.pop(), ()):
            if nxt == target:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def tags() -> list[tuple[str, str, str, str]]:
    """(module, object name, kind, the tag's text) for every tag in the package."""
    found = []
    for module, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                doc = ast.get_docstring(node) or ""
                found += [(module, node.name, "introduced", m[0]) for m in INTRODUCED.finditer(doc)]
                found += [(module, node.name, "used", m[0]) for m in USED.finditer(doc)]
    return found


TAGS = tags()


def test_the_tags_are_found():
    # Both forms are in use; a renamed phrase would otherwise silently check nothing.
    kinds = [kind for _, _, kind, _ in TAGS]
    assert kinds.count("introduced") >= 40 and kinds.count("used") >= 10
    untagged = [
        f"{path.name}:{i}"
        for path in sorted(PACKAGE.glob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"Introduced in|Used by (?:every )?notebook", line)
    ]
    assert len(untagged) == len(TAGS), "a tag this test cannot parse: write it in one of the two forms"


@pytest.mark.parametrize("module, name, kind, tag", TAGS, ids=[f"{t[0]}.{t[1]}" for t in TAGS])
def test_tag_is_true(module, name, kind, tag):
    if kind == "introduced":
        head = INTRODUCED.match(tag)
        numbers = _numbers(head[1]) + re.findall(r"notebooks? (\d\d)", head[2])
        missing = [n for n in numbers if name not in named_in(n)]
        assert not missing, (
            f"{module}.{name}: {tag!r}, but notebook(s) {missing} never name it, in code or shown source; "
            "for an indirect use write 'Used by notebook NN through `X`'"
        )
    else:
        head = USED.match(tag)
        via = [v.strip("`") for v in re.findall(r"`[\w.]+`", head[2])]
        for number in _numbers(head[1]):
            present = [v for v in via if v.split(".")[-1] in named_in(number)]
            assert present, f"{module}.{name}: {tag!r}, but notebook {number} names none of {via}"
            assert any(reaches(_resolve(v), (module, name)) for v in present), (
                f"{module}.{name}: {tag!r}, but none of {present} reaches it in course_utils"
            )


def test_every_model_names_the_notebook_that_introduces_it():
    """models.py's docstring says so: each public class and function names its notebook(s)
    ("Notebook 04: ...", "(notebook 04)", "(03, 04)"), and each of them names the object."""
    public = {name: node for name, node in _top_level(modules()["models"]).items() if not name.startswith("_")}
    assert {"FC2Layer", "CNN", "Net", "ImprovedNet", "CifarVGG", "ClassicVGG16"} <= set(public)
    for name, node in public.items():
        doc = ast.get_docstring(node) or ""
        numbers = re.findall(r"[Nn]otebooks? (\d\d)", doc) + [
            n for group in re.findall(r"\((\d\d(?:, \d\d)+)\)", doc) for n in group.split(", ")
        ]
        assert numbers, f"models.{name}: its docstring names no notebook"
        missing = [n for n in numbers if name not in named_in(n)]
        assert not missing, f"models.{name}: notebook(s) {missing} never name it, in code or shown source"
