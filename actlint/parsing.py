"""Parsing one file's bytes with libcst, or saying why not (ACT001 syntax, ACT002 decoding, ACT004 depth).

libcst is imported only here and only when a file is parsed. CPython's own parser vouches first for
files that could crash libcst's native parser, and words the syntax errors users see.
"""

from __future__ import annotations

from typing import Optional

from actlint.prefilter import wide_encoding
from actlint.results import FileReport, diagnostic

TOO_DEEP = "skipped: the code is nested too deeply to analyze"


def parse(path: str, data: bytes, report: FileReport):
    """libcst's tree, or a diagnostic. Syntax errors are worded by CPython's parser, the words users
    know; so is deep bracket nesting, which can crash libcst's native parser: CPython refuses it."""
    import libcst as cst

    wide = wide_encoding(data)
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
        syntax = error
        exported = _notebook_export(data)
        if exported is not None:  # a notebook saved as .py: its errors are those of its Python
            report.masked = True
            data = exported
            if not _python_accepts(path, data, report):
                return None
            try:
                return cst.parse_module(data)
            except cst.ParserSyntaxError as masked_error:
                syntax = masked_error
        if _python_accepts(path, data, report):
            message = "syntax error: libcst cannot parse this code"
            report.results.append(diagnostic("ACT001", path, message, syntax.raw_line, syntax.raw_column + 1))
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
