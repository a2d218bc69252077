"""Checkpoints on disk: where they go, writing them safely, keeping the epoch validation chose
during ``fit`` (``save_best``), loading it back (notebook 05)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from .paths import work_root


def checkpoint_path(notebook: str, profile: str, seed: int, checkpoint_dir=None) -> Path:
    """``checkpoints/<notebook>-<profile>-seed<seed>.pt`` under the checkout (git-ignored; the
    working directory when installed without a checkout), or under ``checkpoint_dir`` when given."""
    folder = Path(checkpoint_dir) if checkpoint_dir else work_root() / "checkpoints"
    return folder / f"{notebook}-{profile}-seed{seed}.pt"


def save_atomic(obj, path: Path) -> None:
    """``torch.save`` to a temporary name, then rename: a crash mid-save leaves the old file intact.

    Used by notebooks 05 and 07 through `coffee_train.train_coffee_vgg16` and `resume.fit_resumable`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_best(path, then: Callable | None = None) -> Callable:
    """An ``on_epoch_end`` for ``fit``: after every epoch that validation chooses (a new best
    validation accuracy), write its weights to ``path``, so a crash keeps the best epoch so far;
    then call ``then(epoch, model, history)`` when given. ``load_checkpoint`` reads the file back.

    Used by notebook 05 through `coffee_train.train_coffee_vgg16`.
    """
    path = Path(path)

    def hook(epoch, model, history) -> None:
        if history.best_epoch == epoch:
            save_atomic({"model": model.state_dict(), "epoch": epoch, "val_acc": history.best_val_acc}, path)
        if then is not None:
            then(epoch, model, history)

    return hook


def load_checkpoint(model: nn.Module, path, device="cpu") -> dict:
    """Load the weights ``save_best`` (or ``resume.fit_resumable``) wrote at ``path`` into
    ``model``; return the checkpoint's epoch and validation accuracy.

    Introduced in notebook 05.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}: run the training cell first.")
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state["model"])
    return {"epoch": state["epoch"], "val_acc": state["val_acc"]}
