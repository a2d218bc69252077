"""The fast data path gives what the torchvision pipeline gives."""

import pytest
import torch
import torch.nn.functional as F

from course_utils import loaders
from course_utils.runtime import Settings


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


def _cfg(**kw):
    base = dict(seed=0, train_limit=2_000, test_limit=1_000, batch_size=100, data_root=None, device="cpu")
    return Settings(base, **kw)


def test_fast_and_plain_mnist_batches_agree(mirror):
    fast_train, fast_test, source = loaders.make_loaders(
        "mnist", _cfg(), mean=loaders.MNIST_MEAN, std=loaders.MNIST_STD, fast=True
    )
    plain_train, plain_test, plain_source = loaders.make_loaders(
        "mnist", _cfg(), mean=loaders.MNIST_MEAN, std=loaders.MNIST_STD, fast=False
    )
    assert source == plain_source
    assert len(fast_train.dataset) == len(plain_train.dataset) == 2_000
    (xf, yf), (xp, yp) = next(iter(fast_test)), next(iter(plain_test))
    assert torch.equal(yf, yp)
    assert torch.allclose(xf, xp, atol=1e-5)
    assert abs(xf.mean().item()) < 0.2 and 0.8 < xf.std().item() < 1.2


def test_tensor_loader_epochs_cover_every_image_in_a_seeded_order(mirror):
    split = loaders.load_split("mnist", False, limit=1_000)
    a = loaders.TensorLoader(split, 64, loaders.MNIST_MEAN, loaders.MNIST_STD, shuffle=True, seed=5)
    b = loaders.TensorLoader(split, 64, loaders.MNIST_MEAN, loaders.MNIST_STD, shuffle=True, seed=5)
    assert len(a) == 16
    ya = torch.cat([y for _, y in a])
    assert torch.equal(ya, torch.cat([y for _, y in b]))
    assert torch.equal(ya.sort().values, split.targets.sort().values)
    assert not torch.equal(ya, torch.cat([y for _, y in a]))  # a new order next epoch


def test_permutation_keeps_pixel_values():
    x = torch.arange(2 * 784, dtype=torch.uint8).reshape(2, 1, 28, 28)
    perm = torch.randperm(784, generator=torch.Generator().manual_seed(0))
    y = loaders.permute_pixels(x, perm)
    assert y.shape == x.shape
    assert torch.equal(y.flatten(1), x.flatten(1)[:, perm])


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="mnist"):
        loaders.load_split("svhn", True)
