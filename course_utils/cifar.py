"""CIFAR-10 recipes of notebooks 03 and 04: 03's training recipe (04's, which 07 trains with too,
is ``recipes.train_sgd_one_cycle``), the dataset's own mean/std, score reports, the most confident
mistakes, and two small demonstrations (1x1 convolution vs a per-pixel Linear, the shape trace
that fixes VGG's classifier at 512)."""

from __future__ import annotations

import torch
from torch import nn

from . import data
from .inference import predict
from .loaders import TensorLoader
from .metrics import confusion_matrix, per_class_accuracy
from .models import CifarVGG, count_params
from .training import History, evaluate, fit

CLASSES = data.CIFAR10_CLASSES


def dataset_name(data_source: str) -> str:
    """How printed results name the data: "the JPEG copy of CIFAR-10" for the mirror's lossy copy
    (its numbers are not official CIFAR-10 results), else "CIFAR-10".

    Introduced in notebook 03.
    """
    return "the JPEG copy of CIFAR-10" if data_source == data.SOURCE_CIFAR_JPEG else "CIFAR-10"


def channel_mean_std(images: torch.Tensor, chunk: int = 5000) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std over every pixel of uint8 images (N, C, H, W), scaled to [0, 1].

    Sums run in float64 chunk by chunk, so 50,000 images need no float copy of the whole split.
    """
    c = images.shape[1]
    total = torch.zeros(c, dtype=torch.float64)
    total_sq = torch.zeros(c, dtype=torch.float64)
    for start in range(0, len(images), chunk):
        x = images[start : start + chunk].to(torch.float64) / 255
        total += x.sum((0, 2, 3))
        total_sq += (x * x).sum((0, 2, 3))
    n = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / n
    std = (total_sq / n - mean * mean).clamp(min=0).sqrt()
    return tuple(round(v, 4) for v in mean.tolist()), tuple(round(v, 4) for v in std.tolist())


def train_cifar_adam(
    model: nn.Module,
    train_loader,
    val_loader,
    *,
    epochs: int,
    lr: float,
    device="cpu",
    weight_decay: float = 0.0,
    patience: int | None = None,
    channels_last: bool = False,
) -> History:
    """Notebook 03's recipe: Adam at a fixed learning rate, cross-entropy; the epoch with the best
    validation accuracy is kept. ``channels_last=True``: see ``fit``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    return fit(
        model,
        train_loader,
        val_loader,
        optimizer,
        epochs,
        device=device,
        patience=patience,
        channels_last=channels_last,
    )


def score_report(model: nn.Module, loader, device, class_names=CLASSES, flip: bool = False) -> dict:
    """Probabilities, predictions, targets, accuracy, confusion matrix and per-class accuracy of
    ``model`` on ``loader`` (03, 04: the test split, scored once after training)."""
    probs, targets = predict(model, loader, device, flip=flip)
    preds = probs.argmax(1)
    cm = confusion_matrix(preds, targets, len(class_names))
    accuracy = int((preds == targets).sum()) / max(len(targets), 1)
    return {
        "probs": probs,
        "preds": preds,
        "targets": targets,
        "accuracy": accuracy,
        "confusion": cm,
        "per_class": per_class_accuracy(cm.double(), class_names),
    }


def most_confident_mistakes(probs: torch.Tensor, targets: torch.Tensor, k: int = 20) -> torch.Tensor:
    """Indices of the ``k`` wrong predictions made with the highest probability, most confident first."""
    confidence, preds = probs.max(1)
    wrong = torch.nonzero(preds != targets).flatten()
    order = confidence[wrong].argsort(descending=True, stable=True)
    return wrong[order[:k]]


def flip_tta_accuracy(model: nn.Module, test_loader, device) -> float:
    """Accuracy when each test image's prediction averages the image and its mirror image (04).

    Deterministic test-time augmentation: unlike random crops on the test split, every run
    scores the same images the same way. The same evaluation path as ``evaluate``.
    """
    return evaluate(model, test_loader, device=device, flip=True)[1]


def augmented_test_loader(test_loader: TensorLoader) -> TensorLoader:
    """The same test images passed through the training augmentation (the common mistake, 04)."""
    return test_loader.variant(augment=True)


def conv1x1_vs_linear(c_in: int = 64, c_out: int = 16, size: int = 8, seed: int = 0) -> dict:
    """Show that a 1x1 convolution is one Linear(c_in, c_out) applied at every pixel.

    The Linear is given the convolution's weights; both map the same random feature map, and
    the largest difference of their outputs is float rounding. A fully connected layer over
    the whole map (every input value to every output value) is shown for its parameter count.
    """
    g = torch.Generator().manual_seed(seed)
    conv = nn.Conv2d(c_in, c_out, kernel_size=1)
    linear = nn.Linear(c_in, c_out)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(c_out, c_in, 1, 1, generator=g) / c_in**0.5)
        conv.bias.copy_(torch.randn(c_out, generator=g))
        linear.weight.copy_(conv.weight.view(c_out, c_in))
        linear.bias.copy_(conv.bias)
        x = torch.randn(2, c_in, size, size, generator=g)
        out_conv = conv(x)
        out_linear = linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # channels last, Linear per pixel
    return {
        "input_shape": tuple(x.shape),
        "output_shape": tuple(out_conv.shape),
        "max_abs_diff": float((out_conv - out_linear).abs().max()),
        "conv1x1_params": count_params(conv),
        "linear_params": count_params(linear),
        "dense_params": (c_in * size * size) * (c_out * size * size) + c_out * size * size,
    }


def shape_trace(features: nn.Sequential, input_size: int = 32, in_channels: int = 3) -> list[tuple[str, tuple]]:
    """(layer, output shape) after every convolution and max-pool for one input image."""
    x = torch.zeros(1, in_channels, input_size, input_size)
    trace = [("input", tuple(x.shape))]
    was_training = features.training
    features.eval()
    with torch.no_grad():
        for i, layer in enumerate(features):
            x = layer(x)
            if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
                trace.append((f"{i}: {type(layer).__name__}", tuple(x.shape)))
    features.train(was_training)
    return trace


def vgg_with_classifier(
    in_features: int, cfg_name: str | list = "VGG16", width: float = 1.0, num_classes: int = 10
) -> CifarVGG:
    """A VGG whose classifier expects ``in_features`` inputs (2048 reproduces the course bug, 04)."""
    model = CifarVGG(cfg_name, num_classes=num_classes, width=width)
    model.classifier = nn.Linear(in_features, num_classes)
    return model


def multiply_adds(model: nn.Module, input_size: int = 32, in_channels: int = 3) -> int:
    """Multiply-adds of the convolutions and linear layers for one image, counted with forward
    hooks on a real forward pass (03: the compute cost of Net against ImprovedNet).

    A convolution does (input channels / groups) x kernel height x kernel width multiply-adds per
    output value; a linear layer in_features per output value. Pooling, BatchNorm, activations and
    biases are left out: they are small next to these.
    """
    total = 0

    def count(layer, _inputs, output):
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            per_output = layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
        else:
            per_output = layer.in_features
        total += output[0].numel() * per_output  # output[0]: the one image's outputs

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, in_channels, input_size, input_size, device=next(model.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return total
