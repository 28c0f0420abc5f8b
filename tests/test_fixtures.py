"""Every fixture's findings equal its inline `# expect:` annotations, exactly.

A file under fixtures/<framework>/ is linted alone. A folder under fixtures/projects/ is linted
as one project (one run), and each of its files is held to its own annotations.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from actlint.engine import Session, lint_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROJECTS = FIXTURES / "projects"
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+|none)\s*$")


def python_files(folder: Path) -> list:
    """The fixtures' Python files, without the fixed twins (`<name>.fixed.py`, checked by test_fixes)."""
    return sorted(p for p in folder.rglob("*.py") if not p.name.endswith(".fixed.py"))


def single_files():
    return [p for p in python_files(FIXTURES) if PROJECTS not in p.parents]


def projects():
    return sorted(p for p in PROJECTS.iterdir() if p.is_dir()) if PROJECTS.is_dir() else []


def expected(path: Path) -> set:
    found = set()
    for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT.search(line)
        if match and match.group(1) != "none":
            found |= {(code.strip(), row) for code in match.group(1).split(",") if code.strip()}
    return found


def lint(paths) -> dict:
    """{realpath: {(code, row)}} for one run over `paths`."""
    session = Session()
    found = {}
    for path in paths:
        for r in lint_source(str(path), path.read_bytes(), session).results:
            found.setdefault(os.path.realpath(r.filename), set()).add((r.code, r.location.row))
    return found


@pytest.mark.parametrize("path", single_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_match_annotations(path):
    assert lint([path]).get(os.path.realpath(path), set()) == expected(path)


@pytest.mark.parametrize("folder", projects(), ids=lambda p: p.name)
def test_project_findings_match_annotations(folder):
    files = python_files(folder)
    found = lint(files)
    assert {k: v for k, v in found.items() if v} == {
        os.path.realpath(p): expected(p) for p in files if expected(p)
    }


@pytest.mark.parametrize("folder", projects(), ids=lambda p: p.name)
def test_project_file_linted_alone_still_sees_the_project(folder):
    """Linting one entry-point file follows its imports into the rest of the project."""
    files = python_files(folder)
    together = lint(files)
    for entry in (p for p in files if p.parent == folder):
        alone = lint([entry])
        for path, found in alone.items():
            assert found <= together.get(path, set()), entry


def test_every_fixture_is_annotated():
    for path in python_files(FIXTURES):
        if path.name != "__init__.py" and PROJECTS not in path.parents:
            assert "# expect:" in path.read_text(encoding="utf-8"), f"{path} has no # expect: line"


SHARED_HEAD_ON_BOTH_PATHS = b'''import argparse
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        return torch.softmax(self.fc(x), dim=1)

args = argparse.ArgumentParser().parse_args()
if args.dataset == "imagenet":
    net = Net(1000)
else:
    net = Net(10)
criterion = nn.CrossEntropyLoss()
for x, y in loader:
    loss = criterion(net(x), y)
    loss.backward()
'''


def test_a_finding_on_one_branch_path_names_it_and_one_on_every_path_does_not():
    """Issue 17: the engine appends the branch conditions of the only path a finding was seen on."""
    path = FIXTURES / "torch" / "ACT101_model_chosen_by_dataset_flag.py"
    (found,) = lint_source(str(path), path.read_bytes()).results
    assert found.message.endswith('applies softmax again (when args.dataset == "imagenet")')
    (both,) = lint_source("shared.py", SHARED_HEAD_ON_BOTH_PATHS).results
    assert both.code == "ACT101" and "(when" not in both.message
