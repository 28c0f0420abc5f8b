"""actlint as a flake8 plugin: `flake8 --select ACT` runs actlint on each file flake8 checks.

Registered under the `flake8.extension` entry points as `ACT`. Each file is linted as `actlint FILE`
lints it: cross-file facts still come from the project's other files, actlint's configuration
(pyproject.toml [tool.actlint], actlint.toml, including its exclusions) applies, and results go
through the same cache as the command's, so running both does the work once. A finding is reported
at its primary location, its other ends in the message; flake8 applies its own `# noqa: ACT...`.
actlint does not need flake8: this module imports it only to end a run on a bad configuration.
"""

from __future__ import annotations

import os

from actlint import __version__


class Plugin:
    name = "actlint"
    version = __version__

    def __init__(self, tree, filename: str, lines: list):
        # flake8's ast: actlint parses with libcst; the ast only places a finding found in another file
        self.tree, self.filename, self.lines = tree, filename, lines

    def run(self):
        from actlint.config import ConfigError

        try:
            found = findings(self.filename, self.lines)
        except ConfigError as error:  # flake8 ends the run with its "critical error" message, not a traceback
            from flake8.exceptions import ExecutionError

            raise ExecutionError(f"actlint: error: {error}") from None
        here = os.path.realpath(self.filename)
        for result in found:
            row, column, ends = _anchor(result, here, self.tree)
            where = "; ".join(f"{message} at {filename}:{at.row}:{at.column}" for filename, at, message in ends)
            yield row, column - 1, f"{result.code} {result.message}" + (f" ({where})" if where else ""), type(self)


def _anchor(result, here: str, tree) -> tuple:
    """(row, column, the other ends) for a finding flake8 reports in the file `here`: its primary
    location when it lies there (the usual case). One found through this file but located in another
    (a model built in models.py, mis-trained from this script) is shown at its first end in this file,
    else at the import that brings in one of its files, else on line 1, its location first in the
    message: flake8 can only report in the file it checks."""
    ends = [(r.filename, r.location, r.message) for r in result.related]
    if os.path.realpath(result.filename) == here:
        return result.location.row, result.location.column, ends
    ends.insert(0, (result.filename, result.location, "located"))
    at = next(((p.row, p.column) for name, p, _ in ends if os.path.realpath(name) == here), None)
    at = at or _import_of(tree, here, [name for name, _, _ in ends]) or (1, 1)
    return at[0], at[1], ends


def _import_of(tree, here: str, files: list):
    """(row, column) of the import statement in `here` that names one of `files` as a module (the
    longest dotted match, then the earliest), or None."""
    import ast

    targets = [_parts(os.path.realpath(name)) for name in files]
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            named = [tuple(alias.name.split(".")) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _parts(os.path.dirname(here), node.level - 1) if node.level else ()
            module = base + tuple((node.module or "").split(".") if node.module else ())
            named = [module] + [module + (alias.name,) for alias in node.names]
        else:
            continue
        score = max((len(n) for n in named for t in targets if n and t[-len(n):] == n), default=0)
        if score and (best is None or (score, -node.lineno) > best[0]):
            best = ((score, -node.lineno), (node.lineno, node.col_offset + 1))
    return best and best[1]


def _parts(path: str, up: int = 0) -> tuple:
    """A file's path as a dotted module's parts (`pkg/__init__.py` is `pkg`), `up` folders higher."""
    stem = os.path.splitext(path)[0]
    parts = tuple(part for part in stem.split(os.sep) if part)
    parts = parts[:-1] if parts and parts[-1] == "__init__" else parts
    return parts[:len(parts) - up] if up else parts


_STATE = {}  # what every file flake8 hands this process shares: the configurations, a cache per project


def findings(filename: str, lines: list) -> list:
    """actlint's results for one file that flake8 checks, as `actlint FILE` finds them: read from the
    disk (and the cache) when flake8 read it from there, else linted from flake8's lines (stdin, an
    editor's unsaved buffer)."""
    from actlint.cache import Cache, project_root
    from actlint.config import Configs
    from actlint.runner import Selection, lint_paths, lint_stdin

    if "configs" not in _STATE:
        _STATE["configs"] = Configs()
    configs = _STATE["configs"]
    name = os.path.normpath(filename)  # flake8 . says ./train.py; actlint (and its cache) train.py
    if not os.path.isfile(name) or not _on_disk(name, lines):
        run = lint_stdin("".join(lines).encode(), name, Selection(None), configs, True, verify=False)
        return run.results
    root = project_root(name)
    if root not in _STATE:
        _STATE[root] = Cache(root)
    return lint_paths([name], Selection(None), configs, force_exclude=True, cache=_STATE[root], verify=False).results


def _on_disk(path: str, lines: list) -> bool:
    """Whether flake8's `lines` are the file on disk as flake8 reads it (tokenize.open: the file's coding,
    universal newlines, no BOM), not an editor's buffer sent under its name."""
    import tokenize

    try:
        with tokenize.open(path) as handle:
            return handle.readlines() == lines
    except (OSError, SyntaxError, UnicodeError):
        return False
