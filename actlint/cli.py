"""The `actlint` command."""

from __future__ import annotations

import sys

import click

from actlint import __version__
from actlint.catalogue import rules


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
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--explain", "explain", metavar="CODE", help="Explain a rule and exit.")
@click.version_option(__version__, prog_name="actlint")
def main(paths, select, ignore, exit_zero, output_format, list_rules, explain):
    """Find mismatched output activations, losses and labels in Keras, PyTorch and TensorFlow code."""
    from actlint.output import FORMATS, rule_table

    if list_rules:
        click.echo(rule_table(), nl=False)
        return
    if explain:
        _explain(explain)
        return
    from actlint.runner import Selection, lint_paths

    selection = Selection(_codes(select) or ("ACT",), _codes(ignore))
    _check_codes(selection.select, "--select")
    _check_codes(selection.ignore, "--ignore")
    run = lint_paths(paths or (".",), selection)
    for missing in run.missing:
        click.echo(f"actlint: error: {missing}: no such file or directory", err=True)
    click.echo(FORMATS[output_format](run.results), nl=False)
    sys.stdout.flush()
    click.echo(_summary(run), err=True)
    if run.missing or run.internal_errors:
        sys.exit(2)
    sys.exit(0 if exit_zero or not run.results else 1)


def _summary(run) -> str:
    files = f"{run.files} file{'s' if run.files != 1 else ''} checked"
    if not run.results:
        return f"All clear: {files}."
    counts = {}
    for r in run.results:
        counts[r.level] = counts.get(r.level, 0) + 1
    detail = ", ".join(f"{n} {level}{'s' if n != 1 else ''}" for level, n in sorted(counts.items()))
    n = len(run.results)
    return f"Found {n} problem{'s' if n != 1 else ''} ({detail}) in {files}."
