"""One file in, findings out: prefilter, parse once, run the frontends, run the rules.

The engine never prints. Heavy imports (libcst, the frontends) happen only when a
file passes the byte prefilter.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from actlint.catalogue import rules

# A file is worth parsing when it names a framework and does something a rule looks at, or sets a
# loss it may have imported from elsewhere in the project (`loss=cfg.loss`, `criterion = get_loss(name)`).
# Each token costs one scan of every file that lacks it (~15-20 ms over the 31 MB standard library):
# only tokens some frontend reads are here (jax code is Keras code, which names keras).
FRAMEWORK_TOKENS = (b"keras", b"torch", b"tensorflow")
# Every finding pairs a head (an activation) with a loss or with targets, and the file it is found in
# names one of them or the step that joins them (compile, fit, backward). A framework file naming none
# (layers, data pipelines, utilities: half of a library's files) cannot be where a finding is made;
# when a file that is imports it, the import is still followed and parsed.
RULE_TOKENS = (
    b"loss", b"Loss", b"criterion", b"entropy", b"softmax", b"Softmax", b"sigmoid", b"Sigmoid", b"logits",
    b"ctivation", b"compile(", b".fit", b"fit(", b".backward(", b"one_hot", b"to_categorical", b"kl_div",
)
MAX_FILE_SIZE = 1_048_576  # bytes: larger files are skipped unread (ACT004), unless max-file-size says otherwise
LOSS_ASSIGNMENT = re.compile(rb"(?:\bloss|criterion)\w*\s*=")
_ASSIGNED = re.compile(rb"\w*\s*=")  # what LOSS_ASSIGNMENT wants after its word
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def worth_parsing(data: bytes) -> bool:
    """The byte prefilter: plain substring searches (fast), then LOSS_ASSIGNMENT tried only where its
    words occur (a regex search from every byte of a large file costs more than all the substring scans).
    Its stages are public for `parallel`, which looks a framework file up in the cache between them."""
    text = narrow(data)
    return names_a_rule(text) if names_a_framework(text) else assigns_loss(text)


def narrow(data: bytes) -> bytes:
    """What the stages below read: UTF-16 or 32 as UTF-8 (read the text, then say why Python cannot),
    anything else as it is."""
    if data[:2] in _WIDE_BOMS and _wide_encoding(data):
        return data.decode(_wide_encoding(data), errors="replace").encode("utf-8")
    return data


def names_a_framework(text: bytes) -> bool:
    return any(token in text for token in FRAMEWORK_TOKENS)


def names_a_rule(text: bytes) -> bool:
    return any(token in text for token in RULE_TOKENS)


def assigns_loss(text: bytes) -> bool:
    return _assigns_loss(text, b"loss", True) or _assigns_loss(text, b"criterion", False)


def _assigns_loss(data: bytes, word: bytes, at_word_start: bool) -> bool:
    """Whether LOSS_ASSIGNMENT matches at some occurrence of `word`."""
    start = data.find(word)
    while start != -1:
        if (not at_word_start or start == 0 or data[start - 1] not in _WORD_BYTES) \
                and _ASSIGNED.match(data, start + len(word)):
            return True
        start = data.find(word, start + 1)
    return False


_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00")


def _wide_encoding(data: bytes):
    """UTF-16 or UTF-32 when the bytes start with one of their byte order marks, else None."""
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    return "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else None


@dataclass(frozen=True)
class Position:
    row: int  # 1-based
    column: int  # 1-based
    cell: Optional[int] = None  # a notebook's cell (1-based); row is then the row in that cell


@dataclass(frozen=True)
class RelatedLocation:
    filename: str
    location: Position
    message: str


@dataclass(frozen=True)
class Result:
    """A finding or a diagnostic, located, ready for output."""

    code: str
    message: str
    filename: str
    location: Position
    end_location: Position
    related: tuple = ()
    suggestion: str = ""
    facts: tuple = ()
    severity: Optional[str] = None
    fix: Optional[dict] = None
    verification: Optional[dict] = None
    fix_plan: Any = field(default=None, compare=False, repr=False)  # the fixes.Fix (CST nodes), in-process only

    @property
    def name(self) -> str:
        return rules()[self.code].name

    @property
    def level(self) -> str:
        return self.severity or rules()[self.code].severity

    @property
    def is_diagnostic(self) -> bool:
        return self.code.startswith("ACT0")

    def sort_key(self):
        where = self.location
        return (self.filename, where.cell or 0, where.row, where.column, self.code, self.message)


@dataclass
class FileReport:
    path: str
    results: list[Result] = field(default_factory=list)
    deps: dict = field(default_factory=dict)  # imported project file -> content digest
    masked: bool = False  # IPython lines (`!pip`, `%matplotlib`) were read as comments: no fixes


def diagnostic(code: str, path: str, message: str, row: int = 1, column: int = 1) -> Result:
    where = Position(max(row, 1), max(column, 1))
    return Result(code, message, path, where, where)


class Session:
    """What one run shares across files: each file parsed at most once, the project's modules."""

    def __init__(self, overlay: Optional[dict] = None):
        self.parsed: dict = {}  # resolved path -> libcst.Module, or None when it does not parse
        self.imported: set = set()  # resolved paths some analysis imported: their trees are kept
        self.overlay = overlay or {}  # resolved path -> bytes to use instead of the file's (fixes not yet written)
        self.masked: set = set()  # resolved paths read with IPython lines as comments: never rewritten
        self._project = None

    def parse_path(self, path: str):
        key = os.path.realpath(path)
        self.imported.add(key)
        if key not in self.parsed:
            try:
                with open(key, "rb") as handle:
                    data = self.overlay.get(key) or handle.read()
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
        module = _parse(path, data, report)
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
        from actlint.cache import digest

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

            self._project = Project(self.parse_path)
        return self._project


def lint_source(path: str, data: bytes, session: Optional[Session] = None) -> FileReport:
    """Lint one file's bytes. Never raises: failures become ACT0xx diagnostics. A file the prefilter
    keeps is parsed and analyzed with a fixed depth budget (actlint.depth), whatever the caller's depth."""
    report = FileReport(path)
    if not worth_parsing(data):
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


TOO_DEEP = "skipped: the code is nested too deeply to analyze"
OUT_OF_TIME = "skipped: analysis took longer than"


def cacheable(results) -> bool:
    """Whether results may be cached: not when they depend on this run (an internal error, or the
    time budget running out on a busy machine), so the next run tries the file again."""
    return not any(r.code == "ACT003" or r.message.startswith(OUT_OF_TIME) for r in results)


def _skip_reason(error: BaseException) -> Optional[str]:
    """Why a file is skipped rather than an internal error: a recursion limit (also when libcst's
    code generation re-raises it as another exception) or the time budget."""
    from actlint.frontends.interp import TIME_BUDGET, OutOfTime

    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, RecursionError):
            return TOO_DEEP
        if isinstance(error, OutOfTime):
            return f"{OUT_OF_TIME} {TIME_BUDGET:g} s"
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _describe(error: BaseException) -> str:
    """One short line: some exceptions carry whole syntax trees, whose repr can itself overflow."""
    try:
        text = str(error)
    except Exception:
        text = ""
    text = text.splitlines()[0] if text.strip() else ""
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


def _parse(path: str, data: bytes, report: FileReport):
    """libcst's tree, or a diagnostic. Syntax errors are worded by CPython's parser, the words users
    know; so is deep bracket nesting, which can crash libcst's native parser: CPython refuses it."""
    import libcst as cst

    wide = _wide_encoding(data)
    if wide:
        message = f"cannot decode the file: it is {wide.upper()} text; Python reads source as UTF-8 (PEP 263)"
        report.results.append(diagnostic("ACT002", path, message))
        return None
    if b"\x00" in data:
        report.results.append(diagnostic("ACT002", path, "not a text file (it contains NUL bytes)"))
        return None
    problem = _undecodable(data)
    if problem:
        report.results.append(diagnostic("ACT002", path, f"cannot decode the file: {problem}"))
        return None
    if _could_crash_libcst(data) and not _python_accepts(path, data, report, MAX_NESTING):
        return None
    try:
        return cst.parse_module(data)
    except cst.ParserSyntaxError as error:
        exported = _notebook_export(data)
        if exported is not None:  # a notebook saved as .py: its errors are those of its Python
            report.masked = True
            data = exported
            if not _python_accepts(path, data, report):
                return None
            try:
                return cst.parse_module(data)
            except cst.ParserSyntaxError as masked_error:
                error = masked_error
        if _python_accepts(path, data, report):
            message = "syntax error: libcst cannot parse this code"
            report.results.append(diagnostic("ACT001", path, message, error.raw_line, error.raw_column + 1))
    except (UnicodeDecodeError, LookupError, SyntaxError) as error:
        report.results.append(diagnostic("ACT002", path, f"cannot decode the file: {error}"))
    return None


def _notebook_export(data: bytes):
    """A notebook saved as .py keeps its `!pip install` and `%matplotlib inline` lines: the source
    with those lines read as comments (rows unchanged), or None when the file has none."""
    from actlint import notebooks

    try:
        lines = notebooks.split_lines(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    masked = notebooks.mask_lines(lines)
    return None if masked == lines else "".join(line + "\n" for line in masked).encode("utf-8")


MAX_BRACKET_DEPTH = 100  # CPython itself stops at 200
MAX_OPERATORS = 2000  # long operator chains make libcst's parser superlinear, and crash it past ~10,000
# One expression nested N deep (`a.b.b...`, `f()()...`, `not not ...`, `lambda: lambda: ...`, `a and a and ...`)
# costs libcst's parser O(N^2) time and crashes it (a native stack overflow) from ~4,000 levels; each level
# takes at least one of these tokens, so a file with fewer of them cannot be that deep.
MAX_NESTING_TOKENS = 3000
MAX_NESTING = 500  # levels of syntax tree libcst is asked to parse; real code stays under ~30
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"()[]{}")
_NOT_OPERATORS = bytes(b for b in range(256) if b not in b"+-*/%&|^@")
_NOT_NESTING = bytes(b for b in range(256) if b not in b"+-*/%&|^@~<>.([{")
_NESTING_WORDS = (b"and", b"or", b"not", b"if", b"lambda", b"await")
_BRACKET_STEP = {ord("("): 1, ord("["): 1, ord("{"): 1, ord(")"): -1, ord("]"): -1, ord("}"): -1}


def _could_crash_libcst(data: bytes) -> bool:
    """Deep brackets, many operators or many nesting tokens: then CPython's parser (~0.1x libcst's
    cost) vouches first, and its tree is measured. Rough byte counts (strings and comments count
    too), ~3 ms per MB; true for ~7% of library files (the big ones), for no ML script we have."""
    from itertools import accumulate

    if len(data.translate(None, _NOT_OPERATORS)) > MAX_OPERATORS:
        return True
    if len(data.translate(None, _NOT_NESTING)) + sum(data.count(word) for word in _NESTING_WORDS) > MAX_NESTING_TOKENS:
        return True
    return max(accumulate(_BRACKET_STEP[b] for b in data.translate(None, _NOT_BRACKETS)), default=0) > MAX_BRACKET_DEPTH


def python_parse(data: bytes):
    """CPython's syntax tree of the source. Its SyntaxWarnings (`invalid decimal literal`, and from
    3.12 `invalid escape sequence`) stay off the terminal: they are about the user's code, not
    actlint's run, and under `-W error` they would make valid code a syntax error."""
    import ast
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(data)


def _python_accepts(path: str, data: bytes, report: FileReport, max_nesting: Optional[int] = None) -> bool:
    """Whether CPython's parser accepts the file (and, given `max_nesting`, its tree is no deeper);
    if not, its diagnostic is added to the report."""
    try:
        tree = python_parse(data)
    except SyntaxError as error:
        where = (error.lineno or 1, error.offset or 1)
        report.results.append(diagnostic("ACT001", path, f"syntax error: {error.msg}", *where))
        return False
    except (RecursionError, MemoryError):
        tree = None
    if tree is None or (max_nesting is not None and _nesting(tree) > max_nesting):
        report.results.append(diagnostic("ACT004", path, TOO_DEEP))
        return False
    return True


def _nesting(tree) -> int:
    """The depth of a syntax tree as libcst builds it (`a and b and c` nests one level per operator),
    level by level: ~0.25x the cost of `ast.parse`."""
    import ast

    depth, level, deepest = 0, [tree], 0
    while level:
        below = []
        for node in level:
            if type(node) is ast.BoolOp:
                deepest = max(deepest, depth + len(node.values))
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, list):
                    below.extend(v for v in value if isinstance(v, ast.AST))
                elif isinstance(value, ast.AST):
                    below.append(value)
        level, depth = below, depth + 1
    return max(deepest, depth - 1)


def _undecodable(data: bytes):
    """Why the bytes cannot be decoded as Python source (PEP 263), or None."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return None


def _analyze(path: str, module, project=None) -> list[Result]:
    from actlint.checks import check
    from actlint.frontends import analyze_module

    facts = analyze_module(path, module, project)
    findings = {}  # one finding per (code, primary node): the one that names the most ends
    for finding in [f for b in facts.bindings for f in check(b)] + list(facts.local):
        key = (finding.code, _node_key(finding.site))
        if key not in findings or len(finding.related) > len(findings[key].related):
            findings[key] = finding
    if not findings:
        return []
    from actlint.fixes import attach

    return _locate(attach(list(findings.values()), facts.bindings))


def _node_key(site):
    return (site.path, id(site.node))


def _locate(findings: list) -> list[Result]:
    """Rows and columns, computed once per file that has a finding's end in it."""
    tables = {}

    def span(site):
        if id(site.module) not in tables:
            tables[id(site.module)] = _positions(site.module)
        return _span(tables[id(site.module)], site)

    results = []
    for finding in findings:
        start, end = span(finding.site)
        related = tuple(RelatedLocation(r.site.path, span(r.site)[0], r.label) for r in finding.related)
        fix = getattr(finding, "fix", None)
        results.append(Result(
            finding.code, finding.message, finding.site.path, start, end, related,
            getattr(finding, "suggestion", ""), getattr(finding, "facts", ()), finding.severity,
            _fix_dict(fix, finding.site.path, span), fix_plan=fix,
        ))
    return results


def _positions(module) -> dict:
    """{node: ((line, column), (end line, end column))}: libcst's PositionProvider table, as tuples
    (actlint.positions computes it in ~30% of the provider's time)."""
    from actlint.positions import positions

    return positions(module)


def _fix_dict(fix, filename: str, span):
    if fix is None:
        return None
    from actlint.fixes import as_dict

    return as_dict(fix, filename, span)


def _span(positions, site):
    where = positions.get(site.node)
    if where is None:
        return Position(1, 1), Position(1, 1)
    (line, column), (end_line, end_column) = where
    return Position(line, column + 1), Position(end_line, end_column + 1)
