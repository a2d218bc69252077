"""The catalogue (course_utils/catalogue.py) is the one list of notebooks: every notebook file has an
entry and every entry a file, and what else names the notebooks (profiles, README table, the
published runs, the test modules, the datasets to prepare) agrees with it."""

from __future__ import annotations

import json
import math

import nbformat
import pytest

from course_utils import prepare
from course_utils.catalogue import CATALOGUE, readme_table
from course_utils.paths import REPO_ROOT
from course_utils.profiles import NOTEBOOK_PROFILES

IDS = [nb.stem for nb in CATALOGUE]


def test_every_notebook_file_has_an_entry_and_every_entry_a_file():
    files = {p.stem for p in (REPO_ROOT / "notebooks").glob("*.ipynb")}
    entries = {nb.stem for nb in CATALOGUE}
    assert not files - entries, f"notebooks without a catalogue entry: {sorted(files - entries)}"
    assert not entries - files, f"catalogue entries without a notebook file: {sorted(entries - files)}"


def test_entries_are_numbered_in_course_order():
    numbers = [nb.number for nb in CATALOGUE]
    assert numbers == [f"{i:02d}" for i in range(1, len(CATALOGUE) + 1)]


def test_every_entry_has_profiles_and_every_profile_an_entry():
    assert set(NOTEBOOK_PROFILES) == {nb.stem for nb in CATALOGUE}


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


def test_every_dataset_named_can_be_prepared():
    assert set(prepare.needed()) <= set(prepare.PREPARE)


def test_readme_table_is_the_catalogues():
    readme = (REPO_ROOT / "README.md").read_text()
    assert readme_table() in readme, "README's notebook table differs: paste catalogue.readme_table() into README.md"
