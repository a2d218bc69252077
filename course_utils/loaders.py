"""Datasets and loaders for MNIST and CIFAR-10: the plain torchvision path students learn,
and a fast path that holds a whole split as uint8 tensors and works on whole batches."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision import datasets, io as tvio, transforms

from . import data

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)
CIFAR_HALF = (0.5, 0.5, 0.5)  # the [-1, 1] normalisation of notebook 03


@dataclass
class Split:
    """One split held in memory: uint8 images (N, C, H, W), int64 targets."""
    images: torch.Tensor
    targets: torch.Tensor
    classes: list[str]
    source: str

    def __len__(self) -> int:
        return len(self.targets)

    def subset(self, index) -> "Split":
        """The images at ``index`` (indices, a slice or a mask), in that order."""
        return Split(self.images[index], self.targets[index], self.classes, self.source)


def _mnist_dataset(train: bool, root, transform=None) -> datasets.MNIST:
    root = data.ensure_mnist(root)
    return datasets.MNIST(root, train=train, download=True, transform=transform)


def _cifar_dataset(train: bool, root, transform=None) -> tuple[Dataset, str]:
    where = data.ensure_cifar10(root)
    if where.source == data.SOURCE_CIFAR_OFFICIAL:
        return datasets.CIFAR10(where.path, train=train, download=False, transform=transform), where.source
    folder = where.path / ("train" if train else "test")
    ds = datasets.ImageFolder(folder, transform=transform)
    if ds.classes != data.CIFAR10_CLASSES:
        raise ValueError(f"{folder} has class folders {ds.classes}, expected {data.CIFAR10_CLASSES}.")
    return ds, where.source


def torchvision_dataset(name: str, train: bool, root=None, transform=None, limit: int | None = None,
                        seed: int = 0) -> tuple[Dataset, str]:
    """The plain path: torchvision's dataset with per-image transforms, subset by ``limit``.

    Returns (dataset, data_source). The subset is the same one ``load_split`` picks.
    """
    if name == "mnist":
        ds, source = _mnist_dataset(train, root, transform), data.SOURCE_MNIST
    elif name == "cifar10":
        ds, source = _cifar_dataset(train, root, transform)
    else:
        raise ValueError(f"Unknown dataset {name!r}: 'mnist' or 'cifar10'.")
    idx = data.balanced_indices(ds.targets, limit, seed)
    return (ds if len(idx) == len(ds) else Subset(ds, idx.tolist())), source


def _decode_jpegs(paths: list[str]) -> torch.Tensor:
    out = []
    for start in range(0, len(paths), 2048):
        raw = [tvio.read_file(p) for p in paths[start:start + 2048]]
        out.append(torch.stack(tvio.decode_jpeg(raw, mode=tvio.ImageReadMode.RGB)))
    return torch.cat(out) if out else torch.empty(0, 3, 32, 32, dtype=torch.uint8)


def load_split(name: str, train: bool, root=None, limit: int | None = None, seed: int = 0) -> Split:
    """Decode a split once into uint8 tensors (the fast path's data).

    The JPEG copy of CIFAR-10 is decoded once per machine and cached under the data root.
    """
    if name == "mnist":
        ds = _mnist_dataset(train, root)
        idx = data.balanced_indices(ds.targets, limit, seed)
        return Split(ds.data[idx].unsqueeze(1).contiguous(), ds.targets[idx].clone(), list(range(10)),
                     data.SOURCE_MNIST)
    if name != "cifar10":
        raise ValueError(f"Unknown dataset {name!r}: 'mnist' or 'cifar10'.")
    ds, source = _cifar_dataset(train, root)
    targets = torch.as_tensor(ds.targets)
    idx = data.balanced_indices(targets, limit, seed)
    if source == data.SOURCE_CIFAR_OFFICIAL:
        images = torch.from_numpy(ds.data).permute(0, 3, 1, 2)[idx].contiguous()
    else:
        cache = data.data_root(root) / "cache" / f"cifar10-jpeg-{'train' if train else 'test'}.pt"
        if cache.exists():
            images = torch.load(cache, weights_only=True)[idx]
        elif len(idx) == len(ds):
            images = _decode_jpegs([path for path, _ in ds.samples])
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".part")
            torch.save(images, tmp)
            os.replace(tmp, cache)
        else:
            images = _decode_jpegs([ds.samples[i][0] for i in idx.tolist()])
    return Split(images, targets[idx].clone(), data.CIFAR10_CLASSES, source)


def random_crop_flip(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """RandomCrop(size, padding) with zero fill and RandomHorizontalFlip(0.5) on a whole batch.

    Each image gets its own offsets and flip, as torchvision's per-image transforms would.
    """
    n, _, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(x.device)
    flip = (torch.rand(n, generator=generator) < 0.5).to(x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)                    # (n, h)
    cols = dx[:, None] + torch.arange(w, device=x.device)                    # (n, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (n, h, w, c)
    return out.permute(0, 3, 1, 2)


class TensorLoader:
    """Batches from a split held as uint8 tensors on the target device.

    Per epoch one seeded shuffle; per batch: crop/flip (if ``augment``), scale to [0, 1],
    normalise. No per-image PIL work and no worker processes, so small models stop waiting
    for data. Iterating yields (images, targets) like a DataLoader.
    """

    def __init__(self, split: Split, batch_size: int, mean, std, shuffle: bool = False,
                 augment: bool = False, padding: int = 4, device="cpu", seed: int = 0,
                 channels_last: bool = False):
        self.settings = dict(batch_size=batch_size, mean=mean, std=std, shuffle=shuffle, augment=augment,
                             padding=padding, device=device, seed=seed, channels_last=channels_last)
        self.device = torch.device(device)
        self.images = split.images.to(self.device)
        self.targets = split.targets.to(self.device)
        self.batch_size, self.shuffle, self.augment, self.padding = batch_size, shuffle, augment, padding
        self.mean = torch.tensor(mean, device=self.device).view(1, -1, 1, 1)
        self.std = torch.tensor(std, device=self.device).view(1, -1, 1, 1)
        self.generator = torch.Generator().manual_seed(seed)
        self.channels_last = channels_last
        self.dataset = split  # len(loader.dataset) is the number of images, as with a DataLoader

    def __len__(self) -> int:
        return -(-len(self.targets) // self.batch_size)

    def variant(self, split: Split | None = None, **changes) -> "TensorLoader":
        """A new loader with this one's settings, over ``split`` (default: the same images) and
        with ``changes`` (for example ``shuffle=False`` or ``augment=True``)."""
        return TensorLoader(split if split is not None else self.dataset, **{**self.settings, **changes})

    def __iter__(self):
        n = len(self.targets)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order.to(self.device)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            x = self.images[idx]
            if self.augment:
                x = random_crop_flip(x, self.padding, self.generator)
            x = (x.float().div_(255) - self.mean) / self.std
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            yield x, self.targets[idx]


def mnist_transform() -> transforms.Compose:
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(MNIST_MEAN, MNIST_STD)])


def make_loaders(name: str, cfg, *, mean, std, fast: bool = True, augment: bool = False,
                 permutation: torch.Tensor | None = None) -> tuple:
    """Train and test loaders for ``cfg`` (the notebook's settings), plain or fast.

    Both paths see the same seeded subset. Returns (train_loader, test_loader, data_source).
    """
    seed, limit_train, limit_test = cfg.seed, cfg.train_limit, cfg.test_limit
    if fast:
        train, test = (load_split(name, t, cfg.data_root, lim, seed) for t, lim in ((True, limit_train),
                                                                                     (False, limit_test)))
        if permutation is not None:
            train.images, test.images = (permute_pixels(s.images, permutation) for s in (train, test))
        device = cfg.device if not str(cfg.device).startswith("mps") else "cpu"
        return (TensorLoader(train, cfg.batch_size, mean, std, shuffle=True, augment=augment, device=device,
                             seed=seed),
                TensorLoader(test, 1000, mean, std, device=device, seed=seed),
                train.source)
    norm = [transforms.ToTensor(), transforms.Normalize(mean, std)]
    if permutation is not None:
        norm.append(transforms.Lambda(lambda t: permute_pixels(t, permutation)))
    aug = [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()] if augment else []
    train_ds, source = torchvision_dataset(name, True, cfg.data_root, transforms.Compose(aug + norm),
                                           limit_train, seed)
    test_ds, _ = torchvision_dataset(name, False, cfg.data_root, transforms.Compose(norm), limit_test, seed)
    g = torch.Generator().manual_seed(seed)
    return (DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True, generator=g),
            DataLoader(test_ds, batch_size=1000, shuffle=False),
            source)


def permute_pixels(images: torch.Tensor, permutation: torch.Tensor) -> torch.Tensor:
    """Apply one fixed permutation to the pixels of every image (any leading dims, C x H x W last)."""
    shape = images.shape
    return images.reshape(*shape[:-2], -1)[..., permutation].reshape(shape)
