"""Shared fixtures: real data from the mirror, and notebooks executed once per session."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def run_notebook(tmp_path_factory):
    """Execute a notebook at the smoke profile with papermill (once per set of parameters) and
    return its metrics JSON as a dict; the executed copy lies next to the metrics."""
    from course_utils.course import execute

    cache: dict = {}

    def run(name: str, **parameters) -> dict:
        key = (name, tuple(sorted(parameters.items())))
        if key not in cache:
            out = tmp_path_factory.mktemp(name)
            cache[key] = execute(name, out, profile="smoke", **parameters)
            cache[key]["_out_dir"] = str(out)
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
