"""Every figure in a notebook's text traces to a record (the rule: tests/prose_figures.py).

A figure that reports a measurement must be printed in an output of the same notebook, be a value
of its kept metrics or of its exercise record (``python -m course_utils.exercises NN``), or carry a
quote mark that names its source. These tests read the committed notebooks and records (marker
``committed``): they guard what a change commits. The rule is tested too: it flags the mismatches
found at commit 97ea29d (a text-only copy of those notebooks and their records is kept in
tests/data/), and a figure whose last digit changes no longer passes.
"""

from __future__ import annotations

import ast
import copy
import gzip
import json
import random
from pathlib import Path

import nbformat
import pytest
from prose_figures import figures, kept_records, quote_marks, untraced

from course_utils.catalogue import CATALOGUE

pytestmark = pytest.mark.committed

ROOT = Path(__file__).resolve().parents[1]
AT_97EA29D = ROOT / "tests" / "data" / "prose_at_97ea29d.json.gz"


# Figures not traced yet sit on a waiver in the notebook's own test module (so that no other file
# names a notebook): PROSE_WAIVED = {notebook: (reason, "figure figure ...")}. A waived figure that is
# traced now (or gone) fails the test, so the lists only shrink.
def waiver(nb) -> tuple[str, set[str]]:
    tree = ast.parse((ROOT / nb.test_module).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["PROSE_WAIVED"]:
            reason, figures_ = ast.literal_eval(node.value).get(nb.stem, ("", ""))
            return reason, set(figures_.split())
    return "", set()


def notebook_json(nb) -> dict:
    return json.loads(nbformat.writes(nbformat.read(nb.path, as_version=4)))


def problems(name: str, notebook: dict, kept: list[dict]) -> list[str]:
    return [
        f"{name}, cell {index}: {figure.text} ({figure.kind}) in “…{figure.context}…” has no output, kept metric, "
        "exercise record or quote mark behind it"
        for index, figure in untraced(notebook, kept)
    ]


@pytest.mark.parametrize("nb", CATALOGUE, ids=lambda nb: nb.stem)
def test_every_figure_in_the_text_traces_to_a_record(nb):
    found = problems(nb.stem, notebook_json(nb), kept_records(nb.stem))
    reason, waived = waiver(nb)
    unwaived = [p for p in found if p.split(": ")[1].split(" (")[0] not in waived]
    assert not unwaived, f"{len(unwaived)} figure(s) with nothing behind them:\n" + "\n".join(unwaived)
    stale = waived - {p.split(": ")[1].split(" (")[0] for p in found}
    assert not stale, f"waived in {nb.test_module} but traced now or gone ({reason}): {sorted(stale)}"


@pytest.mark.parametrize("nb", CATALOGUE, ids=lambda nb: nb.stem)
def test_quote_marks_name_a_source_and_their_figures(nb):
    for index, cell in enumerate(notebook_json(nb)["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        written = {f.text.replace(",", "") for f in figures(source)}
        for quoted, what in quote_marks(source):
            assert what, f"{nb.stem}, cell {index}: a quote mark must name what it quotes: {quoted}"
            missing = [q for q in quoted if q.replace(",", "") not in written]
            assert not missing, f"{nb.stem}, cell {index}: quote mark for figures the cell no longer has: {missing}"


# The mismatches that the reviews of 2026-12-06 found at 97ea29d (issue 32): notebook number, a few
# words around the figure, the figure.
EXAMPLES = [
    ("08", "same training time (6.5 s against", "6.5"),
    ("08", "instead of 49 s", "49"),
    ("06", "against 16 to 17 s", "16"),
    ("05", "62,006 parameters", "62,006"),
    ("03", "ImprovedNet 49.10 / 43.70 / 42.90 %", "49.10"),
    ("03", "ImprovedNet 49.10 / 43.70 / 42.90 %", "43.70"),
    ("03", "ImprovedNet 49.10 / 43.70 / 42.90 %", "42.90"),
    ("04", "validation 33.75% and test 35.0%", "33.75"),
    ("04", "validation 33.75% and test 35.0%", "35.0"),
]


def test_the_rule_flags_what_the_reviews_found_at_97ea29d():
    old = json.loads(gzip.decompress(AT_97EA29D.read_bytes()))
    for number, words, figure in EXAMPLES:
        (stem,) = [name for name in old if name.startswith(number)]
        flagged = untraced({"cells": old[stem]["cells"]}, list(old[stem]["kept"].values()))
        cells = [" ".join(cell["source"].split()) for cell in old[stem]["cells"]]
        assert any(f.text == figure and words in cells[i] for i, f in flagged), (
            f"{stem} at 97ea29d: {figure} in “{words}” should have nothing behind it"
        )


def accepted_figures():
    """(notebook entry, its JSON, kept records, cell index, figure) of every figure that passes, in
    the cells that hold no waived figure (those are to be rewritten)."""
    result = []
    for nb in CATALOGUE:
        notebook, kept = notebook_json(nb), kept_records(nb.stem)
        flagged = untraced(notebook, kept)
        failing = {(i, f.start) for i, f in flagged}
        waived_cells = {i for i, f in flagged if f.text in waiver(nb)[1]}
        for index, cell in enumerate(notebook["cells"]):
            if cell["cell_type"] == "markdown" and index not in waived_cells:
                source = "".join(cell["source"])
                quoted = {q.replace(",", "") for qs, _ in quote_marks(source) for q in qs}
                for figure in figures(source):
                    if (index, figure.start) not in failing and figure.text.replace(",", "") not in quoted:
                        result.append((nb, notebook, kept, index, figure))
    return result


def test_a_figure_with_its_last_digit_changed_no_longer_passes():
    """A seeded sample of 60 traced figures: each, with its last digit moved by 5, is flagged, and the
    message names the notebook, the cell and the new figure."""
    pool, still_passing = accepted_figures(), []
    assert len(pool) >= 60, f"only {len(pool)} traced figures"
    for nb, notebook, kept, index, figure in random.Random(0).sample(pool, 60):
        end = figure.start + len(figure.text)
        digit = str((int(figure.text[-1]) + 5) % 10)
        changed = copy.deepcopy(notebook)
        source = "".join(changed["cells"][index]["source"])
        assert source[figure.start : end] == figure.text
        changed["cells"][index]["source"] = source[: figure.start] + figure.text[:-1] + digit + source[end:]
        new = figure.text[:-1] + digit
        found = problems(nb.stem, changed, kept)
        if not any(p.startswith(f"{nb.stem}, cell {index}: {new} (") for p in found):
            still_passing.append(f"{nb.stem}, cell {index}: {figure.text} changed to {new} (“{figure.context}”)")
    assert not still_passing, "changed figures that still pass:\n" + "\n".join(still_passing)
