"""Reading single images safely: any mode, any size, a clear error for a bad file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError


class BadImageError(ValueError):
    """An image file that cannot be decoded.

    Used by notebook 05 through `coffee_data.find_duplicates` and `inference.predict_image`.
    """


def load_rgb(path: str | os.PathLike) -> Image.Image:
    """Open an image file as RGB (grayscale, palette and RGBA are converted).

    A missing path or an undecodable file raises an error that names the file.

    Used by notebook 05 through `coffee_data.find_duplicates` and `inference.predict_image`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No image at {path}: check the path (it is relative to {Path.cwd()}).")
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "P"):
                # Composite transparent pixels on white rather than keeping arbitrary hidden colours.
                rgba = img.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                return Image.alpha_composite(background, rgba).convert("RGB")
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise BadImageError(f"{path} is not a readable image ({exc}); delete or replace it.") from exc


def pixel_hash(path: str | os.PathLike) -> str:
    """sha256 of the decoded RGB pixels and their shape: equal for pixel-identical images,
    whatever the file format or compression.

    Used by notebook 05 through `coffee_data.find_duplicates`.
    """
    pixels = np.asarray(load_rgb(path))
    return hashlib.sha256(str(pixels.shape).encode() + pixels.tobytes()).hexdigest()
