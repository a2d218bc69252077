"""Write tools/bootstrap_cell.ipy into the first code cell of every notebook (tests check they agree)."""

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CELL = (ROOT / "tools" / "bootstrap_cell.ipy").read_text().strip()

for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    if first.source != CELL:
        first.source = CELL
        nbformat.write(nb, path)
        print("updated", path.name)
