"""Helpers for notebook cells: show a helper's source, and the note that opens each notebook's
outputs (which profile, device, data and sizes produced them)."""

from __future__ import annotations

import inspect


def show_source(*objects) -> None:
    """Render the source of course_utils objects as highlighted code in a notebook."""
    from IPython.display import Code, display

    for obj in objects:
        display(Code(inspect.getsource(obj), language="python"))


def about_outputs(cfg, data_source: str, sizes: dict[str, int], full_numbers: str | None = None) -> None:
    """Show the "About these outputs" note, written by the run itself: profile, device, torch,
    seed, data source, subset sizes, and where the ``full``-profile numbers are. It returns
    nothing, so a cell that ends with this call shows the note once.

    Introduced in every notebook, first in 01.
    """
    from IPython.display import Markdown, display

    shown = ", ".join(f"{name} {n:,}" for name, n in sizes.items())
    full = full_numbers or (
        "The `full` profile (a GPU) has not been measured for this notebook yet: "
        "docs/reference-results.md lists what has."
    )
    text = (
        f"**About these outputs.** Profile `{cfg.profile}` on `{cfg.device}` (torch {cfg.torch}), "
        f"seed {cfg.seed}. Data: {data_source}; images: {shown}. {full}"
    )
    display(Markdown(text))
