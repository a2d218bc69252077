"""Notebook 05, coffee beans: listing the class folders, finding the published split's
duplicates, a clean stratified split, train/test transforms, cached decoding, the VGG16 recipe
and the batch-size timing experiment.

The published Kaggle split leaks: every ``test/`` image is a pixel-exact copy of a ``train/``
image, so the helpers here work on *distinct* images (one per pixel hash) and split those.
"""
from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets
from torchvision.transforms import v2

from . import data
from .images import load_rgb, pixel_hash
from .train import History, fit

# VGG's customary ImageNet statistics. Training from scratch would work with the coffee photos'
# own statistics too; what matters is that training and testing normalise the same way.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
NOTEBOOK = "05_coffee_beans_vgg16"


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
    return data.check_class_folders(Path(root) / "train")


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
    hashes: dict[Path, str]                      # file -> pixel hash
    groups: dict[str, list[Sample]]              # pixel hash -> files with exactly those pixels
    distinct: list[Sample]                       # one file per distinct image (a train/ file if any)
    test_in_train: list[tuple[Sample, Sample]]   # (published test file, a train/ file with its pixels)
    train_repeat_groups: list[list[Sample]] = field(default_factory=list)  # >1 train/ files, same pixels

    @property
    def train_repeats(self) -> int:
        """Extra copies inside train/ (a group of 3 identical files counts 2)."""
        return sum(len(g) - 1 for g in self.train_repeat_groups)

    def summary(self) -> str:
        n_files = len(self.hashes)
        n_test = sum(1 for s in self.hashes if s.parent.parent.name == "test")
        return (f"files hashed:                          {n_files}\n"
                f"distinct images:                       {len(self.distinct)}\n"
                f"published test images that are copies of train images: "
                f"{len(self.test_in_train)} of {n_test}\n"
                f"repeats inside train/:                 {self.train_repeats} "
                f"(in {len(self.train_repeat_groups)} groups)")


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

def stratified_split(samples: list[Sample], test_fraction: float = 0.2,
                     seed: int = 0) -> tuple[list[Sample], list[Sample]]:
    """Split *distinct* images into train and test, per class, with a seeded shuffle.

    Each class contributes ``round(test_fraction * n)`` images to the test side, so both sides
    keep the class proportions; the same seed always gives the same split.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}.")
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted({s.label for s in samples}):
        members = sorted((s for s in samples if s.label == label), key=lambda s: s.rel())
        rng.shuffle(members)
        n_test = round(test_fraction * len(members))
        test += members[:n_test]
        train += members[n_test:]
    key = lambda s: (s.label, s.rel())  # noqa: E731
    return sorted(train, key=key), sorted(test, key=key)


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
    return v2.Compose([v2.ToImage(), v2.Resize((image_size, image_size), antialias=True),
                       v2.RandomHorizontalFlip(), v2.RandomVerticalFlip(),
                       v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])


def test_transform(image_size: int, mean=MEAN, std=STD) -> v2.Compose:
    """Resize and normalise only: the test images must be seen the same way every time."""
    return v2.Compose([v2.ToImage(), v2.Resize((image_size, image_size), antialias=True),
                       v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])


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


def loaders(train_set: Dataset, test_set: Dataset, batch_size: int, seed: int = 0,
            test_batch_size: int = 64) -> tuple[DataLoader, DataLoader]:
    """Shuffled training loader (seeded) and an ordered test loader; no worker processes, since
    the data are already decoded and the model is the bottleneck."""
    g = torch.Generator().manual_seed(seed)
    return (DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=g),
            DataLoader(test_set, batch_size=test_batch_size, shuffle=False))


# ---------------------------------------------------------------- training

def init_vgg_(model: nn.Module) -> nn.Module:
    """He (Kaiming) initialisation for a VGG without BatchNorm, as torchvision's VGG does:
    convolutions normal with std sqrt(2 / fan_out), linear layers normal(0, 0.01), biases 0.

    PyTorch's default init shrinks the signal a little at each of the 13 ReLU convolutions, so
    a BatchNorm-free VGG16 then starts with near-constant outputs and learns slowly.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    return model


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam; the fused kernel where this torch has one. For VGG16's 134M parameters the
    default (per-tensor) Adam step alone took ~3 s on a 2-core CPU, the fused one ~0.5 s."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch: no fused Adam on this device
        return torch.optim.Adam(model.parameters(), lr=lr)


def checkpoint_path(cfg, checkpoint_dir: str | os.PathLike | None = None) -> Path:
    """``checkpoints/05_coffee_beans_vgg16-<profile>-seed<seed>.pt`` under the repository
    (git-ignored), or under ``checkpoint_dir`` when given."""
    folder = Path(checkpoint_dir) if checkpoint_dir else data.REPO_ROOT / "checkpoints"
    return folder / f"{NOTEBOOK}-{cfg.profile}-seed{cfg.seed}.pt"


def relative_to_repo(path: Path) -> str:
    """The path relative to the repository when it lies inside it (what notebooks print)."""
    try:
        return Path(path).resolve().relative_to(data.REPO_ROOT).as_posix()
    except ValueError:
        return Path(path).as_posix()


def train_vgg16(model: nn.Module, train_loader, test_loader, cfg, checkpoint: Path,
                save_last: bool = True) -> History:
    """The notebook's recipe: Adam at ``cfg.lr``, cross-entropy, ``cfg.epochs`` epochs with the
    engine's ``fit``, the best model by test accuracy kept at ``checkpoint``."""
    optimizer = make_optimizer(model, cfg.lr)
    return fit(model, train_loader, test_loader, optimizer, cfg.epochs, loss_fn=F.cross_entropy,
               device=cfg.device, checkpoint_path=checkpoint, save_last=save_last)


# ---------------------------------------------------------------- experiments and figures

def time_batch_sizes(model_fn, images: torch.Tensor, labels: torch.Tensor, batch_sizes, lr: float,
                     steps: int = 2, device="cpu", epoch_images: int | None = None) -> list[dict]:
    """Seconds per optimizer step and images per second for each batch size.

    Each size gets a fresh model from ``model_fn`` (same seed), one warm-up step and then
    ``steps`` timed steps on the given (already normalised) images. ``epoch_images`` turns the
    rate into an estimated epoch time.
    """
    device = torch.device(device)
    rows = []
    for bs in batch_sizes:
        torch.manual_seed(0)
        model = model_fn().to(device).train()
        optimizer = make_optimizer(model, lr)
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


def time_cudnn_benchmark(model_fn, images: torch.Tensor, labels: torch.Tensor, lr: float,
                         steps: int = 5, device="cuda") -> dict[str, float] | None:
    """Seconds per training step with ``cudnn.benchmark`` off and on (CUDA only; None elsewhere)."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    before = torch.backends.cudnn.benchmark
    out = {}
    try:
        for flag in (False, True):
            torch.backends.cudnn.benchmark = flag
            out[f"benchmark={flag}"] = time_batch_sizes(model_fn, images, labels, [len(images)], lr, steps,
                                                        device)[0]["seconds_per_step"]
    finally:
        torch.backends.cudnn.benchmark = before
    return out


def show_pairs(pairs: list[tuple[Sample, Sample]], size: int = 2):
    """Each (published test file, its train copy) side by side, titled with their paths."""
    fig, axes = plt.subplots(2, len(pairs), figsize=(len(pairs) * size, 2 * size + 0.6), squeeze=False)
    for j, (test, train) in enumerate(pairs):
        for i, s in enumerate((test, train)):
            axes[i, j].imshow(load_rgb(s.path))
            axes[i, j].set_title(s.rel(), fontsize=7)
            axes[i, j].axis("off")
    fig.suptitle("published test image (top) and the identical train image (bottom)")
    fig.tight_layout()
    return fig


def show_prediction(image, probs: torch.Tensor, class_names: list[str], title: str = ""):
    """The image next to a bar chart of the class probabilities."""
    fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(7, 2.8), gridspec_kw={"width_ratios": [1, 1.4]})
    ax_img.imshow(image)
    ax_img.set_title(title, fontsize=8)
    ax_img.axis("off")
    probs = torch.as_tensor(probs).flatten()
    bars = ax_bar.barh(class_names, probs.numpy(), color="tab:blue")
    bars[int(probs.argmax())].set_color("tab:orange")
    ax_bar.set(xlim=(0, 1), xlabel="probability")
    ax_bar.invert_yaxis()
    for bar, p in zip(bars, probs.tolist()):
        ax_bar.text(min(p + 0.02, 0.85), bar.get_y() + bar.get_height() / 2, f"{p:.3f}", va="center", fontsize=8)
    fig.tight_layout()
    return fig
