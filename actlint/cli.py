"""The `actlint` command."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import click

from actlint import __version__
from actlint.catalogue import rules
from actlint.config import FORMAT_NAMES


def _codes(value: str | None) -> tuple:
    if not value:
        return ()
    return tuple(part.strip().upper() for part in value.split(",") if part.strip())


def _check_codes(codes: tuple, option: str) -> None:
    known = rules()
    for code in codes:
        if not any(c.startswith(code) for c in known):
            raise click.UsageError(f"{option}: unknown rule code or prefix {code!r}")


def _explain(code: str) -> None:
    rule = rules().get(code.upper())
    if rule is None:
        raise click.UsageError(f"--explain: unknown rule code {code!r} (see --list-rules)")
    click.echo(f"{rule.code} ({rule.name}), default severity: {rule.severity}\n")
    click.echo(rule.doc().rstrip("\n"))
    from actlint.verification import explain_figures

    figures = explain_figures(rule.code)
    if figures:
        click.echo("\n## What the numeric core measured\n")
        click.echo(figures.rstrip("\n"))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", help="Comma-separated rule codes or prefixes to enable (default: all).")
@click.option("--ignore", help="Comma-separated rule codes or prefixes to disable.")
@click.option("--extend-select", help="Comma-separated rule codes or prefixes to enable on top of the selection.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--output-format", type=click.Choice(FORMAT_NAMES),
              help="full (default in a terminal), concise (alias: text; default otherwise), json, sarif, "
                   "github, gitlab or junit.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the full format (auto honours NO_COLOR and FORCE_COLOR).")
@click.option("--statistics", is_flag=True, help="Print the number of findings per code instead of the findings.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Use this configuration file (pyproject.toml or actlint.toml) for every file.")
@click.option("--isolated", is_flag=True, help="Ignore all configuration files.")
@click.option("--stdin-filename", help="The name of the file read from stdin (`-`), for configuration and reports.")
@click.option("--force-exclude", is_flag=True, help="Apply the exclusions to files named on the command line too.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Processes to lint with (default: the number of cores; small runs stay in one).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.actlint_cache/).")
@click.option("--max-file-size", type=click.IntRange(min=0), metavar="BYTES",
              help="Skip files larger than this, unread (default: 1048576, or max-file-size in the configuration; "
                   "0: no limit).")
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True, help="Count unsafe fixes as fixable too (applied with --fix).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff and write nothing (exit 1 if any).")
@click.option("--fix-only", is_flag=True, help="Apply the fixes and report nothing else.")
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--explain", "explain", metavar="CODE", help="Explain a rule and exit.")
@click.version_option(__version__, prog_name="actlint")
def main(paths, select, ignore, extend_select, exit_zero, output_format, color, statistics, config_path,
         isolated, stdin_filename, force_exclude, jobs, no_cache, max_file_size, fix, unsafe_fixes, diff, fix_only,
         list_rules, explain):
    """Find mismatched output activations, losses and labels in Keras, PyTorch and TensorFlow code."""
    from actlint.config import ConfigError
    from actlint.output import rule_table

    if list_rules:
        click.echo(rule_table(), nl=False)
        return
    if explain:
        _explain(explain)
        return
    if config_path and isolated:
        raise click.UsageError("--config and --isolated cannot be used together")
    try:
        fixing = Fixing(fix or fix_only or diff, unsafe_fixes, diff, fix_only)
        _lint(paths, select, ignore, extend_select, exit_zero, output_format, color, statistics,
              config_path, isolated, stdin_filename, force_exclude, (jobs, no_cache, max_file_size), fixing)
    except ConfigError as error:
        click.echo(f"actlint: error: {error}", err=True)
        sys.exit(2)


@dataclass(frozen=True)
class Fixing:
    wanted: bool = False  # --fix, --fix-only or --diff
    unsafe: bool = False
    diff: bool = False
    only: bool = False


def _lint(paths, select, ignore, extend_select, exit_zero, output_format, color, statistics,
          config_path, isolated, stdin_filename, force_exclude, execution, fixing=Fixing()):
    from actlint.config import Configs
    from actlint.runner import Selection

    selection = Selection(_codes(select) or None, _codes(ignore), _codes(extend_select))
    for codes, option in ((selection.select or (), "--select"), (selection.ignore, "--ignore"),
                          (selection.extend_select, "--extend-select")):
        _check_codes(codes, option)
    configs = Configs(config_path, isolated)
    anchor = stdin_filename if _reads_stdin(paths, stdin_filename) and stdin_filename else os.getcwd()
    output_format = output_format or configs.for_path(anchor).output_format or _default_format()
    if fixing.wanted:
        if _reads_stdin(paths, stdin_filename):
            raise click.UsageError("--fix, --fix-only and --diff work on files, not on stdin")
        _fix(paths or (".",), selection, configs, force_exclude, output_format, color, statistics, exit_zero, fixing,
             execution[2])
        return
    run = _run(paths, selection, configs, force_exclude, stdin_filename, output_format, execution)
    _report(run, output_format, color, statistics, unsafe_fixes=fixing.unsafe)
    if run.missing or run.internal_errors:
        sys.exit(2)
    sys.exit(0 if exit_zero or not run.results else 1)


def _fix(paths, selection, configs, force_exclude, output_format, color, statistics, exit_zero, fixing,
         max_file_size=None):
    """--fix, --fix-only, --diff: fix until stable, then write (or show) the changes and report."""
    from actlint.fixer import fix_until_stable, unified_diff, write_atomically
    from actlint.runner import lint_paths

    outcome = fix_until_stable(
        lambda overlay: lint_paths(paths, selection, configs, force_exclude, overlay=overlay, max_file_size=max_file_size),
        fixing.unsafe)
    for path, reason in outcome.broken.items():
        click.echo(f"actlint: error: {outcome.names.get(path, path)}: {reason}", err=True)
    if fixing.diff:
        for path in outcome.changed:
            click.echo(unified_diff(outcome.names[path], outcome.before[path], outcome.after[path]), nl=False)
        click.echo(_would_fix(outcome), err=True)
        sys.exit(1 if outcome.changed and not exit_zero else 0)
    for path in outcome.changed:
        write_atomically(path, outcome.after[path])
    run = outcome.run
    if fixing.only:
        click.echo(f"Fixed {_problems(outcome.applied)}.", err=True)
    else:
        _report(run, output_format, color, statistics, outcome.applied, fixing.unsafe)
    if run.missing or run.internal_errors or outcome.broken:
        sys.exit(2)
    sys.exit(0 if exit_zero or fixing.only or not run.results else 1)


def _would_fix(outcome) -> str:
    if not outcome.changed:
        return "No fixes available."
    files = len(outcome.changed)
    return f"Would fix {_problems(outcome.applied)} in {files} file{'s' if files != 1 else ''}."


def _problems(n: int) -> str:
    return f"{n} problem{'s' if n != 1 else ''}"


def _reads_stdin(paths, stdin_filename) -> bool:
    if "-" in paths and len(paths) > 1:
        raise click.UsageError("`-` (read stdin) cannot be combined with other paths")
    return paths == ("-",) or (not paths and stdin_filename is not None)


def _run(paths, selection, configs, force_exclude, stdin_filename, output_format, execution):
    from actlint import progress
    from actlint.output import MACHINE_FORMATS
    from actlint.cache import Cache, project_root
    from actlint.parallel import default_jobs
    from actlint.runner import lint_paths, lint_stdin

    if _reads_stdin(paths, stdin_filename):
        data = sys.stdin.buffer.read()
        return lint_stdin(data, stdin_filename, selection, configs, force_exclude)
    line = None
    if progress.wanted(sys.stderr, output_format in MACHINE_FORMATS):
        line = progress.ProgressLine(sys.stderr)
    jobs, no_cache, max_file_size = execution
    paths = paths or (".",)
    try:
        return lint_paths(paths, selection, configs, force_exclude, line, jobs or default_jobs(),
                          None if no_cache else Cache(project_root(paths[0])), max_file_size=max_file_size)
    finally:
        if line is not None:
            line.clear()


def _default_format() -> str:
    return "full" if sys.stdout.isatty() else "concise"


def _use_color(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def _report(run, output_format, color, statistics, fixed=None, unsafe_fixes=False) -> None:
    from actlint.output import FORMATS, View
    from actlint.output import statistics as counts

    for missing in run.missing:
        click.echo(f"actlint: error: {missing}: no such file or directory", err=True)
    use_color = _use_color(color) and output_format == "full"
    if statistics:
        click.echo(counts(run.results, as_json=output_format == "json"), nl=False)
    else:
        view = View(run.sources, use_color, unsafe_fixes)
        click.echo(FORMATS[output_format](run.results, view), nl=False, color=use_color)
    sys.stdout.flush()
    click.echo(_summary(run, fixed, unsafe_fixes), err=True)


def _summary(run, fixed=None, unsafe_fixes=False) -> str:
    files = f"{run.files} file{'s' if run.files != 1 else ''} checked"
    if not run.results:
        done = f" ({fixed} fixed)" if fixed else ""
        return f"All clear{done}: {files}."
    counts = {}
    for r in run.results:
        counts[r.level] = counts.get(r.level, 0) + 1
    detail = ", ".join(f"{n} {level}{'s' if n != 1 else ''}" for level, n in sorted(counts.items()))
    n = len(run.results)
    if fixed is not None:
        return f"Found {_problems(n + fixed)} ({fixed} fixed, {n} remaining: {detail}) in {files}." + _fixable(run, unsafe_fixes)
    return f"Found {_problems(n)} ({detail}) in {files}." + _fixable(run, unsafe_fixes)


def _fixable(run, unsafe_fixes: bool) -> str:
    """ruff's hint: how many findings --fix would fix, and how many more --unsafe-fixes would."""
    from actlint.output import fixable

    safe = sum(1 for r in run.results if fixable(r, unsafe_fixes))
    hidden = sum(1 for r in run.results if fixable(r, True)) - safe
    plural = "es" if hidden != 1 else ""
    hint = f"{hidden} hidden fix{plural} can be enabled with the --unsafe-fixes option"
    if safe and hidden:
        return f"\n[*] {safe} fixable with the --fix option ({hint})."
    if safe:
        return f"\n[*] {safe} fixable with the --fix option."
    return f"\n{hint[0].upper()}{hint[1:]}." if hidden else ""
