"""Shared fixtures: real data from the mirror, and each notebook's smoke metrics, measured once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def nbval_metrics(name: str) -> dict | None:
    """The metrics that this session's nbval execution of ``name`` wrote (smoke profile, the
    notebook's own seed and settings), or None when nbval has not run it in this session."""
    folder = os.environ.get("COURSE_METRICS_DIR")
    if not folder:
        return None
    path = Path(folder) / f"{name}.metrics.json"
    started = float(os.environ.get("COURSE_TEST_STARTED", "inf"))
    if not path.is_file() or path.stat().st_mtime < started:
        return None
    metrics = json.loads(path.read_text())
    plain_smoke = (metrics.get("profile"), metrics.get("seed"), metrics.get("max_steps")) == ("smoke", 0, None)
    return metrics if plain_smoke else None


@pytest.fixture(scope="session")
def run_notebook(tmp_path_factory):
    """A notebook's metrics at the smoke profile, as a dict, measured once per set of parameters.

    Without parameters, the metrics of nbval's execution of the notebook in this session are used
    when there are any (``make test`` runs a notebook's nbval cells just before its test module, on
    the same worker: see the root conftest.py); otherwise papermill executes the notebook here, and
    ``_out_dir`` names the folder of the executed copy.
    """
    from course_utils.course import execute

    cache: dict = {}

    def run(name: str, **parameters) -> dict:
        key = (name, tuple(sorted(parameters.items())))
        if key not in cache:
            measured = None if parameters else nbval_metrics(name)
            if measured is not None:
                cache[key] = {**measured, "_executed_by": "nbval"}
            else:
                out = tmp_path_factory.mktemp(name)
                cache[key] = {**execute(name, out, profile="smoke", **parameters), "_out_dir": str(out)}
                cache[key]["_executed_by"] = "papermill"
        return cache[key]

    return run


@pytest.fixture(scope="session")
def mirror():
    """The dataset mirror CI provides; tests that need real data skip loudly without it."""
    from course_utils.data import mirror_root

    root = mirror_root()
    if root is None and os.environ.get("CI"):
        pytest.fail("CI must set COURSE_DATA_MIRROR (../shared/datasets): the tests read the real datasets")
    if root is None:
        pytest.skip("COURSE_DATA_MIRROR is not set: these tests read the real datasets from the mirror")
    return root
