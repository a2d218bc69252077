"""Resuming an interrupted training run (notebook 07): ``fit``'s loop, made resumable the way
torchvision's references/classification/train.py keeps resuming out of its ``train_one_epoch``.
The full state is saved after every epoch, and a run that finds it continues from it to the same
result as an uninterrupted one (tests/test_train.py checks that, and that a run without an
interruption is exactly ``fit``'s)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checkpoints import load_checkpoint, save_atomic, save_best
from .training import History, check_fit_arguments, epoch_trainer, evaluate, out_of_patience


def last_state_path(checkpoint_path) -> Path:
    """Where the resume state lives, next to the best checkpoint.

    Introduced in notebook 07 (save and resume); also for long GPU runs. Tested in tests/test_train.py.
    """
    path = Path(checkpoint_path)
    return path.with_name(path.stem + ".last" + path.suffix)


def _rng_state() -> dict:
    return {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])


def save_state(path: Path, model: nn.Module, optimizer, scheduler, history: History) -> None:
    """Everything the next epoch depends on: weights, optimizer (momenta), scheduler (its
    position), the history so far and every random generator (the next shuffle)."""
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": history.as_dict(),
        "rng": _rng_state(),
    }
    save_atomic(state, path)


def load_state(path: Path, model: nn.Module, optimizer, scheduler, device) -> History:
    """Put what ``save_state`` wrote back into ``model``, ``optimizer``, ``scheduler`` and the
    random generators; return the history so far. ``model`` must already be on ``device``, so
    that the optimizer's state lands next to the parameters it belongs to."""
    state = torch.load(path, weights_only=False, map_location=device)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    _set_rng_state(state["rng"])
    return History(**state["history"])


def fit_resumable(
    model: nn.Module,
    train_loader,
    val_loader,
    optimizer,
    epochs: int,
    *,
    checkpoint_path,
    loss_fn=F.cross_entropy,
    device="cpu",
    scheduler=None,
    scheduler_per: str = "batch",
    patience: int | None = None,
    log=print,
) -> History:
    """``fit``, resumable: after every epoch it writes the weights of the epoch validation chose
    to ``checkpoint_path`` and the full state to ``last_state_path(checkpoint_path)``; when that
    state exists (after an interruption) it continues from it. The arguments are ``fit``'s.

    Introduced in notebook 07 (save and resume); also for long GPU runs. Tested in tests/test_train.py.
    """
    check_fit_arguments(epochs, scheduler_per)
    run_epoch = epoch_trainer(model, device)
    last = last_state_path(checkpoint_path)
    history = History()
    if last.exists():
        history = load_state(last, model, optimizer, scheduler, device)
        log(f"resumed from {last.name} after epoch {history.epoch[-1]}")
    save_chosen = save_best(checkpoint_path)
    per_batch = scheduler if scheduler_per == "batch" else None
    first = epochs + 1 if history.stopped_early else len(history.epoch) + 1  # a run patience ended stays ended
    for epoch in range(first, epochs + 1):
        lr, start = optimizer.param_groups[0]["lr"], time.perf_counter()
        train_loss, train_acc, batch_losses = run_epoch(model, train_loader, optimizer, loss_fn, device, per_batch)
        if scheduler is not None and scheduler_per == "epoch":
            scheduler.step()
        history.add_epoch(epoch, lr, train_loss, train_acc, batch_losses, time.perf_counter() - start)
        if val_loader is not None:
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            if val_acc > history.best_val_acc:  # strictly better: a tie keeps the earlier epoch
                history.best_epoch, history.best_val_acc = epoch, val_acc
        log(history.epoch_line(epochs))
        save_chosen(epoch, model, history)
        history.stopped_early = out_of_patience(history, patience, epochs)
        save_state(last, model, optimizer, scheduler, history)
        if history.stopped_early:
            log(f"stopped early: no better validation accuracy for {patience} epochs")
            break
    if val_loader is None:  # nothing was chosen: the last epoch stays
        history.best_epoch = history.epoch[-1]
    else:
        load_checkpoint(model, checkpoint_path, device)  # the chosen epoch's weights, written when it ran
        log(history.kept_line())
    return history
