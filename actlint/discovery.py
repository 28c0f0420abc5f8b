"""Which files to lint: Python files and notebooks under the given paths, minus what git, habit and
the configuration exclude."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

SUFFIXES = (".py", ".ipynb")


def _default_excluded(path, is_dir: bool) -> bool:
    return _default_settings().excluded(path, is_dir)


@lru_cache(maxsize=1)
def _default_settings():
    from actlint.config import Settings

    return Settings(root=Path.cwd())  # the default patterns are unanchored: the root does not matter


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # command-line paths that do not exist


def discover(paths, excluded=_default_excluded, force_exclude: bool = False) -> Discovery:
    """`excluded(path, is_dir)` says what the configuration excludes; a file named explicitly is
    linted anyway, unless `force_exclude` (pre-commit names every file explicitly)."""
    found = Discovery()
    seen = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = _walk(path, excluded)
        elif path.exists() or path.is_symlink():
            candidates = [] if force_exclude and excluded(path, False) else [str(path)]
        else:
            found.missing.append(raw)
            continue
        for candidate in candidates:
            key = os.path.normpath(candidate)
            if key not in seen:
                seen.add(key)
                found.files.append(candidate)
    return found


def _walk(root: Path, excluded):
    if excluded(root, True):
        # The user named a folder that the patterns exclude (a site-packages tree, say): lint it,
        # applying the default patterns only to what lies below it.
        from actlint.config import Settings

        excluded = Settings(root=Path(os.path.abspath(root))).excluded
    ignores = []  # (directory, GitIgnoreSpec)
    pending = [str(root)]  # folders still to list, the next one last: os.walk's top-down order
    while pending:
        directory = pending.pop()
        folders, files = _listing(directory)
        if ".gitignore" in files:
            spec = _gitignore(Path(directory))
            if spec is not None:
                ignores.append((Path(directory), spec))
        kept = []
        for name in sorted(folders):
            path = _join(directory, name)
            if not folders[name] and not excluded(path, True) and not os.path.exists(os.path.join(path, "pyvenv.cfg")) \
                    and not (ignores and _ignored(Path(path), ignores, is_dir=True)):
                kept.append(path)  # symlinked folders are not followed (os.walk's default)
        for name in sorted(files):
            if name.endswith(SUFFIXES):
                path = _join(directory, name)
                if not excluded(path, False) and not (ignores and _ignored(Path(path), ignores, is_dir=False)):
                    yield path
        pending.extend(reversed(kept))


def _listing(directory: str):
    """({folder name: is a symlink}, {other names}) in one os.scandir; an unreadable folder is empty."""
    folders, files = {}, set()
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    folders[entry.name] = entry.is_symlink()
                else:
                    files.add(entry.name)
    except OSError:
        pass
    return folders, files


def _join(directory: str, name: str) -> str:
    """str(Path(directory) / name), without pathlib, for a directory already spelled as a Path would."""
    if os.sep != "/":
        return str(Path(directory) / name)
    if directory == ".":
        return name
    return directory + name if directory.endswith("/") else directory + "/" + name


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
