"""The training loop of every notebook: one epoch, one evaluation, and ``fit`` around them.

Notebook 01 writes ``train_one_epoch`` and ``evaluate`` by hand and then shows that this module
is the same loop, packaged (a test holds the two equal on the CPU). Notebook 03 shows ``fit``,
notebook 07 its checkpoints and ``resume``. The same loop runs on every device: on a CUDA GPU
``fit`` turns on mixed precision (``speed.precision_for``); on a CPU or MPS it trains in float32,
where the autocast and the gradient scaler do nothing.
"""

from __future__ import annotations

import copy
import os
import time
import warnings
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

with warnings.catch_warnings():  # its note that notebook mode is "experimental"
    warnings.simplefilter("ignore")
    # Not tqdm.auto: its asyncio wrapper calls iter(loader) once more, which draws an extra
    # random seed from a DataLoader and so changes the shuffling of the run.
    from tqdm.autonotebook import tqdm

from . import checkpoints, speed


def show_progress() -> bool:
    """Progress bars are on unless ``COURSE_PROGRESS=0`` (set for papermill runs, whose saved
    notebooks would otherwise keep frozen bars): the one progress setting of the course."""
    return os.environ.get("COURSE_PROGRESS", "1") != "0"


def train_one_epoch(
    model, loader, optimizer, loss_fn=F.cross_entropy, device="cpu", scheduler=None, precision="float32", scaler=None
):
    """One pass over ``loader``: return (mean loss, accuracy, the loss of every batch).

    Notebook 01's hand-written loop, plus: ``scheduler``, stepped after every batch (OneCycleLR);
    ``precision`` "bfloat16" or "float16" for mixed precision, with ``scaler`` (a GradScaler) for
    float16 (``fit`` passes both on a GPU); sums kept on the device and read once, at the end.
    """
    device = torch.device(device)
    if scaler is None:  # float16 gradients underflow without one; disabled, it changes nothing
        scaler = torch.amp.GradScaler(device.type, enabled=precision == "float16")
    model.train()  # Dropout drops and BatchNorm uses batch statistics
    # float64 adds exactly what 01's Python floats add; MPS has no float64
    total_loss = torch.zeros((), dtype=torch.float32 if device.type == "mps" else torch.float64, device=device)
    correct, seen, batch_losses = torch.zeros((), dtype=torch.long, device=device), 0, []
    for x, y in tqdm(loader, leave=False, disable=not show_progress()):
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()  # gradients add up across backward() calls: clear last batch's
        with torch.autocast(device.type, dtype=getattr(torch, precision), enabled=precision != "float32"):
            out = model(x)
            loss = loss_fn(out, y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # optimizer.step(), skipped when a float16 gradient overflowed
        scaler.update()
        if scheduler is not None:
            scheduler.step()
        batch_losses.append(loss.detach())
        total_loss += batch_losses[-1].to(total_loss.dtype) * len(y)
        correct += (out.argmax(1) == y).sum()
        seen += len(y)
    return total_loss.item() / seen, correct.item() / seen, torch.stack(batch_losses).float().tolist()


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

    def add_epoch(
        self, epoch: int, lr: float, train_loss: float, train_acc: float, batch_losses: list[float], seconds: float
    ) -> None:
        """Record one epoch's training (what ``train_one_epoch`` returned) and its learning rate."""
        for key, value in dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc, lr=lr, seconds=seconds).items():
            getattr(self, key).append(value)
        self.batch_loss.extend(batch_losses)

    def epoch_line(self, epochs: int) -> str:
        """The log line of the last recorded epoch. ``course.py`` finds these lines by their
        ``epoch N/M`` prefix, so the prefix stays."""
        epoch = self.epoch[-1]
        line = f"epoch {epoch}/{epochs}  lr {self.lr[-1]:.2e}"
        line += f"  train loss {self.train_loss[-1]:.4f} acc {self.train_acc[-1]:.4f}"
        if len(self.val_acc) == len(self.epoch):  # this run validates after every epoch
            line += f"  val loss {self.val_loss[-1]:.4f} acc {self.val_acc[-1]:.4f}"
            if self.best_epoch == epoch:
                line += "  *best"
        return f"{line}  {self.seconds[-1]:.1f}s"

    def kept_line(self) -> str:
        return f"kept the weights of epoch {self.best_epoch} (best validation accuracy {self.best_val_acc:.4f})"


def check_fit_arguments(epochs: int, scheduler_per: str, checkpoint, resume: bool) -> None:
    """Fail before any training on the mistakes that would otherwise fail (or do nothing) late."""
    if scheduler_per not in ("batch", "epoch"):
        raise ValueError(f"scheduler_per must be 'batch' or 'epoch', got {scheduler_per!r}.")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=<path>: the file the run saves its state next to.")


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
    patience: int | None = None,
    log=print,
    on_epoch_end=None,
    checkpoint=None,
    resume: bool = False,
    channels_last: bool = False,
) -> History:
    """Train for ``epochs``, evaluate on ``val_loader`` after each, keep the best model by
    *validation* accuracy, and return the History. The test split plays no part here: score it
    once, afterwards, with the model this returns.

    - After the last epoch ``model`` holds the weights of the epoch validation chose.
      ``val_loader=None``: no choice, the last epoch stays.
    - ``patience``: stop when validation accuracy has not improved for that many epochs.
    - ``scheduler`` steps after every batch (``scheduler_per="batch"``) or epoch (``"epoch"``).
    - ``on_epoch_end(epoch, model, history)`` runs after each epoch, for anything beyond the lesson.
    - ``checkpoint``, a path: each epoch validation chooses is written there when it is chosen
      (``checkpoints.load_checkpoint`` reads it back). ``resume=True`` also writes everything the
      next epoch depends on after every epoch (``checkpoints.last_state_path``) and, when that file
      exists, continues from it. Without ``resume=True`` a run starts afresh.
    - ``channels_last=True`` stores convolution weights NHWC first (faster convolutions on tensor
      cores and on many CPUs); no other setting changes the model's memory layout.
    - On a CUDA GPU the epochs run in mixed precision (``speed.precision_for``).

    Introduced in notebook 01; notebook 03 shows its source, notebook 07 resumes with it.
    """
    check_fit_arguments(epochs, scheduler_per, checkpoint, resume)
    device = torch.device(device)
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    precision = speed.precision_for(device)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "float16")
    per_batch = scheduler if scheduler_per == "batch" else None
    history, best_state = History(), None
    if resume and checkpoints.last_state_path(checkpoint).exists():
        saved, best_state = checkpoints.load_state(checkpoint, model, optimizer, scheduler, scaler, device)
        history = History(**saved)
        log(f"resumed from {checkpoints.last_state_path(checkpoint).name} after epoch {history.epoch[-1]}")
    first = epochs + 1 if history.stopped_early else len(history.epoch) + 1  # a run patience ended stays ended
    for epoch in range(first, epochs + 1):
        lr, start = optimizer.param_groups[0]["lr"], time.perf_counter()
        try:
            train_loss, train_acc, batch_losses = train_one_epoch(
                model, train_loader, optimizer, loss_fn, device, per_batch, precision, scaler
            )
        except torch.OutOfMemoryError as error:  # the advice first, the original message kept
            batch = getattr(train_loader, "batch_size", "?")
            raise torch.OutOfMemoryError(speed.OUT_OF_MEMORY_ADVICE.format(batch=batch) + f"\n{error}") from error
        if scheduler is not None and scheduler_per == "epoch":
            scheduler.step()
        history.add_epoch(epoch, lr, train_loss, train_acc, batch_losses, time.perf_counter() - start)
        if val_loader is not None:
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            if val_acc > history.best_val_acc:  # strictly better: a tie keeps the earlier epoch
                history.best_epoch, history.best_val_acc = epoch, val_acc
                best_state = copy.deepcopy(model.state_dict())
                if checkpoint is not None:
                    checkpoints.save_chosen(checkpoint, best_state, epoch, val_acc)
        log(history.epoch_line(epochs))
        if on_epoch_end is not None:
            on_epoch_end(epoch, model, history)
        history.stopped_early = out_of_patience(history, patience, epochs)
        if resume:
            checkpoints.save_state(checkpoint, model, optimizer, scheduler, scaler, history.as_dict())
        if history.stopped_early:
            log(f"stopped early: no better validation accuracy for {patience} epochs")
            break
    if best_state is None:  # no validation loader: nothing was chosen
        history.best_epoch = history.epoch[-1]
    else:
        model.load_state_dict(best_state)
        log(history.kept_line())
    return history


def out_of_patience(history: History, patience: int | None, epochs: int) -> bool:
    """True when ``patience`` epochs have passed without a better validation accuracy and epochs
    are left to skip: after the last epoch the run ends anyway, so nothing stopped it early."""
    if patience is None or history.best_epoch is None:
        return False
    epoch = history.epoch[-1]
    return epoch < epochs and epoch - history.best_epoch >= patience
