"""Notebook 05 executed at the smoke profile: the claims it makes, checked on its metrics."""

from __future__ import annotations

import json
import math

import pytest
import torch

from course_utils import ClassicVGG16, count_params, data
from course_utils.data import REPO_ROOT

NOTEBOOK = "05_coffee_beans_vgg16"
CHANCE = 0.25  # four balanced classes
# The counts of the published files (1,194 distinct images, 400 test copies, 6 repeats) are
# asserted once, in tests/test_coffee.py; VGG16's parameter count in tests/test_models.py, and
# the committed run's target in tests/test_committed_results.py. Here: that the notebook reports them.


@pytest.fixture(scope="module")
def vgg16_params() -> int:
    return count_params(ClassicVGG16(num_classes=4))


@pytest.fixture(scope="module")
def m(run_notebook, mirror):
    # The smoke run of the notebook with its own settings (nbval's execution, just before this module
    # on the same worker), so its checkpoint is in the checkout's checkpoints/ folder.
    return run_notebook(NOTEBOOK)


@pytest.mark.any_device
def test_settings_and_model(m, vgg16_params):
    assert m["profile"] == "smoke" and m["notebook"] == NOTEBOOK
    assert m["vgg16_params"] == vgg16_params
    assert m["class_names"] == ["Dark", "Green", "Light", "Medium"]


@pytest.mark.any_device
def test_the_leak_is_found_on_all_files(m):
    # every file of the published test folder copies a training image (the counts: tests/test_coffee.py)
    assert m["published_test_in_train"] == len(data.image_files(data.ensure_coffee() / "test"))
    assert m["train_repeats"] > 0
    assert m["published_test_size"] == m["test_size"]  # smoke scores as many published as clean images
    assert 0 < m["published_seen_in_training"] <= m["published_test_size"]


@pytest.mark.any_device
def test_clean_split_is_70_15_15_with_no_image_in_two_parts(m):
    assert m["split_sizes"] == {"train": 836, "validation": 179, "test": 179}
    assert sum(m["split_sizes"].values()) == m["distinct_images"]
    assert m["train_val_overlap"] == m["train_test_overlap"] == m["val_test_overlap"] == 0
    assert m["test_transform_random_steps"] == []
    assert m["test_loader_deterministic"] is True


def test_the_epoch_is_chosen_on_validation(m):
    val = m["val_acc_per_epoch"]
    assert len(val) == len(m["test_acc_per_epoch"]) == len(m["train_acc_per_epoch"])
    # fit keeps the first epoch with the highest validation accuracy
    assert m["best_epoch"] == val.index(max(val)) + 1 and m["val_acc"] == max(val)
    # the checkpoint on disk is that epoch, and reloading it gives the recorded validation accuracy
    saved = torch.load(REPO_ROOT / m["checkpoint_path"], map_location="cpu", weights_only=True)
    assert saved["epoch"] == m["checkpoint_epoch"] == m["best_epoch"]
    assert saved["val_acc"] == m["checkpoint_val_acc"] == m["val_acc"]
    assert m["reloaded_val_acc"] == m["val_acc"]


def test_test_split_scored_once_and_the_selection_gap(m):
    per_epoch = m["test_acc_per_epoch"]
    # the one test score is the chosen epoch's: the per-epoch demonstration agrees with it
    assert m["test_acc"] == m["test_acc_at_val_choice"] == per_epoch[m["best_epoch"] - 1]
    assert m["best_test_acc_over_epochs"] == max(per_epoch)
    assert m["selection_gap"] == m["best_test_acc_over_epochs"] - m["test_acc_at_val_choice"]


def test_smoke_run_learns_something(m):
    # A constant prediction cannot score a cross-entropy below ln 4 on a balanced set, so a
    # validation loss under it means the predictions depend on the image. At smoke (2 epochs of
    # 10 steps of 16 images at 32x32; 100 validation and 100 test images) VGG16 from scratch has
    # only begun to learn. Measured for seeds 0 / 1 / 2 (ln 4 = 1.386):
    #   lowest validation loss     1.239 / 1.141 / 1.341
    #   lowest test loss           1.239 / 1.111 / 1.342
    #   val_acc                    0.28 / 0.27 / 0.25
    #   test_acc                   0.24 / 0.27 / 0.25
    #   best_test_acc_over_epochs  0.29 / 0.27 / 0.25  (selection_gap 0.05 / 0 / 0)
    # so accuracy is not yet clearly above chance at smoke: it is checked on the committed run.
    assert min(m["val_loss_per_epoch"]) < math.log(4) - 0.02
    assert min(m["test_loss_per_epoch"]) < math.log(4) - 0.02
    assert m["val_acc"] >= CHANCE - 0.03 and m["test_acc"] >= CHANCE - 0.03


def _committed_metrics() -> dict:
    """The committed notebook's metrics, as its metrics cell printed them."""
    nb = json.loads((REPO_ROOT / "notebooks" / f"{NOTEBOOK}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and "notebook_metrics(" in "".join(c["source"]))
    text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
    return json.loads(text[text.index("{") :])


@pytest.mark.any_device
def test_committed_run_scores_the_epoch_validation_chose(vgg16_params):
    """The committed notebook's own metrics: a real run (cpu or full profile), scored on the clean
    test split with the epoch validation chose (its target: tests/test_committed_results.py)."""
    committed = _committed_metrics()
    assert committed["profile"] in ("cpu", "full")
    assert committed["vgg16_params"] == vgg16_params
    assert committed["train_val_overlap"] == committed["train_test_overlap"] == committed["val_test_overlap"] == 0
    assert committed["test_acc"] == committed["test_acc_at_val_choice"]
    assert committed["reloaded_val_acc"] == committed["val_acc"]
    assert committed["selection_gap"] == committed["best_test_acc_over_epochs"] - committed["test_acc_at_val_choice"]


def test_batch_size_timing(m):
    rows = m["batch_size_timing"]
    assert [r["batch_size"] for r in rows] == [1, 8]
    # A step's fixed cost (134M parameters updated) dominates at batch 1. Measured images/s of
    # batch 8 over batch 1: 5.2 / 5.3 / 5.0 for seeds 0 / 1 / 2 (one timed step each, a loaded CPU).
    assert rows[1]["images_per_second"] > 2 * rows[0]["images_per_second"]
