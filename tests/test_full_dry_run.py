"""Every notebook executed at the `full` profile on a CPU, as a dry run (the GPU path that no machine
here can train).

Everything stays at its `full` size but the batches: all the data, image size, model width, the cfg
lists and the schedules. Only the amount of work is cut, by ``catalogue.DRY_RUN`` (one epoch, and
``max_steps=1``, with which the notebook caps every pass over a loader at one batch and times one
step per batch size) and by the entry's ``dry_run`` parameters (mostly 4 full-size images a batch:
they prove the shapes, models and code paths that a profile's batch would, and what that batch costs
in a GPU's memory only a GPU can tell). The test checks that each notebook ends, writes its metrics,
and ran at full size: the notebook's own test module defines ``check_full_dry_run(metrics,
settings)``, which computes split sizes, batch shapes and parameter counts from the profile and the
model classes rather than reading them back from the notebook. Accuracies of a dry run mean nothing
and are not checked; CUDA cannot run here (tests/test_train.py runs the mixed-precision paths on the
CPU).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from course_utils.catalogue import CATALOGUE, DRY_RUN


def own_check(nb):
    """``check_full_dry_run`` of the notebook's test module."""
    module = importlib.import_module(Path(nb.test_module).stem)
    assert hasattr(module, "check_full_dry_run"), f"{nb.test_module} defines no check_full_dry_run(metrics, settings)"
    return module.check_full_dry_run


# One test per notebook: the root conftest.py makes each its own unit of work for xdist, longest first.
@pytest.mark.parametrize("nb", CATALOGUE, ids=[nb.stem for nb in CATALOGUE])
@pytest.mark.any_device
def test_dry_run(nb, tmp_path, mirror, check_contract):
    from course_utils.course import execute

    check = own_check(nb)
    extra = dict(nb.dry_run)
    if "checkpoint_dir" in nb.profiles["full"]:  # its checkpoints go to a temporary folder
        extra["checkpoint_dir"] = str(tmp_path / "checkpoints")
    m = execute(nb.stem, tmp_path, profile="full", **DRY_RUN, **extra)
    check_contract(m, nb.stem, "full")
    assert m["max_steps"] == 1
    assert m["device"] == os.environ.get("COURSE_TEST_DEVICE", "cpu")  # make test runs notebooks there
    if m["device"] == "cpu":
        assert m["precision"] == "float32"
    check(m, nb.profiles["full"])
