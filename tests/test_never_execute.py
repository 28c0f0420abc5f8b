"""actlint reads code, it never runs or imports it: linting files whose import or top level has side
effects leaves no trace, whatever the mode (plain, --fix, --diff, a process pool, the cache), and
configuration values are parsed, never evaluated.

Every side effect below would write a marker file (or end the process). Each tree has a harmless twin
(the side effects replaced by `pass`): the run over the hostile tree must end exactly as the twin's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import support
from tests.support import BUGGY

# Module names no test imports: if one shows up in sys.modules, actlint imported the analyzed code.
MODULES = ("side_effects", "exits_at_import", "raises_at_import", "imports_broken", "broken_dependency",
           "wrapped_pkg", "wrapped_pkg.model", "conftest_like", "dunder_main", "train_entry")


def hostile_tree(root: Path, harmless: bool = False) -> Path:
    """A small project: every file names a framework (so it is parsed and analyzed) and has a bug."""
    marker = str(root / "MARKER")

    def effect(code: str) -> str:
        return "pass" if harmless else code

    touch = f"open({marker + '_%s'!r}, 'w').write('ran')"
    files = {
        "side_effects.py": f"import os\n{effect(touch % 'top')}\n"
                           f"os.system({('touch ' + marker + '_system')!r})\n"
                           f"__import__('subprocess').run(['touch', {marker + '_subprocess'!r}])\n"
                           f"exec({(touch % 'exec')!r})\neval(compile({(touch % 'eval')!r}, 'x', 'exec'))\n" + BUGGY,
        "exits_at_import.py": f"import os, sys\n{effect('os._exit(3)')}\n{effect('sys.exit(4)')}\n" + BUGGY,
        "raises_at_import.py": effect("raise RuntimeError('imported!')") + "\n" + BUGGY,
        "broken_dependency.py": effect(touch % "dependency") + "\n" + effect("raise ImportError('boom')") + "\nNUM = 1\n",
        "imports_broken.py": "from broken_dependency import NUM\nimport raises_at_import\n" + BUGGY,
        "wrapped_pkg/__init__.py": f"{effect(touch % 'package_init')}\nfrom .model import build\n",
        "wrapped_pkg/model.py": f"{effect(touch % 'package_module')}\n" + BUGGY.replace("model = ", "def build():\n    pass\n\nmodel = "),
        "train_entry.py": "from wrapped_pkg import build\nimport side_effects\nimport exits_at_import\n" + BUGGY,
        "conftest_like.py": f"import pytest\n\n@pytest.fixture(autouse=True)\ndef hook():\n    {effect(touch % 'fixture')}\n\n"
                            f"def pytest_configure(config):\n    {effect(touch % 'hook')}\n\n{effect(touch % 'conftest_top')}\n" + BUGGY,
        "dunder_main.py": BUGGY + f"\nif __name__ == '__main__':\n    {effect(touch % 'main')}\n"
                          f"    model.fit(x, y)\n\nclass Meta(type):\n    {effect(touch % 'metaclass')}\n\n"
                          f"@(lambda f: {effect(touch % 'decorator') if not harmless else 'f'})\ndef decorated():\n    pass\n",
        "conftest.py": f"{effect(touch % 'real_conftest')}\nimport torch\n",
        "notebook.ipynb": json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
                                                 "source": f"!touch {marker}_shell\n%run side_effects.py\n{effect(touch % 'cell')}\n" + BUGGY}],
                                      "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def markers(root: Path) -> list:
    return sorted(p.name for p in root.rglob("MARKER*"))


@pytest.fixture
def trees(tmp_path):
    hostile = hostile_tree(tmp_path / "hostile")
    twin = hostile_tree(tmp_path / "twin", harmless=True)
    return hostile, twin


def invoke(root: Path, *args):
    before_modules, before_path, cwd = set(sys.modules), list(sys.path), os.getcwd()
    try:
        os.chdir(root)  # imports would resolve here, as in a user's project
        result = support.invoke([*args, "."])
    finally:
        os.chdir(cwd)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert not [m for m in MODULES if m in sys.modules]
    assert not [m for m in set(sys.modules) - before_modules if m.split(".")[0] in {n.split(".")[0] for n in MODULES}]
    assert sys.path == before_path
    return result


MODES = {
    "plain": ("--no-cache",),
    "cached": (),
    "json": ("--output-format", "json", "--no-cache"),
    "fix": ("--fix", "--no-cache"),
    "unsafe-fix": ("--fix", "--unsafe-fixes", "--no-cache"),
    "diff": ("--diff", "--no-cache"),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_linting_runs_none_of_the_code(trees, mode):
    hostile, twin = trees
    result = invoke(hostile, *MODES[mode], "-j", "1")
    assert markers(hostile) == []
    expected = invoke(twin, *MODES[mode], "-j", "1")
    assert result.exit_code == expected.exit_code
    assert result.exit_code in (0, 1)
    if mode == "plain":
        assert result.exit_code == 1 and result.stdout.count("ACT201") >= 8


def test_a_second_run_from_the_cache_runs_none_of_the_code(trees):
    hostile, _ = trees
    first, second = invoke(hostile), invoke(hostile)
    assert first.stdout == second.stdout and first.exit_code == second.exit_code == 1
    assert markers(hostile) == []


def test_a_process_pool_runs_none_of_the_code(trees):
    """Enough files for the pool (parallel.SERIAL_BELOW); `python -m actlint`, so os._exit would show."""
    hostile, _ = trees
    for copy in range(3):
        for name in ("side_effects.py", "exits_at_import.py", "raises_at_import.py", "dunder_main.py",
                     "conftest_like.py", "train_entry.py", "imports_broken.py", "broken_dependency.py"):
            (hostile / f"copy{copy}_{name}").write_text((hostile / name).read_text())
    done = subprocess.run([sys.executable, "-m", "actlint", "--no-cache", "-j", "2", "--output-format", "json", "."],
                          cwd=hostile, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert markers(hostile) == []
    serial = invoke(hostile, "--no-cache", "-j", "1", "--output-format", "json")
    assert json.loads(done.stdout) == json.loads(serial.stdout)
    assert len({item["filename"] for item in json.loads(done.stdout)}) == 26  # code after a top-level raise never runs


@pytest.mark.parametrize("setting", [
    'select = "__import__(\'os\').system(\'touch {marker}\')"',
    'select = ["__import__(\'os\').system(\'touch {marker}\')"]',
    'ignore = ["ACT1", "{{__import__(\'os\').system(\'touch {marker}\')}}"]',
    'output-format = "__import__(\'os\').system(\'touch {marker}\')"',
    'max-file-size = "__import__(\'os\').system(\'touch {marker}\') or 1"',
    'per-file-ignores = {{ "*.py" = "exec(\'open(\\"{marker}\\", \\"w\\")\')" }}',
    '"__import__(\'os\').system(\'touch {marker}\')" = 1',
])
def test_configuration_values_are_parsed_never_evaluated(tmp_path, setting):
    marker = tmp_path / "MARKER_config"
    (tmp_path / "pyproject.toml").write_text("[tool.actlint]\n" + setting.format(marker=marker) + "\n")
    (tmp_path / "model.py").write_text(BUGGY)
    result = invoke(tmp_path, "--no-cache")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"actlint: error: {tmp_path / 'pyproject.toml'}: [tool.actlint] ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_a_configuration_exclude_pattern_is_a_pattern_not_code(tmp_path):
    marker = tmp_path / "MARKER_exclude"
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.actlint]\nextend-exclude = [\"__import__('os').system('touch {marker}')\"]\n")
    (tmp_path / "model.py").write_text(BUGGY)
    result = invoke(tmp_path, "--no-cache")
    assert result.exit_code == 1 and "ACT201" in result.stdout
    assert not marker.exists()


def test_the_markers_would_show_an_execution(tmp_path):
    """The check above is only as good as the side effects: importing the hostile module for real
    (frameworks blocked, so it stops at its first framework import) leaves the markers."""
    hostile = hostile_tree(tmp_path)
    block = "import sys; sys.modules.update(dict.fromkeys(['tensorflow', 'torch', 'keras']))"
    done = subprocess.run([sys.executable, "-c", f"{block}; import side_effects"], cwd=hostile,
                          capture_output=True, text=True, timeout=60)
    assert "ModuleNotFoundError" in done.stderr or "ImportError" in done.stderr
    assert markers(hostile) == ["MARKER_eval", "MARKER_exec", "MARKER_subprocess", "MARKER_system", "MARKER_top"]
