"""IPython's own verdict on a notebook cell, beside actlint's (a test-only oracle: IPython is never
imported by actlint itself).

As a script, compares the two over every code cell of the notebooks under the given folders and
prints each cell where they differ (`python tests/notebook_oracle.py /work/corpus`); the notebook
oracle tests run the same comparison on self-written cells."""

from __future__ import annotations

import ast
import json
import re
import sys
import warnings
from pathlib import Path

from actlint import notebooks

# Magics a Jupyter kernel (ipykernel) adds to IPython's own: automagic works for them too.
KERNEL_MAGICS = {"autosave", "clear", "connect_info", "less", "man", "more", "qtconsole"}


def _shell():
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def line_magics() -> set:
    return set(_shell().magics_manager.magics["line"]) | KERNEL_MAGICS


def ipython_accepts(cell: str) -> bool:
    """Whether IPython's input transformer turns the cell into code CPython compiles (top-level
    `await` allowed, as IPython's autoawait does). A cell magic whose body IPython runs as Python
    (`%%time`) is judged by its body, as the magic itself transforms and compiles it."""
    from IPython.core.inputtransformer2 import TransformerManager

    manager = TransformerManager()
    try:
        cleaned = "".join(_cleaned(cell))
        if cleaned.startswith("%%"):
            name, _, _ = cleaned[2:].partition("\n")[0].rstrip().partition(" ")
            if name in notebooks.PYTHON_CELL_MAGICS:
                return ipython_accepts(cleaned.partition("\n")[2])
        code = manager.transform_cell(cell)
    except Exception:  # IPython's transformer itself gave up
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(code, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
        except (SyntaxError, ValueError):
            return False
    return True


def _cleaned(cell: str) -> list:
    from IPython.core.inputtransformer2 import leading_empty_lines, leading_indent

    text = cell if cell.endswith("\n") else cell + "\n"
    return leading_indent(leading_empty_lines(text.splitlines(keepends=True)))


def is_automagic(cell: str, magics: set) -> bool:
    """A one-line cell that IPython's prefilter would run as a magic (IPython resolves it at run
    time, so its transformer + compile alone reject it)."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(cell)
    if len(code.splitlines()) != 1:
        return False
    match = re.match(r"\s*([\w*.]+\w*)\s*(.*)$", code)
    return bool(match) and match.group(1) in magics and match.group(2)[:1] not in ("=", ",")


def actlint_accepts(cell: str) -> bool:
    _, _, error = notebooks.read_cell(notebooks.split_lines(cell))
    return error is None


def disagreements(cells, magics: set):
    """(cell source, IPython's verdict, actlint's) where they differ, automagics aside."""
    for cell in cells:
        ours, theirs = actlint_accepts(cell), ipython_accepts(cell)
        if ours != theirs and not (ours and is_automagic(cell, magics)):
            yield cell, theirs, ours


def notebook_cells(path: Path):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cells = data["cells"]
        if not notebooks._is_python(data.get("metadata")):
            return []
        return [notebooks._cell_text(c, i) for i, c in enumerate(cells, 1) if isinstance(c, dict) and c.get("cell_type") == "code"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, notebooks.NotebookError):
        return []


def main(folders) -> int:
    magics, checked, differ = line_magics(), 0, 0
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            cells = notebook_cells(path)
            checked += len(cells)
            for cell, theirs, ours in disagreements(cells, magics):
                differ += 1
                print(f"{path}: IPython {'accepts' if theirs else 'rejects'}, actlint {'accepts' if ours else 'rejects'}:")
                print("    " + "\n    ".join(cell.splitlines()[:12]))
    print(f"{checked} code cells, {differ} verdicts differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
