"""Jupyter notebooks: the code cells as one Python source, and the way back to cells.

Each code cell is read on its own, as IPython's input transformer reads it
(`IPython.core.inputtransformer2`, which actlint never imports): the common leading indent is
removed; at the start of a logical line (never inside brackets, strings or after a backslash)
`%magic`, `!shell`, `?obj` and the other escapes, `x = %magic` / `x = !cmd` assignments and
`obj?` help are masked to `pass` with the same indentation, or to a comment; a `%%cell` magic
keeps its body only when that body is Python (`%%time`, `%%capture`...); a one-line cell that is a
default magic called without its `%` (automagic: `pip install torch`, `cd data`) is masked. A cell
that still does not compile is one IPython rejects too: it is masked whole and reported once.

The cells are concatenated in order, one line of source per line of cell, so rows are unchanged
and the mapping inverts exactly: `CellMap.locate(row)` gives (cell, row in cell), `CellMap.row(cell,
row_in_cell)` gives it back; a cell's removed indent is added back to columns (`CellMap.column`).
Cells are numbered from 1 in notebook order, markdown cells included, as a user counts them.

`write_back` puts fixed source back into the cells it came from, changing nothing else: the
notebook is re-serialized only in a JSON layout that reproduces the original bytes exactly.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from dataclasses import dataclass, replace
from typing import Optional

# Cell magics whose body IPython runs as Python (the first line alone is masked); any other cell
# magic's body is another language or data (%%bash, %%writefile, %%html, %%script python...).
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "memit", "mprun"}
MAX_CELL_MAGICS = 20  # `%%time` cells nested deeper are left out (no recursion without bound)
# IPython's line magics (and posix aliases) that run without their `%` (automagic, on by default).
AUTOMAGICS = frozenset("""
    alias alias_magic autoawait autocall automagic bookmark cat cd colors conda config cp debug dhist
    dirs doctest_mode ed edit env gui hist history killbgscripts ldir less lf lk ll load load_ext loadpy
    logoff logon logstart logstate logstop ls lsmagic lx macro magic mamba man matplotlib micromamba
    mkdir more mv notebook page pastebin pdb pdef pdoc pfile pinfo pinfo2 pip popd pprint precision
    prun psearch psource pushd pwd pycat pylab quickref recall rehashx reload_ext rep rerun reset
    reset_selective rm rmdir run save sc set_env sx system tb time timeit unalias unload_ext uv who
    who_ls whos xdel xmode clear autosave connect_info qtconsole
""".split())
# The escapes IPython reads at the start of a logical line.
ESCAPES = set("!%?,;/")
# `name = %magic ...` or `name = !cmd` (`a, b = ...`, `x[0] = ...`, `x: list = ...`).
ASSIGNED = re.compile(r"[ \t]*[\w.,:\[\] ()*]+?=[ \t]*(?:%(?!\d)\w|!(?!=))")
# IPython's help-at-end pattern (`obj.attr?`, `%magic??`), searched in the logical line.
HELP_END = re.compile(r"(%{0,2}(?!\d)[\w*]+(\.(?!\d)[\w*]+|\[-?[0-9]+\])*)(\?\??)$")
# Prompts pasted from a console, which IPython removes: Python's and IPython's own.
PS1, PS2 = re.compile(r"^\s*>>>[ \t]?"), re.compile(r"^\s*\.\.\.[ \t]?")
PROMPT = re.compile(r"^(?:(?:(?:\[nav\]|\[ins\])? )?In \[\d+\]: |\s*\.{3,}: ?)")
TRIPLE, STRING_PREFIX = re.compile(r"(?<!\\)(\"\"\"|\'\'\')"), re.compile(r"(?i)^[rubf]*$")
AUTOMAGIC = re.compile(r"[ \t]*([\w*.]+\w*)[ \t]*(.*)$")
_BORING = re.compile(r"[^'\"#()\[\]{}\\]*")
_STRING_START = re.compile(r"'''|\"\"\"|'|\"")
_STRING_END = {quote: re.compile(r"(?:\\.|[^\\])*?" + re.escape(quote), re.S) for quote in ("'''", '"""', "'", '"')}


class NotebookError(ValueError):
    """The file is not a notebook actlint can read."""


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based position in the notebook
    first_row: int  # its first row in the concatenated source
    lines: tuple  # its source lines, unmasked, without line endings
    margins: tuple = ()  # each line's removed indent
    error: Optional[tuple] = None  # (row in cell, column in code, message): a cell IPython rejects


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

    def shift(self, number: int, row_in_cell: int) -> int:
        """Columns a cell's line moved left when its common indent was removed."""
        cell = next((c for c in self.cells if c.number == number), None)
        margins = cell.margins if cell else ()
        return len(margins[row_in_cell - 1]) if 0 < row_in_cell <= len(margins) else 0

    def lines(self) -> dict:
        """{cell number: source lines}, for showing findings."""
        return {cell.number: list(cell.lines) for cell in self.cells}

    def text(self) -> str:
        """The code cells as written, one after the other."""
        return "".join(line + "\n" for cell in self.cells for line in cell.lines)

    def rejected(self):
        """(row in the concatenated source, column, message) of each cell IPython would reject."""
        return [(cell.first_row + row - 1, column, message)
                for cell in self.cells if cell.error for row, column, message in [cell.error]]


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
        code, margins, error = read_cell(lines)
        code_cells.append(Cell(number, len(source_lines) + 1, tuple(lines), tuple(margins), error))
        source_lines.extend(code)
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


# -- one cell as IPython reads it --------------------------------------------------------------


def read_cell(lines: list):
    """(code lines, removed indents, error) of a cell: its lines as linted (as many as it has), and
    (row, column, message) when IPython would reject it (its code is then all comments)."""
    statements, margins = transform(lines)
    error = _rejection(statements)
    code = _quiet(statements, [line[len(margin):] for line, margin in zip(lines, margins)])
    if error is None:
        return code, margins, None
    if _automagic(code):
        return [_comment(line) for line in code], margins, None
    row = min(max(error.lineno or 1, 1), len(code))
    column = min(max(error.offset or 1, 1), len(code[row - 1]) + 1)
    return [_comment(line) for line in code], margins, (row, column, f"syntax error: {error.msg}")


def transform(lines: list, depth: int = 0):
    """(code lines, removed prefixes): the common indent and pasted prompts removed, then a cell
    magic or the IPython escapes masked as statements."""
    code = _ipython_prompts(_doctest_prompts(_dedented(lines)))
    margins = [line[: len(line) - len(new)] if new else "" for line, new in zip(lines, code)]
    first = next((i for i, line in enumerate(code) if line.strip()), len(code))
    if first < len(code) and code[first].startswith("%%"):
        name = code[first][2:].rstrip().partition(" ")[0]
        if name in PYTHON_CELL_MAGICS and depth < MAX_CELL_MAGICS:  # the magic reads its body as a cell
            body, body_margins = transform(code[first + 1:], depth + 1)
            inner = [m + n for m, n in zip(margins[first + 1:], body_margins)]
            return code[:first] + [_comment(code[first])] + body, margins[:first + 1] + inner
        return code[:first] + [_comment(line) for line in code[first:]], margins
    return _statements(code), margins


def _dedented(lines: list) -> list:
    """The lines without their common indent, whitespace-only lines emptied (`textwrap.dedent`)."""
    margin = _margin(lines)
    return ["" if not line.strip(" \t") else line[len(margin):] for line in lines]


def _doctest_prompts(lines: list) -> list:
    """`>>> ` and `... ` prompts removed (then the common indent of the lines around them) when a
    line outside a triple-quoted string starts with `>>>`; a docstring's doctests stay as they are."""
    kept = _quoted(lines)
    if not any(PS1.match(line) and not inside for line, inside in zip(lines, kept)):
        return lines
    bare = [line if inside else (PS1 if PS1.match(line) else PS2).sub("", line, count=1)
            for line, inside in zip(lines, kept)]
    result = []
    for inside, rows in itertools.groupby(range(len(lines)), key=kept.__getitem__):
        run = [(bare[row], bare[row] != lines[row]) for row in rows]
        changed = any(stripped for _, stripped in run)
        result += _dedented([line for line, _ in run]) if changed and not inside else [line for line, _ in run]
    return result


def _quoted(lines: list) -> list:
    """Whether each line is inside a triple-quoted string whose text IPython leaves alone (its
    heuristic: the string opens after no prompt, or after a prompt before any `>>>` line)."""
    kept, quote, keep, seen = [], None, False, False
    for line in lines:
        kept.append(quote is not None and keep)
        for match in TRIPLE.finditer(line):
            if quote is None:
                quote, before = match.group(1), line[: match.start()]
                bare = PS2.sub("", PS1.sub("", before, count=1), count=1)
                keep = not (bare != before and seen) and bool(STRING_PREFIX.match(bare.strip()))
                kept[-1] = keep
            elif quote == match.group(1):
                quote, keep = None, False
        seen = seen or bool(PS1.match(line))
    return kept


def _ipython_prompts(lines: list) -> list:
    """`In [3]: ` and `   ...: ` prompts removed when one of the first two lines has one."""
    first = next((i for i, line in enumerate(lines) if line), len(lines))
    if any(PROMPT.match(line) for line in lines[first:first + 2]):
        return lines[:first] + [PROMPT.sub("", line, count=1) for line in lines[first:]]
    return lines


def _margin(lines: list) -> str:
    indents = [line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line.strip(" \t")]
    if not indents:
        return ""
    low, high = min(indents), max(indents)
    size = next((i for i, (a, b) in enumerate(zip(low, high)) if a != b), len(low))
    return low[:size]


def mask_lines(lines: list) -> list:
    """IPython lines hidden: as a comment, or as `pass` where a statement may be needed (an indented
    magic can be a block's only statement). Comments keep a leading magic out of the way of the
    import block, so a fix's new import merges into the cell's imports. Only a logical line's start
    is read for escapes: a `% (a, b)` or `!= b` continuing a bracket is Python."""
    return _quiet(_statements(lines), lines)


def _statements(lines: list, depth: int = 0) -> list:
    """The lines with each IPython line a statement, as IPython's transformer makes it (`pass` in
    place of its call, any line it continues on a comment): what CPython is asked to compile."""
    if lines and lines[0].lstrip().startswith("%%"):
        words = lines[0].lstrip()[2:].split()
        keeps_python = bool(words) and words[0] in PYTHON_CELL_MAGICS and depth < MAX_CELL_MAGICS
        rest = _statements(lines[1:], depth + 1) if keeps_python else [_comment(line) for line in lines[1:]]
        return [_comment(lines[0])] + rest
    masked, start = list(lines), 0
    while start < len(lines):
        if _escaped(lines, start):
            end = _continued(lines, start)
        else:
            end, last = _logical_end(lines, start)
            if last != "?" or not HELP_END.search("\n".join(lines[start:end + 1]).lstrip(" \t") + "\n"):
                start = end + 1
                continue
        masked[start:end + 1] = [_indent(lines[start]) + "pass"] + [_comment(line) for line in lines[start + 1:end + 1]]
        start = end + 1
    return masked


def _quiet(statements: list, lines: list) -> list:
    """An unindented IPython line as a comment rather than `pass`: nothing needs a statement there."""
    return ["#" if code == "pass" and line != "pass" else code for code, line in zip(statements, lines)]


def _escaped(lines: list, start: int) -> bool:
    """An IPython escape or `name = %magic` / `name = !cmd` starts this logical line."""
    text = lines[start].lstrip(" \t")
    if text[:1] in ESCAPES and not text.startswith(("!=", "%=", "/=", "//")):
        return True
    end = _continued(lines, start)
    return bool(ASSIGNED.match(" ".join([line[:-1] for line in lines[start:end]] + [lines[end]])))


def _continued(lines: list, start: int) -> int:
    """The last line of an escape continued with backslashes (its content is not Python)."""
    end = start
    while end + 1 < len(lines) and lines[end].endswith("\\"):
        end += 1
    return end


def _logical_end(lines: list, start: int):
    """(last line, last significant character) of the logical line starting at `start`."""
    depth, quote, end = 0, None, start
    while True:
        depth, quote, continued, last = _scan(lines[end], depth, quote)
        if end + 1 >= len(lines) or not (depth or quote or continued):
            return end, last
        end += 1


def _scan(line: str, depth: int, quote):
    """(depth, open string, backslash-continued, last significant character) after one line read
    from the given bracket depth, inside the string `quote` opened on an earlier line, if any."""
    position, last = 0, ""
    while position < len(line):
        if quote:
            match = _STRING_END[quote].match(line, position)
            if not match:
                kept = len(quote) == 3 or (len(line) - len(line.rstrip("\\"))) % 2 == 1
                return depth, quote if kept else None, False, quote
            position, quote, last = match.end(), None, "'"
            continue
        run = _BORING.match(line, position)
        if run.group().strip():
            last = run.group().rstrip()[-1]
        position = run.end()
        if position >= len(line):
            break
        char = line[position]
        if char == "#":
            return depth, None, False, "#"
        if char in "'\"":
            quote = _STRING_START.match(line, position).group()
            position += len(quote)
            continue
        if char == "\\":
            if position == len(line) - 1:
                return depth, None, True, last
        else:
            depth, last = (depth + 1 if char in "([{" else max(depth - 1, 0)), char
        position += 1
    return depth, quote, False, last


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _comment(line: str) -> str:
    return _indent(line) + "#"


def _rejection(code: list):
    """CPython's SyntaxError for the cell as IPython compiles it (top-level `await` allowed), or None."""
    import ast
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile("".join(line + "\n" for line in code), "<cell>", "exec",
                    flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
        except SyntaxError as error:
            return error
        except (ValueError, RecursionError, MemoryError, OverflowError):  # NUL bytes, too deep: the engine says
            return None
    return None


def _automagic(code: list) -> bool:
    """A one-line cell calling a default magic without its `%` (`pip install x`, `cd data`): IPython
    resolves it at run time (unless a variable shadows the name), in a cell of one line only."""
    lines = code[next((i for i, line in enumerate(code) if line.strip()), 0):]
    match = AUTOMAGIC.match(lines[0]) if len(lines) == 1 else None
    return bool(match) and match.group(1) in AUTOMAGICS and match.group(2)[:1] not in ("=", ",")


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
            end_row = end["row"] - start["row"] + row
            edit = {**edit, "cell": cell, "location": {**start, "row": row, "column": start["column"] + cells.shift(cell, row)},
                    "end_location": {**end, "row": end_row, "column": end["column"] + cells.shift(cell, end_row)}}
        edits.append(edit)
    return {**fix, "edits": edits}


def _moved(position, cells):
    if cells is None or position.cell is not None:
        return position
    cell, row = cells.locate(position.row)
    return replace(position, row=row, column=position.column + cells.shift(cell, row), cell=cell)


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
    margins = [margin for cell in cells.cells for margin in cell.margins]
    unmasked = ["" if not line.strip(" \t") else line[len(margin):] for line, margin in zip(original, margins)]
    rebuilt = {cell.number: [] for cell in cells.cells}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            for i in range(i1, i2):
                rebuilt[owner[i].number].append(original[i])
            continue
        if any(old[i] != unmasked[i] for i in range(i1, i2)):
            raise NotebookError("a fix would change an IPython magic or shell line")
        touched = {owner[i].number for i in range(i1, i2)} or {owner[max(i1 - 1, 0)].number}
        if len(touched) > 1:
            raise NotebookError("a fix would span two cells")
        number = touched.pop()
        margin = max(next(c for c in cells.cells if c.number == number).margins, key=len, default="")  # put back
        rebuilt[number].extend(margin + line if line.strip() else line for line in new[j1:j2])
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
