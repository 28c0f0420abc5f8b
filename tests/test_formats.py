"""Output formats: full, concise/text, json, sarif (schema-valid), github, gitlab, junit; --statistics; colour."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest

from actlint import output
from actlint.results import Position, RelatedLocation, Result
from support import BUGGY, TWO_BUGS, run

HERE = Path(__file__).resolve().parent
SCHEMA_NAME = "sarif-schema-2.1.0.json"


def sarif_schema() -> dict:
    shared = Path(__file__).resolve().parents[2] / "shared" / "schemas" / SCHEMA_NAME
    path = shared if shared.is_file() else HERE / "data" / SCHEMA_NAME
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("model.py").write_text(TWO_BUGS)
    Path("small.py").write_text(BUGGY)
    return tmp_path


def lint(*args, env=None):
    return run(*args, "model.py", "small.py", env=env)


def test_full_shows_the_line_and_a_caret_under_each_end(model):
    result = lint("--output-format", "full")
    assert result.exit_code == 1
    assert """\
small.py:6:5: ACT201 [*] softmax over a single unit always outputs 1.0, so the model cannot learn
  |
6 |     layers.Dense(1, activation="softmax"),
  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ ACT201
  ::: loss set at small.py:8:38
  |
8 | model.compile(optimizer="adam", loss="binary_crossentropy")
  |                                      ^^^^^^^^^^^^^^^^^^^^^ loss set
  = fix: use sigmoid for one binary output, or 2 units with softmax
""" in result.stdout
    assert "17 | model.compile(" in result.stdout and "\x1b[" not in result.stdout
    assert "\n   |\n 8 | (x_train, y_train)" in result.stdout  # one gutter width per finding: rows 17 and 8


def test_full_is_the_default_in_a_terminal_and_concise_otherwise(model, monkeypatch):
    assert lint().stdout.startswith("model.py:17:38: ACT302 [*] categorical_crossentropy")
    monkeypatch.setattr("actlint.cli._default_format", lambda: "full")
    assert "17 | model.compile(" in lint().stdout


@pytest.mark.parametrize("args, env, coloured", [
    (["--color", "always"], {}, True),
    (["--color", "never"], {"FORCE_COLOR": "1"}, False),
    ([], {}, False),  # auto: stdout is not a terminal here
    ([], {"FORCE_COLOR": "1"}, True),
    ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    (["--color", "always"], {"NO_COLOR": "1"}, True),
])
def test_colour(model, args, env, coloured):
    env = {"NO_COLOR": None, "FORCE_COLOR": None, **env}
    stdout = lint("--output-format", "full", *args, env=env).stdout
    assert ("\x1b[" in stdout) is coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", stdout) == lint("--output-format", "full", "--color", "never").stdout


def test_colour_never_reaches_other_formats(model):
    assert "\x1b[" not in lint("--output-format", "concise", "--color", "always").stdout


def test_concise_and_its_text_alias(model):
    concise = lint("--output-format", "concise").stdout
    assert concise == lint("--output-format", "text").stdout
    assert concise.splitlines()[:3] == [
        "model.py:17:38: ACT302 [*] categorical_crossentropy expects one-hot targets, but the targets are integer "
        "class ids (mnist.load_data())",
        "    targets encoded at model.py:8:40",
        "    output set at model.py:14:5",
    ]
    assert "    fix: use sigmoid for one binary output, or 2 units with softmax" in concise.splitlines()
    assert "verified:" not in concise  # the numeric claim is long: full and json carry it


def test_full_ends_with_the_numeric_verification(model):
    finding = lint("--output-format", "full").stdout.split("\n\n")[-2]
    assert finding.splitlines()[-1].startswith("  = verified: Softmax over a single unit outputs exactly 1")


def test_sarif_validates_and_carries_rules_and_both_ends(model):
    document = json.loads(lint("--output-format", "sarif").stdout)
    jsonschema.validate(document, sarif_schema())
    run_ = document["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert {"ACT101", "ACT201", "ACT302"} <= {rule["id"] for rule in rules}
    results = run_["results"]
    assert [r["ruleId"] for r in results] == ["ACT302", "ACT201", "ACT201"]
    first = results[0]
    assert rules[first["ruleIndex"]]["id"] == "ACT302"
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "model.py"},
        "region": {"startLine": 17, "startColumn": 38, "endLine": 17, "endColumn": 64},
    }
    related = [(rel["physicalLocation"]["region"]["startLine"], rel["message"]["text"]) for rel in first["relatedLocations"]]
    assert related == [(8, "targets encoded"), (14, "output set")]


def finding(**changes) -> Result:
    where = Position(6, 5)
    base = Result("ACT201", "softmax over a single unit", "/abs/model.py", where, Position(6, 42),
                  (RelatedLocation("/abs/model.py", Position(8, 38), "loss set"),), "use sigmoid")
    return base.__class__(**{**base.__dict__, **changes})


def test_sarif_fixes_and_absolute_paths():
    fix = {"message": "use sigmoid", "applicability": "safe", "edits": [
        {"content": '"sigmoid"', "location": {"row": 6, "column": 32}, "end_location": {"row": 6, "column": 41}}]}
    document = json.loads(output.sarif([finding(fix=fix)]))
    jsonschema.validate(document, sarif_schema())
    result = document["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///abs/model.py"
    change = result["fixes"][0]["artifactChanges"][0]
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": 6, "startColumn": 32, "endLine": 6, "endColumn": 41},
        "insertedContent": {"text": '"sigmoid"'},
    }]


def test_sarif_without_results_validates():
    jsonschema.validate(json.loads(output.sarif([])), sarif_schema())


WORKFLOW_COMMAND = re.compile(r"^::(?P<command>error|warning|notice) (?P<properties>[^:]*)::(?P<message>.*)$")


def parse_workflow_command(line: str) -> tuple:
    """A workflow command the way the GitHub runner reads it: properties, then the unescaped message."""
    match = WORKFLOW_COMMAND.match(line)
    assert match, line
    properties = {}
    for pair in match["properties"].split(","):
        key, value = pair.split("=", 1)
        properties[key] = _unescape(value)
    return match["command"], properties, _unescape(match["message"])


def _unescape(value: str) -> str:
    for escaped, plain in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(escaped, plain)
    return value


def test_github_workflow_commands_parse(model):
    lines = lint("--output-format", "github").stdout.splitlines()
    assert len(lines) == 3
    command, properties, message = parse_workflow_command(lines[0])
    assert command == "error"
    assert properties == {"file": "model.py", "line": "17", "col": "38", "endLine": "17", "endColumn": "64",
                          "title": "ACT302"}
    assert message.splitlines()[1:3] == ["targets encoded at model.py:8:40", "output set at model.py:14:5"]


def test_github_escapes_awkward_names_and_levels():
    line = output.github([finding(filename="a,b:c%.py", message="50% off\nnext", severity="info")]).strip()
    command, properties, message = parse_workflow_command(line)
    assert command == "notice"
    assert properties["file"] == "a,b:c%.py"
    assert message.startswith("a,b:c%.py:6:5: 50% off\nnext")


def test_gitlab_code_quality(model):
    issues = json.loads(lint("--output-format", "gitlab").stdout)
    assert [set(issue) for issue in issues] == [{"description", "check_name", "fingerprint", "severity", "location"}] * 3
    assert issues[0]["location"] == {"path": "model.py", "lines": {"begin": 17}}
    assert issues[0]["severity"] == "major" and issues[0]["check_name"] == "ACT302 index-with-categorical-loss"
    assert len({issue["fingerprint"] for issue in issues}) == 3
    assert issues == json.loads(lint("--output-format", "gitlab").stdout)  # stable


def test_gitlab_fingerprints_survive_moved_lines(model):
    before = json.loads(lint("--output-format", "gitlab").stdout)
    Path("model.py").write_text("\n\n" + TWO_BUGS)
    after = json.loads(lint("--output-format", "gitlab").stdout)
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]


def test_junit(model):
    root = ElementTree.fromstring(lint("--output-format", "junit").stdout)
    assert root.tag == "testsuites" and root.get("failures") == "3"
    suites = {suite.get("name"): suite for suite in root}
    assert set(suites) == {"model.py", "small.py"}
    failures = [case.find("failure") for case in suites["model.py"]]
    assert [f.get("type") for f in failures] == ["ACT302", "ACT201"]
    assert "targets encoded at model.py:8:40" in failures[0].text


def test_junit_without_findings():
    root = ElementTree.fromstring(output.junit([]))
    assert root.get("failures") == "0" and len(root.findall("./testsuite/testcase")) == 1


def test_json_keeps_its_shape(model):
    items = json.loads(lint("--output-format", "json").stdout)
    assert set(items[0]) == {"code", "name", "severity", "message", "filename", "location", "end_location",
                             "related", "suggestion", "fix", "verification"}


def test_statistics(model):
    (model / "more.py").write_text(BUGGY)
    result = run("--statistics", "model.py", "small.py", "more.py")
    assert result.exit_code == 1
    assert result.stdout == "3  ACT201  softmax-single-unit\n1  ACT302  index-with-categorical-loss\n"
    counts = json.loads(run("--statistics", "--output-format", "json", "model.py").stdout)
    assert counts == [{"code": "ACT201", "name": "softmax-single-unit", "count": 1},
                      {"code": "ACT302", "name": "index-with-categorical-loss", "count": 1}]


@pytest.mark.parametrize("name", sorted(output.FORMATS))
def test_every_format_handles_no_results(name):
    assert isinstance(output.FORMATS[name]([], output.View()), str)


def test_notebook_results_in_sarif_and_github_name_the_cell():
    notebook = HERE.parent / "fixtures" / "notebooks" / "cross_cell_bug.ipynb"
    document = json.loads(run("--output-format", "sarif", notebook).stdout)
    jsonschema.validate(document, sarif_schema())
    (result,) = document["runs"][0]["results"]
    location = result["locations"][0]
    assert "region" not in location["physicalLocation"]  # lines of the .ipynb JSON would mislead
    assert location["properties"] == {"cell": 8, "row": 2, "column": 38}
    assert [rel["properties"]["cell"] for rel in result["relatedLocations"]] == [3, 5]
    (line,) = run("--output-format", "github", notebook).stdout.splitlines()
    _, properties, message = parse_workflow_command(line)
    assert set(properties) == {"file", "title"} and message.startswith(f"{notebook}:cell 8:2:38: ")
