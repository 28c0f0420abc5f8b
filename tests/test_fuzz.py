"""Fuzzing: grammar-generated Python (hypothesmith) and mutated fixtures never crash actlint.

Whatever the bytes, linting a file either reports findings or exactly one diagnostic, never
raises and never reports an internal error (ACT003).

The default run is small and derandomized (tests/conftest.py): ACTLINT_FUZZ_EXAMPLES examples per
property (60 unless set; a quarter of that for libcst's slow generator), the same every run, and the
falsifying examples found so far, pinned with @example. The long fuzz run, which CI does not do
(~20 minutes on two busy cores at 3000), draws new examples:

    HYPOTHESIS_PROFILE=explore ACTLINT_DEBUG=1 ACTLINT_FUZZ_EXAMPLES=3000 python -m pytest -q -p no:cacheprovider tests/test_fuzz.py

(ACTLINT_DEBUG=1 turns an internal error into the traceback that caused it. A falsifying example it
finds goes into an @example.)
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from actlint.engine import Session, lint_source
from actlint.output import FORMATS
from actlint.runner import lint_paths
from tests.support import invoke

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXAMPLES = int(os.environ.get("ACTLINT_FUZZ_EXAMPLES", "60"))
SOURCES = sorted(p for p in FIXTURES.rglob("*.py"))
NOTEBOOKS = sorted(FIXTURES.rglob("*.ipynb"))
CONTENT = {p: p.read_bytes() for p in SOURCES + NOTEBOOKS}

fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# Makes a generated program worth parsing (the byte prefilter skips files without ML names) and
# gives the interpreter framework values to follow; appended, so `from __future__` stays first.
FRAMEWORK_TAIL = (
    "\nimport torch\nfrom tensorflow import keras\n"
    "model = keras.Sequential([keras.layers.Dense(1, activation='softmax')])\n"
    "model.compile(loss='binary_crossentropy')\n"
)


def assert_survived(results, what) -> None:
    """Findings, or one diagnostic alone; never an internal error."""
    internal = [r.message for r in results if r.code == "ACT003"]
    assert not internal, (what, internal)
    diagnostics = [r for r in results if r.is_diagnostic]
    assert not diagnostics or len(results) == 1, (what, [(r.code, r.message) for r in results])


def quietly(lint):
    """`lint()`'s results; it must not warn (a warning about the user's code is noise on stderr)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = lint()
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
    return results


def lint_bytes(data: bytes, name: str = "fuzzed.py"):
    return quietly(lambda: lint_source(name, data, Session()).results)


def lint_file(data: bytes, name: str):
    """Through the whole run (notebooks, suppressions, verification), as the command line lints."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        run = quietly(lambda: lint_paths([str(path)]))
        assert run.files == 1 and not run.missing
        return run.results


# -- mutations -------------------------------------------------------------------------------

NESTINGS = [
    lambda n: "x = " + "(" * n + "1" + ")" * n,
    lambda n: "x = " + "[" * n + "]" * n,
    lambda n: "x = " + "{" * n + "}" * n,
    lambda n: "x = " + "f(" * n + ")" * n,
    lambda n: "x = " + "not " * n + "y",
    lambda n: "x = " + "-" * n + "1",
    lambda n: "x = " + " + ".join(["a"] * n),
    lambda n: "x = " + " and ".join(["a"] * n),
    lambda n: "x = " + " if c else ".join(["a"] * n),
    lambda n: "x = " + "lambda: " * n + "0",
    lambda n: "x = a" + ".b" * n,
    lambda n: "x = a" + "[0]" * n,
    lambda n: "x = a" + "()" * n,
    lambda n: "x = " + "torch.nn.Sequential(" * n + ")" * n,
    lambda n: "".join("    " * i + "if x:\n" for i in range(min(n, 120))) + "    " * min(n, 120) + "pass",
    lambda n: "".join("    " * i + "def f():\n" for i in range(min(n, 120))) + "    " * min(n, 120) + "return nn.Softmax()",
]


WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]*)?")
# Words to put in place of others: the fixtures' own (mostly framework names), and odd values.
VOCABULARY = sorted({w for data in CONTENT.values() for w in WORD.findall(data)}) + [
    b"None", b"*args", b"**kwargs", b"0", b"-1", b"1e9", b"lambda *a: a", b"[]", b"()", b"{}", b"...", b"x[0]",
    b"self", b"super()", b"yield", b"await x", b"print", b"__class__", b"f'{x}'", b"(a := 1)",
]


@st.composite
def mutated(draw, data: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 3))):
        lines = data.splitlines(keepends=True) or [b""]
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "flip", "byte", "truncate", "nest", "splice",
                                     "word", "word"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "nest":
            depth = draw(st.one_of(st.integers(1, 60), st.integers(60, 1200)))
            indent = draw(st.sampled_from([b"", b"    ", b"        "]))
            lines.insert(i, indent + draw(st.sampled_from(NESTINGS))(depth).encode() + b"\n")
        elif kind == "splice":  # a few lines of another fixture
            other = CONTENT[draw(st.sampled_from(SOURCES))].splitlines(keepends=True)
            start = draw(st.integers(0, max(len(other) - 1, 0)))
            lines[i:i] = other[start:start + draw(st.integers(1, 8))]
        elif kind == "word":  # one name or number replaced: still parses, means something else
            words = list(WORD.finditer(lines[i]))
            if words:
                word = words[draw(st.integers(0, len(words) - 1))]
                lines[i] = lines[i][:word.start()] + draw(st.sampled_from(VOCABULARY)) + lines[i][word.end():]
        data = b"".join(lines)
        if kind in ("flip", "byte", "truncate") and data:
            k = draw(st.integers(0, len(data) - 1))
            if kind == "flip":
                data = data[:k] + bytes([data[k] ^ (1 << draw(st.integers(0, 7)))]) + data[k + 1:]
            elif kind == "byte":
                data = data[:k] + bytes([draw(st.integers(0, 255))]) + data[k + 1:]
            else:
                data = data[:k]
    return data


def mutated_fixture(paths):
    return st.sampled_from(paths).flatmap(lambda p: st.tuples(st.just(p), mutated(CONTENT[p])))


def nested(path: Path, after: bytes, nesting: str, indent: bytes = b"        ") -> tuple:
    """A `nest` mutation as `mutated` draws it, for an @example: (path, its bytes with `nesting` inserted,
    indented, after the first line that contains `after`)."""
    lines = CONTENT[path].splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if after in line) + 1
    lines.insert(row, indent + nesting.encode() + b"\n")
    return path, b"".join(lines)


# -- properties ------------------------------------------------------------------------------


@fuzz
@given(source=hypothesmith.from_grammar())
@example(source='\n"\\8"\n')  # an invalid escape: literal_eval warned about the user's code
def test_grammar_generated_programs(source):
    for data in (source.encode("utf-8", "surrogatepass"), (source + FRAMEWORK_TAIL).encode("utf-8", "surrogatepass")):
        assert_survived(lint_bytes(data), source)


@settings(fuzz, max_examples=max(EXAMPLES // 4, 10))  # libcst's generator is slow: ~0.3 s an example
@given(source=hypothesmith.from_node(cst.Module))
def test_libcst_generated_programs(source):
    assert_survived(lint_bytes((source + FRAMEWORK_TAIL).encode("utf-8", "surrogatepass")), source)


@fuzz
@given(statements=hypothesmith.from_grammar(start="file_input"), where=st.integers(0, 10_000),
       path=st.sampled_from([p for p in SOURCES if not p.name.endswith(".fixed.py")]))
def test_generated_code_spliced_into_fixtures(statements, where, path):
    lines = CONTENT[path].splitlines(keepends=True)
    where %= len(lines) + 1
    data = b"".join(lines[:where]) + statements.encode("utf-8", "surrogatepass") + b"\n" + b"".join(lines[where:])
    assert_survived(lint_bytes(data, path.name), (path.name, where, statements))


@fuzz
@given(case=mutated_fixture(SOURCES))
def test_mutated_fixtures_lint_source(case):
    path, data = case
    assert_survived(lint_bytes(data, path.name), (path.name, data))


@fuzz
@given(case=mutated_fixture(SOURCES))
def test_mutated_fixtures_through_the_run(case):
    path, data = case
    assert_survived(lint_file(data, path.name), (path.name, data))


PROJECT_FILES = [p for p in SOURCES if FIXTURES / "projects" in p.parents and not p.name.endswith(".fixed.py")]


@fuzz
@given(case=mutated_fixture(PROJECT_FILES))
def test_mutated_file_in_a_project(case):
    """A broken module that the rest of the project imports: every file still gets findings or one
    diagnostic, the importers included."""
    path, data = case
    project = next(p for p in path.parents if p.parent == FIXTURES / "projects")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / project.name
        shutil.copytree(project, copy, ignore=shutil.ignore_patterns("*.fixed.py"))
        (copy / path.relative_to(project)).write_bytes(data)
        run = lint_paths([str(copy)])
    by_file = {}
    for result in run.results:
        by_file.setdefault(result.filename, []).append(result)
    for name, results in by_file.items():
        assert_survived(results, (path.name, data, name))


@fuzz
@given(case=mutated_fixture(NOTEBOOKS))
def test_mutated_notebooks(case):
    path, data = case
    assert_survived(lint_file(data, path.name), (path.name, data))


@fuzz
@given(case=mutated_fixture(SOURCES + NOTEBOOKS), output_format=st.sampled_from(sorted(FORMATS)))
def test_mutated_fixtures_in_every_output_format(case, output_format):
    """The command line shows any file's findings in every format: no traceback, exit 0 or 1."""
    path, data = case
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / path.name
        target.write_bytes(data)
        result = invoke([str(target), "--no-cache", "--output-format", output_format])
    assert result.exit_code in (0, 1) and (result.exception is None or isinstance(result.exception, SystemExit)), (
        path.name, data, result.output, result.exc_info)
    internal = '"ruleId": "ACT003"' if output_format == "sarif" else "internal error:"  # sarif lists every rule
    assert "Traceback" not in result.output and internal not in result.output, (path.name, data, result.output)


@pytest.mark.parametrize("path", SOURCES + NOTEBOOKS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_truncated_mid_file(path):
    data = CONTENT[path]
    for cut in sorted({len(data) // 3, len(data) // 2, len(data) * 2 // 3}):
        assert_survived(lint_file(data[:cut], path.name) if path.suffix == ".ipynb" else lint_bytes(data[:cut], path.name),
                        (path.name, cut))


def test_python_syntax_warnings_about_the_code_stay_quiet():
    """Found by fuzzing: CPython's parser, asked where libcst failed, warned about the user's code
    (`<unknown>:2: SyntaxWarning: invalid decimal literal` on stderr), and under `-W error` the
    warning became the reported syntax error instead of the real one on row 3."""
    data = b'from torch.nn import CrossEntropyLoss\nx = 1if y else 2\nprint "x"\n'
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = lint_bytes(data)
    assert [str(w.message) for w in caught] == []
    assert [(r.code, r.location.row) for r in results] == [("ACT001", 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [(r.code, r.location.row) for r in lint_bytes(data)] == [("ACT001", 3)]
