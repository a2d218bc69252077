"""Odd inputs students produce: each gets a clear error or a safe, announced behaviour.
All on copies of the real files with a broken one added, never on mocks."""

import shutil

import pytest

from course_utils import data, files
from course_utils.images import BadImageError, load_rgb


@pytest.fixture
def coffee_copy(mirror, tmp_path, monkeypatch):
    """A writable copy of the real coffee-bean folder as the data root's dataset."""
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "data"))
    copy = tmp_path / "data" / "coffee-beans"
    shutil.copytree(mirror / "coffee-beans", copy)
    return copy


def test_stray_files_are_ignored(coffee_copy):
    for junk in (".DS_Store", "Thumbs.db", "notes.txt"):
        (coffee_copy / "train" / "Green" / junk).write_bytes(b"not an image")
    (coffee_copy / "test" / ".DS_Store").write_bytes(b"junk")
    assert data.ensure_coffee() == coffee_copy
    assert len(files.image_files(coffee_copy / "train" / "Green")) == 300
    assert files.check_class_folders(coffee_copy / "train") == ["Dark", "Green", "Light", "Medium"]


def test_an_extra_corrupt_image_is_named(coffee_copy):
    extra = coffee_copy / "train" / "Dark" / "dark (999).png"
    extra.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.warns(UserWarning, match="no checksum"):
        data.ensure_coffee()
    with pytest.raises(BadImageError, match=r"dark \(999\)\.png"):
        load_rgb(extra)


def test_a_replaced_image_fails_its_checksum(coffee_copy):
    shutil.copyfile(
        coffee_copy / "train" / "Light" / "light (2).png", coffee_copy / "train" / "Light" / "light (1).png"
    )
    with pytest.raises(files.ChecksumError, match=r"light \(1\)\.png"):
        data.ensure_coffee()


def test_empty_class_folder_and_single_class(tmp_path):
    (tmp_path / "one" / "Dark").mkdir(parents=True)
    shutil.copyfile(files.CHECKSUMS / "coffee-beans.sha256", tmp_path / "one" / "Dark" / "x.png")
    with pytest.raises(ValueError, match="at least two"):
        files.check_class_folders(tmp_path / "one")
    (tmp_path / "one" / "Green").mkdir()
    (tmp_path / "one" / "Green" / "Thumbs.db").write_bytes(b"junk")
    with pytest.raises(ValueError, match="without any image.*Green"):
        files.check_class_folders(tmp_path / "one")
    with pytest.raises(files.DatasetNotFoundError, match="not a folder"):
        files.check_class_folders(tmp_path / "missing")


def test_missing_image_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="No image at"):
        load_rgb(tmp_path / "bean.png")


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "large"])
def test_predict_any_image_mode_or_size(mirror, tmp_path, mode):
    import torch
    from PIL import Image

    from course_utils import coffee_data as coffee
    from course_utils import predict_image
    from course_utils.models import Net

    with Image.open(mirror / "coffee-beans" / "test" / "Green" / "green (3).png") as real:
        img = real.resize((3000, 2000)) if mode == "large" else real.convert(mode)
    if mode == "RGBA":
        img.putalpha(128)
    path = tmp_path / f"bean-{mode}.png"
    img.save(path)
    image, probs = predict_image(Net(num_classes=4), path, coffee.eval_transform(32))
    assert image.mode == "RGB"
    assert probs.shape == (4,) and torch.isclose(probs.sum(), torch.tensor(1.0))
    with pytest.raises(FileNotFoundError, match="No image at"):
        predict_image(Net(num_classes=4), tmp_path / "missing.png", coffee.eval_transform(32))


def test_coffee_class_names_refuse_an_empty_class(coffee_copy):
    from course_utils import coffee_data as coffee

    assert coffee.class_names(coffee_copy) == ["Dark", "Green", "Light", "Medium"]
    (coffee_copy / "train" / "Espresso").mkdir()
    with pytest.raises(ValueError, match="Espresso"):
        coffee.class_names(coffee_copy)
