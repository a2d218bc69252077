"""Reading MNIST and CIFAR-10: torchvision's datasets with per-image transforms (the plain path),
and whole splits decoded once into uint8 tensors (what the fast path's ``TensorLoader`` holds)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset, Subset
from torchvision import datasets
from torchvision import io as tvio

from . import data, files


@dataclass
class Split:
    """One split held in memory: uint8 images (N, C, H, W), int64 targets.

    Used by notebook 01 through `loaders.load_split`.
    """

    images: torch.Tensor
    targets: torch.Tensor
    classes: list[str]
    source: str

    def __len__(self) -> int:
        return len(self.targets)

    def subset(self, index) -> Split:
        """The images at ``index`` (indices, a slice or a mask), in that order."""
        return Split(self.images[index], self.targets[index], self.classes, self.source)


def _mnist_dataset(train: bool, root, transform=None) -> datasets.MNIST:
    root = data.ensure_mnist(root)
    return datasets.MNIST(root, train=train, download=True, transform=transform)


def cifar_dataset(train: bool, root, transform=None, where=None) -> tuple[Dataset, str]:
    """torchvision's CIFAR-10 dataset at ``where`` (``data.ensure_cifar10(root)`` when None: a
    caller that reads several splits verifies the files once)."""
    where = where or data.ensure_cifar10(root)
    if where.source == data.SOURCE_CIFAR_OFFICIAL:
        return datasets.CIFAR10(where.path, train=train, download=False, transform=transform), where.source
    folder = where.path / ("train" if train else "test")
    ds = datasets.ImageFolder(folder, transform=transform)
    if ds.classes != data.CIFAR10_CLASSES:
        raise ValueError(f"{folder} has class folders {ds.classes}, expected {data.CIFAR10_CLASSES}.")
    return ds, where.source


def torchvision_dataset(
    name: str, train: bool, root=None, transform=None, limit: int | None = None, seed: int = 0, indices=None, where=None
) -> tuple[Dataset, str]:
    """The plain path: torchvision's dataset with per-image transforms.

    Returns (dataset, data_source): the images at ``indices`` when given, else a seeded,
    class-balanced subset of ``limit`` (the same images ``load_split`` picks).

    Used by notebooks 01 and 03 through `loaders.mnist_loaders` and `loaders.cifar_loaders` (``fast=False``).
    """
    if name == "mnist":
        ds, source = _mnist_dataset(train, root, transform), data.SOURCE_MNIST
    elif name == "cifar10":
        ds, source = cifar_dataset(train, root, transform, where)
    else:
        raise ValueError(f"Unknown dataset {name!r}: 'mnist' or 'cifar10'.")
    idx = torch.as_tensor(indices) if indices is not None else data.balanced_indices(ds.targets, limit, seed)
    return (ds if len(idx) == len(ds) else Subset(ds, idx.tolist())), source


def _decode_jpegs(paths: list[str]) -> torch.Tensor:
    out = []
    for start in range(0, len(paths), 2048):
        raw = [tvio.read_file(p) for p in paths[start : start + 2048]]
        out.append(torch.stack(tvio.decode_jpeg(raw, mode=tvio.ImageReadMode.RGB)))
    return torch.cat(out) if out else torch.empty(0, 3, 32, 32, dtype=torch.uint8)


def load_split(
    name: str, train: bool, root=None, limit: int | None = None, seed: int = 0, indices=None, where=None
) -> Split:
    """Decode a split once into uint8 tensors (the fast path's data): the images at ``indices``
    when given, else a seeded, class-balanced subset of ``limit`` (all when None).

    The JPEG copy of CIFAR-10 is decoded once per machine and cached under the data root.
    ``where``: CIFAR-10's ``data.ensure_cifar10`` location, when the caller has verified it already.

    Introduced in notebook 01.
    """

    def pick(targets):
        return torch.as_tensor(indices) if indices is not None else data.balanced_indices(targets, limit, seed)

    if name == "mnist":
        ds = _mnist_dataset(train, root)
        idx = pick(ds.targets)
        return Split(
            ds.data[idx].unsqueeze(1).contiguous(), ds.targets[idx].clone(), list(range(10)), data.SOURCE_MNIST
        )
    if name != "cifar10":
        raise ValueError(f"Unknown dataset {name!r}: 'mnist' or 'cifar10'.")
    ds, source = cifar_dataset(train, root, where=where)
    targets = torch.as_tensor(ds.targets)
    idx = pick(targets)
    if source == data.SOURCE_CIFAR_OFFICIAL:
        images = torch.from_numpy(ds.data).permute(0, 3, 1, 2)[idx].contiguous()
    else:
        cache = files.data_root(root) / "cache" / f"cifar10-jpeg-{'train' if train else 'test'}.pt"
        if cache.exists():
            images = torch.load(cache, weights_only=True)[idx]
        elif len(idx) == len(ds):
            images = _decode_jpegs([path for path, _ in ds.samples])
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f"{cache.name}.{os.getpid()}.part")
            torch.save(images, tmp)
            os.replace(tmp, cache)
        else:
            images = _decode_jpegs([ds.samples[i][0] for i in idx.tolist()])
    return Split(images, targets[idx].clone(), data.CIFAR10_CLASSES, source)
