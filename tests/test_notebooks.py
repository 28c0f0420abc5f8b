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
    path.write_text(notebook("import torch\nloss_fn = torch.nn.CrossEntropyLoss()\n", "x = 1\ndef f(:\n    pass\n"))
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
    (masked,) = notebooks.mask_lines([line])
    indent = line[: len(line) - len(line.lstrip())]
    assert masked == (indent + "pass" if indent else "#")  # indented: maybe a block's only statement


@pytest.mark.parametrize("line", ["x = 5 % 3", "a != b", "x %= 2", "print('!')", "y = '%d' % 3"])
def test_python_is_not_masked(line):
    assert notebooks.mask_lines([line]) == [line]


def test_cell_magics():
    assert notebooks.mask_lines(["%%bash", "ls", "  echo hi"]) == ["#", "#", "  #"]
    assert notebooks.mask_lines(["%%time", "x = 1", "!ls", "for i in x:", "    %time f(i)"]) == [
        "#", "x = 1", "#", "for i in x:", "    pass"]
    assert notebooks.mask_lines(["%cd /tmp \\", "  more"]) == ["#", "  #"]


@pytest.mark.parametrize("cell", [
    "%%bash\nfor f in *; do\n  echo $f\ndone", "%cd /tmp \\\n    /var", "for i in range(3):\n    !echo $i\n%ls",
    "%%time\nif x:\n    %time f()\nelse:\n    y = 1",
])
def test_masked_cells_parse(cell):
    import ast

    ast.parse("\n".join(notebooks.mask_lines(cell.splitlines())))


def test_the_cell_map_inverts():
    source, cells = notebooks.read(notebook("a = 1\nb = 2", "", "c = 3\n", "%%bash\nls\n").encode())
    assert source == "a = 1\nb = 2\nc = 3\n#\n#\n"
    rows = range(1, source.count("\n") + 1)
    assert [cells.locate(row) for row in rows] == [(1, 1), (1, 2), (3, 1), (4, 1), (4, 2)]
    assert [cells.row(*cells.locate(row)) for row in rows] == list(rows)
    assert cells.lines() == {1: ["a = 1", "b = 2"], 2: [], 3: ["c = 3"], 4: ["%%bash", "ls"]}


def test_markdown_cells_count_in_the_numbering():
    _, cells = notebooks.read(json.dumps({"cells": [
        {"cell_type": "markdown", "source": "# title"}, {"cell_type": "code", "source": ["x = 1\n", "y = 2"]},
    ]}).encode())
    assert cells.locate(2) == (2, 2)


# -- --fix writes notebooks back -------------------------------------------------------------


def jupyter(cells: list, **dump) -> str:
    """A notebook as Jupyter writes it (nbformat: indent 1, sorted keys, no ASCII escaping)."""
    dump = {"indent": 1, "sort_keys": True, "ensure_ascii": False, **dump}
    body = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(body, **dump) + "\n"


def code(source: str, outputs=(), count=None) -> dict:
    return {"cell_type": "code", "execution_count": count, "id": f"c{abs(hash(source)) % 10**6}",
            "metadata": {}, "outputs": list(outputs), "source": source.splitlines(keepends=True)}


STREAM = {"name": "stdout", "output_type": "stream", "text": ["Époque 1 — perte 2.30\n"]}
TORCH_CELLS = [
    {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# Classifieur — chiffres manuscrits"]},
    code("%load_ext autoreload\nimport torch\nfrom torch.nn import CrossEntropyLoss, Linear, ReLU, Sequential, Softmax", count=1),
    code("model = Sequential(\n    Linear(784, 128),\n    ReLU(),\n    Linear(128, 10),\n    Softmax(dim=1),\n)", count=2),
    code("criterion = CrossEntropyLoss()\noptimizer = torch.optim.Adam(model.parameters())", count=3),
    code("for x, y in loader:\n    optimizer.zero_grad()\n    loss = criterion(model(x.view(-1, 784)), y)\n"
         "    loss.backward()\n    optimizer.step()\n!nvidia-smi", [STREAM], count=4),
]


def test_fix_writes_the_notebook_back_changing_only_the_fixed_lines(tmp_path):
    path = tmp_path / "train.ipynb"
    path.write_text(jupyter(TORCH_CELLS), encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    assert [r.code for r in lint_paths([str(path)]).results] == ["ACT101"]

    result = run("--fix", "--unsafe-fixes", "--no-cache", path)
    assert result.exit_code == 0, result.stderr

    after = path.read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(before.splitlines()) == len(after.splitlines())
    assert changed == [
        ('    "from torch.nn import CrossEntropyLoss, Linear, ReLU, Sequential, Softmax"',
         '    "from torch.nn import Identity, CrossEntropyLoss, Linear, ReLU, Sequential, Softmax"'),
        ('    "    Softmax(dim=1),\\n",', '    "    Identity(),\\n",'),
    ]
    assert json.loads(after)["cells"][4]["outputs"] == [STREAM]  # outputs, ids and counts kept
    assert lint_paths([str(path)]).results == []
    run("--fix", "--unsafe-fixes", "--no-cache", path)
    assert path.read_text(encoding="utf-8") == after  # a second --fix changes nothing


def test_fix_keeps_a_notebook_layout_other_than_jupyters(tmp_path):
    path = tmp_path / "vscode.ipynb"
    path.write_text(jupyter(TORCH_CELLS, indent=2, sort_keys=False, ensure_ascii=True).rstrip("\n"), encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    run("--fix", "--unsafe-fixes", "--no-cache", path)
    after = path.read_text(encoding="utf-8")
    assert after != before and not after.endswith("\n")
    assert after == before.replace("Softmax(dim=1)", "Identity()").replace("import CrossEntropyLoss", "import Identity, CrossEntropyLoss")


def test_fix_leaves_a_notebook_whose_layout_it_cannot_reproduce_byte_identical(tmp_path):
    path = tmp_path / "odd.ipynb"
    path.write_bytes(jupyter(TORCH_CELLS).replace("\n", "\r\n").encode("utf-8"))  # CRLF JSON
    before = path.read_bytes()
    result = run("--fix", "--unsafe-fixes", "--no-cache", path)
    assert path.read_bytes() == before
    assert result.exit_code == 2  # as for any fix that could not be applied
    assert "odd.ipynb: the fixes cannot be written back into the notebook: its JSON layout" in result.stderr
    assert "Traceback" not in result.stderr


def test_diff_of_a_notebook_shows_each_changed_cell_as_python(tmp_path):
    path = tmp_path / "train.ipynb"
    path.write_text(jupyter(TORCH_CELLS), encoding="utf-8")
    result = run("--diff", "--unsafe-fixes", "--no-cache", path)
    assert result.exit_code == 1
    assert f"--- {path}:cell 2\n+++ {path}:cell 2\n" in result.stdout
    assert "-    Softmax(dim=1),\n+    Identity(),\n" in result.stdout
    assert "\\n" not in result.stdout  # Python lines, not JSON strings


def test_write_back_refuses_a_change_across_two_cells():
    data = jupyter([code("a = 1\nb = 2"), code("c = 3")]).encode("utf-8")
    with pytest.raises(notebooks.NotebookError, match="span two cells"):
        notebooks.write_back(data, "a = 1\nb = 2 + 3\n")  # cell 1's last line and cell 2's merged
    assert notebooks.write_back(data, "a = 1\nb = 2\nc = 3\n") == data


def test_write_back_refuses_to_touch_a_masked_magic_line():
    data = jupyter([code("%time x = 1\ny = 2")]).encode("utf-8")
    with pytest.raises(notebooks.NotebookError, match="IPython magic"):
        notebooks.write_back(data, "x = 1\ny = 2\n")


def test_write_back_puts_inserted_lines_in_the_cell_above_them():
    data = jupyter([code("import torch"), code("model = 1")]).encode("utf-8")
    new = notebooks.write_back(data, "import torch\nimport numpy\nmodel = 1\n")
    assert [cell["source"] for cell in json.loads(new)["cells"]] == [["import torch\n", "import numpy"], ["model = 1"]]


def test_json_fix_edits_in_a_notebook_are_located_by_cell(tmp_path):
    path = tmp_path / "train.ipynb"
    path.write_text(jupyter(TORCH_CELLS), encoding="utf-8")
    (item,) = json.loads(run("--output-format", "json", "--no-cache", path).stdout)
    softmax = next(edit for edit in item["fix"]["edits"] if edit["content"] == "Identity()")
    assert (softmax["cell"], softmax["location"], softmax["end_location"]) == (
        3, {"row": 5, "column": 5}, {"row": 5, "column": 19})
    assert (item["cell"], item["location"]) == (3, {"row": 5, "column": 5})


# -- notebooks exported as .py (`!pip install` lines kept) ------------------------------------

EXPORTED = """\
# Kaggle notebook exported as a script
!pip install -q tensorflow
%matplotlib inline
from tensorflow import keras

model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(1, activation="softmax")])
model.compile(optimizer="adam", loss="binary_crossentropy")
"""


def test_a_notebook_exported_as_py_is_linted_with_its_magics_read_as_comments(tmp_path):
    path = tmp_path / "kaggle.py"
    path.write_text(EXPORTED)
    (result,) = lint_paths([str(path)]).results
    assert (result.code, result.location.row, result.fix) == ("ACT201", 6, None)  # no fix: it would drop the magics
    run("--fix", "--unsafe-fixes", "--no-cache", path)
    assert path.read_text() == EXPORTED


def test_an_exported_notebook_with_a_real_syntax_error_still_gets_act001(tmp_path):
    path = tmp_path / "kaggle.py"
    path.write_text(EXPORTED + "def broken(:\n    pass\n")
    assert [(r.code, r.location.row) for r in lint_paths([str(path)]).results] == [("ACT001", 8)]


def test_a_fix_is_not_offered_in_an_imported_exported_notebook(tmp_path):
    models = "!pip install -q tensorflow\nfrom tensorflow import keras\n\ndef build():\n" \
             "    return keras.Sequential([keras.layers.Dense(1, activation=\"softmax\")])\n"
    (tmp_path / "models.py").write_text(models)
    (tmp_path / "train.py").write_text(
        "from models import build\n\nmodel = build()\nmodel.compile(optimizer=\"adam\", loss=\"binary_crossentropy\")\n")
    (result,) = lint_paths([str(tmp_path)]).results
    assert (result.code, Path(result.filename).name, result.fix) == ("ACT201", "models.py", None)
    outcome = run("--fix", "--unsafe-fixes", "--no-cache", tmp_path)
    assert outcome.exit_code == 1 and (tmp_path / "models.py").read_text() == models


# -- cells as IPython reads them: indented cells, cell magics, broken cells ---------------------------

IPYTHON_CELLS = [
    code("%load_ext autoreload\nimport torch\nfrom torch.nn import CrossEntropyLoss, Linear, ReLU, Sequential, Softmax"),
    code("def preprocess(x:\n    pass  # TODO"),  # IPython rejects it: reported once, left as it is
    code(" model = Sequential(\n     Linear(784, 10),\n     Softmax(dim=1),\n )"),  # every line indented by one space
    code("%%time\ncriterion = CrossEntropyLoss()\nfor x, y in loader:\n    print('step %d'\n          % step)\n"
         "    loss = criterion(model(x), y)\n    !echo done"),
]


def test_findings_and_fixes_in_indented_and_magic_cells(tmp_path):
    path = tmp_path / "train.ipynb"
    path.write_text(jupyter(IPYTHON_CELLS), encoding="utf-8")
    results = sorted((r.code, r.location.cell, r.location.row, r.location.column) for r in lint_paths([str(path)]).results)
    assert results == [("ACT001", 2, 1, 15), ("ACT101", 3, 3, 6)]
    items = json.loads(run("--output-format", "json", "--no-cache", path).stdout)
    softmax = next(edit for item in items if item["fix"] for edit in item["fix"]["edits"] if edit["content"] == "Identity()")
    assert (softmax["cell"], softmax["location"], softmax["end_location"]) == (3, {"row": 3, "column": 6}, {"row": 3, "column": 20})

    diff = run("--diff", "--unsafe-fixes", "--no-cache", path).stdout
    assert "-     Softmax(dim=1),\n+     Identity(),\n" in diff  # the cell's own indent

    run("--fix", "--unsafe-fixes", "--no-cache", path)
    after = [cell["source"] for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]]
    before = [cell["source"] for cell in IPYTHON_CELLS]
    assert after[0] == [before[0][0], before[0][1], before[0][2].replace("import ", "import Identity, ")]
    assert after[1] == before[1] and after[3] == before[3]
    assert after[2] == [" model = Sequential(\n", "     Linear(784, 10),\n", "     Identity(),\n", " )"]
    assert [(r.code, r.location.cell) for r in lint_paths([str(path)]).results] == [("ACT001", 2)]
