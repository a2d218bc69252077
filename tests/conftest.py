"""Shared fixtures: real data from the mirror, each notebook's smoke metrics, measured once, and the
one check of the metrics contract (``metrics.notebook_metrics``) that every run's metrics pass."""

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
    path = Path(folder) / f"{name}.metrics.json"  # the root conftest.py made the folder for this session
    if not path.is_file():
        return None
    metrics = json.loads(path.read_text())
    plain_smoke = (metrics.get("profile"), metrics.get("seed"), metrics.get("max_steps")) == ("smoke", 0, None)
    return metrics if plain_smoke else None


def contract(metrics: dict, notebook: str, profile: str) -> None:
    """What every notebook's metrics record (``metrics.notebook_metrics``): which notebook, profile,
    seed, device and data produced them, the sizes of its splits and its training time."""
    from course_utils import data

    sources = {data.SOURCE_MNIST, data.SOURCE_CIFAR_OFFICIAL, data.SOURCE_CIFAR_JPEG, data.SOURCE_COFFEE}
    assert (metrics["notebook"], metrics["profile"]) == (notebook, profile)
    assert metrics["data_source"] in sources, metrics["data_source"]
    assert isinstance(metrics["seed"], int) and metrics["device"] and metrics["device_name"] and metrics["torch"]
    assert metrics["precision"] in ("float32", "bfloat16", "float16") and "max_steps" in metrics
    assert metrics["train_size"] > 0 and metrics["test_size"] > 0 and metrics["train_seconds"] > 0


@pytest.fixture(scope="session")
def check_contract():
    return contract


@pytest.fixture(scope="session")
def run_notebook(tmp_path_factory):
    """A notebook's metrics at the smoke profile, as a dict, measured once per set of parameters.

    Without parameters, the metrics of nbval's execution of the notebook in this session are used
    when there are any (``make test`` runs a notebook's nbval cells just before its test module, on
    the same worker: see the root conftest.py); otherwise papermill executes the notebook here, and
    ``_out_dir`` names the folder of the executed copy. Every result passes ``contract`` first.
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
            contract(cache[key], name, "smoke")
        return cache[key]

    return run


@pytest.fixture(scope="session")
def mirror():
    """The dataset mirror CI provides; tests that need real data skip loudly without it."""
    from course_utils.files import mirror_root

    root = mirror_root()
    if root is None and os.environ.get("CI"):
        pytest.fail("CI must set COURSE_DATA_MIRROR (../shared/datasets): the tests read the real datasets")
    if root is None:
        pytest.skip("COURSE_DATA_MIRROR is not set: these tests read the real datasets from the mirror")
    return root
