"""The process pool and the result cache change nothing but speed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import actlint.engine as engine
from actlint import parallel
from actlint.cache import Cache
from actlint.runner import lint_paths
from tests.support import invoke

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def as_json(*args) -> list:
    result = invoke(["--output-format", "json", "--exit-zero", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def tree(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    (tmp_path / "pyproject.toml").write_text("")
    return tmp_path


def test_pool_and_serial_agree(tree, monkeypatch):
    monkeypatch.setattr(parallel, "SERIAL_BELOW", 2)
    serial = as_json(str(tree / "fixtures"), "--jobs", "1", "--no-cache")
    pooled = as_json(str(tree / "fixtures"), "--jobs", "2", "--no-cache")
    assert serial == pooled
    assert len(serial) > 50


def test_warm_cache_gives_the_same_results_without_parsing(tree, monkeypatch):
    cold = as_json(str(tree / "fixtures"), "--jobs", "1")
    assert (tree / ".actlint_cache").is_dir()
    parsed = []
    real = engine._parse
    monkeypatch.setattr(engine, "_parse", lambda *a: parsed.append(a[0]) or real(*a))
    warm = as_json(str(tree / "fixtures"), "--jobs", "1")
    assert warm == cold
    assert parsed == []


def test_cache_is_ignored_by_git(tree):
    as_json(str(tree / "fixtures"), "--jobs", "1")
    assert (tree / ".actlint_cache" / ".gitignore").read_text().strip().endswith("*")


def test_editing_an_imported_file_invalidates_the_importer(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "models.py").write_text(
        "from tensorflow import keras\n"
        "def build():\n"
        "    return keras.Sequential([keras.layers.Dense(10, activation='softmax')])\n"
    )
    (tmp_path / "train.py").write_text(
        "from tensorflow import keras\nfrom models import build\n"
        "model = build()\n"
        "model.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))\n"
    )
    cache = Cache(tmp_path)
    first = lint_paths([str(tmp_path / "train.py")], cache=cache).results
    assert [r.code for r in first] == ["ACT101"]
    (tmp_path / "models.py").write_text((tmp_path / "models.py").read_text().replace("softmax", "linear"))
    assert lint_paths([str(tmp_path / "train.py")], cache=cache).results == []


def test_corrupt_cache_entry_is_a_miss(tree):
    path = tree / "fixtures" / "keras"
    cold = as_json(str(path), "--jobs", "1")
    for entry in (tree / ".actlint_cache").rglob("*"):
        if entry.is_file() and entry.name != ".gitignore":
            entry.write_text("{not json")
    assert as_json(str(path), "--jobs", "1") == cold
