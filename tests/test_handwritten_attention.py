"""The course's hand-written attention is the course's attention: the function that a committed
notebook writes by hand (the one code cell of the catalogue's notebooks that starts with
``# Attention, written by hand``, notebook 08's) gives what
``course_utils.attention.attention`` and ``F.scaled_dot_product_attention`` give, on inputs other
than the notebook's own. The cell is taken from the committed notebook, so the test follows its text.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from course_cells import course_cell

from course_utils import attention as att

MARKER = "# Attention, written by hand"


def hand_attention():
    """The notebook's ``attention_by_hand``, from its cell's definition only (the example after it
    is not run)."""
    name, source = course_cell(MARKER)
    definition = source.split("\n\n\n")[0]  # the def, up to the two blank lines before the example
    namespace = {"torch": torch, "math": math}
    exec(compile(definition, f"{name}:{MARKER}", "exec"), namespace)
    return namespace["attention_by_hand"]


@pytest.mark.parametrize("batch, length, dim, d", [(1, 4, 8, 8), (3, 17, 12, 5), (2, 64, 32, 16)])
def test_hand_written_attention_equals_the_package_and_pytorch(batch, length, dim, d):
    attention_by_hand = hand_attention()
    generator = torch.Generator().manual_seed(length)
    x = torch.randn(batch, length, dim, generator=generator)
    w_q, w_k, w_v = (torch.randn(dim, d, generator=generator) / math.sqrt(dim) for _ in range(3))
    out, weights = attention_by_hand(x, w_q, w_k, w_v)
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    package_out, package_weights = att.attention(q, k, v)
    torch.testing.assert_close(out, package_out)
    torch.testing.assert_close(weights, package_weights)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
    torch.testing.assert_close(weights.sum(-1), torch.ones(batch, length))


def test_hand_written_attention_equals_a_one_head_block_and_multihead_attention():
    """With the block's projections set to the hand-written weights (no biases) and its output
    projection the identity, ``SelfAttention`` and ``nn.MultiheadAttention(batch_first=True)`` with
    its weights copied compute exactly the hand-written formula."""
    attention_by_hand = hand_attention()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 9, 8, generator=generator)
    w_q, w_k, w_v = (torch.randn(8, 8, generator=generator) / math.sqrt(8) for _ in range(3))
    block = att.SelfAttention(8, heads=1)
    with torch.no_grad():
        for proj, w in ((block.q_proj, w_q), (block.k_proj, w_k), (block.v_proj, w_v)):
            proj.weight.copy_(w.T)  # nn.Linear computes x @ weight.T
            proj.bias.zero_()
        block.out_proj.weight.copy_(torch.eye(8))
        block.out_proj.bias.zero_()
    expected, expected_weights = attention_by_hand(x, w_q, w_k, w_v)
    out, weights = block(x)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(weights[:, 0], expected_weights)
    mha_out, mha_weights = att.copy_to_multihead(block)(x, x, x)
    torch.testing.assert_close(mha_out, expected)
    torch.testing.assert_close(mha_weights, expected_weights)


def test_pytorchs_encoder_layer_defaults_that_the_notebook_names():
    """Notebook 08 builds its blocks from SelfAttention; it names these defaults of torch 2.14.1."""
    layer = torch.nn.TransformerEncoderLayer(64, 4)
    assert layer.linear1.out_features == 2048 and layer.dropout.p == 0.1
    assert layer.self_attn.batch_first is False
    assert isinstance(layer(torch.randn(5, 2, 64)), torch.Tensor)  # the output alone: no attention weights
