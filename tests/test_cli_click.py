"""The command line on click (issue 20): parsing through click's CliRunner, help in groups, and
shell completion of rule codes and format names."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from actlint import cli
from actlint.catalogue import rules

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def parsed(monkeypatch):
    """Parse a command line with CliRunner and return what the command was given."""
    seen = []
    monkeypatch.setattr(cli, "_command", seen.append)

    def parse(*args):
        result = CliRunner().invoke(cli.command(), list(args))
        assert result.exit_code == 0, result.output
        return vars(seen.pop())
    return parse


def test_defaults_are_a_plain_run(parsed):
    assert parsed() == {
        "paths": (), "select": None, "ignore": None, "extend_select": None, "exit_zero": False,
        "output_format": None, "color": "auto", "statistics": False, "config_path": None, "isolated": False,
        "stdin_filename": None, "force_exclude": False, "jobs": None, "no_cache": False, "max_file_size": None,
        "fix": False, "unsafe_fixes": False, "diff": False, "fix_only": False, "list_rules": False,
        "explain": None}


def test_values_options_between_paths_and_dash(parsed):
    args = parsed("a.py", "--select", "ACT2", "-", "-j", "3", "--max-file-size", "0", "b", "--color=never",
                  "--output-format", "json", "--config", "x.toml", "--fix", "--", "--odd-name.py")
    assert args["paths"] == ("a.py", "-", "b", "--odd-name.py")
    assert (args["select"], args["jobs"], args["max_file_size"], args["color"], args["output_format"],
            args["config_path"], args["fix"]) == ("ACT2", 3, 0, "never", "json", "x.toml", True)


def test_parsing_alone_gives_what_the_command_gets(parsed):
    args = ["x.py", "--ignore", "ACT3", "-j", "2", "--diff"]
    assert vars(cli._arguments(args)) == parsed(*args)


def test_the_last_of_a_repeated_option_wins(parsed):
    assert parsed("--select", "ACT1", "--select", "ACT3")["select"] == "ACT3"


@pytest.mark.parametrize("args, message", [
    (["-j", "0"], "argument -j/--jobs: '0' is not a whole number >= 1"),
    (["--max-file-size", "-5"], "argument --max-file-size: '-5' is not a whole number >= 0"),
    (["--output-format", "yaml"], "argument --output-format: invalid choice: 'yaml' (choose from 'full', "
                                  "'concise', 'text', 'json', 'sarif', 'github', 'gitlab', 'junit')"),
    (["--color", "red"], "argument --color: invalid choice: 'red' (choose from 'auto', 'always', 'never')"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--sel", "ACT2"], "unrecognized arguments: --sel"),
    (["--explain"], "argument --explain: expected one argument"),
    (["--fix=1"], "argument --fix: takes no value"),
    (["--select", "XYZ9", "x.py"], "--select: unknown rule code or prefix 'XYZ9'"),
    (["--isolated", "--config", "x.toml"], "--config and --isolated cannot be used together"),
])
def test_usage_errors_keep_the_argparse_wording(args, message):
    result = CliRunner().invoke(cli.command(), args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"usage: actlint [options] [PATHS ...]\nactlint: error: {message}\n"


def test_help_groups_the_options():
    result = CliRunner().invoke(cli.command(), ["--help"])
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("usage: actlint [options] [PATHS ...]\n")
    titles = [line[:-1] for line in text.splitlines() if line.endswith(":") and not line.startswith(" ")]
    assert titles == ["Rule selection", "Output", "Fixes", "Files", "Configuration", "Other options"]
    sections = {title: text.split(f"\n{title}:\n", 1)[1].split("\n\n", 1)[0] for title in titles}
    assert "--extend-select CODES" in sections["Rule selection"]
    assert "--output-format FORMAT" in sections["Output"] and "--unsafe-fixes" in sections["Fixes"]
    assert "-j, --jobs N" in sections["Files"] and "--config FILE" in sections["Configuration"]
    assert "--explain CODE" in sections["Other options"] and "-h, --help" in sections["Other options"]
    every = {o for p in cli.command().params for o in p.opts if o.startswith("-")}
    assert every <= {word.rstrip(",") for word in text.split()}


def test_dash_h_and_version():
    assert CliRunner().invoke(cli.command(), ["-h"]).stdout.startswith("usage: actlint")
    assert CliRunner().invoke(cli.command(), ["--version"]).stdout == f"actlint, version {cli.__version__}\n"


@pytest.mark.parametrize("shell, marker", [
    ("bash", "complete -o nosort -F _actlint_completion actlint"),
    ("zsh", "compdef _actlint_completion actlint"),
    ("fish", "complete --no-files --command actlint"),
])
def test_completion_scripts_generate(shell, marker):
    result = CliRunner().invoke(cli.command(), [], env={"_ACTLINT_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0
    assert marker in result.stdout and "_ACTLINT_COMPLETE" in result.stdout


def complete(words: str, shell: str = "bash") -> list:
    """What the shell is offered for the last word of `words` (click's protocol for `shell`)."""
    parts = words.split(" ")
    # fish passes the word being completed itself, bash and zsh its index
    cword = parts[-1] if shell == "fish" else str(len(parts) - 1)
    env = {"_ACTLINT_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    result = CliRunner().invoke(cli.command(), [], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    if shell == "bash":  # type,value per line
        return [line.split(",", 1)[1] for line in lines]
    if shell == "zsh":  # type, value, help: three lines per item
        return lines[1::3]
    return [line.split(",", 1)[1].split("\t")[0] for line in lines]  # fish: type,value<tab>help


ACT1 = sorted(code for code in rules() if code.startswith("ACT1"))


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_select_completes_rule_codes(shell):
    assert "ACT101" in ACT1
    assert complete("actlint --select ACT1", shell) == ACT1


@pytest.mark.parametrize("option", ["--ignore", "--extend-select", "--explain"])
def test_other_code_options_complete_rule_codes(option):
    assert complete(f"actlint {option} act1") == ACT1
    assert complete(f"actlint {option} ") == sorted(rules())


def test_codes_come_with_the_rule_name_where_the_shell_shows_one():
    parts = "actlint --select ACT101".split(" ")
    env = {"_ACTLINT_COMPLETE": "zsh_complete", "COMP_WORDS": " ".join(parts), "COMP_CWORD": "2"}
    lines = CliRunner().invoke(cli.command(), [], env=env).stdout.splitlines()
    assert lines == ["plain", "ACT101", rules()["ACT101"].name]


def test_codes_complete_after_a_comma():
    assert complete("actlint --select ACT101,ACT1") == [f"ACT101,{code}" for code in ACT1]


def test_formats_complete():
    assert complete("actlint --output-format j") == ["json", "junit"]
    assert complete("actlint --color ") == ["auto", "always", "never"]


def test_paths_complete_as_files():
    parts = "actlint --select ACT1 tr".split(" ")
    env = {"_ACTLINT_COMPLETE": "bash_complete", "COMP_WORDS": " ".join(parts), "COMP_CWORD": "3"}
    assert CliRunner().invoke(cli.command(), [], env=env).stdout.splitlines() == ["file,tr"]


@pytest.mark.skipif(not shutil.which("bash"), reason="no bash")
def test_bash_completes_through_the_generated_script(tmp_path):
    """The whole loop in a real bash: the script from bash_source, run by bash, asks `actlint` (here a
    shim for `python -m actlint`) and fills COMPREPLY."""
    shim = tmp_path / "actlint"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m actlint "$@"\n')
    shim.chmod(0o755)
    script = ('eval "$(_ACTLINT_COMPLETE=bash_source actlint)"; COMP_WORDS=(actlint --select ACT1); COMP_CWORD=2; '
              '_actlint_completion actlint; echo "${COMPREPLY[@]}"')
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.split() == ACT1, done.stderr


def test_ctrl_c_is_aborted_and_exit_1(monkeypatch, tmp_path):
    import actlint.runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(actlint.runner, "lint_paths", interrupted)
    from tests.support import invoke

    result = invoke([str(tmp_path)])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "\nAborted!\n")
