"""What ``fit`` does for speed on a CUDA GPU: the autocast dtype of mixed precision, by the GPU's
compute capability, and the advice it gives when the GPU runs out of memory.

On a CPU or MPS the precision is float32: ``training.train_one_epoch`` then runs with autocast and
the gradient scaler disabled, and the tests run its bfloat16 and float16 paths on the CPU.
"""

from __future__ import annotations

import torch


def precision_for_capability(major: int, minor: int = 0) -> str:
    """The autocast dtype for a CUDA GPU of compute capability ``major.minor``: "bfloat16" from 8.0
    (A100, H100, RTX 30xx and later), "float16" with a gradient scaler below that, for example on
    Colab's T4 (7.5), which has no bf16 arithmetic."""
    return "bfloat16" if (major, minor) >= (8, 0) else "float16"


def precision_for(device) -> str:
    """The autocast dtype ``fit`` uses on ``device``: by compute capability on CUDA
    (``precision_for_capability``), "float32" (no autocast) on CPU and MPS. Every notebook prints it
    with its settings (``runtime.setup``)."""
    device = torch.device(device)
    if device.type != "cuda":
        return "float32"
    return precision_for_capability(*torch.cuda.get_device_capability(device))


OUT_OF_MEMORY_ADVICE = (
    "The GPU ran out of memory training on batches of {batch} images: lower `batch_size` in the "
    "notebook's parameters cell (in notebook 05 also `image_size`) and run the training cell again."
)
