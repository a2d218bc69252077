"""Numbers a notebook reports: confusion matrices, per-class accuracy, the metrics JSON."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
from pathlib import Path

import torch


def confusion_matrix(preds: torch.Tensor, targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(true class, predicted class) counts.

    Introduced in notebook 01.
    """
    preds, targets = torch.as_tensor(preds).flatten(), torch.as_tensor(targets).flatten()
    return torch.bincount(targets * num_classes + preds, minlength=num_classes**2).reshape(num_classes, num_classes)


def per_class_accuracy(cm: torch.Tensor, class_names) -> dict[str, float]:
    """Recall of each class: correct predictions over images of that class.

    Used by notebook 03 through `cifar.score_report`.
    """
    totals = cm.sum(1).clamp(min=1)
    return {str(name): float(cm[i, i] / totals[i]) for i, name in enumerate(class_names)}


def points(delta: float) -> str:
    """A change in accuracy (a difference of fractions) in percentage points, one sign convention
    for the whole course: "+1.2 points", "−12.2 points" (a true minus sign).

    Introduced in notebook 02.
    """
    value = round(delta * 100, 1)
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{abs(value):.1f} points"


def _plain(value):
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"Metric value {value} is not finite.")
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def write_metrics(metrics_path: str | os.PathLike | None, metrics: dict) -> dict:
    """Write the notebook's numbers as JSON to ``metrics_path`` (skipped when None); return them."""
    plain = _plain(metrics)
    if metrics_path:
        path = Path(metrics_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(plain, indent=2, sort_keys=True) + "\n")
    return plain


def _device_name(device: str) -> str:
    if str(device).startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores"


def notebook_metrics(cfg, *, data_source: str, train_size: int, test_size: int, train_seconds: float, **values) -> dict:
    """The metrics every notebook records (the contract the tests read), plus its own ``values``;
    written to ``cfg.metrics_path`` when the run was given one."""
    common = {
        "notebook": cfg.notebook,
        "profile": cfg.profile,
        "device": cfg.device,
        "device_name": _device_name(cfg.device),
        "precision": getattr(cfg, "precision", "float32"),
        "torch": torch.__version__,
        "run_date": datetime.date.today().isoformat(),
        "seed": cfg.seed,
        "max_steps": cfg.max_steps,  # not None: a dry run, its accuracies mean nothing
        "data_source": data_source,
        "train_size": int(train_size),
        "test_size": int(test_size),
        "train_seconds": round(float(train_seconds), 2),
    }
    return write_metrics(cfg.metrics_path, {**common, **values})


def summary_table(metrics: dict, keys: list[str]) -> None:
    """Print a run's main numbers, one ``key  value`` line each (floats to 4 decimals, the form
    ``tests/test_committed_results.py`` looks for), with the profile, device and seed on top: the
    notebook's closing summary instead of the whole metrics JSON.

    Introduced in notebook 05.
    """
    print(f"{metrics['notebook']}: profile {metrics['profile']}, device {metrics['device']}, seed {metrics['seed']}")
    width = max(map(len, keys))
    for key in keys:
        value = metrics[key]
        print(f"  {key:<{width}}  {value:.4f}" if isinstance(value, float) else f"  {key:<{width}}  {value}")
