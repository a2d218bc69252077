"""Sentences in a notebook's text that compare results, and the registry that holds each to a check.

**What counts as a comparing sentence.** A sentence of a markdown cell (a heading, a list item, a
table row and the sentences of a paragraph each count as one; inline code, code blocks and HTML
comments are not read) that holds one of the words in ``WORDS``: than, ahead, behind, beats,
wins, outperforms, faster, slower, better, worse, narrows, widens, helps, hurts, their other forms
(beat, won, narrowed, helping, ...), and "shrank", "grew" and "lead over", which report a measured
change. (The present tenses "grows" and "shrinks" describe mechanisms far more often than results
here, and are not read.)

**The registry.** Each notebook's own test module says what holds each of its comparing sentences:

- ``COMPARISONS = {notebook: [Claim(quote, runs, value, above=...), ...]}`` (or ``below=``). The quote is
  a piece of the sentence, enough to find it (whitespace aside, as written in the markdown, inline
  code included). ``runs`` says which kept runs the claim is about (``kept(stem)``: the notebook's
  kept ``cpu`` seeds 0-2; ``exercise(stem, item)``: that exercise's record, runs and baselines at
  seeds 0-2), and ``value`` computes, from one seed's runs, the quantity whose sign the sentence
  states (a gap, a gain); it must clear the bound at seeds 0, 1 and 2. The bound is the margin:
  about half the smallest effect measured at those seeds, unless a claim's comment says otherwise.
  A claim about how the seeds differ ("it grows at seed 0 and shrinks at seeds 1 and 2") takes
  ``across=True``: its ``value`` gets the three seeds' runs, in order, and is checked once. Several
  sentences may cite one claim (``Claim(("quote", "quote"), ...)``), and a claim may hold a sentence
  that no listed word marks.
- ``COMPARISONS_WAIVED = {notebook: {reason: (quote, ...)}}`` for sentences that compare no results
  of this course's runs: a definition, a quoted source, a statement about code, a question whose
  answer is registered. Grouped by reason (the usual ones are below), so that the list stays
  readable.

tests/test_comparisons.py fails when a comparing sentence has neither, when a quote no longer
stands in the notebook, and when a claim does not hold at every seed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from course_utils.course import kept_seed_metrics
from course_utils.exercises import record_path

SEEDS = (0, 1, 2)

WORDS = (
    "than",
    "ahead",
    "behind",
    r"beat(?:s|ing|en)?",
    r"win(?:s|ning)?",
    "won",
    r"outperform(?:s|ed|ing)?",
    "faster",
    "slower",
    "better",
    "worse",
    r"narrow(?:s|ed|ing)",
    r"widen(?:s|ed|ing)?",
    r"help(?:s|ed|ing)?",
    r"hurt(?:s|ing)?",
    "shrank",
    "grew",
    r"leads?\s+over",
)
COMPARING = re.compile(r"\b(?:" + "|".join(WORDS) + r")\b", re.I)
NOT_READ = re.compile(r"<!--.*?-->|```.*?```|`[^`\n]*`", re.S)
TAGS = re.compile(r"</?(?:details|summary|br|p|div|b|i|em|strong)\b[^>]*>", re.I)
# A sentence ends at ., ! or ? followed by a space and a capital, a digit, a quote or markup;
# "e.g." and "et al." do not end one.
SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bet al)(?<!\bvs)[.!?](?=\s+[A-Z0-9*_(\"“‘'\[|`])")
BLOCK_START = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\d+\.\s|\|)")


# The usual reasons for a waiver.
DEFINITION = "a definition, or how a method works: no result is compared"
CODE = "a statement about code or hardware"
QUOTED = "a quoted source's finding, marked as theirs"
QUESTION = "a question that an exercise asks (its answer is registered)"
REWRITTEN = (
    "a result of 04-07's lessons or exercises, which issue 33 rewrites and registers under these checks "
    "(their test_at_cpu_* tests hold the kept seeds until then)"
)


def normal(text: str) -> str:
    return " ".join(text.split())


def sentences(source: str) -> list[str]:
    """The sentences of a markdown cell, whitespace normalised, as written (inline code kept)."""
    source = TAGS.sub("\n\n", re.sub(r"<!--.*?-->|```.*?```", " ", source, flags=re.S))
    blocks, current = [], []
    for line in source.splitlines():
        if not line.strip() or BLOCK_START.match(line):
            if current:
                blocks.append(" ".join(current))
            current = [line] if line.strip() else []
        else:
            current.append(line)
    if current:
        blocks.append(" ".join(current))
    found = []
    for block in blocks:
        block = normal(block)
        start = 0
        for end in SENTENCE_END.finditer(block):
            found.append(block[start : end.end()].strip())
            start = end.end()
        found.append(block[start:].strip())
    return [s for s in found if s]


def compares(sentence: str) -> bool:
    return COMPARING.search(NOT_READ.sub(" ", sentence)) is not None


def comparing_sentences(notebook: dict) -> list[tuple[int, str]]:
    """(cell index, sentence) of every comparing sentence in the notebook's markdown cells."""
    return [
        (index, sentence)
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "markdown"
        for sentence in sentences("".join(cell["source"]))
        if compares(sentence)
    ]


@cache
def _record(stem: str) -> dict:  # read once for every claim and seed that cites it
    return json.loads(record_path(stem).read_text())


class Runs:
    """The runs a claim reads at one seed: ``base`` (the kept run, or an exercise's baseline) and the
    exercise's runs by name. ``runs[name]`` is that run; any other key reads the base run's metric,
    so that a claim on kept runs reads ``runs["cnn_test_acc"]``."""

    def __init__(self, base: dict, **others: dict):
        self.base, self.others = base, others

    def __getitem__(self, key: str):
        return self.others[key] if key in self.others else self.base[key]


def kept(stem: str) -> Callable[[int], Runs]:
    """The notebook's kept ``cpu`` run at a seed (docs/verified/seeds/)."""

    def at(seed: int) -> Runs:
        run = kept_seed_metrics(stem, seed)
        assert run["seed"] == seed and run["profile"] == "cpu", f"{stem}'s kept seed {seed} is not a cpu run"
        return Runs(run)

    at.describe = f"{stem}'s kept cpu seeds"
    return at


def exercise(stem: str, item: int) -> Callable[[int], Runs]:
    """Exercise ``item``'s runs at a seed (docs/verified/exercises/<stem>.json), by their names, with
    the record's baseline at the exercise's profile as ``base``."""

    def at(seed: int) -> Runs:
        record = _record(stem)
        runs = record["exercises"][str(item)]
        base = record["baselines"][f"{runs['profile']} seed {seed}"]
        return Runs(base, **{name: by_seed[str(seed)] for name, by_seed in runs["runs"].items()})

    at.describe = f"{stem}'s exercise {item} record"
    return at


@dataclass(frozen=True)
class Claim:
    quotes: str | tuple[str, ...]
    runs: Callable[[int], Runs]
    value: Callable[[Runs], float]
    above: float | None = None
    below: float | None = None
    across: bool = False

    @property
    def all_quotes(self) -> tuple[str, ...]:
        return (self.quotes,) if isinstance(self.quotes, str) else self.quotes

    def failures(self) -> list[str]:
        """What does not hold, one line per seed."""
        assert (self.above is None) != (self.below is None), f"{self.quotes}: give one bound, above= or below="
        bound = f"> {self.above}" if self.above is not None else f"< {self.below}"
        if self.across:
            checked = [("seeds 0-2", self.value([self.runs(seed) for seed in SEEDS]))]
        else:
            checked = [(f"seed {seed}", self.value(self.runs(seed))) for seed in SEEDS]
        return [
            f"{where}: {value:.4g}, not {bound} ({self.runs.describe})"
            for where, value in checked
            if (self.above is not None and not value > self.above)
            or (self.below is not None and not value < self.below)
        ]
