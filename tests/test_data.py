"""The data registry on the real mirrored files: resolution, checksums, errors, subsets."""

import shutil
from pathlib import Path

import pytest
import torch
from torchvision import datasets, transforms

from course_utils import data, files, splits
from course_utils.paths import REPO_ROOT


@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    """A fresh data root, so the test sees what a new checkout sees."""
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def offline_mnist(monkeypatch):
    """Point torchvision's MNIST mirrors at a closed local port: a real, failing download."""
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])


def test_root_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_DATA", raising=False)
    assert files.data_root() == REPO_ROOT / "data"
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "env"))
    assert files.data_root() == tmp_path / "env"
    assert files.data_root(tmp_path / "arg") == tmp_path / "arg"


def test_mnist_comes_from_the_mirror_verified(mirror, empty_root):
    root = data.ensure_mnist()
    for name, digest in files.read_sums("mnist.sha256").items():
        assert files.file_digest(root / "MNIST" / "raw" / name) == digest
    train = splits.load_split("mnist", True)
    test = splits.load_split("mnist", False)
    assert train.images.shape == (60_000, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10_000, 1, 28, 28)
    assert torch.bincount(test.targets).tolist()[:3] == [980, 1135, 1032]


def test_wrong_checksum_is_named_and_the_file_kept(mirror, empty_root):
    raw = empty_root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    bad = raw / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(b"not the real labels")
    with pytest.raises(files.ChecksumError, match="t10k-labels-idx1-ubyte.gz") as err:
        data.ensure_mnist()
    assert "Delete it" in str(err.value)
    assert bad.read_bytes() == b"not the real labels"  # never silently replaced


def test_missing_dataset_without_mirror_or_network(empty_root, monkeypatch, offline_mnist):
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    with pytest.raises(files.DatasetNotFoundError) as err:
        data.ensure_mnist()
    message = str(err.value)
    for part in ("train-images-idx3-ubyte.gz", str(empty_root), "COURSE_DATA_MIRROR", "download"):
        assert part in message


def test_mirror_variable_pointing_nowhere(monkeypatch, empty_root):
    monkeypatch.setenv("COURSE_DATA_MIRROR", "/nonexistent/datasets")
    with pytest.raises(files.DatasetNotFoundError, match="COURSE_DATA_MIRROR"):
        data.ensure_mnist()


def test_cifar_falls_back_to_the_jpeg_copy_and_says_so(mirror, empty_root):
    where = data.ensure_cifar10()
    assert where.source == data.SOURCE_CIFAR_JPEG
    assert "not official" in where.source
    assert where.path == mirror / "cifar10-jpeg"


def test_cifar_plain_and_fast_paths_see_the_same_images(mirror):
    split = splits.load_split("cifar10", False, limit=40, seed=1)
    plain, source = splits.torchvision_dataset("cifar10", False, transform=transforms.PILToTensor(), limit=40, seed=1)
    assert source == split.source
    assert torch.equal(torch.stack([plain[i][0] for i in range(40)]), split.images)
    assert torch.equal(torch.tensor([plain[i][1] for i in range(40)]), split.targets)


def test_balanced_subset_is_fixed_and_balanced(mirror):
    targets = torch.as_tensor(datasets.MNIST(data.ensure_mnist(), train=True, download=True).targets)
    a = data.balanced_indices(targets, 1_003, seed=0)
    assert torch.equal(a, data.balanced_indices(targets, 1_003, seed=0))
    assert not torch.equal(a, data.balanced_indices(targets, 1_003, seed=1))
    counts = torch.bincount(targets[a], minlength=10)
    assert counts.sum() == 1_003 and counts.max() - counts.min() <= 1
    assert len(data.balanced_indices(targets, None)) == len(targets)


def _linked_copy(real: Path, copy: Path, editable: str) -> Path:
    """``copy`` as ``real`` made of links to its files and folders, except along the relative path
    ``editable``: its folders are real ones and its file is left out, for the test to write. An
    altered copy of the real data in no time, and the real files are never written."""
    copy.mkdir(parents=True)
    head, _, rest = editable.partition("/")
    for path in real.iterdir():
        if path.name != head:
            (copy / path.name).symlink_to(path)
        elif rest:
            _linked_copy(path, copy / head, rest)
    return copy / editable


def test_corrupt_cifar_jpeg_is_named(mirror, empty_root):
    real, copy = mirror / "cifar10-jpeg", empty_root / "cifar10-jpeg"
    (copy / "train").mkdir(parents=True)
    (copy / "test").symlink_to(real / "test")
    (copy / "train" / "cat").symlink_to(real / "train" / "cat")
    with pytest.raises(files.DatasetNotFoundError, match="incomplete"):
        data.ensure_cifar10()  # nine training classes are missing
    shutil.rmtree(copy)  # removes the links, not what they point to
    _linked_copy(real, copy, "test/frog/0007.jpg").write_bytes(b"\xff\xd8 broken")
    with pytest.raises(files.ChecksumError, match="test/frog"):
        data.ensure_cifar10()


def test_coffee_files_verified_and_corruption_named(mirror, empty_root):
    assert data.ensure_coffee() == mirror / "coffee-beans"
    copy = empty_root / "coffee-beans"
    _linked_copy(mirror / "coffee-beans", copy, "train/Dark/dark (7).png").write_bytes(b"\x89PNG truncated")
    (copy / "train" / "Dark" / ".DS_Store").write_bytes(b"finder junk")  # stray files are ignored
    with pytest.raises(files.ChecksumError, match=r"dark \(7\)\.png"):
        data.ensure_coffee()
