"""Make every dataset ready before parallel work starts (``make data``, and ``make test`` first):
copy and verify from the mirror or download, extract MNIST, decode the CIFAR-10 JPEG copy once.

    python -m course_utils.prepare

Afterwards the notebooks and tests only read, so several can run at once without racing to write
the same files.
"""

from __future__ import annotations

import time

from . import data, loaders


def main() -> int:
    start = time.perf_counter()
    for name in ("mnist", "cifar10"):
        for train in (True, False):
            split = loaders.load_split(name, train)
            print(f"{name} {'train' if train else 'test'}: {len(split):,} images ({split.source})", flush=True)
    root = data.ensure_coffee()
    print(f"coffee beans: verified in {root.name}/", flush=True)
    print(f"datasets ready in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
