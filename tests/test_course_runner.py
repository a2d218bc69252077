"""`make course`: progress lines while a notebook runs, and a failed notebook that is reported,
named with its executed copy, without hiding the others."""

import argparse
import io
import json

import nbformat
import pytest

from course_utils import course
from course_utils.catalogue import CATALOGUE


def test_epoch_lines_pass_through_with_elapsed_time_and_nothing_else():
    out = io.StringIO()
    sink = course.EpochLines(start=0.0, stream=out)
    sink.write("profile  smoke\nepoch 1/3  lr 1.00e-03  train loss 2.1")
    assert out.getvalue() == ""  # a line is shown once it is complete
    sink.write("0\n{'metrics': 1}\nkept the weights of epoch 1\n")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].endswith("epoch 1/3  lr 1.00e-03  train loss 2.10")
    assert "s] kept the weights" in lines[1]


def _notebook(path, code: str):
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    )
    nb.cells = [
        nbformat.v4.new_code_cell("metrics_path = None\nseed = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code),
    ]
    nbformat.write(nb, path)
    return str(path)


def test_a_failed_notebook_is_reported_and_the_others_still_run(tmp_path, capsys):
    broken = _notebook(tmp_path / "98_broken.ipynb", "raise ValueError('a broken cell')")
    fine = _notebook(
        tmp_path / "99_fine.ipynb",
        "import json\nopen(metrics_path, 'w').write(json.dumps(\n"
        "    {'notebook': '99_fine', 'profile': 'smoke', 'device': 'cpu'}))",
    )
    status = course.main(["--out", str(tmp_path / "out"), broken, fine])
    printed = capsys.readouterr().out
    assert status == 1
    assert "98_broken" in printed and "FAILED" in printed and "98_broken.ipynb" in printed
    assert "ValueError: a broken cell" in printed
    assert "99_fine                      smoke" in printed
    assert "all notebooks, wall time" in printed


def test_notebooks_are_chosen_by_number_name_or_path():
    nb = CATALOGUE[-1]
    path = course.NOTEBOOKS_DIR / nb.file
    assert course.resolve([nb.number]) == [path]
    assert course.resolve([nb.stem, nb.file, str(path)]) == [path] * 3


@pytest.mark.parametrize("name, says", [("4", "is no notebook"), ("0", f"matches {CATALOGUE[0].stem}, ")])
def test_an_unknown_or_ambiguous_name_lists_the_notebooks(name, says, capsys):
    with pytest.raises(SystemExit) as stop:
        course.main([name])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert says in err and CATALOGUE[-1].stem in err


def test_seeds_run_each_notebook_once_per_seed(tmp_path, capsys):
    fine = _notebook(
        tmp_path / "99_fine.ipynb",
        "import json\nopen(metrics_path, 'w').write(json.dumps(\n"
        "    {'notebook': '99_fine', 'profile': 'smoke', 'device': 'cpu', 'seed': seed}))",
    )
    assert course.main(["--out", str(tmp_path / "out"), "--seeds", "1,2", fine]) == 0
    assert "99_fine seed 1" in capsys.readouterr().out
    for seed in (1, 2):
        run = json.loads((tmp_path / "out" / f"seed{seed}" / "99_fine.metrics.json").read_text())
        assert run["seed"] == seed


@pytest.mark.parametrize("text", ["0 1", "a", "1,1", "-1"])
def test_seeds_are_one_comma_separated_word(text):
    with pytest.raises(argparse.ArgumentTypeError):
        course.seed_list(text)
