"""What ``fit`` adds on a CUDA GPU, only for speed: mixed precision, channels_last, and loss and
accuracy counted on the device (one sync per epoch instead of one per batch).

The arithmetic is ``training.train_one_epoch``'s; read that one first. On a CPU none of this runs.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn


def precision_for_capability(major: int, minor: int = 0) -> str:
    """The autocast dtype for a CUDA GPU of compute capability ``major.minor``: "bfloat16" from 8.0
    (A100, H100, RTX 30xx and later), "float16" with a gradient scaler below that, for example on
    Colab's T4 (7.5), which has no bf16 arithmetic.

    Used by every notebook through `runtime.setup`, which prints it; on a CUDA GPU ``fit`` trains in it.
    """
    return "bfloat16" if (major, minor) >= (8, 0) else "float16"


def precision_for(device) -> str:
    """The autocast dtype ``fit`` uses on ``device``: by compute capability on CUDA
    (``precision_for_capability``), "float32" (no autocast) on CPU and MPS. Every notebook prints it
    with its settings.

    Used by every notebook through `runtime.setup`, which prints it; on a CUDA GPU ``fit`` trains in it.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return "float32"
    return precision_for_capability(*torch.cuda.get_device_capability(device))


def prepare_model(model: nn.Module) -> nn.Module:
    """Store convolution weights NHWC (channels_last), the layout tensor cores read fastest.

    Used by every notebook on a CUDA GPU through `training.fit`, `mnist.train_mnist_sgd` or
    `coffee_train.train_coffee_vgg16`; on a CPU too by the recipes of notebooks 03, 04 and 07
    (``cifar.train_cifar_adam``, ``recipes.train_cifar_vgg``), whose convolutions it makes about
    1.2x faster there.
    """
    return model.to(memory_format=torch.channels_last)


OUT_OF_MEMORY_ADVICE = (
    "The GPU ran out of memory with batches of {batch} images of {size}: lower `batch_size` in the "
    "notebook's parameters cell (in notebook 05 also `image_size`) and run the training cell again."
)


def train_one_epoch_fast(model: nn.Module, loader, optimizer, loss_fn, device, scheduler=None, precision=None):
    """``training.train_one_epoch`` with mixed precision and device-side counters.

    ``precision`` ("bfloat16", "float16" or "float32") overrides ``precision_for(device)``; the
    tests use it to run the autocast branch on a CPU. A CUDA out-of-memory error is raised again
    with what to lower.

    Used by every notebook on a CUDA GPU through `training.fit`, `mnist.train_mnist_sgd` or
    `coffee_train.train_coffee_vgg16`.
    """
    device = torch.device(device)
    model.train()
    dtype = precision or precision_for(device)
    autocast = (
        torch.autocast(device.type, dtype=getattr(torch, dtype)) if dtype != "float32" else contextlib.nullcontext()
    )
    # fp16 gradients underflow without a scaler; bf16 and fp32 need none
    scaler = torch.amp.GradScaler(device.type) if dtype == "float16" else None
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    batch_losses, seen = [], 0
    for x, y in loader:
        x = x.to(device, non_blocking=True)
        if device.type == "cuda" and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        y = y.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        try:
            with autocast:
                out = model(x)
                loss = loss_fn(out, y)
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
        except torch.OutOfMemoryError as error:
            size = "x".join(str(n) for n in x.shape[2:]) + " pixels" if x.dim() == 4 else f"shape {tuple(x.shape[1:])}"
            raise torch.OutOfMemoryError(OUT_OF_MEMORY_ADVICE.format(batch=len(x), size=size) + f"\n{error}") from error
        if scheduler is not None:
            scheduler.step()
        loss = loss.detach().float()
        batch_losses.append(loss)
        total_loss += loss * len(y)
        correct += (out.argmax(1) == y).sum()
        seen += len(y)
    losses = torch.stack(batch_losses).tolist() if batch_losses else []
    return total_loss.item() / max(seen, 1), correct.item() / max(seen, 1), losses
