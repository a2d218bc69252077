"""Notebook 06's models and recipes: the source's optimizer demo network (with and without
activations), the check that a network is one affine map, the optimizers and learning-rate
schedules the notebook compares, divergence detection, and the clean training accuracy that the
train-validation gap is measured with. The training loop itself is ``training.fit``."""

from __future__ import annotations

import math

import torch
from torch import nn

from .training import evaluate

OPTIMIZERS = ("SGD", "momentum", "RMSprop", "Adam", "AdamW")
SCHEDULES = ("constant", "step", "warmup_cosine")


class DemoNet(nn.Module):
    """The source's optimizer demo: conv5(3→32) → pool → conv5(32→32) → pool → conv5(32→64) → pool
    → Flatten → Linear(1024, 64) → Linear(64, 10), every convolution with padding 2.

    ``activation=None`` is the source as written: no activation anywhere. ``activation="relu"``
    puts a ReLU after each convolution and after the hidden linear layer. ``pool="avg"`` replaces
    max-pooling by average pooling (then, without activations, the network is exactly affine).
    ``dropout`` drops features before each linear layer (off in evaluation). ``width`` is the
    channels of the first two convolutions (the third has twice as many): the source's 32 by
    default; the smoke profile narrows it so that a CPU runs the notebook's many trainings quickly.

    Introduced in notebook 06.
    """

    def __init__(
        self, activation: str | None = "relu", pool: str = "max", dropout: float = 0.0, width: int = 32, num_classes=10
    ):
        super().__init__()
        if activation not in (None, "relu"):
            raise ValueError(f"activation must be None or 'relu', got {activation!r}.")
        if pool not in ("max", "avg"):
            raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}.")

        def act():
            return nn.ReLU() if activation == "relu" else nn.Identity()

        def pooling():
            return nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2)

        self.features = nn.Sequential(
            nn.Conv2d(3, width, 5, padding=2), act(), pooling(),
            nn.Conv2d(width, width, 5, padding=2), act(), pooling(),
            nn.Conv2d(width, 2 * width, 5, padding=2), act(), pooling(),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(2 * width * 4 * 4, 64),
            act(),
            nn.Dropout(dropout),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def superposition_error(model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: float = 0.7, b: float = -1.3):
    """How far ``model`` is from affine on the inputs ``x`` and ``y``, relative to its outputs.

    An affine map f(x) = Wx + c satisfies f(a x + b y) = a f(x) + b f(y) + (1 - a - b) f(0) for
    every a, b. Returns max |left - right| / max |f(a x + b y)| over the batch: about 1e-7
    (rounding) for an affine network, far larger for one with a non-linearity.

    Introduced in notebook 06.
    """
    model.eval()
    with torch.no_grad():
        left = model(a * x + b * y)
        right = a * model(x) + b * model(y) + (1 - a - b) * model(torch.zeros_like(x))
    return float((left - right).abs().max() / left.abs().max())


def collapse_to_linear(model: nn.Module, input_shape=(3, 32, 32)) -> nn.Linear:
    """The single ``nn.Linear`` an affine network equals: its bias is f(0), and column i of its
    weight is f(e_i) - f(0) for the i-th unit image e_i. Exact only when ``model`` is affine
    (check with ``superposition_error``); the network is evaluated in double precision.

    Introduced in notebook 06.
    """
    n = math.prod(input_shape)
    unit_images = torch.eye(n, dtype=torch.float64).reshape(n, *input_shape)
    model = model.eval().double()
    try:
        with torch.no_grad():
            bias = model(torch.zeros(1, *input_shape, dtype=torch.float64))[0]
            columns = [model(chunk) - bias for chunk in unit_images.split(512)]
    finally:
        model.float()
    weight = torch.cat(columns).T  # (outputs, inputs)
    linear = nn.Linear(n, len(bias))
    with torch.no_grad():
        linear.weight.copy_(weight)
        linear.bias.copy_(bias)
    return linear


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """One of notebook 06's optimizers by name: "SGD" (plain), "momentum" (SGD, momentum 0.9),
    "RMSprop", "Adam" or "AdamW" (decoupled weight decay). Everything but ``lr`` and
    ``weight_decay`` stays at PyTorch's defaults.

    Introduced in notebook 06.
    """
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "RMSprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "Adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "AdamW":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"Unknown optimizer {name!r}: one of {', '.join(OPTIMIZERS)}.")


def make_schedule(name: str, optimizer, total_steps: int, warmup_fraction: float = 0.1, step_every: float = 1 / 3):
    """A learning-rate schedule that steps once per batch, over ``total_steps`` batches:

    - "constant": the optimizer's learning rate throughout;
    - "step": divided by 10 after each ``step_every`` of the run (two drops with the default);
    - "warmup_cosine": a linear rise from almost zero over ``warmup_fraction`` of the run, then a
      cosine down to zero.

    Introduced in notebook 06.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be positive, got {total_steps}.")
    warmup = max(1, round(warmup_fraction * total_steps))
    every = max(1, round(step_every * total_steps))

    def factor(step: int) -> float:
        if name == "constant":
            return 1.0
        if name == "step":
            return 0.1 ** (step // every)
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total_steps - warmup))))

    if name not in SCHEDULES:
        raise ValueError(f"Unknown schedule {name!r}: one of {', '.join(SCHEDULES)}.")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def schedule_values(name: str, lr: float, total_steps: int, **options) -> list[float]:
    """The learning rate of every batch under schedule ``name`` (for plotting the schedule).

    Introduced in notebook 06.
    """
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    schedule = make_schedule(name, optimizer, total_steps, **options)
    values = []
    for _ in range(total_steps):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    return values


def has_diverged(losses, factor: float = 10.0) -> bool:
    """True when a run's training loss became NaN or infinite, or exploded: rose above ``factor``
    times its first value (a fresh 10-class classifier starts near ln 10 = 2.3).

    Introduced in notebook 06.
    """
    losses = [float(v) for v in losses]
    if not losses:
        return False
    return any(not math.isfinite(v) for v in losses) or max(losses) > factor * losses[0]


class CleanTrainAccuracy:
    """An ``on_epoch_end`` for ``fit``: after each epoch, the accuracy on the training images
    measured like validation (eval mode: no dropout, no augmentation), appended to ``self.acc``.

    ``fit``'s own training accuracy is averaged over the epoch with dropout and augmentation on,
    which would make a regularised network's train-validation gap look smaller than it is.

    Introduced in notebook 06.
    """

    def __init__(self, train_eval_loader, device="cpu"):
        self.loader, self.device, self.acc = train_eval_loader, device, []

    def __call__(self, epoch, model, history) -> None:
        self.acc.append(evaluate(model, self.loader, device=self.device)[1])
