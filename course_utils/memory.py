"""What a training run needs in accelerator memory, estimated before it starts (05 prints it for
its ``full`` run, so that a student on a small GPU knows what to lower before an out-of-memory error).
"""

from __future__ import annotations

import torch
from torch import nn


def training_memory(
    model: nn.Module, image_size: int, batch_size: int, optimizer_states: int = 2, in_channels: int = 3
) -> dict[str, int]:
    """Bytes for training ``model`` in float32 on batches of ``batch_size`` images of ``image_size``
    pixels (``in_channels`` 3: RGB): weights, gradients, optimizer state (Adam keeps 2 tensors per
    weight, SGD with momentum 1), and the activations autograd keeps for the backward pass.

    Activations are counted as every layer's output for one image (measured with forward hooks on a
    real forward pass) times the batch size: a lower bound of what autograd saves, and the part that
    grows with ``batch_size`` and ``image_size``. Mixed precision roughly halves it; the CUDA
    context and the allocator's caching come on top.

    Introduced in notebook 05.
    """
    trainable = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    per_image = 0

    def count(_layer, _inputs, output):
        nonlocal per_image
        if isinstance(output, torch.Tensor):
            per_image += output.numel() * output.element_size()

    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(count) for m in leaves]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, in_channels, image_size, image_size, device=next(model.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    parts = {
        "weights": weights,
        "gradients": trainable,
        "optimizer state": optimizer_states * trainable,
        "activations": per_image * batch_size,
    }
    parts["total"] = sum(parts.values())
    return parts


def memory_table(parts: dict[str, int]) -> str:
    """``training_memory``'s parts as lines of GiB. Introduced in notebook 05."""
    return "\n".join(f"  {name:<16} {size / 2**30:6.2f} GiB" for name, size in parts.items())
