"""Figures in a notebook's prose, and the records that may stand behind them.

**What counts as a figure that reports a measurement.** A number in a markdown cell (inline code,
code blocks, links' addresses and HTML comments aside) that is one of:

- a percentage: ``89.44 %``, ``63-65%``;
- a difference in points: ``5.9 points``, ``2 pp``;
- a duration: ``6.5 s``, ``4.43s``, ``49 seconds``, ``3 min`` (an integer glued to "s", as in
  "0s and 1s", is a plural, not a duration);
- a ratio: ``23×``, ``1.5x``, ``8 times`` (``28×28`` and ``5×5`` are sizes, not ratios);
- a count: a number written with a thousands separator (``61,496``), or one followed by
  "parameters", "weights" or "multiply-adds";
- a decimal with no unit (a loss, an error, a statistic: ``2.303``, ``1.2e+00``). A setting
  written in prose is either a value of the kept metrics (they record the run's settings) or
  inline code (``lr=0.1``). A decimal of one significant digit (``0.5``, ``2e-4``) is a setting
  or a round number, not a figure.

A number that follows the arithmetic that gives it (``784·8 + 8 = 6,280``) is a derivation the
reader can check, not a figure. In a list such as ``49.10 / 43.70 / 42.90 %`` or ``16 to 17 s``
the unit of the last number is the unit of every one before it. Plain integers with no unit
(epochs, cells, seeds, layer widths, notebook numbers) are not figures.

**What stands behind a figure.**

- An output of the same notebook (stream text and plain-text results, but not the outputs of cells
  that call ``show_source``): the same number printed with the same unit and the same decimals (a
  percentage may be printed as a fraction with two more decimals, 0.8944 for 89.44 %).
- A value of the notebook's kept metrics (``docs/verified/<notebook>.json`` and
  ``docs/verified/seeds/``) or of its exercise record (``docs/verified/exercises/<notebook>.json``)
  that measures the same kind of thing (read from its key: an accuracy, a time, a count) and rounds
  to the figure (fractions read as percentages). A count must be the value itself, and a whole
  number that is not a count stands on no kept value.
- Where the figure stands decides which run it may come from. Outside the exercises: the outputs
  and the published run and seeds. In an "Exercises" cell's introduction: those and the exercise
  record's baselines. In exercise N's item ("3. **A title.**" up to the next item): only the
  record's baselines and exercise N's runs, never the outputs (another run, often at another
  profile). The course writes a result at seeds 0, 1 and 2 as a list of three joined by " / "
  (``95.38 / 94.93 / 93.45 %``): each figure of such a list stands on a value of its own seed (the
  outputs are seed 0's), and the three on values of the same keys (one metric of one run).
- A quote mark in the same cell, ``<!-- quoted: 50,000 | 10,000 : what it quotes -->``: figures
  from a source, a paper or a fixed fact. The mark does not render, and it must name its source.

Code literals and ``docs/reference-results.md`` stand behind nothing.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERIFIED = ROOT / "docs" / "verified"

NUMBER = r"(?<![\w.,/])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\d]|\.\d|,\d{3})"
UNITS = {
    "percent": r"\s?(?:%|percent\b)",
    "points": r"\s(?:percentage\s)?(?:points?\b|pp\b)",
    "seconds": r"\s?(?:s|sec|seconds?|ms|min|minutes?|hours?)\b",
    "ratio": r"\s?(?:×|x\b|times\b)(?!\s?\d)",
    "count": r"\s(?:parameters?|weights|multiply-adds)\b",
}
UNIT_RE = {kind: re.compile(pattern) for kind, pattern in UNITS.items()}
NUMBER_RE = re.compile(NUMBER)
SEPARATOR = re.compile(r"^\s*(?:/|to|-|–|—|,|and|or|vs\.?|against|,\s*and)?\s*[+−]?$")
DERIVED = re.compile(r"\d\)?\s*[·×*+−/-]\s*\(?\d[\d.,]*\)?\s*=\s*$")
QUOTE_RE = re.compile(r"<!--\s*quoted:\s*(?P<figures>.*?)\s:\s*(?P<source>.*?)\s*-->", re.S)
STRIP = [
    re.compile(r"<!--.*?-->", re.S),  # comments, quote marks included
    re.compile(r"```.*?```", re.S),  # code blocks
    re.compile(r"`[^`\n]*`"),  # inline code
    re.compile(r"\]\([^)]*\)"),  # link addresses
    re.compile(r"<img[^>]*>|!\[[^\]]*\]"),
]


@dataclass(frozen=True)
class Figure:
    text: str  # the number as written, "61,496"
    kind: str  # percent, points, seconds, ratio, count, decimal
    start: int  # offset in the stripped cell text
    context: str
    negative: bool = False  # written with a minus sign: "−9.5 points"
    seed: int | None = None  # its place in a list of three, "95.38 / 94.93 / 93.45 %": seeds 0 / 1 / 2
    group: int | None = None  # where that list starts

    @property
    def value(self) -> Decimal:
        value = Decimal(self.text.replace(",", ""))
        return -value if self.negative else value

    @property
    def decimals(self) -> int:
        digits = self.text.replace(",", "").lower().split("e")[0]
        return len(digits.split(".")[1]) if "." in digits else 0


def prose(source: str) -> str:
    for pattern in STRIP:
        source = pattern.sub(lambda m: " " * len(m.group(0)), source)
    return source


def figures(source: str) -> list[Figure]:
    """Every figure that reports a measurement in one markdown cell (the rule above)."""
    text = prose(source)
    found = []
    for match in NUMBER_RE.finditer(text):
        rest = text[match.end() :]
        kind = next((k for k, pattern in UNIT_RE.items() if pattern.match(rest)), None)
        if kind == "seconds" and not re.match(r"\s", rest) and "." not in match["num"]:
            kind = None  # "0s and 1s", "1990s": plurals
        found.append([match, kind])
    for i in range(len(found) - 2, -1, -1):  # a list's unit is its last number's
        match, kind = found[i]
        following, next_kind = found[i + 1]
        if kind is None and next_kind is not None and SEPARATOR.match(text[match.end() : following.start()]):
            found[i][1] = next_kind
    result = []
    for match, kind in found:
        num = match["num"]
        if DERIVED.search(text[max(0, match.start() - 40) : match.start()]):
            continue  # "784·8 + 8 = 6,280": arithmetic the reader can check beside it
        if kind is None:
            if "," in num:
                kind = "count"
            elif ("." in num or "e" in num.lower()) and len(
                re.sub(r"[^\d]", "", num.lower().split("e")[0]).lstrip("0")
            ) > 1:
                kind = "decimal"
            else:
                continue
        start = match.start()
        context = " ".join(text[max(0, start - 40) : match.end() + 25].split())
        result.append(Figure(num, kind, start, context, is_negative(text, start)))
    return seed_lists(text, result)


def seed_lists(text: str, found: list[Figure]) -> list[Figure]:
    """Mark each figure of a list of exactly three joined by " / " with its place: the course writes
    a result at seeds 0, 1 and 2 that way."""
    runs, current = [], [0] if found else []
    for i in range(1, len(found)):
        between = text[found[i - 1].start + len(found[i - 1].text) : found[i].start]
        if re.fullmatch(r"\s*/\s*[+−-]?", between) and found[i].kind == found[i - 1].kind:
            current.append(i)
        else:
            runs.append(current)
            current = [i]
    runs.append(current)
    result = list(found)
    for run in runs:
        if len(run) == 3:
            for seed, i in enumerate(run):
                result[i] = replace(found[i], seed=seed, group=found[run[0]].start)
    return result


def is_negative(text: str, start: int) -> bool:
    """A minus sign right before the number: "−9.5", "(-0.4"; not a range's dash ("63-65")."""
    before = text[max(0, start - 2) : start]
    return before.endswith("−") or (before.endswith("-") and (len(before) < 2 or not before[0].isalnum()))


def quote_marks(source: str) -> list[tuple[list[str], str]]:
    """[(figures, source)] of the cell's quote marks."""
    return [
        ([f.strip() for f in m["figures"].split("|") if f.strip()], m["source"].strip())
        for m in QUOTE_RE.finditer(source)
    ]


def rounds_to(value: Decimal, figure: Figure) -> bool:
    quantum = Decimal(1).scaleb(-figure.decimals)
    try:
        return any(value.quantize(quantum, rounding=r) == figure.value for r in (ROUND_HALF_UP, ROUND_HALF_EVEN))
    except InvalidOperation:
        return False


@dataclass
class Record:
    """The numbers that may stand behind a notebook's figures."""

    printed: list[tuple[str, str | None]]  # (number as printed, its unit)
    # every number of the kept metrics and exercise record, its kind, and the exercise it answers
    # (None: the published run, the seeds, the exercise record's baselines)
    # the seed of its run (None where the record does not say), and its keys with the seed's left out
    kept: list[tuple[Decimal, str, str | None, int | None, tuple]]

    def kept_paths(self, figure: Figure, exercise: str | None = None) -> set[tuple]:
        """The keys of the kept values behind ``figure``. ``exercise``: the number of the exercise
        whose item holds the figure; only that exercise's runs stand behind it, and no exercise's
        runs stand behind a figure outside the exercises. A figure in a list of three stands only
        on runs of its seed."""
        return {
            path
            for value, kind, scope, seed, path in self.kept
            if scope in SCOPES.get(exercise, ("record", exercise))
            and (figure.seed is None or seed in (None, figure.seed))
            and self.kept_matches(value, kind, figure)
        }

    def in_outputs(self, figure: Figure) -> bool:
        """Printed at the precision shown: the same decimals (a percentage as a fraction has two more)."""
        for text, kind in self.printed:
            value, decimals = Decimal(text.replace(",", "")), _decimals(text)
            if decimals == figure.decimals and value == figure.value:
                if figure.kind in ("count", "decimal") or kind == figure.kind:
                    return True
            # a percentage printed as a fraction: 0.8944 for 89.44 %, 0.0588 for 5.88 points
            if figure.kind in ("percent", "points") and kind is None and decimals == figure.decimals + 2:
                if value * 100 == figure.value:
                    return True
        return False

    def kept_matches(self, value: Decimal, kind: str, figure: Figure) -> bool:
        """A kept value of the figure's kind (by its key: ``KEPT_KINDS``) that rounds to it. A count
        must be the value itself; a whole number that is not a count, or a figure of one significant
        digit and one decimal, stands on no kept value (16.7 s is not "17 s", an epoch count is not
        "10 times", 0.46 s is not "0.5 s"; 0.09 points is a measurement)."""
        if kind not in FIGURE_TO_KEPT[figure.kind]:
            return False
        if kind == "fraction":
            value *= 100
        if figure.kind == "count":
            return value == figure.value
        significant = len(figure.text.replace(",", "").replace(".", "").lstrip("0"))
        if figure.decimals == 0 or (significant < 2 and figure.decimals < 2):
            return False
        return rounds_to(value, figure)


def _decimals(text: str) -> int:
    digits = text.replace(",", "").lower().split("e")[0]
    return len(digits.split(".")[1]) if "." in digits else 0


def output_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append("".join(output["text"]) if isinstance(output["text"], list) else output["text"])
        data = output.get("data", {})
        if "text/plain" in data and "image/png" not in data:
            plain = data["text/plain"]
            parts.append("".join(plain) if isinstance(plain, list) else plain)
    return "\n".join(parts)


def printed_numbers(text: str) -> list[tuple[str, str | None]]:
    """(number as printed, with its minus sign, its unit) of every number in an output."""
    result = []
    for match in NUMBER_RE.finditer(text):
        rest = text[match.end() :]
        kind = next((k for k, pattern in UNIT_RE.items() if pattern.match(rest)), None)
        result.append((("-" if is_negative(text, match.start()) else "") + match["num"], kind))
    return result


# What a kept value measures, read from its key (the innermost key that says): accuracies and
# shares are fractions; *_seconds, *_ms durations; parameter and multiply-add counts, sizes.
KEPT_KINDS = [
    ("fraction", re.compile(r"acc|share|frac|delta")),
    ("seconds", re.compile(r"seconds|_ms|_s$|time")),
    ("count", re.compile(r"params|multiply_adds|size|count|parameters")),
]
FIGURE_TO_KEPT = {
    "percent": ("fraction",),
    "points": ("fraction",),
    "seconds": ("seconds",),
    "ratio": ("value",),
    "count": ("count", "value"),
    "decimal": ("value",),
}


def kept_kind(keys: list[str]) -> str:
    for key in reversed(keys):
        for kind, pattern in KEPT_KINDS:
            if pattern.search(key.lower()):
                return kind
    return "value"


def numbers_in(obj, keys=(), seed=None) -> list[tuple[Decimal, str, int | None, tuple]]:
    """(value, kind, seed, keys) of every number in a kept record; a run's seed is its ``seed``
    value, and the keys leave out the ones that name a seed ("2", "smoke seed 2")."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return []
    if isinstance(obj, (int, float)):
        finite = obj == obj and abs(obj) != float("inf")
        path = tuple(k for k in keys if not re.fullmatch(r"(?:\w+ )?(?:seed )?\d+", str(k)))
        return [(Decimal(repr(obj)), kept_kind(list(keys)), seed, path)] if finite else []
    if isinstance(obj, dict) and isinstance(obj.get("seed"), int):
        seed = obj["seed"]
    items = obj.items() if isinstance(obj, dict) else ((None, v) for v in obj)
    return [n for k, v in items for n in numbers_in(v, (*keys, k) if k is not None else keys, seed)]


# Which kept values may stand behind a figure: outside the exercises, the notebook's published run
# and seeds ("run"); in the exercises' introduction, those and the exercise record's baselines
# ("record"); in exercise N's item, the baselines and exercise N's runs.
SCOPES = {None: ("run",), "": ("run", "record")}


def kept_numbers(record: dict) -> list[tuple[Decimal, str, str | None, int | None, tuple]]:
    """(value, kind, exercise, seed, keys) of every number in a kept record; an exercise record's
    runs are tagged with their exercise's number. A baseline's keys are a published run's."""
    exercises = record.get("exercises", {}) if "baselines" in record else {}
    rest = {k: v for k, v in record.items() if not (exercises and k == "exercises")}
    tagged = [
        (value, kind, "record" if exercises else "run", seed, path[1:] if path[:1] == ("baselines",) else path)
        for value, kind, seed, path in numbers_in(rest)
    ]
    for number, exercise in exercises.items():
        tagged += [(value, kind, str(number), seed, path) for value, kind, seed, path in numbers_in(exercise)]
    return tagged


def exercise_items(source: str) -> list[tuple[int, str]] | None:
    """[(offset, number)] where each item of an "## Exercises" cell begins ("3. **A title.**")."""
    if not re.match(r"\s*#+\s*Exercises", source):
        return None
    return [(m.start(), m[1]) for m in re.finditer(r"^(\d+)\.\s+\*\*", source, re.M)]


def exercise_at(items: list[tuple[int, str]] | None, offset: int) -> str | None:
    """The number of the exercise whose item holds ``offset``; "" before the first item of an
    "Exercises" cell; None in any other cell."""
    if items is None:
        return None
    number = ""
    for start, n in items:
        if start <= offset:
            number = n
    return number


def kept_records(stem: str) -> list[dict]:
    """The notebook's kept metrics (published run and seeds) and its exercise record."""
    paths = [VERIFIED / f"{stem}.json", VERIFIED / "exercises" / f"{stem}.json"]
    paths += sorted((VERIFIED / "seeds").glob(f"{stem}.seed*.json"))
    return [json.loads(p.read_text()) for p in paths if p.exists()]


def record_of(notebook: dict, kept: list[dict]) -> Record:
    cells = notebook["cells"]
    text = "\n".join(output_text(c) for c in cells if c["cell_type"] == "code" and "show_source(" not in _src(c))
    return Record(printed_numbers(text), [n for record in kept for n in kept_numbers(record)])


def _src(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def untraced(notebook: dict, kept: list[dict]) -> list[tuple[int, Figure]]:
    """[(cell index, figure)] of every figure with nothing behind it; ``kept``: the notebook's
    records (``kept_records``)."""
    record, result = record_of(notebook, kept), []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = _src(cell)
        quoted = {f.replace(",", "") for figs, _ in quote_marks(source) for f in figs}
        items, lists = exercise_items(source), {}
        for figure in figures(source):
            exercise = exercise_at(items, figure.start)
            # the outputs are one run at the notebook's seed, 0; an exercise's runs are its record's
            printed = exercise in (None, "") and figure.seed in (None, 0) and record.in_outputs(figure)
            if figure.text.replace(",", "") in quoted or printed:
                continue
            paths = record.kept_paths(figure, exercise)
            if figure.group is not None:
                lists.setdefault(figure.group, []).append((figure, paths))
            elif not paths:
                result.append((index, figure))
        # A list of three is one measurement at three seeds: its kept figures stand on the same keys.
        for members in lists.values():
            counts = Counter(path for _, paths in members for path in paths)
            most = max(counts.values(), default=0)
            shared = {path for path, n in counts.items() if n == most}
            result += [(index, figure) for figure, paths in members if not paths & shared]
    return sorted(result, key=lambda item: (item[0], item[1].start))
