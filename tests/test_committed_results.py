"""The committed notebooks carry outputs of a real `cpu` (or `full`) run, and that run reached the
course's targets at `cpu` within the 10-minute budget (issue 13). ``docs/verified/<notebook>.json``
is the metrics file of the run the committed outputs come from (written by
``python -m course_utils.course --publish``).

The bounds are the course's targets, not values fitted to a run. The runs committed on 2026-11-24
(seed 0, idle 2-core CPU) measured: 03 Net 60.81 %, ImprovedNet 71.64 % (206 s wall); 04 81.31 %
(162 s). Re-published on 2026-11-30 (seed 0) on a machine about three times slower: 03 Net 59.93 %,
a documented miss (``MISSED``; seeds 1 and 2 gave 61.28 % and 63.52 %), ImprovedNet 70.85 % (419.4 s);
04 80.05 % at 8 epochs (396.6 s; seeds 1 and 2 79.93 % and 79.82 %); 05 94.41 % at 32x32 (488.8 s;
seeds 1 and 2 95.53 % and 90.50 %). Re-published that evening with fixed figures, every metric
unchanged: 03 414.3 s, 04 352.2 s.
"""

from __future__ import annotations

import json

import pytest

from course_utils.catalogue import CATALOGUE
from course_utils.paths import REPO_ROOT

VERIFIED = REPO_ROOT / "docs" / "verified"
CPU_BUDGET_SECONDS = 600  # per notebook, kernel start included

TARGETS = {  # notebook -> {metric: minimum test accuracy}; the others' point is a comparison
    "03_cifar10_cnn": {"net_test_acc": 0.60, "improved_test_acc": 0.68},
    "04_cifar10_vgg": {"vgg_test_acc": 0.80},
    "05_coffee_beans_vgg16": {"test_acc": 0.90},
}
# Issue 13: "If a target cannot be reached in 10 minutes, commit the best you measured, show the
# curve and say why in the notebook and in docs/reference-results.md." A miss listed here must be
# the committed run's own value, and docs/reference-results.md must report it as a miss.
MISSED = {("03_cifar10_cnn", "net_test_acc"): 0.5993}
IDS = [nb.stem for nb in CATALOGUE]


def _verified(notebook: str) -> dict:
    path = VERIFIED / f"{notebook}.json"
    assert path.exists(), f"{path} is missing: publish the notebook with `python -m course_utils.course --publish`"
    return json.loads(path.read_text())


@pytest.mark.parametrize("notebook", IDS)
def test_committed_run_reaches_the_cpu_target(notebook):
    run = _verified(notebook)
    assert run["notebook"] == notebook
    assert run["profile"] in ("cpu", "full"), f"{notebook}: committed outputs come from a {run['profile']} run"
    if run["profile"] == "cpu":
        assert run["wall_seconds"] <= CPU_BUDGET_SECONDS
    for metric, target in TARGETS.get(notebook, {}).items():
        if (notebook, metric) in MISSED:
            assert run[metric] == MISSED[notebook, metric] < target, f"{notebook}: update MISSED to the committed run"
            reported = (REPO_ROOT / "docs" / "reference-results.md").read_text()
            assert f"target missed: {notebook} {metric} {run[metric]:.4f}" in reported
            continue
        assert run[metric] >= target, f"{notebook}: {metric} {run[metric]:.4f} is under the target {target:.2f}"


@pytest.mark.parametrize("nb", CATALOGUE, ids=IDS)
def test_verified_run_is_the_committed_notebooks_run(nb):
    """The verified metrics and the committed outputs come from one run: the notebook's printed
    settings name the same profile, and its printed test accuracy is the verified one."""
    import nbformat

    cells = nbformat.read(nb.path, as_version=4).cells
    text = "\n".join(
        out.get("text", "") for cell in cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )
    run = _verified(nb.stem)
    metric = nb.main_metric
    shown = (f"{run[metric]:.2%}", f"{run[metric]:.4f}")  # the notebooks print one or the other
    assert any(s in text for s in shown), f"{nb.stem}: the committed outputs do not print {metric} {shown}"
