"""Applying fixes: one libcst transformer per file, re-lint until stable, atomic writes.

A pass lints every file (with the fixed text of earlier passes in place of the files'),
takes the fixes wanted, drops any that overlap one already taken (the next pass sees them
again, on the new text), and replaces their nodes by identity. A file whose new text does
not parse is left as it was and reported. Nothing is written until the passes are over.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Optional

import libcst as cst

MAX_PASSES = 4


@dataclass
class Outcome:
    run: object  # runner.Run: the last lint, what remains
    before: dict = field(default_factory=dict)  # real path -> bytes before any fix, for changed files
    after: dict = field(default_factory=dict)  # real path -> bytes after the fixes
    names: dict = field(default_factory=dict)  # real path -> the name to show
    applied: int = 0  # fixes applied
    broken: dict = field(default_factory=dict)  # real path -> why its fixes were not applied

    @property
    def changed(self) -> list:
        return [path for path in self.before if self.after[path] != self.before[path]]


def fix_until_stable(lint: Callable, unsafe: bool, start: Optional[dict] = None) -> Outcome:
    """Lint with `lint(overlay)` and fix, at most MAX_PASSES times, until nothing more is fixable.
    The fixes are applied with a fixed depth budget (actlint.depth), as the files are analyzed.
    `start` ({real path: bytes}, an editor's unsaved buffers) stands in for the files' content."""
    outcome = Outcome(None, after=dict(start or {}))
    for _ in range(MAX_PASSES):
        outcome.run = lint(outcome.after)
        chosen = [r for r in outcome.run.results if _wanted(r, unsafe, outcome.broken)]
        if not chosen or not apply_fixes(chosen, outcome):
            break
    else:
        outcome.run = lint(outcome.after)
    return outcome


def _wanted(result, unsafe: bool, broken: dict) -> bool:
    fix = result.fix_plan
    if fix is None or not fix.applies(unsafe):
        return False
    return not any(_real(edit.site.path) in broken for edit in fix.edits)


def _real(path: str) -> str:
    return os.path.realpath(path)


def apply_fixes(results: list, outcome: Outcome) -> bool:
    """Apply the non-overlapping fixes of `results` to `outcome.after` (with the fixer's depth budget);
    True when some file changed."""
    from actlint.depth import FIX_FRAMES, with_frames

    return with_frames(_apply, results, outcome, frames=FIX_FRAMES)


def _apply(results: list, outcome: Outcome) -> bool:
    """Apply the non-overlapping fixes of `results`; True when some file changed."""
    fixes = _without_overlaps(results)
    plans = {}  # real path -> (module, {id(node): replacement}, imports, fixes touching it)
    for fix in fixes:
        for edit in fix.edits:
            path = _real(edit.site.path)
            module, replacements, imports, touching = plans.setdefault(path, (edit.site.module, {}, set(), set()))
            outcome.names.setdefault(path, edit.site.path)
            replacements[id(edit.site.node)] = edit.replacement
            imports.update(edit.imports)
            touching.add(id(fix))
    failed = set()
    for path, (module, replacements, imports, touching) in plans.items():
        current = outcome.after.get(path)
        current = _read(path) if current is None else current
        data = _fixed(path, current, module, replacements, imports)
        if isinstance(data, str):
            outcome.broken[path] = data
            failed |= touching
            continue
        outcome.before.setdefault(path, current)
        outcome.after[path] = data
    outcome.applied += sum(1 for fix in fixes if id(fix) not in failed)
    return len(failed) < len(fixes)


def _read(path: str) -> bytes:
    """The file's bytes as they are on disk (a notebook's JSON, not its concatenated cells)."""
    with open(path, "rb") as handle:
        return handle.read()


def _fixed(path: str, current: bytes, module, replacements: dict, imports: set):
    """The file's new bytes, or why there are none."""
    from actlint.depth import raised_in

    try:
        if not path.endswith(".ipynb") and current != module.bytes:  # never write text actlint altered
            return "the file was read with its IPython lines as comments; fix it by hand"
        data = _rewritten(module, replacements, imports)
    except Exception as error:  # the fixer has twice the analysis's frames: this should not happen
        if raised_in(error, RecursionError) is None:
            raise
        return "the code is nested too deeply to rewrite; the file was left as it was"
    return _notebook(current, data) if path.endswith(".ipynb") and not isinstance(data, str) else data


def _notebook(current: bytes, source: bytes):
    """The notebook with its cells fixed, or why it cannot be written back."""
    from actlint.notebooks import NotebookError, write_back

    try:
        return write_back(current, source.decode("utf-8"))
    except NotebookError as error:
        return f"the fixes cannot be written back into the notebook: {error}; the file was left as it was"


def _without_overlaps(results: list) -> list:
    """The fixes to apply, in order; a fix overlapping one taken before waits for the next pass."""
    taken, spans = [], []
    for result in sorted(results, key=lambda r: r.sort_key()):
        ranges = [_range(edit, result.filename) for edit in result.fix["edits"]]
        ranges = [r for r in ranges if r[1] != r[2]]  # insertions (imports) overlap nothing
        if any(_overlap(a, b) for a in ranges for b in spans) or result.fix_plan in taken:
            continue
        taken.append(result.fix_plan)
        spans.extend(ranges)
    return taken


def _range(edit: dict, filename: str) -> tuple:
    start, end, cell = edit["location"], edit["end_location"], edit.get("cell", 0)
    return _real(edit.get("filename", filename)), (cell, start["row"], start["column"]), (cell, end["row"], end["column"])


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def _rewritten(module, replacements: dict, imports: set):
    """The module's new bytes, or why there are none (the result does not parse)."""
    new = module.visit(_NodeReplacer(replacements))
    if imports:
        from libcst.codemod import CodemodContext
        from libcst.codemod.visitors import AddImportsVisitor

        context = CodemodContext()
        for source, name in sorted(imports):
            AddImportsVisitor.add_needed_import(context, source, name)
        new = AddImportsVisitor(context).transform_module(new)
    data = new.bytes
    problem = _parse_problem(data)
    return problem or data


class _NodeReplacer(cst.CSTTransformer):
    """Puts each replacement where the original node (found by identity) was."""

    def __init__(self, replacements: dict):
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):
        return self.replacements.get(id(original_node), updated_node)


def _parse_problem(data: bytes):
    from actlint.parsing import python_parse

    try:
        python_parse(data)
        cst.parse_module(data)
    except (SyntaxError, ValueError, cst.ParserSyntaxError) as error:
        return f"the fixed code does not parse ({type(error).__name__}: {error}); the file was left as it was"
    return None


# -- out: writes and diffs -------------------------------------------------------------------


def write_atomically(path: str, data: bytes) -> None:
    """Replace the file's content in one step, keeping its mode: a temp file beside it, then os.replace."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    handle, temp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".actlint-fix-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def unified_diff(name: str, before: bytes, after: bytes) -> str:
    if name.endswith(".ipynb"):  # one diff per changed cell, of its Python, not of the JSON
        from actlint.notebooks import changed_cells

        lines = lambda text: text if text.endswith("\n") else text + "\n"  # noqa: E731
        return "".join(_diff(f"{name}:cell {n}", lines(old), lines(new)) for n, old, new in changed_cells(before, after))
    return _diff(name, _text(before), _text(after))


def _diff(name: str, before: str, after: str) -> str:
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, name, name))


def _text(data: bytes) -> str:
    import io
    import tokenize

    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)
