"""Timing training steps: seconds per step and images per second by batch size, measured on the
device a notebook runs on (notebook 05 for VGG16 on the coffee beans, notebook 06 for batch size 1).

Timings vary with the machine's load; the notebooks print them and never compare them with a
threshold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn


def time_batch_sizes(
    model_fn: Callable[[], nn.Module],
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_sizes: Sequence[int],
    lr: float,
    *,
    optimizer_fn: Callable[[nn.Module, float], torch.optim.Optimizer],
    steps: int = 2,
    device="cpu",
    epoch_images: int | None = None,
) -> list[dict]:
    """Seconds per optimizer step and images per second for each batch size.

    Each size gets a fresh model from ``model_fn`` (same seed) and its optimizer from
    ``optimizer_fn(model, lr)``, one warm-up step and then ``steps`` timed steps on the given
    (already normalised) images. ``epoch_images`` turns the rate into an estimated epoch time.

    Introduced in notebook 05; notebook 06 times batch size 1 with it.
    """
    device = torch.device(device)
    rows = []
    for bs in batch_sizes:
        torch.manual_seed(0)
        model = model_fn().to(device).train()
        optimizer = optimizer_fn(model, lr)
        times = []
        for step in range(steps + 1):
            idx = torch.arange(step * bs, (step + 1) * bs) % len(images)
            x, y = images[idx].to(device), labels[idx].to(device)
            t0 = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        per_step = sum(times[1:]) / steps  # the first step pays for allocations
        row = {"batch_size": bs, "seconds_per_step": per_step, "images_per_second": bs / per_step}
        if epoch_images:
            row["epoch_seconds_est"] = -(-epoch_images // bs) * per_step
        rows.append(row)
        del model, optimizer
    return rows
