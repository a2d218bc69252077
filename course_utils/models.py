"""The models of notebooks 01 to 05, defined once (notebook 06's demo network is ``optimizers.DemoNet``,
notebook 07's networks are in ``resnets``); each docstring here names the notebook that introduces it."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FC2Layer(nn.Module):
    """Notebook 01: two hidden layers of ``n_hidden`` units; 6,442 parameters for (784, 8, 10)."""

    def __init__(self, input_size: int = 784, n_hidden: int = 8, output_size: int = 10):
        super().__init__()
        self.input_size = input_size
        self.network = nn.Sequential(
            nn.Linear(input_size, n_hidden),
            nn.ReLU(),
            nn.Linear(n_hidden, n_hidden),
            nn.ReLU(),
            nn.Linear(n_hidden, output_size),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1, self.input_size)
        return F.log_softmax(self.network(x), dim=1)


class CNN(nn.Module):
    """Notebook 01: two 5x5 convolutions with max-pooling, then two linear layers; 6,422 parameters for n_feature=6."""

    def __init__(self, input_size: int = 28, n_feature: int = 6, output_size: int = 10):
        super().__init__()
        self.n_feature = n_feature
        self.conv1 = nn.Conv2d(1, n_feature, kernel_size=5)
        self.conv2 = nn.Conv2d(n_feature, n_feature, kernel_size=5)
        side = ((input_size - 4) // 2 - 4) // 2  # 28 -> 24 -> 12 -> 8 -> 4
        self.fc1 = nn.Linear(n_feature * side * side, 50)
        self.fc2 = nn.Linear(50, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return F.log_softmax(self.fc2(x), dim=1)


class Net(nn.Module):
    """Notebook 03, the LeNet-style CIFAR-10 net: conv5-pool-conv5-pool-fc120-fc84-fc10, 62,006 parameters."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = F.relu(self.fc1(x.flatten(1)))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def conv_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    """A 3x3 convolution (padding 1, no bias: BatchNorm adds one), BatchNorm, ReLU (03, 04)."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class ImprovedNet(nn.Module):
    """Notebook 03: Net's two 5x5 convolutions each replaced by two 3x3 (same receptive field, more
    non-linearity), with BatchNorm after every convolution and Dropout before the classifier."""

    def __init__(self, num_classes: int = 10, width: int = 32, dropout: float = 0.3):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            *conv_bn_relu(3, w),
            *conv_bn_relu(w, w),
            nn.MaxPool2d(2),  # 32 -> 16
            *conv_bn_relu(w, 2 * w),
            *conv_bn_relu(2 * w, 2 * w),
            nn.MaxPool2d(2),  # 16 -> 8
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(2 * w * 8 * 8, 64),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# "M" is a 2x2 max-pool; numbers are the output channels of 3x3 convolutions.
VGG_CFGS: dict[str, list] = {
    "VGG11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "VGG13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "VGG16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "VGG19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_features(cfg: list, batch_norm: bool, width: float = 1.0, in_channels: int = 3) -> nn.Sequential:
    """Notebook 04: build VGG's convolutional part from a cfg list; ``width`` scales every channel count."""
    layers: list[nn.Module] = []
    c_in = in_channels
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        c_out = max(1, round(item * width))
        if batch_norm:
            layers += conv_bn_relu(c_in, c_out)
        else:
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True)]
        c_in = c_out
    return nn.Sequential(*layers)


class CifarVGG(nn.Module):
    """VGG with BatchNorm for CIFAR-10's 32x32 inputs (notebook 04): five max-pools leave 1x1 x last channels
    (512 at width 1), so the classifier takes 512 features, not 2048. ``batch_norm=False`` builds
    the twin without BatchNorm (its convolutions get a bias instead)."""

    def __init__(self, cfg: str | list = "VGG16", num_classes: int = 10, width: float = 1.0, batch_norm: bool = True):
        super().__init__()
        layers = VGG_CFGS[cfg] if isinstance(cfg, str) else cfg
        self.features = make_features(layers, batch_norm=batch_norm, width=width)
        last_conv = [m for m in self.features if isinstance(m, nn.Conv2d)][-1]
        self.classifier_in_features = last_conv.out_channels
        self.classifier = nn.Linear(self.classifier_in_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class ClassicVGG16(nn.Module):
    """Notebook 05: the original VGG16 layout (no BatchNorm, made for 224x224 inputs): 13
    convolutions in five blocks, then 25088 -> 4096 -> 4096 -> classes. The adaptive pool keeps
    7x7x512 = 25088 features at any input size, so smaller images train the same layers;
    134,276,932 parameters for 4 classes."""

    def __init__(self, num_classes: int = 4, dropout: float = 0.5):
        super().__init__()
        self.features = make_features(VGG_CFGS["VGG16"], batch_norm=False)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters.

    Introduced in notebook 01.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def param_table(model: nn.Module) -> list[tuple[str, tuple, int]]:
    """(name, shape, count) for every parameter tensor: how a total arises, layer by layer.

    Introduced in notebook 01.
    """
    return [(name, tuple(p.shape), p.numel()) for name, p in model.named_parameters()]
