"""Every notebook executed at the `full` profile on a CPU, as a dry run (the GPU path that no
machine here can train).

Everything stays at its `full` size: all the data, image size, model width, batch size, the cfg
lists and the schedules. Only the amount of work is cut: one epoch (06: every one of its epoch
settings), and ``max_steps=1``, with which the notebook caps every pass over a loader at one batch
(one optimizer step per epoch, one batch per evaluation) and times one step per batch size; 05
times batch 1 only (its training batch of 32 runs in the training cell). The test checks that each
notebook ends, writes its metrics, and ran at full size: the split sizes, the shape of a training
batch and the parameter counts, each computed here from `profiles.py` and the model classes rather
than read back from the notebook. Accuracies of a dry run mean nothing and are not checked; CUDA
and mixed precision cannot run here (tests/test_train.py runs the autocast branch on the CPU).

Wall times, one notebook at a time, one thread (as `make test` runs), 2-core CPU, kernel start
included: 01 11 s, 02 7 s, 03 25 s, 04 60 s, 06 34 s, 07 50 s; 05, the 224x224 VGG16, 151 s
(270 s timing batches 1 and 64, 364.8 s timing all four of the profile's batch sizes).
"""

from __future__ import annotations

import pytest

from course_utils import CNN, CifarVGG, ClassicVGG16, FC2Layer, ImprovedNet, Net, count_params
from course_utils.optimizers import DemoNet
from course_utils.profiles import NOTEBOOK_PROFILES
from course_utils.resnets import CifarResNet

DRY_RUN = dict(seed=0, max_steps=1, epochs=1)
TIMED_05 = [1]  # a list: papermill passes a tuple as its string
CIFAR_SIZES = dict(train_size=45_000, val_size=5_000, test_size=10_000)  # all 50,000 less 10% validation


def full(stem: str) -> dict:
    return NOTEBOOK_PROFILES[stem]["full"]


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory, mirror):
    from course_utils.course import execute

    def run(stem: str, **extra) -> dict:
        out = tmp_path_factory.mktemp(f"full_{stem[:2]}")
        metrics = execute(stem, out, profile="full", **DRY_RUN, **extra)
        assert metrics["profile"] == "full" and metrics["max_steps"] == 1
        assert metrics["device"] == "cpu" and metrics["precision"] == "float32"
        assert metrics["train_seconds"] > 0
        return metrics

    return run


def sizes(metrics: dict, *keys) -> dict:
    return {key: metrics[key] for key in keys}


# Three classes: pytest-xdist's loadscope hands each class to one worker, so the two VGG notebooks
# and the rest can run side by side.
class TestMnistAndSmallNets:
    @pytest.mark.parametrize("stem", ["01_mnist_fc_vs_cnn", "02_mnist_pixel_permutation"])
    def test_mnist(self, dry_run, stem):
        m = dry_run(stem)
        settings = full(stem)
        assert sizes(m, "train_size", "test_size") == dict(train_size=60_000, test_size=10_000)
        assert m["fc_params"] == count_params(FC2Layer(784, settings["n_hidden"], 10))
        assert m["cnn_params"] == count_params(CNN(28, settings["n_feature"], 10))
        if "batch_shape" in m:
            assert m["batch_shape"] == [settings["batch_size"], 1, 28, 28]

    def test_03_cifar_cnn(self, dry_run):
        m = dry_run("03_cifar10_cnn")
        settings = full("03_cifar10_cnn")
        assert sizes(m, *CIFAR_SIZES) == CIFAR_SIZES
        assert m["batch_shape"] == [settings["batch_size"], 3, 32, 32]
        assert m["net_params"] == count_params(Net())
        assert m["improved_params"] == count_params(ImprovedNet(width=settings["improved_width"]))
        assert len(m["net_val_acc_per_epoch"]) == len(m["improved_val_acc_per_epoch"]) == 1  # one epoch

    def test_06_optimizers(self, dry_run):
        m = dry_run("06_optimizers_and_regularization", overfit_epochs=1, final_epochs=1)
        settings = full("06_optimizers_and_regularization")
        assert sizes(m, *CIFAR_SIZES) == CIFAR_SIZES
        assert m["batch_shape"] == [settings["batch_size"], 3, 32, 32]
        assert m["width"] == settings["width"] and m["params"] == count_params(DemoNet(width=settings["width"]))
        assert m["overfit_size"] == settings["overfit_size"]
        assert set(m["optimizer_val_acc"]) == {"SGD", "momentum", "RMSprop", "Adam"}
        recipes = {"no regularisation", "weight decay", "dropout", "augmentation", "all three"}
        assert set(m["overfit_val_acc"]) == recipes

    def test_07_resnets(self, dry_run):
        m = dry_run("07_residual_networks")
        settings = full("07_residual_networks")
        assert sizes(m, *CIFAR_SIZES) == CIFAR_SIZES
        assert m["batch_shape"] == [settings["batch_size"], 3, 32, 32]
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


class TestCifarVGG:
    def test_04_vgg16(self, dry_run):
        m = dry_run("04_cifar10_vgg")
        settings = full("04_cifar10_vgg")
        assert sizes(m, *CIFAR_SIZES) == CIFAR_SIZES
        assert m["batch_shape"] == [settings["batch_size"], 3, 32, 32]
        assert (m["vgg_cfg"], m["vgg_width"]) == (settings["vgg_cfg"], settings["vgg_width"]) == ("VGG16", 1.0)
        assert m["vgg_params"] == count_params(CifarVGG("VGG16"))
        assert m["trained_classifier_in_features"] == m["classifier_in_features"] == 512


class TestCoffeeVGG16:
    def test_05_vgg16_at_224(self, dry_run, tmp_path):
        # The timing code at one batch size: 64 at 224x224 costs 108 s on this CPU and says nothing
        # about a GPU's memory, which is what that size would test there.
        m = dry_run("05_coffee_beans_vgg16", checkpoint_dir=str(tmp_path), timed_batch_sizes=TIMED_05)
        settings = full("05_coffee_beans_vgg16")
        # the clean 70/15/15 split of the 1,194 distinct images, whole
        assert sizes(m, "train_size", "val_size", "test_size") == dict(train_size=836, val_size=179, test_size=179)
        assert m["image_size"] == settings["image_size"] == 224
        assert m["batch_shape"] == [settings["batch_size"], 3, 224, 224]
        assert m["vgg16_params"] == count_params(ClassicVGG16(num_classes=4))
        assert [row["batch_size"] for row in m["batch_size_timing"]] == TIMED_05
        assert set(TIMED_05) < set(settings["timed_batch_sizes"])
        assert m["checkpoint_epoch"] == 1 and m["published_test_size"] == 400
