"""One training engine for every notebook: an epoch, an evaluation, and ``fit``.

The hot loop keeps loss and correct counts on the device and syncs once per epoch; the best
checkpoint by test accuracy is written atomically, and the last state each epoch so that
``fit(..., resume=True)`` continues an interrupted run.
"""
from __future__ import annotations

import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .images import load_rgb


@dataclass
class History:
    """Per-epoch numbers of a run (accuracies are fractions), plus every batch's loss."""
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    best_test_acc: float = -1.0  # below any accuracy, so the first epoch is always kept

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def train_seconds(self) -> float:
        return float(sum(self.seconds))


def _autocast(device: torch.device, amp: bool | None):
    enabled = device.type == "cuda" if amp is None else amp
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda")


def train_epoch(model: nn.Module, loader, optimizer: torch.optim.Optimizer, loss_fn=F.cross_entropy,
                device: str | torch.device = "cpu", scheduler=None, amp: bool | None = None,
                progress: bool = False, desc: str = "train") -> tuple[float, float, list[float]]:
    """Train for one pass over ``loader``; return (mean loss, accuracy, loss of every batch).

    ``scheduler``, if given, steps after every batch (OneCycleLR and friends).
    """
    device = torch.device(device)
    model.train()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    batch_losses, seen = [], 0
    for x, y in tqdm(loader, desc=desc, leave=False, disable=not progress):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with _autocast(device, amp):
            out = model(x)
            loss = loss_fn(out, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        loss = loss.detach()
        batch_losses.append(loss)
        loss_sum += loss * len(y)
        correct += (out.argmax(1) == y).sum()
        seen += len(y)
    losses = torch.stack(batch_losses).float().tolist() if batch_losses else []
    return loss_sum.item() / max(seen, 1), correct.item() / max(seen, 1), losses


@torch.inference_mode()
def evaluate(model: nn.Module, loader, loss_fn=F.cross_entropy, device: str | torch.device = "cpu",
             amp: bool | None = None) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``loader``."""
    device = torch.device(device)
    model.eval()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with _autocast(device, amp):
            out = model(x)
        loss_sum += loss_fn(out.float(), y, reduction="sum")
        correct += (out.argmax(1) == y).sum()
        seen += len(y)
    return loss_sum.item() / max(seen, 1), correct.item() / max(seen, 1)


@torch.inference_mode()
def predict(model: nn.Module, loader, device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Class probabilities (N, classes) and targets (N,) on the CPU, in loader order."""
    device = torch.device(device)
    model.eval()
    probs, targets = [], []
    for x, y in loader:
        # softmax is shift-invariant, so it also turns the MNIST models' log-softmax into probabilities
        probs.append(model(x.to(device)).float().softmax(1).cpu())
        targets.append(torch.as_tensor(y).cpu())
    return torch.cat(probs), torch.cat(targets)


@torch.inference_mode()
def predict_image(model: nn.Module, path: str | os.PathLike, transform, device: str | torch.device = "cpu"):
    """(image, class probabilities) for one image file.

    Any file PIL reads works: grayscale, palette and RGBA images become RGB first, and
    ``transform`` (the *test* transform, never the training one) resizes and normalises, so
    the model sees what it saw in testing. A missing or unreadable file names itself.
    """
    image = load_rgb(path)
    model.eval()
    probs = model(transform(image).unsqueeze(0).to(device)).float().softmax(1).cpu()[0]
    return image, probs


def _save_atomic(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)  # a crash mid-save leaves the previous file intact


def last_state_path(checkpoint_path: str | os.PathLike) -> Path:
    """Where ``fit`` keeps the state to resume from, next to the best checkpoint."""
    path = Path(checkpoint_path)
    return path.with_name(path.stem + ".last" + path.suffix)


def _rng_state(loaders) -> dict:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "loaders": [getattr(ld, "generator", None) and ld.generator.get_state() for ld in loaders]}


def _set_rng_state(state: dict, loaders) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])
    for ld, gen_state in zip(loaders, state["loaders"]):
        if gen_state is not None:
            ld.generator.set_state(gen_state)


def fit(model: nn.Module, train_loader, test_loader, optimizer: torch.optim.Optimizer, epochs: int, *,
        loss_fn=F.cross_entropy, device: str | torch.device = "cpu", scheduler=None,
        scheduler_per: str = "batch", checkpoint_path: str | os.PathLike | None = None,
        resume: bool = False, progress: bool | None = None, amp: bool | None = None, log=print,
        save_last: bool = True, channels_last: bool | None = None, compile_model: bool = False) -> History:
    """Train for ``epochs`` and evaluate after each; return the History.

    - ``scheduler`` steps after every batch (``scheduler_per="batch"``) or epoch ("epoch").
    - ``checkpoint_path``: the best model by test accuracy is saved there (only when it beats
      every earlier epoch), and the full state of the last epoch next to it for ``resume``.
    - ``save_last=False`` skips that resume state (VGG16 with Adam: about 1.6 GB each epoch).
    - ``channels_last`` (default: on CUDA) stores conv weights NHWC, the layout tensor cores want;
      ``compile_model=True`` runs the steps through ``torch.compile`` on CUDA (a warm-up cost
      that pays off over many epochs); checkpoints keep the plain model's weights either way.
    - ``progress``: tqdm bars; None shows them unless ``COURSE_PROGRESS=0`` (set for papermill
      runs, whose saved notebooks would otherwise keep frozen bars).
    """
    if progress is None:
        progress = os.environ.get("COURSE_PROGRESS", "1") != "0"
    if scheduler_per not in ("batch", "epoch"):
        raise ValueError(f"scheduler_per must be 'batch' or 'epoch', got {scheduler_per!r}.")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    device = torch.device(device)
    model.to(device)
    if channels_last if channels_last is not None else device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    runner = torch.compile(model) if compile_model and device.type == "cuda" else model
    history, start = History(), 1
    checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
    loaders = (train_loader, test_loader)
    if resume:
        if checkpoint_path is None:
            raise ValueError("resume=True needs the checkpoint_path of the interrupted run.")
        last = last_state_path(checkpoint_path)
        if last.exists():
            state = torch.load(last, weights_only=False, map_location=device)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None and state["scheduler"] is not None:
                scheduler.load_state_dict(state["scheduler"])
            history = History(**state["history"])
            _set_rng_state(state["rng"], loaders)
            start = state["epoch"] + 1
            log(f"resumed from {last.name} after epoch {state['epoch']}")
        else:
            log(f"resume=True but {last} does not exist: starting from epoch 1")
    bar = tqdm(range(start, epochs + 1), desc="epochs", disable=not progress)
    for epoch in bar:
        lr = optimizer.param_groups[0]["lr"]
        t0 = time.perf_counter()
        train_loss, train_acc, batch_losses = train_epoch(
            runner, train_loader, optimizer, loss_fn, device, scheduler if scheduler_per == "batch" else None,
            amp, progress, desc=f"epoch {epoch}")
        if scheduler is not None and scheduler_per == "epoch":
            scheduler.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        test_loss, test_acc = evaluate(runner, test_loader, loss_fn, device, amp)
        for key, value in dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc, test_loss=test_loss,
                               test_acc=test_acc, lr=lr, seconds=seconds).items():
            getattr(history, key).append(value)
        history.batch_loss.extend(batch_losses)
        improved = test_acc > history.best_test_acc
        if improved:
            history.best_epoch, history.best_test_acc = epoch, test_acc
            if checkpoint_path is not None:
                _save_atomic({"model": model.state_dict(), "epoch": epoch, "test_acc": test_acc}, checkpoint_path)
        if checkpoint_path is not None and save_last:
            _save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                          "scheduler": scheduler.state_dict() if scheduler is not None else None,
                          "epoch": epoch, "history": history.as_dict(), "rng": _rng_state(loaders)},
                         last_state_path(checkpoint_path))
        bar.set_postfix(test_acc=f"{test_acc:.3f}")
        log(f"epoch {epoch}/{epochs}  lr {lr:.2e}  train loss {train_loss:.4f} acc {train_acc:.4f}  "
            f"test loss {test_loss:.4f} acc {test_acc:.4f}  {seconds:.1f}s" + ("  *best" if improved else ""))
    return history


def load_checkpoint(model: nn.Module, checkpoint_path: str | os.PathLike, device="cpu") -> dict:
    """Load the best checkpoint's weights into ``model``; return its metadata (epoch, test_acc)."""
    path = Path(checkpoint_path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}: run the training cell first.")
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state["model"])
    return {"epoch": state["epoch"], "test_acc": state["test_acc"]}
