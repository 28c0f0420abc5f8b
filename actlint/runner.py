"""A run: discover files, lint each, select and verify the results, in a deterministic order."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from actlint.discovery import discover
from actlint.engine import Result, Session, diagnostic, lint_source


@dataclass
class Selection:
    select: tuple = ("ACT",)
    ignore: tuple = ()

    def wants(self, code: str) -> bool:
        chosen = max((p for p in self.select if code.startswith(p)), key=len, default=None)
        ignored = max((p for p in self.ignore if code.startswith(p)), key=len, default=None)
        if chosen is None:
            return False
        return ignored is None or len(chosen) > len(ignored)


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    files: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def findings(self):
        return [r for r in self.results if not r.is_diagnostic]

    @property
    def internal_errors(self):
        return [r for r in self.results if r.code == "ACT003"]


def read_file(path: str):
    """The file's bytes, or an ACT002 diagnostic for anything that is not a readable regular file."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return diagnostic("ACT002", path, "not a regular file")
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        return diagnostic("ACT002", path, f"cannot read the file: {error.strerror or error}")


def lint_paths(paths, selection: Selection = Selection()) -> Run:
    found = discover(paths)
    run = Run(files=len(found.files), missing=found.missing)
    session = Session()
    for path in found.files:
        data = read_file(path)
        if isinstance(data, Result):
            run.results.append(data)
            continue
        run.results.extend(lint_source(path, data, session).results)
    unique = {(r.code, r.filename, r.location): r for r in run.results}  # one bug seen from two files
    run.results = sorted((r for r in unique.values() if selection.wants(r.code)), key=Result.sort_key)
    run.results = [verified(r) for r in run.results]
    return run


def verified(result: Result) -> Result:
    """Attach the numeric core's verification to a finding."""
    if result.is_diagnostic:
        return result
    from dataclasses import replace

    try:
        from actlint.verification import verify
    except ImportError:  # TEMP until the numeric core lands
        return result
    return replace(result, verification=verify(result.code, dict(result.facts)))
