"""A run: discover files, lint each, apply configuration and suppressions, verify, in a deterministic order."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

from actlint import notebooks
from actlint.config import Configs, Settings
from actlint.discovery import discover
from actlint.engine import Result, diagnostic, lint_source
from actlint.suppressions import unsuppressed


@dataclass(frozen=True)
class Selection:
    """One layer of rule selection. Layers apply in order (defaults, configuration, command line,
    per-file-ignores); within a layer the most specific matching code or prefix decides."""

    select: Optional[tuple] = ("ACT",)  # None: keep what the earlier layers chose
    ignore: tuple = ()
    extend_select: tuple = ()

    def decide(self, code: str, before: bool = False) -> bool:
        chosen = _longest(code, (self.select or ()) + self.extend_select)
        ignored = _longest(code, self.ignore)
        if chosen is None and ignored is None:
            return before if self.select is None else False
        return ignored is None or (chosen is not None and len(chosen) > len(ignored))

    def wants(self, code: str) -> bool:
        return self.decide(code)


def _longest(code: str, prefixes) -> Optional[str]:
    return max((p for p in prefixes if code.startswith(p)), key=len, default=None)


def wanted(code: str, layers) -> bool:
    chosen = False
    for layer in layers:
        chosen = layer.decide(code, chosen)
    return chosen


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    files: int = 0
    missing: list[str] = field(default_factory=list)
    sources: dict = field(default_factory=dict)  # filename -> {cell or None: lines}, for files with results

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


Progress = Callable[[int, int, int], None]  # (files done, files in total, results so far)


def lint_paths(paths, selection: Selection = Selection(None), configs: Optional[Configs] = None,
               force_exclude: bool = False, progress: Optional[Progress] = None) -> Run:
    """Lint files and folders. Without `configs`, no configuration file is read."""
    configs = configs or Configs(isolated=True)
    found = discover(paths, lambda p, is_dir: configs.for_path(p).excluded(p, is_dir), force_exclude)
    run = Run(files=len(found.files), missing=found.missing)
    for done, path in enumerate(found.files, start=1):
        _lint_into(run, path, read_file(path), configs.for_path(path), selection)
        if progress:
            progress(done, run.files, len(run.results))
    return _finished(run)


def lint_stdin(data: bytes, filename: Optional[str], selection: Selection = Selection(None),
               configs: Optional[Configs] = None, force_exclude: bool = False) -> Run:
    """Lint source read from stdin, reported (and configured) as `filename` when given."""
    configs = configs or Configs(isolated=True)
    settings = configs.for_path(filename or os.getcwd())
    if filename and force_exclude and settings.excluded(filename, False):
        return Run()
    run = Run(files=1)
    _lint_into(run, filename or "-", data, settings, selection)
    return _finished(run)


def _lint_into(run: Run, path: str, data, settings: Settings, selection: Selection) -> None:
    results, lines = ([data], None) if isinstance(data, Result) else _lint_one(path, data)
    layers = (
        Selection(("ACT",)),
        Selection(settings.select, settings.ignore, settings.extend_select),
        selection,
        Selection(None, settings.ignored_codes(path)),
    )
    results = [r for r in results if wanted(r.code, layers)]
    run.results.extend(results)
    if results and lines is not None:
        run.sources[path] = lines


def _lint_one(path: str, data: bytes):
    """(results, {cell or None: source lines}) for one file's bytes."""
    if path.endswith(".ipynb"):
        return _lint_notebook(path, data)
    results = lint_source(path, data).results
    if not results:
        return [], None
    text = _decoded(data)
    return unsuppressed(results, text), {None: notebooks.split_lines(text)}


def _lint_notebook(path: str, data: bytes):
    try:
        source, cells = notebooks.read(data)
    except notebooks.NotebookError as error:
        return [diagnostic("ACT002", path, str(error))], None
    results = unsuppressed(lint_source(path, source.encode("utf-8")).results, source)
    return [notebooks.locate(r, cells) for r in results], cells.lines()


def _decoded(data: bytes) -> str:
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return data.decode("utf-8", errors="replace")


def _finished(run: Run) -> Run:
    run.results = [verified(r) for r in sorted(run.results, key=Result.sort_key)]
    return run


def verified(result: Result) -> Result:
    """Attach the numeric core's verification to a finding."""
    if result.is_diagnostic:
        return result
    try:
        from actlint.verification import verify
    except ImportError:  # TEMP until the numeric core lands
        return result
    return replace(result, verification=verify(result.code, dict(result.facts)))
