"""Output formats: pure functions of (results, catalogue, View) to text.

`View` carries what a format may show beyond the results: the source lines of the files that have
results (for `full`) and whether to colour. Every format is `format(results, view) -> str`.

`Result.fix`, when set, is read in ruff's shape: {"applicability": "safe" | "unsafe", "message": str,
"edits": [{"content": str, "location": {"row", "column"}, "end_location": {"row", "column"}}]}
(1-based rows and columns; an edit in another file than the finding's also names its "filename").
Text formats mark a finding `[*]` when `--fix` would fix it (`--unsafe-fixes` counts unsafe fixes too).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from actlint import __version__
from actlint.catalogue import rules


@dataclass(frozen=True)
class View:
    sources: dict = field(default_factory=dict)  # filename -> {cell or None: source lines}
    color: bool = False
    unsafe_fixes: bool = False  # whether unsafe fixes count as fixable


def fixable(r, unsafe_fixes: bool = False) -> bool:
    return bool(r.fix) and (r.fix.get("applicability") == "safe" or unsafe_fixes)


def _mark(r, view: View) -> str:
    return "[*] " if fixable(r, view.unsafe_fixes) else ""


def _where(filename, position) -> str:
    cell = f"cell {position.cell}:" if getattr(position, "cell", None) else ""
    return f"{filename}:{cell}{position.row}:{position.column}"


def _details(r, verification: bool = True) -> list:
    """The lines under a finding's headline: its other ends, the fix, the verification."""
    lines = [f"{rel.message} at {_where(rel.filename, rel.location)}" for rel in r.related]
    if r.suggestion:
        lines.append(f"fix: {r.suggestion}")
    claim = verified_line(r) if verification else None
    if claim:
        lines.append(claim)
    return lines


def verified_line(r) -> Optional[str]:
    """`verified: <claim>` (or `unverified: ...`), the numeric core's check of a finding's fix; None
    when it has no claim."""
    if not (r.verification and r.verification.get("claim")):
        return None
    mark = "verified" if r.verification.get("verified") else "unverified"
    return f"{mark}: {r.verification['claim']}"


# -- concise (alias: text) ----------------------------------------------------------------------

def concise(results, view: View = View()) -> str:
    lines = []
    for r in results:
        lines.append(f"{_where(r.filename, r.location)}: {r.code} {_mark(r, view)}{r.message}")
        lines.extend(f"    {detail}" for detail in _details(r, verification=False))  # the claim: full, json
    return "\n".join(lines) + ("\n" if lines else "")


text = concise


# -- full: the source line and a caret under each end --------------------------------------------

LEVEL_COLOURS = {"error": "red", "warning": "yellow", "info": "blue"}
TOKEN = re.compile(r"""[rbfuRBFU]{0,2}("[^"]*"|'[^']*')|[\w.]+(\([^()]*\))?|\S""")


def full(results, view: View = View()) -> str:
    return "\n".join(_full_one(r, view) + "\n" for r in results)


def _full_one(r, view: View) -> str:
    paint = _painter(view.color)
    colour = LEVEL_COLOURS.get(r.level, "red")
    head = f"{paint(_where(r.filename, r.location), bold=True)}: {paint(r.code, fg=colour, bold=True)} {_mark(r, view)}{r.message}"
    lines = [head]
    source = view.sources.get(r.filename, {})
    end = r.end_location.column if r.end_location.row == r.location.row else None
    width = max(len(str(where.row)) for where in [r.location] + [rel.location for rel in r.related])
    if not r.is_diagnostic or r.code == "ACT001":  # a syntax error has a line worth showing
        lines += _snippet(source, r.location, end, r.code, paint, colour, width)
    for rel in r.related:
        lines.append(f"  {paint(':::', fg='cyan')} {rel.message} at {_where(rel.filename, rel.location)}")
        rel_source = view.sources.get(rel.filename, {})
        lines += _snippet(rel_source, rel.location, None, rel.message, paint, "cyan", width)
    lines += [f"  = {detail}" for detail in _details(r)[len(r.related):]]
    return "\n".join(lines)


def _snippet(source: dict, where, end_column, label: str, paint, colour, width: int) -> list:
    """The line and a caret under the span; the gutter is as wide as the finding's widest row number."""
    rows = source.get(where.cell)
    if not rows or not 0 < where.row <= len(rows):
        return []
    line = rows[where.row - 1].rstrip()
    start = min(where.column - 1, len(line))
    stop = _span_end(line, start, end_column)
    pad = re.sub(r"[^\t]", " ", line[:start])  # keep tabs so the caret lines up
    gutter = " " * width
    marks = paint("^" * max(stop - start, 1) + " " + label, fg=colour, bold=True)
    return [f"{gutter} |", f"{where.row:>{width}} | {line}", f"{gutter} | {pad}{marks}"]


def _span_end(line: str, start: int, end_column) -> int:
    if end_column is not None:
        return min(end_column - 1, len(line))
    token = TOKEN.match(line, start)
    return token.end() if token else start + 1


ANSI_COLOURS = {"red": 31, "yellow": 33, "blue": 34, "cyan": 36}


def _style(text: str, fg: str | None = None, bold: bool = False) -> str:
    """`text` in an ANSI colour and weight, then reset (the sequences click.style wrote)."""
    start = (f"\x1b[{ANSI_COLOURS[fg]}m" if fg else "") + ("\x1b[1m" if bold else "")
    return f"{start}{text}\x1b[0m"


def _painter(color: bool):
    if color:
        return _style
    return lambda s, **style: s


# -- json ------------------------------------------------------------------------------------------

def _position(position) -> dict:
    return {"row": position.row, "column": position.column}


def as_dict(r) -> dict:
    item = {
        "code": r.code,
        "name": r.name,
        "severity": r.level,
        "message": r.message,
        "filename": r.filename,
        "location": _position(r.location),
        "end_location": _position(r.end_location),
        "related": [_related_dict(rel) for rel in r.related],
        "suggestion": r.suggestion or None,
        "fix": r.fix,
        "verification": r.verification,
    }
    if r.location.cell is not None:
        item["cell"] = r.location.cell
    return item


def _related_dict(rel) -> dict:
    item = {"filename": rel.filename, "location": _position(rel.location), "message": rel.message}
    if rel.location.cell is not None:
        item["cell"] = rel.location.cell
    return item


def json_lines(results, view: View = View()) -> str:
    return json.dumps([as_dict(r) for r in results], indent=2) + "\n"


# -- sarif -----------------------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def sarif(results, view: View = View()) -> str:
    catalogue = list(rules().values())
    index = {rule.code: i for i, rule in enumerate(catalogue)}
    run = {
        "tool": {"driver": {"name": "actlint", "version": __version__, "rules": [_sarif_rule(r) for r in catalogue]}},
        "columnKind": "unicodeCodePoints",
        "results": [_sarif_result(r, index[r.code]) for r in results],
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _sarif_rule(rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "help": {"text": rule.doc(), "markdown": rule.doc()},
        "defaultConfiguration": {"level": SARIF_LEVELS.get(rule.severity, "warning")},
    }


def _sarif_result(r, rule_index: int) -> dict:
    item = {
        "ruleId": r.code,
        "ruleIndex": rule_index,
        "level": SARIF_LEVELS.get(r.level, "warning"),
        "message": {"text": "\n".join([r.message] + _details(r))},
        "locations": [_sarif_location(r.filename, r.location, r.end_location)],
    }
    if r.related:
        item["relatedLocations"] = [
            dict(_sarif_location(rel.filename, rel.location), id=i, message={"text": rel.message})
            for i, rel in enumerate(r.related)
        ]
    if r.fix and not any("cell" in edit for edit in r.fix["edits"]):  # a notebook's cells have no regions
        item["fixes"] = [_sarif_fix(r.filename, r.fix)]
    return item


def _uri(filename: str) -> str:
    path = Path(filename)
    return path.as_uri() if path.is_absolute() else path.as_posix()


def _sarif_location(filename: str, start, end=None) -> dict:
    physical = {"artifactLocation": {"uri": _uri(filename)}}
    location = {"physicalLocation": physical}
    if start.cell is not None:  # a notebook: lines of the .ipynb file mean nothing, say the cell
        location["properties"] = {"cell": start.cell, "row": start.row, "column": start.column}
        return location
    physical["region"] = _region(start, end)
    return location


def _region(start, end=None) -> dict:
    region = {"startLine": start.row, "startColumn": start.column}
    if end is not None:
        region.update(endLine=end.row, endColumn=end.column)
    return region


def _sarif_fix(filename: str, fix: dict) -> dict:
    by_file = {}
    for e in fix.get("edits", []):
        by_file.setdefault(e.get("filename", filename), []).append(
            {"deletedRegion": _region(_Pos(**e["location"]), _Pos(**e["end_location"])),
             "insertedContent": {"text": e.get("content", "")}})
    return {
        "description": {"text": fix.get("message") or "apply the suggested fix"},
        "artifactChanges": [{"artifactLocation": {"uri": _uri(name)}, "replacements": replacements}
                            for name, replacements in (by_file or {filename: []}).items()],
    }


@dataclass(frozen=True)
class _Pos:
    row: int
    column: int


# -- github workflow commands ---------------------------------------------------------------------

GITHUB_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def github(results, view: View = View()) -> str:
    return "".join(_github_line(r) + "\n" for r in results)


def _github_line(r) -> str:
    where = {"file": r.filename}
    if r.location.cell is None:
        where.update(line=r.location.row, col=r.location.column,
                     endLine=r.end_location.row, endColumn=r.end_location.column)
    where["title"] = r.code
    properties = ",".join(f"{key}={_escape_property(str(value))}" for key, value in where.items())
    message = "\n".join([f"{_where(r.filename, r.location)}: {r.message}"] + _details(r))
    return f"::{GITHUB_LEVELS.get(r.level, 'error')} {properties}::{_escape_data(message)}"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


# -- gitlab code quality --------------------------------------------------------------------------

GITLAB_SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def gitlab(results, view: View = View()) -> str:
    from hashlib import sha256

    seen = Counter()
    issues = []
    for r in results:
        key = f"{r.code}\0{Path(r.filename).as_posix()}\0{r.message}"
        seen[key] += 1
        issues.append({
            "description": f"{r.code} {r.message}",
            "check_name": f"{r.code} {r.name}",
            "fingerprint": sha256(f"{key}\0{seen[key]}".encode()).hexdigest(),
            "severity": GITLAB_SEVERITIES.get(r.level, "major"),
            "location": {"path": Path(r.filename).as_posix(), "lines": {"begin": r.location.row}},
        })
    return json.dumps(issues, indent=2) + "\n"


# -- junit ------------------------------------------------------------------------------------------

def junit(results, view: View = View()) -> str:
    from xml.etree import ElementTree

    suites = ElementTree.Element("testsuites", name="actlint", tests=str(max(len(results), 1)),
                                 failures=str(len(results)))
    by_file = {}
    for r in results:
        by_file.setdefault(r.filename, []).append(r)
    for filename, items in by_file.items():
        suite = ElementTree.SubElement(suites, "testsuite", name=filename, tests=str(len(items)),
                                       failures=str(len(items)))
        for r in items:
            case = ElementTree.SubElement(suite, "testcase", classname=filename,
                                          name=f"{r.code} at {_where(r.filename, r.location)}")
            failure = ElementTree.SubElement(case, "failure", message=r.message, type=r.code)
            failure.text = "\n".join([f"{_where(r.filename, r.location)}: {r.code} {r.message}"] + _details(r))
    if not results:
        suite = ElementTree.SubElement(suites, "testsuite", name="actlint", tests="1", failures="0")
        ElementTree.SubElement(suite, "testcase", classname="actlint", name="no problems found")
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


# -- statistics and the rule table -----------------------------------------------------------------

def statistics(results, as_json: bool = False) -> str:
    counts = Counter(r.code for r in results)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if as_json:
        return json.dumps([{"code": c, "name": rules()[c].name, "count": n} for c, n in ordered], indent=2) + "\n"
    width = len(str(max(counts.values(), default=0)))
    return "".join(f"{n:>{width}}  {c}  {rules()[c].name}\n" for c, n in ordered)


def rule_table() -> str:
    lines = []
    for code, rule in rules().items():
        lines.append(f"{code}  {rule.name:<30} {rule.severity:<8} {rule.summary}")
    return "\n".join(lines) + "\n"


FORMATS = {
    "full": full, "concise": concise, "text": concise, "json": json_lines, "sarif": sarif,
    "github": github, "gitlab": gitlab, "junit": junit,
}
MACHINE_FORMATS = {"json", "sarif", "github", "gitlab", "junit"}
UNVERIFIED_FORMATS = {"concise", "text", "gitlab"}  # they do not show the numeric core's verdict: not computed
