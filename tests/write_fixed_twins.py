"""Write (or refresh) the fixed twin `<name>.fixed.py` of every fixture that has a fixable finding.

    /work/venv/bin/python tests/write_fixed_twins.py

Review the diffs it makes (`git diff fixtures/`): test_fixes.py then holds the fixes to them byte for byte.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_fixes import fix_outcome, fixed_bytes, twin  # noqa: E402
from test_fixtures import projects, python_files, single_files  # noqa: E402


def write(path: Path, fixed: bytes) -> None:
    if fixed != path.read_bytes():
        twin(path).write_bytes(fixed)
        print("wrote", twin(path))
    elif twin(path).exists():
        twin(path).unlink()
        print("removed", twin(path))


def main() -> None:
    for path in single_files():
        write(path, fixed_bytes(path, unsafe=True))
    for folder in projects():
        files = python_files(folder)
        outcome = fix_outcome(files, unsafe=True)
        for path in files:
            write(path, outcome.after.get(os.path.realpath(path), path.read_bytes()))


if __name__ == "__main__":
    main()
