"""Unit tests of course_utils.resnets (notebook 07): shapes, where the projection shortcut appears,
exact parameter counts, and what a residual block computes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_utils import count_params
from course_utils.cifar import multiply_adds
from course_utils.resnets import BasicBlock, CifarResNet, Inception, grad_norms_at_init, main_path_convs


def _conv3x3_bn(c_in, c_out):
    return 9 * c_in * c_out + 2 * c_out  # no bias: BatchNorm's shift replaces it


@pytest.mark.parametrize(
    "in_channels, out_channels, stride, projection",
    [(16, 16, 1, False), (16, 32, 2, True), (16, 32, 1, True), (16, 16, 2, True)],
)
def test_projection_only_when_the_shape_changes(in_channels, out_channels, stride, projection):
    block = BasicBlock(in_channels, out_channels, stride)
    x = torch.randn(2, in_channels, 8, 8)
    assert block(x).shape == (2, out_channels, 8 // stride, 8 // stride)
    assert isinstance(block.shortcut, nn.Sequential if projection else nn.Identity)
    expected = _conv3x3_bn(in_channels, out_channels) + _conv3x3_bn(out_channels, out_channels)
    if projection:
        expected += in_channels * out_channels + 2 * out_channels  # 1x1 conv + BatchNorm
    assert count_params(block) == expected


def test_plain_block_has_no_shortcut_and_the_same_main_path():
    plain, residual = BasicBlock(16, 32, 2, residual=False), BasicBlock(16, 32, 2)
    assert plain.shortcut is None
    assert count_params(residual) - count_params(plain) == 16 * 32 + 2 * 32  # the projection only
    assert plain(torch.randn(2, 16, 8, 8)).shape == (2, 32, 4, 4)


def test_block_with_zeroed_last_batchnorm_is_relu_of_its_input():
    torch.manual_seed(0)
    block = BasicBlock(8, 8).eval()
    nn.init.zeros_(block.bn2.weight)
    nn.init.zeros_(block.bn2.bias)
    x = torch.randn(3, 8, 6, 6)
    assert torch.equal(block(x), torch.relu(x))  # the residual branch adds exactly zero
    plain = BasicBlock(8, 8, residual=False).eval()
    nn.init.zeros_(plain.bn2.weight)
    nn.init.zeros_(plain.bn2.bias)
    assert torch.equal(plain(x), torch.zeros_like(x))  # a plain block with that branch passes nothing


@pytest.mark.parametrize("depth, params", [(8, 78_042), (14, 175_258), (20, 272_474)])
def test_cifar_resnet_parameter_counts(depth, params):
    # ResNet-20 at width 16 is He et al.'s 0.27M-parameter network
    model = CifarResNet(depth)
    assert count_params(model) == params
    assert len(main_path_convs(model)) == depth - 1  # plus the linear layer: depth layers with weights
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_plain_net_is_the_resnet_without_its_projections():
    for depth in (8, 20):
        residual, plain = CifarResNet(depth, width=8), CifarResNet(depth, width=8, residual=False)
        projections = (8 * 16 + 2 * 16) + (16 * 32 + 2 * 32)  # stages 2 and 3 change the shape
        assert count_params(residual) - count_params(plain) == projections
        assert [n for n, _ in main_path_convs(plain)] == [n for n, _ in main_path_convs(residual)]


def test_depth_must_be_6n_plus_2():
    with pytest.raises(ValueError, match="6n"):
        CifarResNet(10)


def test_grad_norms_at_init_one_per_main_path_conv_and_no_side_effects():
    torch.manual_seed(0)
    model = CifarResNet(8, width=4)
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k}
    norms = grad_norms_at_init(model, x, y)
    assert len(norms) == 7 and all(n > 0 for n in norms)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())  # no optimiser step


def test_inception_3a_parameter_counts_exactly():
    with_bn, without = Inception(), Inception(bottleneck=False)
    x = torch.randn(1, 192, 28, 28)
    assert with_bn(x).shape == without(x).shape == (1, 256, 28, 28)
    # weights + biases: 1x1 64; 1x1 96 -> 3x3 128; 1x1 16 -> 5x5 32; pool -> 1x1 32
    assert count_params(with_bn) == (192 * 64 + 64) + (192 * 96 + 96) + (96 * 128 * 9 + 128) + (192 * 16 + 16) + (
        16 * 32 * 25 + 32
    ) + (192 * 32 + 32)
    assert count_params(with_bn) == 163_696
    assert count_params(without) == (192 * 64 + 64) + (192 * 128 * 9 + 128) + (192 * 32 * 25 + 32) + (192 * 32 + 32)
    assert count_params(without) == 393_472
    assert multiply_adds(with_bn, input_size=28, in_channels=192) == 28 * 28 * 163_328
    assert multiply_adds(without, input_size=28, in_channels=192) == 28 * 28 * 393_216
