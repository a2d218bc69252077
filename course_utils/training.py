"""The training loop of every notebook: one epoch, one evaluation, and ``fit`` around them.

Notebook 01 writes ``train_one_epoch`` and ``evaluate`` by hand and then shows that this module
is the same loop, packaged (a test holds the two equal). Notebook 03 shows ``fit``. What exists
only for speed on a GPU lives in ``speed.py``; resuming an interrupted run in ``checkpoints.py``.
"""

from __future__ import annotations

import copy
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

with warnings.catch_warnings():  # its note that notebook mode is "experimental"
    warnings.simplefilter("ignore")
    # Not tqdm.auto: its asyncio wrapper calls iter(loader) once more, which draws an extra
    # random seed from a DataLoader and so changes the shuffling of the run.
    from tqdm.autonotebook import tqdm

from . import speed
from .checkpoints import save_atomic


def show_progress() -> bool:
    """Progress bars are on unless ``COURSE_PROGRESS=0`` (set for papermill runs, whose saved
    notebooks would otherwise keep frozen bars): the one progress setting of the course."""
    return os.environ.get("COURSE_PROGRESS", "1") != "0"


def train_one_epoch(model: nn.Module, loader, optimizer, loss_fn=F.cross_entropy, device="cpu", scheduler=None):
    """One pass over ``loader``: return (mean loss, accuracy, the loss of every batch).

    The same lines as notebook 01's hand-written loop. ``scheduler``, if given, steps after every
    batch (OneCycleLR and friends).
    """
    model.train()  # Dropout drops and BatchNorm uses batch statistics
    total_loss, correct, seen, batch_losses = 0.0, 0, 0, []
    for x, y in tqdm(loader, leave=False, disable=not show_progress()):
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()  # gradients add up across backward() calls: clear last batch's
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        batch_loss = loss.item()
        batch_losses.append(batch_loss)
        total_loss += batch_loss * len(y)
        correct += (out.argmax(1) == y).sum().item()
        seen += len(y)
    return total_loss / seen, correct / seen, batch_losses


def outputs(model: nn.Module, loader, device="cpu", flip: bool = False):
    """Yield (model outputs, targets) batch by batch in eval mode without gradients: the one
    evaluation path that ``evaluate``, ``inference.predict`` and the flip test (04) share.

    ``flip=True`` averages the log-probabilities of each image and its mirror image.
    """
    model.eval()  # Dropout off, BatchNorm uses its running statistics
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            if flip:
                out = (out.log_softmax(1) + model(x.flip(3)).log_softmax(1)) / 2
            yield out, y


def evaluate(model: nn.Module, loader, loss_fn=F.cross_entropy, device="cpu", flip: bool = False):
    """Mean loss and accuracy of ``model`` on ``loader``.

    Introduced in notebook 01 (written by hand there).
    """
    total_loss, correct, seen = 0.0, 0, 0
    for out, y in outputs(model, loader, device, flip):
        total_loss += loss_fn(out, y, reduction="sum").item()
        correct += (out.argmax(1) == y).sum().item()
        seen += len(y)
    return total_loss / seen, correct / seen


@dataclass
class History:
    """Per-epoch numbers of a run (accuracies are fractions), plus every batch's loss.

    ``best_epoch`` is the epoch validation chose; without a validation loader nothing is chosen
    and the last epoch is kept. ``stopped_early``: patience ended the run before its last epoch.

    Introduced in notebook 03.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    best_val_acc: float = -1.0  # below any accuracy, so the first epoch is always kept
    stopped_early: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def train_seconds(self) -> float:
        return float(sum(self.seconds))


def fit(
    model: nn.Module,
    train_loader,
    val_loader,
    optimizer,
    epochs: int,
    *,
    loss_fn=F.cross_entropy,
    device="cpu",
    scheduler=None,
    scheduler_per: str = "batch",
    checkpoint_path=None,
    patience: int | None = None,
    log=print,
    on_epoch_end=None,
    history: History | None = None,
) -> History:
    """Train for ``epochs``, evaluate on ``val_loader`` after each, keep the best model by
    *validation* accuracy, and return the History. The test split plays no part here: score it
    once, afterwards, with the model this returns.

    - After the last epoch ``model`` holds the weights of the epoch validation chose (saved to
      ``checkpoint_path`` too when given). ``val_loader=None``: no choice, the last epoch stays.
    - ``patience``: stop when validation accuracy has not improved for that many epochs.
    - ``scheduler`` steps after every batch (``scheduler_per="batch"``) or epoch (``"epoch"``).
    - ``on_epoch_end(epoch, model, history)`` runs after each epoch; ``history`` continues an
      earlier run (``checkpoints.fit_resumable`` uses both).
    - On a CUDA device the epoch runs through ``speed.train_one_epoch_fast`` (mixed precision,
      channels_last); on a CPU it is ``train_one_epoch`` above.

    Introduced in notebook 01; notebook 03 shows its source.
    """
    if scheduler_per not in ("batch", "epoch"):
        raise ValueError(f"scheduler_per must be 'batch' or 'epoch', got {scheduler_per!r}.")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    device = torch.device(device)
    model.to(device)
    run_epoch = train_one_epoch
    if device.type == "cuda":
        speed.prepare_model(model)
        run_epoch = speed.train_one_epoch_fast
    history = history or History()
    best_state = None
    for epoch in range(len(history.epoch) + 1, epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        start = time.perf_counter()
        per_batch = scheduler if scheduler_per == "batch" else None
        train_loss, train_acc, batch_losses = run_epoch(model, train_loader, optimizer, loss_fn, device, per_batch)
        if scheduler is not None and scheduler_per == "epoch":
            scheduler.step()
        seconds = time.perf_counter() - start
        for key, value in dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc, lr=lr, seconds=seconds).items():
            getattr(history, key).append(value)
        history.batch_loss.extend(batch_losses)
        line = f"epoch {epoch}/{epochs}  lr {lr:.2e}  train loss {train_loss:.4f} acc {train_acc:.4f}"
        if val_loader is not None:
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            line += f"  val loss {val_loss:.4f} acc {val_acc:.4f}"
            if val_acc > history.best_val_acc:  # strictly better: a tie keeps the earlier epoch
                history.best_epoch, history.best_val_acc = epoch, val_acc
                best_state = copy.deepcopy(model.state_dict())
                if checkpoint_path is not None:
                    save_atomic({"model": best_state, "epoch": epoch, "val_acc": val_acc}, Path(checkpoint_path))
                line += "  *best"
        log(f"{line}  {seconds:.1f}s")
        if on_epoch_end is not None:
            on_epoch_end(epoch, model, history)
        # After the last epoch the run ends anyway: patience running out there skips nothing.
        out_of_patience = (
            patience is not None and history.best_epoch is not None and epoch - history.best_epoch >= patience
        )
        if out_of_patience and epoch < epochs:
            history.stopped_early = True
            log(f"stopped early: no better validation accuracy for {patience} epochs")
            break
    if val_loader is None:
        history.best_epoch = history.epoch[-1]
    elif best_state is not None or (checkpoint_path is not None and Path(checkpoint_path).exists()):
        if best_state is None:  # resumed after the best epoch: its weights are on disk
            best_state = torch.load(checkpoint_path, map_location=device, weights_only=True)["model"]
        model.load_state_dict(best_state)
        log(f"kept the weights of epoch {history.best_epoch} (best validation accuracy {history.best_val_acc:.4f})")
    return history
