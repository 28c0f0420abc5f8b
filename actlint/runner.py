"""A run: discover files, lint each, apply configuration and suppressions, verify, in a deterministic order."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Optional

from actlint.config import Configs
from actlint.discovery import discover
from actlint.engine import Session, lint_source
from actlint.results import Result, diagnostic
from actlint.sources import MAX_FILE_SIZE, read_file, too_big

if TYPE_CHECKING:
    from actlint.suppressions import Suppressions


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


NOTEBOOK_SIZE_FACTOR = 50
Progress = Callable[[int, int, int], None]  # (files done, files in total, results so far)


def lint_paths(paths, selection: Selection = Selection(None), configs: Optional[Configs] = None,
               force_exclude: bool = False, progress: Optional[Progress] = None,
               jobs: int = 1, cache=None, overlay: Optional[dict] = None, max_file_size: Optional[int] = None,
               verify: bool = True) -> Run:
    """Lint files and folders. Without `configs`, no configuration file is read.
    `max_file_size` (bytes, 0: no limit) overrides the configuration's. `verify=False` leaves out the
    numeric core's verification (for an output that does not show it: numpy is then not imported).

    Python files are linted by `parallel.lint_many` (cache, process pool); notebooks here.
    `overlay` ({real path: bytes}) stands in for files' content: fixes not written yet."""
    from actlint.parallel import lint_many, screen

    configs = configs or Configs(isolated=True)
    found = discover(paths, lambda p, is_dir: configs.for_path(p, is_dir).excluded(p, is_dir), force_exclude)
    run = Run(files=len(found.files), missing=found.missing)
    overlay = overlay or {}
    linter = _Linter(configs, selection, overlay, max_file_size)
    early, settled, screened = ({}, {}, {}) if overlay else screen(
        [(p, linter.limit(p)) for p in found.files if not p.endswith(".ipynb")], jobs, cache)
    contents = {path: linter.source(path, early[path] if path in early else _overlaid(overlay, path, linter))
                for path in found.files}
    sources = [(p, data) for p, data in contents.items() if isinstance(data, bytes) and p not in settled]
    tick = _Ticker(progress, run.files, linter) if progress else None
    if tick:
        for path, report in settled.items():
            tick(path, report)
    linter.reports = lint_many(sources, jobs, cache, linter.session, tick, screened) | settled
    for path in found.files:
        run.results.extend(linter.lint(path, contents[path]))
        if tick and not isinstance(contents[path], bytes):
            tick(path)
    return _finished(run, linter, cache, verify)


class _Ticker:
    """The progress callback: files done, and the findings so far that the run's selection keeps
    (suppression comments are read only at the end, for the files that have findings)."""

    def __init__(self, progress: Progress, total: int, linter: "_Linter"):
        self.progress, self.total, self.linter = progress, total, linter
        self.done = self.findings = 0

    def __call__(self, path: str, report=None) -> None:
        self.done += 1
        results = report.results if report is not None else ()
        self.findings += sum(1 for r in results if not r.is_diagnostic and self.linter.wanted(r))
        self.progress(self.done, self.total, self.findings)


def lint_stdin(data: bytes, filename: Optional[str], selection: Selection = Selection(None),
               configs: Optional[Configs] = None, force_exclude: bool = False, verify: bool = True) -> Run:
    """Lint source read from stdin, reported (and configured) as `filename` when given."""
    configs = configs or Configs(isolated=True)
    if filename and force_exclude and configs.for_path(filename).excluded(filename, False):
        return Run()
    linter = _Linter(configs, selection)
    return _finished(Run(results=linter.lint(filename or "-", data), files=1), linter, verify=verify)


def _overlaid(overlay: dict, path: str, linter) -> object:
    """The file's unsaved buffer when there is one (an emptied buffer too), else its content on disk."""
    data = overlay.get(os.path.realpath(path)) if overlay else None
    return linter.read(path) if data is None else data


class _Linter:
    """One run's shared state: the parse session, each file's text and suppressions, read once."""

    def __init__(self, configs: Configs, selection: Selection, overlay: Optional[dict] = None,
                 max_file_size: Optional[int] = None):
        self.configs, self.selection = configs, selection
        self.max_file_size = max_file_size  # the command line's, over the configuration's
        self.session = Session(overlay, self.limit)
        self.reports = {}  # path -> FileReport already computed (lint_many)
        self.texts = {}  # filename -> the Python source actlint linted, for files with results
        self.cells = {}  # notebook filename -> CellMap
        self._suppressions = {}

    def limit(self, path: str) -> int:
        """The size limit for this file, in bytes (0: none)."""
        for limit in (self.max_file_size, self.configs.for_path(path, is_dir=False).max_file_size):
            if limit is not None:
                return limit
        return MAX_FILE_SIZE

    def read(self, path: str):
        """A notebook's limit is on its code: outputs (plots) often weigh megabytes, so the file itself
        may be NOTEBOOK_SIZE_FACTOR times larger."""
        if not path.endswith(".ipynb"):
            return read_file(path, self.limit(path))
        return read_file(path, self.limit(path) * NOTEBOOK_SIZE_FACTOR)

    def source(self, path: str, data):
        """The Python source to lint: the file's bytes, a notebook's code cells, or a diagnostic."""
        if isinstance(data, Result) or not path.endswith(".ipynb"):
            return data
        from actlint import notebooks  # only for notebooks (with difflib and json)

        try:
            source, self.cells[path] = notebooks.read(data)
        except notebooks.NotebookError as error:
            return diagnostic("ACT002", path, str(error))
        code = source.encode("utf-8")
        limit = self.limit(path)
        if limit and len(code) > limit:
            return diagnostic("ACT004", path, too_big(len(code), limit, "its code"))
        self.texts[path] = code
        return code

    def lint(self, path: str, data) -> list:
        if isinstance(data, Result):
            results = [data]
        else:
            data = self.source(path, data) if path.endswith(".ipynb") and path not in self.cells else data
            if isinstance(data, Result):
                return [data]
            report = self.reports.get(path) or lint_source(path, data, self.session)
            results = report.results + self.rejected(path)
            if results:  # kept for suppressions and for showing the findings
                self.texts[path] = data
        if self.cells:
            from actlint.notebooks import locate

            results = [locate(r, self.cells) for r in results]
        return [r for r in results if self.wanted(r)]

    def wanted(self, result: Result) -> bool:
        return wanted(result.code, self.layers(result.filename))

    def rejected(self, path: str) -> list:
        """One ACT001 for each notebook cell IPython would reject (the cell was left out), in a
        notebook the prefilter reads (its cells as written): elsewhere syntax errors are Python's."""
        from actlint.prefilter import worth_parsing

        cells = self.cells.get(path)
        rejected = cells.rejected() if cells else ()
        if not rejected or not worth_parsing(cells.text().encode("utf-8")):
            return []
        return [diagnostic("ACT001", path, f"cell {cells.locate(row)[0]}: {message}", row, column)
                for row, column, message in rejected]

    def layers(self, filename: str) -> tuple:
        settings = self.configs.for_path(filename)
        return (
            Selection(("ACT",)),
            Selection(settings.select, settings.ignore, settings.extend_select),
            self.selection,
            Selection(None, settings.ignored_codes(filename)),
        )

    def text(self, filename: str) -> str:
        data = self.texts.get(filename)
        if data is None:
            data = read_file(filename)
            data = b"" if isinstance(data, Result) else data
        return _decoded(data)

    def suppressed(self, result: Result) -> bool:
        if result.is_diagnostic:
            return False
        from actlint.suppressions import ends  # only runs with findings read comments (tokenize, regexes)

        return any(
            self.suppressions(name).silences(result.code, [self.row(name, p) for p in positions], name == result.filename)
            for name, positions in ends(result).items()
        )

    def row(self, filename: str, position) -> int:
        """The row in the source actlint linted (a notebook's cell position mapped back)."""
        return self.cells[filename].row(position.cell, position.row) if position.cell else position.row

    def suppressions(self, filename: str) -> Suppressions:
        if filename not in self._suppressions:
            from actlint.suppressions import parse

            self._suppressions[filename] = parse(self.text(filename))
        return self._suppressions[filename]

    def lines(self, filename: str) -> dict:
        """{cell or None: source lines}, for showing findings."""
        if filename in self.cells:
            return self.cells[filename].lines()
        from actlint.notebooks import split_lines

        return {None: split_lines(self.text(filename))}


def _decoded(data: bytes) -> str:
    second_end = data.find(b"\n", data.find(b"\n") + 1)
    if b"coding" not in (data if second_end == -1 else data[:second_end]):
        try:  # no encoding declaration in the first two lines: UTF-8, as tokenize.detect_encoding says
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return data.decode("utf-8", errors="replace")


def _finished(run: Run, linter: _Linter, cache=None, verify: bool = True) -> Run:
    unique = {}  # one bug seen from two files: keep the sighting that names the most ends
    for r in run.results:
        key = (r.code, r.filename, r.location)
        if key not in unique or len(r.related) > len(unique[key].related):
            unique[key] = r
    kept = [r for r in unique.values() if not linter.suppressed(r)]
    run.results = [verified(r, cache) if verify else r for r in sorted(kept, key=Result.sort_key)]
    shown = {r.filename for r in run.results} | {rel.filename for r in run.results for rel in r.related}
    run.sources = {name: linter.lines(name) for name in sorted(shown) if os.path.isfile(name) or name in linter.texts}
    return run


def verified(result: Result, cache=None) -> Result:
    """Attach the numeric core's verification to a finding (remembered in the cache, when given)."""
    if result.is_diagnostic:
        return result

    def compute():
        from actlint.verification import verify

        return verify(result.code, dict(result.facts))

    return replace(result, verification=cache.verification(result.code, result.facts, compute) if cache else compute())
