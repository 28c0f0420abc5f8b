"""Notebook cells read as IPython reads them: actlint's verdict on each cell (readable, or ACT001)
agrees with IPython's own input transformer + `compile` (IPython is a test-only dependency), except
for automagics (`pip install x` in a cell of its own), which IPython resolves at run time."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actlint import notebooks
from actlint.runner import lint_paths
from notebook_oracle import actlint_accepts, ipython_accepts, is_automagic, line_magics, main

pytest.importorskip("IPython", minversion="9.18")  # the transformer whose verdicts actlint follows

MAGICS = line_magics()

# One self-written cell per cause seen on real notebooks, and their near misses: (cell, IPython accepts).
SEEN = [
    ('print("step %d, loss %.3f"\n      % (step, float(loss)))', True),  # `%` continuing a bracket
    ("correct = (predicted\n           != labels).sum()", True),  # `!=` on its own line in brackets
    ("x = [\n    1,\n    !ls\n]", False),  # a shell escape inside brackets is no escape
    (" import torch\n model = torch.nn.Linear(2, 2)", True),  # every line indented by one space
    ("\tx = 1\n\tif x:\n\t\ty = 2", True),
    ("  x = 1\n y = 2", False),  # no common indent for the second line
    ("pip install torchvision", True),  # automagic: accepted by actlint, resolved at run time by IPython
    ("cd data", True),
    ("ls", True),
    ("# install\npip install torch", False),  # automagic needs a cell of one line
    ("pip = 3", True),
    ("%matplotlib inline\nimport numpy as np", True),
    ("!pip install -q tensorflow\n!nvidia-smi", True),
    ("files = !ls *.csv\nprint(files)", True),
    ("out = %timeit -o sum(range(10))", True),
    ("a, b = !echo 1 2", True),
    ("model.fit?", True),
    ("keras.layers.Dense??", True),
    ("?model", True),
    ("print(model)?", False),
    ("for i in range(3):\n    !echo $i\n%ls", True),
    ("%cd /tmp \\\n    /var", True),
    ('s = """\n!not an escape\n%neither\n"""', True),
    ("%%bash\nfor f in *; do\n  echo $f\ndone", True),
    ("%%writefile train.py\nimport torch\ndef f(:\n", True),
    ("%%html\n<b>bold</b>", True),
    ("%%capture output\nimport torch\nx = 1", True),
    ("%%time\nfor i in range(3):\n    x = i", True),
    ("%%time\ndef f(:\n    pass", False),  # the magic compiles its body: broken
    ("%%timeit -n 3\n  x = 1\n  y = 2", True),  # the body is a cell of its own: its indent removed
    ('print "hello"', False),  # Python 2
    ("model = Sequential([\n    Dense(10),\n    # TODO\n", False),  # exercise blank
    ("x = ___", True),
    ("s = 'unterminated", False),
    ("x = (1,", False),  # a bracket never leaks into the next cell
    ('"""a docstring that the next cell closes', False),
    ("await asyncio.sleep(0)", True),  # IPython's autoawait
    ("return 1", False),
    ("x = 5 % 3\ny = '%d' % 3\nz = x != y", True),
    ("if True:\n    %time f()\nelse:\n    y = 1", True),
    (">>> from diffusers import DiffusionPipeline\n\n >>> pipe = DiffusionPipeline()", True),  # pasted prompts
    ("In [1]: x = 1\n   ...: y = x", True),
    ('class Stub:\n    ...\ndef f():\n    """\n    >>> f()\n    """', True),  # a docstring's doctest is no prompt
    ("x = y[..., 0]\n>>> z = 1", True),
    ("%matplotlib inline\nfrom __future__ import print_function", False),  # the magic is a statement first
]


@pytest.mark.parametrize("cell, accepted", SEEN, ids=range(len(SEEN)))
def test_a_seen_cell_gets_ipythons_verdict(cell, accepted):
    assert ipython_accepts(cell) == accepted or (accepted and is_automagic(cell, MAGICS))
    assert actlint_accepts(cell) == accepted


LINES = [
    "x = 1", "import torch", "y = f(x)", "print('%d' % 3)", "z = x != y", "pass", "",
    "# a comment", "% (a, b)", "!= b", "!ls -la", "!!ls", "%time f()", "%matplotlib inline", "%%time",
    "%%bash", "files = !ls", "t = %timeit -o f()", "obj?", "obj.attr??", "?obj", "print(x)?",
    "pip install torch", "cd data", "ls", "f(", ")", "[1,", "2]", "'''", "s = '''", '"', "x = \\",
    "if x:", "    y = 2", "    !echo hi", "    %time g()", "def f(:", "print 'hi'", "for i in r:",
    "  x = 1", "\tx = 1", "return 1", "await g()", "/f x", ",f a b", "x = 'a' \\", "  + 'b'",
]


@st.composite
def cells(draw):
    lines = draw(st.lists(st.sampled_from(LINES), min_size=1, max_size=8))
    indent = draw(st.sampled_from(["", "", " ", "    ", "\t"]))
    lead = draw(st.sampled_from(["", "", "\n", "  \n"]))
    return lead + "\n".join(indent + line if line else line for line in lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=400)
@given(cells())
def test_generated_cells_get_ipythons_verdict(cell):
    ours, theirs = actlint_accepts(cell), ipython_accepts(cell)
    assert ours == theirs or (ours and is_automagic(cell, MAGICS)), (cell, theirs, ours)


@settings(max_examples=200)
@given(cells())
def test_generated_cells_keep_their_rows(cell):
    lines = notebooks.split_lines(cell)
    code, margins, _ = notebooks.read_cell(lines)
    assert len(code) == len(margins) == len(lines)


CORPUS = Path(os.environ.get("ACTLINT_NOTEBOOK_CORPUS", "/work/corpus"))


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="no folder of real notebooks here")
def test_real_notebooks_get_ipythons_verdict(capsys):
    assert main([CORPUS]) == 0, capsys.readouterr().out[-5000:]


# -- a broken cell blinds nothing ------------------------------------------------------------------


def notebook(*sources) -> str:
    cells = [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in sources]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


HEAD = "from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(1, activation='softmax')])\n"
COMPILE = "model.compile(optimizer='adam', loss='binary_crossentropy')\n"


def test_a_broken_cell_gets_one_act001_and_the_other_cells_are_linted(tmp_path):
    path = tmp_path / "exercise.ipynb"
    path.write_text(notebook(HEAD, "def preprocess(x):\n    return # TODO: your code\n    x = (\n", 'print "done"', COMPILE))
    results = sorted((r.code, r.location.cell, r.location.row, r.message) for r in lint_paths([str(path)]).results)
    assert [r[:3] for r in results] == [("ACT001", 2, 3), ("ACT001", 3, 1), ("ACT201", 1, 2)]
    assert results[0][3].startswith("cell 2: syntax error: ") and results[1][3].startswith("cell 3: syntax error: ")


def test_a_broken_cell_in_a_notebook_the_prefilter_passes_over_is_left_to_python(tmp_path):
    path = tmp_path / "intro.ipynb"
    path.write_text(notebook("x = 1", 'print "hello"'))
    assert lint_paths([str(path)]).results == []
    path.write_text(notebook("import torch\nloss_fn = torch.nn.CrossEntropyLoss()", 'print "hello"'))
    assert [(r.code, r.location.cell) for r in lint_paths([str(path)]).results] == [("ACT001", 2)]


def test_a_bracket_left_open_does_not_leak_into_the_next_cell(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(HEAD, "x = [1,\n", "]\n" + COMPILE))
    results = sorted((r.code, r.location.cell) for r in lint_paths([str(path)]).results)
    assert results == [("ACT001", 2), ("ACT001", 3), ("ACT201", 1)]


def test_a_notebook_with_ipython_syntax_everywhere_is_linted(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook("pip install tensorflow", "%%bash\nls $HOME", "%%time\n" + HEAD,
                             'for step in range(3):\n    print("step %d"\n          % step)\n    !echo $step',
                             "history = model.fit?", COMPILE))
    assert [(r.code, r.location.cell, r.location.row) for r in lint_paths([str(path)]).results] == [("ACT201", 3, 3)]


def test_a_finding_in_an_indented_cell_has_its_own_columns(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook("".join("   " + line + "\n" for line in HEAD.splitlines()), COMPILE))
    (result,) = lint_paths([str(path)]).results
    line = HEAD.splitlines()[1]
    assert (result.location.cell, result.location.row, result.location.column) == (1, 2, 3 + line.index("keras.layers.Dense") + 1)


def test_cell_magics_nested_without_bound_are_left_out_without_recursion(tmp_path):
    path = tmp_path / "deep.ipynb"
    path.write_text(notebook("%%time\n" * 5000 + "x = (\n", HEAD + COMPILE))
    assert [(r.code, r.location.cell) for r in lint_paths([str(path)]).results] == [("ACT201", 2)]
    assert notebooks.mask_lines(["%%time"] * 3000 + ["x = 1"])[-1] == "#"
