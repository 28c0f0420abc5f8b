"""Jupyter notebooks: the code cells as one Python source, and the way back to cells.

The code cells are concatenated in order, one line of source per line of cell. IPython syntax
(`%magic`, `!shell`, `x = !cmd`, `obj?`, `%%cell` magics) is masked to `pass` with the same
indentation, so rows and the other lines' columns are unchanged and the mapping inverts exactly:
`CellMap.locate(row)` gives (cell, row in cell), `CellMap.row(cell, row_in_cell)` gives it back.
Cells are numbered from 1 in notebook order, markdown cells included, as a user counts them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

# IPython escapes at the start of a (possibly indented) line, an assignment from one, or help (`obj?`).
MAGIC = re.compile(r"^\s*(?:[%!?]|\w[\w.]*\s*=\s*[%!])|^\s*[\w.\[\]()]+\?\??\s*$")
# Cell magics whose body is still Python (the first line alone is masked).
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}


class NotebookError(ValueError):
    """The file is not a notebook actlint can read."""


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based position in the notebook
    first_row: int  # its first row in the concatenated source
    lines: tuple  # its source lines, unmasked, without line endings


@dataclass(frozen=True)
class CellMap:
    cells: tuple  # the code cells, in order

    def locate(self, row: int):
        """(cell number, row in cell) of a row of the concatenated source."""
        for cell in reversed(self.cells):
            if row >= cell.first_row:
                return cell.number, row - cell.first_row + 1
        return (self.cells[0].number if self.cells else 1), row

    def row(self, number: int, row_in_cell: int) -> int:
        """The inverse of locate."""
        cell = next(c for c in self.cells if c.number == number)
        return cell.first_row + row_in_cell - 1

    def lines(self) -> dict:
        """{cell number: source lines}, for showing findings."""
        return {cell.number: list(cell.lines) for cell in self.cells}


def read(data: bytes):
    """(Python source, CellMap) of a notebook's bytes; raise NotebookError when it is not one."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise NotebookError(f"not a notebook: the file is not valid JSON ({error})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("not a notebook: it has no list of cells (nbformat 4 is required)")
    if not _is_python(notebook.get("metadata")):
        return "", CellMap(())
    return _concatenate(cells)


def _is_python(metadata) -> bool:
    """False for notebooks whose kernel is declared to be another language (R, Julia, ...)."""
    if not isinstance(metadata, dict):
        return True
    info, kernel = metadata.get("language_info"), metadata.get("kernelspec")
    language = (info or {}).get("name") if isinstance(info, dict) else None
    language = language or ((kernel or {}).get("language") if isinstance(kernel, dict) else None)
    return not isinstance(language, str) or language.lower() in ("python", "python3", "ipython", "")


def _concatenate(cells: list):
    source_lines, code_cells = [], []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        lines = split_lines(_cell_text(cell, number))
        code_cells.append(Cell(number, len(source_lines) + 1, tuple(lines)))
        source_lines.extend(_masked(lines))
    return "".join(line + "\n" for line in source_lines), CellMap(tuple(code_cells))


def split_lines(text: str) -> list:
    """Lines as Python counts them (only \\n, \\r\\n and \\r end a line)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def _cell_text(cell: dict, number: int) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise NotebookError(f"not a notebook: cell {number} has a source that is not text")


def _masked(lines: list) -> list:
    if lines and lines[0].lstrip().startswith("%%"):
        words = lines[0].lstrip()[2:].split()
        keeps_python = bool(words) and words[0] in PYTHON_CELL_MAGICS
        return ["pass"] + (_masked(lines[1:]) if keeps_python else ["pass"] * (len(lines) - 1))
    masked, continued = [], False
    for line in lines:
        hidden = continued or bool(MAGIC.match(line))
        masked.append(_pass_like(line) if hidden else line)
        continued = hidden and line.rstrip().endswith("\\")
    return masked


def _pass_like(line: str) -> str:
    return line[: len(line) - len(line.lstrip())] + "pass"


def locate(result, notebooks: dict):
    """A result with every position that falls in a notebook ({filename: CellMap}) moved into its cell."""
    own = notebooks.get(result.filename)
    return replace(
        result,
        location=_moved(result.location, own),
        end_location=_moved(result.end_location, own),
        related=tuple(replace(rel, location=_moved(rel.location, notebooks.get(rel.filename))) for rel in result.related),
    )


def _moved(position, cells):
    if cells is None or position.cell is not None:
        return position
    cell, row = cells.locate(position.row)
    return replace(position, row=row, cell=cell)
