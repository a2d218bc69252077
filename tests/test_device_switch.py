"""``COURSE_TEST_DEVICE``: ``make test`` runs the notebooks on the CPU, whose smoke thresholds were
measured there; ``COURSE_TEST_DEVICE=cuda make test`` runs them on the GPU and keeps only the checks
that do not depend on the device. A CPU cannot prove the CUDA path; this proves the switch and its
list: pytest plans a notebook test module under each setting, without running it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from course_utils.paths import REPO_ROOT

MODULE = "tests/test_cifar_vgg_notebook.py"
DEVICE_INDEPENDENT = {"test_splits", "test_vgg_shapes_and_parameters", "test_channel_statistics"}


def planned(device: str | None) -> tuple[set[str], str]:
    """(the tests pytest would run, its summary line) for MODULE with COURSE_TEST_DEVICE=device."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_") or k == "COURSE_DATA_MIRROR"}
    if device is not None:
        env["COURSE_TEST_DEVICE"] = device
    command = [sys.executable, "-m", "pytest", "--setup-plan", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", MODULE]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    names = set(re.findall(r"::(test_\w+) \(fixtures used", result.stdout))
    return names, result.stdout.strip().splitlines()[-1]


def test_the_cpu_runs_every_notebook_test(request):
    """On the CPU (this session, unless COURSE_TEST_DEVICE says otherwise), read from this session's
    own plan: every test of MODULE is planned and none is skipped."""
    if os.environ.get("COURSE_TEST_DEVICE", "cpu") != "cpu":
        pytest.skip("this session runs the notebooks off the CPU: the other test checks that plan")
    items = [item for item in request.session.items if item.nodeid.startswith(f"{MODULE}::")]
    if not DEVICE_INDEPENDENT < {item.originalname for item in items}:  # not all of MODULE is in this session
        names, summary = planned(None)
        assert DEVICE_INDEPENDENT < names and "skipped" not in summary
        return
    assert not [item.nodeid for item in items if item.get_closest_marker("skip")]


def test_cuda_keeps_only_what_does_not_depend_on_the_device():
    names, summary = planned("cuda")
    assert names == DEVICE_INDEPENDENT
    assert "5 skipped" in summary  # the module's five tests that execute the notebook
