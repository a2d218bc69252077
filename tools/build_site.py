"""Build the course website (``make site``): the committed, executed notebooks rendered as they
are (never re-executed) by MkDocs with mkdocs-material and mkdocs-jupyter.

The pages MkDocs reads are generated here, into a git-ignored folder, from the files that are
already committed, so nothing is kept twice:

- ``index.md``, the landing page: the README's opening paragraph, a table of the notebooks
  (title from each notebook's first heading, story from ``course_utils/catalogue.py``, "last verified"),
  the README's sections on how to run the course (the two commands, the profiles, Colab) and
  its credits (licence, datasets, sources);
- ``notebooks/<stem>.ipynb``: each notebook, with a "Last verified" box under its title taken
  from ``docs/verified/<stem>.json`` (the metrics of the run that produced the committed outputs,
  written by ``python -m course_utils.course --publish``), or "not verified yet" without one, and
  a download link to the committed notebook (copied next to the page after the build), and,
  once pyproject.toml names the course's repository (tools/colab.py), its "Open in Colab" link
  under the title, as in the notebook (the landing page's table links each notebook there too);
- ``reference-results.md``: ``docs/reference-results.md``.

Then MkDocs (``mkdocs.yml``, strict: a broken link fails) turns them into static HTML, by
default in ``_build/site/``; the navigation (home, the notebooks in order, the measured results)
is set here from the notebooks folder. The HTML loads nothing from the internet: no web fonts,
no MathJax, and the notebooks' saved progress-bar widgets are shown as their final text instead
of loading the widget library.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path

import colab

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout: its own course_utils
from course_utils.catalogue import CATALOGUE, entry  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
VERIFIED = ROOT / "docs" / "verified"
README = ROOT / "README.md"
REFERENCE = ROOT / "docs" / "reference-results.md"
DEFAULT_SRC = ROOT / "_build" / "site-src"
DEFAULT_SITE = ROOT / "_build" / "site"

# README sections shown on the landing page, in this order (a missing one stops the build).
README_SECTIONS = ("The two commands", "Profiles", "Run in Colab", "Credits")


def notebooks() -> list[Path]:
    """The catalogue's notebooks, in course order."""
    return [nb.path for nb in CATALOGUE]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def title_of(nb: dict, stem: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return stem


def verified_metrics(stem: str) -> dict | None:
    path = VERIFIED / f"{stem}.json"
    return read_json(path) if path.exists() else None


def _seconds(value) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def verified_text(stem: str) -> str:
    """One line: what the committed outputs were produced with. Only recorded values are shown."""
    m = verified_metrics(stem)
    if m is None:
        return f"not verified yet (no metrics published in docs/verified/{stem}.json)"
    device = m.get("device", "device not recorded")
    if m.get("device_name"):
        device += f" ({m['device_name']})"
    parts = [
        m.get("run_date", "date not recorded"),
        f"profile {m['profile']}" if "profile" in m else "profile not recorded",
        device,
        f"torch {m['torch']}" if "torch" in m else "torch version not recorded",
    ]
    if "seed" in m:
        parts.append(f"seed {m['seed']}")
    if m.get("data_source"):
        parts.append(f"data: {m['data_source']}")
    timings = []
    if isinstance(m.get("train_seconds"), (int, float)):
        timings.append(f"training {_seconds(m['train_seconds'])}")
    if isinstance(m.get("wall_seconds"), (int, float)):
        timings.append(f"whole notebook {_seconds(m['wall_seconds'])}")
    if timings:
        parts.append(", ".join(timings))
    return " · ".join(parts)


def verified_html(stem: str) -> str:
    """The box under a notebook's title: how its outputs were produced, and the notebook itself."""
    state = "yes" if verified_metrics(stem) is not None else "no"
    return (
        f'<div class="admonition info last-verified" data-verified="{state}">\n'
        f'<p class="admonition-title">Last verified</p>\n'
        f"<p>{html.escape(verified_text(stem))}</p>\n"
        f'<p>Download the notebook: <a href="{stem}.ipynb" download>{stem}.ipynb</a></p>\n'
        f"</div>"
    )


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def widget_text(model_id: str, state: dict) -> str | None:
    """The final text of a saved widget: tqdm's bar (an HBox of label, progress, label) becomes
    "epochs: 100%|██████████| 4/4 [00:14<00:00, ...]"; None for a widget it cannot show."""
    model = state.get(model_id)
    if model is None:
        return None
    name, values = model.get("model_name", ""), model.get("state", {})
    if name == "HBoxModel":
        parts = [widget_text(child.removeprefix("IPY_MODEL_"), state) for child in values.get("children", [])]
        return "".join(p for p in parts if p) if any(parts) else None
    if name in ("HTMLModel", "LabelModel"):
        return html.unescape(re.sub(r"<[^>]+>", "", str(values.get("value", "")))).replace("\u2007", " ")
    if name in ("FloatProgressModel", "IntProgressModel") and values.get("max"):
        filled = round(10 * float(values.get("value", 0)) / float(values["max"]))
        return "|" + "█" * filled + " " * (10 - filled) + "|"
    return None


def static_widgets(nb: dict) -> None:
    """Replace widget outputs (tqdm's notebook progress bars) with their final state as text: the
    page would otherwise load the widget library from a CDN."""
    state = nb.get("metadata", {}).pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                view = data.pop(WIDGET_VIEW)
                text = widget_text(view.get("model_id", ""), state)
                if text:
                    data["text/plain"] = text
                if not data:
                    data["text/plain"] = ""


def page_notebook(src: Path, dst: Path, repo: str | None = None) -> dict:
    """Copy a notebook with the "Last verified" box under its title and widgets as text; the title's
    Colab link follows ``repo`` (what tools/set_bootstrap.py writes), even in a notebook not yet updated."""
    nb = read_json(src)
    static_widgets(nb)
    box = verified_html(src.stem)
    first = next((c for c in nb["cells"] if c["cell_type"] == "markdown"), None)
    if first is not None and "".join(first["source"]).startswith("# "):
        first["source"] = colab.title_cell("".join(first["source"]), colab.colab_link(repo, src.name))
    lines = "".join(first["source"]).splitlines(keepends=True) if first else []
    if first is not None and lines and lines[0].startswith("# "):
        first["source"] = [lines[0], "\n", box, "\n\n", *lines[1:]]
    else:
        nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": [box, "\n"]})
    dst.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return nb


def readme_sections(text: str) -> tuple[str, dict[str, str]]:
    """The README's opening paragraphs (before its first table or section) and its level-2 sections
    by heading."""
    body = text.split("\n", 1)[1] if text.startswith("# ") else text
    intro, *rest = re.split(r"^## ", body, flags=re.MULTILINE)
    sections = {}
    for chunk in rest:
        heading, _, content = chunk.partition("\n")
        sections[heading.strip()] = content.strip()
    paragraphs = [p for p in intro.strip().split("\n\n") if p.strip() and not p.lstrip().startswith("|")]
    return "\n\n".join(paragraphs), sections


def landing_page(pages: list[tuple[str, str]], repo: str | None = None) -> str:
    intro, sections = readme_sections(README.read_text(encoding="utf-8"))
    missing = [s for s in README_SECTIONS if s not in sections]
    if missing:
        raise SystemExit(
            f"build_site: README.md has no section(s) {missing}; the landing page shows "
            f"{list(README_SECTIONS)} (rename them in tools/build_site.py if the README changed)"
        )
    out = ["# PyTorch image classification, notebook by notebook", "", intro, "", "## The notebooks", ""]
    out += ["| notebook | what it shows | on a laptop CPU | last verified |", "| --- | --- | ---: | --- |"]
    for stem, title in pages:
        nb = entry(stem)
        verified = verified_text(stem).replace("|", "\\|")
        link = colab.colab_link(repo, f"{stem}.ipynb")
        shown = f"[{title}](notebooks/{stem}.ipynb)" + (f" · {link}" if link else "")
        out.append(f"| {shown} | {nb.story} | about {nb.cpu_minutes} min | {verified} |")
    out += [
        "",
        "Every page shows the notebook as committed: its outputs come from one real run, whose "
        "profile, device, date and torch version are in the *Last verified* box under the "
        "notebook's title. The site never runs a notebook. Measured accuracies and run times of "
        "every profile are on the [reference results](reference-results.md) page.",
        "",
    ]
    for name in README_SECTIONS:
        out += [f"## {name}", "", sections[name], ""]
    return "\n".join(out)


def generate(src_dir: Path) -> list[str]:
    """Write every page MkDocs reads into src_dir (emptied first); return the notebook stems."""
    if src_dir.exists():
        shutil.rmtree(src_dir)
    (src_dir / "notebooks").mkdir(parents=True)
    repo = colab.repository(ROOT)
    pages = []
    for path in notebooks():
        nb = page_notebook(path, src_dir / "notebooks" / path.name, repo)
        pages.append((path.stem, title_of(nb, path.stem)))
    if not pages:
        raise SystemExit(f"build_site: no notebooks in {NOTEBOOKS}")
    (src_dir / "index.md").write_text(landing_page(pages, repo), encoding="utf-8")
    shutil.copyfile(REFERENCE, src_dir / "reference-results.md")
    return [stem for stem, _ in pages]


def build(src_dir: Path = DEFAULT_SRC, site_dir: Path = DEFAULT_SITE) -> list[str]:
    """Generate the sources and build them with MkDocs (strict: a warning, such as a broken link,
    fails the build); return the notebook stems."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # mkdocs-material's banner about its successor
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    stems = generate(src_dir)
    nav = [
        {"Home": "index.md"},
        {"Notebooks": [f"notebooks/{stem}.ipynb" for stem in stems]},
        {"Measured results": "reference-results.md"},
    ]
    config = load_config(str(ROOT / "mkdocs.yml"), docs_dir=str(src_dir), site_dir=str(site_dir), nav=nav, strict=True)
    config.plugins.on_startup(command="build", dirty=False)  # as `mkdocs build` does
    try:
        mkdocs_build(config)
    finally:
        config.plugins.on_shutdown()
    for stem in stems:  # the committed notebooks, for the download links (the pages' copies differ)
        shutil.copyfile(NOTEBOOKS / f"{stem}.ipynb", site_dir / "notebooks" / f"{stem}.ipynb")
    return stems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src-dir", type=Path, default=DEFAULT_SRC, help="generated pages (default: %(default)s)")
    parser.add_argument("--site-dir", type=Path, default=DEFAULT_SITE, help="the HTML site (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="print warnings and errors only")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(levelname)-7s -  %(message)s", level=logging.WARNING if args.quiet else logging.INFO)
    # nbconvert warns about every figure without alternative text (matplotlib outputs have none)
    # and gives it a generic one; that is expected here.
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    from mkdocs.exceptions import MkDocsException

    t0 = time.perf_counter()
    try:
        stems = build(args.src_dir.resolve(), args.site_dir.resolve())
    except MkDocsException as error:
        print(f"build_site: {error}", file=sys.stderr)
        return 1
    shown = args.site_dir.resolve()
    try:
        shown = shown.relative_to(Path.cwd())
    except ValueError:
        pass
    print(f"site: {len(stems)} notebooks in {shown}/ ({time.perf_counter() - t0:.1f} s); open {shown}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
