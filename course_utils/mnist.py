"""Notebooks 01 and 02, MNIST: the training recipe both use, the pixel permutation, and the
label-sorted loader of the shuffling experiment."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .loaders import TensorLoader
from .training import History, fit


def train_mnist_sgd(
    model: torch.nn.Module, train_loader, *, epochs: int, lr: float, momentum: float, device="cpu"
) -> History:
    """The course's MNIST recipe (01, 02): SGD with momentum, NLL loss on log-softmax outputs.

    No validation loader: nothing is chosen between epochs (one epoch at every profile), so the
    test split, scored afterwards, is used once.
    """
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    return fit(model, train_loader, None, optimizer, epochs, loss_fn=F.nll_loss, device=device)


def pixel_permutation(seed: int, n_pixels: int = 28 * 28) -> torch.Tensor:
    """One fixed random order of the pixels, the same for every image (02)."""
    return torch.randperm(n_pixels, generator=torch.Generator().manual_seed(seed))


def label_sorted_loader(loader: TensorLoader) -> TensorLoader:
    """The same images in order of their labels and never shuffled: all 0s, then all 1s, ... (01)"""
    split = loader.dataset
    return loader.variant(split.subset(split.targets.argsort(stable=True)), shuffle=False)
