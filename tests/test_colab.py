"""Colab from one setting: ``[project.urls] Repository`` in pyproject.toml (tools/colab.py).

On a copy of the repository, the sample URL is set and unset the way a maintainer would, and
tools/set_bootstrap.py and the site's page generation (tools/build_site.py's ``generate``, no
browser) run as they would: the first code cell gains a Colab-only install from that URL with the
``kaggle`` extra, every title cell and the landing page get one "Open in Colab" link to that
notebook on ``main``, and nothing else in any notebook changes. The rendered cell then runs in an
IPython shell in the situations it must tell apart (Colab or not, ``COURSE_PACKAGE`` or not).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

from course_utils.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = "https://github.com/example-org/pytorch-course"
# The two states of the setting in pyproject.toml: commented out (as committed while no public
# repository exists) or set; the pattern finds either.
URLS = re.compile(r'^(?:# )?\[project\.urls\]\n(?:# )?Repository = "[^"]*"$', re.M)
UNSET = '# [project.urls]\n# Repository = "https://github.com/<owner>/<repo>"'
COLAB_LINK = re.compile(r"\[Open in Colab\]\((https://colab\.research\.google\.com/[^)\s]*)\)")


def _colab():
    spec = importlib.util.spec_from_file_location("colab", ROOT / "tools" / "colab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab = _colab()


def _copy_repository(dst: Path) -> Path:
    for name in ("notebooks", "tools", "docs", "course_utils"):  # the site reads the catalogue
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dst / name)
    return dst


def _set_repository(root: Path, url: str | None) -> None:
    text = (root / "pyproject.toml").read_text()
    new, n = URLS.subn(f'[project.urls]\nRepository = "{url}"' if url else UNSET, text)
    assert n == 1, "pyproject.toml has no [project.urls] Repository line (commented or not) to set"
    (root / "pyproject.toml").write_text(new)


def _set_bootstrap(root: Path) -> None:
    subprocess.run([sys.executable, str(root / "tools" / "set_bootstrap.py")], cwd=root, check=True)


def _generate_site(root: Path, out: Path) -> None:
    code = "import sys; from pathlib import Path; import build_site; build_site.generate(Path(sys.argv[1]))"
    env = {**os.environ, "PYTHONPATH": str(root / "tools")}
    subprocess.run([sys.executable, "-c", code, str(out)], cwd=root, env=env, check=True)


def _cells(root: Path) -> dict[str, list[dict]]:
    return {p.name: json.loads(p.read_text())["cells"] for p in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def _first(cells: list[dict], kind: str) -> int:
    return next(i for i, c in enumerate(cells) if c["cell_type"] == kind)


def _text(cell: dict) -> str:
    return "".join(cell["source"])


def test_setting_the_repository_changes_only_the_bootstrap_and_title_cells(tmp_path):
    root = _copy_repository(tmp_path / "repo")
    _set_repository(root, None)
    _set_bootstrap(root)
    before = _cells(root)
    unset_bytes = {p.name: p.read_bytes() for p in (root / "notebooks").glob("*.ipynb")}
    assert len(before) == len(CATALOGUE)

    _set_repository(root, SAMPLE)
    _set_bootstrap(root)
    after = _cells(root)
    meta = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert any(dep.startswith("kagglehub") for dep in meta["optional-dependencies"]["kaggle"])

    for name, cells in after.items():
        code, title = _first(cells, "code"), _first(cells, "markdown")
        for i, (old, new) in enumerate(zip(before[name], cells)):
            if i in (code, title):
                assert {**old, "source": None} == {**new, "source": None}, f"{name} cell {i}: only the source"
            else:
                assert old == new, f"{name} cell {i} changed (source, outputs or metadata)"
        assert len(cells) == len(before[name])

        # The first code cell: today's cell plus exactly the Colab branch, just before the final else.
        old_lines, new_lines = _text(before[name][code]).splitlines(), _text(cells[code]).splitlines()
        added = [line for line in new_lines if line not in old_lines]
        assert len(added) == 2 and [line for line in old_lines if line not in new_lines] == []
        guard, install = added
        assert guard.strip().startswith('elif "google.colab" in sys.modules:')
        assert new_lines.index(install) == new_lines.index(guard) + 1
        assert new_lines[new_lines.index(install) + 1].strip() == "else:"
        command = shlex.split(install.strip())
        assert command[:3] == ["%pip", "install", "-q"] and len(command) == 4
        requirement = Requirement(command[3])
        assert requirement.name == meta["name"] and requirement.extras == {"kaggle"}
        assert requirement.url == f"git+{SAMPLE}@main"

        # The title cell: its heading, then one link to this notebook on main, then the old text.
        old_title, new_title = _text(before[name][title]), _text(cells[title])
        links = COLAB_LINK.findall(new_title)
        target = f"https://colab.research.google.com/github/example-org/pytorch-course/blob/main/notebooks/{name}"
        assert links == [target], f"{name}: {links}"
        assert (root / links[0].split("/blob/main/", 1)[1]).is_file()
        heading, rest = old_title.split("\n", 1)
        assert new_title == f"{heading}\n\n[Open in Colab]({target})\n{rest}"
        assert not COLAB_LINK.search(old_title) and "google.colab" not in _text(before[name][code])

    # `make lint` covers the notebooks: the rendered cell must pass it as the committed one does.
    ruff = str(Path(sys.executable).with_name("ruff"))
    subprocess.run([ruff, "check", "--quiet", "notebooks"], cwd=root, check=True)
    subprocess.run([ruff, "format", "--check", "--quiet", "notebooks"], cwd=root, check=True)

    # The site: one link per notebook on the landing page, in that notebook's row, and one under
    # each notebook page's title.
    _generate_site(root, tmp_path / "site")
    index = (tmp_path / "site" / "index.md").read_text()
    rows = [line for line in index.splitlines() if "colab.research.google.com" in line]
    assert len(rows) == len(CATALOGUE) and len(COLAB_LINK.findall(index)) == len(CATALOGUE)
    for name in after:
        row = next(r for r in rows if f"](notebooks/{Path(name).stem}.ipynb)" in r)
        assert COLAB_LINK.findall(row) == [colab.colab_url(SAMPLE, name)]
        page = json.loads((tmp_path / "site" / "notebooks" / name).read_text())
        page_links = [link for cell in page["cells"] for link in COLAB_LINK.findall(_text(cell))]
        assert page_links == [colab.colab_url(SAMPLE, name)], name

    # Unset again: the notebooks are byte for byte what they were, and the site has no Colab link.
    _set_repository(root, None)
    _set_bootstrap(root)
    assert {p.name: p.read_bytes() for p in (root / "notebooks").glob("*.ipynb")} == unset_bytes
    _generate_site(root, tmp_path / "site")
    generated = [p for p in (tmp_path / "site").rglob("*") if p.is_file()]
    assert len(generated) == 2 + len(CATALOGUE)  # index, reference results, one page per notebook
    assert not [p.name for p in generated if "colab.research.google.com" in p.read_text()]


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """An IPython shell in an empty working folder, as a fresh Colab runtime is, where course_utils
    cannot be found and ``%pip`` only records what it was asked to install (no network here)."""
    from IPython.core.interactiveshell import InteractiveShell

    work = tmp_path / "content"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("COURSE_PACKAGE", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "course_utils" else real_find_spec(name, *a)
    )
    ip = InteractiveShell.instance()
    calls: list[str] = []
    ip.register_magic_function(calls.append, magic_kind="line", magic_name="pip")

    def run(cell: str):
        """(the lines %pip was given, the name of the error the cell raised or None)"""
        calls.clear()
        error = ip.run_cell(cell).error_in_exec
        return list(calls), type(error).__name__ if error else None

    yield run
    InteractiveShell.clear_instance()


def _in_colab(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))


def test_the_cell_installs_from_the_repository_in_colab_only(shell, monkeypatch):
    cell = colab.bootstrap_cell(SAMPLE)
    assert shell(cell) == ([], "ModuleNotFoundError")  # a kernel elsewhere: install nothing

    _in_colab(monkeypatch)
    calls, error = shell(cell)
    assert error is None and len(calls) == 1
    requirement = Requirement(shlex.split(calls[0])[-1])
    assert shlex.split(calls[0])[:2] == ["install", "-q"]
    assert (requirement.name, requirement.extras, requirement.url) == ("course_utils", {"kaggle"}, f"git+{SAMPLE}@main")

    # COURSE_PACKAGE still wins: a fork or a branch, in Colab too.
    monkeypatch.setenv("COURSE_PACKAGE", "course_utils@git+https://github.com/someone/fork@dev")
    assert shell(cell) == (["install -q course_utils@git+https://github.com/someone/fork@dev"], None)


def test_without_a_repository_the_cell_behaves_as_before(shell, monkeypatch):
    cell = colab.bootstrap_cell(None)
    assert "google.colab" not in cell and "#|" not in cell
    _in_colab(monkeypatch)
    assert shell(cell) == ([], "ModuleNotFoundError")
    monkeypatch.setenv("COURSE_PACKAGE", "course_utils@git+https://github.com/someone/fork@dev")
    assert shell(cell) == (["install -q course_utils@git+https://github.com/someone/fork@dev"], None)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://github.com/example-org/pytorch-course", SAMPLE),
        ("https://github.com/example-org/pytorch-course.git", SAMPLE),
        ("https://github.com/example-org/pytorch-course/", SAMPLE),
        ("https://gitlab.com/example-org/pytorch-course", None),
        ("git@github.com:example-org/pytorch-course.git", None),
        ("https://github.com/example-org", None),
    ],
)
def test_only_a_github_repository_url_is_accepted(tmp_path, url, expected):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    _set_repository(tmp_path, url)
    if expected is None:
        with pytest.raises(SystemExit, match="not https://github.com/<owner>/<repo>"):
            colab.repository(tmp_path)
    else:
        assert colab.repository(tmp_path) == expected
