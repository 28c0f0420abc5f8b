"""The command line: exit codes, selection, output formats, discovery and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from actlint import __version__
from tests.support import invoke

BUGGY = """\
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.Dense(1, activation="softmax"),
])
model.compile(optimizer="adam", loss="binary_crossentropy")
"""
CLEAN = BUGGY.replace('activation="softmax"', 'activation="sigmoid"')


def run(*args):
    return invoke(args)


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "buggy.py").write_text(BUGGY)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def test_findings_exit_1_and_point_at_both_ends(tree):
    result = run(str(tree / "buggy.py"))
    assert result.exit_code == 1
    first, related, *_ = result.stdout.splitlines()
    assert first == f"{tree / 'buggy.py'}:6:5: ACT201 [*] softmax over a single unit always outputs 1.0, so the model cannot learn"
    assert related.strip() == f"loss set at {tree / 'buggy.py'}:8:38"
    assert "Found 1 problem" in result.stderr


def test_clean_exits_0(tree):
    result = run(str(tree / "clean.py"))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "All clear: 1 file checked." in result.stderr


def test_exit_zero(tree):
    assert run("--exit-zero", str(tree)).exit_code == 0


@pytest.mark.parametrize("option, value, expected", [
    ("--select", "ACT201", 1), ("--select", "ACT2", 1), ("--select", "ACT3", 0),
    ("--ignore", "ACT201", 0), ("--ignore", "ACT2", 0), ("--ignore", "ACT3", 1),
])
def test_select_and_ignore_take_codes_and_prefixes(tree, option, value, expected):
    assert run(option, value, str(tree)).exit_code == expected


def test_select_more_specific_than_ignore_wins(tree):
    assert run("--ignore", "ACT2", "--select", "ACT201", str(tree)).exit_code == 1


def test_unknown_code_is_a_usage_error(tree):
    result = run("--select", "XYZ9", str(tree))
    assert result.exit_code == 2
    assert "unknown rule code" in result.output


def test_missing_path_is_one_line_and_exit_2(tree):
    result = run(str(tree / "nope.py"), str(tree / "buggy.py"))
    assert result.exit_code == 2
    assert "nope.py: no such file or directory" in result.stderr
    assert "ACT201" in result.stdout  # the other file is still linted
    assert "Traceback" not in result.output


def test_json_output_shape(tree):
    result = run("--output-format", "json", str(tree))
    assert result.exit_code == 1
    items = json.loads(result.stdout)
    assert len(items) == 1
    item = items[0]
    assert set(item) >= {"code", "name", "severity", "message", "filename", "location", "end_location",
                         "related", "fix", "verification"}
    assert (item["code"], item["name"], item["severity"]) == ("ACT201", "softmax-single-unit", "error")
    assert item["location"] == {"row": 6, "column": 5}
    assert item["end_location"] == {"row": 6, "column": 42}
    assert item["related"] == [{"filename": str(tree / "buggy.py"), "location": {"row": 8, "column": 38},
                                "message": "loss set"}]


def test_json_order_is_deterministic(tree):
    for name in ("b.py", "a.py", "c.py"):
        (tree / name).write_text(BUGGY)
    first = run("--output-format", "json", str(tree)).stdout
    assert first == run("--output-format", "json", str(tree / "c.py"), str(tree)).stdout
    files = [item["filename"] for item in json.loads(first)]
    assert files == sorted(files)


def test_discovery_skips_venvs_build_and_gitignored(tree):
    for folder in (".venv", "build", "dist", "__pycache__", "ignored", "env_like"):
        (tree / folder).mkdir()
        (tree / folder / "m.py").write_text(BUGGY)
    (tree / "env_like" / "pyvenv.cfg").write_text("home = /usr\n")
    (tree / ".gitignore").write_text("ignored/\n")
    result = run("--output-format", "json", str(tree))
    assert [Path(i["filename"]).name for i in json.loads(result.stdout)] == ["buggy.py"]


def test_syntax_error_gets_one_diagnostic_and_others_are_linted(tree):
    (tree / "broken.py").write_text("from torch.nn import CrossEntropyLoss\ndef f(:\n    pass\n")
    result = run(str(tree))
    assert result.exit_code == 1
    lines = [l for l in result.stdout.splitlines() if not l.startswith(" ")]
    assert any(l.startswith(f"{tree / 'broken.py'}:2:") and " ACT001 syntax error" in l for l in lines)
    assert any("ACT201" in l for l in lines)
    assert "Traceback" not in result.output


def test_files_not_analyzed_get_no_diagnostic(tree):
    """Diagnostics are for the files actlint analyzes: one that names no framework, or a framework but
    nothing a rule looks at (a layer, a data pipeline), is not parsed, so its syntax error is not ours
    to report (Python's own run will say it); the same error in a training file is ACT001."""
    (tree / "layers.py").write_text("import torch\nclass Block(torch.nn.Module):\n    def f(:\n        pass\n")
    (tree / "notes.py").write_text("print 'no framework here'\n")
    (tree / "train.py").write_text("import torch\ncriterion = torch.nn.CrossEntropyLoss(\n")
    found = {(Path(i["filename"]).name, i["code"]) for i in json.loads(run("--output-format", "json", str(tree)).stdout)}
    assert found == {("train.py", "ACT001"), ("buggy.py", "ACT201")}


@pytest.mark.parametrize("content, code", [
    (b"from torch.nn import CrossEntropyLoss\n\x00\x01\x02", "ACT002"),
    (b"# -*- coding: klingon -*-\nfrom torch.nn import CrossEntropyLoss\n", "ACT002"),
    (b"from torch.nn import CrossEntropyLoss\nx = '\xff\xfe'\n", "ACT002"),
])
def test_undecodable_files_get_one_diagnostic(tmp_path, content, code):
    path = tmp_path / "bad.py"
    path.write_bytes(content)
    result = run("--output-format", "json", str(path))
    items = json.loads(result.stdout)
    assert [i["code"] for i in items] == [code]
    assert "\n" not in items[0]["message"]


def test_empty_and_non_ml_files_are_clean(tmp_path):
    (tmp_path / "empty.py").write_text("")
    (tmp_path / "plain.py").write_text("print('hello')\n")
    assert run(str(tmp_path)).exit_code == 0


def test_internal_error_is_reported_and_exits_2(tree, monkeypatch):
    import actlint.frontends.analysis as frontends

    def explode(*args):
        raise ValueError("boom")

    monkeypatch.setattr(frontends, "analyze_module", explode)
    result = run(str(tree))
    assert result.exit_code == 2
    assert "ACT003 internal error: ValueError: boom" in result.stdout
    assert "Traceback" not in result.output


def test_list_rules_and_explain():
    listing = run("--list-rules")
    assert listing.exit_code == 0
    assert "ACT101  double-softmax" in listing.stdout
    explained = run("--explain", "ACT101")
    assert explained.exit_code == 0
    assert explained.stdout.startswith("ACT101 (double-softmax)")
    assert run("--explain", "ACT999").exit_code == 2


def test_version():
    assert run("--version").stdout.strip() == f"actlint, version {__version__}"


def test_python_dash_m(tree):
    result = subprocess.run([sys.executable, "-m", "actlint", str(tree / "buggy.py")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "ACT201" in result.stdout


def test_linting_never_imports_frameworks(tree):
    code = ("import sys; from actlint.runner import lint_paths; lint_paths([%r]); "
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'tf_keras') if m in sys.modules))" % str(tree))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize("args", [
    ["-j", "0"], ["--jobs", "two"], ["--max-file-size", "-5"], ["--output-format", "yaml"], ["--color", "red"],
    ["--bogus"], ["--sel", "ACT2"], ["--explain"], ["--isolated", "--config", "x.toml"], ["--fix", "-"],
])
def test_usage_errors_exit_2_with_the_usage_and_one_error_line(tree, args):
    result = run(*args, str(tree))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: actlint ")
    assert [line for line in result.stderr.splitlines() if line.startswith("actlint: error: ")] == \
        [result.stderr.splitlines()[-1]]


def test_config_must_be_a_file(tree):
    result = run("--config", str(tree), str(tree))
    assert result.exit_code == 2 and "is a directory" in result.stderr


def test_options_may_follow_the_paths(tree):
    assert run(str(tree / "buggy.py"), "--select", "ACT3", str(tree / "clean.py")).exit_code == 0


def test_a_closed_pipe_ends_quietly(tree):
    """`actlint src | head -1`: the reader is gone before the findings are written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    done = subprocess.run([sys.executable, "-m", "actlint", "--no-cache", str(tree)], stdout=write_end,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write_end)
    assert done.returncode == 1 and done.stderr == ""


def test_the_command_line_imports_nothing_heavy_before_it_runs():
    """click is the command line's one import of its own (issue 20 chose it over argparse's ~15 ms
    less); the engine, libcst, numpy and click's completion code come only when a run needs them."""
    heavy = ("libcst", "numpy", "actlint.engine", "actlint.runner", "click.shell_completion")
    code = f"import sys, actlint.cli; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_the_command_line_becomes_one_run_options_value():
    from actlint.cli import Fixing, RunOptions, _arguments

    options = RunOptions.from_args(_arguments(
        ["a.py", "b.py", "--select", "ACT1", "--exit-zero", "-j", "3", "--no-cache", "--max-file-size", "10",
         "--diff", "--unsafe-fixes"]))
    assert options.paths == ("a.py", "b.py") and options.select == "ACT1" and options.exit_zero
    assert (options.jobs, options.no_cache, options.max_file_size) == (3, True, 10)
    assert options.fixing == Fixing(wanted=True, unsafe=True, diff=True, only=False)
    assert RunOptions.from_args(_arguments([])) == RunOptions(color="auto")
