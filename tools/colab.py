"""The course's public repository, and what follows from it in the notebooks and on the site.

One setting: ``Repository`` under ``[project.urls]`` in ``pyproject.toml``, a GitHub URL
(``https://github.com/<owner>/<repo>``); the branch is ``main``. When it is set,

- every notebook's first code cell (``bootstrap_cell``) gains a branch that runs in Colab only
  (``"google.colab" in sys.modules``) and pip-installs the course from that repository, with the
  ``kaggle`` extra that notebook 05's data need;
- every notebook's title cell, and the site's landing page, get an "Open in Colab" link to that
  notebook on ``main``.

When it is unset, neither appears and the first cell is the one every notebook has always had.
``tools/set_bootstrap.py`` writes both into the notebooks; ``tools/build_site.py`` reads the same
setting. The template is ``tools/bootstrap_cell.ipy``: lines starting with ``#|`` belong to the
template only; ``#|colab `` lines are kept, without that prefix, only when the URL is set, with
``{repository}`` and ``{branch}`` filled in.
"""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "tools" / "bootstrap_cell.ipy"
BRANCH = "main"
COLAB_PREFIX = "#|colab "
GITHUB = re.compile(r"https://github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?")
# The link as title_cell writes it, right under the title, so that it can be replaced or removed.
TITLE_LINK = re.compile(r"^(# [^\n]*)\n\n\[Open in Colab\]\(https://colab\.research\.google\.com/github/[^)\s]*\)")


def repository(root: Path = ROOT) -> str | None:
    """``[project.urls] Repository`` of ``root/pyproject.toml`` as ``https://github.com/<owner>/<repo>``,
    or None while it is unset. Anything but a GitHub repository URL is an error: Colab opens
    notebooks from GitHub, and pip installs from ``git+https``."""
    meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    url = meta.get("urls", {}).get("Repository")
    if url is None:
        return None
    match = GITHUB.fullmatch(url.strip())
    if match is None:
        raise SystemExit(
            f"pyproject.toml: [project.urls] Repository = {url!r} is not https://github.com/<owner>/<repo> "
            "(README: Run in Colab)"
        )
    return f"https://github.com/{match[1]}/{match[2]}"


def bootstrap_cell(repo: str | None, template: Path = TEMPLATE) -> str:
    """The first code cell of every notebook for this repository setting."""
    lines = []
    for line in template.read_text(encoding="utf-8").strip().splitlines():
        if line.startswith(COLAB_PREFIX):
            if repo is not None:
                lines.append(line[len(COLAB_PREFIX) :].replace("{repository}", repo).replace("{branch}", BRANCH))
        elif not line.startswith("#|"):
            lines.append(line)
    return "\n".join(lines).strip()


def colab_url(repo: str, notebook: str) -> str:
    """Colab's address of ``notebooks/<notebook>`` on the course's branch."""
    owner_repo = repo.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/notebooks/{notebook}"


def colab_link(repo: str | None, notebook: str) -> str | None:
    """The markdown link to a notebook in Colab, or None while the repository is unset."""
    return None if repo is None else f"[Open in Colab]({colab_url(repo, notebook)})"


def title_cell(source: str, link: str | None) -> str:
    """A title cell's markdown with ``link`` on its own paragraph under the ``# `` heading; any
    link written before (another URL) is replaced, and removed when ``link`` is None."""
    source = TITLE_LINK.sub(r"\1", source, count=1)
    if link is None:
        return source
    heading, newline, rest = source.partition("\n")
    if not heading.startswith("# "):
        raise ValueError(f"a title cell starts with a '# ' heading, not {heading[:60]!r}")
    return f"{heading}\n\n{link}{newline}{rest}"
