"""Unit tests of course_utils.attention (notebook 08): the hand-written attention against PyTorch's,
the mask polarities, windowed attention, positional encodings and what a ViT without them cannot
see, a convolution as attention, and linear attention in its two forms."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from course_utils import count_params
from course_utils.attention import (
    OFFSETS,
    SelfAttention,
    TinyViT,
    attention,
    band_mask,
    conv_as_attention,
    copy_to_multihead,
    linear_attention_parallel,
    linear_attention_recurrent,
    offset_attention_weights,
    patchify,
    sinusoidal_encoding,
    windowed_attention,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_attention_equals_scaled_dot_product_attention_with_and_without_a_band():
    q, k, v = torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 5)
    out, weights = attention(q, k, v)
    assert_close(out, F.scaled_dot_product_attention(q, k, v))
    assert_close(weights.sum(-1), torch.ones(2, 3, 7))
    band = band_mask(7, 2)  # every row keeps its diagonal: never a fully masked row
    out, weights = attention(q, k, v, band)
    assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=band))
    assert (weights[..., ~band] == 0).all() and (weights[..., band] > 0).all()


def test_band_mask_is_the_band():
    assert band_mask(4, 1).int().tolist() == [[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]]
    assert band_mask(5, 0).equal(torch.eye(5, dtype=torch.bool))
    assert band_mask(5, 4).all()


@pytest.mark.parametrize("heads", [1, 2, 4, 8])
def test_self_attention_has_4d2_plus_4d_parameters_for_any_heads(heads):
    dim = 16
    block = SelfAttention(dim, heads)
    assert count_params(block) == 4 * dim * dim + 4 * dim
    out, weights = block(torch.randn(3, 5, dim))
    assert out.shape == (3, 5, dim) and weights.shape == (3, heads, 5, 5)


@pytest.mark.parametrize("heads", [1, 4])
def test_self_attention_equals_multihead_attention_with_copied_weights(heads):
    block = SelfAttention(16, heads)
    mha = copy_to_multihead(block)
    assert count_params(mha) == count_params(block)
    x = torch.randn(3, 6, 16)
    out, weights = block(x)
    expected, expected_weights = mha(x, x, x, average_attn_weights=False)
    assert_close(out, expected)
    assert_close(weights, expected_weights)  # per head: (B, H, L, L)
    band = band_mask(6, 1)
    out, weights = block(x, mask=band)
    expected, expected_weights = mha(x, x, x, attn_mask=~band, average_attn_weights=False)  # True = BLOCK here
    assert_close(out, expected)
    assert_close(weights, expected_weights)


def test_the_mask_polarity_trap():
    # The same boolean tensor means "attend" to SDPA and "do not attend" to nn.MultiheadAttention.
    block = SelfAttention(16, 2)
    mha = copy_to_multihead(block)
    x, band = torch.randn(2, 6, 16), band_mask(6, 1)  # the band's complement leaves each row 3 keys or more
    as_mha_reads_it, _ = mha(x, x, x, attn_mask=band)
    assert_close(as_mha_reads_it, block(x, mask=~band)[0])  # attends everywhere *outside* the band
    assert not torch.allclose(as_mha_reads_it, block(x, mask=band)[0], atol=1e-3)


@pytest.mark.parametrize("length, window", [(9, 1), (9, 3), (5, 7)])
def test_windowed_attention_equals_attention_with_the_band_mask(length, window):
    q, k, v = torch.randn(2, 3, length, 4), torch.randn(2, 3, length, 4), torch.randn(2, 3, length, 6)
    out, weights = windowed_attention(q, k, v, window)
    expected, full_weights = attention(q, k, v, band_mask(length, window))
    assert_close(out, expected)
    assert weights.shape == (2, 3, length, 2 * window + 1)
    i = 4 % length  # column j of the windowed weights is the key at offset j - window
    for j in range(2 * window + 1):
        key = i + j - window
        if 0 <= key < length:
            assert_close(weights[..., i, j], full_weights[..., i, key])
        else:
            assert (weights[..., i, j] == 0).all()


@pytest.mark.parametrize("layers, window", [(1, 2), (2, 2), (3, 1), (4, 2)])
def test_receptive_field_after_n_windowed_layers_is_n_times_the_window(layers, window):
    length, centre = 25, 12
    x = torch.zeros(length, 1)
    x[centre] = 1.0  # a one-hot signal, carried as the values from layer to layer
    for _ in range(layers):
        q, k = torch.randn(length, 4), torch.randn(length, 4)
        x, _ = windowed_attention(q, k, x, window)
    reached = x.squeeze(1).nonzero().squeeze(1)
    assert reached.tolist() == list(range(centre - layers * window, centre + layers * window + 1))


def test_sinusoidal_shift_by_k_is_one_rotation_per_frequency():
    length, dim = 50, 16
    pe = sinusoidal_encoding(length, dim)
    assert pe.shape == (length, dim)
    assert_close(pe[0], torch.tensor([0.0, 1.0] * (dim // 2)))  # sin 0, cos 0
    for k in (1, 5, 17):
        sin_k, cos_k = pe[k, 0::2], pe[k, 1::2]  # (sin kω, cos kω) for each frequency ω
        rotation = torch.stack([torch.stack([cos_k, sin_k], -1), torch.stack([-sin_k, cos_k], -1)], -2)  # (dim/2, 2, 2)
        pairs = pe.view(length, dim // 2, 2)
        rotated = torch.einsum("fij,pfj->pfi", rotation, pairs[: length - k])
        assert_close(rotated, pairs[k:])
    with pytest.raises(ValueError):
        sinusoidal_encoding(4, 5)


def test_patch_embedding_is_unfold_and_a_linear_map():
    vit = TinyViT(positions=None)
    images = torch.randn(2, 3, 32, 32)
    embed = vit.patch_embed
    linear = patchify(images, 4) @ embed.weight.reshape(embed.out_channels, -1).T + embed.bias
    assert linear.shape == (2, 64, 64)
    assert_close(vit.embed(images), linear)


def test_tiny_vit_default_size_and_attention_maps():
    vit = TinyViT()
    assert count_params(vit) == 141_898
    patch_embed = 3 * 16 * 64 + 64  # a 4x4 convolution, 3 -> 64 channels
    block = 2 * (2 * 64) + (4 * 64 * 64 + 4 * 64) + (64 * 128 + 128 + 128 * 64 + 64)  # 2 LayerNorms, attention, MLP
    head = 2 * 64 + 64 * 10 + 10  # the last LayerNorm and the linear layer
    assert count_params(TinyViT(positions=None)) == patch_embed + 4 * block + head
    assert count_params(vit) - count_params(TinyViT(positions="sinusoidal")) == 64 * 64  # one vector per patch
    images = torch.randn(2, 3, 32, 32)
    assert vit(images).shape == (2, 10)
    maps = vit.attention_maps(images)
    assert len(maps) == 4 and maps[0].shape == (2, 4, 64, 64)
    assert_close(maps[-1].sum(-1), torch.ones(2, 4, 64))


def _shuffle_patches(images, patch, order):
    patches = F.unfold(images, kernel_size=patch, stride=patch)  # (B, C·p·p, N)
    return F.fold(patches[..., order], images.shape[-2:], kernel_size=patch, stride=patch)


def test_without_positions_the_encoder_is_permutation_equivariant():
    vit = TinyViT(positions=None, depth=2)
    tokens, order = torch.randn(2, 64, 64), torch.randperm(64)
    out, maps = vit.encode(tokens)
    shuffled_out, shuffled_maps = vit.encode(tokens[:, order])
    assert_close(shuffled_out, out[:, order])
    assert_close(shuffled_maps[0], maps[0][:, :, order][..., order])


def test_without_positions_a_vit_cannot_tell_a_shuffled_image():
    images, order = torch.randn(2, 3, 32, 32), torch.randperm(64)
    shuffled = _shuffle_patches(images, 4, order)
    assert not torch.allclose(shuffled, images)
    assert_close(_shuffle_patches(shuffled, 4, order.argsort()), images)  # a true rearrangement of patches
    vit = TinyViT(positions=None)
    assert_close(vit(shuffled), vit(images))
    for positions in ("learned", "sinusoidal"):
        vit = TinyViT(positions=positions)
        assert not torch.allclose(vit(shuffled), vit(images), atol=1e-4)


@pytest.mark.parametrize("c_in, c_out", [(1, 1), (3, 5)])
def test_conv_as_attention_is_exactly_a_3x3_convolution(c_in, c_out):
    x, weight = torch.randn(2, c_in, 6, 7), torch.randn(c_out, c_in, 3, 3)
    assert_close(conv_as_attention(x, weight), F.conv2d(x, weight, padding=1))
    hard = offset_attention_weights(6, 7)
    assert ((hard == 0) | (hard == 1)).all() and (hard.sum(-1) == 1).all()  # one-hot rows: no row masked away


def test_head_h_looks_at_offset_h():
    hard = offset_attention_weights(4, 4).view(9, 4, 4, 6, 6)  # (head, query y, query x, key y, key x) padded keys
    for h, (dy, dx) in enumerate(OFFSETS):
        assert hard[h, 2, 1, 2 + 1 + dy, 1 + 1 + dx] == 1


def test_softmax_conv_as_attention_approaches_the_convolution():
    x, weight = torch.randn(2, 3, 6, 6), torch.randn(4, 3, 3, 3)
    conv = F.conv2d(x, weight, padding=1)
    errors = [float((conv_as_attention(x, weight, s) - conv).abs().max()) for s in (0.5, 1, 2, 4, 8, 30)]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[0] > 0.1
    assert_close(conv_as_attention(x, weight, 30), conv)  # e^-30: the other keys' weight is below rounding


def test_linear_attention_parallel_equals_recurrent():
    q, k, v = torch.randn(2, 3, 10, 4), torch.randn(2, 3, 10, 4), torch.randn(2, 3, 10, 5)
    parallel = linear_attention_parallel(q, k, v)
    assert_close(linear_attention_recurrent(q, k, v), parallel)
    later = torch.cat([v[..., :6, :], torch.randn(2, 3, 4, 5)], dim=-2)  # only the future changes
    assert_close(linear_attention_parallel(q, k, later)[..., :6, :], parallel[..., :6, :])  # causal
    assert not torch.allclose(linear_attention_parallel(q, k, later)[..., 6:, :], parallel[..., 6:, :])


def test_copy_to_multihead_is_a_multihead_attention():
    mha = copy_to_multihead(SelfAttention(8, 2))
    assert isinstance(mha, nn.MultiheadAttention) and mha.batch_first and mha.num_heads == 2


def test_equivariant_reversal_bound_matches_enumeration():
    import itertools

    from course_utils.reversal import equivariant_reversal_bound

    # length 2: the bag less a position's own token is exactly its mirror, so no position is needed
    assert equivariant_reversal_bound(2, 10, samples=1_000) == 1.0
    # length 4, vocabulary 2: the exact mean over all 16 sequences and 4 positions
    exact = []
    for seq in itertools.product(range(2), repeat=4):
        for i in range(4):
            others = list(seq[:i] + seq[i + 1 :])
            exact.append(max(others.count(0), others.count(1)) / 3)
    assert equivariant_reversal_bound(4, 2, samples=200_000) == pytest.approx(sum(exact) / len(exact), abs=0.005)
    with pytest.raises(ValueError, match="even"):
        equivariant_reversal_bound(5, 10)


def test_sequence_tagger_without_positions_is_permutation_equivariant():
    from course_utils.reversal import SequenceTagger, reversal_batch

    torch.manual_seed(0)
    model = SequenceTagger(10, 8, positions=None).eval()
    tokens, targets = reversal_batch(3, 8, 10, torch.Generator().manual_seed(0))
    assert torch.equal(targets, tokens.flip(1))
    order = torch.randperm(8)
    with torch.no_grad():
        torch.testing.assert_close(model(tokens)[:, order], model(tokens[:, order]))
        learned = SequenceTagger(10, 8, positions="learned").eval()
        assert (learned(tokens)[:, order] - learned(tokens[:, order])).abs().max() > 1e-4
