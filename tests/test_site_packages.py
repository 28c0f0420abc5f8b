"""Real code at scale (issue 9): actlint over the installed source trees of keras, tensorflow,
tf_keras and torch, and small tests for what that sweep found.

The sweep (`slow`: a label, CI runs it) lints each tree as a user would (the CLI, two jobs, no
cache) and holds it to tests/data/site_packages_allowlist.toml:

- no internal error (ACT003), no traceback, exit 0 under --exit-zero: always;
- every finding, ACT001 and ACT002 is listed, keyed by (path below site-packages, code, the stripped
  text of its line): a line number would go stale with any edit above it, the line's text only when
  the line itself changes;
- every listed entry still fires (a stale entry fails: the analyzer changed, or the library did,
  and the reviewed verdict no longer describes anything).

Both list checks hold only for the package version the list was reviewed on (its [reviewed] table).
CI pins torch but not tensorflow-cpu, tf-keras or keras: a new release there changes the code
linted, not actlint, so its unlisted findings and stale entries are printed and warned about, not
failed, until someone reviews them and updates the version. ACT004 (skipped: over the time budget,
which is wall-clock and so depends on the machine's load, or over max-file-size) is printed, not
failed. The library is never imported: its folder comes from its import spec.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest

from actlint.engine import Session, lint_source

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ALLOWLIST = Path(__file__).resolve().parent / "data" / "site_packages_allowlist.toml"
DISTRIBUTIONS = {"keras": "keras", "tensorflow": "tensorflow", "tf_keras": "tf-keras", "torch": "torch"}
LISTED_CODES = ("ACT001", "ACT002")  # diagnostics that, like findings, must be reviewed and listed


def tree(package: str) -> Path:
    """The package's folder, found without importing it (a top-level spec imports nothing)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def version(package: str):
    try:
        return importlib.metadata.version(DISTRIBUTIONS[package])
    except importlib.metadata.PackageNotFoundError:
        return None


def allowlist() -> dict:
    with open(ALLOWLIST, "rb") as handle:
        return tomllib.load(handle)


def key(entry: dict) -> tuple:
    return (entry["path"], entry["code"], entry["line"])


def sweep(folder: Path, cwd: Path):
    """The CLI over one tree: (results, stderr, exit code, seconds)."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "actlint", str(folder), "--isolated", "--no-cache", "-j", "2",
         "--output-format", "json", "--exit-zero"],
        capture_output=True, text=True, cwd=cwd, timeout=900,
    )
    return json.loads(done.stdout or "[]"), done.stderr, done.returncode, time.monotonic() - start


def found_key(result: dict, root: Path) -> tuple:
    path = Path(result["filename"]).resolve()
    row = result["location"]["row"]
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    text = lines[row - 1].strip() if 0 < row <= len(lines) else ""
    return (path.relative_to(root).as_posix(), result["code"], text)


def test_the_allowlist_is_reviewed():
    """Every entry names a reviewed package, a verdict and a reason; no entry twice."""
    listed = allowlist()
    entries = listed.get("finding", [])
    for entry in entries:
        assert set(entry) >= {"path", "code", "line", "verdict", "reason"}, entry
        assert entry["verdict"] in ("true", "false"), entry
        assert entry["reason"].strip(), entry
        assert entry["path"].split("/", 1)[0] in listed["reviewed"], entry
    assert len({key(e) for e in entries}) == len(entries)


@pytest.mark.slow
@pytest.mark.parametrize("package", sorted(DISTRIBUTIONS))
def test_installed_library_tree(package, tmp_path):
    folder = tree(package)
    root = folder.parent  # site-packages: listed paths start with the package's name
    results, stderr, code, seconds = sweep(folder, tmp_path)
    kinds = Counter(r["code"] for r in results if r["code"].startswith("ACT0"))
    findings = [r for r in results if not r["code"].startswith("ACT0") or r["code"] in LISTED_CODES]
    print(f"{package} {version(package)}: {seconds:.0f} s, diagnostics {dict(sorted(kinds.items()))}, "
          f"findings {dict(Counter(r['code'] for r in findings))}")
    for r in results:
        if r["code"] == "ACT004":
            print(f"  ACT004 {Path(r['filename']).relative_to(root)}: {r['message']}")

    assert "Traceback" not in stderr, stderr[-3000:]
    assert [r for r in results if r["code"] == "ACT003"] == []
    assert code == 0, stderr[-3000:]

    listed = allowlist()
    entries = {key(e) for e in listed.get("finding", []) if e["path"].split("/", 1)[0] == package}
    seen = {found_key(r, root) for r in findings}
    unlisted, stale = sorted(seen - entries), sorted(entries - seen)
    reviewed = listed["reviewed"].get(package)
    if reviewed != version(package):
        if unlisted or stale:
            warnings.warn(f"{package} {version(package)} is not the reviewed {reviewed}: "
                          f"unlisted {unlisted}, stale {stale}")
        return
    assert unlisted == [], "findings not in tests/data/site_packages_allowlist.toml (review them)"
    assert stale == [], "allow-list entries that no longer fire (remove them)"


# -- what the sweep found, small: a fan of imports, the clock -----------------------------------------

MAIN = """import torch
from torch import nn
from pkg.model import model

criterion = nn.CrossEntropyLoss()
loss = criterion(model(torch.randn(2, 4)), torch.tensor([0, 1]))
"""
MODEL = """from torch import nn
from . import helpers

model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))
"""


def fan_project(root, siblings: int):
    """main.py -> pkg/model.py -> pkg/helpers.py -> `siblings` more modules (a library's fan of imports)."""
    pkg = root / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (root / "main.py").write_text(MAIN)
    (pkg / "model.py").write_text(MODEL)
    (pkg / "helpers.py").write_text("".join(f"from . import m{i}\n" for i in range(siblings)))
    for i in range(siblings):
        (pkg / f"m{i}.py").write_text(f"import torch\nSIZE = {i}\n")
    return root / "main.py", pkg / "model.py"


def codes(report):
    return sorted(r.code for r in report.results)


def test_a_file_whose_imports_reach_past_the_limit_is_analyzed_alone(tmp_path, monkeypatch):
    from actlint.frontends import project

    limit = project.MAX_MODULES
    main, _ = fan_project(tmp_path, siblings=limit)  # + pkg/__init__.py, model.py, helpers.py: over
    data = main.read_bytes()
    assert codes(lint_source(str(main), data, Session())) == []
    monkeypatch.setattr(project, "MAX_MODULES", limit + 3)
    report = lint_source(str(main), data, Session())
    assert codes(report) == ["ACT101"]  # followed: the softmax in model.py meets the loss in main.py
    assert len(report.deps) == limit + 3


def test_the_import_limit_does_not_depend_on_what_a_worker_linted_before(tmp_path, monkeypatch):
    """A module loaded for an earlier file counts with all the files it reached: main.py is over the
    limit (and depends on the same files) whether or not model.py was linted first in the session."""
    from actlint.frontends import project

    main, model = fan_project(tmp_path, siblings=project.MAX_MODULES)
    alone = lint_source(str(main), main.read_bytes(), Session())
    session = Session()
    lint_source(str(model), model.read_bytes(), session)
    after = lint_source(str(main), main.read_bytes(), session)
    assert codes(after) == codes(alone) == []
    assert after.deps == alone.deps and len(alone.deps) == project.MAX_MODULES + 1  # stopped there


def test_each_import_counts_against_the_time_budget(tmp_path, monkeypatch):
    """A fan of small modules never runs the interpreter's 1,000 steps between looks at the clock:
    loading each one looks at it too."""
    from actlint.frontends import interp

    main, _ = fan_project(tmp_path, siblings=3)
    monkeypatch.setattr(interp, "TIME_BUDGET", 0.0)
    report = lint_source(str(main), main.read_bytes(), Session())
    assert [(r.code, r.message) for r in report.results] == [("ACT004", "skipped: analysis took longer than 0 s")]
