"""Checkpoints on disk: where they go, writing them safely, loading them back (notebook 05)."""

from __future__ import annotations

import os
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

    Introduced in notebook 05.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(model: nn.Module, path, device="cpu") -> dict:
    """Load the weights ``fit`` saved at ``path`` into ``model``; return the checkpoint's
    epoch and validation accuracy.

    Introduced in notebook 05.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}: run the training cell first.")
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state["model"])
    return {"epoch": state["epoch"], "val_acc": state["val_acc"]}
