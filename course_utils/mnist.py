"""The MNIST recipe shared by notebooks 01 and 02: same data, same optimiser, same budget."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .loaders import MNIST_MEAN, MNIST_STD, TensorLoader, make_loaders
from .models import CNN, FC2Layer
from .runtime import seed_everything
from .train import History, fit

LR, MOMENTUM = 0.01, 0.5


def mnist_loaders(cfg, permutation: torch.Tensor | None = None, fast: bool = True):
    """(train, test, data_source) for MNIST, optionally with every image's pixels permuted."""
    return make_loaders("mnist", cfg, mean=MNIST_MEAN, std=MNIST_STD, fast=fast, permutation=permutation)


def train_mnist(model: torch.nn.Module, train_loader, test_loader, cfg, progress: bool | None = None) -> History:
    """The course's MNIST training: SGD lr 0.01 momentum 0.5, NLL loss on log-softmax outputs.

    The seed is reset first, so FC and CNN start from the same random stream in every notebook.
    """
    seed_everything(cfg.seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    return fit(model, train_loader, test_loader, optimizer, cfg.epochs, loss_fn=F.nll_loss,
               device=cfg.device, progress=progress)


def fc_and_cnn(cfg) -> dict[str, torch.nn.Module]:
    """The two networks with (almost) the same parameter budget, built under the run's seed."""
    seed_everything(cfg.seed)
    return {"FC2Layer": FC2Layer(784, 8, 10), "CNN": CNN(28, n_feature=6, output_size=10)}


def pixel_permutation(seed: int, n_pixels: int = 28 * 28) -> torch.Tensor:
    """One fixed random order of the pixels, the same for every image."""
    return torch.randperm(n_pixels, generator=torch.Generator().manual_seed(seed))


def label_sorted_loader(loader: TensorLoader) -> TensorLoader:
    """The same images in order of their labels and never shuffled: all 0s, then all 1s, ..."""
    split = loader.dataset
    return loader.variant(split.subset(split.targets.argsort(stable=True)), shuffle=False)
