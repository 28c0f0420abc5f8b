"""Configuration: [tool.actlint] in pyproject.toml and actlint.toml, every key, discovery, overrides, errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support import BUGGY, TWO_BUGS, codes, run


@pytest.fixture
def project(tmp_path):
    (tmp_path / "model.py").write_text(TWO_BUGS)
    return tmp_path


def pyproject(folder, body: str, header: str = "[tool.actlint]\n"):
    (folder / "pyproject.toml").write_text(header + body)


@pytest.mark.parametrize("body, expected", [
    ('select = ["ACT3"]', ["ACT302"]),
    ('select = ["ACT201"]', ["ACT201"]),
    ('ignore = ["ACT201"]', ["ACT302"]),
    ('ignore = ["ACT2"]', ["ACT302"]),
    ('select = ["ACT3"]\nextend-select = ["ACT201"]', ["ACT302", "ACT201"]),
    ('extend-select = ["ACT201"]', ["ACT302", "ACT201"]),
    ('select = ["ACT"]\nignore = ["ACT"]', []),
    ("", ["ACT302", "ACT201"]),
])
def test_selection_keys(project, body, expected):
    pyproject(project, body)
    assert codes(run(project)) == expected


def test_per_file_ignores(project):
    (project / "tests").mkdir()
    (project / "tests" / "test_model.py").write_text(TWO_BUGS)
    (project / "notebook_model.py").write_text(TWO_BUGS)
    pyproject(project, '[tool.actlint.per-file-ignores]\n"tests/*" = ["ACT"]\n"notebook_*.py" = ["ACT201"]\n')
    items = json.loads(run("--output-format", "json", project).stdout)
    found = sorted((i["filename"].removeprefix(str(project) + "/"), i["code"]) for i in items)
    assert found == [("model.py", "ACT201"), ("model.py", "ACT302"), ("notebook_model.py", "ACT302")]


def test_extend_exclude_keeps_the_defaults(project):
    for folder in ("generated", ".venv"):
        (project / folder).mkdir()
        (project / folder / "m.py").write_text(BUGGY)
    pyproject(project, 'extend-exclude = ["generated/", "model.py"]')
    assert "All clear: 0 files checked." in run(project).stderr


def test_exclude_replaces_the_defaults(project):
    for folder in ("generated", "build"):
        (project / folder).mkdir()
        (project / folder / "m.py").write_text(BUGGY)
    pyproject(project, 'exclude = ["generated", "/model.py"]')
    result = run("--output-format", "json", project)
    assert [i["filename"] for i in json.loads(result.stdout)] == [str(project / "build" / "m.py")]


def test_anchored_exclude_is_relative_to_the_config_file(project):
    (project / "sub").mkdir()
    (project / "sub" / "model.py").write_text(BUGGY)
    pyproject(project, 'exclude = ["/model.py"]')
    result = run("--output-format", "json", project)
    assert [i["filename"] for i in json.loads(result.stdout)] == [str(project / "sub" / "model.py")]


def test_named_files_are_linted_unless_force_exclude(project):
    pyproject(project, 'extend-exclude = ["model.py"]')
    assert run(project / "model.py").exit_code == 1
    assert run("--force-exclude", project / "model.py").exit_code == 0


def test_output_format_key_and_the_cli_overrides_it(project, monkeypatch):
    pyproject(project, 'output-format = "json"')
    monkeypatch.chdir(project)
    assert json.loads(run("model.py").stdout)[0]["code"] == "ACT302"
    assert run("--output-format", "concise", "model.py").stdout.startswith("model.py:17:38: ACT302")


def test_cli_select_overrides_config_ignore(project):
    pyproject(project, 'ignore = ["ACT201"]')
    assert codes(run("--select", "ACT201", project)) == ["ACT201"]
    assert codes(run("--ignore", "ACT302", project)) == []
    assert codes(run("--extend-select", "ACT201", project)) == ["ACT302", "ACT201"]


def test_actlint_toml_uses_top_level_keys_and_beats_pyproject(project):
    pyproject(project, 'select = ["ACT201"]')
    (project / "actlint.toml").write_text('select = ["ACT302"]\n')
    assert codes(run(project)) == ["ACT302"]


def test_closest_config_wins(project):
    pyproject(project, 'ignore = ["ACT"]')
    sub = project / "sub"
    sub.mkdir()
    (sub / "model.py").write_text(BUGGY)
    (sub / "actlint.toml").write_text('ignore = ["ACT3"]\n')
    items = json.loads(run("--output-format", "json", project).stdout)
    assert [(i["filename"], i["code"]) for i in items] == [(str(sub / "model.py"), "ACT201")]


def test_pyproject_without_the_table_is_skipped(project):
    pyproject(project, 'ignore = ["ACT201"]')
    sub = project / "sub"
    sub.mkdir()
    (sub / "model.py").write_text(BUGGY)
    pyproject(sub, 'name = "x"\n', header="[project]\n")
    assert codes(run(sub)) == []


def test_config_option_and_isolated(project, tmp_path_factory):
    pyproject(project, 'ignore = ["ACT"]')
    other = tmp_path_factory.mktemp("other") / "strict.toml"
    other.write_text('select = ["ACT201"]\n')
    assert codes(run(project)) == []
    assert codes(run("--config", other, project)) == ["ACT201"]
    assert codes(run("--isolated", project)) == ["ACT302", "ACT201"]
    assert run("--isolated", "--config", other, project).exit_code == 2


@pytest.mark.parametrize("body, key, message", [
    ('selct = ["ACT1"]', "selct", "did you mean 'select'"),
    ('select = "ACT1"', "select", "expected a list of strings"),
    ('select = ["XYZ1"]', "select", "unknown rule code or prefix 'XYZ1'"),
    ('ignore = [1]', "ignore", "expected a list of strings"),
    ('extend-select = ["ACT9"]', "extend-select", "unknown rule code"),
    ('per-file-ignores = ["x"]', "per-file-ignores", "expected a table"),
    ('per-file-ignores = {"x.py" = ["NOPE1"]}', "per-file-ignores", "unknown rule code"),
    ('exclude = "build"', "exclude", "expected a list of strings"),
    ('extend-exclude = [true]', "extend-exclude", "expected a list of strings"),
    ('output-format = "xml"', "output-format", "is not one of"),
    ('select = ["ACT1"', None, "not valid TOML"),
])
def test_bad_configuration_is_one_clear_error(project, body, key, message):
    pyproject(project, body)
    result = run(project)
    assert result.exit_code == 2
    assert result.stdout == ""
    error = result.stderr.strip()
    assert error.startswith(f"actlint: error: {project / 'pyproject.toml'}: ")
    assert len(error.splitlines()) == 1 and "Traceback" not in error
    assert message in error
    if key:
        assert "[tool.actlint] " in error and key in error


def test_actlint_toml_errors_name_the_file(project):
    (project / "actlint.toml").write_text('colour = "always"\n')
    result = run(project)
    assert result.exit_code == 2
    assert f"{project / 'actlint.toml'}: unknown key 'colour'" in result.stderr


def test_values_are_never_evaluated(project):
    pyproject(project, 'select = ["__import__(\'os\').system(\'false\')"]')
    result = run(project)
    assert result.exit_code == 2
    assert "unknown rule code or prefix" in result.stderr


def test_the_readme_example_is_a_valid_configuration(tmp_path):
    import re
    from pathlib import Path

    from actlint.config import load

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1]
    example = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    (tmp_path / "pyproject.toml").write_text(example)
    settings = load(tmp_path / "pyproject.toml")
    assert settings.ignore == ("ACT106",) and settings.per_file_ignores[0] == ("tests/**", ("ACT2",))
    assert settings.ignored_codes(tmp_path / "tests" / "unit" / "test_model.py") == ("ACT2",)


_NAMES = st.sampled_from(["build", "src", "x.egg-info", "venv", "a", "build.py"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_NAMES, min_size=1, max_size=5), st.sampled_from(["/proj/", "", "./", "../"]), st.booleans())
def test_folder_name_patterns_match_as_pathspec_does(parts, prefix, extend):
    """Files under folder-name patterns are answered per folder (one match per folder, not per file);
    the answer must be pathspec's for the file itself, relative or absolute, inside the root or not."""
    import os
    from pathlib import Path

    import pathspec

    from actlint.config import Settings

    root = Path("/proj")
    settings_ = Settings(root=root, extend_exclude=("venv/",) if extend else ())
    path = prefix + "/".join(parts)
    relative = os.path.relpath(os.path.abspath(path), root)
    if relative.startswith(".."):  # outside the root: the whole path
        relative = os.path.abspath(path).lstrip("/")
    spec = pathspec.GitIgnoreSpec.from_lines(settings_.exclude + settings_.extend_exclude)
    expected = relative not in (".", "") and spec.match_file(relative)
    assert settings_.excluded(path, False) == expected
