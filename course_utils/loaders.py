"""Loaders for MNIST and CIFAR-10: the plain torchvision path students learn, and a fast path
that holds a whole split as uint8 tensors (``splits``) and works on whole batches."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import transforms

from . import data
from .splits import Split, cifar_dataset, load_split, torchvision_dataset


def random_crop_flip(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """RandomCrop(size, padding) with zero fill and RandomHorizontalFlip(0.5) on a whole batch.

    Each image gets its own offsets and flip, as torchvision's per-image transforms would.

    Introduced in notebook 04.
    """
    n, c, h, w = x.shape
    padded = F.pad(x, (padding,) * 4).permute(0, 2, 3, 1).contiguous()  # (n, H, W, c)
    big_h, big_w = padded.shape[1:3]
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(x.device)
    flip = (torch.rand(n, generator=generator) < 0.5).to(x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)  # (n, h)
    cols = dx[:, None] + torch.arange(w, device=x.device)  # (n, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    # Where each output pixel comes from, as a row of the batch's padded pixels: one index_select
    # of whole pixels took 0.23 ms where indexing with (image, row, column) took 0.39 ms (64 CIFAR
    # images, the course's 2-core CPU), with the same result in the same memory layout.
    first = torch.arange(n, device=x.device)[:, None, None] * (big_h * big_w)
    source = first + rows[:, :, None] * big_w + cols[:, None, :]  # (n, h, w)
    out = padded.view(-1, c).index_select(0, source.flatten()).view(n, h, w, c)
    return out.permute(0, 3, 1, 2)


class TensorLoader:
    """Batches from a split held as uint8 tensors on the target device.

    Per pass one shuffle; per batch: crop/flip (if ``augment``), scale to [0, 1], normalise. No
    per-image PIL work and no worker processes, so small models stop waiting for data. Like a
    DataLoader without a generator, each pass draws its random seed from torch's global RNG, so
    ``seed_everything(seed)`` before a training run repeats it exactly. ``max_batches`` ends every
    pass after that many batches (a notebook's ``max_steps``); ``variant`` keeps it.

    Introduced in notebook 01.
    """

    def __init__(
        self,
        split: Split,
        batch_size: int,
        mean,
        std,
        shuffle: bool = False,
        augment: bool = False,
        padding: int = 4,
        device="cpu",
        max_batches: int | None = None,
    ):
        self.settings = dict(
            batch_size=batch_size,
            mean=mean,
            std=std,
            shuffle=shuffle,
            augment=augment,
            padding=padding,
            device=device,
            max_batches=max_batches,
        )
        self.device = torch.device(device)
        self.images = split.images.to(self.device)
        self.targets = split.targets.to(self.device)
        self.batch_size, self.shuffle, self.augment, self.padding = batch_size, shuffle, augment, padding
        self.max_batches = max_batches
        self.mean = torch.tensor(mean, device=self.device).view(1, -1, 1, 1)
        self.std = torch.tensor(std, device=self.device).view(1, -1, 1, 1)
        self.dataset = split  # len(loader.dataset) is the number of images, as with a DataLoader

    def __len__(self) -> int:
        batches = -(-len(self.targets) // self.batch_size)
        return batches if self.max_batches is None else min(batches, self.max_batches)

    def variant(self, split: Split | None = None, **changes) -> TensorLoader:
        """A new loader with this one's settings, over ``split`` (default: the same images) and
        with ``changes`` (for example ``shuffle=False`` or ``augment=True``)."""
        return TensorLoader(split if split is not None else self.dataset, **{**self.settings, **changes})

    def __iter__(self):
        n = len(self.targets)
        generator = None
        if self.shuffle or self.augment:
            generator = torch.Generator().manual_seed(int(torch.randint(2**62, ()).item()))
        order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
        order = order.to(self.device)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            idx = order[start : start + self.batch_size]
            x = self.images[idx]
            if self.augment:
                x = random_crop_flip(x, self.padding, generator)
            x = (x.float().div_(255) - self.mean) / self.std
            yield x, self.targets[idx]


class FirstBatches:
    """The first ``max_batches`` batches of a DataLoader on every pass (the plain path's
    ``max_steps``); ``len`` and ``dataset`` answer as the DataLoader's would for those batches.
    """

    def __init__(self, loader: DataLoader, max_batches: int):
        self.loader, self.max_batches, self.dataset = loader, max_batches, loader.dataset

    def __len__(self) -> int:
        return min(len(self.loader), self.max_batches)

    def __iter__(self):
        return itertools.islice(iter(self.loader), self.max_batches)


def first_batches(loader, max_batches: int | None):
    """``loader`` capped at ``max_batches`` batches a pass; unchanged when ``max_batches`` is None.

    Introduced in notebook 05 (its published-test loader); the loader factories apply it too.
    """
    if max_batches is None:
        return loader
    if isinstance(loader, TensorLoader):
        return loader.variant(max_batches=max_batches)
    return FirstBatches(loader, max_batches)


def permute_pixels(images: torch.Tensor, permutation: torch.Tensor) -> torch.Tensor:
    """Apply one fixed permutation to the pixels of every image (any leading dims, C x H x W last).

    Introduced in notebook 02.
    """
    shape = images.shape
    return images.reshape(*shape[:-2], -1)[..., permutation].reshape(shape)


def mnist_loaders(
    data_root=None,
    *,
    batch_size: int,
    seed: int = 0,
    device="cpu",
    fast: bool = True,
    train_limit: int | None = None,
    test_limit: int | None = None,
    permutation=None,
    max_batches: int | None = None,
):
    """(train, test, data_source) for MNIST (notebooks 01 and 02), optionally with every image's
    pixels permuted. ``fast=False`` is torchvision's dataset with a per-image transform and a
    DataLoader; ``fast=True`` the same images as uint8 tensors (``TensorLoader``). ``max_batches``
    caps every pass of both loaders (a notebook's ``max_steps``)."""
    mean, std = data.MNIST_MEAN, data.MNIST_STD
    if fast:
        train, test = (
            load_split("mnist", t, data_root, lim, seed) for t, lim in ((True, train_limit), (False, test_limit))
        )
        if permutation is not None:
            train.images, test.images = (permute_pixels(s.images, permutation) for s in (train, test))
        dev = _tensor_device(device)
        return (
            TensorLoader(train, batch_size, mean, std, shuffle=True, device=dev, max_batches=max_batches),
            TensorLoader(test, 1000, mean, std, device=dev, max_batches=max_batches),
            train.source,
        )
    steps = [transforms.ToTensor(), transforms.Normalize(mean, std)]
    if permutation is not None:
        steps.append(transforms.Lambda(lambda t: permute_pixels(t, permutation)))
    train_ds, source = torchvision_dataset("mnist", True, data_root, transforms.Compose(steps), train_limit, seed)
    test_ds, _ = torchvision_dataset("mnist", False, data_root, transforms.Compose(steps), test_limit, seed)
    return (
        first_batches(DataLoader(train_ds, batch_size=batch_size, shuffle=True), max_batches),
        first_batches(DataLoader(test_ds, batch_size=1000, shuffle=False), max_batches),
        source,
    )


def cifar_loaders(
    data_root=None,
    *,
    batch_size: int,
    mean,
    std,
    seed: int = 0,
    device="cpu",
    fast: bool = True,
    augment: bool = False,
    train_limit: int | None = None,
    val_fraction: float = 0.1,
    test_limit: int | None = None,
    max_batches: int | None = None,
    eval_batch_size: int = 1000,
):
    """(train, validation, test, data_source) for CIFAR-10 (notebooks 03, 04, 06, 07).

    ``train_limit`` training images (all when None) are split, seeded and class-balanced, into
    training and ``val_fraction`` validation images. Validation and test get the test transform
    (normalise only); only training is augmented (``augment``: random crop with padding 4, flip).
    ``max_batches`` caps every pass of all three loaders (a notebook's ``max_steps``).
    ``eval_batch_size`` images make a validation or test batch: the size changes the speed and the
    memory of an evaluation, not its result (a dry run uses a few images, a capped pass proves the path).
    """
    where = data.ensure_cifar10(data_root)  # verified once for the three splits
    source = where.source
    targets = cifar_dataset(True, data_root, where=where)[0].targets
    train_idx, val_idx = data.train_val_indices(targets, train_limit, val_fraction, seed)
    if fast:
        dev = _tensor_device(device)
        train = TensorLoader(
            load_split("cifar10", True, data_root, indices=train_idx, where=where),
            batch_size,
            mean,
            std,
            shuffle=True,
            augment=augment,
            device=dev,
            max_batches=max_batches,
        )
        evaluation = dict(batch_size=eval_batch_size, mean=mean, std=std, device=dev, max_batches=max_batches)
        val = TensorLoader(load_split("cifar10", True, data_root, indices=val_idx, where=where), **evaluation)
        test = TensorLoader(load_split("cifar10", False, data_root, test_limit, seed, where=where), **evaluation)
        return train, val, test, source
    test_tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    crop_flip = [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()] if augment else []
    train_tf = transforms.Compose(crop_flip + list(test_tf.transforms))
    train_ds, _ = torchvision_dataset("cifar10", True, data_root, train_tf, indices=train_idx, where=where)
    val_ds, _ = torchvision_dataset("cifar10", True, data_root, test_tf, indices=val_idx, where=where)
    test_ds, _ = torchvision_dataset("cifar10", False, data_root, test_tf, test_limit, seed, where=where)
    return (
        first_batches(DataLoader(train_ds, batch_size=batch_size, shuffle=True), max_batches),
        first_batches(DataLoader(val_ds, batch_size=eval_batch_size), max_batches),
        first_batches(DataLoader(test_ds, batch_size=eval_batch_size), max_batches),
        source,
    )


def _tensor_device(device) -> str:
    # Advanced indexing of uint8 tensors is not supported on every MPS build; batches move to MPS in fit.
    return "cpu" if str(device).startswith("mps") else str(device)
