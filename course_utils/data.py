"""The data registry: where each dataset comes from, how it is checked, and how it is split.

Root resolution: the notebook's ``data_root``, else ``COURSE_DATA``, else the repository's
``data/`` (``./data`` when the package is installed outside a checkout). A dataset missing
there comes from the mirror folder named by ``COURSE_DATA_MIRROR``, else from its real
download. Every file with a known checksum is verified (``files``: the roots, the checksum
tables' checks); nothing is ever replaced by fake data. ``splits`` reads what this provides.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision import datasets

from .files import (
    IMAGE_SUFFIXES,  # noqa: F401  (data.IMAGE_SUFFIXES: what notebook 05's list_samples reads)
    DatasetNotFoundError,
    checksum_error,
    copy_verified,
    data_root,
    file_digest,
    mirror_root,
    read_sums,
    verify_images,
    verify_tree,
)

# ---------------------------------------------------------------- registry

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
COFFEE_CLASSES = ["Dark", "Green", "Light", "Medium"]
COFFEE_KAGGLE = "gpiosenka/coffee-bean-dataset-resized-224-x-224"

# Per-channel normalisation constants, defined once for the whole course.
MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)  # the training digits' pixels (notebook 01 measures them)
CIFAR_HALF = (0.5, 0.5, 0.5)  # notebook 03: (x - 0.5) / 0.5 maps [0, 1] onto [-1, 1]
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)  # official training set; notebook 04 measures the copy it reads
CIFAR_STD = (0.2470, 0.2435, 0.2616)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # VGG's customary constants (05)

SOURCE_MNIST = "torchvision MNIST (original files)"
SOURCE_CIFAR_OFFICIAL = "torchvision CIFAR10 (official files)"
SOURCE_CIFAR_JPEG = "cifar10-jpeg mirror (lossy JPEG q75 copy, not official CIFAR-10)"
SOURCE_COFFEE = "coffee-beans (Kaggle layout)"


# ---------------------------------------------------------------- roots and mirror


def _not_found(
    name: str, root: Path, missing: list[str], mirror_layout: str, download: str, cause: BaseException | str | None
) -> DatasetNotFoundError:
    shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
    mirror = os.environ.get("COURSE_DATA_MIRROR")
    mirror_note = (
        f"COURSE_DATA_MIRROR is set to {mirror!r} but holds no {mirror_layout}"
        if mirror
        else "COURSE_DATA_MIRROR is not set"
    )
    return DatasetNotFoundError(
        f"{name} is not available. Data root searched: {root}. Missing: {shown}.\n"
        f"Provide it in one of two ways:\n"
        f"  1. set COURSE_DATA_MIRROR to a folder that holds {mirror_layout} "
        f"(for example ../shared/datasets); {mirror_note};\n"
        f"  2. let {download} download it: this needs internet access"
        + (f" (the attempt failed: {cause})" if cause else "")
        + "."
    )


# ---------------------------------------------------------------- MNIST


def ensure_mnist(root: str | os.PathLike | None = None) -> Path:
    """Make the four MNIST files available under ``<root>/MNIST/raw`` and verify them.

    Used by notebooks 01 and 02 through `loaders.mnist_loaders`.
    """
    root = data_root(root)
    raw = root / "MNIST" / "raw"
    sums = read_sums("mnist.sha256")  # torchvision checks the MD5s as well
    missing = []
    for name, digest in sums.items():
        path = raw / name
        if path.exists():
            actual = file_digest(path)
            if actual != digest:
                raise checksum_error(
                    path, digest, actual, "Delete it and run again to fetch a fresh copy (mirror or download)."
                )
        elif not (raw / name[:-3]).exists():
            missing.append(name)
    mirror = mirror_root()
    if missing and mirror is not None and (mirror / "MNIST" / "raw").is_dir():
        for name in list(missing):
            src = mirror / "MNIST" / "raw" / name
            if src.exists():
                copy_verified(src, raw / name, sums[name])
                missing.remove(name)
    if missing:
        try:
            datasets.MNIST(root, train=True, download=True)
            datasets.MNIST(root, train=False, download=True)
        except Exception as exc:  # any network failure ends in the same advice
            raise _not_found(
                "MNIST", root, [f"MNIST/raw/{m}" for m in missing], "MNIST/raw/*.gz", "torchvision.datasets.MNIST", exc
            ) from exc
    return root


# ---------------------------------------------------------------- CIFAR-10


@dataclass(frozen=True)
class Cifar10Location:
    """Where CIFAR-10 was found and in which form. Used by notebook 03 through `loaders.cifar_loaders`."""

    source: str  # SOURCE_CIFAR_OFFICIAL or SOURCE_CIFAR_JPEG
    path: Path  # the torchvision root (official) or the cifar10-jpeg folder


def _verify_official_cifar(folder: Path) -> None:
    for name, digest in read_sums("cifar-10-batches-py.md5").items():  # what torchvision checks
        path = folder / name
        if not path.exists():
            raise DatasetNotFoundError(
                f"{path} is missing from the official CIFAR-10 files; delete {folder} and run again to download them."
            )
        actual = file_digest(path, "md5")
        if actual != digest:
            raise checksum_error(path, digest, actual, f"Delete {folder} and run again to download it.")


def ensure_cifar10(root: str | os.PathLike | None = None) -> Cifar10Location:
    """Official CIFAR-10 files when present (or downloadable), else the JPEG copy.

    Order: ``<root>/cifar-10-batches-py``; ``<root>/cifar10-jpeg``; the mirror's
    ``cifar10-jpeg`` (read in place); torchvision's download of the official files.

    Used by notebook 03 through `loaders.cifar_loaders`.
    """
    root = data_root(root)
    if (root / "cifar-10-batches-py").is_dir():
        _verify_official_cifar(root / "cifar-10-batches-py")
        return Cifar10Location(SOURCE_CIFAR_OFFICIAL, root)
    mirror = mirror_root()
    for candidate in (root / "cifar10-jpeg", mirror / "cifar10-jpeg" if mirror else None):
        if candidate is not None and candidate.is_dir():
            verify_tree(
                candidate,
                read_sums("cifar10-jpeg.sha256"),
                "the CIFAR-10 JPEG copy",
                f"Restore {candidate} from the course's dataset mirror.",
            )
            return Cifar10Location(SOURCE_CIFAR_JPEG, candidate)
    try:
        datasets.CIFAR10(root, train=True, download=True)
    except Exception as exc:
        raise _not_found(
            "CIFAR-10",
            root,
            ["cifar-10-batches-py/ (official files)", "cifar10-jpeg/ (JPEG copy)"],
            "cifar10-jpeg/{train,test}/<class>/*.jpg",
            "torchvision.datasets.CIFAR10",
            exc,
        ) from exc
    _verify_official_cifar(root / "cifar-10-batches-py")
    return Cifar10Location(SOURCE_CIFAR_OFFICIAL, root)


# ---------------------------------------------------------------- coffee beans


def ensure_coffee(root: str | os.PathLike | None = None) -> Path:
    """The coffee-bean folder (``train/`` and ``test/``, one folder per class), verified.

    Order: ``<root>/coffee-beans``; the mirror's ``coffee-beans`` (read in place); the public
    Kaggle dataset through ``kagglehub``, copied to ``<root>/coffee-beans``.

    Introduced in notebook 05.
    """
    root = data_root(root)
    mirror = mirror_root()
    folder = None
    for candidate in (root / "coffee-beans", mirror / "coffee-beans" if mirror else None):
        if candidate is not None and candidate.is_dir():
            folder = candidate
            break
    if folder is None:
        folder = _download_coffee(root)
    verify_images(
        folder,
        "coffee-beans",
        "the coffee-bean images",
        f"Delete the named files and restore them from the mirror or Kaggle ({COFFEE_KAGGLE}).",
    )
    return folder


def _download_coffee(root: Path) -> Path:
    missing = [f"coffee-beans/{split}/{c}/" for split in ("train", "test") for c in COFFEE_CLASSES]
    try:
        import kagglehub
    except ImportError as exc:
        raise _not_found(
            "The coffee-bean dataset",
            root,
            missing,
            "coffee-beans/{train,test}/<Class>/*.png",
            "kagglehub (pip install kagglehub)",
            "kagglehub is not installed",
        ) from exc
    try:
        downloaded = Path(kagglehub.dataset_download(COFFEE_KAGGLE))
    except Exception as exc:
        raise _not_found(
            "The coffee-bean dataset",
            root,
            missing,
            "coffee-beans/{train,test}/<Class>/*.png",
            f"kagglehub (Kaggle dataset {COFFEE_KAGGLE})",
            exc,
        ) from exc
    train_dirs = [p.parent for p in downloaded.rglob("train") if (p / "Dark").is_dir()] or [
        p for p in downloaded.rglob("*") if (p / "train" / "Dark").is_dir()
    ]
    if not train_dirs:
        raise DatasetNotFoundError(
            f"The Kaggle download in {downloaded} has no train/Dark folder; "
            "its layout changed. Copy train/ and test/ to {root}/coffee-beans by hand."
        )
    target = root / "coffee-beans"
    tmp = root / "coffee-beans.part"
    shutil.rmtree(tmp, ignore_errors=True)
    for split in ("train", "test"):
        shutil.copytree(train_dirs[0] / split, tmp / split)
    os.replace(tmp, target)
    return target


# ---------------------------------------------------------------- reading


def train_val_indices(targets, limit: int | None, val_fraction: float, seed: int = 0):
    """(train, validation) indices: a seeded, class-balanced subset of ``limit`` images (all when
    None), of which ``val_fraction`` per class go to validation. No index is on both sides.

    Used by notebook 03 through `loaders.cifar_loaders` (its validation split).
    """
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}.")
    targets = torch.as_tensor(targets)
    pool = balanced_indices(targets, limit, seed)
    g = torch.Generator().manual_seed(seed + 1)
    train, val = [], []
    for c in torch.unique(targets[pool]).tolist():
        idx = pool[targets[pool] == c]
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_val = round(val_fraction * len(idx))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return torch.cat(train).sort().values, torch.cat(val).sort().values


def balanced_indices(targets, limit: int | None, seed: int = 0) -> torch.Tensor:
    """A fixed, seeded, class-balanced subset of ``limit`` indices (all when None), sorted.

    Used by notebooks 01 and 03 through `loaders.load_split` and `loaders.cifar_loaders`.
    """
    targets = torch.as_tensor(targets)
    if limit is None or limit >= len(targets):
        return torch.arange(len(targets))
    g = torch.Generator().manual_seed(seed)
    classes = torch.unique(targets)
    per_class, extra = divmod(limit, len(classes))
    picked = []
    for i, c in enumerate(classes.tolist()):
        idx = torch.nonzero(targets == c).flatten()
        take = per_class + (1 if i < extra else 0)
        picked.append(idx[torch.randperm(len(idx), generator=g)[:take]])
    return torch.cat(picked).sort().values
