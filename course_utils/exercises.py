"""Run a notebook's exercises as a student would, and keep what they measured.

    python -m course_utils.exercises NOTEBOOK [--only 2,3] [--out runs/exercises-<stamp>]

Each exercise of a notebook's catalogue entry (``catalogue.Exercise``) changes one thing: its runs
are whole runs of the notebook, with papermill parameters where the exercise changes a setting, and
where it changes code, the exercise's edits applied to a copy of the notebook (the edit a student
makes by hand). The unchanged notebook runs too, at every seed an exercise uses, as the baseline.

This command alone writes ``docs/verified/exercises/<notebook>.json``: every run's metrics, its
difference from the baseline of the same seed (``vs_baseline``, accuracies as fractions), and the
profile, seeds, threads, torch version, commit and date. ``--only`` re-runs some exercises and keeps
the others' answers. The answers in a notebook's text are read from this record (tests/test_prose.py).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

from .catalogue import Notebook
from .paths import REPO_ROOT

EXERCISES_DIR = REPO_ROOT / "docs" / "verified" / "exercises"


def record_path(stem: str) -> Path:
    return EXERCISES_DIR / f"{stem}.json"


def edited_copy(notebook: Path, edits: tuple[tuple[str, str], ...], folder: Path) -> Path:
    """A copy of ``notebook`` with each (text, replacement) applied; each text must stand in exactly
    one code cell, once, so that an edit cannot silently miss after the notebook changes."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for text, replacement in edits:
        cells = [c for c in nb.cells if c.cell_type == "code" and text in c.source]
        if len(cells) != 1 or cells[0].source.count(text) != 1:
            raise ValueError(
                f"the exercise edit {text!r} must match exactly once in one code cell of {notebook.name}, "
                f"found {sum(c.source.count(text) for c in cells)}: update the entry in course_utils/catalogue.py"
            )
        cells[0].source = cells[0].source.replace(text, replacement)
    target = folder / notebook.name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def scalars(metrics: dict) -> dict:
    """The metrics a record keeps: numbers, the strings that say what produced them, and short
    per-epoch or per-class numbers (not per-batch curves)."""

    def short(v) -> bool:
        values = list(v.values()) if isinstance(v, dict) else v if isinstance(v, list) else None
        return values is not None and len(values) <= 50 and all(isinstance(x, (int, float)) for x in values)

    return {k: v for k, v in metrics.items() if isinstance(v, (int, float, str)) or v is None or short(v)}


def vs_baseline(run: dict, baseline: dict) -> dict:
    """Each accuracy's difference from the baseline run of the same seed (a fraction)."""
    keys = [
        k for k, v in run.items() if k.endswith("_acc") and isinstance(v, float) and isinstance(baseline.get(k), float)
    ]
    return {k: round(run[k] - baseline[k], 6) for k in keys}


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "notebooks", "course_utils"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "")
    except OSError:
        return "unknown"


def run_exercises(nb: Notebook, only: list[int] | None, out: Path, execute=None) -> dict:
    """Run the chosen exercises of ``nb`` (all when ``only`` is None) and their baselines; return the
    record, merged with the kept one for the exercises not run."""
    import torch

    from .course import execute as execute_notebook

    execute = execute or execute_notebook
    chosen = [ex for ex in nb.exercises if only is None or ex.number in only]
    if not chosen:
        raise ValueError(
            f"{nb.stem} has no exercise numbered {only}; its exercises: {[e.number for e in nb.exercises]}"
        )
    path = record_path(nb.stem)
    record = json.loads(path.read_text()) if path.exists() else {"notebook": nb.stem, "exercises": {}, "baselines": {}}
    start = time.perf_counter()
    baselines = {}
    for profile, seed in sorted({(ex.profile, s) for ex in chosen for s in ex.seeds}):
        print(f"baseline {profile} seed {seed}  (elapsed {time.perf_counter() - start:.0f} s)", flush=True)
        baselines[(profile, seed)] = scalars(
            execute(nb.path, out / f"baseline-{profile}-seed{seed}", profile, seed=seed)
        )
        record["baselines"][f"{profile} seed {seed}"] = baselines[(profile, seed)]
    for ex in chosen:
        answers, began = {}, time.perf_counter()
        for label, parameters in ex.runs.items():
            for seed in ex.seeds:
                print(
                    f"exercise {ex.number} {label} seed {seed}  (elapsed {time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
                folder = out / f"exercise{ex.number}-{_slug(label)}-seed{seed}"
                edits = ex.edits.get(label, ())
                source = edited_copy(nb.path, edits, folder / "source") if edits else nb.path
                metrics = scalars(execute(source, folder, ex.profile, seed=seed, **parameters))
                metrics["vs_baseline"] = vs_baseline(metrics, baselines[(ex.profile, seed)])
                answers.setdefault(label, {})[str(seed)] = metrics
        record["exercises"][str(ex.number)] = {
            "profile": ex.profile,
            "seeds": list(ex.seeds),
            "parameters": {label: parameters for label, parameters in ex.runs.items()},
            "edits": {label: [list(edit) for edit in edits] for label, edits in ex.edits.items()},
            "runs": answers,
            "seconds": round(time.perf_counter() - began),
        }
    record.update(
        command=f"python -m course_utils.exercises {nb.number}",
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        commit=commit(),
        date=datetime.date.today().isoformat(),
        seconds=round(time.perf_counter() - start),
    )
    record["exercises"] = dict(sorted(record["exercises"].items(), key=lambda kv: int(kv[0])))
    return record


def _slug(label: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in label).strip("-")


def number_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"exercise numbers are comma-separated integers like 2,3, not {text!r}"
        ) from None


def main(argv=None) -> int:
    from .course import resolve

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", help="a name, number (01) or path")
    parser.add_argument("--only", type=number_list, default=None, help="exercise numbers, e.g. 2,3; default: all")
    parser.add_argument("--out", default=None, help="where the executed copies go; default: runs/exercises-<stamp>")
    args = parser.parse_args(argv)
    from .catalogue import entry

    try:
        (path,) = resolve([args.notebook])
        nb = entry(path.stem)
    except (ValueError, KeyError) as error:
        parser.error(str(error))
    if not nb.exercises:
        parser.error(f"{nb.stem} lists no exercises in course_utils/catalogue.py")
    out = Path(args.out) if args.out else REPO_ROOT / "runs" / time.strftime("exercises-%Y%m%d-%H%M%S")
    record = run_exercises(nb, args.only, out)
    EXERCISES_DIR.mkdir(parents=True, exist_ok=True)
    record_path(nb.stem).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {record_path(nb.stem).relative_to(REPO_ROOT)} in {record['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
