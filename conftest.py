"""Settings and scheduling for every pytest run here, the nbval runs of notebooks/ included.

Environment: notebook kernels inherit it, so they run at the smoke profile, on the CPU (unless
``COURSE_TEST_DEVICE`` says otherwise), without frozen progress bars, and write their metrics into
one folder for the whole session (``COURSE_METRICS_DIR``), where the notebook tests read them.

Scheduling (``make test``: two xdist workers, ``--dist loadscope``): each notebook's nbval cells
and its test module form one unit of work, nbval's cells first, so the test module reads the metrics
of nbval's execution instead of running the notebook a second time (tests/conftest.py falls back to
papermill when they are missing). The full-profile dry runs are one unit each, and the units start
longest first, so that no worker idles at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("COURSE_PROFILE", "smoke")
os.environ.setdefault("COURSE_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
# The smoke thresholds were measured on a CPU; COURSE_TEST_DEVICE=cuda runs the notebooks on a GPU.
os.environ.setdefault("COURSE_TEST_DEVICE", "cpu")
os.environ.setdefault("COURSE_DEVICE", os.environ["COURSE_TEST_DEVICE"])
# A fresh folder, made once, in the controller, before the workers start: they and their kernels
# inherit it, so every metrics file in it was written by this session.
OWN_METRICS_DIR = "PYTEST_XDIST_WORKER" not in os.environ  # this process makes it, and removes it at the end
if OWN_METRICS_DIR:
    os.environ["COURSE_METRICS_DIR"] = tempfile.mkdtemp(prefix="course-metrics-")

# Units of work that take long, in seconds of one worker (what matters is their order): each
# notebook's test unit and dry run as its catalogue entry gives them, and the other long modules
# (docs/reference-results.md, "CI", has the measured durations). Every other unit is shorter and
# starts after these.
OTHER_LONG_UNITS = {"tests/test_colab_like_install.py": 36, "tests/test_site.py": 29, "tests/test_device_switch.py": 11}


def long_units() -> dict[str, int]:
    from course_utils.catalogue import CATALOGUE

    units = dict(OTHER_LONG_UNITS)
    for nb in CATALOGUE:
        units[nb.test_module] = units.get(nb.test_module, 0) + nb.test_seconds
        units[f"tests/test_full_dry_run.py::test_dry_run[{nb.stem}]"] = nb.dry_run_seconds
    return units


SPLIT_MODULES = {"tests/test_full_dry_run.py"}  # every test its own unit: independent long runs


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to (xdist runs a unit on one worker, in order)."""
    path = nodeid.split("::", 1)[0]
    if path.startswith("notebooks/") and path.endswith(".ipynb"):
        from course_utils.catalogue import BY_STEM

        stem = Path(path).stem
        return BY_STEM[stem].test_module if stem in BY_STEM else path
    if path in SPLIT_MODULES:
        return nodeid
    return nodeid.rsplit("::", 1)[0]


def notebook_test_modules() -> set[str]:
    from course_utils.catalogue import CATALOGUE

    return {nb.test_module for nb in CATALOGUE}


def skip_device_dependent(items, device: str) -> None:
    """Off the CPU, skip every notebook test not marked ``any_device``: the smoke thresholds were
    measured on a CPU, and a GPU's kernels give other numbers; shapes, parameter counts and split sizes
    (the ``any_device`` tests, nbval's checked outputs and the dry runs) do not depend on it."""
    if device == "cpu":
        return
    modules = notebook_test_modules()
    skip = pytest.mark.skip(reason=f"a threshold measured on a CPU; COURSE_TEST_DEVICE={device}")
    for item in items:
        if item.nodeid.split("::", 1)[0] in modules and item.get_closest_marker("any_device") is None:
            item.add_marker(skip)


def pytest_collection_modifyitems(config, items):
    """Off the CPU, skip what depends on the device; then the longest units first, and within a unit
    nbval's cells before the tests that read their metrics."""
    skip_device_dependent(items, os.environ["COURSE_TEST_DEVICE"])
    weights = long_units()
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(unit_of(item.nodeid), index)

    def order(pair):
        index, item = pair
        unit = unit_of(item.nodeid)
        is_test_module = not item.nodeid.startswith("notebooks/")
        return (-weights.get(unit, 0), first_seen[unit], is_test_module, index)

    items[:] = [item for _, item in sorted(enumerate(items), key=order)]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

    # Keep the collection's order (longest first, above) instead of xdist's "most tests first".
    config.option.loadscopereorder = False
    return CourseScheduling(config, log)


def pytest_unconfigure(config):
    if OWN_METRICS_DIR:
        shutil.rmtree(os.environ["COURSE_METRICS_DIR"], ignore_errors=True)
