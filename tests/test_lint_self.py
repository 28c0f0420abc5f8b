"""actlint's own code passes ruff with the project's configuration ([tool.ruff] in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_passes_on_actlint_and_its_tests():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "actlint", "tests"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
