"""What ``fit`` adds on a CUDA GPU, only for speed: mixed precision, channels_last, and loss and
accuracy counted on the device (one sync per epoch instead of one per batch).

The arithmetic is ``training.train_one_epoch``'s; read that one first. On a CPU none of this runs.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn


def precision_for(device) -> str:
    """The autocast dtype for ``device``: "bfloat16" on GPUs of compute capability 8.0 or more
    (A100, H100, RTX 30xx), "float16" (with a gradient scaler) on older ones such as Colab's T4
    (7.5), which has no bf16 arithmetic, and "float32" (no autocast) on CPU and MPS.

    Introduced in every notebook on a GPU (through fit).
    """
    device = torch.device(device)
    if device.type != "cuda":
        return "float32"
    major, _ = torch.cuda.get_device_capability(device)
    return "bfloat16" if major >= 8 else "float16"


def prepare_model(model: nn.Module) -> nn.Module:
    """Store convolution weights NHWC (channels_last), the layout tensor cores read fastest.

    Introduced in every notebook on a GPU (through fit).
    """
    return model.to(memory_format=torch.channels_last)


def train_one_epoch_fast(model: nn.Module, loader, optimizer, loss_fn, device, scheduler=None):
    """``training.train_one_epoch`` with mixed precision and device-side counters.

    Introduced in every notebook on a GPU (through fit).
    """
    device = torch.device(device)
    model.train()
    dtype = precision_for(device)
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
        if scheduler is not None:
            scheduler.step()
        loss = loss.detach().float()
        batch_losses.append(loss)
        total_loss += loss * len(y)
        correct += (out.argmax(1) == y).sum()
        seen += len(y)
    losses = torch.stack(batch_losses).tolist() if batch_losses else []
    return total_loss.item() / max(seen, 1), correct.item() / max(seen, 1), losses
