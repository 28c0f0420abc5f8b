"""Notebooks: code cells linted as one program, magics masked, findings reported per cell."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from actlint import notebooks
from actlint.runner import lint_paths
from support import run

NOTEBOOKS = Path(__file__).resolve().parent.parent / "fixtures" / "notebooks"
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+|none)\s*$")


def cells_of(path: Path) -> list:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def expected(path: Path) -> set:
    """(code, cell, row in cell) from the `# expect:` annotations in the cells."""
    found = set()
    for number, cell in enumerate(cells_of(path), start=1):
        for row, line in enumerate("".join(cell["source"]).splitlines(), start=1):
            match = EXPECT.search(line)
            if match and match.group(1) != "none":
                found |= {(code.strip(), number, row) for code in match.group(1).split(",")}
    return found


def actual(path: Path) -> set:
    return {(r.code, r.location.cell, r.location.row) for r in lint_paths([str(path)]).results}


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_findings_match_annotations(path):
    assert "# expect:" in path.read_text(encoding="utf-8")
    assert actual(path) == expected(path)


def test_the_fixtures_cover_one_cell_across_cells_and_clean():
    assert expected(NOTEBOOKS / "one_cell_bug.ipynb") == {("ACT201", 4, 4)}
    assert expected(NOTEBOOKS / "cross_cell_bug.ipynb") == {("ACT302", 8, 2)}
    assert expected(NOTEBOOKS / "clean.ipynb") == set()


def test_a_bug_across_cells_names_both_cells():
    (result,) = lint_paths([str(NOTEBOOKS / "cross_cell_bug.ipynb")]).results
    assert (result.location.cell, result.location.row, result.location.column) == (8, 2, 38)
    assert [(rel.message, rel.location.cell, rel.location.row) for rel in result.related] == [
        ("targets encoded", 3, 1), ("output set", 5, 4)]


def test_text_output_names_the_cell():
    path = NOTEBOOKS / "one_cell_bug.ipynb"
    lines = run("--output-format", "concise", path).stdout.splitlines()
    assert lines[0].startswith(f"{path}:cell 4:4:5: ACT201 ")
    assert lines[1] == f"    loss set at {path}:cell 4:6:41"


def test_json_has_a_cell_field_on_both_ends():
    path = NOTEBOOKS / "cross_cell_bug.ipynb"
    (item,) = json.loads(run("--output-format", "json", path).stdout)
    assert (item["cell"], item["location"], item["end_location"]["row"]) == (8, {"row": 2, "column": 38}, 2)
    assert [(rel["cell"], rel["location"]) for rel in item["related"]] == [
        (3, {"row": 1, "column": 40}), (5, {"row": 4, "column": 5})]


def test_full_output_shows_the_cell_lines():
    stdout = run("--output-format", "full", NOTEBOOKS / "one_cell_bug.ipynb").stdout
    assert '4 |     layers.Dense(1, activation="softmax"),  # expect: ACT201\n' in stdout
    assert '6 | detector.compile(optimizer="adam", loss="binary_crossentropy")\n' in stdout


def test_folders_include_notebooks_and_skip_checkpoints(tmp_path):
    source = (NOTEBOOKS / "one_cell_bug.ipynb").read_bytes()
    (tmp_path / "nb.ipynb").write_bytes(source)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_bytes(source)
    assert [r.filename for r in lint_paths([str(tmp_path)]).results] == [str(tmp_path / "nb.ipynb")]


def notebook(*sources, kind="code", metadata=None) -> str:
    cells = [{"cell_type": kind, "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in sources]
    return json.dumps({"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"nbformat": 4}', "no list of cells"),
    ("[1, 2]", "no list of cells"),
    ('{"cells": [{"cell_type": "code", "source": 3}]}', "cell 1 has a source that is not text"),
    ("\xff\xfe", "not valid JSON"),
])
def test_a_malformed_notebook_gets_one_act002(tmp_path, content, message):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content.encode("latin-1"))
    result = run("--output-format", "json", path)
    (item,) = json.loads(result.stdout)
    assert item["code"] == "ACT002" and message in item["message"] and "\n" not in item["message"]
    assert result.exit_code == 1


def test_a_syntax_error_points_into_its_cell(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook("import torch\n", "x = 1\ndef f(:\n    pass\n"))
    (result,) = lint_paths([str(path)]).results
    assert (result.code, result.location.cell, result.location.row) == ("ACT001", 2, 2)


def test_other_kernels_are_not_linted(tmp_path):
    path = tmp_path / "r.ipynb"
    path.write_text(notebook("library(keras)\nmodel %>% compile(loss = 'binary_crossentropy')\n",
                             metadata={"kernelspec": {"language": "R", "name": "ir"}}))
    assert lint_paths([str(path)]).results == []


def test_suppressions_work_in_cells(tmp_path):
    source = json.loads((NOTEBOOKS / "one_cell_bug.ipynb").read_text())
    cell = source["cells"][3]["source"]
    cell[3] = cell[3].replace("# expect: ACT201", "# noqa: ACT201")
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(source))
    assert lint_paths([str(path)]).results == []


@pytest.mark.parametrize("line", [
    "%matplotlib inline", "!pip install torch", "files = !ls", "x = %env HOME", "model.fit?", "model.fit??",
    "?model.fit", "    %time f()", "%timeit -n 3 \\",
])
def test_magics_are_masked_keeping_indentation(line):
    (masked,) = notebooks._masked([line])
    assert masked.strip() == "pass" and masked[: len(line) - len(line.lstrip())] == line[: len(line) - len(line.lstrip())]


@pytest.mark.parametrize("line", ["x = 5 % 3", "a != b", "x %= 2", "print('!')", "y = '%d' % 3"])
def test_python_is_not_masked(line):
    assert notebooks._masked([line]) == [line]


def test_cell_magics():
    assert notebooks._masked(["%%bash", "ls", "echo hi"]) == ["pass", "pass", "pass"]
    assert notebooks._masked(["%%time", "x = 1", "!ls"]) == ["pass", "x = 1", "pass"]
    assert notebooks._masked(["%cd /tmp \\", "  more"]) == ["pass", "  pass"]


def test_the_cell_map_inverts():
    source, cells = notebooks.read(notebook("a = 1\nb = 2", "", "c = 3\n", "%%bash\nls\n").encode())
    assert source == "a = 1\nb = 2\nc = 3\npass\npass\n"
    rows = range(1, source.count("\n") + 1)
    assert [cells.locate(row) for row in rows] == [(1, 1), (1, 2), (3, 1), (4, 1), (4, 2)]
    assert [cells.row(*cells.locate(row)) for row in rows] == list(rows)
    assert cells.lines() == {1: ["a = 1", "b = 2"], 2: [], 3: ["c = 3"], 4: ["%%bash", "ls"]}


def test_markdown_cells_count_in_the_numbering():
    _, cells = notebooks.read(json.dumps({"cells": [
        {"cell_type": "markdown", "source": "# title"}, {"cell_type": "code", "source": ["x = 1\n", "y = 2"]},
    ]}).encode())
    assert cells.locate(2) == (2, 2)
