"""Unit tests of course_utils.recurrent (notebook 08): the hand-written LSTM against nn.LSTM, the
forget-gate bias and the memory it gives the cell, the row-by-row classifier's sizes, and the
gradient that reaches its first rows."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from course_utils import count_params
from course_utils.recurrent import RowClassifier, lstm_by_hand, lstm_step, set_forget_bias, step_gradients


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("layers", [1, 2])
def test_lstm_by_hand_equals_nn_lstm(layers):
    lstm = nn.LSTM(5, 7, num_layers=layers, batch_first=True)
    x = torch.randn(3, 9, 5)
    out, (h, c) = lstm_by_hand(x, lstm)
    expected, (expected_h, expected_c) = lstm(x)
    assert_close(out, expected)
    assert_close(h, expected_h)
    assert_close(c, expected_c)
    assert h.shape == c.shape == (layers, 3, 7)


def test_lstm_step_gate_order_is_i_f_g_o():
    # Only the forget gate's bias is huge: the cell keeps c exactly, whatever the other gates do...
    hidden = 4
    weight_ih, weight_hh = torch.zeros(4 * hidden, 3), torch.zeros(4 * hidden, hidden)
    bias = torch.zeros(4 * hidden)
    bias[hidden : 2 * hidden] = 100.0  # f: σ = 1
    bias[:hidden] = -100.0  # i: σ = 0, nothing written
    c = torch.randn(2, hidden)
    h, c_next = lstm_step(
        torch.randn(2, 3), torch.randn(2, hidden), c, weight_ih, weight_hh, bias, torch.zeros_like(bias)
    )
    assert_close(c_next, c)
    assert_close(h, torch.sigmoid(torch.zeros(2, hidden)) * torch.tanh(c))  # o = σ(0) = 0.5
    # ...and with the forget gate shut and the input gate open, the cell becomes tanh(g) = tanh(bias_g).
    bias = torch.zeros(4 * hidden)
    bias[:hidden], bias[hidden : 2 * hidden], bias[2 * hidden : 3 * hidden] = 100.0, -100.0, 0.5
    _, c_next = lstm_step(
        torch.randn(2, 3), torch.randn(2, hidden), c, weight_ih, weight_hh, bias, torch.zeros_like(bias)
    )
    assert_close(c_next, torch.full((2, hidden), 0.5).tanh())


def test_set_forget_bias_sets_exactly_the_forget_slices_of_every_layer():
    hidden = 6
    lstm = nn.LSTM(4, hidden, num_layers=2)
    before = {name: p.detach().clone() for name, p in lstm.named_parameters()}
    assert set_forget_bias(lstm, 1.5) is lstm
    forget = slice(hidden, 2 * hidden)  # gate order i, f, g, o
    for name, p in lstm.named_parameters():
        if name.startswith("bias_ih"):
            assert (p[forget] == 1.5).all()
        elif name.startswith("bias_hh"):
            assert (p[forget] == 0).all()
        else:
            assert p.equal(before[name])
            continue
        rest = torch.ones(4 * hidden, dtype=torch.bool)
        rest[forget] = False
        assert p[rest].equal(before[name][rest])
    assert lstm.bias_ih_l1[forget].sum() + lstm.bias_hh_l1[forget].sum() == 1.5 * hidden


def test_an_open_forget_gate_carries_the_cell_unchanged():
    hidden, steps = 5, 60
    lstm = set_forget_bias(nn.LSTM(3, hidden, batch_first=True), 100.0)
    with torch.no_grad():
        lstm.bias_ih_l0[:hidden] = -100.0  # the input gate closed: nothing is written into the cell
    x, h0, c0 = torch.randn(2, steps, 3), torch.zeros(1, 2, hidden), torch.randn(1, 2, hidden)
    _, (_, c) = lstm(x, (h0, c0))
    assert_close(c, c0)
    set_forget_bias(lstm, 0.0)  # PyTorch's σ(≈0) ≈ 0.5: the same value is gone after 60 steps
    _, (_, c) = lstm(x, (h0, c0))
    assert c.abs().max() < 1e-6 * c0.abs().max()


def _recurrent_params(gates, inputs, hidden, layers):
    first = gates * hidden * (inputs + hidden) + 2 * gates * hidden  # two biases, as in cuDNN
    return first + (layers - 1) * (gates * hidden * (hidden + hidden) + 2 * gates * hidden)


@pytest.mark.parametrize("kind, gates", [("rnn", 1), ("lstm", 4)])
@pytest.mark.parametrize("hidden, layers", [(64, 1), (32, 2)])
def test_row_classifier_shapes_and_parameter_counts(kind, gates, hidden, layers):
    model = RowClassifier(kind, hidden=hidden, layers=layers)
    assert count_params(model) == _recurrent_params(gates, 28, hidden, layers) + hidden * 10 + 10
    images = torch.randn(3, 1, 28, 28)
    assert model.rows(images).shape == (3, 28, 28)
    assert_close(model.rows(images)[:, 5], images[:, 0, 5])  # step 5 is row 5
    assert model(images).shape == (3, 10)


def test_row_classifier_sizes_at_the_defaults():
    assert count_params(RowClassifier("rnn")) == 6_666
    assert count_params(RowClassifier("lstm")) == 24_714
    with pytest.raises(ValueError):
        RowClassifier("gru")
    with pytest.raises(ValueError):
        RowClassifier("rnn", forget_bias=1.0)
    model = RowClassifier("lstm", forget_bias=1.0)
    assert (model.recurrent.bias_ih_l0[64:128] == 1).all() and (model.recurrent.bias_hh_l0[64:128] == 0).all()


def test_step_gradients_one_norm_per_row_and_no_side_effects():
    model = RowClassifier("lstm", hidden=16)
    images, labels = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    before = [p.detach().clone() for p in model.parameters()]
    norms = step_gradients(model, images, labels)
    assert len(norms) == 28 and all(n > 0 and n < float("inf") for n in norms)
    assert all(p.grad is None for p in model.parameters())
    assert all(p.equal(b) for p, b in zip(model.parameters(), before))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_first_row_gradient_of_a_tanh_rnn_is_smaller_than_an_lstm_with_forget_bias(seed):
    generator = torch.Generator().manual_seed(100)
    images, labels = torch.rand(16, 1, 28, 28, generator=generator), torch.randint(0, 10, (16,), generator=generator)
    torch.manual_seed(seed)
    rnn = step_gradients(RowClassifier("rnn"), images, labels)
    torch.manual_seed(seed)
    lstm = step_gradients(RowClassifier("lstm", forget_bias=1.0), images, labels)
    assert rnn[0] < lstm[0]  # measured at seeds 0-4: about 1e-9 against 1e-4
