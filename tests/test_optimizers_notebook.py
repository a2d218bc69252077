"""Notebook 06 executed at the smoke profile: the claims it makes, read from its metrics JSON, and its
full-profile dry run's sizes.

Thresholds come from smoke runs at seeds 0, 1 and 2 (their values: docs/reference-results.md,
"smoke profile"); each bound leaves a margin under the worst seed and is said next to it.
The `test_at_cpu_*` tests (marker `committed`) read the runs kept in docs/verified/seeds/: they guard
what a change commits, not what CI computes.
"""

from __future__ import annotations

import pytest
from comparisons import CODE, DEFINITION, REWRITTEN

from course_utils import data
from course_utils.catalogue import entry
from course_utils.course import kept_seed_metrics
from course_utils.models import count_params
from course_utils.optimizers import DemoNet

# Figures in the notebook's text that tests/test_prose.py does not hold to a record yet, and why;
# a figure traced (or gone) must leave the list.
PROSE_WAIVED = {
    "06_optimizers_and_regularization": (
        "issue 33 rewrites this lesson and its exercises under this test",
        "0.1 2.0 10 10.0 16 17 18.5 19.86 20.0 20.7 23.00 23.0 23.1 24.9 26.29 29.14 29.6 29.71 30 31.29 31.9 "
        "32.3 34.00 35 35.3 36.0 36.57 36.9 37.3 39.00 39.4 40.3 47.00 52.14 53.71 55.4 6,300",
    ),
}

# Their comparing sentences (tests/test_comparisons.py): none is registered yet, see REWRITTEN.
COMPARISONS_WAIVED = {
    "06_optimizers_and_regularization": {
        CODE: ("the source's 32 unless the profile narrows it",),
        DEFINITION: (
            "A run *diverged* when its training loss became NaN or infinite, or rose to more than ten times",
            "The printout says at which step the loss left (more than ten times its first value",
            "far more passes over each image than above",
            "which would make the regularised runs' gap look smaller than it is",
            "Narrowing the gap is not the goal by itself",
            "epochs in a row bring no better validation accuracy",
            "an epoch can look better or worse by a point through luck alone",
            "a recipe that wins on 800 images need not win on all the training images",
        ),
        REWRITTEN: (
            "not because this short run proved them better",
            "Momentum, at the same learning rate, moves faster",
            "How far momentum and Adam end ahead of plain SGD",
            "which schedule came out ahead in this run",
            "the network fits its training images far better than new ones",
            "and the ReLU network falls further behind",
            'At 20.0 the "weight decay" run on the subset ended',
            "Measured at cpu, seed 0: the run stopped after 4 of 40 epochs",
        ),
    },
}

NOTEBOOK = "06_optimizers_and_regularization"
PROFILES = entry(NOTEBOOK).profiles
SMOKE = PROFILES["smoke"]
# Trained on test images, scored on them against fresh validation images (points): smoke, seeds
# 0 / 1 / 2, +52.0 / +71.9 / +12.3; cpu +50.7 / +35.2 / +41.9. Each bound is under half the smallest.
SMOKE_TEST_SPLIT_MARGIN = 0.05
CPU_TEST_SPLIT_MARGIN = 0.2
SOURCES = {data.SOURCE_CIFAR_OFFICIAL, data.SOURCE_CIFAR_JPEG}


@pytest.fixture(scope="module")
def nb06(run_notebook, mirror):
    return run_notebook("06_optimizers_and_regularization")


@pytest.mark.any_device
def test_records_the_three_splits(nb06):
    assert nb06["data_source"] in SOURCES
    assert (nb06["train_size"], nb06["val_size"], nb06["test_size"]) == (1_200, 300, 1_000)
    # validation is carved out of the train_limit training images (the source trained on the test split)
    assert nb06["train_size"] + nb06["val_size"] == nb06["train_limit"]
    assert nb06["val_size"] == round(nb06["val_fraction"] * nb06["train_limit"])


def test_the_sources_network_and_its_linearity(nb06):
    assert nb06["source_params"] == 145_578  # the source's width 32
    assert nb06["width"] == 8 and nb06["params"] == 22_530
    errors = nb06["superposition_error"]
    # without activation and with average-pooling the network is one affine map (rounding only) ...
    assert errors["no activation, average-pool"] < 1e-5
    assert nb06["collapse_max_diff"] < 1e-4
    # ... while max-pooling (measured 0.48 / 0.66 / 0.54) and ReLU (0.32 / 0.37 / 0.26) are not
    assert errors["source: no activation, max-pool"] > 0.1
    assert errors["ReLU, max-pool"] > 0.1


def test_all_three_networks_learn(nb06):
    # worst seeds: affine 31.00 %, source 30.67 %, ReLU 28.33 %; chance is 10 %
    assert 0.25 < nb06["linear_net_val_acc"]
    assert 0.25 < nb06["source_net_val_acc"]
    assert 0.22 < nb06["relu_net_val_acc"]


def test_momentum_and_adam_beat_plain_sgd(nb06):
    acc = nb06["optimizer_val_acc"]
    assert set(acc) == {"SGD", "momentum", "RMSprop", "Adam"}
    assert nb06["optimizer_lrs"]["SGD"] == nb06["optimizer_lrs"]["momentum"]  # only the momentum differs
    # smallest measured leads over plain SGD: momentum +10.3 points, Adam +18.3 points (seed 1, 2)
    assert acc["momentum"] > acc["SGD"] + 0.05
    assert acc["Adam"] > acc["SGD"] + 0.10
    assert acc["RMSprop"] > acc["SGD"] + 0.10  # smallest +16.7 points
    assert acc["Adam"] == nb06["relu_net_val_acc"]  # the same run, not trained twice


def test_too_large_a_learning_rate_diverges_and_too_small_barely_moves(nb06):
    too_large, too_small = SMOKE["lr_too_large"], SMOKE["lr_too_small"]
    assert nb06["diverged"] == [too_large] == [10.0]
    assert nb06["lr_val_acc"][str(too_large)] == pytest.approx(0.1, abs=0.02)  # a constant guess
    first, last = nb06["lr_first_last_loss"][str(too_small)]
    assert abs(last - first) < 0.05  # measured at most 0.015
    sensible_first, sensible_last = nb06["lr_first_last_loss"][str(nb06["optimizer_lrs"]["momentum"])]
    assert sensible_last < sensible_first - 0.15  # measured a drop of 0.27 to 0.32


def test_schedules_ran(nb06):
    acc = nb06["schedule_val_acc"]
    assert set(acc) == {"constant", "step", "warmup_cosine"}


def test_the_small_subset_is_overfitted(nb06):
    assert nb06["overfit_size"] == 160
    # training accuracy measured 88.1 % at worst, the gap 66.5 points at worst
    assert nb06["overfit_train_acc"]["no regularisation"] > 0.75
    assert nb06["gap_no_reg"] > 0.5


def test_regularisation_narrows_the_gap(nb06):
    # every regulariser narrowed the gap at every seed; the smallest narrowing: weight decay 9.3
    # points, dropout 37.6, augmentation 37.4, all three 58.5 (gaps in the module docstring)
    gap = nb06["gap_no_reg"]
    assert nb06["gap_weight_decay"] < gap - 0.03
    assert nb06["gap_dropout"] < gap - 0.15
    assert nb06["gap_augment"] < gap - 0.15
    assert nb06["gap_all"] < gap - 0.3
    assert nb06["gap_all"] < 0.2  # measured at most 8.0 points


def test_training_on_the_test_split_is_scored_on_memory(nb06):
    # the source's way: scored on the test images it trained on, against fresh validation images
    assert nb06["trained_on_test_acc"] > nb06["trained_on_test_fresh_acc"] + SMOKE_TEST_SPLIT_MARGIN


def test_early_stopping_and_one_test_score(nb06):
    ran, best = nb06["stop_epochs_run"], nb06["stop_best_epoch"]
    assert 1 <= best <= ran <= nb06["stop_epochs"]
    # fit stops exactly `patience` epochs after the best one, and only then
    assert nb06["stop_stopped_early"] == (ran < nb06["stop_epochs"])
    if nb06["stop_stopped_early"]:
        assert ran - best == nb06["patience"]
    # the final recipe is the overfitting recipe with the best validation accuracy
    candidates = nb06["overfit_best_val_acc"]
    assert nb06["final_recipe"] == max(candidates, key=candidates.get)
    assert 1 <= nb06["best_epoch"] <= nb06["final_epochs_run"] <= SMOKE["final_epochs"]
    assert 0.15 < nb06["val_acc"]
    assert 0.15 < nb06["test_acc"]


SEEDS = (0, 1, 2)


def _kept(seed: int) -> dict:
    return kept_seed_metrics(NOTEBOOK, seed)


@pytest.mark.any_device
@pytest.mark.committed
@pytest.mark.parametrize("seed", SEEDS)
def test_at_cpu_early_stopping_fires_and_the_test_split_flatters(seed):
    """The effects 06 teaches, in the run a student makes (cpu). Kept runs of 2026-11-30, seeds 0 / 1
    / 2: early stopping ended the subset run after 19 / 22 / 18 of 40 epochs (best epochs 14 / 17 /
    13); trained on 800 test images, the network scored 89.1 / 72.6 / 82.8 % on them and 38.4 /
    37.4 / 40.9 % on the validation images; validation chose augmentation / weight decay / weight
    decay, and the final run's validation accuracy was 5.1 / 3.0 / 4.3 points above the
    unregularised ReLU network's (test 50.27 / 46.39 / 48.28 %). The ReLU network was behind the
    source's max-pool network at every seed (by 6.7 / 3.3 / 9.1 points), which the notebook says."""
    run = _kept(seed)
    assert run["profile"] == "cpu" and run["seed"] == seed
    assert run["stop_stopped_early"] and run["stop_epochs_run"] < run["stop_epochs"]
    assert run["trained_on_test_acc"] > run["trained_on_test_fresh_acc"] + CPU_TEST_SPLIT_MARGIN
    candidates = run["overfit_best_val_acc"]
    assert run["final_recipe"] == max(candidates, key=candidates.get)
    assert run["val_acc"] > run["relu_net_val_acc"]  # the chosen recipe, trained longer, is ahead


@pytest.mark.any_device
@pytest.mark.committed
@pytest.mark.parametrize("seed", SEEDS)
def test_at_cpu_batch_size_one_costs_more_per_image(seed):
    """Timed in the kept cpu runs, where the notebook ran alone: batch 1 took 5.0 / 5.0 / 5.8 times
    as long per image as the profile's batch of 64. At smoke the network is so small (width 8) and
    the batch so short (16) that the other test worker's load decides the ratio (it fell to 0.8 in
    one `make test`), so it is not asserted there."""
    run = _kept(seed)
    assert run["batch1_ms_per_image"] > 2 * run["batch_ms_per_image"]


@pytest.mark.any_device
@pytest.mark.committed
@pytest.mark.parametrize("seed", SEEDS)
def test_at_cpu_optimizers_learning_rates_and_regularisers(seed):
    """The optimizer, learning-rate and regularisation effects, in the run a student makes (cpu).
    Kept runs of 2026-11-30, seeds 0 / 1 / 2: validation accuracy SGD 19.86 / 24.29 / 19.57 %,
    momentum 45.43 / 41.00 / 44.29 %, RMSprop 38.14 / 39.57 / 39.57 %, Adam 47.00 / 46.00 / 44.57 %;
    momentum at lr 10 diverged at every seed (10.00 %), at 1e-4 its loss moved by at most 0.014, at
    0.02 it fell by 0.99 / 0.80 / 0.59. Train - validation gap on the 800-image subset: none 36.0 /
    37.0 / 45.3 points, weight decay 18.5 / 22.4 / 32.2, dropout 15.4 / 16.3 / 18.5, augmentation 7.5
    / 5.8 / 8.9, all three 2.1 / -1.1 / 0.3. Each bound is about half the smallest measured lead."""
    run = _kept(seed)
    assert run["profile"] == "cpu" and run["seed"] == seed
    acc = run["optimizer_val_acc"]
    assert acc["momentum"] > acc["SGD"] + 0.08  # smallest lead +16.7 points
    assert acc["Adam"] > acc["SGD"] + 0.10  # +21.7
    assert acc["RMSprop"] > acc["SGD"] + 0.07  # +15.3
    too_large, too_small = (str(PROFILES["cpu"][key]) for key in ("lr_too_large", "lr_too_small"))
    assert run["diverged"] == [float(too_large)] and run["lr_val_acc"][too_large] == pytest.approx(0.1, abs=0.02)
    first, last = run["lr_first_last_loss"][too_small]
    assert abs(last - first) < 0.05
    sensible_first, sensible_last = run["lr_first_last_loss"][str(run["optimizer_lrs"]["momentum"])]
    assert sensible_last < sensible_first - 0.3
    gap = run["gap_no_reg"]
    assert run["gap_weight_decay"] < gap - 0.06  # narrowed by 13.1 points at least
    assert run["gap_dropout"] < gap - 0.10  # 20.6
    assert run["gap_augment"] < gap - 0.14  # 28.5
    assert run["gap_all"] < gap - 0.17  # 33.9


def check_full_dry_run(m: dict, settings: dict) -> None:
    """06's dry run at full size: every CIFAR-10 image, the source's width, one epoch of every run."""
    assert (m["train_size"], m["val_size"], m["test_size"]) == (45_000, 5_000, 10_000)  # all 50,000 less 10% validation
    assert m["batch_shape"] == [4, 3, 32, 32]
    assert m["width"] == settings["width"] and m["params"] == count_params(DemoNet(width=settings["width"]))
    assert m["overfit_size"] == settings["overfit_size"]
    assert set(m["optimizer_val_acc"]) == {"SGD", "momentum", "RMSprop", "Adam"}
    recipes = {"no regularisation", "weight decay", "dropout", "augmentation", "all three"}
    assert set(m["overfit_val_acc"]) == recipes
    assert m["stop_epochs"] == 1 and m["final_recipe"] in recipes
