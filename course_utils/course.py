"""Execute the course's notebooks with papermill and tabulate their metrics.

    python -m course_utils.course [--profile smoke|cpu|full] [--out runs/<stamp>] [--publish]
                                  [--seeds 0,1,2] [NOTEBOOK ...]

The notebooks and their main metrics come from ``catalogue.py``. ``--publish --seeds 0,1,2``
publishes seed 0's run (outputs and ``docs/verified/<notebook>.json``) and keeps every seed's
metrics in ``docs/verified/seeds/``.

Used by ``make course`` and by the notebook tests, so both run the notebooks the same way. While a
notebook runs, its epoch lines appear with the elapsed time; a notebook that fails is reported in
the table with the path of its executed copy (which holds the traceback), the others still run,
and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from .catalogue import BY_STEM, CATALOGUE
from .paths import REPO_ROOT
from .profiles import PROFILES

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"


def notebooks() -> list[Path]:
    """The course's notebooks in order, from the catalogue; a clear error outside a checkout."""
    paths = [nb.path for nb in CATALOGUE]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{NOTEBOOKS_DIR} lacks {', '.join(missing)}: the runner needs a checkout of the course "
            "(git clone, then `make course`), not only the installed package."
        )
    return paths


def resolve(names: list[str]) -> list[Path]:
    """The notebooks ``names`` mean: a path to a notebook, or a course notebook's name with or
    without ``.ipynb``, or the start of one name (``04``). Raises ValueError, naming the course's
    notebooks, for a name that matches none or several."""
    chosen = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.is_file():
            chosen.append(path)
            continue
        matches = [nb for nb in notebooks() if nb.name == path.name or nb.stem.startswith(path.name)]
        if len(matches) != 1:
            found = "matches " + ", ".join(nb.stem for nb in matches) if matches else "is no notebook"
            listed = ", ".join(nb.stem for nb in notebooks())
            raise ValueError(f"{name!r} {found}; give a path or one of: {listed} (or its number)")
        chosen.append(matches[0])
    return chosen


# The kernel's own log (for example the warning that it runs over TCP on localhost) is noise here.
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]
PROGRESS_LINE = re.compile(r"^(epoch \d+/\d+|kept the weights|stopped early)")


class EpochLines:
    """A file-like sink for a notebook's printed output that shows only its progress lines
    (``fit``'s epoch lines), each prefixed with the seconds since the notebook started."""

    def __init__(self, start: float, stream=sys.stdout):
        self.start, self.stream, self.pending = start, stream, ""

    def write(self, text: str) -> None:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if PROGRESS_LINE.match(line):
                self.stream.write(f"    [{time.perf_counter() - self.start:6.0f} s] {line}\n")
                self.stream.flush()

    def flush(self) -> None:
        self.stream.flush()


def execute(
    notebook: str | Path, out_dir: str | Path, profile: str | None = None, show_progress: bool = False, **parameters
) -> dict:
    """Run one notebook with papermill into ``out_dir``; return its metrics (plus wall seconds).

    ``show_progress`` prints the notebook's epoch lines as they come (``make course``)."""
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
    # The kernel must draw inline: with MPLBACKEND=Agg (set for headless test runs) it keeps no figures.
    saved_backend = os.environ.pop("MPLBACKEND", None)
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(
            str(src),
            str(out_dir / src.name),
            parameters=params,
            cwd=str(src.parent),
            kernel_name="python3",
            progress_bar=False,
            extra_arguments=KERNEL_ARGS,
            stdout_file=EpochLines(t0) if show_progress else None,
        )
    finally:
        if saved_backend is not None:
            os.environ["MPLBACKEND"] = saved_backend
    seconds = time.perf_counter() - t0
    metrics = json.loads(metrics_path.read_text())
    metrics["wall_seconds"] = round(seconds, 1)
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return metrics


VERIFIED_DIR = REPO_ROOT / "docs" / "verified"


def publish(executed: Path, target: Path) -> None:
    """Copy an executed notebook over the committed one, minus papermill's injected cell, so the
    committed notebook keeps its own ``None`` defaults while showing the outputs of a real run.

    The run's metrics go to ``docs/verified/<notebook>.json``: what the committed outputs were
    produced with (profile, device, torch, date), for the README and the course site.
    """
    import nbformat

    metrics = json.loads(executed.with_name(f"{executed.stem}.metrics.json").read_text())
    VERIFIED_DIR.mkdir(parents=True, exist_ok=True)
    (VERIFIED_DIR / f"{executed.stem}.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")

    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, target)


SEEDS_DIR = VERIFIED_DIR / "seeds"


def keep_seed(metrics_path: Path) -> Path:
    """Keep one seed's metrics as ``docs/verified/seeds/<notebook>.seed<N>.json``, so that tests can
    assert a notebook's effects at every seed of its published profile."""
    metrics = json.loads(metrics_path.read_text())
    SEEDS_DIR.mkdir(parents=True, exist_ok=True)
    target = SEEDS_DIR / f"{metrics['notebook']}.seed{metrics['seed']}.json"
    target.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return target


def kept_seed_metrics(notebook: str, seed: int) -> dict:
    """The metrics ``keep_seed`` kept for ``notebook`` at ``seed`` (what the tests of its effects read);
    a missing file says how to make it."""
    path = SEEDS_DIR / f"{notebook}.seed{seed}.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: python -m course_utils.course --profile cpu --publish --seeds 0,1,2 {notebook}"
        )
    return json.loads(path.read_text())


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def results_table(rows: list[dict], total_seconds: float | None = None) -> str:
    """One line per notebook (a failed one names its executed copy), then the whole wall time."""
    header = f"{'notebook':<28} {'profile':<7} {'device':<7} {'test accuracy':<34} {'train s':>8} {'wall s':>7}"
    lines = [header, "-" * len(header)]
    for m in rows:
        if "failed" in m:
            lines.append(f"{m['notebook']:<28} FAILED after {m['wall_seconds']:.0f} s: traceback in {m['failed']}")
            continue
        key = BY_STEM[m["notebook"]].main_metric if m["notebook"] in BY_STEM else ""
        acc = f"{key} {m[key]:.4f}" if key in m else "-"
        lines.append(
            f"{m['notebook']:<28} {m['profile']:<7} {m['device']:<7} {acc:<34} "
            f"{m.get('train_seconds', 0):>8.1f} {m.get('wall_seconds', 0):>7.1f}"
        )
    if total_seconds is not None:
        lines += ["-" * len(header), f"{'all notebooks, wall time':<80} {total_seconds:>7.1f}"]
    return "\n".join(lines)


def seed_list(text: str) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]``: the seeds of ``--seeds``."""
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds are comma-separated integers like 0,1,2, not {text!r}") from None
    if any(seed < 0 for seed in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds must be distinct and non-negative, got {text!r}")
    return seeds


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
    parser.add_argument(
        "--seeds",
        type=seed_list,
        default=None,
        help="run each notebook once per seed, e.g. --seeds 0,1,2 (one word, so that it cannot swallow a "
        "notebook's number); with --publish the first seed's run is published and every seed's metrics are "
        "kept in docs/verified/seeds/<notebook>.seed<N>.json",
    )
    parser.add_argument("notebooks", nargs="*", help="names, numbers (04) or paths; default: all")
    args = parser.parse_args(argv)
    out = Path(args.out or REPO_ROOT / "runs" / time.strftime("%Y%m%d-%H%M%S"))
    try:
        chosen = resolve(args.notebooks) or notebooks()
    except ValueError as error:
        parser.error(str(error))
    from papermill.exceptions import PapermillExecutionError

    seeds = args.seeds or [None]  # None: the notebook's own seed (0)
    runs = [(nb, seed) for nb in chosen for seed in seeds]
    rows, start = [], time.perf_counter()
    for i, (nb, seed) in enumerate(runs, 1):
        label = nb.stem if seed is None else f"{nb.stem} seed {seed}"
        print(f"[{i}/{len(runs)}] {label}  (elapsed {time.perf_counter() - start:.0f} s)", flush=True)
        run_dir = out if seed is None else out / f"seed{seed}"
        t0 = time.perf_counter()
        try:
            extra = {} if seed is None else {"seed": seed}
            rows.append(execute(nb, run_dir, args.profile, show_progress=True, **extra))
        except PapermillExecutionError as error:
            failed = _shown(run_dir / nb.name)
            print(f"    FAILED in cell {error.exec_count}: {error.ename}: {error.evalue}", flush=True)
            rows.append({"notebook": nb.stem, "failed": failed, "wall_seconds": time.perf_counter() - t0})
            continue
        if args.publish and seed is not None:
            keep_seed(run_dir / f"{nb.stem}.metrics.json")
        if args.publish and seed == seeds[0]:
            publish(run_dir / f"{nb.stem}.ipynb", NOTEBOOKS_DIR / f"{nb.stem}.ipynb")
    print()
    print(results_table(rows, time.perf_counter() - start))
    print(f"\nexecuted notebooks and metrics in {_shown(out)}{os.sep}")
    return 1 if any("failed" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
