"""Every fixture's findings equal its inline `# expect:` annotations, exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from actlint.engine import lint_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+|none)\s*$")


def fixture_files():
    return sorted(p for p in FIXTURES.rglob("*.py") if not p.name.endswith(".fixed.py"))


def expected(path: Path) -> set:
    found = set()
    for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT.search(line)
        if match and match.group(1) != "none":
            found |= {(code.strip(), row) for code in match.group(1).split(",") if code.strip()}
    return found


def actual(path: Path) -> set:
    report = lint_source(str(path), path.read_bytes())
    return {(r.code, r.location.row) for r in report.results}


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_match_annotations(path):
    assert actual(path) == expected(path)


def test_every_fixture_is_annotated():
    for path in fixture_files():
        assert "# expect:" in path.read_text(encoding="utf-8"), f"{path} has no # expect: line"
