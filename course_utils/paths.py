"""Where the checkout is, and paths shown relative to it (printed settings, checkpoints)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def work_root() -> Path:
    """Where ``data/`` and ``checkpoints/`` go by default: the checkout, or, when the package is
    installed without one (``pip install`` in Colab), the working directory, never site-packages.

    Used by notebook 01 through `files.data_root`.
    """
    return REPO_ROOT if (REPO_ROOT / "pyproject.toml").exists() else Path.cwd()


def display_path(path) -> str:
    """``path`` relative to the checkout when it lies inside it, else ``.../<name>``, so printed
    outputs do not expose a machine's folders.

    Introduced in notebook 05 (and every printed setting).
    """
    path = Path(os.fspath(path)).resolve()
    return path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else f".../{path.name}"
