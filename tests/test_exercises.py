"""`python -m course_utils.exercises`: the edits it makes still apply to the committed notebooks,
a kept record answers the exercises its catalogue entry lists, and the record says what ran.

The records themselves come from real runs of the notebooks (minutes each); here the runner's
bookkeeping is checked with a stand-in for the notebook run, and the committed records are read."""

import dataclasses
import json

import nbformat
import pytest

from course_utils import exercises
from course_utils.catalogue import CATALOGUE, Exercise

WITH_EXERCISES = [nb for nb in CATALOGUE if nb.exercises]


@pytest.mark.parametrize("nb", WITH_EXERCISES, ids=lambda nb: nb.stem)
def test_every_exercise_edit_applies_to_the_committed_notebook(nb, tmp_path):
    for ex in nb.exercises:
        for label, edits in ex.edits.items():
            copy = nbformat.read(exercises.edited_copy(nb.path, edits, tmp_path / f"{ex.number}-{label}"), 4)
            code = "\n".join(c.source for c in copy.cells if c.cell_type == "code")
            assert all(replacement in code for _, replacement in edits), (nb.stem, ex.number, label)


def test_an_edit_that_no_longer_matches_names_the_notebook_and_the_fix(tmp_path):
    nb = WITH_EXERCISES[0]
    with pytest.raises(ValueError, match=rf"{nb.path.name}.*course_utils/catalogue.py"):
        exercises.edited_copy(nb.path, (("a line no notebook holds", "x"),), tmp_path)
    assert not (tmp_path / nb.path.name).exists()


@pytest.mark.committed
@pytest.mark.parametrize("nb", WITH_EXERCISES, ids=lambda nb: nb.stem)
def test_the_kept_record_answers_the_listed_exercises_and_says_what_ran(nb):
    path = exercises.record_path(nb.stem)
    assert path.exists(), (
        f"{nb.stem} lists exercises but has no record: run python -m course_utils.exercises {nb.number}"
    )
    record = json.loads(path.read_text())
    assert {"torch", "threads", "commit", "date", "seconds"} <= record.keys()
    assert record["command"] == f"python -m course_utils.exercises {nb.number}"
    for ex in nb.exercises:
        kept = record["exercises"][str(ex.number)]
        assert (kept["profile"], kept["seeds"]) == (ex.profile, list(ex.seeds)), (nb.stem, ex.number)
        assert kept["parameters"] == ex.runs, f"{nb.stem} exercise {ex.number} changed since its record was made"
        assert {label: [list(e) for e in edits] for label, edits in ex.edits.items()} == kept["edits"]
        for label in ex.runs:
            assert sorted(kept["runs"][label]) == [str(s) for s in ex.seeds], (nb.stem, ex.number, label)
        for seed in ex.seeds:
            assert f"{ex.profile} seed {seed}" in record["baselines"]
    cells = nbformat.read(nb.path, 4).cells
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown" and c.source.startswith("## Exercises"))
    assert record["command"] in text, f"{nb.stem}'s exercises must name the command that reproduces them"


def test_a_run_is_compared_with_the_baseline_of_its_own_seed_and_only_keeps_the_others(tmp_path, monkeypatch):
    nb = WITH_EXERCISES[0]
    monkeypatch.setattr(exercises, "EXERCISES_DIR", tmp_path / "kept")
    calls = []

    def run(source, folder, profile, seed, **parameters):  # stands in for a papermill run
        calls.append((profile, seed, parameters))
        accuracy = 0.5 + seed / 10 + parameters.get("width", 0) / 100
        return {"test_acc": accuracy, "val_acc_per_epoch": [0.4, 0.5], "batch_loss": [2.0] * 938, "device": "cpu"}

    ex = Exercise(1, {"width=4": dict(width=4)}, seeds=(0, 1))
    other = Exercise(2, {"width=8": dict(width=8)})
    nb = dataclasses.replace(nb, exercises=(ex, other))
    first = exercises.run_exercises(nb, None, tmp_path / "runs", execute=run)
    assert sorted(first["baselines"]) == ["cpu seed 0", "cpu seed 1"]
    assert first["exercises"]["1"]["runs"]["width=4"]["1"]["vs_baseline"] == {"test_acc": 0.04}
    baseline = first["baselines"]["cpu seed 0"]
    assert baseline["val_acc_per_epoch"] == [0.4, 0.5] and "batch_loss" not in baseline  # per epoch, not per batch
    exercises.EXERCISES_DIR.mkdir()
    exercises.record_path(nb.stem).write_text(json.dumps(first))
    calls.clear()
    again = exercises.run_exercises(nb, [2], tmp_path / "runs", execute=run)
    assert [c[2] for c in calls] == [{}, {"width": 8}]  # exercise 2's baseline and run only
    assert again["exercises"]["1"] == first["exercises"]["1"]
    with pytest.raises(ValueError, match="no exercise numbered"):
        exercises.run_exercises(nb, [9], tmp_path / "runs", execute=run)
