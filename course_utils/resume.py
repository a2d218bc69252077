"""Resuming an interrupted ``fit`` (notebook 07): the full state after every epoch, and a run that continues
from it to the same result as an uninterrupted one (tests/test_train.py checks that)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from .checkpoints import save_atomic
from .training import History, fit


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


def fit_resumable(
    model, train_loader, val_loader, optimizer, epochs: int, *, checkpoint_path, scheduler=None, log=print, **fit_args
) -> History:
    """``fit`` that saves model, optimizer, scheduler, history and random state after every
    epoch, and continues from that state when it exists (after an interruption).

    Introduced in notebook 07 (save and resume); also for long GPU runs. Tested in tests/test_train.py.
    """
    last = last_state_path(checkpoint_path)
    history = None
    if last.exists():
        state = torch.load(last, weights_only=False, map_location=fit_args.get("device", "cpu"))
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state["scheduler"] is not None:
            scheduler.load_state_dict(state["scheduler"])
        history = History(**state["history"])
        _set_rng_state(state["rng"])
        log(f"resumed from {last.name} after epoch {history.epoch[-1]}")

    def save_state(epoch, model, history):
        save_atomic(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "history": history.as_dict(),
                "rng": _rng_state(),
            },
            last,
        )

    return fit(
        model,
        train_loader,
        val_loader,
        optimizer,
        epochs,
        scheduler=scheduler,
        checkpoint_path=checkpoint_path,
        log=log,
        on_epoch_end=save_state,
        history=history,
        **fit_args,
    )
