"""The catalogue (course_utils/catalogue.py) is the one list of notebooks: every notebook file has an
entry and every entry a file; no Python file but its entry and its own test module names a
notebook; and what else reads the entries (README table, the published runs, the test modules, the
datasets to prepare) agrees with them."""

from __future__ import annotations

import json
import math
import re

import nbformat
import pytest

from course_utils import prepare
from course_utils.catalogue import CATALOGUE, readme_table
from course_utils.paths import REPO_ROOT

IDS = [nb.stem for nb in CATALOGUE]


def test_every_notebook_file_has_an_entry_and_every_entry_a_file():
    files = {p.stem for p in (REPO_ROOT / "notebooks").glob("*.ipynb")}
    entries = {nb.stem for nb in CATALOGUE}
    assert not files - entries, f"notebooks without a catalogue entry: {sorted(files - entries)}"
    assert not entries - files, f"catalogue entries without a notebook file: {sorted(entries - files)}"


def test_entries_are_numbered_in_course_order():
    numbers = [nb.number for nb in CATALOGUE]
    assert numbers == [f"{i:02d}" for i in range(1, len(CATALOGUE) + 1)]


def test_only_its_entry_and_its_test_module_name_a_notebook():
    """Adding a notebook means three things: the notebook, its entry and its test module."""
    files = [*REPO_ROOT.glob("*.py"), *(REPO_ROOT / "course_utils").glob("*.py")]
    files += [*(REPO_ROOT / "tests").glob("*.py"), *(REPO_ROOT / "tools").glob("*.py")]
    for nb in CATALOGUE:
        allowed = {REPO_ROOT / "course_utils" / "catalogue.py", REPO_ROOT / nb.test_module}
        naming = sorted(str(f.relative_to(REPO_ROOT)) for f in files if nb.stem in f.read_text() and f not in allowed)
        assert not naming, f"{nb.stem} is named outside its entry and {nb.test_module}: {naming}"


def test_every_test_module_checks_its_dry_run():
    for nb in CATALOGUE:
        assert "def check_full_dry_run(" in (REPO_ROOT / nb.test_module).read_text(), nb.test_module


def test_no_count_of_notebooks_is_written_by_hand():
    counted = re.compile(
        r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+) (jupyter )?notebooks\b", re.I
    )
    for name in ("README.md", "mkdocs.yml"):
        found = counted.findall((REPO_ROOT / name).read_text())
        assert not found, f"{name} counts the notebooks by hand: {found}"


def test_the_package_docstring_lists_every_module():
    import course_utils

    modules = {p.stem for p in (REPO_ROOT / "course_utils").glob("*.py") if p.stem != "__init__"}
    missing = sorted(m for m in modules if f"``{m}``" not in course_utils.__doc__)
    assert not missing, f"course_utils/__init__.py does not list {missing}"


@pytest.mark.parametrize("nb", CATALOGUE, ids=IDS)
def test_title_is_the_notebooks_heading(nb):
    first = next(c for c in nbformat.read(nb.path, as_version=4).cells if c.cell_type == "markdown")
    assert first.source.splitlines()[0] == f"# {nb.number} · {nb.title}"


@pytest.mark.parametrize("nb", CATALOGUE, ids=IDS)
def test_cpu_time_and_main_metric_match_the_published_run(nb):
    published = json.loads((REPO_ROOT / "docs" / "verified" / f"{nb.stem}.json").read_text())
    assert nb.main_metric in published, f"{nb.stem}: its metrics have no {nb.main_metric!r}"
    if published["profile"] == "cpu":
        measured = math.ceil(published["wall_seconds"] / 60)
        assert nb.cpu_minutes == measured, f"{nb.stem}: the published cpu run took {published['wall_seconds']} s"


@pytest.mark.parametrize("nb", CATALOGUE, ids=IDS)
def test_test_module_executes_the_notebook(nb):
    module = REPO_ROOT / nb.test_module
    assert module.is_file(), f"{nb.stem}: {nb.test_module} is missing"
    assert f'"{nb.stem}"' in module.read_text(), f"{nb.test_module} never names {nb.stem}"
    assert set(nb.profiles) == {"smoke", "cpu", "full"}, f"{nb.stem}: profiles {sorted(nb.profiles)}"


def test_every_dataset_named_can_be_prepared():
    assert set(prepare.needed()) <= set(prepare.PREPARE)


def test_readme_table_is_the_catalogues():
    readme = (REPO_ROOT / "README.md").read_text()
    assert readme_table() in readme, "README's notebook table differs: paste catalogue.readme_table() into README.md"
