"""Every notebook executed at the `full` profile on a CPU, as a dry run (the GPU path that no machine
here can train).

Everything stays at its `full` size but the batches: all the data, image size, model width, the cfg
lists and the schedules. Only the amount of work is cut: one epoch (06: every one of its epoch
settings), and ``max_steps=1``, with which the notebook caps every pass over a loader at one batch
(one optimizer step per epoch, one batch per evaluation) and times one step per batch size; 05 times
batch 1 only. 03-08 train on SMALL_BATCH full-size images a step instead of the profile's batch (05:
32 images of 224x224; 04: 256); 03, 04, 07 and 08 also evaluate SMALL_BATCH images a batch instead of
1,000, and 06 evaluates 32, the images its superposition check takes from one validation batch
(``eval_batch_size``: 04's VGG16 spent most of its dry run evaluating 1,000-image batches); 08 trains
its reversal models for 10 steps instead of 3,000 (they draw their own sequences, no loader caps them),
and 05 uses SMALL_BATCH images of its training, validation, test and published splits
(``train_limit``, ``test_limit``; the 70/15/15 split itself is still computed on all 1,194 images,
and the training images are scored in eval mode for the leak table), and trains its small CNN for
one epoch.
A VGG16 step at 224x224 and batch 32 takes about 25 s on one CPU thread and an evaluation batch of
64 about 36 s; they prove nothing about shapes, models or code paths that a batch of 4 does not, and
what the profile's batches cost in a GPU's memory only a GPU can tell. The test checks that each
notebook ends, writes its metrics, and ran at full size: the split sizes, the shape of a training
batch and the parameter counts, each computed here from `profiles.py` and the model classes rather
than read back from the notebook. Accuracies of a dry run mean nothing and are not checked; CUDA and
mixed precision cannot run here (tests/test_train.py runs the autocast branch on the CPU).

Wall seconds in `.ci/run` on 2026-11-30 (one thread, two workers side by side, kernel start
included; the machine ran about three times slower that day than on 2026-11-24): 01 15, 03 41, 04
110, 05 60, 06 60, 07 102 (02 under 10). With the profile's batches that day, 05 took 329 s.
"""

from __future__ import annotations

import os

import pytest

from course_utils import CNN, CifarVGG, ClassicVGG16, FC2Layer, ImprovedNet, Net, count_params
from course_utils.attention import TinyViT
from course_utils.catalogue import CATALOGUE
from course_utils.optimizers import DemoNet
from course_utils.profiles import NOTEBOOK_PROFILES
from course_utils.recurrent import RowClassifier
from course_utils.resnets import CifarResNet

DRY_RUN = dict(seed=0, max_steps=1, epochs=1)
SMALL_BATCH = 4  # 03-08 (see above); 01 and 02 keep their batch of 64, whose cost is the data's
TIMED_05 = [1]  # a list: papermill passes a tuple as its string
CIFAR_SIZES = dict(train_size=45_000, val_size=5_000, test_size=10_000)  # all 50,000 less 10% validation
IDS = [nb.stem for nb in CATALOGUE]


def full(stem: str) -> dict:
    return NOTEBOOK_PROFILES[stem]["full"]


def sizes(metrics: dict, *keys) -> dict:
    return {key: metrics[key] for key in keys}


def check_mnist(m: dict, settings: dict) -> None:
    assert sizes(m, "train_size", "test_size") == dict(train_size=60_000, test_size=10_000)
    assert m["fc_params"] == count_params(FC2Layer(784, settings["n_hidden"], 10))
    assert m["cnn_params"] == count_params(CNN(28, settings["n_feature"], 10))
    if "batch_shape" in m:
        assert m["batch_shape"] == [settings["batch_size"], 1, 28, 28]


def check_03(m: dict, settings: dict) -> None:
    assert sizes(m, *CIFAR_SIZES) == CIFAR_SIZES
    assert m["batch_shape"] == [SMALL_BATCH, 3, 32, 32]
    assert m["net_params"] == count_params(Net())
    assert m["improved_params"] == count_params(ImprovedNet(width=settings["improved_width"]))
    assert len(m["net_val_acc_per_epoch"]) == len(m["improved_val_acc_per_epoch"]) == 1  # one epoch


def check_04(m: dict, settings: dict) -> None:
    assert sizes(m, *CIFAR_SIZES) == CIFAR_SIZES
    assert m["batch_shape"] == [SMALL_BATCH, 3, 32, 32]
    assert (m["vgg_cfg"], m["vgg_width"]) == (settings["vgg_cfg"], settings["vgg_width"]) == ("VGG16", 1.0)
    assert m["vgg_params"] == count_params(CifarVGG("VGG16"))
    assert m["trained_classifier_in_features"] == m["classifier_in_features"] == 512
    # the BatchNorm comparison at full size: VGG16 with and without BatchNorm, on the profile's images
    assert (m["bn_images"], m["bn_epochs"]) == (settings["bn_images"], settings["bn_epochs"])
    assert len(m["bn_val_acc"]) == len(m["bn_train_loss"]) == 3


def check_05(m: dict, settings: dict) -> None:
    # the clean 70/15/15 split of the 1,194 distinct images, whole; training, validation, test and the
    # published folder each use SMALL_BATCH of their images (train_limit, test_limit)
    assert m["split_sizes"] == {"train": 836, "validation": 179, "test": 179}
    scored = dict(train_size=SMALL_BATCH, val_size=SMALL_BATCH, test_size=SMALL_BATCH)
    assert sizes(m, "train_size", "val_size", "test_size") == scored
    assert m["image_size"] == settings["image_size"] == 224
    assert m["batch_shape"] == [SMALL_BATCH, 3, 224, 224]
    assert m["vgg16_params"] == count_params(ClassicVGG16(num_classes=4))
    assert [row["batch_size"] for row in m["batch_size_timing"]] == TIMED_05
    assert set(TIMED_05) < set(settings["timed_batch_sizes"])
    assert m["checkpoint_epoch"] == 1 and m["published_test_size"] == SMALL_BATCH
    assert m["published_test_in_train"] == 400  # the duplicates are found on all the published files
    assert m["small_epochs"] == 1 and m["heldout_size"] == 2 * SMALL_BATCH


def check_06(m: dict, settings: dict) -> None:
    assert sizes(m, *CIFAR_SIZES) == CIFAR_SIZES
    assert m["batch_shape"] == [SMALL_BATCH, 3, 32, 32]
    assert m["width"] == settings["width"] and m["params"] == count_params(DemoNet(width=settings["width"]))
    assert m["overfit_size"] == settings["overfit_size"]
    assert set(m["optimizer_val_acc"]) == {"SGD", "momentum", "RMSprop", "Adam"}
    recipes = {"no regularisation", "weight decay", "dropout", "augmentation", "all three"}
    assert set(m["overfit_val_acc"]) == recipes
    assert m["stop_epochs"] == 1 and m["final_recipe"] in recipes


def check_07(m: dict, settings: dict) -> None:
    assert sizes(m, *CIFAR_SIZES) == CIFAR_SIZES
    assert m["batch_shape"] == [SMALL_BATCH, 3, 32, 32]
    width, shallow, deep = settings["width"], settings["shallow_depth"], settings["deep_depth"]
    assert (m["width"], m["shallow_depth"], m["deep_depth"]) == (width, shallow, deep)
    for name, depth, residual in (
        ("plain_shallow", shallow, False),
        ("plain_deep", deep, False),
        ("res_shallow", shallow, True),
        ("res_deep", deep, True),
    ):
        assert m[f"{name}_params"] == count_params(CifarResNet(depth, width, residual=residual)), name
    assert m["resume_matches_uninterrupted"] is True  # save and resume at full size, one step an epoch


def check_08(m: dict, settings: dict) -> None:
    assert sizes(m, *CIFAR_SIZES) == CIFAR_SIZES
    assert m["small_share_size"] == settings["vit_small_images"]
    seen = settings["vit_images_seen"]
    assert m["vit_epochs"] == {"small": round(seen / settings["vit_small_images"]), "large": round(seen / 45_000)}
    assert m["vit_params"] == count_params(TinyViT()) and m["cnn_params"] == count_params(ImprovedNet(width=16))
    assert (m["rows_train_size"], m["rows_test_size"]) == (60_000, 10_000)
    assert m["batch_shape"] == [SMALL_BATCH, 1, 28, 28]
    hidden = settings["rows_hidden"]
    assert m["rnn_params"] == count_params(RowClassifier("rnn", hidden=hidden))
    assert m["lstm_params"] == count_params(RowClassifier("lstm", hidden=hidden))
    assert set(m["reversal_acc"]) == {"None", "sinusoidal", "learned"}


# notebook -> (parameters beyond DRY_RUN, the check of its metrics); every catalogue entry needs one.
SMALL = dict(batch_size=SMALL_BATCH)
CIFAR_SMALL = dict(SMALL, eval_batch_size=SMALL_BATCH)
DRY_RUNS = {
    "01_mnist_fc_vs_cnn": ({}, check_mnist),
    "02_mnist_pixel_permutation": ({}, check_mnist),
    "03_cifar10_cnn": (CIFAR_SMALL, check_03),
    "04_cifar10_vgg": (CIFAR_SMALL, check_04),
    "05_coffee_beans_vgg16": (
        dict(SMALL, train_limit=SMALL_BATCH, test_limit=SMALL_BATCH, small_epochs=1, timed_batch_sizes=TIMED_05),
        check_05,
    ),
    "06_optimizers_and_regularization": (
        # 06's superposition check takes two sets of 16 images from one validation batch
        dict(CIFAR_SMALL, eval_batch_size=32, overfit_epochs=1, stop_epochs=1, final_epochs=1),
        check_06,
    ),
    "07_residual_networks": (CIFAR_SMALL, check_07),
    # 08's reversal task trains for a number of steps, not over a loader: 10 instead of the profile's 3,000
    "08_attention_and_lstm": (dict(CIFAR_SMALL, reverse_steps=10), check_08),
}


# One test per notebook: the root conftest.py makes each its own unit of work for xdist, longest first.
@pytest.mark.parametrize("stem", IDS)
@pytest.mark.any_device
def test_dry_run(stem, tmp_path, mirror):
    from course_utils.course import execute

    assert stem in DRY_RUNS, f"add {stem}'s dry run to DRY_RUNS in tests/test_full_dry_run.py"
    extra, check = DRY_RUNS[stem]
    if stem == "05_coffee_beans_vgg16":
        extra = dict(extra, checkpoint_dir=str(tmp_path / "checkpoints"))
    m = execute(stem, tmp_path, profile="full", **DRY_RUN, **extra)
    assert m["profile"] == "full" and m["max_steps"] == 1
    assert m["device"] == os.environ.get("COURSE_TEST_DEVICE", "cpu")  # make test runs notebooks there
    if m["device"] == "cpu":
        assert m["precision"] == "float32"
    assert m["train_seconds"] > 0
    check(m, full(stem))
