"""Finding a code cell in the course's notebooks, through the catalogue (for the tests of what a
notebook writes by hand)."""

import nbformat

from course_utils.catalogue import CATALOGUE


def course_cell(marker: str) -> tuple[str, str]:
    """(notebook file, source) of the one code cell of the catalogue's notebooks that starts with ``marker``."""
    cells = [
        (nb.file, cell.source)
        for nb in CATALOGUE
        for cell in nbformat.read(nb.path, as_version=4).cells
        if cell.cell_type == "code" and cell.source.startswith(marker)
    ]
    assert len(cells) == 1, f"exactly one code cell of the course's notebooks must start with {marker!r}: {cells}"
    return cells[0]
