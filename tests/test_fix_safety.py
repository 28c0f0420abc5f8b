"""Fix safety at scale: `--fix --unsafe-fixes` over a copy of every fixture at once, and over
fuzz-mutated fixtures. Every written file parses (CPython and libcst), a second run changes
nothing, files without a fixable finding keep their bytes, and the lines a fix changes are the
lines of its edits (or imports it adds). A fix whose result would not parse is dropped and
reported, its file left byte-identical.
"""

from __future__ import annotations

import ast
import difflib
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from actlint import fixes, notebooks
from actlint.fixer import fix_until_stable
from actlint.runner import lint_paths
from support import BUGGY, run
from test_fuzz import CONTENT, SOURCES, fuzz, mutated, nested

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def snapshot(tree: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file() and ".actlint_cache" not in p.parts}


def python_of(path: Path, data: bytes) -> bytes:
    """The Python actlint lints in the file: a notebook's code cells (magics masked)."""
    if path.suffix == ".ipynb":
        source, _ = notebooks.read(data)
        return source.encode("utf-8")
    return data


def assert_parses(path: Path, data: bytes) -> None:
    source = python_of(path, data)
    ast.parse(source)
    cst.parse_module(source)


def edit_rows(results) -> dict:
    """{real path: rows some unsafe-or-safe fix edits} for .py files."""
    rows = {}
    for r in results:
        if r.fix_plan is None:
            continue
        for edit in r.fix["edits"]:
            name = os.path.realpath(edit.get("filename", r.filename))
            rows.setdefault(name, set()).update(range(edit["location"]["row"], edit["end_location"]["row"] + 1))
    return rows


def import_rows(data: bytes) -> set:
    """The rows of the module's import statements."""
    return {row for node in ast.walk(ast.parse(data)) if isinstance(node, (ast.Import, ast.ImportFrom))
            for row in range(node.lineno, node.end_lineno + 1)}


def assert_changes_are_the_edits(path: Path, before: bytes, after: bytes, rows: set) -> None:
    """Every changed line is a line some fix edits, or an import the fix adds or extends."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    old_imports, new_imports = import_rows(before), import_rows(after)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        touched = set(range(i1 + 1, i2 + 1))
        added = new[j1:j2]
        if touched & rows or (touched <= old_imports and set(range(j1 + 1, j2 + 1)) <= new_imports):
            continue
        if tag == "insert" and {i1, i1 + 1} & rows:  # a line split off an edited line
            continue
        pytest.fail(f"{path}: lines {i1 + 1}-{i2} changed outside the fixes' edits: {old[i1:i2]} -> {added}")


@pytest.fixture(scope="module")
def fixed_tree(tmp_path_factory):
    """A copy of fixtures/ before and after one `--fix --unsafe-fixes` run over all of it."""
    tree = tmp_path_factory.mktemp("fix_safety") / "fixtures"
    shutil.copytree(FIXTURES, tree)
    before = snapshot(tree)
    findings = lint_paths([str(tree)]).results
    result = run(tree, "--fix", "--unsafe-fixes", "--no-cache")
    return tree, before, findings, result


def test_fixing_every_fixture_at_once_writes_only_code_that_parses(fixed_tree):
    tree, before, _, result = fixed_tree
    assert result.exit_code in (0, 1), result.stderr
    assert "actlint: error" not in result.stderr
    after = snapshot(tree)
    changed = [p for p in before if after[p] != before[p]]
    assert len(changed) >= 60  # most buggy fixtures have a fix
    assert set(after) == set(before)  # no file added (temp files) or removed
    for path in changed:
        assert_parses(path, after[path])


def test_files_without_a_fixable_finding_keep_their_bytes(fixed_tree):
    tree, before, findings, _ = fixed_tree
    rows = edit_rows(findings)
    after = snapshot(tree)
    untouched = [p for p in before if os.path.realpath(p) not in rows]
    assert len(untouched) > 100  # the fixed twins, the clean fixtures, README.md
    assert [p for p in untouched if after[p] != before[p]] == []


def test_fixes_change_only_the_lines_they_edit(fixed_tree):
    tree, before, findings, _ = fixed_tree
    rows = edit_rows(findings)
    after = snapshot(tree)
    for path in before:
        if path.suffix == ".py" and after[path] != before[path]:
            assert_changes_are_the_edits(path, before[path], after[path], rows.get(os.path.realpath(path), set()))


def test_a_second_fix_run_changes_nothing(fixed_tree):
    tree, _, _, _ = fixed_tree
    once = snapshot(tree)
    result = run(tree, "--fix", "--unsafe-fixes", "--no-cache")
    assert result.exit_code in (0, 1) and "actlint: error" not in result.stderr
    assert snapshot(tree) == once


@fuzz
@given(case=st.sampled_from([p for p in SOURCES if FIXTURES / "projects" not in p.parents])
       .flatmap(lambda p: st.tuples(st.just(p), mutated(CONTENT[p]))))
# Issue 14: a 900-deep chain in a method body; the fixer's transformer overflowed under pytest's stack.
@example(case=nested(FIXTURES / "torch" / "ACT101_softmax_in_training_loop.py", b"def forward(", "x = a" + ".b" * 900))
def test_fixing_mutated_fixtures_is_safe_and_idempotent(case):
    source, data = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / source.name

        def lint(overlay):
            return lint_paths([str(path)], overlay=overlay)

        path.write_bytes(data)
        first = fix_until_stable(lint, unsafe=True)
        assert not first.run.internal_errors
        key = os.path.realpath(path)
        if key not in first.changed:
            assert not first.broken or key in first.broken
            return
        fixed = first.after[key]
        assert_parses(path, fixed)
        if not first.broken:
            assert_changes_are_the_edits(path, data, fixed, edit_rows(lint({}).results).get(key, set()))
        path.write_bytes(fixed)
        again = fix_until_stable(lint, unsafe=True)
        assert again.changed == [] and again.applied == 0, (source.name, data)


def test_a_fix_that_would_not_parse_is_dropped_and_the_other_files_are_fixed(tmp_path, monkeypatch):
    """One broken rewrite (string_like, which respells the Keras head's activation string: here as
    `activation=class`) in a run over two files: that file keeps its bytes and gets one line on
    stderr; the PyTorch file beside it is fixed."""
    monkeypatch.setattr(fixes, "string_like", lambda node, value: cst.Name("class"))
    keras_file = tmp_path / "model.py"
    keras_file.write_text(BUGGY, encoding="utf-8")
    torch_source = FIXTURES / "torch" / "ACT101_softmax_in_training_loop.py"
    torch_file = tmp_path / torch_source.name
    shutil.copy(torch_source, torch_file)

    result = run(tmp_path, "--fix", "--unsafe-fixes", "--no-cache")

    assert keras_file.read_text(encoding="utf-8") == BUGGY
    assert torch_file.read_bytes() == torch_source.with_name(torch_source.stem + ".fixed.py").read_bytes()
    errors = [line for line in result.stderr.splitlines() if line.startswith("actlint: error:")]
    assert len(errors) == 1 and str(keras_file) in errors[0] and "does not parse" in errors[0], result.stderr
    assert result.exit_code == 2
    assert "ACT201" in result.stdout  # the finding is still reported, unfixed

    diff = run(tmp_path, "--diff", "--unsafe-fixes", "--no-cache")
    assert str(keras_file) not in diff.stdout and "does not parse" in diff.stderr


def test_a_fix_in_code_python_warns_about_is_applied_quietly(tmp_path):
    """`0x1for` makes CPython warn (SyntaxWarning: invalid hexadecimal literal). Checking the fixed
    code printed that warning, and under `-W error` dropped a good fix as code that does not parse."""
    path = tmp_path / "model.py"
    source = BUGGY.replace("model = keras", "x = [0x1for y in z]\nmodel = keras")
    for action in ("always", "error"):
        path.write_text(source, encoding="utf-8")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            outcome = fix_until_stable(lambda overlay: lint_paths([str(path)], overlay=overlay), unsafe=False)
        assert [str(w.message) for w in caught] == [] and outcome.broken == {}, action
        assert outcome.after[os.path.realpath(path)].decode() == source.replace('"softmax"', '"sigmoid"')
