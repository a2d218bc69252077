"""Notebook 03 executed at the smoke profile: the claims it makes, read from its metrics JSON, and its
full-profile dry run's sizes.

Thresholds come from smoke runs at seeds 0, 1 and 2 (their values: docs/reference-results.md,
"smoke profile"); each bound leaves a margin under the worst seed and is said next to it.
The comparisons in its text are registered below (``COMPARISONS``, checked by
tests/test_comparisons.py from the runs kept at seeds 0-2: what a change commits, not what CI
computes); each bound is about half the smallest effect at those seeds, unless its comment says
otherwise.
"""

from __future__ import annotations

import pytest
from comparisons import CODE, DEFINITION, QUESTION, Claim, exercise, kept

from course_utils import ImprovedNet, Net, count_params, data
from course_utils.cifar import CLASSES

SOURCES = {data.SOURCE_CIFAR_OFFICIAL, data.SOURCE_CIFAR_JPEG}
NB03 = "03_cifar10_cnn"


def lead(run, split="test") -> float:
    return run[f"improved_{split}_acc"] - run[f"net_{split}_acc"]


def gain(r, name, splits=("test",)) -> float:  # what exercise run ``name`` adds to ImprovedNet
    return min(r[name][f"improved_{s}_acc"] - r.base[f"improved_{s}_acc"] for s in splits)


def ahead_at_seeds_0_and_2_behind_at_seed_1(seeds) -> float:
    leads = [lead(r["no BatchNorm"]) for r in seeds]  # +2.10, -0.65, +1.85 points
    return min(leads[0], -leads[1], leads[2])


def the_lead_shrank_at_seed_0_and_grew_at_seeds_1_and_2(seeds) -> float:
    change = [lead(r["epochs=4"]) - lead(r.base) for r in seeds]  # -1.75, +4.80, +1.90 points
    return min(-change[0], change[1], change[2])


COMPARISONS = {
    NB03: [
        # kept seeds: +10.32 / +8.52 / +8.32 points on validation, +10.11 / +10.08 / +7.57 on test
        Claim(
            ("a LeNet-style CNN, and a better one", "ImprovedNet was ahead of Net every time"),
            kept(NB03),
            lambda r: min(lead(r, "val"), lead(r)),
            above=0.035,
        ),
        # the exercises (smoke): LeakyReLU's smallest gain, +0.3 points (validation, seed 0)
        Claim(
            ("Better at every seed", "which helps in a run as short as this one"),
            exercise(NB03, 1),
            lambda r: gain(r, "LeakyReLU", ("test", "val")),
            above=0.0015,
        ),
        Claim(
            "ahead at seeds 0 and 2 and behind at seed 1",
            exercise(NB03, 2),
            ahead_at_seeds_0_and_2_behind_at_seed_1,
            above=0.003,
            across=True,
        ),
        # BatchNorm's smallest share, 0.75 points (seed 2); Dropout's smallest cost, 5.0 points (validation, seed 0)
        Claim("BatchNorm carries much of it", exercise(NB03, 2), lambda r: -gain(r, "no BatchNorm"), above=0.0035),
        Claim(
            ("It helps at every seed", "Dropout costs some"),
            exercise(NB03, 3),
            lambda r: gain(r, "dropout=0", ("test", "val")),
            above=0.025,
        ),
        Claim(
            "more capacity helps at every seed", exercise(NB03, 4), lambda r: gain(r, "improved_width=32"), above=0.016
        ),
        Claim(
            "lead over Net shrank at seed 0 and grew at seeds 1 and 2",
            exercise(NB03, 5),
            the_lead_shrank_at_seed_0_and_grew_at_seeds_1_and_2,
            above=0.008,
            across=True,
        ),
    ]
}
COMPARISONS_WAIVED = {
    NB03: {
        DEFINITION: (
            "when the validation accuracy is strictly better than every earlier epoch's",
            "A star marks each epoch that beat every earlier one on validation",
            "if it was, more epochs would still help",
            "sees little more than colour blobs and rough shapes",
        ),
        CODE: ("the layout that many CPUs and GPUs convolve faster", "Its channels are wider than Net's"),
        QUESTION: (
            "Better, worse, or the same?",
            "does removing it help or hurt here?",
            "How much of ImprovedNet's lead over Net is BatchNorm's?",
        ),
        "a count that the split fixes, not a result": ("a tenth fewer than the source's",),
    }
}


@pytest.fixture(scope="module")
def nb03(run_notebook, mirror):
    return run_notebook("03_cifar10_cnn")


@pytest.mark.any_device
def test_records_the_three_splits(nb03):
    assert nb03["data_source"] in SOURCES
    assert (nb03["train_size"], nb03["val_size"], nb03["test_size"]) == (9_000, 1_000, 2_000)
    # the validation images are carved out of the train_limit training images, none on both sides
    assert nb03["train_size"] + nb03["val_size"] == nb03["train_limit"] == 10_000
    assert nb03["val_size"] == round(nb03["val_fraction"] * nb03["train_limit"])


@pytest.mark.any_device
def test_parameter_counts_and_compute(nb03):
    assert nb03["net_params"] == count_params(Net())
    assert nb03["improved_params"] == count_params(ImprovedNet(width=nb03["improved_width"]))
    # multiply-adds per image, counted with forward hooks: the convolutions and linear layers
    assert nb03["net_multiply_adds"] == 651_720
    assert nb03["improved_multiply_adds"] == 6_472_320


def test_validation_chose_the_epochs(nb03):
    for name in ("net", "improved"):
        per_epoch = nb03[f"{name}_val_acc_per_epoch"]
        assert len(per_epoch) == nb03["epochs"]
        # the chosen epoch is the first with the best validation accuracy, and its score is recorded
        assert nb03[f"{name}_best_epoch"] == per_epoch.index(max(per_epoch)) + 1
        assert nb03[f"{name}_val_acc"] == max(per_epoch)


def test_validation_accuracies_above_chance(nb03):
    assert 0.33 < nb03["net_val_acc"]  # worst seed 39.00 %
    assert 0.39 < nb03["improved_val_acc"]  # worst seed 45.20 %


def test_test_accuracies_above_chance(nb03):
    assert 0.33 < nb03["net_test_acc"]  # worst seed 39.55 %
    assert 0.37 < nb03["improved_test_acc"]  # worst seed 43.25 %


def test_improved_net_beats_net(nb03):
    # The notebook's claim: ImprovedNet wins, on validation and on test. Smallest measured gains:
    # +3.4 points on validation, +2.25 points on test (seed 1).
    assert nb03["improved_val_acc"] > nb03["net_val_acc"]
    assert nb03["improved_test_acc"] > nb03["net_test_acc"]


def test_per_class_accuracy_of_improved_net(nb03):
    per_class = nb03["per_class_acc"]
    assert list(per_class) == CLASSES
    # 2,000 balanced test images: the mean of the ten recalls is the overall accuracy
    assert sum(per_class.values()) / 10 == pytest.approx(nb03["improved_test_acc"], abs=1e-6)


def check_full_dry_run(m: dict, settings: dict) -> None:
    """03's dry run at full size: every CIFAR-10 image, the profile's networks, 4 images a batch."""
    assert (m["train_size"], m["val_size"], m["test_size"]) == (45_000, 5_000, 10_000)  # all 50,000 less 10% validation
    assert m["batch_shape"] == [4, 3, 32, 32]
    assert m["net_params"] == count_params(Net())
    assert m["improved_params"] == count_params(ImprovedNet(width=settings["improved_width"]))
    assert len(m["net_val_acc_per_epoch"]) == len(m["improved_val_acc_per_epoch"]) == 1  # one epoch
