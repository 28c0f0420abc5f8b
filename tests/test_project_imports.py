"""Every import form reaches a project module through the one resolver (Project.resolve)."""

from __future__ import annotations

import os

import pytest

from actlint.frontends.base import NOT_HANDLED
from actlint.runner import lint_paths

MODELS = (
    "from tensorflow import keras\n"
    "def build():\n"
    "    return keras.Sequential([keras.layers.Dense(10, activation='softmax')])\n"
)
COMPILE = "model.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))\n"


@pytest.mark.parametrize("where, imports, call", [
    ("train.py", "from pkg.models import build", "build()"),
    ("train.py", "from pkg import models", "models.build()"),
    ("train.py", "import pkg.models", "pkg.models.build()"),
    ("train.py", "import pkg.models as m", "m.build()"),
    ("pkg/train.py", "from .models import build", "build()"),
    ("pkg/train.py", "from . import models", "models.build()"),
])
def test_each_import_form_follows_the_model_into_the_project(tmp_path, monkeypatch, where, imports, call):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "models.py").write_text(MODELS)
    (tmp_path / where).write_text(f"from tensorflow import keras\n{imports}\nmodel = {call}\n{COMPILE}")
    assert [r.code for r in lint_paths([where]).results] == ["ACT101"]


def test_a_library_is_not_resolved_in_the_project(tmp_path):
    from actlint.engine import Session

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "train.py").write_text("")
    project = Session().project
    importer = str(tmp_path / "train.py")
    assert project.resolve(importer, "tqdm", 0, "tqdm") is NOT_HANDLED
    assert project.resolve(importer, "torch.nn") is NOT_HANDLED
    (tmp_path / "helpers.py").write_text("X = 3\n")
    assert project.resolve(importer, "helpers", 0, "missing") is None  # a project module, a name it lacks


MODEL = """import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 5)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)
"""

TRAIN = """import torch
import torch.nn as nn
from model import Net

net = Net()
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
loss = criterion(net(x), y)
loss.backward()
"""


@pytest.mark.parametrize("buffer, codes", [(None, ["ACT101"]), (b"", []), (MODEL.replace("F.softmax(", "(").encode(), [])])
def test_an_unsaved_buffer_of_an_imported_file_stands_in_for_it_even_empty(tmp_path, buffer, codes):
    """An editor's unsaved buffers (the overlay) win over the files on disk, an emptied one too."""
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "train.py").write_text(TRAIN)
    overlay = {} if buffer is None else {os.path.realpath(tmp_path / "model.py"): buffer}
    run = lint_paths([str(tmp_path / "train.py")], overlay=overlay)
    assert [r.code for r in run.results] == codes

