"""Suppression comments: `# noqa`, `# noqa: ACT101,ACT205`, `# actlint: ignore[ACT101]` on the line of
either end of a finding (in whichever file that end is), and a file-level `# actlint: noqa` on a line
of its own, which silences what is reported in that file.

Only comments count (read with tokenize, so a `# noqa` inside a string does nothing), and only files
that have findings are tokenized. Diagnostics (ACT0xx) cannot be suppressed by comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ALL = "*"
CODES = r"[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*"
NOQA = re.compile(rf"#\s*noqa(?::\s*(?P<codes>{CODES}))?", re.IGNORECASE)
IGNORE = re.compile(rf"#\s*actlint:\s*ignore(?:\[\s*(?P<codes>{CODES})\s*\])?", re.IGNORECASE)
FILE_NOQA = re.compile(rf"^#\s*actlint:\s*noqa(?::\s*(?P<codes>{CODES}))?\s*$", re.IGNORECASE)


@dataclass
class Suppressions:
    lines: dict = field(default_factory=dict)  # row -> set of codes, or {ALL}
    file: set = field(default_factory=set)  # codes suppressed in the whole file, or {ALL}

    def silences(self, code: str, rows, whole_file: bool = True) -> bool:
        if whole_file and _matches(self.file, code):
            return True
        return any(_matches(self.lines.get(row, ()), code) for row in rows)


def ends(result) -> dict:
    """{filename: positions} of every end of a finding: the primary span's first and last, the related."""
    found = {result.filename: [result.location, result.end_location]}
    for rel in result.related:
        found.setdefault(rel.filename, []).append(rel.location)
    return found


def _matches(codes, code: str) -> bool:
    return ALL in codes or code in codes


def _codes(match) -> set:
    listed = match.group("codes")
    return {c.strip().upper() for c in listed.split(",")} if listed else {ALL}


def parse(source: str) -> Suppressions:
    """The suppression comments in Python source (an untokenizable tail is ignored)."""
    found = Suppressions()
    lowered = source.lower()
    if "noqa" not in lowered and "actlint" not in lowered:  # no comment can say anything: skip tokenizing
        return found
    import io
    import tokenize

    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                _read_comment(token, found)
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def _read_comment(token, found: Suppressions) -> None:
    row = token.start[0]
    whole_line = token.line.strip() == token.string.strip()
    file_level = FILE_NOQA.match(token.string.strip())
    if whole_line and file_level:
        found.file |= _codes(file_level)
        return
    for pattern in (NOQA, IGNORE):
        for match in pattern.finditer(token.string):
            found.lines.setdefault(row, set()).update(_codes(match))

