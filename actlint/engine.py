"""One file in, findings out: prefilter, parse once, run the frontends, run the rules.

The engine never prints. Heavy imports (libcst, the frontends) happen only when a
file passes the byte prefilter. Its parts live beside it: the prefilter (`prefilter`), the
parse and its diagnostics (`parsing`), the result types (`results`), rows and columns (`positions`).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Optional

from actlint import parsing
from actlint.prefilter import worth_parsing
from actlint.results import FileReport, Result, diagnostic
from actlint.sources import digest


class Session:
    """What one run shares across files: each file parsed at most once, the project's modules."""

    def __init__(self, overlay: Optional[dict] = None, limit=None):
        self.parsed: dict = {}  # resolved path -> libcst.Module, or None when it does not parse
        self.imported: set = set()  # resolved paths some analysis imported: their trees are kept
        self.overlay = overlay or {}  # resolved path -> bytes to use instead of the file's (fixes not yet written)
        self.masked: set = set()  # resolved paths read with IPython lines as comments: never rewritten
        self.limit = limit  # path -> max-file-size in bytes (0: none), for the project files imports reach
        self._project = None

    def parse_path(self, path: str):
        key = os.path.realpath(path)
        self.imported.add(key)
        if key not in self.parsed:
            data = self.overlay.get(key)  # an unsaved buffer wins over the file, an emptied one too
            if data is None:
                try:
                    with open(key, "rb") as handle:
                        data = handle.read()
                except OSError:
                    data = b"\x00"
            self.parsed[key] = self._parsed(key, path, data, FileReport(path))
        return self.parsed[key]

    def parse(self, path: str, data: bytes, report: "FileReport"):
        key = os.path.realpath(path)
        if self.parsed.get(key) is None:
            self.parsed[key] = self._parsed(key, path, data, report)
        return self.parsed[key]

    def _parsed(self, key: str, path: str, data: bytes, report: "FileReport"):
        module = parsing.parse(path, data, report)
        if report.masked:
            self.masked.add(key)
        return module

    def release(self, path: str) -> None:
        """Forget a linted file's tree unless some analysis imported it: a worker's memory stays
        near one file's, not the sum of every file it linted."""
        key = os.path.realpath(path)
        if key not in self.imported:
            self.parsed.pop(key, None)

    def dependencies(self) -> dict:
        """Content digests of the project files the last analysis imported."""
        deps = {}
        for path in self.project.touched:
            try:
                with open(path, "rb") as handle:
                    deps[path] = digest(handle.read())
            except OSError:
                deps[path] = None
        return deps

    @property
    def project(self):
        if self._project is None:
            from actlint.frontends.project import Project

            self._project = Project(self.parse_path, self.limit) if self.limit else Project(self.parse_path)
        return self._project


def lint_source(path: str, data: bytes, session: Optional[Session] = None, screened: bool = False) -> FileReport:
    """Lint one file's bytes (`screened`: the prefilter already kept them). Never raises: failures
    become ACT0xx diagnostics. A file the prefilter keeps is parsed and analyzed with a fixed depth
    budget (actlint.depth), whatever the caller's depth."""
    report = FileReport(path)
    if not screened and not worth_parsing(data):
        return report
    from actlint.depth import with_frames

    return with_frames(_lint_parsed, path, data, session or Session(), report)


def _lint_parsed(path: str, data: bytes, session: Session, report: FileReport) -> FileReport:
    try:
        module = session.parse(path, data, report)
        if module is not None:
            session.project.touched.clear()
            results = _analyze(path, module, session.project)
            if session.masked:  # a fix there would be written over the IPython lines
                results = [replace(r, fix=None, fix_plan=None) if _edits_in(r, session.masked) else r for r in results]
            report.results.extend(results)
            report.deps = session.dependencies()
    except Exception as error:  # a resource limit, or an actlint bug: report it, keep linting the other files
        reason = _skip_reason(error)
        if reason is None and os.environ.get("ACTLINT_DEBUG"):
            raise
        report.results.append(diagnostic("ACT004", path, reason) if reason else
                              diagnostic("ACT003", path, f"internal error: {_describe(error)}"))
    finally:
        session.release(path)
    return report


def _edits_in(result: Result, paths: set) -> bool:
    edits = result.fix_plan.edits if result.fix_plan is not None else ()
    return any(os.path.realpath(edit.site.path) in paths for edit in edits)


OUT_OF_TIME = "skipped: analysis took longer than"


def cacheable(results) -> bool:
    """Whether results may be cached: not when they depend on this run (an internal error, or the
    time budget running out on a busy machine), so the next run tries the file again."""
    return not any(r.code == "ACT003" or r.message.startswith(OUT_OF_TIME) for r in results)


def _skip_reason(error: BaseException) -> Optional[str]:
    """Why a file is skipped rather than an internal error: a recursion limit (also when libcst's
    code generation re-raises it as another exception) or the time budget."""
    from actlint.depth import raised_in
    from actlint.frontends.interp import TIME_BUDGET, OutOfTime

    cause = raised_in(error, (RecursionError, OutOfTime))
    if cause is None:
        return None
    return parsing.TOO_DEEP if isinstance(cause, RecursionError) else f"{OUT_OF_TIME} {TIME_BUDGET:g} s"


def _describe(error: BaseException) -> str:
    """One short line: some exceptions carry whole syntax trees, whose repr can itself overflow."""
    try:
        text = str(error)
    except Exception:
        text = ""
    text = text.splitlines()[0] if text.strip() else ""
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


def _analyze(path: str, module, project=None) -> list[Result]:
    from actlint.checks import check, check_local, on_paths
    from actlint.frontends.analysis import analyze_module

    facts = analyze_module(path, module, project)
    findings = {}  # one finding per (code, primary node): the one that names the most ends
    paths = {}  # the same key -> the branch paths it was seen on
    for finding in [f for b in facts.bindings for f in check(b)] + check_local(facts.local):
        key = (finding.code, _node_key(finding.site))
        paths.setdefault(key, set()).add(finding.binding.path if finding.binding is not None else ())
        if key not in findings or len(finding.related) > len(findings[key].related):
            findings[key] = finding
    if not findings:
        return []
    findings = {key: on_paths(finding, paths[key]) for key, finding in findings.items()}
    from actlint.fixes import attach
    from actlint.positions import locate

    return locate(attach(list(findings.values()), facts.bindings))


def _node_key(site):
    return (site.path, id(site.node))


