"""The package installed the way Colab installs it, and one notebook run from an empty folder.

Colab brings its own torch and torchvision (and its kernel, matplotlib and tqdm); installing the
course must keep them. So the fresh virtual environment starts with those already there, with
everything they require: a folder of links to this environment's files of those distributions
(named in a ``.pth`` file, as a system's packages would be), which also spares copying torch's 5 GB
CUDA build once more. Then
``pip install`` of the package, not editable, so that pip resolves the lower bounds of pyproject.toml
itself, with papermill and ipykernel at their pins (they run the notebook, as Colab's kernel would).
pip must leave the torch it found in place. The first notebook that reads MNIST alone is copied into
an empty folder and run there at smoke, every pass over a loader capped at one batch (what is tested
is the install, not the training), with the data mirror set: its data must land in ./data of that
folder, and no file of site-packages may be added, removed or changed by the run. (Checkpoints
follow the same rule through the same function, paths.work_root; tests/test_runtime.py checks both.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.catalogue import CATALOGUE

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = next(nb.stem for nb in CATALOGUE if nb.datasets == ("mnist",))
HARNESS = ("torch", "torchvision", "papermill", "ipykernel")  # pinned; everything else is pip's choice
# What Colab brings: its torch and torchvision, the kernel it runs notebooks in, and the libraries of
# pyproject.toml that every Colab runtime has; pip must find their versions within its bounds.
PREINSTALLED = (*HARNESS[:2], "ipykernel", "matplotlib", "tqdm")


def pins(names) -> list[str]:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    found = [line.strip() for line in lines if line.split("==")[0].strip() in names]
    assert len(found) == len(names), f"requirements.txt lacks a pin of one of {names}"
    return found


def link_distributions(names, folder: Path) -> list[str]:
    """Links in ``folder`` to this environment's files of the distributions ``names`` and of all they
    require (dist-info included, so pip sees them installed); returns their names."""
    from importlib.metadata import distribution

    from packaging.requirements import Requirement

    folder.mkdir()
    done, todo = set(), list(names)
    while todo:
        dist = distribution(todo.pop())
        name = dist.metadata["Name"].lower()
        if name in done:
            continue
        done.add(name)
        required = (Requirement(r) for r in dist.requires or [])
        todo += [r.name for r in required if r.marker is None or r.marker.evaluate({"extra": ""})]
        for top in {f.parts[0] for f in dist.files or [] if f.parts[0] != ".."}:  # ".." = scripts in bin/
            if not (folder / top).exists():
                (folder / top).symlink_to(dist.locate_file(top))
    return sorted(done)


def files_under(folder: Path) -> dict[str, tuple[int, int]]:
    files = (p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in files}


@pytest.fixture
def installed(tmp_path):
    """(python, site-packages) of a fresh venv with torch present (as in Colab) and the package
    installed, not editable; the venv is removed afterwards."""
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
        # No pip of its own (ensurepip's copy takes seconds): this environment's pip installs into it.
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
        python = env_dir / "bin" / "python"
        where = [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        site = Path(subprocess.run(where, check=True, capture_output=True, text=True).stdout.strip())
        colab = tmp_path / "colab-packages"
        assert "torch" in link_distributions(PREINSTALLED, colab)
        (site / "colab-packages.pth").write_text(f"{colab}\n")
        pip = [sys.executable, "-m", "pip", "--python", str(python)]
        install = [*pip, "install", "-q", str(source), *pins(HARNESS[2:]), "-c", str(constraints)]
        subprocess.run(install, check=True)
        torch_file = [str(python), "-c", "import torch; print(torch.__file__)"]
        found = subprocess.run(torch_file, check=True, capture_output=True, text=True).stdout.strip()
        assert found.startswith(str(colab)), f"pip replaced the torch that was there: {found}"
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
        "parameters=dict(profile='smoke', max_steps=1, metrics_path='metrics.json'))"
    )
    result = subprocess.run([str(python), "-c", run], cwd=work, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]

    assert (work / "metrics.json").is_file()
    assert sorted(p.name for p in (work / "data" / "MNIST" / "raw").iterdir())  # under the working directory
    after = files_under(site)
    changed = sorted(set(before) ^ set(after) | {k for k in before.keys() & after.keys() if before[k] != after[k]})
    assert not changed, f"the run wrote into site-packages: {changed[:10]}"
