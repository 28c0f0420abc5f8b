"""Regressions found by linting real-world code (tutorials, Q&A programs, whole packages)."""

from __future__ import annotations

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


def test_project_module_is_spelled_as_its_importer(tmp_path, monkeypatch):
    """Inside the working directory, an importer named by an absolute path finds its modules under
    absolute paths, and a relative importer under relative ones: a finding located in an imported
    module must carry the same file name as that module's own findings."""
    from actlint.frontends.project import Project

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "net.py").write_text(MODULE)
    (tmp_path / "train.py").write_text("from pkg.net import Net\n")
    monkeypatch.chdir(tmp_path)
    project = Project(lambda path: None)
    assert project.locate(str(tmp_path / "train.py"), "pkg.net", 0) == (tmp_path / "pkg" / "net.py").as_posix()
    assert project.locate("train.py", "pkg.net", 0) == "pkg/net.py"
