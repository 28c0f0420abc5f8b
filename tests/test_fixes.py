"""--fix, --unsafe-fixes, --diff, --fix-only: fixed twins byte for byte, fix properties over every
fixture, and round-trips of encodings, BOMs, line endings, tabs and file modes."""

from __future__ import annotations

import ast
import json
import os
import stat
from collections import Counter
from pathlib import Path

import libcst as cst
import pytest

from actlint import fixes
from actlint.fixer import fix_until_stable
from actlint.runner import lint_paths
from support import BUGGY, TWO_BUGS, run
from test_fixtures import FIXTURES, projects, python_files, single_files


def fix_outcome(paths, unsafe: bool, overlay=None):
    def lint(fixed):
        return lint_paths([str(p) for p in paths], overlay={**(overlay or {}), **fixed})

    return fix_until_stable(lint, unsafe)


def fixed_bytes(path: Path, unsafe: bool) -> bytes:
    return fix_outcome([path], unsafe).after.get(os.path.realpath(path), path.read_bytes())


def twin(path: Path) -> Path:
    return path.with_name(path.stem + ".fixed.py")


def fixable(results, unsafe: bool) -> list:
    return [r for r in results if r.fix_plan is not None and r.fix_plan.applies(unsafe)]


def relint(path: Path, data: bytes) -> list:
    return lint_paths([str(path)], overlay={os.path.realpath(path): data}).results


ids = {"ids": lambda p: str(p.relative_to(FIXTURES))}


# -- fixtures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", single_files(), **ids)
def test_fixed_twin_matches_byte_for_byte(path):
    """Every fixture with a fixable finding has its fixed twin (all fixes, unsafe included); no other has one."""
    after = fixed_bytes(path, unsafe=True)
    if after == path.read_bytes():
        assert not twin(path).exists(), "nothing to fix, yet there is a fixed twin"
    else:
        assert twin(path).exists(), f"write {twin(path).name}: the fixed file"
        assert twin(path).read_bytes() == after


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.fixed.py")), **ids)
def test_fixed_twin_has_nothing_left_to_fix(path):
    assert fixable(lint_paths([str(path)]).results, unsafe=True) == []


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("path", single_files(), **ids)
def test_fix_parses_is_complete_and_idempotent(path, unsafe):
    """Fixed code parses; the findings fixed are gone and the others stay; a second --fix changes nothing."""
    before = lint_paths([str(path)]).results
    after = fixed_bytes(path, unsafe)
    ast.parse(after)
    remaining = relint(path, after)
    assert fixable(remaining, unsafe) == []
    fixed_codes = Counter(r.code for r in fixable(before, unsafe))
    assert Counter(r.code for r in remaining) == Counter(r.code for r in before) - fixed_codes
    again = fix_outcome([path], unsafe, overlay={os.path.realpath(path): after})
    assert again.changed == []


@pytest.mark.parametrize("folder", projects(), ids=lambda p: p.name)
def test_project_fix_edits_the_file_that_holds_the_node(folder):
    files = python_files(folder)
    outcome = fix_outcome(files, unsafe=True)
    for path in files:
        fixed = outcome.after.get(os.path.realpath(path))
        if fixed is None:
            assert not twin(path).exists()
        else:
            assert twin(path).read_bytes() == fixed
    assert fixable(outcome.run.results, unsafe=True) == []


def test_every_code_with_a_fix_is_exercised_by_a_twin():
    """Each (framework, code) in the fix table has a fixture whose fix is checked byte for byte."""
    twinned = {(path.parent.name, path.name[:6]) for path in FIXTURES.rglob("*.fixed.py")}
    frameworks = {"keras": "keras", "torch": "torch", "tf": "tf"}
    missing = {(fw, code) for fw, code in fixes.FIXES if (frameworks[fw], code) not in twinned}
    assert not missing - UNTWINNED, missing


# Fixes exercised by the unit tests below rather than by a fixture of their own.
UNTWINNED = set()


# -- applicability ------------------------------------------------------------------------------


def results_of(tmp_path, source: str, name: str = "model.py") -> list:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return lint_paths([str(path)]).results


def test_fix_in_json_has_ruffs_shape(tmp_path):
    (tmp_path / "model.py").write_text(BUGGY, encoding="utf-8")
    item = json.loads(run(tmp_path / "model.py", "--output-format", "json", "--no-cache").stdout)[0]
    assert item["fix"] == {
        "applicability": "safe", "message": "Use sigmoid on the single-unit output",
        "edits": [{"content": '"sigmoid"', "location": {"row": 6, "column": 32},
                   "end_location": {"row": 6, "column": 41}}],
    }


def test_a_loss_shared_by_two_heads_is_an_unsafe_edit(tmp_path):
    source = """\
from tensorflow import keras
bce = keras.losses.BinaryCrossentropy(from_logits=True)
a = keras.Sequential([keras.layers.Dense(1, activation="sigmoid")])
a.compile(loss=bce)
b = keras.Sequential([keras.layers.Dense(1)])
b.compile(loss=bce)
"""
    (result,) = results_of(tmp_path, source)
    assert result.code == "ACT102" and result.fix["applicability"] == "unsafe"


def test_a_head_read_through_an_unresolved_training_flag_gets_no_safe_fix(tmp_path):
    forward = """\
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)
    def forward(self, x):
        x = self.fc(x)
        {branch}
        return x
model = Net()
criterion = nn.NLLLoss()
for x, y in loader:
    criterion(model(x), y).backward()
"""
    (assumed,) = results_of(tmp_path, forward.format(branch="if not self.training: x = F.softmax(x, dim=1)"))
    (resolved,) = results_of(tmp_path, forward.format(branch="pass"), "plain.py")
    (dropout,) = results_of(tmp_path, forward.format(branch="if self.training: x = F.dropout(x, 0.5)"), "drop.py")
    assert assumed.code == resolved.code == dropout.code == "ACT104"
    assert assumed.fix["applicability"] == "unsafe" and resolved.fix["applicability"] == "safe"
    assert dropout.fix["applicability"] == "safe"  # the branch left out changes no output


def test_a_loss_string_held_in_a_variable_becomes_an_object_only_unsafely(tmp_path):
    source = """\
from tensorflow import keras
LOSS = "binary_crossentropy"
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(loss=LOSS)
print("training with", LOSS)
"""
    (result,) = results_of(tmp_path, source)
    assert result.code == "ACT103" and result.fix["applicability"] == "unsafe"
    assert result.fix["edits"][0]["content"] == "keras.losses.BinaryCrossentropy(from_logits=True)"


def test_an_added_argument_keeps_one_argument_per_line(tmp_path):
    source = """\
import keras
model = keras.Sequential([keras.layers.Dense(3)])
model.compile(loss=keras.losses.CategoricalCrossentropy(
    label_smoothing=0.1,
))
"""
    path = tmp_path / "model.py"
    path.write_text(source, encoding="utf-8")
    assert run(path, "--fix", "--no-cache").exit_code == 0
    assert path.read_text(encoding="utf-8") == source.replace(
        "    label_smoothing=0.1,\n", "    label_smoothing=0.1,\n    from_logits=True,\n")


def test_import_added_when_the_file_cannot_spell_keras_losses(tmp_path):
    source = """\
from keras.layers import Dense
from keras.models import Sequential

model = Sequential([Dense(1)])
model.compile(loss="binary_crossentropy")
"""
    path = tmp_path / "model.py"
    path.write_text(source, encoding="utf-8")
    assert run(path, "--fix", "--no-cache").exit_code == 0
    assert path.read_text(encoding="utf-8") == """\
from keras.layers import Dense
from keras.models import Sequential
from keras.losses import BinaryCrossentropy

model = Sequential([Dense(1)])
model.compile(loss=BinaryCrossentropy(from_logits=True))
"""


# -- CLI ---------------------------------------------------------------------------------------


def test_fix_writes_reports_what_remains_and_counts(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(TWO_BUGS, encoding="utf-8")
    result = run(path, "--fix", "--no-cache", "--output-format", "concise")
    assert result.exit_code == 0, result.output
    assert "Found 2 problems (2 fixed, 0 remaining" not in result.stderr  # all clear instead
    assert "All clear (2 fixed)" in result.stderr
    text = path.read_text(encoding="utf-8")
    assert 'loss="sparse_categorical_crossentropy"' in text and 'layers.Dense(1, activation="sigmoid")' in text


def test_without_fix_findings_are_marked_and_counted(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(TWO_BUGS, encoding="utf-8")
    result = run(path, "--no-cache", "--output-format", "concise")
    assert result.exit_code == 1
    assert [line.split(": ", 1)[1][:10] for line in result.stdout.splitlines() if not line.startswith(" ")] == \
        ["ACT302 [*]", "ACT201 [*]"]
    assert "[*] 2 fixable with the --fix option." in result.stderr


def test_unsafe_fixes_are_hidden_until_asked_for(tmp_path):
    path = tmp_path / "model.py"
    source = (FIXTURES / "keras" / "ACT304_cifar10_sigmoid_bce.py").read_text(encoding="utf-8")
    path.write_text(source, encoding="utf-8")
    shown = run(path, "--no-cache", "--output-format", "concise")
    assert "[*]" not in shown.stdout and "1 hidden fix can be enabled with the --unsafe-fixes option." in shown.stderr
    assert run(path, "--fix", "--no-cache").exit_code == 1
    assert path.read_text(encoding="utf-8") == source
    assert run(path, "--fix", "--unsafe-fixes", "--no-cache").exit_code == 0
    assert path.read_text(encoding="utf-8") != source


def test_diff_shows_the_edits_of_fix_and_writes_nothing(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(TWO_BUGS, encoding="utf-8")
    result = run(path, "--diff", "--no-cache")
    assert result.exit_code == 1
    assert path.read_text(encoding="utf-8") == TWO_BUGS
    minus = [l[1:] for l in result.stdout.splitlines() if l.startswith("-") and not l.startswith("---")]
    plus = [l[1:] for l in result.stdout.splitlines() if l.startswith("+") and not l.startswith("+++")]
    run(path, "--fix", "--no-cache")
    fixed = path.read_text(encoding="utf-8").splitlines()
    assert [l for l in TWO_BUGS.splitlines() if l not in fixed] == minus
    assert [l for l in fixed if l not in TWO_BUGS.splitlines()] == plus
    assert run(path, "--diff", "--no-cache").exit_code == 0


def test_fix_only_reports_nothing_but_the_count(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(TWO_BUGS, encoding="utf-8")
    result = run(path, "--fix-only", "--no-cache")
    assert result.exit_code == 0 and result.stdout == ""
    assert "Fixed 2 problems." in result.stderr


def test_fix_refuses_stdin():
    assert run("-", "--fix", input=BUGGY).exit_code == 2


# -- safety ------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["crlf", "bom", "latin-1", "tabs", "cr-only-comment"])
def test_round_trip_keeps_encoding_line_endings_and_indentation(tmp_path, variant):
    source = BUGGY.replace("model = keras.Sequential([", "def build():\n    return keras.Sequential([") \
        .replace("\n    layers.", "\n        layers.").replace("\n])\nmodel.compile", "\n    ])\nmodel = build()\nmodel.compile")
    original, expected = _variant(source, variant), _variant(source.replace('"softmax"', '"sigmoid"'), variant)
    path = tmp_path / "model.py"
    path.write_bytes(original)
    result = run(path, "--fix", "--no-cache")
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == expected


def _variant(source: str, variant: str) -> bytes:
    if variant == "crlf":
        return source.replace("\n", "\r\n").encode("utf-8")
    if variant == "bom":
        return b"\xef\xbb\xbf" + source.encode("utf-8")
    if variant == "latin-1":
        return ("# -*- coding: latin-1 -*-\n# donn\xe9es: \xe9t\xe9 \xa9\n" + source).encode("latin-1")
    if variant == "tabs":
        return source.replace("        ", "\t\t").replace("    ", "\t").encode("utf-8")
    return ("# a comment\n" + source).encode("utf-8")


def test_file_mode_is_kept_and_the_write_is_atomic(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(BUGGY, encoding="utf-8")
    path.chmod(0o750)
    run(path, "--fix", "--no-cache")
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py"]  # no temp file left behind


def test_a_file_with_a_syntax_error_is_never_fixed(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(BUGGY + "def broken(:\n", encoding="utf-8")
    result = run(path, "--fix", "--no-cache")
    assert path.read_text(encoding="utf-8") == BUGGY + "def broken(:\n"
    assert "ACT001" in result.stdout


def test_a_fix_that_would_not_parse_leaves_the_file_untouched_and_is_reported(tmp_path, monkeypatch):
    def broken(c):
        return fixes.Fix(fixes.SAFE, "break it", (fixes.Edit(c.head.site, cst.Name("lambda")),))

    monkeypatch.setitem(fixes.FIXES, ("keras", "ACT201"), broken)
    path = tmp_path / "model.py"
    path.write_text(BUGGY, encoding="utf-8")
    result = run(path, "--fix", "--no-cache")
    assert path.read_text(encoding="utf-8") == BUGGY
    assert result.exit_code == 2 and "does not parse" in result.stderr
