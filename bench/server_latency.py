"""`actlint server` latency: a ~1,000-line training script is opened, then edited N times; each edit's
time from didChange to its publishDiagnostics is measured (the server's DEBOUNCE included).

    python bench/server_latency.py [--edits 10] [--lines 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

HEAD = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)


model = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters())
"""

HELPER = """

def step_{n}(batch, scale={n}):
    inputs, labels = batch
    outputs = model(inputs * scale)
    loss = criterion(outputs, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
"""


def script(lines: int) -> str:
    text, n = HEAD, 0
    while text.count("\n") < lines:
        text += HELPER.format(n=n)
        n += 1
    return text


async def measure(edits: int, lines: int) -> list:
    client = LanguageClient("bench", "1")
    published = asyncio.Queue()
    client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(lambda params: published.put_nowait(time.perf_counter()))
    folder = Path(tempfile.mkdtemp())
    path = folder / "train.py"
    text = script(lines)
    path.write_text(text)
    uri = from_fs_path(str(path))
    await client.start_io(sys.executable, "-m", "actlint", "server", cwd=str(folder))
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text)))
    await published.get()  # the first lint pays the imports
    times = []
    for version in range(2, edits + 2):
        text += f"\nlast_edit = {version}\n"
        start = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version, uri), [types.TextDocumentContentChangeWholeDocument(text)]))
        times.append(await published.get() - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--lines", type=int, default=1000)
    args = parser.parse_args()
    times = asyncio.run(measure(args.edits, args.lines))
    print(f"{args.lines} lines, {len(times)} edits: didChange -> publishDiagnostics median "
          f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
          f"(the server's debounce included)")


if __name__ == "__main__":
    main()
