"""Output formats: pure functions of (results, catalogue) to text."""

from __future__ import annotations

import json

from actlint.catalogue import rules


def _where(filename, position) -> str:
    return f"{filename}:{position.row}:{position.column}"


def text(results) -> str:
    lines = []
    for r in results:
        lines.append(f"{_where(r.filename, r.location)}: {r.code} {r.message}")
        for rel in r.related:
            lines.append(f"    {rel.message} at {_where(rel.filename, rel.location)}")
        if r.suggestion:
            lines.append(f"    fix: {r.suggestion}")
        if r.verification and r.verification.get("claim"):
            mark = "verified" if r.verification.get("verified") else "unverified"
            lines.append(f"    {mark}: {r.verification['claim']}")
    return "\n".join(lines) + ("\n" if lines else "")


def as_dict(r) -> dict:
    return {
        "code": r.code,
        "name": r.name,
        "severity": r.level,
        "message": r.message,
        "filename": r.filename,
        "location": {"row": r.location.row, "column": r.location.column},
        "end_location": {"row": r.end_location.row, "column": r.end_location.column},
        "related": [
            {"filename": rel.filename, "location": {"row": rel.location.row, "column": rel.location.column},
             "message": rel.message}
            for rel in r.related
        ],
        "suggestion": r.suggestion or None,
        "fix": r.fix,
        "verification": r.verification,
    }


def json_lines(results) -> str:
    return json.dumps([as_dict(r) for r in results], indent=2) + "\n"


def rule_table() -> str:
    lines = []
    for code, rule in rules().items():
        lines.append(f"{code}  {rule.name:<30} {rule.severity:<8} {rule.summary}")
    return "\n".join(lines) + "\n"


FORMATS = {"text": text, "json": json_lines}
