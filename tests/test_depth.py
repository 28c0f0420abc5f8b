"""The depth guard holds whatever the caller's depth (issue 14).

libcst's passes recurse a few frames per level of nesting. A training file with an attribute chain
hundreds deep (`x.b.b...` in a method body) gets its findings, or one ACT004, and never an exception,
linted or fixed through `lint_paths`, `fix_until_stable` and `main()` called from a deep stack (a test
runner, a recursive helper), through a process pool and in a notebook, as from the command line.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from actlint.depth import raised_in, with_frames
from actlint.fixer import fix_until_stable
from actlint.parallel import SERIAL_BELOW
from actlint.runner import lint_paths
from tests.support import invoke

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TORCH = FIXTURES / "torch" / "ACT101_softmax_in_training_loop.py"  # ACT101, an unsafe fix
NOTEBOOK = FIXTURES / "notebooks" / "one_cell_bug.ipynb"  # ACT201, a safe fix
CHAINS = (300, 600, 900)
CALLERS = (100, 600)  # frames between the test and the call


def chained(chain: int) -> str:
    return f"x.size{'.b' * chain}"


def training_script(chain: int) -> str:
    source = TORCH.read_text(encoding="utf-8")
    return source.replace("    def forward(self, x):\n", f"    def forward(self, x):\n        shape = {chained(chain)}\n")


def notebook(chain: int) -> str:
    """The notebook with a cell whose method holds the chain, before the model's cell."""
    data = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": ["class Probe:\n", "    def shape(self, x):\n", f"        return {chained(chain)}\n"]}
    data["cells"].insert(3, cell)
    return json.dumps(data, indent=1)


def called_at(depth: int, function, *args, **kwargs):
    """function(*args, **kwargs), called `depth` frames below this one."""
    if depth <= 0:
        return function(*args, **kwargs)
    return called_at(depth - 1, function, *args, **kwargs)


def assert_findings_or_skipped(results, finding: str, chain: int) -> None:
    codes = [r.code for r in results]
    assert codes == ["ACT004"] or codes == [finding], codes
    if chain == 300:  # well within the budget: analyzed, whoever calls
        assert codes == [finding]


def room(n: int = 0) -> int:
    """How many more frames can be called from here."""
    try:
        return room(n + 1)
    except RecursionError:
        return n


def test_the_frame_budget_is_the_same_from_any_caller():
    """Give or take the few calls through C code (pytest's hooks) the caller is in the middle of."""
    limit = sys.getrecursionlimit()
    shallow = with_frames(room)
    assert 850 < shallow < 900
    assert abs(called_at(600, with_frames, room) - shallow) < 10
    found = []
    thread = threading.Thread(target=lambda: found.append(called_at(100, with_frames, room)))
    thread.start()
    thread.join()
    assert abs(found[0] - shallow) < 10
    assert sys.getrecursionlimit() == limit


def test_a_caller_deeper_than_the_budget_is_not_cut_short():
    """It raised the limit and waits a few frames deeper than the budget: the limit stays over its depth."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(3000)
    try:
        assert called_at(2500, with_frames, room) >= with_frames(room)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("chain", CHAINS)
def test_lint_paths_from_a_deep_stack(tmp_path, chain):
    path = tmp_path / "train.py"
    path.write_text(training_script(chain), encoding="utf-8")
    shallow = lint_paths([str(path)]).results
    assert_findings_or_skipped(shallow, "ACT101", chain)
    for depth in CALLERS:
        assert called_at(depth, lint_paths, [str(path)]).results == shallow


@pytest.mark.parametrize("chain", CHAINS)
def test_fix_until_stable_from_a_deep_stack(tmp_path, chain):
    path = tmp_path / "train.py"
    path.write_text(training_script(chain), encoding="utf-8")
    outcome = called_at(600, fix_until_stable, lambda overlay: lint_paths([str(path)], overlay=overlay), True)
    assert outcome.broken == {}
    if chain == 300:
        (fixed,) = outcome.after.values()
        ast.parse(fixed)
        assert outcome.applied == 1 and outcome.run.results == []
    else:
        assert outcome.applied == 0 and [r.code for r in outcome.run.results] == ["ACT004"]


@pytest.mark.parametrize("depth", CALLERS)
@pytest.mark.parametrize("chain", CHAINS)
def test_main_fixes_from_a_deep_stack(tmp_path, chain, depth):
    path = tmp_path / "train.py"
    path.write_text(training_script(chain), encoding="utf-8")
    result = called_at(depth, invoke, [str(path), "--fix", "--unsafe-fixes", "--no-cache", "--output-format", "concise"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output and "actlint: error" not in result.stderr, result.output
    if chain == 300:
        assert result.exit_code == 0 and "1 fixed" in result.stderr
        ast.parse(path.read_text(encoding="utf-8"))
    else:
        assert result.exit_code == 1 and "ACT004" in result.stdout
        assert path.read_text(encoding="utf-8") == training_script(chain)


def test_the_fix_command_on_deep_files(tmp_path):
    for chain in CHAINS:
        (tmp_path / f"train_{chain}.py").write_text(training_script(chain), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "actlint", "--fix", "--unsafe-fixes", "--no-cache", "-j", "1",
                           "--output-format", "concise", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    skipped = sorted(Path(line.split(":")[0]).name for line in done.stdout.splitlines() if "ACT004" in line)
    assert skipped == ["train_600.py", "train_900.py"], done.stdout
    assert "1 fixed" in done.stderr


def test_a_process_pool_and_a_notebook_from_a_deep_stack(tmp_path):
    """More files than SERIAL_BELOW: the scripts are linted by pool workers, the notebook here."""
    for chain in CHAINS:
        (tmp_path / f"train_{chain}.py").write_text(training_script(chain), encoding="utf-8")
        (tmp_path / f"probe_{chain}.ipynb").write_text(notebook(chain), encoding="utf-8")
    for i in range(SERIAL_BELOW):
        (tmp_path / f"plain_{i}.py").write_text(TORCH.read_text(encoding="utf-8"), encoding="utf-8")
    run = called_at(600, lint_paths, [str(tmp_path)], jobs=2)
    by_file = {}
    for result in run.results:
        by_file.setdefault(Path(result.filename).name, []).append(result)
    for chain in CHAINS:
        assert_findings_or_skipped(by_file[f"train_{chain}.py"], "ACT101", chain)
        assert_findings_or_skipped(by_file[f"probe_{chain}.ipynb"], "ACT201", chain)
    assert all([r.code for r in by_file[f"plain_{i}.py"]] == ["ACT101"] for i in range(SERIAL_BELOW))


def test_raised_in_finds_a_recursion_error_re_raised_as_another_exception():
    """libcst's code generation turns a RecursionError into a KeyError: the engine (ACT004) and the
    fixer both look through the cause chain, with one helper."""
    try:
        try:
            raise RecursionError("deep")
        except RecursionError:
            raise KeyError("node")  # noqa: B904 (only __context__ links them, as in libcst)
    except KeyError as error:
        chained = error
    assert isinstance(raised_in(chained, RecursionError), RecursionError)
    assert raised_in(chained, (OSError, ValueError)) is None
    looped = ValueError("loop")
    looped.__context__ = looped
    assert raised_in(looped, RecursionError) is None
