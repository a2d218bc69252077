"""Every sentence that compares results is registered with the check that holds it, or waived with a
reason (the rule and the registry's form: tests/comparisons.py).

Each notebook's own test module holds its registry (``COMPARISONS``, ``COMPARISONS_WAIVED``), so
that no other file names a notebook. The claims read the kept runs (marker ``committed``): they
guard what a change commits.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import nbformat
import pytest
from comparisons import Claim, comparing_sentences, normal, sentences

from course_utils.catalogue import CATALOGUE

pytestmark = pytest.mark.committed


def registry(nb) -> tuple[list[Claim], dict[str, tuple[str, ...]]]:
    module = importlib.import_module(Path(nb.test_module).stem)
    claims = getattr(module, "COMPARISONS", {}).get(nb.stem, [])
    return list(claims), dict(getattr(module, "COMPARISONS_WAIVED", {}).get(nb.stem, {}))


def notebook_sentences(nb) -> tuple[list[tuple[int, str]], list[str]]:
    notebook = json.loads(nbformat.writes(nbformat.read(nb.path, as_version=4)))
    every = [
        s for cell in notebook["cells"] if cell["cell_type"] == "markdown" for s in sentences("".join(cell["source"]))
    ]
    return comparing_sentences(notebook), every


@pytest.mark.parametrize("nb", CATALOGUE, ids=lambda nb: nb.stem)
def test_every_comparing_sentence_is_registered_or_waived(nb):
    claims, waived = registry(nb)
    quotes = [normal(q) for claim in claims for q in claim.all_quotes]
    quotes += [normal(q) for reason in waived.values() for q in reason]
    comparing, every = notebook_sentences(nb)
    unregistered = [f"cell {i}: {s}" for i, s in comparing if not any(q in s for q in quotes)]
    assert not unregistered, (
        f"{len(unregistered)} comparing sentence(s) in {nb.stem} with no claim or waiver in {nb.test_module}:\n"
        + "\n".join(unregistered)
    )
    gone = [q for q in quotes if not any(q in s for s in every)]
    assert not gone, f"registered in {nb.test_module} but no longer in {nb.stem}'s text: {gone}"


@pytest.mark.parametrize("nb", CATALOGUE, ids=lambda nb: nb.stem)
def test_every_registered_comparison_holds_at_seeds_0_to_2(nb):
    claims, _ = registry(nb)
    failing = [f"“{claim.all_quotes[0]}”: {line}" for claim in claims for line in claim.failures()]
    assert not failing, f"{nb.stem}: comparisons that the kept runs do not hold:\n" + "\n".join(failing)
