"""Recurrent networks of notebook 08: one LSTM step written by hand and run over a sequence with an
``nn.LSTM``'s weights, the forget-gate bias, a classifier that reads an MNIST image row by row
(a tanh RNN or an LSTM), and how much of the loss's gradient reaches each time step."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def lstm_step(
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor,
    bias_hh: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step (Hochreiter and Schmidhuber 1997, with the forget gate of Gers et al. 2000):
    ``x`` ``(B, D)``, ``h`` and ``c`` ``(B, H)`` -> the new ``(h, c)``.

    The four gates come from one matrix product, stacked in ``nn.LSTM``'s order i, f, g, o
    (``weight_ih`` is ``(4H, D)``, rows ``[0:H]`` for i, ``[H:2H]`` for f, ...)::

        i = σ(·)  how much of the candidate to write      f = σ(·)  how much of the cell to keep
        g = tanh(·)  the candidate                        o = σ(·)  how much of the cell to show
        c' = f * c + i * g                                h' = o * tanh(c')

    Introduced in notebook 08.
    """
    # nn.LSTM has two biases that always appear summed: only b_ih + b_hh matters.
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # the cell is updated by addition, not a matrix
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


def lstm_by_hand(x: torch.Tensor, lstm: nn.LSTM) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """``lstm(x)`` for a ``(B, L, D)`` sequence, computed with ``lstm_step``: the same outputs
    ``(B, L, H)`` and final ``(h, c)``, each ``(layers, B, H)``, starting from zero states. Each
    layer reads the outputs of the layer below. One direction, no dropout between layers.

    Introduced in notebook 08.
    """
    if lstm.bidirectional or lstm.proj_size or (lstm.dropout and lstm.training):
        raise ValueError("lstm_by_hand covers one direction, no projection and no dropout.")
    if not lstm.batch_first:
        x = x.transpose(0, 1)  # nn.LSTM would read this tensor as (L, B, D)
    finals_h, finals_c = [], []
    for layer in range(lstm.num_layers):
        weights = [getattr(lstm, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh")]
        no_bias = x.new_zeros(4 * lstm.hidden_size)  # nn.LSTM(bias=False) has no bias parameters at all
        biases = [getattr(lstm, f"{name}_l{layer}") if lstm.bias else no_bias for name in ("bias_ih", "bias_hh")]
        h = c = x.new_zeros(x.shape[0], lstm.hidden_size)
        outputs = []
        for t in range(x.shape[1]):
            h, c = lstm_step(x[:, t], h, c, *weights, *biases)
            outputs.append(h)
        x = torch.stack(outputs, dim=1)
        finals_h.append(h)
        finals_c.append(c)
    if not lstm.batch_first:
        x = x.transpose(0, 1)
    return x, (torch.stack(finals_h), torch.stack(finals_c))


def set_forget_bias(lstm: nn.LSTM, value: float = 1.0) -> nn.LSTM:
    """Start every layer's forget gate at bias ``value``: the forget slice ``[H:2H]`` of each
    ``bias_ih`` is set to ``value`` and that of each ``bias_hh`` to 0, so their sum, the bias the
    gate sees, is ``value``. The other gates' biases are left as they are. Returns ``lstm``.

    Why: at PyTorch's initialisation the forget gate sits near σ(0) = 0.5, so the cell halves at
    every step and the gradient that flows back along it shrinks like 0.5^steps. A bias of 1
    (σ(1) ≈ 0.73) lets the cell remember from the start (Gers et al. 2000; Jozefowicz et al.
    2015). ``nn.LSTM`` has no option for it; Keras adds 1 by default (``unit_forget_bias=True``).

    Introduced in notebook 08.
    """
    hidden = lstm.hidden_size
    with torch.no_grad():
        for name, bias in lstm.named_parameters():  # every layer, and both directions if there are two
            if name.startswith("bias_ih"):
                bias[hidden : 2 * hidden] = value
            elif name.startswith("bias_hh"):
                bias[hidden : 2 * hidden] = 0.0
    return lstm


class RowClassifier(nn.Module):
    """Reads a ``(B, 1, 28, 28)`` MNIST image as a sequence of 28 rows of 28 pixels, top to bottom,
    with a tanh RNN (``kind="rnn"``) or an LSTM (``kind="lstm"``), and classifies it from the last
    hidden state with one linear layer: the answer depends on a row read 27 steps earlier.

    ``forget_bias`` (LSTM only) applies ``set_forget_bias`` at construction; None keeps
    PyTorch's initialisation. ``rows(images)`` is the sequence ``(B, 28, 28)`` and ``read(rows)``
    the logits, so that a gradient can be taken with respect to each row.

    Introduced in notebook 08.
    """

    def __init__(
        self,
        kind: str = "lstm",
        hidden: int = 64,
        layers: int = 1,
        classes: int = 10,
        forget_bias: float | None = None,
        rows: int = 28,
        row_size: int = 28,
    ):
        super().__init__()
        if kind not in ("rnn", "lstm"):
            raise ValueError(f"kind must be 'rnn' or 'lstm', got {kind!r}.")
        if forget_bias is not None and kind != "lstm":
            raise ValueError("forget_bias is an LSTM's: a plain RNN has no forget gate.")
        self.kind, self.num_rows, self.row_size = kind, rows, row_size
        recurrent = nn.RNN if kind == "rnn" else nn.LSTM  # nn.RNN's nonlinearity is tanh by default
        self.recurrent = recurrent(row_size, hidden, num_layers=layers, batch_first=True)
        if forget_bias is not None:
            set_forget_bias(self.recurrent, forget_bias)
        self.classifier = nn.Linear(hidden, classes)

    def rows(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, 28, 28): step t is row t of the image."""
        return images.reshape(len(images), self.num_rows, self.row_size)

    def read(self, rows: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.recurrent(rows)  # (B, steps, hidden): the top layer's state after every step
        return self.classifier(outputs[:, -1])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.read(self.rows(images))


def step_gradients(model: RowClassifier, images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """The norm of the cross-entropy loss's gradient with respect to each row (time step) of the
    input, first row first: one value per step, over the whole batch. No parameter receives a
    gradient, and nothing is trained: call it on a fresh model to see the network at initialisation.

    Small values at the first steps mean the early rows barely move the loss: what the network
    could learn from them arrives faint (the vanishing gradient of a tanh RNN).

    Introduced in notebook 08.
    """
    sequence = model.rows(images).detach().requires_grad_(True)
    loss = F.cross_entropy(model.read(sequence), labels)
    (grad,) = torch.autograd.grad(loss, sequence)  # w.r.t. the input only: parameters' .grad stay untouched
    return [float(norm) for norm in torch.linalg.vector_norm(grad, dim=(0, 2))]
