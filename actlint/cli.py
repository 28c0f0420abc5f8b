"""The `actlint` command (click: help in groups, usage errors as one line under the usage, shell
completion of rule codes and format names)."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, fields
from types import SimpleNamespace

import click

from actlint import __version__
from actlint.catalogue import rules
from actlint.config import FORMAT_NAMES

ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # what a coloured report adds, and a stray escape in a finding
USAGE = "[options] [PATHS ...]"


class UsageError(click.UsageError):
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


class _AtLeast(click.ParamType):
    """A whole number >= minimum."""

    name = "integer"

    def __init__(self, minimum: int):
        self.minimum = minimum

    def convert(self, value, param, ctx):
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or number < self.minimum:
            self.fail(f"{value!r} is not a whole number >= {self.minimum}", param, ctx)
        return number


class _Name(click.ParamType):
    """A path taken as given (reading it is the run's business), completed as a file by the shell."""

    name = "path"

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [CompletionItem(incomplete, type="file")]


class _File(_Name):
    """A file name that is not a folder."""

    def convert(self, value, param, ctx):
        if os.path.isdir(value):
            self.fail(f"{value!r} is a directory", param, ctx)
        return value


class _Choice(click.Choice):
    def get_invalid_choice_message(self, value, ctx) -> str:
        return f"invalid choice: {value!r} (choose from {', '.join(map(repr, self.choices))})"


def _complete_codes(ctx, param, incomplete: str) -> list:
    """Rule codes for a comma-separated list: `ACT1` -> ACT101, ...; `ACT101,ACT2` -> ACT101,ACT201, ..."""
    done, _, last = incomplete.rpartition(",")
    return _complete_code(ctx, param, last, f"{done}," if done else "")


def _complete_code(ctx, param, incomplete: str, head: str = "") -> list:
    """Rule codes starting with `incomplete`, each with its rule's name (zsh and fish show it)."""
    from click.shell_completion import CompletionItem

    known = rules()
    return [CompletionItem(head + code, help=known[code].name) for code in sorted(known)
            if code.startswith(incomplete.upper())]


# --help shows the options in these groups, in this order; any other option under "Other options".
GROUPS = (
    ("Rule selection", ("select", "ignore", "extend_select")),
    ("Output", ("output_format", "color", "statistics", "exit_zero")),
    ("Fixes", ("fix", "unsafe_fixes", "diff", "fix_only")),
    ("Files", ("stdin_filename", "force_exclude", "max_file_size", "jobs", "no_cache")),
    ("Configuration", ("config_path", "isolated")),
)


class _Command(click.Command):
    """argparse's usage line and error messages, and the options in groups (click has no option groups)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """click's main, but a usage error is one line under the usage (argparse's form, which the
        command had before click). The run exits with its own code; --help and --version return (0)."""
        try:
            super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            print(f"usage: actlint {USAGE}\nactlint: error: {_message(error, self)}", file=sys.stderr)
            sys.exit(2)
        except click.Abort:  # Ctrl-C: click has ended the terminal's ^C line
            print("Aborted!", file=sys.stderr)
            sys.exit(1)

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, USAGE, prefix="usage: ")

    def format_options(self, ctx, formatter) -> None:
        records = {p.name: p.get_help_record(ctx) for p in self.get_params(ctx) if isinstance(p, click.Option)}
        records = {name: record for name, record in records.items() if record}
        width = min(30, max(len(term) for term, _ in records.values()))  # one column for every group
        grouped = [(title, [records.pop(n) for n in names if n in records]) for title, names in GROUPS]
        for title, rows in grouped + [("Other options", list(records.values()))]:
            if rows:
                with formatter.section(title):
                    formatter.write_dl([(term.ljust(width), text) for term, text in rows])


CODES = {"metavar": "CODES", "shell_complete": _complete_codes}


def command() -> click.Command:
    """The `actlint` command as a click command (for click's CliRunner and shell completion)."""
    option = click.Option
    params = [
        click.Argument(["paths"], nargs=-1, type=_Name(), metavar="PATHS"),
        option(["--select"], **CODES, help="Comma-separated rule codes or prefixes to enable (default: all)."),
        option(["--ignore"], **CODES, help="Comma-separated rule codes or prefixes to disable."),
        option(["--extend-select"], **CODES,
               help="Comma-separated rule codes or prefixes to enable on top of the selection."),
        option(["--exit-zero"], is_flag=True, help="Exit 0 even when there are findings."),
        option(["--output-format"], type=_Choice(FORMAT_NAMES), metavar="FORMAT",
               help="full (default in a terminal), concise (alias: text; default otherwise), json, sarif, "
                    "github, gitlab or junit."),
        option(["--color"], type=_Choice(["auto", "always", "never"]), default="auto", metavar="WHEN",
               help="Colour the full format: auto, always or never (auto honours NO_COLOR and FORCE_COLOR; "
                    "default: auto)."),
        option(["--statistics"], is_flag=True, help="Print the number of findings per code instead of the findings."),
        option(["--config", "config_path"], type=_File(), metavar="FILE",
               help="Use this configuration file (pyproject.toml or actlint.toml) for every file."),
        option(["--isolated"], is_flag=True, help="Ignore all configuration files."),
        option(["--stdin-filename"], metavar="NAME", type=_Name(),
               help="The name of the file read from stdin (`-`), for configuration and reports."),
        option(["--force-exclude"], is_flag=True, help="Apply the exclusions to files named on the command line too."),
        option(["-j", "--jobs"], type=_AtLeast(1), metavar="N",
               help="Processes to lint with (default: the number of cores; small runs stay in one)."),
        option(["--no-cache"], is_flag=True, help="Neither read nor write the result cache (.actlint_cache/)."),
        option(["--max-file-size"], type=_AtLeast(0), metavar="BYTES",
               help="Skip files larger than this, unread (default: 1048576, or max-file-size in the "
                    "configuration; 0: no limit)."),
        option(["--fix"], is_flag=True, help="Apply the safe fixes, then report what remains."),
        option(["--unsafe-fixes"], is_flag=True, help="Count unsafe fixes as fixable too (applied with --fix)."),
        option(["--diff"], is_flag=True, help="Print the fixes as a unified diff and write nothing (exit 1 if any)."),
        option(["--fix-only"], is_flag=True, help="Apply the fixes and report nothing else."),
        option(["--list-rules"], is_flag=True, help="List every rule and exit."),
        option(["--explain"], metavar="CODE", shell_complete=_complete_code, help="Explain a rule and exit."),
    ]
    command = _Command(
        "actlint", params=params, callback=lambda **args: _command(SimpleNamespace(**args)),
        help="Find mismatched output activations, losses and labels in Keras, PyTorch and TensorFlow code.\n\n"
             "PATHS are the files and folders to lint (default: .); `-` reads stdin.",
        context_settings={"help_option_names": ["-h", "--help"]})
    return click.version_option(__version__, prog_name="actlint", message="%(prog)s, version %(version)s",
                                help="Show the version and exit.")(command)


def _arguments(argv) -> SimpleNamespace:
    """The command line `argv` parsed, as the command gets it, without running it."""
    with command().make_context("actlint", list(argv)) as context:
        return SimpleNamespace(**context.params)


def main(argv=None) -> None:
    """Run the command line `argv` (default: sys.argv[1:]); exits with 0 (clean), 1 (findings) or 2 (errors)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["server"]:  # the language server (a folder named server: `actlint ./server`)
        from actlint.server import main as serve

        serve(argv[1:])
        return
    command().main(argv, prog_name="actlint")


def _message(error: click.UsageError, command: click.Command) -> str:
    """argparse's wording, which the command had before click."""
    if isinstance(error, click.NoSuchOption):
        return f"unrecognized arguments: {error.option_name}"
    if isinstance(error, click.BadOptionUsage):  # --explain without its value, or --fix=1
        flag = any(error.option_name in p.opts and getattr(p, "is_flag", False) for p in command.params)
        return f"argument {error.option_name}: {'takes no value' if flag else 'expected one argument'}"
    if isinstance(error, click.BadParameter) and error.param is not None and error.param.opts:
        return f"argument {'/'.join(error.param.opts)}: {error.message}"
    return error.format_message()


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
        given = {f.name: getattr(args, f.name) for f in fields(cls) if f.name != "fixing"}
        return cls(**{**given, "paths": tuple(args.paths)}, fixing=fixing)


def _lint(options: RunOptions):
    from actlint.config import Configs
    from actlint.runner import Selection

    paths, stdin_filename = options.paths, options.stdin_filename
    selection = Selection(_codes(options.select) or None, _codes(options.ignore), _codes(options.extend_select))
    for codes, option in ((selection.select or (), "--select"), (selection.ignore, "--ignore"),
                          (selection.extend_select, "--extend-select")):
        _check_codes(codes, option)
    configs = Configs(options.config_path, options.isolated)
    anchor = stdin_filename if _reads_stdin(paths, stdin_filename) and stdin_filename else os.getcwd()
    output_format = options.output_format or configs.for_path(anchor).output_format or _default_format()
    from actlint.output import UNVERIFIED_FORMATS

    verify = not options.statistics and output_format not in UNVERIFIED_FORMATS
    if options.fixing.wanted:
        if _reads_stdin(paths, stdin_filename):
            raise UsageError("--fix, --fix-only and --diff work on files, not on stdin")
        _fix(options, selection, configs, output_format, verify)
        return
    run = _run(options, selection, configs, output_format, verify)
    _report(run, output_format, options.color, options.statistics, unsafe_fixes=options.fixing.unsafe)
    if run.missing or run.internal_errors:
        sys.exit(2)
    sys.exit(0 if options.exit_zero or not run.results else 1)


def _fix(options: RunOptions, selection, configs, output_format, verify=True):
    """--fix, --fix-only, --diff: fix until stable, then write (or show) the changes and report."""
    from actlint.fixer import fix_until_stable, unified_diff, write_atomically
    from actlint.runner import lint_paths

    fixing, exit_zero, paths = options.fixing, options.exit_zero, options.paths or (".",)
    verify = verify and not (fixing.diff or fixing.only)  # those report no findings
    outcome = fix_until_stable(
        lambda overlay: lint_paths(paths, selection, configs, options.force_exclude, overlay=overlay,
                                   max_file_size=options.max_file_size, verify=verify),
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
        _report(run, output_format, options.color, options.statistics, outcome.applied, fixing.unsafe)
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


def _run(options: RunOptions, selection, configs, output_format, verify=True):
    from actlint import progress
    from actlint.output import MACHINE_FORMATS
    from actlint.cache import Cache, project_root
    from actlint.parallel import default_jobs
    from actlint.runner import lint_paths, lint_stdin

    if _reads_stdin(options.paths, options.stdin_filename):
        data = sys.stdin.buffer.read()
        return lint_stdin(data, options.stdin_filename, selection, configs, options.force_exclude, verify)
    line = None
    if progress.wanted(sys.stderr, output_format in MACHINE_FORMATS):
        line = progress.ProgressLine(sys.stderr)
    paths = options.paths or (".",)
    try:
        return lint_paths(paths, selection, configs, options.force_exclude, line, options.jobs or default_jobs(),
                          None if options.no_cache else Cache(project_root(paths[0])),
                          max_file_size=options.max_file_size, verify=verify)
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
