"""Configuration: `[tool.actlint]` in pyproject.toml, or the top level of actlint.toml.

The closest configuration file above a linted path wins (no merging between levels).
Values are parsed and checked, never evaluated. Paths and globs in a configuration
are gitignore-style patterns relative to the directory of the file that holds them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from actlint.catalogue import rules

FORMAT_NAMES = ("full", "concise", "text", "json", "sarif", "github", "gitlab", "junit")
CODE_LISTS = ("select", "ignore", "extend-select")
PATTERN_LISTS = ("exclude", "extend-exclude")
KEYS = CODE_LISTS + PATTERN_LISTS + ("per-file-ignores", "output-format", "max-file-size")

DEFAULT_EXCLUDE = (
    ".git/", ".hg/", ".svn/", "__pycache__/", "build/", "dist/", ".venv/", "venv/", ".tox/", ".nox/",
    ".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".actlint_cache/", "node_modules/", ".eggs/",
    "site-packages/", ".ipynb_checkpoints/", "*.egg-info/",
)


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    """What one configuration file says (or the defaults, rooted at `root`)."""

    root: Path
    path: Optional[Path] = None
    select: Optional[tuple] = None
    ignore: tuple = ()
    extend_select: tuple = ()
    per_file_ignores: tuple = ()  # (glob, codes) pairs
    exclude: tuple = DEFAULT_EXCLUDE
    extend_exclude: tuple = ()
    output_format: Optional[str] = None
    max_file_size: Optional[int] = None  # bytes; 0: no limit; None: the default (sources.MAX_FILE_SIZE)
    _specs: dict = field(default_factory=dict, compare=False, repr=False)
    _folders: dict = field(default_factory=dict, compare=False, repr=False)  # folder -> excluded?

    def excluded(self, path, is_dir: bool) -> bool:
        patterns = self.exclude + self.extend_exclude
        if is_dir or not _names_folders(patterns):
            return self._matches(patterns, path, is_dir)
        # Patterns that only name folders exclude a file exactly when they exclude its folder:
        # one answer per folder (the default patterns, on thousands of files).
        folder = os.path.dirname(path)
        if folder not in self._folders:
            self._folders[folder] = self._matches(patterns, folder or os.curdir, True)
        return self._folders[folder]

    def ignored_codes(self, path) -> tuple:
        """The codes per-file-ignores switches off for this file."""
        return tuple(c for glob, codes in self.per_file_ignores if self._matches((glob,), path, False) for c in codes)

    def _matches(self, patterns: tuple, path, is_dir: bool) -> bool:
        if not patterns:
            return False
        relative = _relative(path, self.root)
        if not relative or relative == ".":
            return False
        if patterns not in self._specs:
            self._specs[patterns] = _matcher(patterns)
        return self._specs[patterns](relative + ("/" if is_dir else ""))


_DIRECTORY_NAME = re.compile(r"(\*?)([A-Za-z0-9._-]+)/")


@lru_cache(maxsize=None)
def _names_folders(patterns: tuple) -> bool:
    return all(map(_DIRECTORY_NAME.fullmatch, patterns))


def _matcher(patterns: tuple):
    """A gitignore matcher for relative posix paths (a trailing / marks a folder). Patterns that only
    name folders (`build/`, `*.egg-info/`: the defaults) are matched on path components, without
    pathspec (~15 ms to import, ~20 us a path); anything else goes to pathspec."""
    simple = [_DIRECTORY_NAME.fullmatch(p) for p in patterns]
    if not all(simple):
        import pathspec

        return pathspec.GitIgnoreSpec.from_lines(patterns).match_file
    names = frozenset(m[2] for m in simple if not m[1])
    suffixes = tuple(m[2] for m in simple if m[1])

    def match(relative: str) -> bool:
        folders = relative.split("/")[:-1]  # a folder's own name comes before its trailing /
        return any(f in names or f.endswith(suffixes) for f in folders) if suffixes else not names.isdisjoint(folders)

    return match


def _relative(path, root: Path) -> str:
    """The path relative to root; outside root, the whole path (so unanchored patterns still match)."""
    path = os.path.abspath(path)
    base = str(root)
    if os.sep == "/" and base.startswith("/"):  # the common case, without pathlib (~10 us a path)
        if path == base:
            return "."
        prefix = base if base.endswith("/") else base + "/"
        return path[len(prefix):] if path.startswith(prefix) else path.lstrip("/")
    path = Path(path)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.relative_to(path.anchor).as_posix()


def load(path: Path) -> Settings:
    """Read and check one configuration file; raise ConfigError naming the file and key."""
    path = Path(os.path.abspath(path))
    table = _table(path)
    if table is None:
        raise ConfigError(f"{path}: no [tool.actlint] table")
    return _settings(path, table)


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the file: {error.strerror or error}") from None


def _table(path: Path) -> Optional[dict]:
    """The actlint table of a configuration file, or None when a pyproject.toml has none."""
    data = _read_toml(path)
    if path.name != "pyproject.toml":
        return data
    table = data.get("tool", {}).get("actlint") if isinstance(data.get("tool"), dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.actlint] must be a table")
    return table


def _settings(path: Path, table: dict) -> Settings:
    where = "[tool.actlint] " if path.name == "pyproject.toml" else ""
    values = {}
    for key, value in table.items():
        try:
            values[key.replace("-", "_")] = _checked(key, value)
        except ConfigError as error:
            raise ConfigError(f"{path}: {where}{error}") from None
    return Settings(root=path.parent, path=path, **values)


def _checked(key: str, value):
    if key not in KEYS:
        from difflib import get_close_matches

        close = get_close_matches(key, KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown key {key!r}{hint}; known keys: {', '.join(KEYS)}")
    if key in CODE_LISTS:
        return _codes(key, value)
    if key in PATTERN_LISTS:
        return _strings(key, value)
    if key == "per-file-ignores":
        return _per_file_ignores(value)
    if key == "max-file-size":
        return file_size(key, value)
    if value not in FORMAT_NAMES:
        raise ConfigError(f"output-format: {value!r} is not one of {', '.join(FORMAT_NAMES)}")
    return value


def file_size(key: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{key}: expected a number of bytes (an integer, 0 for no limit), got {value!r}")
    return value


def _strings(key: str, value) -> tuple:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
    return tuple(value)


def _codes(key: str, value) -> tuple:
    codes = tuple(code.strip().upper() for code in _strings(key, value))
    known = rules()
    for code in codes:
        if not code or not any(c.startswith(code) for c in known):
            raise ConfigError(f"{key}: unknown rule code or prefix {code!r}")
    return codes


def _per_file_ignores(value) -> tuple:
    if not isinstance(value, dict):
        raise ConfigError(f"per-file-ignores: expected a table of glob = [codes], got {value!r}")
    return tuple((glob, _codes(f"per-file-ignores.{glob!r}", codes)) for glob, codes in value.items())


CONFIG_NAMES = ("actlint.toml", "pyproject.toml")  # in a directory holding both, actlint.toml wins


class Configs:
    """Which settings apply to a path: the closest configuration file above it, cached per directory."""

    def __init__(self, explicit: Optional[Path] = None, isolated: bool = False):
        self.isolated = isolated
        self.explicit = load(explicit) if explicit else None
        self.default = Settings(root=Path(os.getcwd()))
        self._by_dir = {}
        self._by_name = {}  # directory as given -> Settings, without building Paths

    def for_path(self, path, is_dir: Optional[bool] = None) -> Settings:
        """`is_dir`, when the caller knows it, saves a stat."""
        if self.explicit is not None:
            return self.explicit
        if self.isolated:
            return self.default
        path = os.fspath(path)
        directory = path if (os.path.isdir(path) if is_dir is None else is_dir) else os.path.dirname(path)
        found = self._by_name.get(directory)  # keyed by the folder as given: the working directory is fixed
        if found is None:
            found = self._by_name[directory] = self._for_dir(Path(os.path.abspath(directory or os.curdir)))
        return found

    def _for_dir(self, directory: Path) -> Settings:
        if directory not in self._by_dir:
            found = self._here(directory)
            if found is None:
                parent = directory.parent
                found = self.default if parent == directory else self._for_dir(parent)
            self._by_dir[directory] = found
        return self._by_dir[directory]

    def _here(self, directory: Path) -> Optional[Settings]:
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                table = _table(candidate)
                if table is not None:
                    return _settings(candidate, table)
        return None
