"""Determinism: the same tree gives byte-identical JSON whatever the number of worker processes,
the cache's state (none, cold, warm) and the order the files are named in.

Each run is its own interpreter with its own hash seed, so an order that leaks from a set or a
dict keyed by hashes shows up as a difference (the seeds are fixed: CI replays the same runs).
The fixtures are more than parallel.SERIAL_BELOW files, so `-j 2` really runs a process pool.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from actlint import parallel

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def actlint(cwd: Path, seed: int, *args) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    env.pop("ACTLINT_DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "actlint", "--output-format", "json", *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, timeout=300)
    assert done.returncode == 1, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("determinism")
    shutil.copytree(FIXTURES, root / "repo")
    (root / "repo" / ".git").mkdir()  # a project root: the cache goes to repo/.actlint_cache
    return root / "repo"


def files(tree: Path) -> list:
    return sorted(p for p in tree.rglob("*") if p.suffix in (".py", ".ipynb") and ".actlint_cache" not in p.parts)


@pytest.fixture(scope="module")
def baseline(tree) -> bytes:
    return actlint(tree.parent, 0, tree, "-j", "1", "--no-cache")


def test_the_tree_is_big_enough_for_a_pool_and_has_findings_of_every_kind(tree, baseline):
    assert len(files(tree)) >= 2 * parallel.SERIAL_BELOW
    items = json.loads(baseline)
    assert {item["filename"].rsplit(".", 1)[1] for item in items} == {"py", "ipynb"}
    assert any(item["related"] for item in items) and any(item["fix"] for item in items)
    assert len({item["code"] for item in items}) >= 10


def test_two_workers_give_the_same_bytes_as_one(tree, baseline):
    assert actlint(tree.parent, 1, tree, "-j", "2", "--no-cache") == baseline


def test_file_order_does_not_matter(tree, baseline):
    shuffled = files(tree)
    random.Random(9).shuffle(shuffled)
    assert actlint(tree.parent, 2, *shuffled, "-j", "1", "--no-cache") == baseline


def test_cold_and_warm_cache_give_the_same_bytes(tree, baseline):
    cache = tree / ".actlint_cache"
    shutil.rmtree(cache, ignore_errors=True)
    shuffled = files(tree)
    random.Random(4).shuffle(shuffled)
    assert actlint(tree.parent, 4, *shuffled, "-j", "2") == baseline  # cold: every file linted, then stored
    stored = sum(len(names) for _, _, names in os.walk(cache))
    assert stored >= parallel.SERIAL_BELOW
    shuffled.reverse()
    assert actlint(tree.parent, 5, *shuffled, "-j", "2") == baseline  # warm, looked up by forked screens
    assert actlint(tree.parent, 6, *shuffled, "-j", "1") == baseline  # warm, looked up in lint_many
    # Nothing new: every file was a hit. (An actlint file edited during the run changes the cache's
    # salt and fails this: run it on a checkout nobody is editing.)
    assert sum(len(names) for _, _, names in os.walk(cache)) == stored
