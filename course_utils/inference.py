"""Predictions of a trained model: class probabilities for a loader or for one image file."""

from __future__ import annotations

import os

import torch
from torch import nn

from .images import load_rgb
from .training import outputs


def predict(model: nn.Module, loader, device="cpu", flip: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Class probabilities (N, classes) and targets (N,) on the CPU, in loader order.

    Runs through ``training.outputs``, the path ``evaluate`` takes, so ``probs.argmax(1)`` scores
    exactly the accuracy ``evaluate`` reports. softmax is shift-invariant, so the MNIST models'
    log-softmax outputs become probabilities too.

    Introduced in notebook 01.
    """
    probs, targets = [], []
    for out, y in outputs(model, loader, device, flip):
        probs.append(out.float().softmax(1).cpu())
        targets.append(y.cpu())
    return torch.cat(probs), torch.cat(targets)


def predict_image(model: nn.Module, path: str | os.PathLike, transform, device="cpu"):
    """(image, class probabilities) for one image file (notebook 05).

    Any file PIL reads works: grayscale, palette and RGBA images become RGB first, and
    ``transform`` (the *test* transform, never the training one) resizes and normalises, so
    the model sees what it saw in testing. A missing or unreadable file names itself.
    """
    image = load_rgb(path)
    batch = [(transform(image).unsqueeze(0), torch.zeros(1, dtype=torch.long))]
    probs, _ = predict(model, batch, device)
    return image, probs[0]
