"""Dataset files on disk: listing image folders, and checking files against the checksum tables
that the package ships (``course_utils/checksums``). ``data`` builds the registry on these."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

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


# ---------------------------------------------------------------- image folders


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


# ---------------------------------------------------------------- checksums


def read_sums(name: str) -> dict[str, str]:
    """Checksum table shipped with the package: 'digest  relative/path' per line."""
    sums = {}
    for line in (CHECKSUMS / name).read_text().splitlines():
        digest, rel = line.split("  ", 1)
        sums[rel] = digest
    return sums


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checksum_error(path: Path, expected: str, actual: str, fix: str) -> ChecksumError:
    return ChecksumError(f"{path} has the wrong checksum (expected {expected}, got {actual}); it was not used. {fix}")


def copy_verified(src: Path, dst: Path, sha256: str) -> None:
    """Copy a mirror file after checking it; the temporary name means no half-copied file."""
    actual = file_digest(src)
    if actual != sha256:
        raise checksum_error(src, sha256, actual, "The mirror copy is damaged: restore it from the original.")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.part")  # per process: parallel test workers never share it
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _tree_digest(folder: Path, rel: str) -> str:
    """sha256 of a file, or for a folder the sha256 of its sorted ``sha256sum`` manifest."""
    path = folder / rel
    if path.is_file():
        return file_digest(path)
    lines = [f"{file_digest(p)}  {p.relative_to(folder).as_posix()}\n" for p in image_files(path)]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def verify_tree(folder: Path, expected: dict[str, str], what: str, fix: str) -> None:
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


def verify_images(folder: Path, table: str, what: str, fix: str) -> None:
    """Every image of the table ``<table>.sha256`` is present below ``folder`` with its content.

    A file passes when either its bytes or its decoded pixels (``<table>.pixels.sha256``) match:
    a mirror may recompress PNGs losslessly, as the coffee beans' mirror did.
    """
    byte_sums = read_sums(f"{table}.sha256")
    warn_unknown_files(folder, set(byte_sums))
    try:
        verify_tree(folder, byte_sums, what, fix)
        return
    except ChecksumError:
        pass
    from .images import pixel_hash  # decoding is only needed for files that differ in bytes

    pixel_sums = read_sums(f"{table}.pixels.sha256")
    bad = [
        rel
        for rel, digest in byte_sums.items()
        if file_digest(folder / rel) != digest and _safe_pixel_hash(folder / rel, pixel_hash) != pixel_sums[rel]
    ]
    if bad:
        raise ChecksumError(
            f"{len(bad)} of {what} are corrupt or altered and were not used: "
            + ", ".join(str(folder / b) for b in bad[:10])
            + f". {fix}"
        )


def _safe_pixel_hash(path: Path, pixel_hash) -> str | None:
    try:
        return pixel_hash(path)
    except Exception:
        return None
