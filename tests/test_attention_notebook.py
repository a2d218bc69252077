"""Notebook 08 executed at the smoke profile: the claims it makes, read from its metrics JSON, its
effects in the runs kept at `cpu` (seeds 0, 1 and 2), and its full-profile dry run's sizes.

Thresholds come from smoke runs at seeds 0, 1 and 2 (their values: docs/reference-results.md,
"smoke profile"); each bound leaves a margin under the worst seed and is said next to it.
The `test_at_cpu_*` tests (marker `committed`) read the runs kept in docs/verified/seeds/: they guard
what a change commits, not what CI computes.
"""

from __future__ import annotations

import math

import pytest

from course_utils import ImprovedNet, count_params, data
from course_utils.attention import TinyViT
from course_utils.course import kept_seed_metrics
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


@pytest.mark.any_device
@pytest.mark.committed
@pytest.mark.parametrize("seed", (0, 1, 2))
def test_at_cpu_positions_the_cnn_and_the_lstm(seed):
    """08's effects in the runs kept at cpu on 2026-12-01, seeds 0 / 1 / 2 (22,500 CIFAR-10 training
    images, small share 2,500, 67,500 images seen by each model; all 60,000 MNIST digits, 3 epochs;
    1,000 reversal steps):
      reversal: without positions 31.5 / 31.7 / 32.1 % (bound 31.7 %), sinusoidal and learned 100 %
      validation, ImprovedNet minus TinyViT: small share +11.0 / +12.4 / +11.8 points, large share
        +10.0 / +8.5 / +2.6 (test: small +11.1 / +14.4 / +13.6, large +9.7 / +10.3 / +4.8)
      gradient at row 1 over row 28 at initialisation: RNN 1.2e-8 / 2.9e-8 / 1.0e-8, LSTM 5.5e-6 /
        2.3e-6 / 9.1e-6, LSTM with forget bias 1 4.9e-3 / 3.7e-3 / 4.1e-3
      MNIST rows, test: RNN 87.33 / 89.94 / 89.07 %, LSTM 96.76 / 97.10 / 97.64 % (+9.4 / +7.2 / +8.6)
    Each bound is about half the smallest measured effect."""
    run = kept_seed_metrics(NOTEBOOK, seed)
    assert run["profile"] == "cpu" and run["seed"] == seed
    acc, bound = run["reversal_acc"], run["reversal_bound"]
    assert acc["None"] <= bound + 0.02
    assert min(acc["sinusoidal"], acc["learned"]) > bound + 0.5
    assert run["cnn_lead_small"] > 0.05  # smallest +11.0 points
    assert run["cnn_lead_large"] > 0.01  # smallest +2.6 points
    ratio = run["step_grad_first_over_last"]
    assert ratio["LSTM, PyTorch's init"] > 10 * ratio["tanh RNN"]
    assert ratio["LSTM, forget bias 1"] > 10 * ratio["LSTM, PyTorch's init"]
    assert run["lstm_test_acc"] > run["rnn_test_acc"] + 0.035  # smallest +7.2 points


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
