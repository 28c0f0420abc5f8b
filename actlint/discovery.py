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
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        spec = _gitignore(here)
        if spec is not None:
            ignores.append((here, spec))
        dirnames[:] = sorted(
            d for d in dirnames
            if not excluded(here / d, True)
            and not (here / d / "pyvenv.cfg").exists()
            and not _ignored(here / d, ignores, is_dir=True)
        )
        for name in sorted(filenames):
            path = here / name
            if name.endswith(SUFFIXES) and not excluded(path, False) and not _ignored(path, ignores, is_dir=False):
                yield str(path)


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
