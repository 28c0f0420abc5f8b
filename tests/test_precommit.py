"""End to end: the real `pre-commit try-repo` runs this checkout's hook on a buggy file, then a fixed one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import BUGGY, CLEAN

REPO = Path(__file__).resolve().parent.parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "actlint tests", "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "actlint tests", "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(cwd: Path, *args) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def snapshot(destination: Path) -> Path:
    """This checkout as it is now (tracked and new files, current contents) committed to a fresh repo."""
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    git(destination, "init", "-q")
    git(destination, "add", ".")
    git(destination, "commit", "-q", "-m", "snapshot")
    return destination


def try_repo(hook_repo: Path, project: Path, store: Path):
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(store), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "actlint", "--files", "buggy.py"]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600)


def test_pre_commit_hook_fails_on_a_bug_and_passes_once_fixed(tmp_path):
    hook_repo = snapshot(tmp_path / "actlint")
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    (project / "buggy.py").write_text(BUGGY)
    git(project, "add", "buggy.py")

    failed = try_repo(hook_repo, project, tmp_path / "store")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "buggy.py:6:5: ACT201" in failed.stdout

    (project / "buggy.py").write_text(CLEAN)  # the fix, by hand until --fix lands
    git(project, "add", "buggy.py")
    passed = try_repo(hook_repo, project, tmp_path / "store")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
