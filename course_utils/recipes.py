"""Training recipes that more than one lesson trains with: notebook 04's SGD with Nesterov momentum
under a one-cycle schedule, which notebook 07 reuses for its plain and residual networks.

A recipe only one lesson uses stays in that lesson's module (``cifar.train_cifar_adam``,
``coffee_train.train_coffee_vgg16``).
"""

from __future__ import annotations

import torch
from torch import nn

from .training import History, fit


def train_sgd_one_cycle(
    model: nn.Module,
    train_loader,
    val_loader,
    *,
    epochs: int,
    lr: float,
    momentum: float,
    weight_decay: float,
    device="cpu",
    channels_last: bool = False,
    log=print,
) -> History:
    """Notebook 04's recipe: SGD with Nesterov momentum and weight decay under a one-cycle schedule.

    One-cycle warms the learning rate up to ``lr`` over the first 30% of the batches, then
    anneals it to almost zero, which lets a BatchNorm network train at a high rate in few epochs.
    ``channels_last=True``: see ``fit``.

    Introduced in notebook 04; notebook 07 trains its plain and residual networks with it.
    """
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, epochs=epochs, steps_per_epoch=len(train_loader), pct_start=0.3
    )
    return fit(
        model,
        train_loader,
        val_loader,
        optimizer,
        epochs,
        device=device,
        scheduler=scheduler,
        scheduler_per="batch",
        channels_last=channels_last,
        log=log,
    )
