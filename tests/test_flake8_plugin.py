"""actlint as a flake8 plugin (issue 20): real flake8, run as `python -m flake8 --select ACT`.

flake8 finds plugins through the `flake8.extension` entry points of installed distributions. Where
actlint is installed (CI: `pip install -e '.[test]'`) its own entry point is used; elsewhere the tests
put a distribution's metadata carrying pyproject.toml's declared entry point on PYTHONPATH, so that
what is tested is the declaration itself either way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest.importorskip("flake8")

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = [
    "examples/train_mnist.py:17:38: ACT302 categorical_crossentropy expects one-hot targets, but the targets "
    "are integer class ids (mnist.load_data()) (targets encoded at examples/train_mnist.py:8:40; output set "
    "at examples/train_mnist.py:14:5)",
    "examples/train_mnist.py:25:5: ACT201 softmax over a single unit always outputs 1.0, so the model cannot "
    "learn (loss set at examples/train_mnist.py:27:41)",
]


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> str:
    """PYTHONPATH under which flake8 finds actlint and its plugin."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["flake8.extension"]
    assert declared == {"ACT": "actlint.flake8_plugin:Plugin"}
    if any(ep.value == declared["ACT"] for ep in entry_points(group="flake8.extension", name="ACT")):
        return str(REPO)
    site = tmp_path_factory.mktemp("site")
    info = site / "actlint-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: actlint\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(
        "[flake8.extension]\n" + "".join(f"{name} = {value}\n" for name, value in declared.items()))
    return os.pathsep.join([str(site), str(REPO)])


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    return tmp_path


def flake8(plugin_path, cwd, *args, input=None):
    env = {**os.environ, "PYTHONPATH": plugin_path}
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "ACT", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, input=input, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_flake8_reports_the_bundled_example(plugin_path, project):
    done = flake8(plugin_path, project, "examples")
    assert done.returncode == 1
    assert done.stdout.splitlines() == EXAMPLE


def test_flake8_on_the_whole_tree_in_parallel(plugin_path, project):
    (project / "other.py").write_text((project / "examples" / "train_mnist.py").read_text())
    done = flake8(plugin_path, project, "--jobs", "2")
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("./examples/")] == [f"./{line}" for line in EXAMPLE]
    assert [line.split(": ")[1].split()[0] for line in lines if line.startswith("./other.py")] == ["ACT302", "ACT201"]


def test_flake8_noqa_silences_a_code(plugin_path, project):
    example = project / "examples" / "train_mnist.py"
    lines = example.read_text().splitlines(keepends=True)
    lines[24] = lines[24].rstrip("\n") + "  # noqa: ACT201\n"
    lines[16] = lines[16].rstrip("\n") + "  # noqa: E501\n"  # another code does not silence ACT302
    example.write_text("".join(lines))
    assert [line.split(": ")[1].split()[0] for line in flake8(plugin_path, project, "examples").stdout.splitlines()] \
        == ["ACT302"]


def test_actlint_configuration_applies(plugin_path, project):
    (project / "pyproject.toml").write_text("[tool.actlint]\nignore = ['ACT302']\n")
    assert [line.split(": ")[1].split()[0] for line in flake8(plugin_path, project, "examples").stdout.splitlines()] \
        == ["ACT201"]
    (project / "pyproject.toml").write_text("[tool.actlint]\nexclude = ['examples/']\n")
    assert flake8(plugin_path, project, "examples").stdout == ""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_bad_configuration_ends_flake8_with_one_message(plugin_path, project, jobs):
    (project / "pyproject.toml").write_text("[tool.actlint]\nselect = 5\n")
    shutil.copy(project / "examples" / "train_mnist.py", project / "examples" / "again.py")
    done = flake8(plugin_path, project, "--jobs", jobs, "examples")
    assert done.returncode == 1 and "Traceback" not in done.stdout
    assert done.stdout.splitlines() == [
        "There was a critical error during execution of Flake8:",
        f"actlint: error: {project / 'pyproject.toml'}: [tool.actlint] select: expected a list of strings, got 5"]


def test_actlint_suppression_comments_apply(plugin_path, project):
    example = project / "examples" / "train_mnist.py"
    example.write_text(example.read_text().replace(
        'detector.compile(optimizer="adam", loss="binary_crossentropy")',
        'detector.compile(optimizer="adam", loss="binary_crossentropy")  # actlint: ignore[ACT201]'))
    assert [line.split(": ")[1].split()[0] for line in flake8(plugin_path, project, "examples").stdout.splitlines()] \
        == ["ACT302"]


def test_stdin_and_an_editor_buffer(plugin_path, project):
    source = (project / "examples" / "train_mnist.py").read_text()
    done = flake8(plugin_path, project, "-", input=source)
    assert done.stdout.splitlines() == [line.replace("examples/train_mnist.py", "stdin") for line in EXAMPLE]
    # An editor sends its unsaved buffer under the file's name: the buffer is linted, not the file.
    edited = source.replace('layers.Dense(1, activation="softmax")', 'layers.Dense(1, activation="sigmoid")')
    done = flake8(plugin_path, project, "--stdin-display-name", "examples/train_mnist.py", "-", input=edited)
    assert done.stdout.splitlines() == EXAMPLE[:1]


def test_cross_file_findings_are_reported_from_the_file_that_leads_to_them(plugin_path, tmp_path):
    """`actlint main.py` finds a bug located in models.py through main.py: flake8, which reports only
    in the file it checks, shows it at its end in main.py, else at the import that brings it in, its
    location first in the message."""
    for name in ("keras_split", "torch_trainer"):
        shutil.copytree(REPO / "fixtures" / "projects" / name, tmp_path / "projects" / name)
    (tmp_path / "pyproject.toml").write_text("")
    lines = flake8(plugin_path, tmp_path, "projects").stdout.splitlines()
    assert [line.split(": ACT")[0] for line in lines] == ["projects/keras_split/train.py:4:1",
                                                          "projects/torch_trainer/main.py:11:13"]
    assert "(located at projects/torch_trainer/models.py:14:16; loss set at projects/torch_trainer/losses.py:7:16; " \
           "targets encoded at projects/torch_trainer/main.py:11:13)" in lines[1]


@pytest.mark.parametrize("source, row", [
    ("import os\nfrom pipeline.config import C\nfrom pipeline import data\n", 2),
    ("import os\nfrom pipeline import data, config\n", 2),
    ("import pipeline.models as m\n", 1),
    ("from .data import load\n", 1),  # relative, from pkg/train.py
    ("from . import models\n", 1),
    ("from .. import models\n", None),  # one folder too high
    ("import config\n", 1),  # the name alone: the best there is
    ("import os\nimport json\n", None),
])
def test_the_import_that_brings_a_file_in(tmp_path, source, row):
    import ast

    from actlint.flake8_plugin import _import_of

    pkg = tmp_path / "pipeline"
    files = [str(pkg / "config.py"), str(pkg / "data.py"), str(pkg / "models.py")]
    found = _import_of(ast.parse(source), str(pkg / "train.py"), files)
    assert (found and found[0]) == row


def test_running_both_does_the_work_once(plugin_path, project):
    """flake8 and actlint share actlint's cache: whichever runs second reads the first one's entries
    (flake8's ./examples/... and actlint's examples/... are one entry), and writes none."""
    from tests.support import invoke

    def entries():
        return {p: p.stat().st_mtime_ns for p in (project / ".actlint_cache").rglob("*") if p.is_file()}

    assert flake8(plugin_path, project).stdout.splitlines() == [f"./{line}" for line in EXAMPLE]
    after_flake8 = entries()
    assert after_flake8
    cwd = os.getcwd()
    os.chdir(project)
    try:
        assert invoke(["examples"]).exit_code == 1
    finally:
        os.chdir(cwd)
    assert entries() == after_flake8


def test_the_plugin_does_not_need_flake8():
    code = "import sys; sys.modules['flake8'] = None; import actlint.flake8_plugin as p; print(p.Plugin.name)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.stdout.strip() == "actlint", done.stderr


def test_a_crlf_file_on_disk_is_linted_as_a_file(plugin_path, project):
    """flake8 reads a file with universal newlines: a CRLF file's lines are still the file on disk, so it
    is linted (and cached) as `actlint FILE` lints it, not as an unsaved buffer."""
    example = project / "examples" / "train_mnist.py"
    example.write_bytes(example.read_bytes().replace(b"\n", b"\r\n"))
    assert flake8(plugin_path, project, "examples").stdout.splitlines() == EXAMPLE
    assert any(p.is_file() for p in (project / ".actlint_cache").rglob("*"))  # the buffer path caches nothing
