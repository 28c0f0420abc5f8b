"""Time actlint side by side with its anchors, as ratios (issue 8).

    python bench/bench.py                      # every corpus found, 5 interleaved runs
    python bench/bench.py --corpus keras --runs 3 --jobs 2
    python bench/bench.py --startup-only --runs 7   # one small file vs `import libcst` alone

Anchors, each run on the same files in the same run, interleaved, medians reported:
  parse-floor   libcst parse_module of the files actlint's prefilter keeps, on --jobs processes
  grep          two-stage `grep -rl` (an ML token, then a loss token): the floor on non-ML trees
  torchfix, fixit, ruff   peers and the native-speed reference, when installed (PATH or --tools)
  import-libcst `python -c "import libcst"`: the floor for a one-file pre-commit run
  parse-largest libcst parse of the largest file kept: the floor for a worker's peak memory
Each command's wall time, CPU time (user+sys of the process tree: steadier than wall time when
others load the machine) and peak RSS (the largest single process) are reported. Python's bytecode
cache is on for every command (PYTHONDONTWRITEBYTECODE would recompile actlint on every run, ~0.1 s;
the .pyc files go to a temporary PYTHONPYCACHEPREFIX, not into the checkout).
Corpora: installed keras and torch source trees, the stdlib (no ML), the fixtures, and a generated
tree of N realistic training scripts (bench/generate.py) to show how cost grows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ML = "keras|tensorflow|torch"  # actlint.prefilter.FRAMEWORK_TOKENS
LOSS = r"(\bloss|criterion)\w*\s*="


def site_package(name: str):
    for base in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        path = Path(base) / name
        if path.is_dir():
            return path
    return None


def corpora(names, tmp: Path) -> dict:
    from generate import generate_tree  # bench/generate.py

    found = {}
    for name in names:
        if name in ("keras", "torch", "tensorflow"):
            path = site_package(name)
        elif name == "stdlib":  # the standard library alone: no ML code, ~30 MB
            path = tmp / "stdlib"
            shutil.copytree(sysconfig.get_paths()["stdlib"], path, symlinks=True,
                            ignore=shutil.ignore_patterns("site-packages", "__pycache__"))
        elif name == "fixtures":
            path = REPO / "fixtures"
        elif name.startswith("generated-"):
            path = generate_tree(tmp / name, int(name.split("-", 1)[1]))
        else:
            path = Path(name)
        if path is not None and path.is_dir():
            found[name] = path
    return found


def size_mb(path: Path) -> tuple[int, float]:
    files = [p for p in path.rglob("*.py") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files) / 1e6


def commands(corpus: Path, jobs: int, tools: dict, actlint: list[str]) -> dict:
    grep = f"grep -rlE --include='*.py' '{ML}|{LOSS}' {corpus} | xargs -r grep -lE 'loss|Loss|criterion' > /dev/null"
    cmds = {
        "actlint": actlint + [str(corpus), "--exit-zero", "--output-format", "json", "--jobs", str(jobs), "--no-cache"],
        "actlint-warm": actlint + [str(corpus), "--exit-zero", "--output-format", "json", "--jobs", str(jobs)],
        "parse-floor": [sys.executable, str(HERE / "parse_only.py"), "--jobs", str(jobs), str(corpus)],
        "parse-largest": [sys.executable, str(HERE / "parse_only.py"), "--largest", str(corpus)],
        "grep": ["bash", "-c", grep],
    }
    if not any(corpus.rglob("*.py")) or _is_ml_free(corpus):
        tools = {k: v for k, v in tools.items() if k == "ruff"}  # peers take minutes on 30 MB of non-ML code
    if "torchfix" in tools:
        cmds["torchfix"] = [tools["torchfix"], "--jobs", str(jobs), str(corpus)]
    if "fixit" in tools:
        cmds["fixit"] = [tools["fixit"], "lint", str(corpus)]
    if "ruff" in tools:
        cmds["ruff"] = [tools["ruff"], "check", "--no-cache", "--exit-zero", "--quiet", str(corpus)]
    return cmds


def _is_ml_free(corpus: Path) -> bool:
    found = subprocess.run(["grep", "-rlE", "--include=*.py", ML, str(corpus)], capture_output=True, text=True)
    return not found.stdout.strip()


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd, before=None) -> tuple:
    """(wall s, CPU s of the process tree, peak RSS MB of its largest process)."""
    before and subprocess.run(before, shell=True)
    start = time.perf_counter()
    shell = isinstance(cmd, str)
    process = subprocess.Popen(cmd, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
                               env=ENV)
    _, _, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def measure(cmds: dict, runs: int, before: dict = None) -> dict:
    """{name: (median wall, median CPU, max peak RSS)} over interleaved runs."""
    before = before or {}
    times = {name: [] for name in cmds}
    for name, cmd in cmds.items():  # fill actlint's cache and every .pyc once; peers are not warmed
        if name not in ("torchfix", "fixit"):
            timed(cmd, before.get(name))
    for _ in range(runs):
        for name, cmd in cmds.items():  # interleaved: machine noise hits every tool alike
            times[name].append(timed(cmd, before.get(name)))
    return {name: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts), max(t[2] for t in ts))
            for name, ts in times.items()}


def find_tools(extra: list[str]) -> dict:
    tools = {}
    for name in ("torchfix", "fixit", "ruff"):
        for folder in extra + [None]:
            found = shutil.which(name, path=folder) if folder else shutil.which(name)
            if found:
                tools[name] = found
                break
    return tools


def startup(actlint: list[str], runs: int, tmp: Path) -> dict:
    """One small file with two findings, as pre-commit runs it: with the cache on and the file just
    edited (a new comment each run, so its result is never cached), and cold with --no-cache; and one
    clean ML file (no findings, nothing to verify)."""
    project = tmp / "precommit"
    project.mkdir()
    (project / "pyproject.toml").write_text("")
    shutil.copy(REPO / "examples" / "train_mnist.py", project / "train.py")
    edited = project / "train.py"
    clean = REPO / "fixtures" / "keras" / "ACT101_trailing_softmax_layer.fixed.py"
    cmds = {
        "actlint one edited file (cache on)": actlint + [str(edited), "--exit-zero"],
        "actlint one file --no-cache": actlint + [str(edited), "--exit-zero", "--no-cache"],
        "actlint one clean file --no-cache": actlint + [str(clean), "--exit-zero", "--no-cache"],
        "python -c 'import libcst'": [sys.executable, "-c", "import libcst"],
    }
    edit = f"echo '# edited' >> {edited}"
    return measure(cmds, runs, {"actlint one edited file (cache on)": edit})


def report(rows: list, start: dict) -> str:
    lines = ["| corpus | files | MB | tool | wall s | × actlint | CPU s | × actlint | peak RSS MB |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for corpus, files, mb, medians in rows:
        wall, cpu, _ = medians["actlint"]
        for tool, (w, c, rss) in sorted(medians.items(), key=lambda kv: kv[1][0]):
            lines.append(f"| {corpus} | {files} | {mb:.1f} | {tool} | {w:.2f} | {w / wall:.2f} | {c:.2f} | "
                         f"{c / cpu:.2f} | {rss:.0f} |")
    if start:
        wall, cpu, _ = start["python -c 'import libcst'"]
        lines += ["", "| one small file | wall s | × import libcst | CPU s | × import libcst | peak RSS MB |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {name} | {w:.3f} | {w / wall:.2f} | {c:.3f} | {c / cpu:.2f} | {rss:.0f} |"
                  for name, (w, c, rss) in start.items()]
    lines += ["", f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", action="append",
                        help="keras, torch, tensorflow, stdlib, fixtures, generated-N, or a folder")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--tools", action="append", default=[], help="a folder holding torchfix/fixit/ruff")
    parser.add_argument("--no-startup", action="store_true", help="skip the one-small-file runs")
    parser.add_argument("--startup-only", action="store_true", help="only the one-small-file runs")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    actlint = [sys.executable, "-m", "actlint"]
    names = [] if args.startup_only else args.corpus or ["fixtures", "keras", "stdlib", "generated-100", "generated-1000"]
    tools = find_tools(args.tools)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        for name, path in corpora(names, Path(tmp)).items():
            files, mb = size_mb(path)
            print(f"# {name}: {files} files, {mb:.1f} MB", file=sys.stderr)
            rows.append((name, files, mb, measure(commands(path, args.jobs, tools, actlint), args.runs)))
            shutil.rmtree(path / ".actlint_cache", ignore_errors=True)
        start = startup(actlint, args.runs, Path(tmp)) if not args.no_startup else {}
    print(report(rows, start))


if __name__ == "__main__":
    main()
