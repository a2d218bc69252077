"""The data registry: where each dataset lives, how it is checked, and how it is read.

Root resolution: the notebook's ``data_root``, else ``COURSE_DATA``, else the repository's
``data/`` (``./data`` when the package is installed outside a checkout). A dataset missing
there comes from the mirror folder named by ``COURSE_DATA_MIRROR``, else from its real
download. Every file with a known checksum is verified; nothing is ever replaced by fake data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision import datasets

from .paths import REPO_ROOT, work_root

CHECKSUMS = Path(__file__).resolve().parent / "checksums"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is neither under the data root, nor in a mirror, nor downloadable.

    Used by notebook 01 through `loaders.mnist_loaders`; every notebook's data cell can raise it.
    """


class ChecksumError(RuntimeError):
    """A file is present but its content is not the published one.

    Used by notebook 01 through `loaders.mnist_loaders`; every notebook's data cell can raise it.
    """


# ---------------------------------------------------------------- registry

MNIST_FILES = {  # name in MNIST/raw -> sha256 (torchvision checks the MD5s as well)
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
CIFAR10_OFFICIAL_FILES = {  # name in cifar-10-batches-py -> md5 (what torchvision checks)
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
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


def _read_sums(name: str) -> dict[str, str]:
    """Checksum table shipped with the package: 'sha256  relative/path' per line."""
    sums = {}
    for line in (CHECKSUMS / name).read_text().splitlines():
        digest, rel = line.split("  ", 1)
        sums[rel] = digest
    return sums


# ---------------------------------------------------------------- roots and mirror


def data_root(root: str | os.PathLike | None = None) -> Path:
    """``root``, else ``COURSE_DATA``, else the checkout's ``data/`` (``./data`` outside one).

    Introduced in notebook 01.
    """
    if root is None:
        root = os.environ.get("COURSE_DATA") or None
    if root is None:
        root = work_root() / "data"
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def mirror_root() -> Path | None:
    """The folder named by ``COURSE_DATA_MIRROR`` (relative to the working directory or the
    checkout), or None when the variable is unset.

    Used by notebook 01 through `loaders.mnist_loaders`.
    """
    value = os.environ.get("COURSE_DATA_MIRROR")
    if not value:
        return None
    path = Path(value).expanduser()
    for candidate in (path, REPO_ROOT / path):
        if candidate.is_dir():
            return candidate.resolve()
    raise DatasetNotFoundError(
        f"COURSE_DATA_MIRROR={value!r} is not a folder (looked in {Path.cwd()} and {REPO_ROOT}). "
        "Point it at a copy of the course datasets (for example ../shared/datasets) or unset it."
    )


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


def _file_digest(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sha256(path: Path) -> str:
    return _file_digest(path, "sha256")


def _md5(path: Path) -> str:
    return _file_digest(path, "md5")


def _checksum_error(path: Path, expected: str, actual: str, fix: str) -> ChecksumError:
    return ChecksumError(f"{path} has the wrong checksum (expected {expected}, got {actual}); it was not used. {fix}")


def _copy_verified(src: Path, dst: Path, sha256: str) -> None:
    """Copy a mirror file after checking it; the temporary name means no half-copied file."""
    actual = _sha256(src)
    if actual != sha256:
        raise _checksum_error(src, sha256, actual, "The mirror copy is damaged: restore it from the original.")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.part")  # per process: parallel test workers never share it
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


# ---------------------------------------------------------------- MNIST


def ensure_mnist(root: str | os.PathLike | None = None) -> Path:
    """Make the four MNIST files available under ``<root>/MNIST/raw`` and verify them.

    Used by notebooks 01 and 02 through `loaders.mnist_loaders`.
    """
    root = data_root(root)
    raw = root / "MNIST" / "raw"
    missing = []
    for name, digest in MNIST_FILES.items():
        path = raw / name
        if path.exists():
            actual = _sha256(path)
            if actual != digest:
                raise _checksum_error(
                    path, digest, actual, "Delete it and run again to fetch a fresh copy (mirror or download)."
                )
        elif not (raw / name[:-3]).exists():
            missing.append(name)
    mirror = mirror_root()
    if missing and mirror is not None and (mirror / "MNIST" / "raw").is_dir():
        for name in list(missing):
            src = mirror / "MNIST" / "raw" / name
            if src.exists():
                _copy_verified(src, raw / name, MNIST_FILES[name])
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
    for name, digest in CIFAR10_OFFICIAL_FILES.items():
        path = folder / name
        if not path.exists():
            raise DatasetNotFoundError(
                f"{path} is missing from the official CIFAR-10 files; delete {folder} and run again to download them."
            )
        actual = _md5(path)
        if actual != digest:
            raise _checksum_error(path, digest, actual, f"Delete {folder} and run again to download it.")


def _tree_digest(folder: Path, rel: str) -> str:
    """sha256 of a file, or for a folder the sha256 of its sorted ``sha256sum`` manifest."""
    path = folder / rel
    if path.is_file():
        return _sha256(path)
    lines = [f"{_sha256(p)}  {p.relative_to(folder).as_posix()}\n" for p in image_files(path)]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _verify_tree(folder: Path, expected: dict[str, str], what: str, fix: str) -> None:
    """Check every expected file (or class folder) below ``folder`` against its sha256.

    A stamp under the data root records sizes and modification times of a verified tree, so
    later runs re-hash only when something changed.
    """
    stamp = data_root() / ".verified" / (hashlib.sha1(str(folder.resolve()).encode()).hexdigest() + ".json")
    stats, missing = {}, []
    for rel in expected:
        path = folder / rel
        if path.is_file():
            files = [(path.name, path.stat())]
        else:
            files = [(entry.name, entry.stat()) for _, entry in _image_entries(path)] if path.is_dir() else []
        if not files:
            missing.append(rel)
        stats[rel] = [[name, stat.st_size, stat.st_mtime_ns] for name, stat in files]
    if missing:
        raise DatasetNotFoundError(
            f"{what} in {folder} is incomplete: {len(missing)} missing, for example {', '.join(missing[:5])}. {fix}"
        )
    try:
        if json.loads(stamp.read_text()) == stats:
            return
    except (OSError, ValueError):
        pass
    bad = [rel for rel, digest in expected.items() if _tree_digest(folder, rel) != digest]
    if bad:
        raise ChecksumError(
            f"{len(bad)} item(s) of {what} have the wrong checksum and were not used: "
            + ", ".join(str(folder / b) for b in bad[:10])
            + f". {fix}"
        )
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(stats))


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
            _verify_tree(
                candidate,
                _read_sums("cifar10-jpeg.sha256"),
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
    verify_coffee(folder)
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


def verify_coffee(folder: Path) -> None:
    """Every published coffee image is present with its content.

    The mirror's PNGs were recompressed losslessly, so a file passes when either its bytes
    (mirror) or its decoded pixels (the Kaggle files) match the shipped tables.

    Used by notebook 05 through `data.ensure_coffee`.
    """
    byte_sums = _read_sums("coffee-beans.sha256")
    warn_unknown_files(folder, set(byte_sums))
    try:
        _verify_tree(
            folder,
            byte_sums,
            "the coffee-bean images",
            f"Delete the named files and restore them from the mirror or Kaggle ({COFFEE_KAGGLE}).",
        )
        return
    except ChecksumError:
        pass
    from .images import pixel_hash  # decoding is only needed for files that differ in bytes

    pixel_sums = _read_sums("coffee-beans.pixels.sha256")
    bad = [
        rel
        for rel, digest in byte_sums.items()
        if _sha256(folder / rel) != digest and _safe_pixel_hash(folder / rel, pixel_hash) != pixel_sums[rel]
    ]
    if bad:
        raise ChecksumError(
            f"{len(bad)} coffee-bean image(s) are corrupt or altered and were not used: "
            + ", ".join(str(folder / b) for b in bad[:10])
            + f". Delete them and restore them from the mirror or Kaggle ({COFFEE_KAGGLE})."
        )


def _safe_pixel_hash(path: Path, pixel_hash) -> str | None:
    try:
        return pixel_hash(path)
    except Exception:
        return None


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


def image_files(folder: Path) -> list[Path]:
    """Image files below ``folder``, sorted; stray files (.DS_Store, Thumbs.db, notes) are skipped.

    Used by notebook 05 through `coffee_data.list_samples` and `data.ensure_coffee`.
    """
    return [folder.joinpath(*parts) for parts, _ in _image_entries(folder)]


def _image_entries(folder: Path) -> list[tuple[tuple[str, ...], os.DirEntry]]:
    """(path parts below ``folder``, directory entry) of every image file, in ``image_files``' order
    (``Path`` sorts by parts). One ``scandir`` per folder: the 60,000 files of CIFAR-10's JPEG
    copy are listed and their sizes read many times a test run."""
    found, folders = [], [(str(folder), ())]
    while folders:
        path, parts = folders.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, parts + (entry.name,)))
                elif entry.is_file() and os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES:
                    if not entry.name.startswith("."):
                        found.append((parts + (entry.name,), entry))
    return sorted(found, key=lambda item: item[0])


def warn_unknown_files(folder: Path, known: set[str]) -> list[Path]:
    """Image files that are not part of a registered dataset: not verified, so one warning names them.

    Used by notebook 05 through `data.ensure_coffee`.
    """
    extra = [p for p in image_files(folder) if p.relative_to(folder).as_posix() not in known]
    if extra:
        warnings.warn(
            f"{len(extra)} image file(s) in {folder} are not part of the published dataset "
            f"and have no checksum, for example {extra[0]}.",
            stacklevel=2,
        )
    return extra


def check_class_folders(folder: str | os.PathLike) -> list[str]:
    """Class names (sub-folder names, sorted) of an image-folder split, after checking it can
    train a classifier: at least two classes, and at least one image in each.

    Used by notebook 05 through `coffee_data.list_samples`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetNotFoundError(f"{folder} is not a folder: expected one sub-folder of images per class.")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise ValueError(
            f"{folder} has {len(classes)} class folder(s) ({', '.join(classes) or 'none'}); "
            "a classifier needs at least two, one sub-folder of images per class."
        )
    empty = [c for c in classes if not image_files(folder / c)]
    if empty:
        raise ValueError(
            f"Class folder(s) without any image in {folder}: {', '.join(empty)}. "
            f"Add images ({', '.join(sorted(IMAGE_SUFFIXES))}) or remove the folder."
        )
    return classes
