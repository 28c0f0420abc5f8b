"""actlint as a flake8 plugin: `flake8 --select ACT` runs actlint on each file flake8 checks.

Registered under the `flake8.extension` entry points as `ACT`. Each file is linted as `actlint FILE`
lints it: cross-file facts still come from the project's other files, actlint's configuration
(pyproject.toml [tool.actlint], actlint.toml, including its exclusions) applies, and results go
through the same cache as the command's, so running both does the work once. A finding is reported
at its primary location, its other ends in the message; flake8 applies its own `# noqa: ACT...`.
This module imports nothing from flake8: it is only loaded by flake8.
"""

from __future__ import annotations

import os

from actlint import __version__


class Plugin:
    name = "actlint"
    version = __version__

    def __init__(self, tree, filename: str, lines: list):
        # flake8 hands every plugin asking for `tree` its ast; actlint parses with libcst instead.
        self.filename, self.lines = filename, lines

    def run(self):
        from actlint.config import ConfigError

        try:
            found = findings(self.filename, self.lines)
        except ConfigError as error:  # flake8 ends the run with its "critical error" message, not a traceback
            from flake8.exceptions import ExecutionError

            raise ExecutionError(f"actlint: error: {error}") from None
        here = os.path.realpath(self.filename)
        for result in found:
            row, column, ends = _anchor(result, here)
            where = "; ".join(f"{message} at {filename}:{at.row}:{at.column}" for filename, at, message in ends)
            yield row, column - 1, f"{result.code} {result.message}" + (f" ({where})" if where else ""), type(self)


def _anchor(result, here: str) -> tuple:
    """(row, column, the other ends) for a finding flake8 reports in the file `here`: its primary
    location when it lies there (the usual case). One found through this file but located in another
    (a model built in models.py, mis-trained from this script) is shown at its first end in this file,
    else on line 1, its location first in the message; flake8 can only report in the file it checks."""
    ends = [(r.filename, r.location, r.message) for r in result.related]
    if os.path.realpath(result.filename) == here:
        return result.location.row, result.location.column, ends
    ends.insert(0, (result.filename, result.location, "located"))
    at = next((location for filename, location, _ in ends if os.path.realpath(filename) == here), None)
    return (at.row, at.column, ends) if at else (1, 1, ends)


_STATE = {}  # what every file flake8 hands this process shares: the configurations, a cache per project


def findings(filename: str, lines: list) -> list:
    """actlint's results for one file that flake8 checks, as `actlint FILE` finds them: read from the
    disk (and the cache) when flake8 read it from there, else linted from flake8's lines (stdin, an
    editor's unsaved buffer)."""
    from actlint.cache import Cache, project_root
    from actlint.config import Configs
    from actlint.runner import Selection, lint_paths, lint_stdin

    configs = _STATE.setdefault("configs", Configs())
    name = os.path.normpath(filename)  # flake8 . says ./train.py; actlint (and its cache) train.py
    if not os.path.isfile(name) or "".join(lines).encode() != _read(name):
        run = lint_stdin("".join(lines).encode(), name, Selection(None), configs, True, verify=False)
        return run.results
    root = project_root(name)
    cache = _STATE.setdefault(root, Cache(root))
    return lint_paths([name], Selection(None), configs, force_exclude=True, cache=cache, verify=False).results


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""
