"""Write the repository setting into every notebook (tests check they agree): the first code cell
from tools/bootstrap_cell.ipy, and the "Open in Colab" link under the title, both for pyproject.toml's
``[project.urls] Repository`` (tools/colab.py; unset: no Colab install, no link).

Only those two cells' sources change. Outputs and every other cell stay as they are, so the
notebooks need no re-execution: run this after changing the template or the URL, and commit.
"""

from pathlib import Path

import nbformat
from colab import bootstrap_cell, colab_link, repository, title_cell

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    repo = repository(ROOT)
    cell = bootstrap_cell(repo)
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        title = next(c for c in nb.cells if c.cell_type == "markdown")
        new_title = title_cell(title.source, colab_link(repo, path.name))
        if first_code.source != cell or title.source != new_title:
            first_code.source, title.source = cell, new_title
            nbformat.write(nb, path)
            print("updated", path.name)
    print(f"repository: {repo or 'not set (no Colab install, no Colab link)'}")


if __name__ == "__main__":
    main()
