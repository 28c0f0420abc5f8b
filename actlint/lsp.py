"""The language server (`actlint server`, pygls): diagnostics, quick fixes and hovers from the unsaved
buffers.

A document is linted by the same run as the command line's (`runner.lint_paths`), with every open
buffer standing in for its file (the fixer's overlay), so cross-file facts come from the workspace and
open buffers win over disk; `# noqa` and the configuration apply as they do there. Analysis runs on one
worker thread, never on the reader loop; edits are debounced (DEBOUNCE seconds). The last run of each
document is kept, with its fix plans, for code actions and hovers on that version of the text.

Notebooks (LSP 3.17 notebook sync) are linted as one .ipynb built from their cells; diagnostics are
published per cell.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import PositionCodec

from actlint import __version__

DEBOUNCE = 0.15  # seconds after the last change before a document is linted again (issue 21: 300 ms in all)
SOURCE = "actlint"
LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
FIX_ALL = types.CodeActionKind.SourceFixAll + ".actlint"
SEVERITIES = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
              "info": types.DiagnosticSeverity.Information}


@dataclass
class Linted:
    """One document's last run: the text linted and its results (with fix plans)."""

    text: str
    results: list
    cells: dict  # notebooks: cell number -> cell uri ({} for a Python file)


class ActlintServer(LanguageServer):
    def __init__(self):
        sync = types.NotebookDocumentSyncOptions(notebook_selector=[types.NotebookDocumentFilterWithCells(
            cells=[types.NotebookCellLanguage(language="python")])])
        super().__init__("actlint", __version__, notebook_document_sync=sync)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="actlint-lint")
        self.pending = {}  # uri -> the debounced lint task
        self.linted = {}  # uri (file or notebook) -> Linted


server = ActlintServer()


def serve() -> None:
    server.start_io()


# -- documents in, runs out ------------------------------------------------------------------


def _path(uri: str) -> Optional[str]:
    path = to_fs_path(uri)
    return os.path.abspath(path) if path else None


def _buffers() -> dict:
    """{real path: bytes} of the open Python buffers (notebook cells excluded): they win over disk."""
    found = {}
    for uri, document in list(server.workspace.text_documents.items()):
        path = _path(uri) if uri.startswith("file:") else None
        if path and path.endswith(".py"):
            found[os.path.realpath(path)] = document.source.encode("utf-8")
    return found


def lint_text(path: str, data: bytes, buffers: dict):
    """The run over one document's text (a .py source or a notebook's JSON), the others' buffers in place."""
    from actlint.config import ConfigError, Configs
    from actlint.runner import Run, lint_paths, lint_stdin

    if not data.strip():
        return Run()
    try:
        configs = Configs()
        if not os.path.isfile(path):  # not saved yet: no discovery, nothing else can import it
            return lint_stdin(data, path, configs=configs)
        return lint_paths([path], configs=configs, overlay={**buffers, os.path.realpath(path): data})
    except ConfigError as error:
        server.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"actlint: {error}"))
        return Run()


def _notebook_json(notebook) -> tuple:
    """(.ipynb bytes, {cell number: cell uri}) of an open notebook document."""
    cells, numbers = [], {}
    for number, cell in enumerate(notebook.cells, start=1):
        document = server.workspace.get_text_document(cell.document)
        code = cell.kind == types.NotebookCellKind.Code
        cells.append({"cell_type": "code" if code else "markdown", "source": document.source, "metadata": {}})
        numbers[number] = cell.document
    data = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(data).encode("utf-8"), numbers


def _snapshot(uri: str):
    """(path, bytes to lint, text shown, cells) of a document now, or None when it is not ours."""
    notebook = server.workspace.get_notebook_document(notebook_uri=uri)
    path = _path(uri) if uri.startswith("file:") else None
    if notebook is not None:
        data, cells = _notebook_json(notebook)
        return (path if path and path.endswith(".ipynb") else "untitled.ipynb"), data, data.decode(), cells
    if path is None or not path.endswith((".py", ".pyi")):
        return None
    text = server.workspace.get_text_document(uri).source
    return path, text.encode("utf-8"), text, {}


async def refresh(uri: str, delay: float = 0.0) -> None:
    """Lint a document (after `delay`, unless a newer change comes first) and publish its diagnostics."""
    if delay:
        await asyncio.sleep(delay)
    snapshot = _snapshot(uri)
    if snapshot is None:
        return
    path, data, text, cells = snapshot
    buffers = _buffers()
    run = await asyncio.get_running_loop().run_in_executor(server.worker, lint_text, path, data, buffers)
    now = _snapshot(uri)
    if now is None or now[1] != data:  # changed meanwhile: the newer change's lint publishes
        return
    server.linted[uri] = Linted(text, run.results, cells)
    _publish(uri, run.results, cells)


def _publish(uri: str, results: list, cells: dict) -> None:
    if not cells:
        diagnostics = [to_diagnostic(r, _lines(uri)) for r in results if _ours(r, uri)]
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics))
        return
    per_cell = {cell_uri: [] for cell_uri in cells.values()}
    for r in results:
        cell_uri = cells.get(r.location.cell)
        if cell_uri is not None:
            per_cell[cell_uri].append(to_diagnostic(r, _lines(cell_uri), cells))
    for cell_uri, diagnostics in per_cell.items():
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(cell_uri, diagnostics))


def _ours(result, uri: str) -> bool:
    return os.path.realpath(result.filename) == os.path.realpath(_path(uri) or "") or result.is_diagnostic


def _schedule(uri: str, delay: float = 0.0) -> None:
    previous = server.pending.pop(uri, None)
    if previous is not None:
        previous.cancel()
    server.pending[uri] = asyncio.ensure_future(refresh(uri, delay))


# -- results to LSP --------------------------------------------------------------------------


def _lines(uri: Optional[str]) -> list:
    """The lines of an open document, else of the file on disk ([] when unreadable)."""
    if uri is None:
        return []
    document = server.workspace.text_documents.get(uri)
    if document is not None:
        return document.lines
    try:
        with open(_path(uri) or "", encoding="utf-8") as handle:
            return handle.readlines()
    except (OSError, UnicodeDecodeError, ValueError):
        return []


def _codec() -> PositionCodec:
    """The negotiated position encoding's codec (UTF-16, LSP's default, before initialize)."""
    try:
        return server.workspace.position_codec
    except RuntimeError:
        return PositionCodec()


def position(lines: list, row: int, column: int) -> types.Position:
    """actlint's 1-based row and code point column as the client's 0-based position."""
    point = types.Position(max(row - 1, 0), max(column - 1, 0))
    if point.line < len(lines):
        return _codec().position_to_client_units(lines, point)
    return point


def _range(lines: list, start, end) -> types.Range:
    return types.Range(position(lines, start.row, start.column), position(lines, end.row, end.column))


def doc_uri(code: str) -> Optional[str]:
    """The rule's documentation (rules/docs/CODE.md in this installation) as a file URI."""
    from actlint.catalogue import rules_dir

    try:
        doc = rules_dir() / "docs" / f"{code}.md"
    except FileNotFoundError:
        return None
    return doc.as_uri() if doc.is_file() else None


def to_diagnostic(result, lines: list, cells: Optional[dict] = None) -> types.Diagnostic:
    message = result.message + (f"\n{result.suggestion}" if result.suggestion else "")
    link = doc_uri(result.code)
    related = []
    for rel in result.related:
        rel_uri = (cells or {}).get(rel.location.cell) if rel.location.cell else from_fs_path(os.path.abspath(rel.filename))
        if rel_uri:
            where = _range(_lines(rel_uri), rel.location, rel.location)
            related.append(types.DiagnosticRelatedInformation(types.Location(rel_uri, where), rel.message))
    return types.Diagnostic(
        range=_range(lines, result.location, result.end_location), message=message,
        severity=SEVERITIES.get(result.level, types.DiagnosticSeverity.Warning), code=result.code,
        code_description=types.CodeDescription(link) if link else None, source=SOURCE,
        related_information=related or None)


# -- fixes -----------------------------------------------------------------------------------


def fixed(results: list, path: str, data: bytes, buffers: dict, unsafe: bool = True) -> dict:
    """{real path: (bytes before, bytes after)} of the files `results`' fixes change ({} when none apply)."""
    from actlint.fixer import Outcome, apply_fixes

    outcome = Outcome(None, after={**buffers, os.path.realpath(path): data})
    chosen = [r for r in results if r.fix_plan is not None and r.fix_plan.applies(unsafe)]
    if not chosen or not apply_fixes(chosen, outcome):
        return {}
    return _changes(outcome)


def fixed_all(path: str, data: bytes, buffers: dict) -> dict:
    """Every safe fix, until stable, as fixed() gives them."""
    from actlint.fixer import fix_until_stable

    start = {**buffers, os.path.realpath(path): data}
    return _changes(fix_until_stable(lambda overlay: lint_text(path, overlay[os.path.realpath(path)], overlay),
                                     False, start))


def _changes(outcome) -> dict:
    """{real path: (bytes before, bytes after)} of the files the fixes changed ({} when one could not be fixed)."""
    return {} if outcome.broken else {p: (outcome.before[p], outcome.after[p]) for p in outcome.changed}


def text_edit(before: str, after: str) -> types.TextEdit:
    """The smallest single edit turning `before` into `after`: their common prefix and suffix kept."""
    prefix = 0
    limit = min(len(before), len(after))
    while prefix < limit and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    lines = split(before)
    start, end = _offset_position(lines, prefix), _offset_position(lines, len(before) - suffix)
    return types.TextEdit(types.Range(start, end), after[prefix:len(after) - suffix])


def _offset_position(lines: list, offset: int) -> types.Position:
    for row, line in enumerate(lines):
        if offset < len(line) or (offset == len(line) and not line.endswith(("\n", "\r"))):
            return _codec().position_to_client_units(lines, types.Position(row, offset))
        offset -= len(line)
    return types.Position(len(lines), 0)


def split(text: str) -> list:
    """Lines with their endings, as LSP counts them (only \\n, \\r\\n and \\r end a line)."""
    return LINES.findall(text)


def workspace_edit(changes: dict) -> types.WorkspaceEdit:
    edits = {}
    for real, (before, after) in changes.items():
        edits[from_fs_path(real)] = [text_edit(before.decode("utf-8"), after.decode("utf-8"))]
    return types.WorkspaceEdit(changes=edits)


def noqa_edit(text: str, result) -> Optional[types.TextEdit]:
    """`# noqa: CODE` at the end of the finding's last line (added to a noqa list already there)."""
    from actlint.suppressions import NOQA

    lines = split(text)
    index = result.end_location.row - 1
    if index >= len(lines):
        return None
    line = lines[index].rstrip("\r\n")
    if line.rstrip().endswith("\\"):
        return None
    match = NOQA.search(line)
    if match and match.group("codes"):
        at, insert = match.end("codes"), f", {result.code}"
    else:
        at, insert = len(line.rstrip()), f"  # noqa: {result.code}"
    where = _codec().position_to_client_units(lines, types.Position(index, at))
    return types.TextEdit(types.Range(where, where), insert)


# -- the protocol ----------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls, params: types.DidOpenTextDocumentParams) -> None:
    if ls.workspace.get_notebook_document(cell_uri=params.text_document.uri) is None:
        _schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls, params: types.DidChangeTextDocumentParams) -> None:
    _schedule(params.text_document.uri, DEBOUNCE)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls, params: types.DidSaveTextDocumentParams) -> None:
    _schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls, params: types.DidCloseTextDocumentParams) -> None:
    _forget(params.text_document.uri, [params.text_document.uri])


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def notebook_open(ls, params: types.DidOpenNotebookDocumentParams) -> None:
    _schedule(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def notebook_change(ls, params: types.DidChangeNotebookDocumentParams) -> None:
    _schedule(params.notebook_document.uri, DEBOUNCE)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def notebook_save(ls, params: types.DidSaveNotebookDocumentParams) -> None:
    _schedule(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def notebook_close(ls, params: types.DidCloseNotebookDocumentParams) -> None:
    _forget(params.notebook_document.uri, [cell.uri for cell in params.cell_text_documents])


def _forget(uri: str, cleared: list) -> None:
    previous = server.pending.pop(uri, None)
    if previous is not None:
        previous.cancel()
    server.linted.pop(uri, None)
    for document_uri in cleared:
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(document_uri, []))


async def _current(uri: str) -> Optional[Linted]:
    """The document's run on its current text (linted now when the last run is older)."""
    snapshot = _snapshot(uri)
    if snapshot is None:
        return None
    path, data, text, cells = snapshot
    linted = server.linted.get(uri)
    if linted is None or linted.text != text:
        run = await asyncio.get_running_loop().run_in_executor(server.worker, lint_text, path, data, _buffers())
        linted = server.linted[uri] = Linted(text, run.results, cells)
    return linted


def _in(result, lines: list, where: types.Range) -> bool:
    span = _range(lines, result.location, result.end_location)
    key = lambda p: (p.line, p.character)  # noqa: E731
    return key(span.start) <= key(where.end) and key(where.start) <= key(span.end)


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]))
async def code_action(ls, params: types.CodeActionParams):
    uri = params.text_document.uri
    linted = await _current(uri)
    if linted is None or linted.cells:
        return None
    path, lines = _path(uri), split(linted.text)
    data, loop = linted.text.encode("utf-8"), asyncio.get_running_loop()
    wanted = params.context.only
    findings = [r for r in linted.results if not r.is_diagnostic and _ours(r, uri)]
    actions = []
    if not wanted or types.CodeActionKind.QuickFix in wanted:
        for result in [r for r in findings if _in(r, lines, params.range)]:
            diagnostic = to_diagnostic(result, lines)
            if result.fix_plan is not None:
                changes = await loop.run_in_executor(ls.worker, fixed, [result], path, data, _buffers())
                if changes:
                    safe = result.fix_plan.applies(False)
                    title = result.fix["message"] + ("" if safe else " (unsafe)")
                    actions.append(types.CodeAction(
                        f"{result.code}: {title}", kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                        is_preferred=safe, edit=workspace_edit(changes)))
            edit = noqa_edit(linted.text, result)
            if edit is not None:
                actions.append(types.CodeAction(
                    f"{result.code}: suppress with noqa", kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic], edit=types.WorkspaceEdit(changes={uri: [edit]})))
    if any(r.fix_plan is not None and r.fix_plan.applies(False) for r in findings) and (
            not wanted or any(FIX_ALL.startswith(kind) for kind in wanted) or types.CodeActionKind.QuickFix in wanted):
        changes = await loop.run_in_executor(ls.worker, fixed_all, path, data, _buffers())
        if changes:
            actions.append(types.CodeAction("actlint: fix all safe problems", kind=FIX_ALL,
                                            edit=workspace_edit(changes)))
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls, params: types.HoverParams):
    uri = params.text_document.uri
    notebook = ls.workspace.get_notebook_document(cell_uri=uri)
    linted = ls.linted.get(notebook.uri if notebook is not None else uri)
    if linted is None:
        return None
    lines = _lines(uri)
    point = types.Range(params.position, params.position)
    cell = next((n for n, cell_uri in linted.cells.items() if cell_uri == uri), None)
    for result in linted.results:
        if result.is_diagnostic or result.location.cell != cell or not _in(result, lines, point):
            continue
        from actlint.output import verified_line

        text = f"**{result.code}** ({result.name}): {result.message}"
        claim = verified_line(result)
        if claim:
            text += f"\n\n{claim}"
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text),
                           _range(lines, result.location, result.end_location))
    return None
