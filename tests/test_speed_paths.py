"""The process pool and the result cache change nothing but speed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actlint import parallel, parsing, prefilter
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
    real = parsing.parse
    monkeypatch.setattr(parsing, "parse", lambda *a: parsed.append(a[0]) or real(*a))
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


@pytest.mark.parametrize("garbage", ["{not json", "[]", '{"deps": [], "results": 3}', '{"deps": {}, "results": [{}]}',
                                     '{"deps": {"x.py": 1}}', "null", "\xff"])
def test_corrupt_cache_entry_is_a_miss(tree, garbage):
    path = tree / "fixtures" / "keras"
    cold = as_json(str(path), "--jobs", "1")
    for entry in (tree / ".actlint_cache").rglob("*"):
        if entry.is_file() and entry.name != ".gitignore" and entry.parent.name != "verified":
            entry.write_text(garbage, encoding="latin-1")
    assert as_json(str(path), "--jobs", "1") == cold


_PIECES = st.sampled_from([b"loss", b"criterion", b"Loss", b"_", b"x", b"9", b" ", b"\t", b"\n", b"=", b"==", b".",
                           b"keras", b"torch", b"tensorflow", b"jax", b"(", b"\xff", b"softmax", b".fit", b"fit",
                           b"Activation", b".backward(", b"compile", b"from ", b"import ", b"transformers",
                           b"num_labels"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=12).map(b"".join))
def test_prefilter_is_its_documented_definition(data):
    """worth_parsing finds LOSS_ASSIGNMENT's matches by substring search first; it must agree with the
    plain definition on every input (word boundaries, `==`, tails of identifier bytes)."""
    framework = any(t in data for t in prefilter.FRAMEWORK_TOKENS)
    reference = any(t in data for t in prefilter.RULE_TOKENS) if framework else \
        prefilter.LOSS_ASSIGNMENT.search(data) is not None
    assert prefilter.worth_parsing(data) == reference


@pytest.mark.parametrize("source, kept", [
    (b"val_loss = 1\n", False),  # no word boundary before loss: the regex's \b
    (b"loss_fn = get(name)\n", True),
    (b"self.criterion=make()\n", True),
    (b"if loss == best:\n    pass\n", True),  # `\w*\s*=` matches the first '=' of '=='
    (b"import jax\nx = jax.nn.softmax(y)\n", True),  # the flax frontend reads jax (it read none before)
    (b"import jax.numpy as jnp\nimport optax\nl = optax.softmax_cross_entropy(z, y)\n", True),
    (b"import jax.numpy as jnp\nx = jnp.zeros(3)\n", False),  # names nothing a rule looks at
    (b"from transformers import Trainer\nTrainer(model=m, train_dataset=d).train()\n", False),
    (b"import transformers\nm = transformers.AutoModelForSequenceClassification.from_pretrained(c, num_labels=3)\n", True),
    (b"# a pipeline of transformers\nfrom sklearn.pipeline import Pipeline\nprint(log_loss(y, p))\n", False),
    (b"print('lossless')\n", False),
    (b"import torch\nclass Block(torch.nn.Module):\n    pass\n", False),  # names nothing a rule looks at
    (b"import torch.nn as nn\nhead = nn.Softmax()\n", True),
    (b"from tensorflow import keras\nmodel.fit(x, y)\n", True),  # targets for a model imported from elsewhere
    (b"import torch\nout = crit(model(x), y)\nout.backward()\n", True),  # an imported criterion
    (b"from keras import layers\nlayers.Dense(1, activation=cfg.act)\n", True),
])
def test_prefilter_examples(source, kept):
    assert prefilter.worth_parsing(source) is kept


def test_forked_screen_serves_a_warm_tree_from_the_cache(tree, monkeypatch):
    """From SCREEN_FROM files on, reading, the prefilter and the cache look-ups are shared by forked
    processes; a warm run then parses nothing, anywhere (a parse would be an ACT003 in the results)."""
    monkeypatch.setattr(parallel, "SCREEN_FROM", 2)
    cold = as_json(str(tree / "fixtures"), "--jobs", "2")

    def no_parse(*args):
        raise AssertionError("parsed a cached file")

    monkeypatch.setattr(parsing, "parse", no_parse)
    assert as_json(str(tree / "fixtures"), "--jobs", "2") == cold
    assert as_json(str(tree / "fixtures"), "--jobs", "3") == cold
    (tree / "fixtures" / "keras" / "new_file.py").write_text("import keras\nmodel.compile(loss='mse')\n")  # a miss
    result = invoke(["--output-format", "json", "--exit-zero", str(tree / "fixtures"), "--jobs", "2"])
    assert result.exit_code == 2  # the internal error
    assert [r["code"] for r in json.loads(result.stdout)].count("ACT003") == 1


def test_a_dead_fork_has_its_share_done_by_the_parent():
    import os

    parent = os.getpid()

    def double(part):
        if os.getpid() != parent:
            os._exit(3)  # the child dies before answering
        return [x * 2 for x in part]

    assert parallel._forked_map(double, [[1], [2, 3], [4]]) == [[2], [4, 6], [8]]


@pytest.mark.parametrize("args, verified", [
    ([], False),  # concise (not a terminal): no verified: line, so no numpy
    (["--output-format", "gitlab"], False),
    (["--statistics", "--output-format", "full"], False),
    (["--output-format", "json"], True),
    (["--output-format", "full"], True),
])
def test_verification_is_computed_only_for_outputs_that_show_it(tmp_path, args, verified):
    import subprocess
    import sys

    (tmp_path / "train.py").write_text((FIXTURES.parent / "examples" / "train_mnist.py").read_text())
    script = ("import sys\nfrom actlint.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
              "print('numpy' in sys.modules, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "train.py"), "--no-cache", *args],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.stderr.splitlines()[-1] == str(verified), done.stderr
    assert ("verified:" in done.stdout or '"verification": {' in done.stdout) == verified
    assert "ACT302" in done.stdout


def test_the_command_exits_fast_without_losing_output(tree):
    """`actlint` (and `python -m actlint`) end with os._exit after flushing: every byte of a large
    report still arrives through a pipe, the summary too, with the right exit code."""
    import subprocess
    import sys

    args = [str(tree / "fixtures"), "--output-format", "json", "--no-cache", "-j", "2"]
    done = subprocess.run([sys.executable, "-m", "actlint", *args], capture_output=True, text=True)
    inside = invoke(args)
    assert done.returncode == inside.exit_code == 1
    assert len(done.stdout) > 100_000 and json.loads(done.stdout) == json.loads(inside.stdout)
    assert done.stderr == inside.stderr and done.stderr.startswith("Found ")
    assert subprocess.run([sys.executable, "-m", "actlint", "--bogus"], capture_output=True).returncode == 2


def test_a_framework_file_the_prefilter_drops_is_remembered_as_clean(tmp_path, monkeypatch):
    """The prefilter's second stage (every token a rule looks at) runs after the cache look-up, and a
    file it drops gets an empty entry: a warm run neither scans nor parses it again."""
    (tmp_path / "pyproject.toml").write_text("")
    layer = tmp_path / "layers.py"
    layer.write_bytes(b"import torch\nclass Block(torch.nn.Module):\n    pass\n")
    cache = Cache(tmp_path)
    assert lint_paths([str(layer)], cache=cache).results == []
    key = cache.key(str(layer), layer.read_bytes())
    assert (cache.folder / key[:2] / key).read_bytes() == b""
    monkeypatch.setattr(prefilter, "names_a_rule", lambda text: pytest.fail("scanned again"))
    assert lint_paths([str(layer)], cache=Cache(tmp_path)).results == []


def test_a_screened_file_is_not_scanned_again(tmp_path, monkeypatch):
    """The forked screen prefilters and looks up each file once: the files it keeps are parsed without
    another prefilter pass (in lint_many or lint_source). This process screens its own share only."""
    for i in range(6):
        (tmp_path / f"train{i}.py").write_text(f"import torch\ncriterion = torch.nn.NLLLoss()  # {i}\n")
    monkeypatch.setattr(parallel, "SCREEN_FROM", 2)
    scanned = []
    real = prefilter.names_a_framework
    monkeypatch.setattr(prefilter, "names_a_framework", lambda text: scanned.append(text) or real(text))
    assert lint_paths([str(tmp_path)], jobs=2).results == []
    assert len(scanned) == 3 and len(set(scanned)) == 3  # train0, 2, 4: the other half is the fork's
