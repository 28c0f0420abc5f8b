"""Hostile input: whatever a repository holds, actlint gives the bad file one clear one-line diagnostic,
never a traceback, and still lints every other file of the run.

tests/test_cli.py covers the basic undecodable files (NUL bytes, an unknown `coding:` cookie, invalid
UTF-8, one file each); here each hostile file sits beside a buggy one in the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import BUGGY, invoke

ARGS = ("--output-format", "json", "--no-cache", "-j", "1")


def lint(*paths, extra=()):
    """(exit code, {file name: [(code, message)]}, stderr) of one CLI run."""
    result = invoke([*ARGS, *extra, *map(str, paths)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, _by_file(result.stdout), result.stderr


def _by_file(stdout: str) -> dict:
    found = {}
    for item in json.loads(stdout or "[]"):
        found.setdefault(Path(item["filename"]).name, []).append((item["code"], item["message"]))
    return found


def assert_one_diagnostic(found: dict, name: str, code: str, words: str = ""):
    assert len(found.get(name, [])) == 1, found.get(name)
    (got, message), = found[name]
    assert got == code, message
    assert words in message
    assert "\n" not in message and len(message) < 300


def assert_good_file_linted(found: dict, name: str = "good.py"):
    assert [code for code, _ in found[name]] == ["ACT201"]


@pytest.fixture
def beside(tmp_path):
    """A folder with a buggy file in it: a hostile file added beside it must not stop its linting."""
    (tmp_path / "good.py").write_text(BUGGY)
    return tmp_path


# -- encodings and bytes -------------------------------------------------------------------------

ENCODED = {
    "bad_utf8.py": (b"from torch.nn import CrossEntropyLoss\nlabel = '\xe9chec'\n", "ACT002", "cannot decode the file: 'utf-8' codec"),
    "klingon.py": (b"# -*- coding: klingon -*-\nfrom torch.nn import CrossEntropyLoss\n", "ACT002", "unknown encoding: klingon"),
    "utf16.py": ("from torch.nn import CrossEntropyLoss\nmodel = torch.nn.Linear(4, 2)\n".encode("utf-16"), "ACT002", "it is UTF-16 text"),
    "utf32.py": ("from torch.nn import CrossEntropyLoss\n".encode("utf-32"), "ACT002", "it is UTF-32 text"),
    "nul.py": (b"from torch.nn import CrossEntropyLoss\n\x00x = 1\n", "ACT002", "NUL bytes"),
    "py2_print.py": (b'from torch.nn import CrossEntropyLoss\nprint "loss", 0.5\n', "ACT001", "Missing parentheses in call to 'print'"),
    "py2_backticks.py": (b"from torch.nn import CrossEntropyLoss\nx = `1`\n", "ACT001", "syntax error"),
    "py2_octal.py": (b"from torch.nn import CrossEntropyLoss\nmode = 0777\n", "ACT001", "syntax error"),
}


@pytest.mark.parametrize("name", sorted(ENCODED))
def test_undecodable_and_python2_files(beside, name):
    data, code, words = ENCODED[name]
    (beside / name).write_bytes(data)
    status, found, _ = lint(beside)
    assert status == 1
    assert_one_diagnostic(found, name, code, words)
    assert_good_file_linted(found)


def test_utf16_without_framework_names_is_not_worth_a_diagnostic(beside):
    (beside / "notes.py").write_bytes("print('hello')\n".encode("utf-16"))
    status, found, _ = lint(beside)
    assert "notes.py" not in found


def test_python2_except_comma_is_python_314_syntax_and_still_linted(beside):
    """`except E, e:` is Python 2, but also PEP 758 syntax (3.14: catch E or e): libcst parses it, so
    the file is linted like any other and its bug is found."""
    (beside / "old.py").write_text(BUGGY + "try:\n    pass\nexcept ValueError, e:\n    pass\n")
    status, found, _ = lint(beside)
    assert status == 1
    assert_good_file_linted(found, "old.py")
    assert_good_file_linted(found)


def test_a_single_one_megabyte_line(beside):
    (beside / "long_line.py").write_text("from torch.nn import CrossEntropyLoss\nWEIGHTS = '" + "a" * 1_000_000 + "'\n")
    status, found, _ = lint(beside)
    assert status == 1
    assert "long_line.py" not in found  # linted, nothing wrong with it
    assert_good_file_linted(found)


# -- nesting (recursion) ---------------------------------------------------------------------------
# Each shape was either refused by CPython, crashed libcst's native parser (a segfault, exit 139) or
# took it minutes. They run in one subprocess: a crash must fail these tests, not the test session.

N = 10_000
NESTED = {
    "parens.py": ("x = " + "(" * N + "1" + ")" * N, "ACT001", "too many nested parentheses"),
    "negations.py": ("x = " + "-(" * N + "1" + ")" * N, "ACT001", "too many nested parentheses"),
    "lists.py": ("x = " + "[" * N + "]" * N, "ACT001", "too many nested parentheses"),
    "unary.py": ("x = " + "-" * N + "1", "ACT004", "nested too deeply"),
    "not_not.py": ("x = " + "not " * N + "a", "ACT004", "nested too deeply"),
    "sum_100k.py": ("x = a" + "+a" * 100_000, "ACT004", "nested too deeply"),
    "and_chain.py": ("x = a" + " and a" * N, "ACT004", "nested too deeply"),
    "attributes.py": ("x = a" + ".b" * N, "ACT004", "nested too deeply"),
    "calls.py": ("x = f" + "()" * N, "ACT004", "nested too deeply"),
    "methods.py": ("x = a" + ".f()" * N, "ACT004", "nested too deeply"),
    "subscripts.py": ("x = a" + "[0]" * N, "ACT004", "nested too deeply"),
    "lambdas.py": ("f = " + "lambda: " * N + "1", "ACT004", "nested too deeply"),
    "conditionals.py": ("x = " + "a if b else " * N + "c", "ACT004", "nested too deeply"),
    "elifs.py": ("if a:\n    pass\n" + "elif a:\n    pass\n" * 5000, "ACT004", "nested too deeply"),
    "fluent_lines.py": ("x = (a\n" + "    .b()\n" * 5000 + ")", "ACT004", "nested too deeply"),
    "and_lines.py": ("x = (a\n" + "    and a\n" * N + ")", "ACT004", "nested too deeply"),
    "backslashes.py": ("x = a \\\n" + "  .b \\\n" * 5000 + "  .c", "ACT004", "nested too deeply"),
    "defs.py": ("".join(" " * i + f"def f{i}():\n" for i in range(1000)) + " " * 1000 + "pass", "ACT001",
                "too many levels of indentation"),
    "ifs.py": ("".join(" " * i + "if a:\n" for i in range(1000)) + " " * 1000 + "pass", "ACT001",
               "too many levels of indentation"),
    "strings.py": ("x = " + " ".join(['"a"'] * N), "ACT001", "libcst cannot parse"),
}


@pytest.fixture(scope="module")
def nested_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nested")
    (folder / "good.py").write_text(BUGGY)
    for name, (code, _, _) in NESTED.items():
        (folder / name).write_text("from torch.nn import CrossEntropyLoss\n" + code + "\n")
    done = subprocess.run([sys.executable, "-m", "actlint", *ARGS, str(folder)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "ACTLINT_DEBUG": ""})
    return done


def test_nested_run_survives(nested_run):
    assert nested_run.returncode == 1, nested_run.stderr[-2000:]
    assert "Traceback" not in nested_run.stderr
    assert_good_file_linted(_by_file(nested_run.stdout))


@pytest.mark.parametrize("name", sorted(NESTED))
def test_deep_nesting_is_one_diagnostic(nested_run, name):
    _, code, words = NESTED[name]
    assert_one_diagnostic(_by_file(nested_run.stdout), name, code, words)


def test_nesting_just_under_the_limits_is_linted(beside):
    """Deep but legal: brackets 99 deep, 99 indented blocks, a 300-level chain. Linted, no diagnostic."""
    (beside / "deep_ok.py").write_text(
        "from torch.nn import CrossEntropyLoss\n"
        + "x = " + "[" * 99 + "]" * 99 + "\n"
        + "".join("    " * i + "if a:\n" for i in range(99)) + "    " * 99 + "pass\n"
        + "y = a" + ".b" * 300 + "\n"
    )
    status, found, _ = lint(beside)
    assert "deep_ok.py" not in found
    assert_good_file_linted(found)


def test_recursion_inside_the_analysis_is_a_skip_not_an_internal_error(beside):
    """A 490-deep elif chain passes the parser guard, then overflows libcst's recursive code generation
    (positions for the findings), which re-raises the RecursionError as a KeyError chain."""
    body = "import torch.nn as nn\nif a:\n    pass\n" + "elif a:\n    act = nn.Softmax()\n" * 490
    (beside / "elifs.py").write_text(body)
    status, found, _ = lint(beside)
    assert status == 1
    assert_one_diagnostic(found, "elifs.py", "ACT004", "nested too deeply")
    assert_good_file_linted(found)


def test_internal_error_message_is_one_short_line_even_when_str_fails(beside, monkeypatch):
    import actlint.frontends.analysis as frontends

    class Unprintable(Exception):
        def __str__(self):
            raise RecursionError("repr of a huge tree")

    def explode(*args):
        raise Unprintable()

    monkeypatch.setattr(frontends, "analyze_module", explode)
    status, found, _ = lint(beside)
    assert status == 2
    assert found["good.py"] == [("ACT003", "internal error: Unprintable")]


# -- the time budget -------------------------------------------------------------------------------


class TickingClock:
    """time.monotonic for the interpreter: one second passes at each look at it."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        self.now += 1.0
        return self.now


SLOW = "from torch.nn import CrossEntropyLoss\n" + "".join(f"w{i} = torch.zeros({i})\n" for i in range(600))  # ~2,400 steps


@pytest.fixture
def ticking(monkeypatch):
    """A clock that passes the 10 s budget after ~1,000 steps; BUGGY's ~20 steps never look at it."""
    from actlint.frontends import interp

    monkeypatch.setattr(interp, "time", TickingClock())
    monkeypatch.setattr(interp, "CLOCK_EVERY", 100)
    return interp


def test_a_file_over_the_time_budget_is_skipped(beside, ticking):
    (beside / "slow.py").write_text(SLOW)
    status, found, _ = lint(beside)
    assert status == 1
    assert_one_diagnostic(found, "slow.py", "ACT004", f"skipped: analysis took longer than {ticking.TIME_BUDGET:g} s")
    assert_good_file_linted(found)


def test_an_imported_module_counts_against_the_importer_budget(tmp_path, ticking):
    (tmp_path / "weights.py").write_text(SLOW)
    (tmp_path / "train.py").write_text("from weights import w1\n" + BUGGY)
    status, found, _ = lint(tmp_path / "train.py")
    assert_one_diagnostic(found, "train.py", "ACT004", "took longer than")


def test_the_time_budget_is_checked_on_the_wall_clock(monkeypatch):
    """The real clock: a budget of zero stops a long file at its first look."""
    from actlint.engine import lint_source
    from actlint.frontends import interp

    monkeypatch.setattr(interp, "TIME_BUDGET", 0.0)
    report = lint_source("slow.py", SLOW.encode())
    assert [(r.code, r.message) for r in report.results] == [("ACT004", "skipped: analysis took longer than 0 s")]


# -- the size limit ------------------------------------------------------------------------------------


def huge(path: Path, size: int = 50 << 20) -> Path:
    """A sparse file: 50 MB on paper, made in microseconds (mostly NUL bytes, were it ever read)."""
    with open(path, "wb") as handle:
        handle.write(b"from torch.nn import CrossEntropyLoss\n")
        handle.truncate(size)
    return path


def test_a_50_megabyte_file_is_skipped_unread(beside, monkeypatch):
    opened = []
    real_open = os.open

    def recording_open(file, *args, **kwargs):  # sources.read_file reads with os.open / os.read
        opened.append(os.path.basename(str(file)))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    huge(beside / "weights_dump.py")
    status, found, _ = lint(beside)
    assert status == 1
    assert_one_diagnostic(found, "weights_dump.py", "ACT004",
                          "skipped: the file is 50 MB, over the max-file-size limit of 1 MB")
    assert_good_file_linted(found)
    assert "good.py" in opened and "weights_dump.py" not in opened


def test_just_over_the_limit_says_by_how_much(beside):
    (beside / "big.py").write_text("import torch\n" + "#" * (1 << 20) + "\n")
    status, found, _ = lint(beside)
    assert_one_diagnostic(found, "big.py", "ACT004", "the file is 1,048,590 bytes, over the max-file-size limit of 1 MB")


def test_max_file_size_from_the_configuration_and_the_command_line(beside):
    (beside / "pyproject.toml").write_text("[tool.actlint]\nmax-file-size = 100\n")
    status, found, _ = lint(beside)
    assert status == 1
    assert_one_diagnostic(found, "good.py", "ACT004", "the file is 240 bytes, over the max-file-size limit of 100 bytes")
    status, found, _ = lint(beside, extra=("--max-file-size", "0"))  # the command line wins; 0: no limit
    assert_good_file_linted(found)
    huge(beside / "dump.py", 2 << 20)
    status, found, _ = lint(beside, extra=("--max-file-size", str(3 << 20)))
    assert_one_diagnostic(found, "dump.py", "ACT002", "NUL bytes")  # under the limit: read, and found binary
    assert_good_file_linted(found)


@pytest.mark.parametrize("value", ["-1", '"1MB"', "true", "1.5", "[1]"])
def test_max_file_size_must_be_a_byte_count(beside, value):
    (beside / "pyproject.toml").write_text(f"[tool.actlint]\nmax-file-size = {value}\n")
    result = invoke([*ARGS, str(beside)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"actlint: error: {beside / 'pyproject.toml'}: [tool.actlint] max-file-size: ")
    assert "expected a number of bytes" in result.stderr and "Traceback" not in result.output


def test_the_command_line_refuses_a_negative_size(beside):
    assert invoke(["--max-file-size", "-5", str(beside)]).exit_code == 2


def notebook(code: str, output_bytes: int = 0) -> str:
    outputs = [{"output_type": "display_data", "metadata": {}, "data": {"image/png": "A" * output_bytes}}]
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": code, "outputs": outputs}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_a_notebook_limit_is_on_its_code_not_its_plots(beside):
    (beside / "plots.ipynb").write_text(notebook(BUGGY, 2 << 20))  # 2 MB of outputs, 240 bytes of code
    (beside / "generated.ipynb").write_text(notebook("import torch\n" + "#" * (1 << 20)))
    status, found, _ = lint(beside)
    assert [code for code, _ in found["plots.ipynb"]] == ["ACT201"]
    assert_one_diagnostic(found, "generated.ipynb", "ACT004", "skipped: its code is 1,048,590 bytes, over the")
    assert_good_file_linted(found)


# -- paths that are not regular files ---------------------------------------------------------------


def test_a_directory_named_like_a_python_file_is_walked(beside):
    (beside / "model.py").mkdir()
    (beside / "model.py" / "inner.py").write_text(BUGGY)
    status, found, _ = lint(beside, beside / "model.py")
    assert status == 1
    assert_good_file_linted(found, "inner.py")
    assert_good_file_linted(found)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("named", [False, True], ids=["found", "named"])
def test_a_fifo_is_never_opened(beside, named):
    """Opening a FIFO with no writer blocks forever: the run must not."""
    os.mkfifo(beside / "pipe.py")
    status, found, _ = lint(beside / "pipe.py", beside) if named else lint(beside)
    assert status == 1
    assert_one_diagnostic(found, "pipe.py", "ACT002", "not a regular file")
    assert_good_file_linted(found)


def test_a_fifo_a_project_file_would_import_is_not_followed(beside):
    os.mkfifo(beside / "helpers.py")
    (beside / "train.py").write_text("from helpers import NUM_CLASSES\n" + BUGGY)
    status, found, _ = lint(beside / "train.py")
    assert_good_file_linted(found, "train.py")


@pytest.mark.parametrize("named", [False, True], ids=["found", "named"])
def test_a_symlink_loop(beside, named):
    os.symlink("loop_b.py", beside / "loop_a.py")
    os.symlink("loop_a.py", beside / "loop_b.py")
    status, found, _ = lint(beside / "loop_a.py", beside) if named else lint(beside)
    assert status == 1
    for name in ("loop_a.py", "loop_b.py"):
        assert_one_diagnostic(found, name, "ACT002", "cannot read the file: Too many levels of symbolic links")
    assert_good_file_linted(found)


def test_a_dangling_symlink(beside):
    os.symlink("gone.py", beside / "dangling.py")
    status, found, _ = lint(beside)
    assert_one_diagnostic(found, "dangling.py", "ACT002", "cannot read the file: No such file or directory")
    assert_good_file_linted(found)


def test_a_folder_symlinked_into_itself_is_walked_once(beside):
    os.symlink(".", beside / "again")
    status, found, _ = lint(beside)
    assert list(found) == ["good.py"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_an_unreadable_file(beside):
    (beside / "secret.py").write_text(BUGGY)
    (beside / "secret.py").chmod(0)
    status, found, _ = lint(beside)
    assert_one_diagnostic(found, "secret.py", "ACT002", "cannot read the file: Permission denied")
    assert_good_file_linted(found)


def test_an_unreadable_file_as_root_sees_it(beside, monkeypatch):
    """The same path for root (CI containers): opening fails with EACCES."""
    real_open = os.open

    def denying_open(file, *args, **kwargs):
        if os.path.basename(str(file)) == "secret.py":
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", denying_open)
    (beside / "secret.py").write_text(BUGGY)
    status, found, _ = lint(beside)
    assert_one_diagnostic(found, "secret.py", "ACT002", "cannot read the file: Permission denied")
    assert_good_file_linted(found)


def test_a_file_that_vanishes_after_discovery(beside, monkeypatch):
    from actlint import runner

    discover = runner.discover

    def discover_then_delete(*args, **kwargs):
        found = discover(*args, **kwargs)
        (beside / "temp.py").unlink()
        return found

    (beside / "temp.py").write_text(BUGGY)
    monkeypatch.setattr(runner, "discover", discover_then_delete)
    status, found, _ = lint(beside)
    assert status == 1
    assert_one_diagnostic(found, "temp.py", "ACT002", "cannot read the file: No such file or directory")
    assert_good_file_linted(found)


def test_a_file_that_vanishes_before_its_findings_are_shown(beside, monkeypatch):
    """Findings are shown with their source lines and suppressions read after linting: the file is gone."""
    import actlint.parallel as parallel

    original = parallel.lint_many

    def lint_then_delete(*args, **kwargs):
        reports = original(*args, **kwargs)
        (beside / "good.py").unlink()
        return reports

    monkeypatch.setattr(parallel, "lint_many", lint_then_delete)
    result = invoke(["--output-format", "full", "--no-cache", "-j", "1", str(beside)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "ACT201" in result.stdout


# -- notebooks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("content, words", [
    (notebook(BUGGY)[: len(notebook(BUGGY)) // 2], "not valid JSON"),  # cut off mid-write
    ('{"cells": "import torch"}', "no list of cells"),
    ('{"cells": [{"cell_type": "code", "source": 3}]}', "cell 1 has a source that is not text"),
    ("from torch.nn import CrossEntropyLoss\nmodel = torch.nn.Linear(4, 2)\n", "not valid JSON"),  # a .py saved as .ipynb
])
def test_broken_notebooks_beside_good_files(beside, content, words):
    (beside / "broken.ipynb").write_text(content)
    (beside / "fine.ipynb").write_text(notebook(BUGGY))
    status, found, _ = lint(beside)
    assert status == 1
    assert_one_diagnostic(found, "broken.ipynb", "ACT002", words)
    assert_good_file_linted(found, "fine.ipynb")
    assert_good_file_linted(found)


def test_a_time_out_is_not_cached(tmp_path, monkeypatch):
    """Running out of time depends on the machine's load: the next run tries the file again."""
    from actlint.cache import Cache
    from actlint.frontends import interp
    from actlint.parallel import lint_many

    cache = Cache(tmp_path)
    monkeypatch.setattr(interp, "TIME_BUDGET", 0.0)
    first = lint_many([("slow.py", SLOW.encode())], 1, cache)["slow.py"]
    assert [r.code for r in first.results] == ["ACT004"]
    monkeypatch.setattr(interp, "TIME_BUDGET", 10.0)
    assert lint_many([("slow.py", SLOW.encode())], 1, cache)["slow.py"].results == []


def test_max_file_size_also_bounds_the_imported_project_files(tmp_path, monkeypatch):
    """An import is not followed into a project file over the size limit: it stays unknown (quiet)."""
    from actlint import parallel
    from actlint.runner import lint_paths

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "models.py").write_text(
        "from tensorflow import keras\n"
        "def build():\n"
        "    return keras.Sequential([keras.layers.Dense(10, activation='softmax')])\n" + "# padding\n" * 60
    )
    (tmp_path / "train.py").write_text(
        "from tensorflow import keras\nfrom models import build\n"
        "model = build()\n"
        "model.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))\n"
    )
    size = (tmp_path / "models.py").stat().st_size
    assert [r.code for r in lint_paths(["train.py"]).results] == ["ACT101"]
    assert [r.code for r in lint_paths(["train.py"], max_file_size=size).results] == ["ACT101"]
    assert lint_paths(["train.py"], max_file_size=size - 1).results == []
    assert [r.code for r in lint_paths(["train.py"], max_file_size=0).results] == ["ACT101"]  # 0: no limit
    monkeypatch.setattr(parallel, "SERIAL_BELOW", 1)  # on the process pool: its workers get the limit too
    assert lint_paths(["train.py"], jobs=2, max_file_size=size - 1).results == []
    assert [r.code for r in lint_paths(["train.py"], jobs=2, max_file_size=size).results] == ["ACT101"]
