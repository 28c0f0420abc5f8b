"""The `actlint` command."""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass

from actlint import __version__
from actlint.catalogue import rules
from actlint.config import FORMAT_NAMES

ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # what a coloured report adds, and a stray escape in a finding


class UsageError(Exception):
    """A bad command line: `main` reports it under the usage line and exits 2."""


def _codes(value: str | None) -> tuple:
    if not value:
        return ()
    return tuple(part.strip().upper() for part in value.split(",") if part.strip())


def _check_codes(codes: tuple, option: str) -> None:
    known = rules()
    for code in codes:
        if not any(c.startswith(code) for c in known):
            raise UsageError(f"{option}: unknown rule code or prefix {code!r}")


def _explain(code: str) -> None:
    rule = rules().get(code.upper())
    if rule is None:
        raise UsageError(f"--explain: unknown rule code {code!r} (see --list-rules)")
    print(f"{rule.code} ({rule.name}), default severity: {rule.severity}\n")
    print(rule.doc().rstrip("\n"))
    from actlint.verification import explain_figures

    figures = explain_figures(rule.code)
    if figures:
        print("\n## What the numeric core measured\n")
        print(figures.rstrip("\n"))


def _at_least(minimum: int):
    """An argparse type: a whole number >= minimum."""
    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= {minimum}")
        return value
    return number


def _file(text: str) -> str:
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actlint", usage="%(prog)s [options] [PATHS ...]", allow_abbrev=False,
        description="Find mismatched output activations, losses and labels in Keras, PyTorch and TensorFlow code.",
        # add_argument builds a formatter to check each metavar, and a formatter without a width imports
        # shutil (~3 ms) to ask the terminal: a fixed width until the options are in, then the terminal's.
        formatter_class=lambda prog: argparse.HelpFormatter(prog, width=80))
    add = parser.add_argument
    add("paths", nargs="*", metavar="PATHS", help="Files and folders to lint (default: .); `-` reads stdin.")
    add("--select", metavar="CODES", help="Comma-separated rule codes or prefixes to enable (default: all).")
    add("--ignore", metavar="CODES", help="Comma-separated rule codes or prefixes to disable.")
    add("--extend-select", metavar="CODES",
        help="Comma-separated rule codes or prefixes to enable on top of the selection.")
    add("--exit-zero", action="store_true", help="Exit 0 even when there are findings.")
    add("--output-format", choices=FORMAT_NAMES,
        help="full (default in a terminal), concise (alias: text; default otherwise), json, sarif, "
             "github, gitlab or junit.")
    add("--color", choices=["auto", "always", "never"], default="auto",
        help="Colour the full format (auto honours NO_COLOR and FORCE_COLOR; default: auto).")
    add("--statistics", action="store_true", help="Print the number of findings per code instead of the findings.")
    add("--config", dest="config_path", metavar="FILE", type=_file,
        help="Use this configuration file (pyproject.toml or actlint.toml) for every file.")
    add("--isolated", action="store_true", help="Ignore all configuration files.")
    add("--stdin-filename", metavar="NAME",
        help="The name of the file read from stdin (`-`), for configuration and reports.")
    add("--force-exclude", action="store_true", help="Apply the exclusions to files named on the command line too.")
    add("-j", "--jobs", type=_at_least(1), metavar="N",
        help="Processes to lint with (default: the number of cores; small runs stay in one).")
    add("--no-cache", action="store_true", help="Neither read nor write the result cache (.actlint_cache/).")
    add("--max-file-size", type=_at_least(0), metavar="BYTES",
        help="Skip files larger than this, unread (default: 1048576, or max-file-size in the configuration; "
             "0: no limit).")
    add("--fix", action="store_true", help="Apply the safe fixes, then report what remains.")
    add("--unsafe-fixes", action="store_true", help="Count unsafe fixes as fixable too (applied with --fix).")
    add("--diff", action="store_true", help="Print the fixes as a unified diff and write nothing (exit 1 if any).")
    add("--fix-only", action="store_true", help="Apply the fixes and report nothing else.")
    add("--list-rules", action="store_true", help="List every rule and exit.")
    add("--explain", metavar="CODE", help="Explain a rule and exit.")
    add("--version", action="version", version=f"actlint, version {__version__}", help="Show the version and exit.")
    parser.formatter_class = argparse.HelpFormatter  # --help and usage errors: the terminal's width
    return parser


def main(argv=None) -> None:
    """Run the command line `argv` (default: sys.argv[1:]); exits with 0 (clean), 1 (findings) or 2 (errors)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["server"]:  # the language server (a folder named server: `actlint ./server`)
        from actlint.server import main as serve

        serve(argv[1:])
        return
    parser = _parser()
    args = parser.parse_intermixed_args(argv)
    try:
        _command(args)
    except UsageError as error:
        parser.error(str(error))
    except BrokenPipeError:
        # The reader left (`actlint src | head -1`): stop quietly, and point stdout at /dev/null so that
        # Python's own flush at exit does not fail on the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except KeyboardInterrupt:
        print("\nAborted!", file=sys.stderr)
        sys.exit(1)


def entry() -> None:
    """The `actlint` command: main(), then leave without tearing the interpreter down (freeing every
    object of a large run costs ~10 ms, 5-10% of a run over a tree without ML code; mypy exits the
    same way). Output is flushed first; nothing else is pending by then."""
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = code or 1
    os._exit(code or 0)


def _command(args) -> None:
    from actlint.config import ConfigError
    from actlint.output import rule_table

    if args.list_rules:
        sys.stdout.write(rule_table())
        return
    if args.explain:
        _explain(args.explain)
        return
    if args.config_path and args.isolated:
        raise UsageError("--config and --isolated cannot be used together")
    try:
        _lint(RunOptions.from_args(args))
    except ConfigError as error:
        print(f"actlint: error: {error}", file=sys.stderr)
        sys.exit(2)


@dataclass(frozen=True)
class Fixing:
    wanted: bool = False  # --fix, --fix-only or --diff
    unsafe: bool = False
    diff: bool = False
    only: bool = False


@dataclass(frozen=True)
class RunOptions:
    """What the command line asks of one lint run, as parsed."""

    paths: tuple = ()
    select: str | None = None
    ignore: str | None = None
    extend_select: str | None = None
    exit_zero: bool = False
    output_format: str | None = None
    color: str = "auto"
    statistics: bool = False
    config_path: str | None = None
    isolated: bool = False
    stdin_filename: str | None = None
    force_exclude: bool = False
    jobs: int | None = None
    no_cache: bool = False
    max_file_size: int | None = None
    fixing: Fixing = Fixing()

    @classmethod
    def from_args(cls, args) -> "RunOptions":
        fixing = Fixing(args.fix or args.fix_only or args.diff, args.unsafe_fixes, args.diff, args.fix_only)
        return cls(tuple(args.paths), args.select, args.ignore, args.extend_select, args.exit_zero,
                   args.output_format, args.color, args.statistics, args.config_path, args.isolated,
                   args.stdin_filename, args.force_exclude, args.jobs, args.no_cache, args.max_file_size, fixing)


def _lint(options: RunOptions):
    from actlint.config import Configs
    from actlint.runner import Selection

    paths, stdin_filename, force_exclude = options.paths, options.stdin_filename, options.force_exclude
    color, statistics, exit_zero, fixing = options.color, options.statistics, options.exit_zero, options.fixing
    execution = (options.jobs, options.no_cache, options.max_file_size)
    selection = Selection(_codes(options.select) or None, _codes(options.ignore), _codes(options.extend_select))
    for codes, option in ((selection.select or (), "--select"), (selection.ignore, "--ignore"),
                          (selection.extend_select, "--extend-select")):
        _check_codes(codes, option)
    configs = Configs(options.config_path, options.isolated)
    anchor = stdin_filename if _reads_stdin(paths, stdin_filename) and stdin_filename else os.getcwd()
    output_format = options.output_format or configs.for_path(anchor).output_format or _default_format()
    from actlint.output import UNVERIFIED_FORMATS

    verify = not statistics and output_format not in UNVERIFIED_FORMATS
    if fixing.wanted:
        if _reads_stdin(paths, stdin_filename):
            raise UsageError("--fix, --fix-only and --diff work on files, not on stdin")
        _fix(paths or (".",), selection, configs, force_exclude, output_format, color, statistics, exit_zero, fixing,
             execution[2], verify)
        return
    run = _run(paths, selection, configs, force_exclude, stdin_filename, output_format, execution, verify)
    _report(run, output_format, color, statistics, unsafe_fixes=fixing.unsafe)
    if run.missing or run.internal_errors:
        sys.exit(2)
    sys.exit(0 if exit_zero or not run.results else 1)


def _fix(paths, selection, configs, force_exclude, output_format, color, statistics, exit_zero, fixing,
         max_file_size=None, verify=True):
    """--fix, --fix-only, --diff: fix until stable, then write (or show) the changes and report."""
    from actlint.fixer import fix_until_stable, unified_diff, write_atomically
    from actlint.runner import lint_paths

    verify = verify and not (fixing.diff or fixing.only)  # those report no findings
    outcome = fix_until_stable(
        lambda overlay: lint_paths(paths, selection, configs, force_exclude, overlay=overlay,
                                   max_file_size=max_file_size, verify=verify),
        fixing.unsafe)
    for path, reason in outcome.broken.items():
        print(f"actlint: error: {outcome.names.get(path, path)}: {reason}", file=sys.stderr)
    if fixing.diff:
        for path in outcome.changed:
            sys.stdout.write(unified_diff(outcome.names[path], outcome.before[path], outcome.after[path]))
        sys.stdout.flush()
        print(_would_fix(outcome), file=sys.stderr)
        sys.exit(1 if outcome.changed and not exit_zero else 0)
    for path in outcome.changed:
        write_atomically(path, outcome.after[path])
    run = outcome.run
    if fixing.only:
        print(f"Fixed {_problems(outcome.applied)}.", file=sys.stderr)
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
        raise UsageError("`-` (read stdin) cannot be combined with other paths")
    return paths == ("-",) or (not paths and stdin_filename is not None)


def _run(paths, selection, configs, force_exclude, stdin_filename, output_format, execution, verify=True):
    from actlint import progress
    from actlint.output import MACHINE_FORMATS
    from actlint.cache import Cache, project_root
    from actlint.parallel import default_jobs
    from actlint.runner import lint_paths, lint_stdin

    if _reads_stdin(paths, stdin_filename):
        data = sys.stdin.buffer.read()
        return lint_stdin(data, stdin_filename, selection, configs, force_exclude, verify)
    line = None
    if progress.wanted(sys.stderr, output_format in MACHINE_FORMATS):
        line = progress.ProgressLine(sys.stderr)
    jobs, no_cache, max_file_size = execution
    paths = paths or (".",)
    try:
        return lint_paths(paths, selection, configs, force_exclude, line, jobs or default_jobs(),
                          None if no_cache else Cache(project_root(paths[0])), max_file_size=max_file_size,
                          verify=verify)
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
        print(f"actlint: error: {missing}: no such file or directory", file=sys.stderr)
    use_color = _use_color(color) and output_format == "full"
    if statistics:
        report = counts(run.results, as_json=output_format == "json")
    else:
        report = FORMATS[output_format](run.results, View(run.sources, use_color, unsafe_fixes))
    sys.stdout.write(report if use_color else ANSI.sub("", report))
    sys.stdout.flush()
    print(_summary(run, fixed, unsafe_fixes), file=sys.stderr)


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
