"""Make every dataset the catalogue's notebooks read ready before parallel work starts (``make
data``, and ``make test`` first): copy and verify from the mirror or download, extract MNIST, decode
the CIFAR-10 JPEG copy once.

    python -m course_utils.prepare

Afterwards the notebooks and tests only read, so several can run at once without racing to write
the same files.
"""

from __future__ import annotations

import time

from . import data, splits
from .catalogue import CATALOGUE


def _decoded(name: str) -> str:
    sizes = []
    for train in (True, False):
        split = splits.load_split(name, train)
        sizes.append(f"{'train' if train else 'test'} {len(split):,}")
    return f"{', '.join(sizes)} images ({split.source})"


# Every dataset name a catalogue entry may list, and what makes it ready.
PREPARE = {
    "mnist": lambda: _decoded("mnist"),
    "cifar10": lambda: _decoded("cifar10"),
    "coffee_beans": lambda: f"verified in {data.ensure_coffee().name}/",
}


def needed() -> list[str]:
    """The datasets the catalogue's notebooks read, in course order, each once."""
    return list(dict.fromkeys(name for nb in CATALOGUE for name in nb.datasets))


def main() -> int:
    start = time.perf_counter()
    for name in needed():
        print(f"{name}: {PREPARE[name]()}", flush=True)
    print(f"datasets ready in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
