"""The fast data path gives what the torchvision pipeline gives."""

import pytest
import torch
import torch.nn.functional as F

from course_utils import data, loaders, mnist, seed_everything, splits


def test_random_crop_flip_is_a_crop_of_the_padded_image():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    out = loaders.random_crop_flip(x, 4, g)
    assert out.shape == x.shape and out.dtype == x.dtype
    padded = F.pad(x, (4,) * 4)
    for i in range(16):
        candidates = [padded[i, :, dy : dy + 32, dx : dx + 32] for dy in range(9) for dx in range(9)]
        candidates += [c.flip(-1) for c in candidates]
        assert any(torch.equal(out[i], c) for c in candidates)


def test_flip_and_offsets_are_uniform_like_torchvision():
    g = torch.Generator().manual_seed(1)
    # One bright pixel at (0, 0): where it lands tells the offset and the flip of each image.
    x = torch.zeros(4000, 1, 8, 8, dtype=torch.uint8)
    x[:, 0, 0, 0] = 255
    out = loaders.random_crop_flip(x, 2, g)
    visible = out.flatten(1).amax(1) > 0
    ys, xs = torch.nonzero(out[visible, 0] == 255, as_tuple=True)[1:]
    flipped_share = (xs >= 4).float().mean().item()  # flipped images show the pixel on the right
    assert 0.45 < flipped_share < 0.55
    # The pixel stays in view for offsets 0..2 of 5 in each axis: 9 of 25 cases.
    assert 0.33 < visible.float().mean().item() < 0.39
    assert set(ys.tolist()) == {0, 1, 2}


def test_padding_zero_only_flips():
    g = torch.Generator().manual_seed(2)
    x = torch.randint(0, 256, (200, 3, 8, 8), dtype=torch.uint8)
    out = loaders.random_crop_flip(x, 0, g)
    same = sum(torch.equal(o, i) for o, i in zip(out, x)) / len(x)
    assert all(torch.equal(o, i) or torch.equal(o, i.flip(-1)) for o, i in zip(out, x))
    assert 0.35 < same < 0.65


@pytest.mark.parametrize("shape, padding", [((64, 3, 32, 32), 4), ((7, 1, 8, 8), 2), ((5, 3, 6, 9), 0)])
def test_random_crop_flip_equals_indexing_by_image_row_and_column(shape, padding):
    """The flat index_select gives the images, and the memory layout, of the plainer formulation
    it replaced (the layout picks the convolution kernels, so the notebooks' numbers stay)."""
    x = torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(3)
    n, _, h, w = shape
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=g)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=g)
    flip = torch.rand(n, generator=g) < 0.5
    rows = dy[:, None] + torch.arange(h)
    cols = dx[:, None] + torch.arange(w)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    padded = F.pad(x, (padding,) * 4).permute(0, 2, 3, 1)
    expected = padded[torch.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    out = loaders.random_crop_flip(x, padding, torch.Generator().manual_seed(3))
    assert torch.equal(out, expected)
    assert out.stride() == expected.stride()


def test_fast_and_plain_mnist_batches_agree(mirror):
    sizes = dict(batch_size=100, train_limit=2_000, test_limit=1_000, seed=0)
    fast_train, fast_test, source = loaders.mnist_loaders(fast=True, **sizes)
    plain_train, plain_test, plain_source = loaders.mnist_loaders(fast=False, **sizes)
    assert source == plain_source
    assert len(fast_train.dataset) == len(plain_train.dataset) == 2_000
    (xf, yf), (xp, yp) = next(iter(fast_test)), next(iter(plain_test))
    assert torch.equal(yf, yp)
    assert torch.allclose(xf, xp, atol=1e-5)
    assert abs(xf.mean().item()) < 0.2 and 0.8 < xf.std().item() < 1.2


def test_tensor_loader_shuffles_from_the_global_seed(mirror):
    split = splits.load_split("mnist", False, limit=1_000)
    loader = loaders.TensorLoader(split, 64, data.MNIST_MEAN, data.MNIST_STD, shuffle=True)
    assert len(loader) == 16
    seed_everything(5)
    first = torch.cat([y for _, y in loader])
    second = torch.cat([y for _, y in loader])
    seed_everything(5)
    assert torch.equal(first, torch.cat([y for _, y in loader]))  # the same seed repeats the run
    assert torch.equal(first.sort().values, split.targets.sort().values)  # every image once per pass
    assert not torch.equal(first, second)  # a new order next epoch


def test_max_batches_caps_every_pass_and_survives_variant(mirror):
    """A notebook's max_steps: the first batches of the same order; len() agrees, so schedulers
    that count steps from len(loader) fit the capped run."""
    split = splits.load_split("mnist", False, limit=1_000)
    full = loaders.TensorLoader(split, 64, data.MNIST_MEAN, data.MNIST_STD, shuffle=True)
    capped = loaders.first_batches(full, 3)
    assert len(full) == 16 and len(capped) == 3 and capped.max_batches == 3
    seed_everything(1)
    whole = [y for _, y in full]
    seed_everything(1)
    first = [y for _, y in capped]
    assert len(first) == 3 and all(torch.equal(a, b) for a, b in zip(first, whole))
    assert len(capped.variant(shuffle=False)) == 3  # 06 and 07 derive loaders with variant
    assert len(capped.variant(batch_size=500)) == 2  # never more batches than the images give
    assert loaders.first_batches(full, None) is full


def test_max_batches_caps_the_plain_path_and_all_loaders(mirror):
    sizes = dict(batch_size=50, mean=data.CIFAR_HALF, std=data.CIFAR_HALF, train_limit=1_000, test_limit=3_000)
    for fast in (True, False):
        train, val, test, _ = loaders.cifar_loaders(fast=fast, max_batches=2, **sizes)
        assert [len(loader) for loader in (train, val, test)] == [2, 1, 2]  # val: 100 images, one batch of 1000
        assert [len(list(loader)) for loader in (train, val, test)] == [2, 1, 2]
        assert len(train.dataset) == 900 and len(test.dataset) == 3_000  # the data stay whole
    plain_train, plain_test, _ = loaders.mnist_loaders(fast=False, batch_size=100, train_limit=1_000, max_batches=1)
    assert isinstance(plain_train, loaders.FirstBatches) and len(list(plain_train)) == len(plain_test) == 1


def test_cifar_validation_split_is_carved_out_of_training_with_the_test_transform(mirror):
    sizes = dict(batch_size=50, mean=data.CIFAR_HALF, std=data.CIFAR_HALF, train_limit=1_000, val_fraction=0.2)
    train, val, test, source = loaders.cifar_loaders(augment=True, test_limit=200, **sizes)
    assert (len(train.dataset), len(val.dataset), len(test.dataset)) == (800, 200, 200)
    assert train.augment and not val.augment and not test.augment and not val.shuffle
    assert torch.bincount(val.dataset.targets).tolist() == [20] * 10  # class-balanced
    # no training image is also a validation image (compare the pixels)
    seen = {bytes(img.numpy()) for img in train.dataset.images}
    assert not any(bytes(img.numpy()) in seen for img in val.dataset.images)
    # the plain path picks the very same images
    p_train, p_val, _, _ = loaders.cifar_loaders(fast=False, test_limit=200, **sizes)
    assert len(p_train.dataset) == 800 and len(p_val.dataset) == 200
    (xf, yf), (xp, yp) = next(iter(val)), next(iter(p_val))
    assert torch.equal(yf, yp[: len(yf)]) and torch.allclose(xf[:50], xp[:50], atol=1e-5)


def test_train_val_indices_are_disjoint_balanced_and_seeded():
    targets = torch.arange(1_000) % 10
    train, val = data.train_val_indices(targets, 500, 0.1, seed=0)
    assert len(train) == 450 and len(val) == 50 and not set(train.tolist()) & set(val.tolist())
    assert torch.bincount(targets[val]).tolist() == [5] * 10
    again = data.train_val_indices(targets, 500, 0.1, seed=0)
    assert torch.equal(train, again[0]) and torch.equal(val, again[1])
    assert not torch.equal(val, data.train_val_indices(targets, 500, 0.1, seed=1)[1])
    with pytest.raises(ValueError, match="val_fraction"):
        data.train_val_indices(targets, 500, 1.0)


def test_permutation_keeps_pixel_values_and_is_fixed_by_its_seed():
    x = torch.arange(2 * 784, dtype=torch.uint8).reshape(2, 1, 28, 28)
    perm = mnist.pixel_permutation(0)
    torch.manual_seed(1)  # the global state does not enter
    assert torch.equal(perm, mnist.pixel_permutation(0)) and not torch.equal(perm, mnist.pixel_permutation(1))
    assert torch.equal(perm.sort().values, torch.arange(784))
    y = loaders.permute_pixels(x, perm)
    assert y.shape == x.shape
    assert torch.equal(y.flatten(1), x.flatten(1)[:, perm])


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="mnist"):
        splits.load_split("svhn", True)
