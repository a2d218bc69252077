"""The course's figures: image grids, training curves, confusion matrices, predictions."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from .images import load_rgb


def to_display(images: torch.Tensor, mean=None, std=None) -> np.ndarray:
    """Undo normalisation and return (N, H, W, C) floats in [0, 1]; uint8 input is scaled.

    Used by notebook 01 through `plots.image_grid`.
    """
    x = torch.as_tensor(images).detach().cpu()
    if x.dtype == torch.uint8:
        x = x.float() / 255
    elif mean is not None:
        x = x * torch.tensor(std).view(1, -1, 1, 1) + torch.tensor(mean).view(1, -1, 1, 1)
    return x.clamp(0, 1).permute(0, 2, 3, 1).numpy()


def image_grid(
    images,
    labels=None,
    class_names=None,
    mean=None,
    std=None,
    ncols: int = 10,
    title: str | None = None,
    colors=None,
    size: float = 1.2,
):
    """Show images in a grid, each titled with its label (class name when given).

    Introduced in notebook 01.
    """
    pics = to_display(images, mean, std)
    n = len(pics)
    ncols = max(1, min(ncols, n))  # two images make a grid two columns wide, not ten
    nrows = -(-n // ncols)
    texts = None
    if labels is not None:
        if len(labels) < n:
            raise ValueError(f"image_grid: {n} images but {len(labels)} labels; pass one label per image")
        texts = [
            class_names[int(label)] if class_names is not None and not isinstance(label, str) else str(label)
            for label in labels[:n]
        ]
    # Each row gets room for its titles' lines, so that a title never covers the image above it.
    lines = max((t.count("\n") + 1 for t in texts), default=0) if texts else 0
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * size, nrows * (size + 0.2 * lines) + (0.4 if title else 0)), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        pic = pics[i]
        ax.imshow(pic[..., 0] if pic.shape[-1] == 1 else pic, cmap="gray" if pic.shape[-1] == 1 else None)
        if texts is not None:
            ax.set_title(texts[i], fontsize=8, color=colors[i] if colors is not None else "black")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_filters(image, filters, maps, title: str | None = None):
    """One input image (H, W), a convolution's filters (F, k, k) and their maps of it (F, H', W'):
    the filters on one diverging scale for all of them (red positive, blue negative), each map on
    its own grey scale.

    Introduced in notebook 01.
    """
    image, filters, maps = (torch.as_tensor(t).detach().cpu().numpy() for t in (image, filters, maps))
    n = len(filters)
    fig, axes = plt.subplots(2, n + 1, figsize=(1.5 * (n + 1), 3.4), squeeze=False)
    axes[0, 0].imshow(image, cmap="gray")
    axes[0, 0].set_title("input")
    axes[1, 0].axis("off")
    limit = float(np.abs(filters).max())
    for i in range(n):
        axes[0, i + 1].imshow(filters[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[0, i + 1].set_title(f"filter {i}")
        axes[1, i + 1].imshow(maps[i], cmap="gray")
        axes[1, i + 1].set_title("its map")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return fig


def prediction_grid(images, preds, targets, class_names=None, mean=None, std=None, ncols: int = 10):
    """Images titled with their predicted class, in green; a mistake in red, titled 'predicted (true)'.

    Introduced in notebook 01.
    """
    # An evaluation capped at max_steps batches (the dry run) predicts fewer images than were asked for.
    n = min(len(images), len(preds), len(targets))
    images, preds, targets = images[:n], preds[:n], targets[:n]
    names = class_names if class_names is not None else [str(i) for i in range(int(max(max(preds), max(targets))) + 1)]
    labels = [
        names[int(p)] if int(p) == int(t) else f"{names[int(p)]} ({names[int(t)]})" for p, t in zip(preds, targets)
    ]
    colors = ["tab:green" if int(p) == int(t) else "red" for p, t in zip(preds, targets)]
    return image_grid(
        images, labels, mean=mean, std=std, ncols=ncols, colors=colors, title="predicted (true when wrong)"
    )


def plot_history(*histories, labels=None, title: str | None = None):
    """Loss and accuracy per epoch, training (dashed) against validation (solid), one colour per run;
    a star marks the epoch that validation chose. The legend sits beside the panels, not on the data.

    Introduced in notebook 03.
    """
    from matplotlib.lines import Line2D

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    handles = []
    for i, h in enumerate(histories):
        for ax, key in ((ax_loss, "loss"), (ax_acc, "acc")):
            (line,) = ax.plot(h.epoch, getattr(h, f"train_{key}"), "--", marker="o", ms=4, color=f"C{i}")
            if getattr(h, f"val_{key}"):
                ax.plot(h.epoch[: len(h.val_acc)], getattr(h, f"val_{key}"), "-", marker="o", ms=4, color=f"C{i}")
            if h.best_epoch is not None and h.val_acc and key == "acc":
                ax.plot([h.best_epoch], [h.best_val_acc], "*", ms=14, color=f"C{i}")
        if labels:
            handles.append(Line2D([], [], color=f"C{i}", lw=3, label=labels[i]))
    handles += [
        Line2D([], [], color="gray", ls="--", label="training"),
        Line2D([], [], color="gray", ls="-", label="validation"),
    ]
    if any(h.best_epoch is not None and h.val_acc for h in histories):
        handles.append(Line2D([], [], color="gray", ls="", marker="*", ms=12, label="epoch validation chose"))
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False, handlelength=3)
    return fig


def plot_batch_losses(losses: dict[str, list[float]], smooth: int = 20, title: str = "training loss per batch"):
    """Per-batch training loss of several runs, with a moving average.

    Introduced in notebook 01.
    """
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for name, values in losses.items():
        v = np.asarray(values)
        (line,) = ax.plot(v, alpha=0.25)
        if len(v) >= smooth:
            ax.plot(
                np.arange(smooth - 1, len(v)),
                np.convolve(v, np.ones(smooth) / smooth, "valid"),
                color=line.get_color(),
                label=name,
            )
        else:
            line.set_label(name)
    ax.set(xlabel="batch", ylabel="loss", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_runs(runs: dict, title: str, max_loss: float = 2 * math.log(10)):
    """Training loss of every batch (smoothed) and validation accuracy per epoch, one line per run
    (``runs``: name to History). The loss axis stops at ``max_loss`` (twice a uniform guess over 10
    classes), so that a diverging run leaves through the top instead of squashing the others.

    Introduced in notebook 06.
    """
    steps = len(next(iter(runs.values())).batch_loss)
    fig = plot_batch_losses({n: h.batch_loss for n, h in runs.items()}, smooth=max(2, steps // 15), title=title)
    fig.axes[0].set_ylim(0, max_loss)
    fig2, ax = plt.subplots(figsize=(8, 3))
    for name, h in runs.items():
        ax.plot(h.epoch, h.val_acc, marker="o", label=name)
    ax.set(xlabel="epoch", ylabel="validation accuracy", title=title)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig2.tight_layout()
    return fig, fig2


def plot_confusion(cm: torch.Tensor, class_names, title: str = "confusion matrix", normalize: bool = False):
    """Confusion matrix with counts in the cells; rows are true classes.

    Introduced in notebook 01.
    """
    cm = torch.as_tensor(cm).float()
    shown = cm / cm.sum(1, keepdim=True).clamp(min=1) if normalize else cm
    n = len(class_names)
    fig, ax = plt.subplots(figsize=(1 + 0.6 * n, 0.8 + 0.6 * n))
    ax.imshow(shown.numpy(), cmap="Blues")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), class_names)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    limit = shown.max().item() / 2
    for i in range(n):
        for j in range(n):
            text = f"{shown[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if shown[i, j] > limit else "black")
    fig.tight_layout()
    return fig


def show_pairs(pairs: list[tuple], size: int = 2):
    """Notebook 05: each (published test file, its train copy) side by side, titled with their paths."""
    fig, axes = plt.subplots(2, len(pairs), figsize=(len(pairs) * size, 2 * size + 0.6), squeeze=False)
    for j, (test, train) in enumerate(pairs):
        for i, s in enumerate((test, train)):
            axes[i, j].imshow(load_rgb(s.path))
            axes[i, j].set_title(s.rel(), fontsize=7)
            axes[i, j].axis("off")
    fig.suptitle("published test image (top) and the identical train image (bottom)")
    fig.tight_layout()
    return fig


def show_prediction(image, probs: torch.Tensor, class_names: list[str], title: str = ""):
    """Notebook 05: the image next to a bar chart of the class probabilities."""
    fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(7, 2.8), gridspec_kw={"width_ratios": [1, 1.4]})
    ax_img.imshow(image)
    ax_img.set_title(title, fontsize=8)
    ax_img.axis("off")
    probs = torch.as_tensor(probs).flatten()
    bars = ax_bar.barh(class_names, probs.numpy(), color="tab:blue")
    bars[int(probs.argmax())].set_color("tab:orange")
    ax_bar.set(xlim=(0, 1), xlabel="probability")
    ax_bar.invert_yaxis()
    for bar, p in zip(bars, probs.tolist()):
        ax_bar.text(min(p + 0.02, 0.85), bar.get_y() + bar.get_height() / 2, f"{p:.3f}", va="center", fontsize=8)
    fig.tight_layout()
    return fig
