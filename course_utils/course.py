"""Execute the course's notebooks with papermill and tabulate their metrics.

    python -m course_utils.course [--profile smoke|cpu|full] [--out runs/<stamp>] [NOTEBOOK ...]

Used by ``make course`` and by the notebook tests, so both run the notebooks the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .data import REPO_ROOT
from .profiles import PROFILES

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
MAIN_METRIC = {  # the test accuracy the results table shows for each notebook
    "01_mnist_fc_vs_cnn": "cnn_test_acc",
    "02_mnist_pixel_permutation": "cnn_perm_test_acc",
    "03_cifar10_cnn": "improved_test_acc",
    "04_cifar10_vgg": "vgg_test_acc",
    "05_coffee_beans_vgg16": "test_acc",
}


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def execute(notebook: str | Path, out_dir: str | Path, profile: str | None = None, **parameters) -> dict:
    """Run one notebook with papermill into ``out_dir``; return its metrics (plus wall seconds)."""
    import papermill as pm

    src = Path(notebook)
    if not src.is_absolute() and not src.exists():
        src = NOTEBOOKS_DIR / (src.name if src.suffix else src.name + ".ipynb")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / f"{src.stem}.metrics.json"
    params = {"metrics_path": str(metrics_path), **parameters}
    if profile is not None:
        params["profile"] = profile
    os.environ.setdefault("COURSE_PROGRESS", "0")  # the kernel inherits it: no frozen bars in saved copies
    t0 = time.perf_counter()
    pm.execute_notebook(
        str(src),
        str(out_dir / src.name),
        parameters=params,
        cwd=str(src.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    seconds = time.perf_counter() - t0
    metrics = json.loads(metrics_path.read_text())
    metrics["wall_seconds"] = round(seconds, 1)
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return metrics


def publish(executed: Path, target: Path) -> None:
    """Copy an executed notebook over the committed one, minus papermill's injected cell, so the
    committed notebook keeps its own ``None`` defaults while showing the outputs of a real run."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, target)


def results_table(rows: list[dict]) -> str:
    header = f"{'notebook':<28} {'profile':<7} {'device':<7} {'main accuracy':<34} {'train s':>8} {'wall s':>7}"
    lines = [header, "-" * len(header)]
    for m in rows:
        key = MAIN_METRIC.get(m["notebook"], "")
        acc = f"{key} {m[key]:.4f}" if key in m else "-"
        lines.append(
            f"{m['notebook']:<28} {m['profile']:<7} {m['device']:<7} {acc:<34} "
            f"{m.get('train_seconds', 0):>8.1f} {m.get('wall_seconds', 0):>7.1f}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="default: COURSE_PROFILE, else full on a GPU and cpu otherwise",
    )
    parser.add_argument("--out", default=None, help="default: runs/<timestamp>")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="copy the executed notebooks over notebooks/ (refreshes the committed outputs)",
    )
    parser.add_argument("notebooks", nargs="*", help="names or paths; default: all")
    args = parser.parse_args(argv)
    out = Path(args.out or REPO_ROOT / "runs" / time.strftime("%Y%m%d-%H%M%S"))
    chosen = [Path(n).with_suffix(".ipynb") if not n.endswith(".ipynb") else Path(n) for n in args.notebooks]
    chosen = [n if n.exists() else NOTEBOOKS_DIR / n.name for n in chosen] or notebooks()
    rows = []
    for nb in chosen:
        print(f"running {nb.stem} ...", flush=True)
        rows.append(execute(nb, out, args.profile))
        if args.publish:
            publish(out / f"{nb.stem}.ipynb", NOTEBOOKS_DIR / f"{nb.stem}.ipynb")
    print()
    print(results_table(rows))
    try:
        shown = out.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = out
    print(f"\nexecuted notebooks and metrics in {shown}{os.sep}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
