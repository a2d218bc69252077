"""Device choice, seeding, run profiles and the settings every notebook prints first."""

from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch

from .catalogue import BY_STEM
from .paths import display_path
from .profiles import PROFILES
from .speed import precision_for

DEVICE_CHOICES = ("cpu", "cuda", "mps")


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """Return the device to run on.

    ``None`` (or ``"auto"``) takes ``COURSE_DEVICE`` from the environment when it is set (``make
    test`` runs the notebooks on the CPU that way), else picks CUDA when a GPU is present, else the
    CPU. Asking for ``"cuda"`` on a machine without one falls back to the CPU with a single warning,
    so a notebook written on Colab still runs on a laptop.
    """
    if (device is None or device == "auto") and os.environ.get("COURSE_DEVICE", "auto") != "auto":
        device = os.environ["COURSE_DEVICE"]
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"Unknown device {device!r}: use one of {', '.join(DEVICE_CHOICES)}, "
            "'cuda:N', or None to pick automatically."
        ) from exc
    if dev.type not in DEVICE_CHOICES:
        raise ValueError(f"Unsupported device {device!r}: use one of {', '.join(DEVICE_CHOICES)} or None.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(f"device={device!r} was asked for but no CUDA GPU is available; using the CPU.", stacklevel=2)
        return torch.device("cpu")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        warnings.warn(f"device={device!r} was asked for but MPS is not available; using the CPU.", stacklevel=2)
        return torch.device("cpu")
    return dev


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (CPU and CUDA); return a torch generator with the same seed.

    Introduced in notebook 01.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)


def resolve_profile(profile: str | None, device: torch.device) -> str:
    """``profile`` if given, else ``COURSE_PROFILE``, else ``full`` on CUDA and ``cpu`` otherwise.

    Used by every notebook through `runtime.setup`.
    """
    name = profile or os.environ.get("COURSE_PROFILE") or ("full" if device.type == "cuda" else "cpu")
    if name not in PROFILES:
        raise ValueError(
            f"Unknown profile {name!r}: choose one of {', '.join(PROFILES)} "
            "(or None to pick by device / COURSE_PROFILE)."
        )
    return name


class Settings(dict):
    """The resolved settings of one run; keys are readable as attributes (``cfg.epochs``).

    Used by every notebook through `runtime.setup`, which returns them.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def show(self) -> None:
        width = max(len(k) for k in self)
        for key, value in self.items():
            print(f"{key:<{width}}  {_shown(value)}")


def _shown(value):
    if isinstance(value, (str, os.PathLike)) and os.path.isabs(value):
        return display_path(value)
    return value


def _check_count(name: str, value, none_means: str | None = "take it from the profile") -> None:
    if value is None and none_means is not None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{name} must be a positive integer{f' or None ({none_means})' if none_means else ''}, got {value!r}."
        )


def _check_not_text(name: str, value, like) -> None:
    """Text where the profile has a number, a true/false or a list is refused: papermill turns a
    tuple into its text, and ``-p`` a list, and ``"False"`` would count as true."""
    if isinstance(value, str) and like is not None and not isinstance(like, str):
        kind = "list" if isinstance(like, (tuple, list)) else "True or False" if isinstance(like, bool) else "number"
        example = repr(list(like)) if isinstance(like, (tuple, list)) else repr(like)
        raise ValueError(
            f"{name} must be a {kind} like the profile's {like!r}, not the text {value!r}. papermill turns a "
            f"tuple into text, and -p a list: pass parameters={{'{name}': {example}}} from Python, or "
            f"-y '{name}: {example}' on the command line."
        )


def setup(
    notebook: str,
    *,
    profile: str | None = None,
    device: str | None = None,
    seed: int = 0,
    data_root: str | None = None,
    metrics_path: str | None = None,
    max_steps: int | None = None,
    verbose: bool = True,
    **overrides,
) -> Settings:
    """Resolve a notebook's parameters against its profile, seed everything, print the result.

    Every override that is ``None`` is taken from the notebook's profile table (its catalogue entry's ``profiles``).
    ``metrics_path=None`` writes no metrics file, unless ``COURSE_METRICS_DIR`` is set: then the
    metrics go to ``<COURSE_METRICS_DIR>/<notebook>.metrics.json`` (``make test`` sets it, so the
    notebook tests read what nbval's execution of the notebook measured).
    ``max_steps`` (None: no cap) is for dry runs of a profile: the notebook caps every pass over a
    loader at that many batches (optimizer steps per epoch and evaluation batches alike), and it
    caps ``timing_steps`` here, so that a CPU can execute the ``full`` path at full size.
    """
    if notebook not in BY_STEM:
        raise ValueError(f"Unknown notebook {notebook!r}: one of {', '.join(BY_STEM)}.")
    dev = pick_device(device)
    name = resolve_profile(profile, dev)
    table = BY_STEM[notebook].profiles[name]
    unknown = set(overrides) - set(table)
    if unknown:
        raise ValueError(f"Unknown setting(s) {sorted(unknown)} for {notebook}; known: {sorted(table)}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    for key, value in overrides.items():
        _check_not_text(key, value, table[key])
    resolved = {key: (overrides.get(key) if overrides.get(key) is not None else value) for key, value in table.items()}
    for key in ("epochs", "batch_size", "train_limit", "test_limit"):
        if key in resolved:
            _check_count(key, resolved[key])
    _check_count("max_steps", max_steps, none_means="no cap")
    if metrics_path is None and os.environ.get("COURSE_METRICS_DIR"):
        metrics_path = os.path.join(os.environ["COURSE_METRICS_DIR"], f"{notebook}.metrics.json")
    if max_steps is not None and "timing_steps" in resolved:
        resolved["timing_steps"] = min(resolved["timing_steps"], max_steps)
    cfg = Settings(
        notebook=notebook,
        profile=name,
        device=str(dev),
        precision=precision_for(dev),  # what fit's autocast uses there: float32 on CPU and MPS
        seed=seed,
        torch=torch.__version__,
        data_root=data_root,
        metrics_path=metrics_path,
        max_steps=max_steps,
        **resolved,
    )
    seed_everything(seed)
    if verbose:
        cfg.show()
    return cfg
