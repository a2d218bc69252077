"""Notebook 08 executed at the smoke profile: the claims it makes, read from its metrics JSON, its
effects in the runs kept at `cpu` (seeds 0, 1 and 2), and its full-profile dry run's sizes.

Thresholds come from smoke runs at seeds 0, 1 and 2 (their values: docs/reference-results.md,
"smoke profile"); each bound leaves a margin under the worst seed and is said next to it.
The comparisons in its text are registered below (``COMPARISONS``, checked by
tests/test_comparisons.py from the runs kept at seeds 0-2: what a change commits, not what CI
computes); each bound is about half the smallest effect at those seeds, unless its comment says
otherwise.
"""

from __future__ import annotations

import math

import pytest
from comparisons import CODE, Claim, kept

from course_utils import ImprovedNet, count_params, data
from course_utils.attention import TinyViT
from course_utils.recurrent import RowClassifier

# Figures in the notebook's text that tests/test_prose.py does not hold to a record yet, and why;
# a figure traced (or gone) must leave the list.
PROSE_WAIVED = {
    "08_attention_and_lstm": (
        "not traced yet: the exercises' answers await their record (issue 32, section 2)",
        "1.1e-8 6.3e-6 4.9e-3 0.27 0.349 0.4 0.429 0.540 0.636 0.678 6.8e-1 0.684 0.73 0.944 0.95 0.96 0.984 "
        "2.8 6.4 6.5 11 12 15.0 16 18.0 24.1 24.2 35.66 37.88 44.88 45.53 46.36 49 51.28 68.5 75.8 87.33 95 "
        "96.76 97.19 100.0 1,000 1,024 3,072 9,216 10,000 141,898 148,042",
    ),
}

NOTEBOOK = "08_attention_and_lstm"
KEPT = kept(NOTEBOOK)


def gains_of_nine_times_the_images(seeds) -> float:
    """Validation, large share minus small: at seeds 0 and 1 both models gain and the ViT more; at
    seed 2 the ViT gains and the CNN does not (the smallest of these margins: the CNN, 0.24 points lower
    at seed 2)."""
    gain = [
        {m: r["vit_val_acc"][f"large/{m}"] - r["vit_val_acc"][f"small/{m}"] for m in ("ImprovedNet", "TinyViT")}
        for r in seeds
    ]
    cnn, vit = [g["ImprovedNet"] for g in gain], [g["TinyViT"] for g in gain]
    return min(cnn[0], cnn[1], vit[0] - cnn[0], vit[1] - cnn[1], vit[2], -cnn[2])


def gradient_ratio(r, model, against) -> float:  # row 1's gradient over row 28's, model against model
    ratios = r["step_grad_first_over_last"]
    return ratios[model] / ratios[against]


def reversal(r, positions) -> float:  # accuracy over the best a model without positions can do
    return r["reversal_acc"][positions] - r["reversal_bound"]


# The kept runs (cpu, seeds 0 / 1 / 2; 22,500 CIFAR-10 training images, small share 2,500; all MNIST
# digits, 3 epochs; 1,000 reversal steps): reversal without positions 31.5 / 31.7 / 32.1 % against
# its bound of 31.7 %, 100 % with either kind; validation, ImprovedNet minus TinyViT, small share
# +11.0 / +12.4 / +11.8 points, large +10.0 / +8.5 / +2.6; the gradient at row 1 over row 28 at
# initialisation, RNN 1.2e-8 / 2.9e-8 / 1.0e-8, LSTM 5.5e-6 / 2.3e-6 / 9.1e-6, with forget bias 1
# 4.9e-3 / 3.7e-3 / 4.1e-3; MNIST rows, test, RNN 87.33 / 89.94 / 89.07 %, LSTM 96.76 / 97.10 / 97.64 %.
COMPARISONS = {
    NOTEBOOK: [
        Claim(
            "answers at a position from the token there and the bag of all tokens",
            KEPT,
            lambda r: reversal(r, "None"),
            below=0.02,
        ),  # within 2 points of it
        Claim(
            "is trained without positions, with sinusoidal ones and with learned ones",
            KEPT,
            lambda r: min(reversal(r, "sinusoidal"), reversal(r, "learned")),
            above=0.5,
        ),
        Claim(
            "the CNN was ahead at both shares at every seed",
            KEPT,
            lambda r: min(r["cnn_lead_small"], r["cnn_lead_large"]),
            above=0.013,
        ),
        Claim(
            "nine times the images narrowed the gap at every seed",
            KEPT,
            lambda r: r["cnn_lead_small"] - r["cnn_lead_large"],
            above=0.005,
        ),  # smallest 1.0 point
        Claim(
            "At seeds 0 and 1 both models gained and the ViT gained more",
            KEPT,
            gains_of_nine_times_the_images,
            above=0.0012,
            across=True,
        ),
        # factors of at least 78 (LSTM over RNN) and 400 (forget bias 1 over PyTorch's initialisation)
        Claim(
            "the cell carries its content unchanged through any number of steps",
            KEPT,
            lambda r: gradient_ratio(r, "LSTM, PyTorch's init", "tanh RNN"),
            above=10,
        ),
        Claim(
            "an LSTM whose forget gate starts at bias 1",
            KEPT,
            lambda r: gradient_ratio(r, "LSTM, forget bias 1", "LSTM, PyTorch's init"),
            above=10,
        ),
        Claim(
            "An RNN against an LSTM on MNIST, row by row.",
            KEPT,
            lambda r: r["lstm_test_acc"] - r["rnn_test_acc"],
            above=0.035,
        ),  # smallest +7.2 points
    ]
}
COMPARISONS_WAIVED = {
    NOTEBOOK: {
        CODE: (
            "This notebook builds its blocks from `SelfAttention` rather than PyTorch's `nn.TransformerEncoderLayer`",
        ),
        "an exercise's answer that awaits its record (issue 32, section 2)": (
            "The measured ratios are larger than these products",
            "The gap grew from 68.5 to 75.8 points",
            "and the CNN's lead grew",
        ),
    }
}
SOURCES = {data.SOURCE_CIFAR_OFFICIAL, data.SOURCE_CIFAR_JPEG}
# Identities the notebook computes two ways; float32 rounding only (measured at most 3.8e-6).
IDENTITIES = (
    "attention_implementations",
    "per_head_weights",
    "band_vs_windowed",
    "mask_polarity",
    "equivariance",
    "vit_shuffle_None",
    "sinusoid_rotation",
    "conv_as_attention",
    "patch_embed",
    "linear_attention",
    "lstm_by_hand",
    "cell_carries",
)


@pytest.fixture(scope="module")
def nb08(run_notebook, mirror):
    return run_notebook(NOTEBOOK)


@pytest.mark.any_device
def test_records_the_contract_and_the_splits(nb08):
    assert nb08["data_source"] in SOURCES
    assert (nb08["train_size"], nb08["val_size"], nb08["test_size"]) == (1_800, 200, 1_000)
    assert nb08["small_share_size"] == 400 and nb08["vit_epochs"] == {"small": 9, "large": 2}
    assert (nb08["rows_train_size"], nb08["rows_test_size"]) == (10_000, 10_000)
    assert nb08["batch_shape"] == [128, 1, 28, 28]


@pytest.mark.any_device
def test_exact_identities(nb08):
    checks = nb08["checks"]
    for name in IDENTITIES:
        assert checks[name] < 1e-4, name
    assert checks["multihead_params"] == 0  # 4D² + 4D at every number of heads
    assert checks["receptive_field"] == 0  # n layers of window w see n·w positions away


@pytest.mark.any_device
def test_parameter_counts_exactly(nb08):
    assert nb08["vit_params"] == count_params(TinyViT()) == 141_898
    assert nb08["cnn_params"] == count_params(ImprovedNet(width=16))
    assert nb08["rnn_params"] == count_params(RowClassifier("rnn", hidden=64)) == 6_666
    assert nb08["lstm_params"] == count_params(RowClassifier("lstm", hidden=64)) == 24_714


def test_positions_tell_a_shuffled_image_apart(nb08):
    # untrained, so small but far above rounding: at least 3.9e-3 (learned), 3.7e-2 (sinusoidal)
    assert nb08["checks"]["vit_shuffle_learned"] > 1e-3
    assert nb08["checks"]["vit_shuffle_sinusoidal"] > 1e-3


def test_dividing_by_root_d_keeps_the_scores_spread_at_one(nb08):
    for d, spread in nb08["qk_spread"].items():
        assert spread / math.sqrt(int(d)) == pytest.approx(1, abs=0.1), d


def test_reversal_needs_positions(nb08):
    bound, acc = nb08["reversal_bound"], nb08["reversal_acc"]
    assert bound == pytest.approx(0.317, abs=0.005)  # 31.73 % at every seed
    assert acc["None"] <= bound + 0.02  # measured at most 0.15 points above the simulated bound
    assert acc["sinusoidal"] > bound + 0.5  # 100 % at every seed


def test_an_lstm_carries_the_gradient_to_early_rows(nb08):
    ratio = nb08["step_grad_first_over_last"]
    # smallest factors measured: LSTM over RNN 78, forget bias 1 over PyTorch's LSTM 400
    assert ratio["LSTM, PyTorch's init"] > 10 * ratio["tanh RNN"]
    assert ratio["LSTM, forget bias 1"] > 10 * ratio["LSTM, PyTorch's init"]


def test_the_lstm_reads_rows_better_than_the_rnn(nb08):
    assert nb08["lstm_test_acc"] > nb08["rnn_test_acc"] + 0.06  # smallest lead 12.8 points
    assert nb08["rnn_test_acc"] > 0.2  # both learn: chance is 10 %


def check_full_dry_run(m: dict, settings: dict) -> None:
    """08's dry run at full size: all 45,000 training images as the large share, all MNIST digits,
    the profile's models, 4 images a batch and 10 reversal steps."""
    assert (m["train_size"], m["val_size"], m["test_size"]) == (45_000, 5_000, 10_000)  # all 50,000 less 10% validation
    assert m["small_share_size"] == settings["vit_small_images"]
    seen = settings["vit_images_seen"]
    assert m["vit_epochs"] == {"small": round(seen / settings["vit_small_images"]), "large": round(seen / 45_000)}
    assert m["vit_params"] == count_params(TinyViT()) and m["cnn_params"] == count_params(ImprovedNet(width=16))
    assert (m["rows_train_size"], m["rows_test_size"]) == (60_000, 10_000)
    assert m["batch_shape"] == [4, 1, 28, 28]
    hidden = settings["rows_hidden"]
    assert m["rnn_params"] == count_params(RowClassifier("rnn", hidden=hidden))
    assert m["lstm_params"] == count_params(RowClassifier("lstm", hidden=hidden))
    assert set(m["reversal_acc"]) == {"None", "sinusoidal", "learned"}
