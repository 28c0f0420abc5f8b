"""Jupyter notebooks: the code cells as one Python source, and the way back to cells.

The code cells are concatenated in order, one line of source per line of cell. IPython syntax
(`%magic`, `!shell`, `x = !cmd`, `obj?`, `%%cell` magics) is masked to `pass` with the same
indentation, so rows and the other lines' columns are unchanged and the mapping inverts exactly:
`CellMap.locate(row)` gives (cell, row in cell), `CellMap.row(cell, row_in_cell)` gives it back.
Cells are numbered from 1 in notebook order, markdown cells included, as a user counts them.

`write_back` puts fixed source back into the cells it came from, changing nothing else: the
notebook is re-serialized only in a JSON layout that reproduces the original bytes exactly.
"""

from __future__ import annotations

import functools
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
        source_lines.extend(mask_lines(lines))
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


def mask_lines(lines: list) -> list:
    """IPython lines hidden: as a comment, or as `pass` where a statement may be needed (an indented
    magic can be a block's only statement). Comments keep a leading magic out of the way of the
    import block, so a fix's new import merges into the cell's imports."""
    if lines and lines[0].lstrip().startswith("%%"):
        words = lines[0].lstrip()[2:].split()
        keeps_python = bool(words) and words[0] in PYTHON_CELL_MAGICS
        return [_comment(lines[0])] + (mask_lines(lines[1:]) if keeps_python else [_comment(line) for line in lines[1:]])
    masked, continued = [], False
    for line in lines:
        hidden = continued or bool(MAGIC.match(line))
        masked.append((_comment(line) if continued or not _indent(line) else _indent(line) + "pass") if hidden else line)
        continued = hidden and line.rstrip().endswith("\\")
    return masked


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _comment(line: str) -> str:
    return _indent(line) + "#"


def locate(result, notebooks: dict):
    """A result with every position that falls in a notebook ({filename: CellMap}) moved into its cell."""
    own = notebooks.get(result.filename)
    return replace(
        result,
        location=_moved(result.location, own),
        end_location=_moved(result.end_location, own),
        related=tuple(replace(rel, location=_moved(rel.location, notebooks.get(rel.filename))) for rel in result.related),
        fix=_fix_moved(result.fix, result.filename, notebooks),
    )


def _fix_moved(fix, filename: str, notebooks: dict):
    """A fix's edits in a notebook located by cell: {"cell": n, "location": row in that cell, ...}."""
    if not fix or not any(edit.get("filename", filename) in notebooks for edit in fix["edits"]):
        return fix
    edits = []
    for edit in fix["edits"]:
        cells = notebooks.get(edit.get("filename", filename))
        if cells is not None and "cell" not in edit:
            start, end = edit["location"], edit["end_location"]
            cell, row = cells.locate(start["row"])
            shift = start["row"] - row
            edit = {**edit, "cell": cell, "location": {**start, "row": row}, "end_location": {**end, "row": end["row"] - shift}}
        edits.append(edit)
    return {**fix, "edits": edits}


def _moved(position, cells):
    if cells is None or position.cell is not None:
        return position
    cell, row = cells.locate(position.row)
    return replace(position, row=row, cell=cell)


# -- back into cells (--fix) -----------------------------------------------------------------


def write_back(data: bytes, new_source: str) -> bytes:
    """The notebook's bytes with its code cells holding `new_source` (the fixed concatenation).

    Lines are matched between the old and the new source; a changed run of lines goes back to
    the one cell it came from (inserted lines join the cell of the line above them). Raise
    NotebookError when a change would straddle two cells or touch a masked IPython line, or
    when the notebook's JSON layout cannot be reproduced byte for byte."""
    import difflib  # only when fixes are written back

    text = data.decode("utf-8")
    notebook = json.loads(text)
    dump = _layout(text, notebook)
    old_source, cells = _concatenate(notebook["cells"])
    old, new = split_lines(old_source), split_lines(new_source)
    owner = [cell for cell in cells.cells for _ in cell.lines]
    original = [line for cell in cells.cells for line in cell.lines]
    rebuilt = {cell.number: [] for cell in cells.cells}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            for i in range(i1, i2):
                rebuilt[owner[i].number].append(original[i])
            continue
        if any(old[i] != original[i] for i in range(i1, i2)):
            raise NotebookError("a fix would change an IPython magic or shell line")
        touched = {owner[i].number for i in range(i1, i2)} or {owner[max(i1 - 1, 0)].number}
        if len(touched) > 1:
            raise NotebookError("a fix would span two cells")
        rebuilt[touched.pop()].extend(new[j1:j2])
    for cell in cells.cells:
        if tuple(rebuilt[cell.number]) != cell.lines:
            raw = notebook["cells"][cell.number - 1]
            raw["source"] = _cell_source(raw["source"], rebuilt[cell.number])
    return dump(notebook).encode("utf-8")


def _cell_source(old, lines: list):
    """A cell's new source, in the shape of its old one (a list of lines or one string)."""
    old_text = "".join(old) if isinstance(old, list) else old
    ending = "\r\n" if "\r\n" in old_text else "\n"
    text = ending.join(lines) + (ending if old_text.endswith(("\n", "\r")) else "")
    return re.findall(r"[^\n]*\n|[^\n]+$", text) if isinstance(old, list) else text


def _layout(text: str, notebook):
    """A serializer that reproduces `text` exactly from `notebook`, or NotebookError."""
    for indent in (1, 2, 4, None, "\t"):
        for separators in ((",", ": "), (", ", ": "), (",", ":")):
            for ensure_ascii in (False, True):
                dump = functools.partial(json.dumps, indent=indent, separators=separators, ensure_ascii=ensure_ascii)
                body = dump(notebook)
                if text in (body, body + "\n"):
                    end = text[len(body):]
                    return lambda changed: dump(changed) + end
    raise NotebookError("its JSON layout is not one actlint can write back without changing other bytes")


def changed_cells(before: bytes, after: bytes) -> list:
    """(cell number, old source, new source) of each cell whose source differs, for diffs."""
    old, new = (json.loads(data.decode("utf-8"))["cells"] for data in (before, after))
    texts = [(number, _cell_text(a, number), _cell_text(b, number)) for number, (a, b) in enumerate(zip(old, new), start=1)]
    return [(number, a, b) for number, a, b in texts if a != b]
