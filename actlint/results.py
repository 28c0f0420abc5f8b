"""What linting produces: located results (findings and ACT0xx diagnostics) and one file's report.

Plain data shared by the engine, the cache, the runner and the output formats; it imports only the
rule catalogue (a result's name and default severity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from actlint.catalogue import rules


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
