"""Static checks of the committed notebooks and of the package: the parameters contract, one
bootstrap cell, outputs from a real run, exercises, and no model chosen on test data."""

import ast
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from course_utils.catalogue import BY_STEM, CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [nb.path for nb in CATALOGUE]  # tests/test_catalogue.py: no notebook file outside it
CONTRACT = {
    "profile",
    "device",
    "seed",
    "data_root",
    "metrics_path",
    "max_steps",
    "epochs",
    "batch_size",
    "train_limit",
    "test_limit",
}
# Calls whose third argument (or val_loader=) is the loader that chooses the model.
SELECTING = {"fit", "train_cifar_adam", "train_sgd_one_cycle", "train_coffee_vgg16"}
SELECTING_POSITION = {"train_cifar_adam": 2, "train_sgd_one_cycle": 2, "train_coffee_vgg16": 2}


def _read(path):
    return nbformat.read(path, as_version=4)


def _code(nb) -> str:
    """A notebook's code cells as one Python source (IPython magics blanked)."""
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    return "\n".join(re.sub(r"^(\s*)%.*$", r"\1pass", src, flags=re.M) for src in cells)


def _tools_module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_notebook_starts_with_the_bootstrap_cell_and_title_link_of_the_repository_setting():
    """tools/bootstrap_cell.ipy rendered for pyproject.toml's [project.urls] Repository (unset: the
    cell without its Colab branch, and no link); tests/test_colab.py sets a URL on a copy."""
    colab = _tools_module("colab")
    repo = colab.repository(ROOT)
    expected = colab.bootstrap_cell(repo)
    for path in NOTEBOOKS:
        nb = _read(path)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert first.source == expected, f"{path.name}: run tools/set_bootstrap.py"
        title = next(c for c in nb.cells if c.cell_type == "markdown")
        linked = colab.title_cell(title.source, colab.colab_link(repo, path.name))
        assert title.source == linked, f"{path.name}: run tools/set_bootstrap.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_holds_the_contract_and_every_hyperparameter(path):
    nb = _read(path)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    tree = ast.parse(cells[0].source)
    assert all(isinstance(node, ast.Assign) for node in tree.body), "plain assignments only"
    assigned = {t.id: node.value for node in tree.body for t in node.targets}
    knobs = set().union(*(set(table) for table in BY_STEM[path.stem].profiles.values()))
    assert CONTRACT | knobs <= set(assigned), f"missing: {sorted(CONTRACT | knobs - set(assigned))}"
    assert ast.literal_eval(assigned["seed"]) == 0
    assert all(ast.literal_eval(assigned[k]) is None for k in (CONTRACT | knobs) - {"seed"})
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_with_outputs_of_a_real_run(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "every code cell was executed"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for c in code for o in c.outputs if o.output_type == "stream")
    assert re.search(r"^profile\s+(smoke|cpu|full)$", printed, re.M), "settings printed at the top"
    text = path.read_text()
    assert not re.search(r"/(?:work|root|tmp|home)/\S+", text), "no machine paths in outputs"
    assert "application/vnd.jupyter.widget-view+json" not in text and "it/s]" not in text, "no frozen progress bar"
    assert path.stat().st_size < 3_000_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_about_these_outputs_note_is_generated_by_the_run(path):
    cells = [c for c in _read(path).cells if c.cell_type == "code" and "about_outputs(" in c.source]
    assert len(cells) == 1
    shown = "".join(str(o.get("data", {}).get("text/markdown", "")) for o in cells[0].outputs)
    assert "About these outputs" in shown and "Profile" in shown


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_ends_with_exercises_and_folded_answers(path):
    markdown = [c.source for c in _read(path).cells if c.cell_type == "markdown"]
    start = next(i for i, src in enumerate(markdown) if re.search(r"^## Exercises", src, re.M))
    text = "\n".join(markdown[start:])
    items = re.findall(r"^\d+\. ", text, re.M)
    assert 4 <= len(items) <= 6, f"{len(items)} exercises"
    assert text.count("<details>") >= len(items) and text.count("</details>") == text.count("<details>")


def _selecting_calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in SELECTING:
                position = SELECTING_POSITION.get(name, 2)
                kw = {k.arg: k.value for k in node.keywords}
                chooser = kw.get("val_loader", node.args[position] if len(node.args) > position else None)
                yield name, chooser


def _sources():
    for path in sorted((ROOT / "course_utils").glob("*.py")) + sorted((ROOT / "tests").glob("*.py")):
        yield path.name, path.read_text()
    for path in NOTEBOOKS:
        yield path.name, _code(_read(path))


def test_no_call_in_the_repository_chooses_a_model_on_test_data():
    calls = 0
    for name, source in _sources():
        for function, chooser in _selecting_calls(ast.parse(source)):
            calls += 1
            shown = ast.unparse(chooser) if chooser is not None else "None"
            assert "test" not in shown.lower(), f"{name}: {function}(...) chooses on {shown}"
    assert calls >= 10  # the scan sees the repository's training calls
    package = "\n".join(p.read_text() for p in (ROOT / "course_utils").glob("*.py"))
    assert "best_test" not in package and "test_acc" not in (ROOT / "course_utils" / "training.py").read_text()


def test_no_function_outside_tests_is_named_like_a_test():
    for path in (ROOT / "course_utils").glob("*.py"):
        names = [n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)]
        assert not [n for n in names if n.startswith("test_")], path.name
