"""Self-attention of notebook 08, written by hand: scaled dot-product attention and its masks, a
multi-head self-attention block (and its copy into ``nn.MultiheadAttention``), positional
encodings, attention restricted to a window at a cost linear in the length, a tiny Vision
Transformer, a 3x3 convolution computed exactly by a 9-head attention, and causal linear attention
in its parallel and recurrent forms. The reversal task, which needs positions, is in
``reversal.py``.

Shapes: a sequence is ``(batch, length, dim)``; ``attention`` takes any leading dimensions, so one
call serves one head ``(B, L, d)`` or all heads at once ``(B, H, L, d)``. A boolean mask is True
where a query may look at a key, the polarity of ``F.scaled_dot_product_attention``
(``nn.MultiheadAttention``'s boolean ``attn_mask`` means the opposite: True blocks).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention, ``softmax(Q Kᵀ / √d) V``: returns the output
    ``(..., L_q, d_v)`` and the weights ``(..., L_q, L_k)``, each row of which sums to 1.

    ``mask`` (boolean, broadcastable to ``(..., L_q, L_k)``) is True where a query may attend to a
    key. A row with no True at all would be a softmax over nothing (NaN): leave every query at
    least one key.

    Introduced in notebook 08.
    """
    # Dividing by √d keeps the scores' spread near 1 whatever d is, so the softmax is not saturated at init.
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # exp(-inf) = 0: a masked key gets exactly no weight
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


class SelfAttention(nn.Module):
    """Multi-head self-attention on ``(B, L, dim)``: projections to queries, keys and values, each
    head attending on its own ``dim // heads`` slice, and an output projection mixing the heads.

    ``forward(x, mask=None)`` returns the output ``(B, L, dim)`` and every head's weights
    ``(B, heads, L, L)``. Four ``dim x dim`` linear layers with bias: ``4·dim² + 4·dim``
    parameters, however many heads (more heads means narrower ones, not more weights).

    Introduced in notebook 08.
    """

    def __init__(self, dim: int, heads: int = 1):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim must be a multiple of heads, got dim={dim}, heads={heads}.")
        self.dim, self.heads, self.head_dim = dim, heads, dim // heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, dim) -> (B, heads, L, head_dim)."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = (self.split_heads(proj(x)) for proj in (self.q_proj, self.k_proj, self.v_proj))
        out, weights = attention(q, k, v, mask)
        out = out.transpose(1, 2).reshape(x.shape)  # the heads side by side again: (B, L, dim)
        return self.out_proj(out), weights


def copy_to_multihead(block: SelfAttention) -> nn.MultiheadAttention:
    """An ``nn.MultiheadAttention(batch_first=True)`` holding ``block``'s weights, so that
    ``mha(x, x, x)`` computes what ``block(x)`` does. PyTorch stacks the query, key and value
    projections into one ``in_proj_weight`` of shape ``(3·dim, dim)``.

    Its boolean ``attn_mask`` is True where attention is *blocked*: ``block(x, mask)`` equals
    ``mha(x, x, x, attn_mask=~mask)``.

    Introduced in notebook 08.
    """
    mha = nn.MultiheadAttention(block.dim, block.heads, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([block.q_proj.weight, block.k_proj.weight, block.v_proj.weight]))
        mha.in_proj_bias.copy_(torch.cat([block.q_proj.bias, block.k_proj.bias, block.v_proj.bias]))
        mha.out_proj.weight.copy_(block.out_proj.weight)
        mha.out_proj.bias.copy_(block.out_proj.bias)
    return mha


def sinusoidal_encoding(length: int, dim: int) -> torch.Tensor:
    """The Transformer's positional encoding (Vaswani et al. 2017), ``(length, dim)``: column pair
    ``(2i, 2i+1)`` holds ``sin(p·ω_i)`` and ``cos(p·ω_i)`` with ``ω_i = 10000^(-2i/dim)``.

    Each pair is a point turning on a circle at its own speed, so moving ``k`` positions is the
    same rotation by ``k·ω_i`` at every position: ``PE[p + k] = R(k) PE[p]``, pair by pair.

    Introduced in notebook 08.
    """
    if dim % 2:
        raise ValueError(f"dim must be even (sine and cosine pairs), got {dim}.")
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    encoding = torch.zeros(length, dim)
    encoding[:, 0::2] = torch.sin(position * frequency)
    encoding[:, 1::2] = torch.cos(position * frequency)
    return encoding


def add_positions(module: nn.Module, positions: str | None, count: int, dim: int) -> None:
    """Give ``module`` a ``position`` table ``(count, dim)`` to add to its tokens: ``"learned"`` (a
    trained vector per position, initialised as in ViT), ``"sinusoidal"`` (``sinusoidal_encoding``,
    fixed, not saved) or ``None`` (no table: the model sees a bag of tokens).

    Used by notebook 08 through `TinyViT` and `SequenceTagger`.
    """
    if positions not in ("learned", "sinusoidal", None):
        raise ValueError(f"positions must be 'learned', 'sinusoidal' or None, got {positions!r}.")
    if positions == "learned":
        module.position = nn.Parameter(torch.zeros(count, dim))
        nn.init.trunc_normal_(module.position, std=0.02)  # ViT's initialisation
    elif positions == "sinusoidal":
        module.register_buffer("position", sinusoidal_encoding(count, dim), persistent=False)
    else:
        module.position = None


def band_mask(length: int, window: int) -> torch.Tensor:
    """``(length, length)`` boolean mask, True where ``|i - j| <= window``: each position sees its
    ``window`` neighbours on either side (fewer at the ends).

    Introduced in notebook 08.
    """
    position = torch.arange(length)
    return (position[:, None] - position[None, :]).abs() <= window


def windowed_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``attention(q, k, v, band_mask(L, window))`` without the ``L x L`` matrix: each query meets
    only its ``2·window + 1`` neighbouring keys, so time and memory grow linearly in ``L``.

    Returns the output ``(..., L, d_v)`` and the weights ``(..., L, 2·window + 1)``; column ``j``
    is the key at offset ``j - window`` from the query.

    Introduced in notebook 08.
    """
    length, size = q.shape[-2], 2 * window + 1
    # Padding lets every query have a full row of neighbours; the padded keys are masked out below.
    k_near = F.pad(k, (0, 0, window, window)).unfold(-2, size, 1)  # (..., L, d, size), a view: no copy
    v_near = F.pad(v, (0, 0, window, window)).unfold(-2, size, 1)
    scores = (q.unsqueeze(-1) * k_near).sum(-2) / math.sqrt(q.shape[-1])  # (..., L, size)
    neighbour = torch.arange(length, device=q.device)[:, None] + torch.arange(-window, window + 1, device=q.device)
    inside = (neighbour >= 0) & (neighbour < length)
    weights = scores.masked_fill(~inside, float("-inf")).softmax(dim=-1)
    return (v_near * weights.unsqueeze(-2)).sum(-1), weights


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """``(B, C, H, W)`` images -> ``(B, N, C·patch·patch)``: the non-overlapping patches, row by
    row, each flattened in the order of a convolution kernel (channel, row, column).

    Introduced in notebook 08.
    """
    return F.unfold(images, kernel_size=patch, stride=patch).transpose(1, 2)


class EncoderBlock(nn.Module):
    """A pre-norm Transformer encoder block: ``x + attention(norm(x))``, then ``x + mlp(norm(x))``.
    ``forward`` returns the tokens and the attention weights ``(B, heads, N, N)``.

    Used by notebook 08 through `TinyViT` and `SequenceTagger`.
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: int = 2):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mixed, weights = self.attention(self.norm1(x))
        x = x + mixed  # attention mixes the tokens...
        x = x + self.mlp(self.norm2(x))  # ...the MLP transforms each token on its own
        return x, weights


class TinyViT(nn.Module):
    """A Vision Transformer (Dosovitskiy et al. 2021) small enough for CIFAR-10 on a CPU: patches (64 of
    4x4 pixels) embedded by a strided ``nn.Conv2d``, ``positions`` ``"learned"`` (as in ViT),
    ``"sinusoidal"`` or ``None`` (a bag of patches), pre-norm ``EncoderBlock``s, the **mean of the
    tokens** (no class token) and one linear layer; 141,898 parameters at the defaults.
    Introduced in notebook 08.
    """

    def __init__(
        self,
        image_size: int = 32,
        patch: int = 4,
        dim: int = 64,
        depth: int = 4,
        heads: int = 4,
        classes: int = 10,
        positions: str | None = "learned",
        in_channels: int = 3,
        mlp_ratio: int = 2,
    ):
        super().__init__()
        if image_size % patch:
            raise ValueError(f"image_size must be a multiple of patch, got {image_size} and {patch}.")
        self.patch, self.positions = patch, positions
        self.num_patches = (image_size // patch) ** 2
        self.patch_embed = nn.Conv2d(in_channels, dim, kernel_size=patch, stride=patch)
        add_positions(self, positions, self.num_patches, dim)
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) images -> (B, N, dim) tokens, positions added."""
        tokens = self.patch_embed(images).flatten(2).transpose(1, 2)  # patches row by row, as patchify
        return tokens if self.position is None else tokens + self.position

    def encode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(B, N, dim) tokens -> the normalised output tokens, and each block's attention weights."""
        maps = []
        for block in self.blocks:
            tokens, weights = block(tokens)
            maps.append(weights)
        return self.norm(tokens), maps

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        tokens, _ = self.encode(self.embed(images))
        return self.head(tokens.mean(dim=1))

    @torch.no_grad()
    def attention_maps(self, images: torch.Tensor) -> list[torch.Tensor]:
        """One ``(B, heads, N, N)`` tensor per block: row ``i`` is where patch ``i`` looked."""
        return self.encode(self.embed(images))[1]


# Head h of conv_as_attention looks at the neighbour at OFFSETS[h] = (row, column) offset, in the
# order of a 3x3 kernel's taps, so head h pairs with weight[:, :, h // 3, h % 3].
OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def offset_attention_weights(height: int, width: int, sharpness: float | None = None) -> torch.Tensor:
    """The 9 heads' attention weights ``(9, H·W, (H+2)·(W+2))`` of ``conv_as_attention``: queries
    are the image's pixels, keys the pixels of the image padded by one ring of zero tokens.

    ``sharpness=None``: head h puts weight exactly 1 on the key at offset ``OFFSETS[h]`` (score 0
    there, -inf elsewhere); the padding ring means that key always exists. A number: scores are
    ``-sharpness · distance²`` to that key, a softmax that tends to the one-hot as sharpness grows.

    Introduced in notebook 08.
    """
    key_y, key_x = torch.meshgrid(torch.arange(height + 2), torch.arange(width + 2), indexing="ij")
    # Pixel (i, j) of the image sits at (i + 1, j + 1) in the padded grid.
    query_y, query_x = torch.meshgrid(torch.arange(1, height + 1), torch.arange(1, width + 1), indexing="ij")
    key_y, key_x, query_y, query_x = (c.flatten() for c in (key_y, key_x, query_y, query_x))
    offsets = torch.tensor(OFFSETS)
    target_y = query_y[None, :] + offsets[:, 0, None]  # (9, H·W)
    target_x = query_x[None, :] + offsets[:, 1, None]
    distance2 = (key_y - target_y[..., None]) ** 2 + (key_x - target_x[..., None]) ** 2  # (9, H·W, keys)
    if sharpness is None:
        scores = torch.zeros(distance2.shape).masked_fill(distance2 != 0, float("-inf"))
    else:
        scores = -sharpness * distance2.float()
    return scores.softmax(dim=-1)


def conv_as_attention(x: torch.Tensor, weight: torch.Tensor, sharpness: float | None = None) -> torch.Tensor:
    """``F.conv2d(x, weight, padding=1)`` for a 3x3 ``weight`` ``(C_out, C_in, 3, 3)``, computed as
    multi-head self-attention over the pixels (Cordonnier et al. 2020): head h copies each pixel's
    neighbour at ``OFFSETS[h]`` (its value projection is the identity), and the output projection
    multiplies head h by the kernel tap ``weight[:, :, h // 3, h % 3]``.

    ``sharpness`` as in ``offset_attention_weights``: None is exact, a number approximates.

    Introduced in notebook 08.
    """
    batch, channels, height, width = x.shape
    tokens = F.pad(x, (1, 1, 1, 1)).flatten(2).transpose(1, 2)  # (B, keys, C_in); the ring is zero tokens
    weights = offset_attention_weights(height, width, sharpness).to(x)
    heads = weights @ tokens.unsqueeze(1)  # (B, 9, H·W, C_in): head h's copy of each pixel's neighbour
    taps = weight.flatten(2).permute(2, 1, 0)  # (9, C_in, C_out): tap h of the kernel
    out = torch.einsum("bhnc,hco->bno", heads, taps)  # output projection: sum over heads and channels
    return out.transpose(1, 2).reshape(batch, -1, height, width)


def elu_plus_one(x: torch.Tensor) -> torch.Tensor:
    """The feature map φ of linear attention (Katharopoulos et al. 2020): ``elu(x) + 1 > 0``.

    Used by notebook 08 through `linear_attention_parallel` and `linear_attention_recurrent`.
    """
    return F.elu(x) + 1


def linear_attention_parallel(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, feature: Callable = elu_plus_one
) -> torch.Tensor:
    """Causal linear attention, all positions at once: the softmax's ``exp(q·k)`` is replaced by
    ``φ(q)·φ(k)``, and query ``t`` averages the values ``v_1 .. v_t`` with those weights:
    ``out_t = Σ_{s<=t} (φ(q_t)·φ(k_s)) v_s / Σ_{s<=t} φ(q_t)·φ(k_s)``. Still ``L x L`` here.

    Introduced in notebook 08.
    """
    length = q.shape[-2]
    scores = feature(q) @ feature(k).transpose(-2, -1)  # (..., L, L), every entry > 0
    causal = torch.ones(length, length, dtype=torch.bool, device=q.device).tril()
    scores = scores * causal  # no future key; a zero, not -inf: there is no softmax here
    return (scores @ v) / scores.sum(dim=-1, keepdim=True)


def linear_attention_recurrent(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, feature: Callable = elu_plus_one
) -> torch.Tensor:
    """``linear_attention_parallel`` one step at a time, like an RNN: a state
    ``S = Σ_s φ(k_s) v_sᵀ`` ``(d_k x d_v)`` and a normaliser ``z = Σ_s φ(k_s)``, each updated
    once per step, so a step costs the same at position 10 and at position 10,000.

    Introduced in notebook 08.
    """
    fq, fk = feature(q), feature(k)
    state = q.new_zeros(*q.shape[:-2], q.shape[-1], v.shape[-1])
    normaliser = q.new_zeros(*q.shape[:-2], q.shape[-1])
    outputs = []
    for t in range(q.shape[-2]):
        state = state + fk[..., t, :, None] * v[..., t, None, :]  # add the outer product φ(k_t) v_tᵀ
        normaliser = normaliser + fk[..., t, :]
        numerator = (fq[..., t, None, :] @ state).squeeze(-2)
        outputs.append(numerator / (fq[..., t, :] * normaliser).sum(dim=-1, keepdim=True))
    return torch.stack(outputs, dim=-2)
