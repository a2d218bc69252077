"""The training engine: a step lowers the loss, fit keeps the best checkpoint, runs repeat."""

import json

import pytest
import torch
import torch.nn.functional as F
from course_utils.train import last_state_path

from course_utils import fit, load_checkpoint, loaders, seed_everything, train_epoch, write_metrics
from course_utils.metrics import confusion_matrix, per_class_accuracy
from course_utils.models import CNN


@pytest.fixture(scope="module")
def mnist_small(mirror):
    train = loaders.load_split("mnist", True, limit=1_200, seed=0)
    test = loaders.load_split("mnist", False, limit=500, seed=0)
    mk = lambda split, shuffle: loaders.TensorLoader(
        split, 64, loaders.MNIST_MEAN, loaders.MNIST_STD, shuffle=shuffle, seed=0
    )
    return mk(train, True), mk(test, False)


def test_training_steps_lower_the_loss(mnist_small):
    train, _ = mnist_small
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


def test_train_epoch_returns_mean_loss_accuracy_and_batch_losses(mnist_small):
    train, _ = mnist_small
    seed_everything(0)
    model = CNN()
    loss, acc, batch_losses = train_epoch(model, train, torch.optim.SGD(model.parameters(), lr=0.05), F.nll_loss)
    assert len(batch_losses) == len(train) and 0 <= acc <= 1
    assert batch_losses[-1] < batch_losses[0]


def _fit(loaders_pair, epochs, path=None, resume=False, lrs=(0.05, 0.05, 0.05)):
    seed_everything(0)
    model = CNN()
    opt = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.5)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lrs[min(e, len(lrs) - 1)])
    train, test = loaders_pair
    train.generator.manual_seed(0)
    h = fit(
        model,
        train,
        test,
        opt,
        epochs,
        loss_fn=F.nll_loss,
        scheduler=sched,
        scheduler_per="epoch",
        checkpoint_path=path,
        resume=resume,
        progress=False,
        log=lambda *_: None,
    )
    return model, h


def test_fit_keeps_the_best_checkpoint_never_a_worse_one(mnist_small, tmp_path):
    path = tmp_path / "best.pt"
    # Epoch 2 runs at a learning rate that wrecks the model: its checkpoint must not replace epoch 1's.
    model, h = _fit(mnist_small, 3, path, lrs=(0.05, 40.0, 40.0))
    assert len(h.test_acc) == 3 and h.lr == pytest.approx([0.05, 40.0, 40.0])
    assert h.test_acc[1] < h.test_acc[0]
    best = max(range(3), key=lambda i: h.test_acc[i])
    meta = load_checkpoint(CNN(), path)
    assert meta["epoch"] == h.best_epoch == best + 1
    assert meta["test_acc"] == h.best_test_acc == max(h.test_acc)
    assert not path.with_name("best.pt.tmp").exists()


def test_same_seed_same_history(mnist_small):
    _, a = _fit(mnist_small, 2)
    _, b = _fit(mnist_small, 2)
    assert a.test_acc == b.test_acc and a.batch_loss == b.batch_loss


def test_resume_continues_to_the_same_result(mnist_small, tmp_path):
    full_model, full = _fit(mnist_small, 3, tmp_path / "a.pt")
    _fit(mnist_small, 2, tmp_path / "b.pt")  # "interrupted" after two epochs
    assert last_state_path(tmp_path / "b.pt").exists()
    resumed_model, resumed = _fit(mnist_small, 3, tmp_path / "b.pt", resume=True)
    assert resumed.epoch == [1, 2, 3]
    assert resumed.test_acc == full.test_acc and resumed.train_loss == full.train_loss
    for p, q in zip(full_model.parameters(), resumed_model.parameters()):
        assert torch.equal(p, q)


def test_fit_rejects_bad_epochs(mnist_small):
    with pytest.raises(ValueError, match="epochs"):
        fit(CNN(), *mnist_small, torch.optim.SGD(CNN().parameters(), lr=0.1), 0, progress=False)


def test_confusion_matrix_and_per_class_accuracy():
    cm = confusion_matrix(torch.tensor([0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 2, 2, 2, 0]), 3)
    assert cm.tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 2]]
    assert per_class_accuracy(cm, ["a", "b", "c"]) == {"a": 0.5, "b": 1.0, "c": pytest.approx(2 / 3)}


def test_write_metrics(tmp_path):
    path = tmp_path / "m" / "metrics.json"
    write_metrics(path, {"acc": torch.tensor(0.5).item(), "per_class": {1: 0.25}, "t": torch.tensor([1, 2])})
    assert json.loads(path.read_text()) == {"acc": 0.5, "per_class": {"1": 0.25}, "t": [1, 2]}
    with pytest.raises(ValueError, match="not finite"):
        write_metrics(None, {"acc": float("nan")})
