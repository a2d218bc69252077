"""Unit tests of course_utils/cifar.py: the demonstrations and helpers of notebooks 03 and 04."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_utils import cifar, data, loaders, splits
from course_utils.models import VGG_CFGS, CifarVGG


def test_conv1x1_equals_per_pixel_linear():
    demo = cifar.conv1x1_vs_linear(c_in=64, c_out=16, size=8)
    assert demo["max_abs_diff"] < 1e-5
    assert demo["conv1x1_params"] == demo["linear_params"] == 64 * 16 + 16
    assert demo["dense_params"] == (64 * 8 * 8) * (16 * 8 * 8) + 16 * 8 * 8
    assert demo["output_shape"] == (2, 16, 8, 8)


def test_channel_mean_std_matches_direct_computation():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (37, 3, 5, 7), dtype=torch.uint8, generator=g)
    mean, std = cifar.channel_mean_std(images, chunk=10)  # chunking must not change the result
    x = images.double() / 255
    expected_mean = x.mean((0, 2, 3))
    expected_std = x.permute(1, 0, 2, 3).reshape(3, -1).std(1, unbiased=False)
    assert torch.allclose(torch.tensor(mean, dtype=torch.float64), expected_mean, atol=1e-4)
    assert torch.allclose(torch.tensor(std, dtype=torch.float64), expected_std, atol=1e-4)


def test_channel_mean_std_of_constant_images():
    images = torch.full((4, 3, 2, 2), 51, dtype=torch.uint8)
    assert cifar.channel_mean_std(images) == ((0.2, 0.2, 0.2), (0.0, 0.0, 0.0))


def test_channel_mean_std_on_real_training_subset(mirror):
    # 2,000 real training images: the JPEG copy's statistics lie within a hundredth of the
    # official constants (measured over all 50,000: mean 0.4913 0.4821 0.4465, std 0.2452 0.2428 0.2606).
    split = splits.load_split("cifar10", True, limit=2000, seed=0)
    mean, std = cifar.channel_mean_std(split.images)
    for got, usual in zip(mean + std, data.CIFAR_MEAN + data.CIFAR_STD):
        assert abs(got - usual) < 0.01


@pytest.mark.parametrize("name", list(VGG_CFGS))
def test_vgg_classifier_takes_512_features(name):
    model = CifarVGG(name)
    assert model.classifier_in_features == 512
    assert cifar.shape_trace(model.features)[-1][1] == (1, 512, 1, 1)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_vgg_with_2048_feature_classifier_fails():
    model = cifar.vgg_with_classifier(2048, "VGG11", width=0.25)
    ok = cifar.vgg_with_classifier(128, "VGG11", width=0.25)  # width 0.25: 512 * 0.25 features
    assert ok(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(RuntimeError, match="2048"):
        model(torch.zeros(2, 3, 32, 32))


def test_shape_trace_halves_at_every_pool():
    trace = cifar.shape_trace(CifarVGG("VGG11", width=0.25).features)
    pools = [shape for layer, shape in trace if "MaxPool" in layer]
    assert [s[-1] for s in pools] == [16, 8, 4, 2, 1]


def test_most_confident_mistakes_orders_wrong_predictions_by_confidence():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.95, 0.05]])
    targets = torch.tensor([0, 0, 1, 0, 1])
    # wrong: 1 (0.8), 2 (0.6), 3 (0.7), 4 (0.95)
    assert cifar.most_confident_mistakes(probs, targets, k=3).tolist() == [4, 1, 3]
    assert cifar.most_confident_mistakes(probs, targets, k=10).tolist() == [4, 1, 3, 2]


def _random_images(n: int, batch_size: int) -> loaders.TensorLoader:
    """Random pixels with labels 0-9 in turn: enough to check the mechanics of a report."""
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    split = splits.Split(images, torch.arange(n) % 10, cifar.CLASSES, "synthetic")
    return loaders.TensorLoader(split, batch_size, data.CIFAR_HALF, data.CIFAR_HALF)


def test_score_report_and_flip_tta_on_a_tiny_split():
    test = _random_images(30, 8)
    split = test.dataset
    model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 10))
    report = cifar.score_report(model, test, "cpu")
    assert report["confusion"].sum() == 30
    assert report["accuracy"] == pytest.approx(float((report["preds"] == split.targets).float().mean()))
    # a model that sees only channel means cannot tell an image from its mirror image
    assert cifar.flip_tta_accuracy(model, test, "cpu") == pytest.approx(report["accuracy"])


def test_augmented_test_loader_changes_images_not_labels():
    clean = _random_images(16, 16)
    ((x, y),) = list(clean)
    ((xa, ya),) = list(cifar.augmented_test_loader(clean))
    assert torch.equal(y, ya) and not torch.equal(x, xa)
    assert not clean.augment
