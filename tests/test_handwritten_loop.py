"""The course's hand-written training loop is the course's loop: the same seed, model and plain
DataLoader through the notebook's own ``train_one_epoch``/``evaluate`` and through
``mnist.train_mnist_sgd`` (which calls ``fit``) give bit-identical weights, loss and test accuracy
on a CPU.

The loop is taken from the committed notebooks: the one code cell of the catalogue's notebooks that
starts with ``# The training loop, written by hand`` (notebook 01's), so the test follows its text.
"""

import pytest
import torch
import torch.nn.functional as F
from course_cells import course_cell

from course_utils import FC2Layer, loaders, mnist, seed_everything, training

MARKER = "# The training loop, written by hand"


def hand_loop() -> dict:
    """Exec the notebook's hand-written loop cell; return its namespace."""
    name, source = course_cell(MARKER)
    namespace = {"torch": torch, "F": F}
    exec(compile(source, f"{name}:{MARKER}", "exec"), namespace)
    return namespace


def test_the_cell_defines_the_taught_loop():
    ns = hand_loop()
    assert callable(ns["train_one_epoch"]) and callable(ns["evaluate"])
    source = course_cell(MARKER)[1]
    for line in ("model.train()", "optimizer.zero_grad()", "loss.backward()", "optimizer.step()", "model.eval()"):
        assert line in source
    assert "with torch.no_grad():" in source


@pytest.fixture(scope="module")
def plain_mnist(mirror):
    # 10,000 training digits (seeded, class-balanced) and 2,000 test digits through torchvision's
    # dataset and a plain DataLoader, batch 64: the loaders of the notebook's comparison, smaller.
    train, test, _ = loaders.mnist_loaders(
        None, batch_size=64, seed=0, fast=False, train_limit=10_000, test_limit=2_000
    )
    return train, test


def test_hand_written_loop_equals_fit(plain_mnist):
    train, test = plain_mnist
    ns = hand_loop()

    seed_everything(0)
    hand = FC2Layer(784, 8, 10)
    optimizer = torch.optim.SGD(hand.parameters(), lr=0.01, momentum=0.5)
    hand_loss, hand_train_acc = ns["train_one_epoch"](hand, train, optimizer, F.nll_loss)
    _, hand_test_acc = ns["evaluate"](hand, test, F.nll_loss)

    seed_everything(0)
    packaged = FC2Layer(784, 8, 10)
    history = mnist.train_mnist_sgd(packaged, train, epochs=1, lr=0.01, momentum=0.5, device="cpu")
    _, fit_test_acc = training.evaluate(packaged, test, F.nll_loss, "cpu")

    assert hand_test_acc == fit_test_acc
    assert hand_loss == history.train_loss[0] and hand_train_acc == history.train_acc[0]
    hand_state, fit_state = hand.state_dict(), packaged.state_dict()
    assert hand_state.keys() == fit_state.keys()
    assert all(torch.equal(hand_state[k], fit_state[k]) for k in hand_state)
    # It learnt something: one epoch on 10,000 digits is well above chance (10 %), though the FC
    # net's accuracy on a subset this small varies a lot between seeds.
    assert hand_test_acc > 0.2


def test_hand_written_evaluate_equals_training_evaluate(plain_mnist):
    _, test = plain_mnist
    ns = hand_loop()
    seed_everything(0)
    model = FC2Layer(784, 8, 10)
    assert ns["evaluate"](model, test, F.nll_loss) == training.evaluate(model, test, F.nll_loss, "cpu")
