"""Regressions found by linting real-world code (tutorials, Q&A programs, whole packages)."""

from __future__ import annotations

import json

from tests.support import run

MODULE = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        p = torch.sigmoid(self.fc(x))
        return -(p + 1e-8).log().mean()
"""


def test_imported_module_finding_is_reported_once_under_an_absolute_path(tmp_path, monkeypatch):
    """A tree named by its absolute path from inside it: a finding in a module that another file
    imports is one finding, spelled as the linted file is (not once absolute, once relative)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "net.py").write_text(MODULE)
    (tmp_path / "train.py").write_text("from pkg.net import Net\n\nnet = Net()\n")
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, "--no-cache", "--output-format", "json", "--exit-zero", "-j", "1")
    findings = json.loads(result.stdout)
    assert [(f["code"], f["filename"], f["location"]["row"]) for f in findings] == [
        ("ACT501", (tmp_path / "pkg" / "net.py").as_posix(), 12)]
