"""Checkpoints on disk, all written by ``fit(..., checkpoint=path)``: where they go, writing them
safely, the weights of the epoch validation chose (notebook 05 reloads them), and the state a
``resume=True`` run continues from (notebook 07). Everything here loads with
``torch.load(..., weights_only=True)``: tensors, numbers, strings and containers, no pickled objects."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .paths import work_root


def checkpoint_path(notebook: str, profile: str, seed: int, checkpoint_dir=None) -> Path:
    """``checkpoints/<notebook>-<profile>-seed<seed>.pt`` under the checkout (git-ignored; the
    working directory when installed without a checkout), or under ``checkpoint_dir`` when given."""
    folder = Path(checkpoint_dir) if checkpoint_dir else work_root() / "checkpoints"
    return folder / f"{notebook}-{profile}-seed{seed}.pt"


def last_state_path(checkpoint) -> Path:
    """Where ``fit(..., checkpoint=path, resume=True)`` keeps the state it resumes from: next to
    ``path``, as ``<name>.last.pt``."""
    path = Path(checkpoint)
    return path.with_name(path.stem + ".last" + path.suffix)


def save_atomic(obj, path: Path) -> None:
    """``torch.save`` to a temporary name, then rename: a crash mid-save leaves the old file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_chosen(path, state_dict: dict, epoch: int, val_acc: float) -> None:
    """The weights of the epoch validation chose, written as soon as it is chosen, so that a crash
    keeps the best epoch so far."""
    save_atomic({"model": state_dict, "epoch": epoch, "val_acc": val_acc}, path)


def load_checkpoint(model: nn.Module, path, device="cpu") -> dict:
    """Load the weights ``fit(..., checkpoint=path)`` wrote at ``path`` into ``model``; return the
    checkpoint's epoch and validation accuracy.

    Introduced in notebook 05.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}: run the training cell first.")
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state["model"])
    return {"epoch": state["epoch"], "val_acc": state["val_acc"]}


def rng_state() -> dict:
    """Every random generator's state as tensors and plain numbers (numpy's key array as a tensor),
    the types that ``weights_only=True`` loads."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos, "has_gauss": has_gauss, "gauss": gauss},
        "python": random.getstate(),
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"]:
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    numpy = state["numpy"]
    keys = numpy["keys"].cpu().numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, numpy["pos"], numpy["has_gauss"], numpy["gauss"]))
    random.setstate(state["python"])


def save_state(checkpoint, model: nn.Module, optimizer, scheduler, scaler, history: dict) -> None:
    """Everything the next epoch depends on, at ``last_state_path(checkpoint)``: weights, optimizer
    (momenta), scheduler (its position), gradient scaler, the history so far and every random
    generator (the next shuffle)."""
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "scaler": scaler.state_dict(),
        "history": history,
        "rng": rng_state(),
    }
    save_atomic(state, last_state_path(checkpoint))


def load_state(checkpoint, model: nn.Module, optimizer, scheduler, scaler, device) -> tuple[dict, dict | None]:
    """Put what ``save_state`` wrote back into ``model``, ``optimizer``, ``scheduler``, ``scaler`` and
    the random generators; return the history so far and the chosen epoch's weights (None when
    nothing was chosen yet). ``model`` must already be on ``device``, so that the optimizer's state
    lands next to the parameters it belongs to."""
    state = torch.load(last_state_path(checkpoint), map_location=device, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    if state["scaler"]:  # empty when saved by a disabled scaler (float32)
        scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    chosen = Path(checkpoint)
    best = None
    if state["history"]["best_epoch"] is not None and chosen.exists():
        best = torch.load(chosen, map_location=device, weights_only=True)["model"]
    return state["history"], best
