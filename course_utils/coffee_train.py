"""Notebook 05, training VGG16 from scratch on the coffee beans: initialisation, the optimizer,
the recipe, and the ``cudnn.benchmark`` timing (the batch-size timer is ``timing.time_batch_sizes``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import timing
from .training import History, fit


def init_vgg_(model: nn.Module) -> nn.Module:
    """He (Kaiming) initialisation for a VGG without BatchNorm, as torchvision's VGG does:
    convolutions normal with std sqrt(2 / fan_out), linear layers normal(0, 0.01), biases 0.

    PyTorch's default init shrinks the signal a little at each of the 13 ReLU convolutions, so
    a BatchNorm-free VGG16 then starts with near-constant outputs and learns slowly.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    return model


def make_adam(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam, with the fused kernel where this torch has one (05): for VGG16's 134M parameters
    it updates all of them in a few large operations instead of one per tensor, the fastest of
    the three kernels on the course's CPU (docs/reference-results.md, "Three choices, timed")."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch: no fused Adam on this device
        return torch.optim.Adam(model.parameters(), lr=lr)


def time_batch_sizes(model_fn, images, labels, batch_sizes, lr, *, optimizer_fn=make_adam, **timing_args) -> list[dict]:
    """``timing.time_batch_sizes`` with notebook 05's Adam by default: notebook 05 times VGG16's steps
    with it; notebook 06, whose optimizer is SGD, calls ``timing.time_batch_sizes`` itself."""
    return timing.time_batch_sizes(model_fn, images, labels, batch_sizes, lr, optimizer_fn=optimizer_fn, **timing_args)


def train_coffee_vgg16(
    model: nn.Module,
    train_loader,
    val_loader,
    *,
    epochs: int,
    lr: float,
    device="cpu",
    checkpoint_path=None,
    on_epoch_end=None,
) -> History:
    """Notebook 05's recipe: Adam at ``lr``, cross-entropy, ``epochs`` epochs with ``fit``; the
    epoch with the best *validation* accuracy is kept (and saved at ``checkpoint_path`` as soon as
    it is chosen); ``on_epoch_end`` runs after every epoch."""
    optimizer = make_adam(model, lr)
    return fit(
        model,
        train_loader,
        val_loader,
        optimizer,
        epochs,
        loss_fn=F.cross_entropy,
        device=device,
        on_epoch_end=on_epoch_end,
        checkpoint=checkpoint_path,
    )


# ---------------------------------------------------------------- experiments


def time_cudnn_benchmark(
    model_fn, images: torch.Tensor, labels: torch.Tensor, lr: float, steps: int = 5, device="cuda"
) -> dict[str, float] | None:
    """Seconds per training step with ``cudnn.benchmark`` off and on (CUDA only; None elsewhere)."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    before = torch.backends.cudnn.benchmark
    out = {}
    try:
        for flag in (False, True):
            torch.backends.cudnn.benchmark = flag
            rows = timing.time_batch_sizes(
                model_fn, images, labels, [len(images)], lr, optimizer_fn=make_adam, steps=steps, device=device
            )
            out[f"benchmark={flag}"] = rows[0]["seconds_per_step"]
    finally:
        torch.backends.cudnn.benchmark = before
    return out
