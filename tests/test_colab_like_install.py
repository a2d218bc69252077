"""The package installed the way Colab installs it, and one notebook run from an empty folder.

Into a fresh virtual environment: ``pip install`` of the package, not editable, so that pip resolves
the lower bounds of pyproject.toml itself, with torch and torchvision held at the pins of
requirements.txt (Colab keeps its own torch; a newer one would be a multi-GB download here).
papermill and ipykernel come too, at their pins: they run the notebook, as Colab's kernel would.
Notebook 02, the quickest, is copied alone into an empty folder and run there at smoke with the data
mirror set: its data must land in ./data of that folder, and no file of site-packages may be added,
removed or changed by the run. (Checkpoints follow the same rule through the same function,
paths.work_root; tests/test_runtime.py checks both.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "02_mnist_pixel_permutation"
HARNESS = ("torch", "torchvision", "papermill", "ipykernel")  # pinned; everything else is pip's choice


def pins(names) -> list[str]:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    found = [line.strip() for line in lines if line.split("==")[0].strip() in names]
    assert len(found) == len(names), f"requirements.txt lacks a pin of one of {names}"
    return found


def files_under(folder: Path) -> dict[str, tuple[int, int]]:
    files = (p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in files}


@pytest.fixture
def installed(tmp_path):
    """(python, site-packages) of a fresh venv with the package installed, not editable; the venv
    (about 6 GB with torch's CUDA libraries) is removed afterwards."""
    # What an sdist holds, copied, so that pip's build leaves nothing in the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "course_utils", source / "course_utils", ignore=shutil.ignore_patterns("__pycache__"))
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("\n".join(pins(HARNESS[:2])) + "\n")

    env_dir = tmp_path / "venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
        python = env_dir / "bin" / "python"
        install = [str(python), "-m", "pip", "install", "-q", str(source), *pins(HARNESS[2:]), "-c", str(constraints)]
        subprocess.run(install, check=True)
        where = [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        site = Path(subprocess.run(where, check=True, capture_output=True, text=True).stdout.strip())
        yield python, site
    finally:
        shutil.rmtree(env_dir, ignore_errors=True)


def test_a_notebook_runs_from_a_non_editable_install(installed, tmp_path, mirror):
    python, site = installed
    assert (site / "course_utils" / "__init__.py").is_file()  # a copy, not a link to the checkout
    assert not list(site.glob("__editable__*")) and not list(site.glob("*.egg-link"))

    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REPO / "notebooks" / f"{NOTEBOOK}.ipynb", work)
    before = files_under(site)
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_DATA", "COURSE_PROFILE", "PYTHONPATH")}
    env["COURSE_PROGRESS"] = "0"
    run = (
        "import papermill as pm; "
        f"pm.execute_notebook('{NOTEBOOK}.ipynb', 'executed.ipynb', kernel_name='python3', progress_bar=False, "
        "parameters=dict(profile='smoke', metrics_path='metrics.json'))"
    )
    result = subprocess.run([str(python), "-c", run], cwd=work, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]

    assert (work / "metrics.json").is_file()
    assert sorted(p.name for p in (work / "data" / "MNIST" / "raw").iterdir())  # under the working directory
    after = files_under(site)
    changed = sorted(set(before) ^ set(after) | {k for k in before.keys() & after.keys() if before[k] != after[k]})
    assert not changed, f"the run wrote into site-packages: {changed[:10]}"
