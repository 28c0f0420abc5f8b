"""Which files to lint: Python files under the given paths, minus what git and habit exclude."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SKIPPED_DIRS = {
    ".git", ".hg", ".svn", "__pycache__", "build", "dist", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".actlint_cache", "node_modules", ".eggs",
    "site-packages", ".ipynb_checkpoints",
}


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # command-line paths that do not exist


def discover(paths) -> Discovery:
    found = Discovery()
    seen = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = _walk(path)
        elif path.exists() or path.is_symlink():
            candidates = [str(path)]  # a file named explicitly is always linted
        else:
            found.missing.append(raw)
            continue
        for candidate in candidates:
            key = os.path.normpath(candidate)
            if key not in seen:
                seen.add(key)
                found.files.append(candidate)
    return found


def _walk(root: Path):
    ignores = []  # (directory, GitIgnoreSpec)
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        spec = _gitignore(here)
        if spec is not None:
            ignores.append((here, spec))
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
            and not (here / d / "pyvenv.cfg").exists()
            and not _ignored(here / d, ignores, is_dir=True)
        )
        for name in sorted(filenames):
            if name.endswith(".py") and not _ignored(here / name, ignores, is_dir=False):
                yield str(here / name)


def _gitignore(directory: Path):
    path = directory / ".gitignore"
    if not path.is_file():
        return None
    import pathspec

    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignored(path: Path, ignores, is_dir: bool) -> bool:
    for base, spec in ignores:
        try:
            relative = path.relative_to(base).as_posix()
        except ValueError:
            continue
        if spec.match_file(relative + ("/" if is_dir else "")):
            return True
    return False
