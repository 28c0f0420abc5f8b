"""The fast paths of issue 8 give the same answers as the slow, obvious code they replaced."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pathspec
from hypothesis import given, settings
from hypothesis import strategies as st

from actlint.config import DEFAULT_EXCLUDE, Settings, _matcher, _relative
from actlint.discovery import discover

NAMES = ["build", "dist", ".git", "src", "pkg.egg-info", ".egg-info", "egg-info", "x.egg-infox", "node_modules",
         "site-packages", "a", "build.py", "venv", ".venv", "my-lib_1.0", "__pycache__", "train.py"]
PATTERN_SETS = [DEFAULT_EXCLUDE, ("build/",), ("*.egg-info/", "src/"), DEFAULT_EXCLUDE + ("my-lib_1.0/", "*.py/")]


@given(st.sampled_from(PATTERN_SETS), st.lists(st.sampled_from(NAMES), min_size=1, max_size=5), st.booleans())
def test_folder_name_patterns_match_like_pathspec(patterns, parts, is_dir):
    relative = "/".join(parts) + ("/" if is_dir else "")
    assert _matcher(patterns)(relative) == pathspec.GitIgnoreSpec.from_lines(patterns).match_file(relative)


def test_other_patterns_still_go_to_pathspec():
    match = _matcher(("/build/", "*.log", "!keep/"))
    assert match("build/") and not match("a/build/") and match("a/x.log")


@given(st.sampled_from(["/", "/work", "/work/proj", "/work/proj/"]),
       st.sampled_from(["/work/proj/a.py", "/work/proj", "/work/projx/a.py", "/", "/work/proj/sub/../b.py", "rel.py"]))
def test_relative_paths_match_pathlib(root, path):
    absolute = Path(os.path.abspath(path))
    try:
        expected = absolute.relative_to(Path(root)).as_posix()
    except ValueError:
        expected = absolute.relative_to(absolute.anchor).as_posix()
    got = _relative(path, Path(root))
    assert got == expected or {got, expected} <= {"", "."}


def _reference_walk(root: Path, excluded):
    """discovery._walk as it was before issue 8 (os.walk and Paths)."""
    from actlint.discovery import _gitignore, _ignored

    if excluded(root, True):
        excluded = Settings(root=Path(os.path.abspath(root))).excluded
    ignores = []
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        spec = _gitignore(here)
        if spec is not None:
            ignores.append((here, spec))
        dirnames[:] = sorted(
            d for d in dirnames
            if not excluded(here / d, True) and not (here / d / "pyvenv.cfg").exists()
            and not _ignored(here / d, ignores, is_dir=True)
        )
        for name in sorted(filenames):
            path = here / name
            if name.endswith((".py", ".ipynb")) and not excluded(path, False) and not _ignored(path, ignores, False):
                yield str(path)


def test_discovery_finds_what_os_walk_found(tmp_path, monkeypatch):
    tree = tmp_path / "proj"
    for name in ["a.py", "b.ipynb", "c.txt", "sub/d.py", "sub/build/e.py", "sub/deep/f.py", "env/g.py",
                 "env/pyvenv.cfg", "logs/h.py", "keep/i.py", "x.egg-info/j.py", "Z/k.py", "sub/.hidden/l.py"]:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("import torch\n")
    (tree / ".gitignore").write_text("logs/\n*.skip.py\n")
    (tree / "sub" / ".gitignore").write_text("deep/\n")
    (tree / "m.skip.py").write_text("")
    (tree / "link").symlink_to(tree / "sub", target_is_directory=True)
    (tree / "n.py").symlink_to(tree / "a.py")
    (tree / "broken.py").symlink_to(tree / "missing.py")
    settings = Settings(root=tmp_path)
    for root in (tree, tree / "sub", tree / "sub" / "build"):
        assert discover([str(root)], settings.excluded).files == list(_reference_walk(root, settings.excluded))
    monkeypatch.chdir(tree)
    assert discover(["."], settings.excluded).files == list(_reference_walk(Path("."), settings.excluded))
    assert "a.py" in discover(["."], settings.excluded).files


def test_remembered_verifications_equal_computed_ones_and_skip_numpy(tmp_path):
    (tmp_path / "keras").mkdir()
    buggy = [p for p in sorted((Path(__file__).resolve().parent.parent / "fixtures" / "keras").glob("ACT*.py"))
             if not p.name.endswith(".fixed.py")]
    for path in buggy[::4]:
        shutil.copy(path, tmp_path / "keras")
    (tmp_path / "pyproject.toml").write_text("")
    script = (
        "import json, sys; from pathlib import Path; from actlint.cache import Cache; from actlint.runner import lint_paths\n"
        "cache = Cache(Path(sys.argv[1])) if sys.argv[2] == 'cache' else None\n"
        "run = lint_paths([sys.argv[1] + '/keras'], cache=cache)\n"
        "print(json.dumps(['numpy' in sys.modules, [r.verification for r in run.results]]))\n"
    )

    def lint(mode):
        out = subprocess.run([sys.executable, "-c", script, str(tmp_path), mode], capture_output=True, text=True,
                             check=True).stdout
        return json.loads(out)

    numpy_cold, computed = lint("none")
    numpy_first, first = lint("cache")
    for entry in (tmp_path / ".actlint_cache").rglob("*"):  # keep the remembered verdicts, drop the results
        if entry.is_file() and entry.parent.name != "verified" and entry.name != ".gitignore":
            entry.unlink()
    numpy_warm, remembered = lint("cache")
    assert computed == first == remembered and len(computed) > 10 and all(computed)
    assert numpy_cold and numpy_first and not numpy_warm


_ODD_SOURCES = [
    b"", b"\n", b"# only a comment", b"x = 1", b"x = 1\r\ny = 2\r\n", b"x = 1\ry = 2\r", b"\xef\xbb\xbfx = 1\n",
    b"def f():\n\tif x:\n\t\treturn '''a\nb'''\n", b"s = 'a\\\nb'\nt = (1,\n     2)  # c\n",
    b"@d\n# c\n@e(1)\nclass C:\n    pass\n    # trailing\n# end", b"x = f'{a!r:>{w}}'\n",
]


def test_positions_are_libcsts_position_provider():
    """actlint.positions records the table PositionProvider records, node for node, on fixtures, the
    stdlib and odd layouts (CRLF, CR, BOM, tabs, continuation lines, decorators, empty files)."""
    import libcst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from actlint.positions import positions

    here = Path(__file__).resolve().parent.parent
    sources = [p.read_bytes() for p in sorted((here / "fixtures").rglob("*.py"))[::5]]
    sources += [p.read_bytes() for p in sorted(Path(os.__file__).parent.glob("*.py"))[:160:8]]  # the stdlib
    for source in sources + _ODD_SOURCES:
        module = libcst.parse_module(source)
        expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        as_tuples = {node: ((r.start.line, r.start.column), (r.end.line, r.end.column)) for node, r in expected.items()}
        assert positions(module) == as_tuples, source[:80]


def test_reading_on_the_pool_changes_nothing(tmp_path, monkeypatch):
    from actlint import parallel
    from actlint.runner import lint_paths

    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "torch", tmp_path / "torch")
    (tmp_path / "torch" / "broken.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "torch" / "plain.py").write_text("print('no framework here')\n")
    serial = lint_paths([str(tmp_path)], jobs=1)
    monkeypatch.setattr(parallel, "SCREEN_FROM", 2)
    screened, _, _ = parallel.screen([(str(p), 0) for p in sorted((tmp_path / "torch").iterdir())], 2)
    assert screened[str(tmp_path / "torch" / "plain.py")] == b"" and len(screened) > 50
    pooled = lint_paths([str(tmp_path)], jobs=2)
    assert pooled.results == serial.results and pooled.files == serial.files
    assert any(r.code == "ACT002" for r in serial.results) and len(serial.results) > 20
    small = lint_paths([str(tmp_path)], jobs=2, max_file_size=2000)  # the size limit holds on the pool too
    monkeypatch.setattr(parallel, "SCREEN_FROM", 10**6)
    assert small.results == lint_paths([str(tmp_path)], jobs=1, max_file_size=2000).results
    assert any(r.code == "ACT004" for r in small.results)


def test_cache_hits_keep_the_filenames_of_this_run(tmp_path, monkeypatch):
    """The same file linted as `x/train.py` and then as `/abs/x/train.py` is reported under the name
    of each run, as without the cache (a cache keyed on the real path alone replayed the first name)."""
    from tests.support import invoke

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "x").mkdir()
    shutil.copy(Path(__file__).resolve().parent.parent / "examples" / "train_mnist.py", tmp_path / "x" / "train.py")
    monkeypatch.chdir(tmp_path)

    def names(*args):
        result = invoke(["--output-format", "json", "--exit-zero", *args])
        found = json.loads(result.stdout)
        assert found
        return {r["filename"] for r in found} | {rel["filename"] for r in found for rel in r["related"]}

    assert names("x") == {"x/train.py"}
    absolute = str(tmp_path / "x")
    assert names(absolute) == names(absolute, "--no-cache") == {str(tmp_path / "x" / "train.py")}


_SOURCE_PIECES = st.sampled_from([b"\n", b"# -*- coding: latin-1 -*-", b"# coding=utf-8", b"\xef\xbb\xbf", b"x = 1",
                                  b"\xe9", b"\xc3\xa9", b"\r\n", b"coding", b"# vim: set fileencoding=cp1252 :"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_SOURCE_PIECES, max_size=8).map(b"".join))
def test_decoding_shown_sources_skips_tokenize_only_when_it_would_say_utf8(data):
    """Sources shown with findings decode as UTF-8 directly unless the first two lines mention a coding."""
    import io
    import tokenize

    from actlint.runner import _decoded

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        expected = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        expected = data.decode("utf-8", errors="replace")
    assert _decoded(data) == expected
