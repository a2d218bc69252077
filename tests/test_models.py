"""Parameter counts and shapes of every course model: each count the notebooks print is asserted here,
once; the notebook tests compare their metrics with ``count_params`` of the same model."""

import pytest
import torch

from course_utils.models import CNN, VGG_CFGS, CifarVGG, ClassicVGG16, FC2Layer, ImprovedNet, Net, count_params


@pytest.mark.parametrize(
    "model, expected",
    [
        (FC2Layer(784, 8, 10), 6_442),
        (CNN(28, n_feature=6, output_size=10), 6_422),
        (Net(), 62_006),
        (ImprovedNet(width=16, dropout=0.3), 148_538),
        (CifarVGG("VGG11", width=0.25), 579_098),
        (CifarVGG("VGG16", width=1.0), 14_724_042),
        (ClassicVGG16(num_classes=4), 134_276_932),
    ],
)
def test_parameter_counts(model, expected):
    assert count_params(model) == expected


def test_frozen_weights_are_not_counted():
    model = FC2Layer(784, 8, 10)
    model.network[0].requires_grad_(False)  # the first layer's 784·8 + 8 = 6,280 weights
    assert count_params(model) == 6_442 - (784 * 8 + 8)


def test_mnist_models_return_log_probabilities():
    x = torch.randn(5, 1, 28, 28)
    for model in (FC2Layer(), CNN()):
        out = model(x)
        assert out.shape == (5, 10)
        assert torch.allclose(out.exp().sum(1), torch.ones(5), atol=1e-5)


def test_cifar_models_shapes():
    x = torch.randn(2, 3, 32, 32)
    assert Net()(x).shape == (2, 10)
    assert ImprovedNet()(x).shape == (2, 10)
    assert count_params(ImprovedNet()) > count_params(Net())


@pytest.mark.parametrize("cfg", sorted(VGG_CFGS))
def test_vgg_on_32x32_has_512_features(cfg):
    model = CifarVGG(cfg)
    assert model.classifier_in_features == 512
    assert model.features(torch.randn(2, 3, 32, 32)).shape == (2, 512, 1, 1)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_vgg_width_scales_channels():
    model = CifarVGG("VGG11", width=0.25)
    assert model.classifier_in_features == 128
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_vgg16_any_image_size_keeps_25088_features():
    model = ClassicVGG16(num_classes=4).eval()
    with torch.no_grad():
        for size in (32, 64):
            pooled = model.avgpool(model.features(torch.randn(1, 3, size, size)))
            assert pooled.flatten(1).shape == (1, 25_088)
            assert model(torch.randn(1, 3, size, size)).shape == (1, 4)
