"""Per-file result cache: an unchanged file is not parsed again.

An entry is keyed by the file's path and content hash, actlint's version and the effective
settings; it also records the hash of every project file the analysis followed an import
into, so editing models.py re-lints train.py. Entries are written atomically (a temp file
then os.replace), so concurrent runs never see a torn entry; a corrupt or stale entry is a miss.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Optional

from actlint import __version__
from actlint.results import Position, RelatedLocation, Result
from actlint.sources import digest, is_project_root

CACHE_DIR = ".actlint_cache"


def project_root(path: str) -> Path:
    """The nearest folder above `path` that looks like a project root, else the working directory."""
    start = Path(path).resolve()
    for folder in ([start] if start.is_dir() else []) + list(start.parents):
        if is_project_root(folder):
            return folder
    return Path.cwd()


class Cache:
    def __init__(self, root: Path, settings: str = ""):
        self.folder = root / CACHE_DIR / __version__
        # The working directory and the path as given are part of the key: results carry the names
        # files are shown under (relative to the working directory), which a real path alone did not
        # pin down (lint `x` then `/abs/x`: the second run replayed the first run's names).
        self.code = f"{__version__}\0{_code_fingerprint()}\0"
        self.salt = f"{self.code}{settings}\0{os.getcwd()}\0"
        self._hashes = {}  # path -> digest of an imported file, hashed once per run however many import it
        self._verdicts = {}  # verification key -> verdict, read or computed once per run

    def key(self, path: str, data: bytes) -> str:
        return digest((self.salt + path + "\0").encode(), data)

    def get(self, key: str) -> Optional[list]:
        entry_path = f"{self.folder}/{key[:2]}/{key}"
        try:
            if os.stat(entry_path).st_size == 0:  # most entries: a file without findings or imports
                return []
            handle = os.open(entry_path, os.O_RDONLY)
            try:
                entry = json.loads(os.read(handle, 1 << 24))
            finally:
                os.close(handle)
            if not all(self._hash_of(path) == value for path, value in entry["deps"].items()):
                return None
            return [_result(item) for item in entry["results"]]
        except (OSError, ValueError, LookupError, TypeError, AttributeError):  # unreadable, or not an entry
            return None

    def _hash_of(self, path: str) -> Optional[str]:
        if path not in self._hashes:
            self._hashes[path] = _hash_of(path)
        return self._hashes[path]

    def put(self, key: str, results: list, deps: dict) -> None:
        """An entry is JSON, except that an empty file says "no results, no imports": a hit is then one
        stat (the entry is written whole, then renamed, so it is never empty by accident)."""
        entry = {"deps": deps, "results": [_plain(r) for r in results]} if results or deps else None
        self._write(self.folder / key[:2], key, entry)

    def verification(self, code: str, facts: tuple, compute):
        """`compute()` (the numeric core's verdict on a finding), remembered per code and facts: the
        verdict is a pure function of them and of actlint's code (`self.code`), and computing it
        needs numpy (~0.1 s to import), which a run whose verdicts are all remembered never imports."""
        key = digest((self.code + json.dumps([code, sorted(facts, key=repr)], default=repr)).encode())
        if key in self._verdicts:  # the same bug in many files: one read
            return self._verdicts[key]
        path = self.folder / "verified" / key
        try:
            value = json.loads(path.read_text(encoding="utf-8"))["verification"]
        except (OSError, ValueError, KeyError, TypeError):
            value = compute()
            self._write(path.parent, key, {"verification": value})
        self._verdicts[key] = value
        return value

    def _write(self, folder: Path, name: str, entry: Optional[dict]) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _ignore_in_git(self.folder.parent)
            from tempfile import mkstemp

            handle, temp = mkstemp(dir=folder, prefix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                if entry is not None:
                    json.dump(entry, out)
            os.replace(temp, folder / name)
        except OSError:
            pass  # a cache that cannot be written is only slower


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """actlint's own files (names, sizes, times): an edited checkout does not reuse stale entries."""
    package = Path(__file__).resolve().parent
    from actlint.catalogue import rules_dir

    stats = []
    for folder in (package, rules_dir()):
        for directory, _, names in sorted(os.walk(folder)):  # os.walk: ~1 ms where Path.rglob took ~4
            for name in sorted(names):
                if name.endswith((".py", ".toml")):
                    info = os.stat(os.path.join(directory, name))
                    stats.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
    return digest("\n".join(stats).encode())


def _hash_of(path: str) -> Optional[str]:
    try:
        return digest(Path(path).read_bytes())
    except OSError:
        return None


def _ignore_in_git(folder: Path) -> None:
    marker = folder / ".gitignore"
    if not marker.exists():
        marker.write_text("# created by actlint\n*\n", encoding="utf-8")


def _plain(r: Result) -> dict:
    return {
        "code": r.code, "message": r.message, "filename": r.filename,
        "location": [r.location.row, r.location.column], "end": [r.end_location.row, r.end_location.column],
        "related": [[x.filename, x.location.row, x.location.column, x.message] for x in r.related],
        "suggestion": r.suggestion, "facts": [list(f) for f in r.facts], "severity": r.severity, "fix": r.fix,
    }


def _result(item: dict) -> Result:
    return Result(
        item["code"], item["message"], item["filename"], Position(*item["location"]), Position(*item["end"]),
        tuple(RelatedLocation(name, Position(row, col), message) for name, row, col, message in item["related"]),
        item["suggestion"], tuple(tuple(f) for f in item["facts"]), item["severity"], item["fix"],
    )
