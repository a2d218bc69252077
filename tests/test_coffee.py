"""course_utils.coffee on the real mirrored coffee-bean files: folders, duplicates, the clean
split, the transforms and the cached datasets."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
import torch
from torch import nn

from course_utils import coffee_data as coffee
from course_utils import coffee_train, data, images
from course_utils.checkpoints import checkpoint_path
from course_utils.models import ClassicVGG16
from course_utils.paths import display_path


@pytest.fixture(scope="module")
def root(mirror) -> Path:
    return data.ensure_coffee(None)


@pytest.fixture(scope="module")
def published(root) -> dict[str, list[coffee.Sample]]:
    return {split: coffee.list_samples(root, split) for split in ("train", "test")}


@pytest.fixture(scope="module")
def dups(published) -> coffee.Duplicates:
    return coffee.find_duplicates(published["train"] + published["test"])


def test_class_names_come_from_the_folders(root, published):
    assert coffee.class_names(root) == data.COFFEE_CLASSES == ["Dark", "Green", "Light", "Medium"]
    for split, per_class in (("train", 300), ("test", 100)):
        assert coffee.counts(published[split], data.COFFEE_CLASSES) == dict.fromkeys(data.COFFEE_CLASSES, per_class)
        for s in published[split]:
            assert data.COFFEE_CLASSES[s.label] == s.path.parent.name
            assert s.split == split and s.rel().startswith(f"{split}/{s.path.parent.name}/")


def test_duplicates_match_the_dataset_readme(dups):
    assert len(dups.hashes) == 1600
    assert len(dups.distinct) == 1194
    assert len(dups.test_in_train) == 400  # every published test image
    assert dups.train_repeats == 6
    repeats = sorted(sorted(s.path.stem for s in g) for g in dups.train_repeat_groups)
    assert repeats == [
        ["dark (104)", "dark (105)"],
        ["dark (74)", "dark (75)", "dark (76)"],
        ["dark (78)", "dark (79)"],
        ["dark (80)", "dark (81)"],
        ["green (282)", "green (283)"],
    ]
    for test, train in dups.test_in_train:
        assert test.split == "test" and train.split == "train" and test.label == train.label
    # The example the dataset README gives, checked on the pixels themselves.
    by_rel = {s.rel(): s for g in dups.groups.values() for s in g}
    a, b = by_rel["test/Medium/medium (5).png"], by_rel["train/Medium/medium (13).png"]
    assert images.pixel_hash(a.path) == images.pixel_hash(b.path)
    assert all(s.split == "train" for s in dups.distinct)


def test_identical_pixels_with_different_labels_are_refused(published):
    s = published["train"][0]
    with pytest.raises(ValueError, match="different labels"):
        coffee.find_duplicates([s, coffee.Sample(s.path, (s.label + 1) % 4, "test")])


def test_split_is_disjoint_stratified_and_seeded(dups):
    train, val, test = coffee.stratified_split(dups.distinct, (0.7, 0.15, 0.15), seed=0)
    assert len(train) + len(val) + len(test) == len(dups.distinct)
    for a, b in ((train, val), (train, test), (val, test)):
        assert coffee.overlap(a, b, dups.hashes) == 0
        assert not {s.path for s in a} & {s.path for s in b}
    totals = Counter(s.label for s in dups.distinct)
    for part in (val, test):
        for label, n in Counter(s.label for s in part).items():
            assert n == round(0.15 * totals[label])
    assert coffee.stratified_split(dups.distinct, (0.7, 0.15, 0.15), seed=0) == [train, val, test]
    assert coffee.stratified_split(dups.distinct, (0.7, 0.15, 0.15), seed=1) != [train, val, test]
    with pytest.raises(ValueError, match="add up to 1"):
        coffee.stratified_split(dups.distinct, (0.7, 0.2, 0.2))
    subset = coffee.limit(train, 40, seed=0)
    assert len(subset) == 40 and set(Counter(s.label for s in subset).values()) == {10}


def test_test_transform_is_deterministic_and_train_transform_random(published):
    test_tf, train_tf = coffee.eval_transform(32), coffee.train_transform(32)
    assert coffee.random_transforms(test_tf) == []
    assert coffee.random_transforms(train_tf) == ["RandomHorizontalFlip", "RandomVerticalFlip"]
    samples = published["test"][::50]
    ds = coffee.cached_dataset(samples, 32, test_tf)
    loader = torch.utils.data.DataLoader(ds, batch_size=4)
    first, second = (torch.cat([x for x, _ in loader]) for _ in range(2))
    assert first.shape == (len(samples), 3, 32, 32) and torch.equal(first, second)
    # The cached path gives what the per-image path (PIL + the same transform) gives.
    plain = torch.stack([x for x, _ in coffee.CoffeeImages(samples, test_tf)])
    assert torch.allclose(plain, first, atol=1e-5)


def test_train_transform_flips_some_images(published):
    ds = coffee.cached_dataset(published["train"][:8], 32, coffee.train_transform(32))
    torch.manual_seed(0)
    passes = [torch.stack([ds[i][0] for i in range(len(ds))]) for _ in range(4)]
    assert any(not torch.equal(passes[0], p) for p in passes[1:])


def test_init_vgg_is_kaiming_fan_out_with_zero_biases():
    """torchvision's VGG initialisation (that it lets VGG16 learn is the smoke run's check,
    tests/test_coffee_notebook.py): zero biases, convolution weights at std sqrt(2 / fan_out)."""
    torch.manual_seed(0)
    model = coffee_train.init_vgg_(ClassicVGG16(4))
    assert all(not m.bias.detach().any() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    conv = model.features[2]  # 64 -> 64 channels, 3x3: fan_out 576
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.02)
    linear = next(m for m in model.modules() if isinstance(m, nn.Linear))
    assert linear.weight.std().item() == pytest.approx(0.01, rel=0.02)


def test_checkpoint_path_is_under_the_repository():
    path = checkpoint_path("NN_any_notebook", "smoke", 3)
    assert display_path(path) == "checkpoints/NN_any_notebook-smoke-seed3.pt"
