"""`actlint server`: the real server over stdio, driven by pygls' language client."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60  # seconds: a ceiling for a loaded machine, never a sleep

DOUBLE_SOFTMAX = """\
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(20, 10)
criterion = nn.CrossEntropyLoss()
x = torch.randn(8, 20)
y = torch.randint(0, 10, (8,))
probs = F.softmax(model(x), dim=1)
loss = criterion(probs, y)
"""

SOFTMAX_NLL = """\
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(20, 10)
x = torch.randn(8, 20)
y = torch.randint(0, 10, (8,))
probs = F.softmax(model(x), dim=1)
loss = F.nll_loss(probs, y)
"""

CLEAN = DOUBLE_SOFTMAX.replace("probs = F.softmax(model(x), dim=1)", "probs = model(x)")


class Client:
    """A language client on a fresh `actlint server`, with each document's published diagnostics queued."""

    def __init__(self):
        self.lsp = LanguageClient("actlint-tests", "1")
        self.published = {}  # uri -> asyncio.Queue of diagnostic lists
        self.versions = {}

        @self.lsp.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params):
            self.queue(params.uri).put_nowait(list(params.diagnostics))

    def queue(self, uri: str) -> asyncio.Queue:
        return self.published.setdefault(uri, asyncio.Queue())

    async def diagnostics(self, uri: str) -> list:
        return await asyncio.wait_for(self.queue(uri).get(), WAIT)

    def open(self, path: Path, text: str) -> str:
        uri = from_fs_path(str(path))
        self.versions[uri] = 1
        self.lsp.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text)))
        return uri

    def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.lsp.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(self.versions[uri], uri),
            [types.TextDocumentContentChangeWholeDocument(text)]))

    async def actions(self, uri: str, diagnostic) -> list:
        params = types.CodeActionParams(types.TextDocumentIdentifier(uri), diagnostic.range,
                                        types.CodeActionContext([diagnostic]))
        return await asyncio.wait_for(self.lsp.text_document_code_action_async(params), WAIT) or []


@contextlib.asynccontextmanager
async def server(root: Path):
    client = Client()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    await client.lsp.start_io(sys.executable, "-m", "actlint", "server", env=env, cwd=str(root))
    try:
        await asyncio.wait_for(client.lsp.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=from_fs_path(str(root)))), WAIT)
        client.lsp.initialized(types.InitializedParams())
        yield client
        await asyncio.wait_for(client.lsp.shutdown_async(None), WAIT)
        client.lsp.exit(None)
    finally:
        process = client.lsp._server  # a failed test left it running: stop() would wait for it
        if process is not None and process.returncode is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(process.wait(), 10)
            if process.returncode is None:
                process.kill()
        await client.lsp.stop()


def applied(text: str, edits) -> str:
    """The text with LSP edits applied (ASCII text: UTF-16 units are characters)."""
    lines = text.splitlines(keepends=True)
    offset = lambda p: sum(len(line) for line in lines[:p.line]) + p.character  # noqa: E731
    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def test_round_trip_diagnostics_quick_fix_and_none_after(tmp_path):
    async def scenario():
        path = tmp_path / "train.py"
        path.write_text(CLEAN)  # on disk clean: the unsaved buffer is what is linted
        async with server(tmp_path) as client:
            uri = client.open(path, DOUBLE_SOFTMAX)
            [found] = await client.diagnostics(uri)
            assert (found.code, found.source, found.severity) == ("ACT101", "actlint", types.DiagnosticSeverity.Error)
            assert (found.range.start.line, found.range.start.character) == (8, 8)
            assert (found.range.end.line, found.range.end.character) == (8, 34)
            assert found.code_description.href.endswith("ACT101.md")
            related = {(r.message, r.location.range.start.line) for r in found.related_information}
            assert related == {("loss set", 5), ("targets encoded", 7)}

            actions = await client.actions(uri, found)
            titles = [a.title for a in actions]
            fix = next(a for a in actions if a.title.endswith("(unsafe)"))
            assert not fix.is_preferred and any("noqa" in t for t in titles)
            fixed = applied(DOUBLE_SOFTMAX, fix.edit.changes[uri])
            assert "probs = model(x)" in fixed
            client.change(uri, fixed)
            assert await client.diagnostics(uri) == []

            hover_point = types.HoverParams(types.TextDocumentIdentifier(uri), found.range.start)
            client.change(uri, DOUBLE_SOFTMAX)
            assert len(await client.diagnostics(uri)) == 1
            hover = await asyncio.wait_for(client.lsp.text_document_hover_async(hover_point), WAIT)
            assert hover.contents.value.startswith("**ACT101** (double-softmax): ")
            assert "\n\nverified: " in hover.contents.value  # not "unverified: ": the numeric core checked it
        assert path.read_text() == CLEAN  # the server never writes

    asyncio.run(scenario())


def test_safe_fix_is_preferred_fix_all_and_noqa(tmp_path):
    async def scenario():
        path = tmp_path / "nll.py"
        path.write_text(SOFTMAX_NLL)
        async with server(tmp_path) as client:
            uri = client.open(path, SOFTMAX_NLL)
            [found] = await client.diagnostics(uri)
            assert found.code == "ACT104"
            actions = await client.actions(uri, found)
            quick = next(a for a in actions if a.is_preferred)
            assert "(unsafe)" not in quick.title
            [edit] = quick.edit.changes[uri]
            assert (edit.range.start.line, edit.range.start.character, edit.new_text) == (7, 10, "log_")  # minimal
            fix_all = next(a for a in actions if a.kind == types.CodeActionKind.SourceFixAll + ".actlint")
            assert applied(SOFTMAX_NLL, fix_all.edit.changes[uri]) == applied(SOFTMAX_NLL, [edit])

            noqa = next(a for a in actions if "noqa" in a.title)
            suppressed = applied(SOFTMAX_NLL, noqa.edit.changes[uri])
            assert "probs = F.softmax(model(x), dim=1)  # noqa: ACT104\n" in suppressed
            client.change(uri, suppressed)
            assert await client.diagnostics(uri) == []

    asyncio.run(scenario())


def test_notebook_diagnostics_per_cell(tmp_path):
    cells = ["import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n",
             "# Training\n",
             "model = nn.Linear(20, 10)\ncriterion = nn.CrossEntropyLoss()\n",
             "x = torch.randn(8, 20)\ny = torch.randint(0, 10, (8,))\nprobs = F.softmax(model(x), dim=1)\n"
             "loss = criterion(probs, y)\n"]

    async def scenario():
        notebook_uri = from_fs_path(str(tmp_path / "train.ipynb"))
        cell_uris = [f"vscode-notebook-cell:{tmp_path}/train.ipynb#cell{n}" for n in range(len(cells))]
        kinds = [types.NotebookCellKind.Code, types.NotebookCellKind.Markup, types.NotebookCellKind.Code,
                 types.NotebookCellKind.Code]
        async with server(tmp_path) as client:
            client.lsp.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
                types.NotebookDocument(notebook_uri, "jupyter-notebook", 1,
                                       [types.NotebookCell(kind, uri) for kind, uri in zip(kinds, cell_uris)]),
                [types.TextDocumentItem(uri, "python" if kind == types.NotebookCellKind.Code else "markdown", 1, text)
                 for uri, kind, text in zip(cell_uris, kinds, cells)]))
            published = {uri: await client.diagnostics(uri) for uri in cell_uris}
            [found] = published[cell_uris[3]]
            assert [published[uri] for uri in cell_uris[:3]] == [[], [], []]
            assert found.code == "ACT101" and found.range.start.line == 2
            assert {r.location.uri for r in found.related_information} <= {cell_uris[2], cell_uris[3]}

            fixed = cells[3].replace("F.softmax(model(x), dim=1)", "model(x)")
            end = types.Position(4, 0)
            client.lsp.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
                types.VersionedNotebookDocumentIdentifier(2, notebook_uri),
                types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
                    types.NotebookDocumentCellContentChanges(
                        types.VersionedTextDocumentIdentifier(2, cell_uris[3]),
                        [types.TextDocumentContentChangePartial(types.Range(types.Position(0, 0), end), fixed)])]))))
            after = {uri: await client.diagnostics(uri) for uri in cell_uris}
            assert all(diagnostics == [] for diagnostics in after.values())

    asyncio.run(scenario())


def test_without_pygls_one_line_error():
    blocker = "import sys; sys.modules['pygls'] = None; from actlint.cli import main; main(['server'])"
    done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, timeout=WAIT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2
    assert done.stderr == "actlint: error: `actlint server` needs pygls: pip install 'actlint[server]'\n"


def test_linting_never_imports_pygls(tmp_path):
    (tmp_path / "a.py").write_text(DOUBLE_SOFTMAX)
    probe = ("import sys; from actlint.cli import main\ntry:\n    main([sys.argv[1], '--no-cache'])\n"
             "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol')))")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "a.py")], capture_output=True, text=True,
                          timeout=WAIT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.splitlines()[-1] == "[]"


def test_text_edit_is_minimal_and_utf16():
    from actlint.lsp import text_edit

    edit = text_edit("a = 'é'\nb = softmax(x)\n", "a = 'é'\nb = log_softmax(x)\n")
    assert (edit.range.start.line, edit.range.start.character, edit.new_text) == (1, 4, "log_")
    edit = text_edit("x = '😀' + f(y)\n", "x = '😀' + g(y)\n")
    assert (edit.range.start.character, edit.range.end.character) == (11, 12)  # the emoji is two UTF-16 units


def test_fix_all_with_an_empty_buffer_open(tmp_path):
    """An open empty .py buffer (a new file) stands in for its file unchanged: fix all still fixes the
    document (it raised KeyError on the empty buffer)."""
    from actlint.lsp import fixed_all

    path, empty = tmp_path / "nll.py", tmp_path / "empty.py"
    path.write_text(SOFTMAX_NLL)
    empty.write_text("")
    changes = fixed_all(str(path), SOFTMAX_NLL.encode(), {os.path.realpath(empty): b""})
    fixed = SOFTMAX_NLL.replace("F.softmax(", "F.log_softmax(").encode()
    assert changes == {os.path.realpath(path): (SOFTMAX_NLL.encode(), fixed)}
