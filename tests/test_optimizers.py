"""Unit tests of course_utils.optimizers (notebook 06): the source's demo network, the affine
check and the collapse to one Linear, optimizers and schedules by name, divergence detection."""

from __future__ import annotations

import pytest
import torch

from course_utils import count_params, evaluate, fit, seed_everything
from course_utils import optimizers as opt
from course_utils.loaders import Split, TensorLoader


def test_demo_net_has_the_sources_shape_and_parameter_count():
    net = opt.DemoNet(activation=None)
    # conv 3->32, 32->32, 32->64 (5x5 with bias), Linear(1024, 64), Linear(64, 10)
    expected = (3 * 32 * 25 + 32) + (32 * 32 * 25 + 32) + (32 * 64 * 25 + 64) + (1024 * 64 + 64) + (64 * 10 + 10)
    assert count_params(net) == expected == 145_578
    assert count_params(opt.DemoNet(activation="relu", dropout=0.5)) == 145_578  # ReLU and Dropout add none
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert not any(isinstance(m, torch.nn.ReLU) for m in net.modules())
    assert sum(isinstance(m, torch.nn.ReLU) for m in opt.DemoNet(activation="relu").modules()) == 4
    assert opt.DemoNet(width=8)(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    with pytest.raises(ValueError):
        opt.DemoNet(activation="tanh")
    with pytest.raises(ValueError):
        opt.DemoNet(pool="min")


def test_without_activation_and_max_pool_the_net_is_affine():
    torch.manual_seed(0)
    x, y = torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)
    assert opt.superposition_error(opt.DemoNet(activation=None, pool="avg"), x, y) < 1e-5
    # max-pooling alone is a non-linearity, and ReLU another
    assert opt.superposition_error(opt.DemoNet(activation=None, pool="max"), x, y) > 1e-2
    assert opt.superposition_error(opt.DemoNet(activation="relu", pool="avg"), x, y) > 1e-2


def test_an_affine_net_collapses_to_one_linear_layer():
    torch.manual_seed(0)
    net = opt.DemoNet(activation=None, pool="avg", width=4)
    single = opt.collapse_to_linear(net)
    assert (single.in_features, single.out_features) == (3072, 10)
    x = torch.randn(5, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(single(x.flatten(1)), net(x), atol=1e-5)
    assert next(net.parameters()).dtype == torch.float32  # handed back in single precision


def test_optimizers_by_name():
    params = [torch.nn.Parameter(torch.zeros(3))]
    sgd = opt.make_optimizer("SGD", params, 0.1)
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["momentum"] == 0
    assert opt.make_optimizer("momentum", params, 0.1).defaults["momentum"] == 0.9
    assert isinstance(opt.make_optimizer("RMSprop", params, 1e-3), torch.optim.RMSprop)
    assert isinstance(opt.make_optimizer("Adam", params, 1e-3), torch.optim.Adam)
    adamw = opt.make_optimizer("AdamW", params, 1e-3, weight_decay=0.1)
    assert isinstance(adamw, torch.optim.AdamW) and adamw.defaults["weight_decay"] == 0.1
    with pytest.raises(ValueError):
        opt.make_optimizer("Adagrad", params, 0.1)


def test_weight_decay_with_plain_sgd_is_l2_regularisation():
    # weight_decay=lam adds lam * w to the gradient: the gradient of (lam / 2) * ||w||^2
    torch.manual_seed(0)
    w0, lam, lr = torch.randn(5), 0.3, 0.1
    a = torch.nn.Parameter(w0.clone())
    sgd = opt.make_optimizer("SGD", [a], lr, weight_decay=lam)
    (a**3).sum().backward()
    sgd.step()
    b = torch.nn.Parameter(w0.clone())
    plain = opt.make_optimizer("SGD", [b], lr)
    ((b**3).sum() + lam / 2 * (b**2).sum()).backward()
    plain.step()
    assert torch.allclose(a, b)


def test_schedules():
    const = opt.schedule_values("constant", 0.1, 30)
    assert const == [pytest.approx(0.1)] * 30
    step = opt.schedule_values("step", 0.1, 30)
    assert step[0] == pytest.approx(0.1) and step[10] == pytest.approx(0.01) and step[29] == pytest.approx(0.001)
    cos = opt.schedule_values("warmup_cosine", 0.1, 100)
    assert cos[0] == pytest.approx(0.01) and max(cos) == pytest.approx(0.1)  # 10 warm-up steps
    assert cos.index(max(cos)) == 9 and cos[-1] < 0.001
    assert all(a >= b for a, b in zip(cos[9:], cos[10:]))  # falls after the warm-up
    with pytest.raises(ValueError):
        opt.schedule_values("linear", 0.1, 10)


def test_divergence_detection():
    assert not opt.has_diverged([2.3, 2.1, 1.8])
    assert not opt.has_diverged([2.3, 2.31, 2.30])  # stuck is not diverged
    assert opt.has_diverged([2.3, 5.0, float("nan")])
    assert opt.has_diverged([2.3, float("inf")])
    assert opt.has_diverged([2.3, 40.0, 3.0])  # exploded, even if it came back
    assert not opt.has_diverged([])


def test_clean_train_accuracy_follows_fit():
    g = torch.Generator().manual_seed(0)
    split = Split(
        torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(40) % 10, [], "t"
    )
    loader = TensorLoader(split, 8, (0.5,) * 3, (0.5,) * 3, shuffle=True, augment=True)
    seed_everything(0)
    model = opt.DemoNet(width=4, dropout=0.5)
    tracker = opt.CleanTrainAccuracy(loader.variant(shuffle=False, augment=False))
    history = fit(model, loader, None, opt.make_optimizer("Adam", model.parameters(), 1e-3), 3, on_epoch_end=tracker)
    assert len(history.epoch) == len(tracker.acc) == 3
    # evaluate() on the training images in eval mode; without validation fit keeps the last epoch
    assert tracker.acc[-1] == evaluate(model, tracker.loader)[1]
