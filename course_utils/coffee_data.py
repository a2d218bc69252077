"""Notebook 05, the coffee-bean data: listing the class folders, finding the published split's
duplicates, a clean stratified train/validation/test split, the transforms, cached decoding.

The published Kaggle split leaks: every ``test/`` image is a pixel-exact copy of a ``train/``
image, so the helpers here work on *distinct* images (one per pixel hash) and split those.
"""

from __future__ import annotations

import os
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets
from torchvision.transforms import v2

from . import data, files
from .images import load_rgb, pixel_hash
from .loaders import first_batches

# VGG's customary ImageNet statistics. Training from scratch would work with the coffee photos'
# own statistics too; what matters is that training and testing normalise the same way.
MEAN, STD = data.IMAGENET_MEAN, data.IMAGENET_STD


# ---------------------------------------------------------------- listing the folders


@dataclass(frozen=True)
class Sample:
    """One image file: where it is, its class index, and the published split it came from."""

    path: Path
    label: int
    split: str  # "train" or "test" in the published layout

    def rel(self) -> str:
        """The path relative to the dataset folder (``train/Dark/dark (1).png``), for display."""
        return f"{self.split}/{self.path.parent.name}/{self.path.name}"


def class_names(root: Path) -> list[str]:
    """Class names = the folder names under ``root/train``, sorted (what ImageFolder uses);
    a single class or a class folder without images is a clear error."""
    return files.check_class_folders(Path(root) / "train")


def list_samples(root: Path, split: str, classes: list[str] | None = None) -> list[Sample]:
    """Every image of one published split, sorted, labelled by its folder's name.

    Uses ImageFolder's building blocks (``find_classes``, ``make_dataset``) and takes the class
    from ``path.parent.name``: pathlib works on every OS, unlike splitting on a backslash.
    """
    folder = Path(root) / split
    classes = classes or class_names(root)
    class_to_idx = {name: i for i, name in enumerate(classes)}
    pairs = datasets.folder.make_dataset(str(folder), class_to_idx, extensions=tuple(data.IMAGE_SUFFIXES))
    samples = [Sample(Path(p), class_to_idx[Path(p).parent.name], split) for p, _ in pairs]
    return sorted(samples, key=lambda s: (s.label, s.path.name))


def counts(samples: list[Sample], classes: list[str]) -> dict[str, int]:
    """Images per class."""
    return {name: sum(s.label == i for s in samples) for i, name in enumerate(classes)}


# ---------------------------------------------------------------- duplicates


def hash_files(paths: list[Path], workers: int | None = None) -> list[str]:
    """``images.pixel_hash`` of every file, in order; PNG decoding releases the GIL, so threads help."""
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return list(pool.map(pixel_hash, paths))


@dataclass
class Duplicates:
    """What hashing the decoded pixels of every file found."""

    hashes: dict[Path, str]  # file -> pixel hash
    groups: dict[str, list[Sample]]  # pixel hash -> files with exactly those pixels
    distinct: list[Sample]  # one file per distinct image (a train/ file if any)
    test_in_train: list[tuple[Sample, Sample]]  # (published test file, a train/ file with its pixels)
    train_repeat_groups: list[list[Sample]] = field(default_factory=list)  # >1 train/ files, same pixels

    @property
    def train_repeats(self) -> int:
        """Extra copies inside train/ (a group of 3 identical files counts 2)."""
        return sum(len(g) - 1 for g in self.train_repeat_groups)

    def summary(self) -> str:
        n_files = len(self.hashes)
        n_test = sum(1 for s in self.hashes if s.parent.parent.name == "test")
        return (
            f"files hashed:                          {n_files}\n"
            f"distinct images:                       {len(self.distinct)}\n"
            f"published test images that are copies of train images: "
            f"{len(self.test_in_train)} of {n_test}\n"
            f"repeats inside train/:                 {self.train_repeats} "
            f"(in {len(self.train_repeat_groups)} groups)"
        )


def find_duplicates(samples: list[Sample], workers: int | None = None) -> Duplicates:
    """Group files by the hash of their decoded pixels (file bytes differ between copies).

    Raises if two files with the same pixels carry different labels: then the labels, not the
    split, would be the problem.
    """
    hashes = dict(zip((s.path for s in samples), hash_files([s.path for s in samples], workers)))
    groups: dict[str, list[Sample]] = {}
    for s in samples:
        groups.setdefault(hashes[s.path], []).append(s)
    distinct, test_in_train, repeats = [], [], []
    for members in groups.values():
        if len({m.label for m in members}) > 1:
            raise ValueError("Identical images with different labels: " + ", ".join(m.rel() for m in members))
        train = [m for m in members if m.split == "train"]
        distinct.append(train[0] if train else members[0])
        if train:
            test_in_train += [(m, train[0]) for m in members if m.split == "test"]
        if len(train) > 1:
            repeats.append(train)
    distinct.sort(key=lambda s: (s.label, s.split, s.path.name))
    return Duplicates(hashes, groups, distinct, test_in_train, repeats)


# ---------------------------------------------------------------- the clean split


def stratified_split(samples: list[Sample], fractions=(0.7, 0.15, 0.15), seed: int = 0) -> list[list[Sample]]:
    """Split *distinct* images into parts (train, validation, test by default), per class, with a
    seeded shuffle.

    Each class contributes ``round(fraction * n)`` images to every part after the first, and the
    rest to the first, so every part keeps the class proportions and the same seed always gives
    the same split. Distinct images are unique, so no image can be on two sides.
    """
    if any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be positive and add up to 1, got {fractions}.")
    rng = random.Random(seed)
    parts: list[list[Sample]] = [[] for _ in fractions]
    for label in sorted({s.label for s in samples}):
        members = sorted((s for s in samples if s.label == label), key=lambda s: s.rel())
        rng.shuffle(members)
        sizes = [round(f * len(members)) for f in fractions[1:]]
        start = len(members) - sum(sizes)
        parts[0] += members[:start]
        for part, size in zip(parts[1:], sizes):
            part += members[start : start + size]
            start += size
    return [sorted(part, key=lambda s: (s.label, s.rel())) for part in parts]


def limit(samples: list[Sample], n: int | None, seed: int = 0) -> list[Sample]:
    """A seeded, class-balanced subset of ``n`` samples (all when None): what a profile trains on."""
    idx = data.balanced_indices([s.label for s in samples], n, seed)
    return [samples[i] for i in idx.tolist()]


def overlap(a: list[Sample], b: list[Sample], hashes: dict[Path, str]) -> int:
    """How many distinct images (by pixel hash) appear on both sides."""
    return len({hashes[s.path] for s in a} & {hashes[s.path] for s in b})


# ---------------------------------------------------------------- transforms and datasets


def train_transform(image_size: int, mean=MEAN, std=STD) -> v2.Compose:
    """Resize, random flips, scale to [0, 1], normalise.

    Flips only: a bean photographed from above is the same bean mirrored, so both flips keep
    the label. No colour jitter: the roast level *is* the colour, jitter would change the label.
    """
    return v2.Compose(
        [
            v2.ToImage(),
            v2.Resize((image_size, image_size), antialias=True),
            v2.RandomHorizontalFlip(),
            v2.RandomVerticalFlip(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean, std),
        ]
    )


def eval_transform(image_size: int, mean=MEAN, std=STD) -> v2.Compose:
    """Resize and normalise only, for validation, test and single images: evaluated images must be
    seen the same way every time."""
    return v2.Compose(
        [
            v2.ToImage(),
            v2.Resize((image_size, image_size), antialias=True),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean, std),
        ]
    )


def random_transforms(transform) -> list[str]:
    """Names of the random transforms in a Compose (empty for a deterministic pipeline)."""
    steps = getattr(transform, "transforms", [transform])
    return [type(t).__name__ for t in steps if type(t).__name__.startswith("Random")]


class CoffeeImages(Dataset):
    """(path, label) samples read with ``images.load_rgb`` and a transform: the plain path."""

    def __init__(self, samples: list[Sample], transform=None):
        self.samples, self.transform = list(samples), transform
        self.targets = [s.label for s in samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        image = load_rgb(self.samples[i].path)
        return (self.transform(image) if self.transform else image), self.samples[i].label


def decode(samples: list[Sample], image_size: int, workers: int | None = None) -> torch.Tensor:
    """Decode and resize every image once into a uint8 tensor (N, 3, S, S).

    Decoding a 224x224 PNG costs more than a flip, so caching the resized pixels keeps each
    epoch's work to the model; the result is what ``ToImage`` + ``Resize`` would give per image.
    """
    resize = v2.Compose([v2.ToImage(), v2.Resize((image_size, image_size), antialias=True)])

    def one(s: Sample) -> torch.Tensor:
        return resize(load_rgb(s.path)).as_subclass(torch.Tensor)

    if not samples:
        return torch.empty(0, 3, image_size, image_size, dtype=torch.uint8)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return torch.stack(list(pool.map(one, samples)))


class CachedImages(Dataset):
    """Images already decoded to uint8 at the training size, with a per-image transform.

    The same transforms as ``CoffeeImages`` apply (their Resize is then a no-op), so the random
    flips stay per image and the test pipeline stays deterministic.
    """

    def __init__(self, images: torch.Tensor, labels, transform=None, samples: list[Sample] | None = None):
        self.images, self.transform, self.samples = images, transform, samples
        self.targets = torch.as_tensor(labels)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int):
        image = self.images[i]
        return (self.transform(image) if self.transform else image), int(self.targets[i])


def cached_dataset(samples: list[Sample], image_size: int, transform) -> CachedImages:
    """``decode`` the samples and wrap them with ``transform``."""
    return CachedImages(decode(samples, image_size), [s.label for s in samples], transform, samples)


def make_loaders(
    train_set: Dataset, *eval_sets: Dataset, batch_size: int, eval_batch_size: int = 64, max_batches: int | None = None
) -> list:
    """A shuffled training loader and an ordered loader for each evaluation set; no worker
    processes, since the data are already decoded and the model is the bottleneck. The shuffle
    draws from torch's global RNG, so ``seed_everything`` before training repeats the run.
    ``max_batches`` caps every pass of each loader (the notebook's ``max_steps``)."""
    loaders = [DataLoader(train_set, batch_size=batch_size, shuffle=True)]
    loaders += [DataLoader(s, batch_size=eval_batch_size, shuffle=False) for s in eval_sets]
    return [first_batches(loader, max_batches) for loader in loaders]
