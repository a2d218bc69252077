"""The training loop: a step lowers the loss, fit keeps the best model by *validation* accuracy,
runs repeat with the same seed, and an interrupted run resumes to the same result."""

import json
import re

import pytest
import torch
import torch.nn.functional as F

from course_utils import data, fit, load_checkpoint, loaders, seed_everything, train_one_epoch, write_metrics
from course_utils.checkpoints import save_best
from course_utils.metrics import confusion_matrix, per_class_accuracy, points
from course_utils.models import CNN
from course_utils.resume import fit_resumable, last_state_path
from course_utils.runtime import setup
from course_utils.speed import precision_for, precision_for_capability, train_one_epoch_fast
from course_utils.training import evaluate, outputs


@pytest.fixture(scope="module")
def mnist_small(mirror):
    """Three disjoint seeded parts of real MNIST: train, validation (from the training digits), test."""
    full = loaders.load_split("mnist", True, limit=1_700, seed=0)
    train_idx, val_idx = data.train_val_indices(full.targets, None, 0.3, seed=0)
    test = loaders.load_split("mnist", False, limit=500, seed=0)

    def make(split, shuffle):
        return loaders.TensorLoader(split, 64, data.MNIST_MEAN, data.MNIST_STD, shuffle=shuffle)

    return make(full.subset(train_idx), True), make(full.subset(val_idx), False), make(test, False)


def test_training_steps_lower_the_loss(mnist_small):
    train, _, _ = mnist_small
    seed_everything(0)
    model = CNN()
    x, y = next(iter(train))
    before = F.nll_loss(model(x), y).item()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
    for _ in range(5):
        opt.zero_grad()
        F.nll_loss(model(x), y).backward()
        opt.step()
    assert F.nll_loss(model(x), y).item() < before


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


def _fit(parts, epochs, path=None, lrs=(0.05, 0.05, 0.05), resumable=False, patience=None, log=None, then=None):
    """``fit`` (saving the chosen weights at ``path`` when given) or ``fit_resumable`` with an
    epoch-wise learning-rate schedule; ``log`` collects the printed lines."""
    seed_everything(0)
    model = CNN()
    opt = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.5)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lrs[min(e, len(lrs) - 1)])
    train, val, _ = parts
    args = dict(loss_fn=F.nll_loss, scheduler=sched, scheduler_per="epoch", patience=patience)
    args["log"] = log.append if log is not None else lambda *_: None
    if resumable:
        h = fit_resumable(model, train, val, opt, epochs, checkpoint_path=path, **args)
    else:
        hook = save_best(path, then=then) if path is not None else then
        h = fit(model, train, val, opt, epochs, on_epoch_end=hook, **args)
    return model, h


def test_fit_keeps_the_best_model_by_validation_never_a_worse_one(mnist_small, tmp_path):
    path = tmp_path / "best.pt"
    after_save = []
    # Epoch 2 runs at a learning rate that wrecks the model: its weights must not replace epoch 1's.
    model, h = _fit(mnist_small, 3, path, lrs=(0.05, 40.0, 40.0), then=lambda epoch, *_: after_save.append(epoch))
    assert len(h.val_acc) == 3 and h.lr == pytest.approx([0.05, 40.0, 40.0])
    assert after_save == [1, 2, 3]  # save_best hands every epoch on to the hook it wraps
    assert h.val_acc[1] < h.val_acc[0]
    best = max(range(3), key=lambda i: h.val_acc[i])
    meta = load_checkpoint(CNN(), path)
    assert meta["epoch"] == h.best_epoch == best + 1
    assert meta["val_acc"] == h.best_val_acc == max(h.val_acc)
    assert not list(tmp_path.glob("*.tmp"))  # no half-written file is left behind
    # fit leaves the chosen weights in the model: re-evaluating them gives the recorded accuracy
    assert evaluate(model, mnist_small[1], F.nll_loss)[1] == h.best_val_acc


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


def _without_seconds(lines):
    return [re.sub(r"  [0-9.]+s$", "", line) for line in lines]


@pytest.mark.parametrize("patience", [None, 1], ids=["all epochs", "stopped early"])
def test_an_uninterrupted_resumable_run_is_fits_run(mnist_small, tmp_path, patience):
    """fit_resumable repeats fit's loop: without an interruption it must train, choose, stop and
    print exactly as fit does, and leave the same weights and the same best checkpoint."""
    runs = {}
    for resumable in (False, True):
        lines = []
        path = tmp_path / f"{resumable}.pt"
        model, h = _fit(mnist_small, 3, path, (0.05, 40.0, 40.0), resumable, patience, lines)
        runs[resumable] = (model, h, lines, load_checkpoint(CNN(), path))
    (model_a, a, lines_a, saved_a), (model_b, b, lines_b, saved_b) = runs[False], runs[True]
    a.seconds = b.seconds = []
    assert a == b and a.stopped_early == (patience is not None)
    assert _without_seconds(lines_a) == _without_seconds(lines_b)
    assert saved_a == saved_b == {"epoch": a.best_epoch, "val_acc": a.best_val_acc}
    assert all(torch.equal(p, q) for p, q in zip(model_a.state_dict().values(), model_b.state_dict().values()))


def test_a_resumed_run_that_patience_ended_stays_ended(mnist_small, tmp_path):
    path = tmp_path / "stopped.pt"
    _, first = _fit(mnist_small, 3, path, (0.05, 40.0, 40.0), resumable=True, patience=1)
    assert first.stopped_early and first.epoch == [1, 2]
    lines = []
    _, again = _fit(mnist_small, 3, path, (0.05, 40.0, 40.0), resumable=True, patience=1, log=lines)
    assert again.epoch == [1, 2] and again.stopped_early and again.best_epoch == first.best_epoch
    assert not [line for line in lines if line.startswith("epoch ")]  # nothing trained again


def test_resume_continues_to_the_same_result(mnist_small, tmp_path):
    full_model, full = _fit(mnist_small, 3, tmp_path / "a.pt", resumable=True)
    _fit(mnist_small, 2, tmp_path / "b.pt", resumable=True)  # "interrupted" after two epochs
    assert last_state_path(tmp_path / "b.pt").exists()
    resumed_model, resumed = _fit(mnist_small, 3, tmp_path / "b.pt", resumable=True)
    assert resumed.epoch == [1, 2, 3]
    assert resumed.val_acc == full.val_acc and resumed.train_loss == full.train_loss
    assert resumed.best_epoch == full.best_epoch
    for p, q in zip(full_model.parameters(), resumed_model.parameters()):
        assert torch.equal(p, q)


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


def test_the_gpu_loop_does_the_same_arithmetic_as_the_core_loop(mnist_small):
    """speed.train_one_epoch_fast (what fit runs on CUDA) run here on the CPU, where it uses no
    autocast: the same weights and accuracy as training.train_one_epoch, the same loss up to rounding."""
    train = mnist_small[0]
    results = []
    for epoch_fn in (train_one_epoch, train_one_epoch_fast):
        seed_everything(0)
        model = CNN()
        loss, acc, batch_losses = epoch_fn(
            model, train, torch.optim.SGD(model.parameters(), lr=0.05), F.nll_loss, torch.device("cpu")
        )
        results.append((loss, acc, batch_losses, [p.detach().clone() for p in model.parameters()]))
    (loss_a, acc_a, batches_a, weights_a), (loss_b, acc_b, batches_b, weights_b) = results
    assert acc_a == acc_b and loss_a == pytest.approx(loss_b, rel=1e-6)
    assert batches_a == pytest.approx(batches_b, rel=1e-6)
    assert all(torch.equal(p, q) for p, q in zip(weights_a, weights_b))
    assert precision_for("cpu") == "float32"


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
    cfg = setup("03_cifar10_cnn", profile="smoke", device="cpu")
    assert cfg.precision == "float32"
    assert "precision" in capsys.readouterr().out


def test_the_autocast_branch_runs_on_a_cpu_in_bfloat16(mnist_small):
    """The mixed-precision branch of the GPU loop, executed with CPU autocast: the convolutions run in
    bf16, the epoch trains (loss finite, weights move) and lands near the float32 epoch's accuracy."""
    train = mnist_small[0]
    seen_dtypes = set()
    results = {}
    for precision in ("float32", "bfloat16"):
        seed_everything(0)
        model = CNN()
        hook = model.conv1.register_forward_hook(lambda _m, _i, out, p=precision: seen_dtypes.add((p, out.dtype)))
        before = [p.detach().clone() for p in model.parameters()]
        loss, acc, batch_losses = train_one_epoch_fast(
            model, train, torch.optim.SGD(model.parameters(), lr=0.05), F.nll_loss, "cpu", precision=precision
        )
        hook.remove()
        assert all(torch.isfinite(torch.tensor(batch_losses)))
        assert any(not torch.equal(p, q) for p, q in zip(before, model.parameters()))
        results[precision] = acc
    assert ("bfloat16", torch.bfloat16) in seen_dtypes and ("float32", torch.float32) in seen_dtypes
    # bf16 keeps 8 bits of mantissa: the same epoch, a slightly different path (measured: within 1 point)
    assert results["bfloat16"] == pytest.approx(results["float32"], abs=0.05)


def test_out_of_memory_names_what_to_lower(mnist_small):
    class Hungry(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    model = Hungry()
    with pytest.raises(torch.OutOfMemoryError, match=r"lower `batch_size`.*`image_size`") as caught:
        train_one_epoch_fast(model, mnist_small[0], torch.optim.SGD(model.parameters(), lr=0.1), F.nll_loss, "cpu")
    assert "batches of 64 images of 28x28 pixels" in str(caught.value)
    assert "Tried to allocate 2.00 GiB" in str(caught.value)  # the original message is kept


def test_training_memory_counts_weights_adam_state_and_activations():
    from course_utils.memory import training_memory

    model = CNN()  # 6,422 float32 parameters
    small = training_memory(model, image_size=28, batch_size=1, in_channels=1)
    assert small["weights"] == small["gradients"] == 6_422 * 4
    assert small["optimizer state"] == 2 * 6_422 * 4
    # activations grow linearly with the batch; the total adds the parts up
    big = training_memory(model, image_size=28, batch_size=64, in_channels=1)
    assert big["activations"] == 64 * small["activations"] > 0
    assert big["total"] == sum(v for k, v in big.items() if k != "total")
