"""Suppression comments: every form, on either end of a finding, and file-level; comments only."""

from __future__ import annotations

import pytest

from actlint.suppressions import ALL, parse
from support import BUGGY, TWO_BUGS, codes, run

HEAD = '    layers.Dense(1, activation="softmax"),'
LOSS = 'model.compile(optimizer="adam", loss="binary_crossentropy")'


def lint(tmp_path, source: str) -> list:
    path = tmp_path / "model.py"
    path.write_text(source)
    return codes(run(path))


@pytest.mark.parametrize("comment", [
    "# noqa: ACT201", "# noqa:ACT201", "# noqa: ACT201,ACT205", "# noqa: ACT205, ACT201", "# noqa",
    "# NOQA", "# actlint: ignore[ACT201]", "# actlint: ignore[ACT101, ACT201]", "# actlint: ignore",
    "# type: ignore  # noqa: ACT201", "# why: single output by design  # actlint: ignore[ACT201]",
])
@pytest.mark.parametrize("line", [HEAD, LOSS], ids=["head", "loss"])
def test_each_form_on_either_end_suppresses(tmp_path, comment, line):
    assert lint(tmp_path, BUGGY.replace(line, f"{line}  {comment}")) == []


@pytest.mark.parametrize("comment", [
    "# noqa: ACT101", "# noqa: E501", "# actlint: ignore[ACT205]", "# noqa:ACT2", "# actlint: noqa",
])
def test_other_codes_and_misplaced_forms_do_not_suppress(tmp_path, comment):
    assert lint(tmp_path, BUGGY.replace(HEAD, f"{HEAD}  {comment}")) == ["ACT201"]


def test_only_the_line_of_an_end_counts(tmp_path):
    source = BUGGY.replace("from tensorflow import keras", "from tensorflow import keras  # noqa")
    assert lint(tmp_path, source) == ["ACT201"]


def test_noqa_inside_a_string_does_nothing(tmp_path):
    source = BUGGY.replace(LOSS, 'model.compile(optimizer="adam # noqa", loss="binary_crossentropy")')
    assert lint(tmp_path, source) == ["ACT201"]


@pytest.mark.parametrize("comment, expected", [
    ("# actlint: noqa", []),
    ("# actlint: noqa: ACT201", ["ACT302"]),
    ("# ACTLINT: NOQA: ACT302, ACT201", []),
    ("#actlint:noqa:ACT302", ["ACT201"]),
])
def test_file_level_noqa(tmp_path, comment, expected):
    assert lint(tmp_path, f"{comment}\n{TWO_BUGS}") == expected


def test_one_suppression_leaves_the_other_finding(tmp_path):
    source = TWO_BUGS.replace('loss="categorical_crossentropy", metrics=["accuracy"])',
                              'loss="categorical_crossentropy", metrics=["accuracy"])  # noqa: ACT302')
    assert lint(tmp_path, source) == ["ACT201"]


def test_diagnostics_cannot_be_suppressed(tmp_path):
    assert lint(tmp_path, "# actlint: noqa\nfrom torch.nn import CrossEntropyLoss\ndef f(:  # noqa\n") == ["ACT001"]


def test_parse():
    found = parse("x = 1  # noqa: act101,ACT205\ny = '# noqa'\n# actlint: noqa\nz = 2  # actlint: ignore\n")
    assert found.lines == {1: {"ACT101", "ACT205"}, 4: {ALL}}
    assert found.file == {ALL}


def test_parse_survives_untokenizable_source():
    assert parse("x = (  # noqa\n").lines == {1: {ALL}}


def test_an_end_in_another_file_suppresses_where_it_is(tmp_path):
    (tmp_path / "models.py").write_text(
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n\n\ndef build():\n"
        "    return keras.Sequential([\n        layers.Dense(64, activation=\"relu\"),\n"
        "        layers.Dense(1, activation=\"softmax\"),\n    ])\n")
    train = "from models import build\n\nmodel = build()\nmodel.compile(optimizer=\"adam\", loss=\"binary_crossentropy\")\n"
    (tmp_path / "train.py").write_text(train)
    assert codes(run(tmp_path)) == ["ACT201"]
    (tmp_path / "train.py").write_text(train.replace('crossentropy")', 'crossentropy")  # noqa: ACT201'))
    assert codes(run(tmp_path)) == []
    (tmp_path / "train.py").write_text("# actlint: noqa\n" + train)
    assert codes(run(tmp_path)) == ["ACT201"]  # file-level silences what is reported in its own file
