"""Residual networks of notebook 07: the BasicBlock, plain and residual CIFAR networks built from
it, the gradient norm of every convolution at initialisation, and GoogLeNet's Inception block with
and without its 1x1 bottlenecks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm, and (``residual=True``) a shortcut added before the
    last ReLU: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    The shortcut is the identity when the output has the input's shape; when the block changes the
    shape (``stride`` 2 halves the map, or the channels change) it is a 1x1 convolution with
    BatchNorm (a projection), the only way to add two tensors of different shapes. ``residual=False``
    is the plain block: the same layers, no shortcut at all.

    Introduced in notebook 07.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, residual: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module | None = None  # the plain block adds nothing
        if residual and (stride != 1 or in_channels != out_channels):
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )
        elif residual:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut is not None:
            out = out + self.shortcut(x)  # the block learns a correction to its input
        return F.relu(out)


class CifarResNet(nn.Module):
    """The CIFAR ResNet of He et al. (2016, section 4.2), ``depth = 6n + 2`` layers with weights:
    a 3x3 stem convolution, three stages of ``n`` BasicBlocks at ``width``, 2x and 4x ``width``
    channels (the first block of stages 2 and 3 halves the map: 32, 16, 8 pixels), global average
    pooling and one linear layer. ``residual=False`` builds the plain network of the same depth:
    the same convolutions, no shortcuts. Depth 8, 14, 20, 32, ... (n = 1, 2, 3, 5, ...).

    Introduced in notebook 07.
    """

    def __init__(self, depth: int = 20, width: int = 16, residual: bool = True, num_classes: int = 10):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (8, 14, 20, 26, 32, ...), got {depth}.")
        n = (depth - 2) // 6
        self.depth, self.residual = depth, residual
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        blocks, channels = [], width
        for stage, out_channels in enumerate((width, 2 * width, 4 * width)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(channels, out_channels, stride, residual))
                channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(x))
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


def main_path_convs(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """(name, layer) of the convolutions along the main path, input to output: the layers counted
    in a network's depth. The shortcuts' 1x1 projections are left out.

    Introduced in notebook 07.
    """
    return [
        (name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and "shortcut" not in name.split(".")
    ]


def grad_norms_at_init(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """The norm of the loss gradient of every main-path convolution's weight, input to output, for
    one batch: one ``loss.backward()`` in training mode (BatchNorm uses the batch), no step taken.

    Introduced in notebook 07: how much signal reaches the first layers of a plain and a residual net.
    """
    model.train()
    model.zero_grad()
    F.cross_entropy(model(images), labels).backward()
    norms = [float(conv.weight.grad.norm()) for _, conv in main_path_convs(model)]
    model.zero_grad()
    return norms


def _conv_relu(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2), nn.ReLU())


class Inception(nn.Module):
    """GoogLeNet's Inception block (Szegedy et al. 2015): four branches side by side, their outputs
    concatenated along the channels. Defaults: inception (3a), 192 channels in, 64 + 128 + 32 + 32 =
    256 out.

    - 1x1 convolution (``c1`` channels);
    - 1x1 down to ``c3_reduce`` channels, then 3x3 (``c3``);
    - 1x1 down to ``c5_reduce`` channels, then 5x5 (``c5``);
    - 3x3 max-pool (stride 1), then a 1x1 projection (``pool_proj``).

    ``bottleneck=False`` drops the two 1x1 reductions: the 3x3 and 5x5 convolutions work on all
    ``in_channels`` directly. Everything else (the 1x1 branch, the pool projection, the 256 output
    channels) is the same, so the two versions differ only in the bottlenecks. Every convolution
    has a bias and a ReLU, as in GoogLeNet.

    Introduced in notebook 07.
    """

    def __init__(
        self,
        in_channels: int = 192,
        c1: int = 64,
        c3_reduce: int = 96,
        c3: int = 128,
        c5_reduce: int = 16,
        c5: int = 32,
        pool_proj: int = 32,
        bottleneck: bool = True,
    ):
        super().__init__()
        self.branch1 = _conv_relu(in_channels, c1, 1)
        if bottleneck:
            self.branch3 = nn.Sequential(_conv_relu(in_channels, c3_reduce, 1), _conv_relu(c3_reduce, c3, 3))
            self.branch5 = nn.Sequential(_conv_relu(in_channels, c5_reduce, 1), _conv_relu(c5_reduce, c5, 5))
        else:
            self.branch3 = _conv_relu(in_channels, c3, 3)
            self.branch5 = _conv_relu(in_channels, c5, 5)
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), _conv_relu(in_channels, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)
