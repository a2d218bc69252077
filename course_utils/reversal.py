"""Notebook 08's task that needs positions: reverse a sequence of tokens. Its batches, the best
accuracy of any predictor that cannot see positions, the small Transformer that learns it
(``SequenceTagger``, built from ``attention``'s blocks and positional encodings) and its training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import EncoderBlock, add_positions


def reversal_batch(batch: int, length: int, vocab: int, generator: torch.Generator | None = None):
    """A batch of the sequence-reversal task: ``batch`` sequences of ``length`` tokens drawn
    uniformly from ``0 .. vocab-1``, and as targets the same sequences reversed: the answer at
    position ``i`` is the token at position ``length - 1 - i``. Returns ``(tokens, targets)``.

    Used by notebook 08 through `train_reversal`.
    """
    tokens = torch.randint(vocab, (batch, length), generator=generator)
    return tokens, tokens.flip(1)


def equivariant_reversal_bound(length: int, vocab: int, samples: int = 100_000, seed: int = 0) -> float:
    """The best accuracy on the reversal task of any predictor that cannot see positions (a
    permutation-equivariant one), estimated over ``samples`` random sequences.

    Such a predictor's answer at a position can depend only on the token there and on the bag of
    all tokens. Given both, the target (the token at the mirrored position, for an even length
    never the same position) is equally likely to be any of the other ``length - 1`` tokens of the
    bag, so the best guess is the most frequent of them, right with probability ``count / (length
    - 1)``. The estimate averages that probability over sequences and positions.

    Introduced in notebook 08.
    """
    if length % 2:
        raise ValueError(f"length must be even (no position is its own mirror), got {length}.")
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(vocab, (samples, length), generator=generator)
    counts = F.one_hot(tokens, vocab).sum(1)  # (samples, vocab): the bag
    others = counts[:, None, :] - F.one_hot(tokens, vocab)  # (samples, length, vocab): the bag less the token itself
    return float((others.max(-1).values / (length - 1)).float().mean())


class SequenceTagger(nn.Module):
    """A small Transformer encoder that predicts one token per position (for the reversal task):
    a token embedding, ``positions`` as in ``TinyViT`` (``"learned"``, ``"sinusoidal"`` or None),
    ``depth`` pre-norm ``EncoderBlock``s, a LayerNorm and a linear layer over the vocabulary.
    ``forward(tokens)`` maps ``(B, L)`` token ids to ``(B, L, vocab)`` logits.

    Introduced in notebook 08.
    """

    def __init__(
        self, vocab: int, length: int, dim: int = 64, depth: int = 2, heads: int = 4, positions: str | None = "learned"
    ):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        add_positions(self, positions, length, dim)
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        if self.position is not None:
            x = x + self.position
        for block in self.blocks:
            x, _ = block(x)
        return self.head(self.norm(x))


def train_reversal(
    model: nn.Module,
    *,
    steps: int,
    batch: int,
    length: int,
    vocab: int,
    lr: float,
    seed: int,
    device="cpu",
    test_size: int = 2_000,
) -> tuple[float, list[float]]:
    """Train ``model`` (a ``SequenceTagger``) on fresh reversal batches for ``steps`` Adam steps,
    then score it on ``test_size`` sequences it never saw: returns the share of tokens it puts in
    the right place, and the training loss of every step. The training and test sequences come
    from two generators seeded from ``seed`` (on the CPU, whatever ``device`` trains), so a seed
    fixes both.

    Introduced in notebook 08.
    """
    train_gen = torch.Generator().manual_seed(seed)
    test_tokens, test_targets = reversal_batch(test_size, length, vocab, torch.Generator().manual_seed(seed + 10_000))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        tokens, targets = (t.to(device) for t in reversal_batch(batch, length, vocab, train_gen))
        loss = F.cross_entropy(model(tokens).flatten(0, 1), targets.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    model.eval()
    with torch.no_grad():
        predicted = model(test_tokens.to(device)).argmax(-1).cpu()
    return (predicted == test_targets).float().mean().item(), torch.stack(losses).tolist()
