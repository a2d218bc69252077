"""The training loop: fit keeps the best model by *validation* accuracy, runs repeat with the same
seed, an interrupted run resumes to the same result, and the mixed-precision paths run."""

import json

import pytest
import torch
import torch.nn.functional as F

from course_utils import (
    count_params,
    data,
    fit,
    load_checkpoint,
    loaders,
    seed_everything,
    splits,
    train_one_epoch,
    write_metrics,
)
from course_utils.catalogue import CATALOGUE
from course_utils.checkpoints import last_state_path
from course_utils.metrics import confusion_matrix, per_class_accuracy, points
from course_utils.models import CNN
from course_utils.runtime import setup
from course_utils.speed import precision_for, precision_for_capability
from course_utils.training import evaluate, outputs


@pytest.fixture(scope="module")
def mnist_small(mirror):
    """Three disjoint seeded parts of real MNIST: train, validation (from the training digits), test."""
    full = splits.load_split("mnist", True, limit=1_700, seed=0)
    train_idx, val_idx = data.train_val_indices(full.targets, None, 0.3, seed=0)
    test = splits.load_split("mnist", False, limit=500, seed=0)

    def make(split, shuffle):
        return loaders.TensorLoader(split, 64, data.MNIST_MEAN, data.MNIST_STD, shuffle=shuffle)

    return make(full.subset(train_idx), True), make(full.subset(val_idx), False), make(test, False)


def test_train_one_epoch_returns_mean_loss_accuracy_and_batch_losses(mnist_small):
    train, _, _ = mnist_small
    seed_everything(0)
    model = CNN()
    loss, acc, batch_losses = train_one_epoch(model, train, torch.optim.SGD(model.parameters(), lr=0.05), F.nll_loss)
    assert len(batch_losses) == len(train)
    assert loss == pytest.approx(
        sum(batch_losses[:-1]) * 64 / len(train.dataset)
        + batch_losses[-1] * (len(train.dataset) - 64 * (len(train) - 1)) / len(train.dataset)
    )
    assert batch_losses[-1] < batch_losses[0]


def test_evaluate_and_outputs_agree(mnist_small):
    _, val, _ = mnist_small
    seed_everything(0)
    model = CNN()
    loss, acc = evaluate(model, val, F.nll_loss)
    correct = sum(int((out.argmax(1) == y).sum()) for out, y in outputs(model, val))
    assert acc == correct / len(val.dataset) and loss > 0
    assert not model.training  # evaluation leaves the model in eval mode


def _fit(parts, epochs, path=None, lrs=(0.05, 0.05, 0.05), resume=False, patience=None, log=None, on_epoch_end=None):
    """``fit`` with an epoch-wise learning-rate schedule, saving at ``path`` when given; ``log``
    collects the printed lines."""
    seed_everything(0)
    model = CNN()
    opt = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.5)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lrs[min(e, len(lrs) - 1)])
    train, val, _ = parts
    h = fit(
        model,
        train,
        val,
        opt,
        epochs,
        loss_fn=F.nll_loss,
        scheduler=sched,
        scheduler_per="epoch",
        patience=patience,
        log=log.append if log is not None else lambda *_: None,
        on_epoch_end=on_epoch_end,
        checkpoint=path,
        resume=resume,
    )
    return model, h


def test_fit_keeps_the_best_model_by_validation_never_a_worse_one(mnist_small, tmp_path):
    path = tmp_path / "best.pt"
    ended = []
    # Epoch 2 runs at a learning rate that wrecks the model: its weights must not replace epoch 1's.
    model, h = _fit(mnist_small, 3, path, lrs=(0.05, 40.0, 40.0), on_epoch_end=lambda epoch, *_: ended.append(epoch))
    assert len(h.val_acc) == 3 and h.lr == pytest.approx([0.05, 40.0, 40.0])
    assert ended == [1, 2, 3]
    assert h.val_acc[1] < h.val_acc[0]
    best = max(range(3), key=lambda i: h.val_acc[i])
    meta = load_checkpoint(CNN(), path)
    assert meta["epoch"] == h.best_epoch == best + 1
    assert meta["val_acc"] == h.best_val_acc == max(h.val_acc)
    assert not list(tmp_path.glob("*.tmp"))  # no half-written file is left behind
    assert not last_state_path(path).exists()  # no resume state without resume=True
    # fit leaves the chosen weights in the model: re-evaluating them gives the recorded accuracy
    assert evaluate(model, mnist_small[1], F.nll_loss)[1] == h.best_val_acc


def test_a_batch_scheduler_steps_after_every_batch_and_an_epoch_scheduler_after_every_epoch(mnist_small):
    train = mnist_small[0]
    for per, steps in (("batch", 2 * len(train)), ("epoch", 2)):
        seed_everything(0)
        model = CNN()
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.99**step)
        h = fit(model, train, None, opt, 2, loss_fn=F.nll_loss, scheduler=sched, scheduler_per=per, log=lambda *_: None)
        assert opt.param_groups[0]["lr"] == pytest.approx(0.99**steps), per
        assert h.lr[1] == pytest.approx(0.99 ** (steps // 2)), per  # recorded at the start of epoch 2


def test_fit_without_a_validation_loader_keeps_the_last_epoch(mnist_small):
    seed_everything(0)
    model = CNN()
    train = mnist_small[0]
    h = fit(
        model, train, None, torch.optim.SGD(model.parameters(), lr=0.05), 2, loss_fn=F.nll_loss, log=lambda *_: None
    )
    assert h.val_acc == [] and h.best_epoch == 2


def test_early_stopping_on_validation(mnist_small):
    seed_everything(0)
    model = CNN()
    opt = torch.optim.SGD(model.parameters(), lr=40.0)  # diverges at once: no later epoch beats the first
    train, val, _ = mnist_small
    h = fit(model, train, val, opt, 5, loss_fn=F.nll_loss, patience=1, log=lambda *_: None)
    assert h.stopped_early and len(h.epoch) == h.best_epoch + 1 < 5


def test_patience_running_out_on_the_last_epoch_is_no_early_stop(mnist_small):
    # The run above, allowed only the two epochs it runs anyway: patience runs out after epoch 2,
    # the last one, so no epoch was skipped and nothing stopped early.
    seed_everything(0)
    model = CNN()
    train, val, _ = mnist_small
    lines = []
    h = fit(
        model,
        train,
        val,
        torch.optim.SGD(model.parameters(), lr=40.0),
        2,
        loss_fn=F.nll_loss,
        patience=1,
        log=lines.append,
    )
    assert h.epoch == [1, 2] and h.best_epoch == 1
    assert not h.stopped_early
    assert not [line for line in lines if line.startswith("stopped early")]


def test_same_seed_same_history(mnist_small):
    _, a = _fit(mnist_small, 2)
    _, b = _fit(mnist_small, 2)
    assert a.val_acc == b.val_acc and a.batch_loss == b.batch_loss


def test_a_resumed_run_that_patience_ended_stays_ended(mnist_small, tmp_path):
    path = tmp_path / "stopped.pt"
    _, first = _fit(mnist_small, 3, path, (0.05, 40.0, 40.0), resume=True, patience=1)
    assert first.stopped_early and first.epoch == [1, 2]
    lines = []
    _, again = _fit(mnist_small, 3, path, (0.05, 40.0, 40.0), resume=True, patience=1, log=lines)
    assert again.epoch == [1, 2] and again.stopped_early and again.best_epoch == first.best_epoch
    assert not [line for line in lines if line.startswith("epoch ")]  # nothing trained again


def test_resume_continues_to_the_same_result(mnist_small, tmp_path):
    """A run interrupted after epoch 1 and resumed in a fresh model and optimizer ends with the
    uninterrupted run's history, weights and momenta; the state loads with weights_only=True."""
    lrs = (0.05, 0.02, 0.01)
    full_model, full = _fit(mnist_small, 3, tmp_path / "a.pt", lrs, resume=True)
    _fit(mnist_small, 1, tmp_path / "b.pt", lrs, resume=True)  # "interrupted" after one epoch
    lines = []
    resumed_model, resumed = _fit(mnist_small, 3, tmp_path / "b.pt", lrs, resume=True, log=lines)
    assert lines[0] == "resumed from b.last.pt after epoch 1"
    assert [line.split("  ")[0] for line in lines[1:3]] == ["epoch 2/3", "epoch 3/3"]
    full.seconds = resumed.seconds = []
    assert resumed == full
    for p, q in zip(full_model.state_dict().values(), resumed_model.state_dict().values()):
        assert torch.equal(p, q)
    a, b = (torch.load(last_state_path(tmp_path / name), weights_only=True) for name in ("a.pt", "b.pt"))
    assert a["scheduler"] == b["scheduler"] and a["scheduler"]["last_epoch"] == 3
    for key in a["optimizer"]["state"]:
        assert torch.equal(
            a["optimizer"]["state"][key]["momentum_buffer"], b["optimizer"]["state"][key]["momentum_buffer"]
        )


def test_without_resume_a_run_starts_afresh(mnist_small, tmp_path):
    """Re-running a training cell repeats the experiment: a saved state is ignored (and not
    written) unless resume=True is asked for."""
    path = tmp_path / "c.pt"
    _, first = _fit(mnist_small, 2, path, resume=True)
    _, again = _fit(mnist_small, 2, path)
    assert again.epoch == [1, 2] and again.train_loss == first.train_loss
    with pytest.raises(ValueError, match="checkpoint"):
        _fit(mnist_small, 1, None, resume=True)


def test_fit_rejects_bad_arguments(mnist_small):
    train, val, _ = mnist_small
    with pytest.raises(ValueError, match="epochs"):
        fit(CNN(), train, val, torch.optim.SGD(CNN().parameters(), lr=0.1), 0)
    with pytest.raises(ValueError, match="scheduler_per"):
        fit(CNN(), train, val, torch.optim.SGD(CNN().parameters(), lr=0.1), 1, scheduler_per="step")


def test_confusion_matrix_and_per_class_accuracy():
    cm = confusion_matrix(torch.tensor([0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 2, 2, 2, 0]), 3)
    assert cm.tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 2]]
    assert per_class_accuracy(cm, ["a", "b", "c"]) == {"a": 0.5, "b": 1.0, "c": pytest.approx(2 / 3)}


def test_points_has_one_sign_convention():
    assert points(0.0123) == "+1.2 points"
    assert points(-0.1216) == "−12.2 points"
    assert points(0.0) == "±0.0 points"


def test_write_metrics(tmp_path):
    path = tmp_path / "m" / "metrics.json"
    write_metrics(path, {"acc": torch.tensor(0.5).item(), "per_class": {1: 0.25}, "t": torch.tensor([1, 2])})
    assert json.loads(path.read_text()) == {"acc": 0.5, "per_class": {"1": 0.25}, "t": [1, 2]}
    with pytest.raises(ValueError, match="not finite"):
        write_metrics(None, {"acc": float("nan")})


@pytest.mark.parametrize(
    "capability, expected",
    [
        ((7, 5), "float16"),
        ((7, 0), "float16"),
        ((6, 1), "float16"),
        ((8, 0), "bfloat16"),
        ((8, 9), "bfloat16"),
        ((9, 0), "bfloat16"),
        ((12, 0), "bfloat16"),
    ],
)
def test_precision_by_compute_capability(capability, expected):
    # T4 (Colab's free GPU) is 7.5 and has no bf16 arithmetic; A100 is 8.0, L4 8.9, H100 9.0
    assert precision_for_capability(*capability) == expected


def test_precision_on_cpu_and_mps_is_float32_and_the_settings_print_it(capsys):
    assert precision_for("cpu") == precision_for("mps") == "float32"
    cfg = setup(CATALOGUE[0].stem, profile="smoke", device="cpu")
    assert cfg.precision == "float32"
    assert "precision" in capsys.readouterr().out


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_the_mixed_precision_paths_run_on_a_cpu(mnist_small, precision):
    """What a GPU runs, with CPU autocast: the convolutions run in ``precision`` (float16 with the
    gradient scaler), the epoch trains (loss finite, weights move) and lands near float32's accuracy."""
    train = mnist_small[0]
    seen_dtypes = set()
    results = {}
    for dtype in ("float32", precision):
        seed_everything(0)
        model = CNN()
        hook = model.conv1.register_forward_hook(lambda _m, _i, out, p=dtype: seen_dtypes.add((p, out.dtype)))
        before = [p.detach().clone() for p in model.parameters()]
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        scaler = torch.amp.GradScaler("cpu", enabled=dtype == "float16")
        loss, acc, batch_losses = train_one_epoch(model, train, optimizer, F.nll_loss, "cpu", None, dtype, scaler)
        hook.remove()
        assert all(torch.isfinite(torch.tensor(batch_losses)))
        assert any(not torch.equal(p, q) for p, q in zip(before, model.parameters()))
        results[dtype] = acc
        if dtype == "float16":
            assert scaler.get_scale() > 1  # the scaler ran: its scale started at 65,536 and stays large
    assert (precision, getattr(torch, precision)) in seen_dtypes and ("float32", torch.float32) in seen_dtypes
    # 8 (bf16) or 11 (fp16) bits of mantissa: the same epoch, a slightly different path (measured: within 1 point)
    assert results[precision] == pytest.approx(results["float32"], abs=0.05)


def test_out_of_memory_names_what_to_lower(mnist_small):
    class Hungry(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    model = Hungry()
    with pytest.raises(torch.OutOfMemoryError, match=r"lower `batch_size`.*`image_size`") as caught:
        fit(model, mnist_small[0], None, torch.optim.SGD(model.parameters(), lr=0.1), 1, loss_fn=F.nll_loss)
    assert "batches of 64 images" in str(caught.value)
    assert "Tried to allocate 2.00 GiB" in str(caught.value)  # the original message is kept


def test_training_memory_counts_weights_adam_state_and_activations():
    from course_utils.memory import training_memory

    model = CNN()
    small = training_memory(model, image_size=28, batch_size=1, in_channels=1)
    assert small["weights"] == small["gradients"] == count_params(model) * 4  # float32
    assert small["optimizer state"] == 2 * count_params(model) * 4
    # activations grow linearly with the batch; the total adds the parts up
    big = training_memory(model, image_size=28, batch_size=64, in_channels=1)
    assert big["activations"] == 64 * small["activations"] > 0
    assert big["total"] == sum(v for k, v in big.items() if k != "total")
