"""Real-world precision: lint snapshots of public repositories and compare with written verdicts.

    python bench/realworld.py /work/corpus                 # every repository in the verdicts file
    python bench/realworld.py /work/corpus --repo pytorch+examples --show new

The corpus folder holds one checkout per repository, named `<owner>+<name>` (see bench/README.md
for how to get the pinned snapshots). Each repository is linted with `actlint --isolated --no-cache
--max-file-size 0 --output-format json`, and every rule finding is matched with a verdict in
`bench/realworld_verdicts.toml` by (repository, path, code, anchor, nth): the anchor is the reported
line's text, stripped (a notebook's line is the line in its cell), so a verdict survives edits that
only move lines; nth counts findings with the same key left to right. Engine diagnostics (ACT0xx:
syntax errors of Python 2 code, unreadable files) are counted apart, not judged.

Printed per repository and in total: findings, judged true, judged false, precision (true / judged),
new unjudged findings, and known true findings lost (a true verdict no finding matched). Stdlib and
actlint only; not part of CI (it needs the snapshots). Exit status 1 when a true finding is lost.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    data = tomllib.loads(Path(args.verdicts).read_text(encoding="utf-8"))
    repos = [r for r in data.get("repo", []) if not args.repo or r["name"] in args.repo]
    verdicts = data.get("verdict", [])
    rows, total, lost_all, new_all, false_all = [], Counter(), [], [], []
    for repo in repos:
        folder = Path(args.corpus) / repo["name"]
        if not folder.is_dir():
            print(f"{repo['name']}: missing from {args.corpus} (see bench/README.md)", file=sys.stderr)
            continue
        findings, engine = _split(_saved(args.results), folder) if args.results else _lint(folder, args.jobs)
        known = {_key(v): v for v in verdicts if v["repo"] == repo["name"]}
        seen = Counter()
        keys = [_finding_key(repo["name"], folder, f, seen) for f in findings]
        counts = Counter(engine=engine, findings=len(keys))
        for key, f in zip(keys, findings):
            verdict = known.get(key)
            if verdict is None:
                counts["new"] += 1
                new_all.append((key, f))
            elif verdict["verdict"] == "true":
                counts["true"] += 1
            else:
                counts["false"] += 1
                false_all.append((key, verdict))
        found = set(keys)
        for key, verdict in known.items():
            if verdict["verdict"] == "true" and key not in found:
                counts["lost"] += 1
                lost_all.append((key, verdict))
        rows.append((repo["name"], counts))
        total.update(counts)
    _table(rows, total)
    _details(args.show, new_all, false_all, lost_all)
    return 1 if lost_all else 0


def _parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("corpus", help="folder with one <owner>+<name> checkout per repository")
    p.add_argument("--verdicts", default=str(HERE / "realworld_verdicts.toml"))
    p.add_argument("--repo", action="append", help="only this repository (repeatable)")
    p.add_argument("--jobs", default="2")
    p.add_argument("--results", help="judge this saved `actlint --output-format json` run over the corpus "
                   "folder instead of linting (the same options as above)")
    p.add_argument("--show", action="append", default=[], choices=["new", "false", "lost"],
                   help="list these findings after the table (repeatable)")
    return p


def _lint(folder: Path, jobs: str):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "actlint", "--isolated", "--no-cache", "--max-file-size", "0",
           "--output-format", "json", "--exit-zero", "-j", jobs, str(folder)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder).stdout
    return _split(json.loads(out or "[]"), folder)


_SAVED: dict = {}


def _saved(path: str) -> list:
    if path not in _SAVED:
        _SAVED[path] = json.loads(Path(path).read_text(encoding="utf-8"))
    return _SAVED[path]


def _split(results: list, folder: Path):
    """The rule findings in `folder` (sorted), and the number of engine diagnostics there."""
    inside = str(folder.resolve()) + os.sep
    results = [f for f in results if str(Path(f["filename"]).resolve()).startswith(inside)]
    rules = [f for f in results if not f["code"].startswith("ACT0")]
    rules.sort(key=lambda f: (f["filename"], f.get("cell") or 0, f["location"]["row"], f["location"]["column"]))
    return rules, len(results) - len(rules)


def _key(v: dict) -> tuple:
    return (v["repo"], v["path"], v["code"], v["anchor"], v.get("nth", 1))


_SOURCES: dict = {}


def _finding_key(repo: str, folder: Path, f: dict, seen: Counter) -> tuple:
    path = Path(f["filename"]).resolve().relative_to(folder.resolve()).as_posix()
    anchor = _line(folder / path, f.get("cell"), f["location"]["row"]).strip()
    base = (repo, path, f["code"], anchor)
    seen[base] += 1
    return base + (seen[base],)


def _line(path: Path, cell, row: int) -> str:
    key = (path, cell)
    if key not in _SOURCES:
        _SOURCES[key] = _source_lines(path, cell)
    lines = _SOURCES[key]
    return lines[row - 1] if 0 < row <= len(lines) else ""


def _source_lines(path: Path, cell) -> list:
    text = path.read_text(encoding="utf-8", errors="replace")
    if cell is None:
        return text.splitlines()
    cells = json.loads(text).get("cells", [])
    source = cells[cell - 1].get("source", "") if 0 < cell <= len(cells) else ""
    return ("".join(source) if isinstance(source, list) else source).splitlines()


def _table(rows, total) -> None:
    head = f"{'repository':52} {'found':>5} {'true':>5} {'false':>5} {'prec':>6} {'new':>4} {'lost':>4} {'ACT0xx':>6}"
    print(head)
    print("-" * len(head))
    for name, c in rows + [("TOTAL", total)]:
        judged = c["true"] + c["false"]
        prec = f"{c['true'] / judged:.3f}" if judged else "-"
        print(f"{name:52} {c['findings']:5} {c['true']:5} {c['false']:5} {prec:>6} {c['new']:4} {c['lost']:4} {c['engine']:6}")


def _details(show, new_all, false_all, lost_all) -> None:
    if "new" in show:
        print("\nnew (unjudged):")
        for key, f in new_all:
            where = f"cell {f['cell']}:" if f.get("cell") else ""
            print(f"  {key[1]}:{where}{f['location']['row']} {key[2]} [{key[3]}] #{key[4]}: {f['message']}")
    if "false" in show:
        print("\njudged false alarms:")
        for key, v in false_all:
            print(f"  {key[1]} {key[2]} [{key[3]}]: {v['why']}")
    if "lost" in show or lost_all:
        print("\nknown true findings lost:")
        for key, v in lost_all:
            print(f"  {key[1]} {key[2]} [{key[3]}]: {v['why']}")


if __name__ == "__main__":
    sys.exit(main())
