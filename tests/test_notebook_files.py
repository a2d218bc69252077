"""Static checks of the committed notebooks: the parameters contract, outputs from a real run."""

import ast
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CONTRACT = {
    "profile",
    "device",
    "seed",
    "data_root",
    "metrics_path",
    "epochs",
    "batch_size",
    "train_limit",
    "test_limit",
}


def test_all_five_notebooks_exist():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_holds_the_contract(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    tree = ast.parse(cells[0].source)
    assigned = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert all(isinstance(node, ast.Assign) for node in tree.body), "plain assignments only"
    assert CONTRACT <= set(assigned)
    assert ast.literal_eval(assigned["seed"]) == 0
    assert all(ast.literal_eval(assigned[k]) is None for k in CONTRACT - {"seed"})
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_with_outputs_of_a_real_run(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "every code cell was executed"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for c in code for o in c.outputs if o.output_type == "stream")
    assert re.search(r"^profile\s+(smoke|cpu|full)$", printed, re.M), "settings printed at the top"
    assert not re.search(r"/(?:work|root|tmp|home)/\S+", path.read_text()), "no machine paths in outputs"
    assert path.stat().st_size < 3_000_000
