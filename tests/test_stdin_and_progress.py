"""`actlint -` reads stdin (named by --stdin-filename); the progress line shows only to a person."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from actlint import progress
from support import BUGGY, CLEAN, codes, run

NOTEBOOK = Path(__file__).resolve().parent.parent / "fixtures" / "notebooks" / "one_cell_bug.ipynb"


def test_stdin_is_reported_as_dash():
    result = run("-", input=BUGGY)
    assert result.exit_code == 1
    assert result.stdout.startswith("-:6:5: ACT201 ")
    assert "1 file checked" in result.stderr


def test_stdin_clean():
    assert run("-", input=CLEAN).exit_code == 0


def test_stdin_filename_names_the_report_and_finds_the_config(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.actlint]\nper-file-ignores = {"legacy_*.py" = ["ACT201"]}\n')
    name = tmp_path / "pkg" / "model.py"
    assert run("-", "--stdin-filename", name, input=BUGGY).stdout.startswith(f"{name}:6:5: ACT201")
    assert run("-", "--stdin-filename", tmp_path / "pkg" / "legacy_model.py", input=BUGGY).exit_code == 0


def test_stdin_filename_alone_reads_stdin():
    assert codes(run("--stdin-filename", "model.py", input=BUGGY)) == ["ACT201"]


def test_stdin_notebook():
    result = run("-", "--stdin-filename", "nb.ipynb", "--output-format", "json", input=NOTEBOOK.read_text())
    (item,) = json.loads(result.stdout)
    assert (item["filename"], item["cell"], item["location"]["row"]) == ("nb.ipynb", 4, 4)


def test_stdin_suppressions_and_force_exclude(tmp_path):
    assert run("-", input=BUGGY.replace('"softmax"),', '"softmax"),  # noqa')).exit_code == 0
    (tmp_path / "actlint.toml").write_text('extend-exclude = ["gen/"]\n')
    name = tmp_path / "gen" / "m.py"
    assert run("-", "--stdin-filename", name, input=BUGGY).exit_code == 1
    assert run("-", "--stdin-filename", name, "--force-exclude", input=BUGGY).exit_code == 0


def test_dash_with_other_paths_is_a_usage_error(tmp_path):
    assert run("-", tmp_path, input=BUGGY).exit_code == 2


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_line_appears_after_the_delay_and_clears():
    stream, clock = io.StringIO(), Clock()
    line = progress.ProgressLine(stream, delay=2.0, clock=clock)
    line(1, 10, 0)
    assert stream.getvalue() == ""
    clock.now = 2.5
    line(2, 10, 1)
    line(3, 10, 2)  # within a tenth of a second: not redrawn
    clock.now = 2.7
    line(4, 10, 2)
    line(10, 10, 5)  # the last file is always shown
    assert stream.getvalue().split("\r")[1:] == [
        "actlint: 2/10 files, 1 finding", "actlint: 4/10 files, 2 findings", "actlint: 10/10 files, 5 findings"]
    line.clear()
    assert stream.getvalue().endswith("\r" + " " * len("actlint: 10/10 files, 5 findings") + "\r")


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("stream, machine, env, shown", [
    (Terminal(), False, {}, True),
    (io.StringIO(), False, {}, False),  # a pipe
    (Terminal(), True, {}, False),  # json, sarif, ...
    (Terminal(), False, {"CI": "true"}, False),
    (Terminal(), False, {"TERM": "dumb"}, False),
])
def test_progress_only_for_a_person(monkeypatch, stream, machine, env, shown):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert progress.wanted(stream, machine) is shown


def test_no_progress_in_a_pipe(tmp_path):
    for i in range(3):
        (tmp_path / f"m{i}.py").write_text(BUGGY)
    result = subprocess.run([sys.executable, "-m", "actlint", str(tmp_path)], capture_output=True, text=True)
    assert "\r" not in result.stderr and "files," not in result.stderr


def test_stdin_in_a_real_process():
    result = subprocess.run([sys.executable, "-m", "actlint", "-", "--stdin-filename", "src/model.py"],
                            input=BUGGY.encode(), capture_output=True)
    assert result.returncode == 1
    assert result.stdout.decode().startswith("src/model.py:6:5: ACT201")


def test_progress_counts_the_findings_so_far(tmp_path):
    """The progress callback gets the findings found so far (the run's selection applied), not 0."""
    from actlint.runner import Selection, lint_paths

    for i in range(3):
        (tmp_path / f"m{i}.py").write_text(BUGGY)
    (tmp_path / "clean.py").write_text(CLEAN)
    calls = []
    run_ = lint_paths([str(tmp_path)], progress=lambda *args: calls.append(args))
    assert len(run_.findings) == 3
    assert [done for done, _, _ in calls] == [1, 2, 3, 4] and {total for _, total, _ in calls} == {4}
    assert [found for _, _, found in calls][-1] == 3 and sorted(found for _, _, found in calls) == [
        found for _, _, found in calls]
    ignored = []
    lint_paths([str(tmp_path)], Selection(None, ("ACT201",)), progress=lambda *args: ignored.append(args))
    assert ignored[-1] == (4, 4, 0)
