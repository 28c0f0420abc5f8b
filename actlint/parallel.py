"""Lint many files: cache hits first, the rest serially or on a process pool.

Small runs (a pre-commit hook on a few files) stay in this process: a pool costs more to
start than it saves. Each worker keeps one parse Session for all the files it lints.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Optional

from actlint.engine import FileReport, Session, cacheable, lint_source, worth_parsing

SERIAL_BELOW = 24  # files to parse: under this, no pool
SCREEN_FROM = 500  # files to read: from this many, reading and prefiltering run on the pool too
_session: Optional[Session] = None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def screen(items: list, jobs: int) -> dict:
    """{path: bytes or an ACT0xx Result} for (path, size limit) items of a large run, read (as
    `runner.read_file` reads them) and prefiltered on `jobs` forked processes: reading and the byte
    prefilter are most of a run over a tree without ML code. A file the prefilter drops comes back
    as b"": linting it finds nothing either way. Small runs, or platforms that cannot fork (spawned
    workers would import actlint again, slower than reading), get {} and read the files themselves."""
    if jobs <= 1 or len(items) < SCREEN_FROM:
        return {}
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        return {}
    from concurrent.futures import ProcessPoolExecutor

    groups = [items[i::jobs * 4] for i in range(jobs * 4)]
    found = {}
    with ProcessPoolExecutor(jobs) as pool:
        for screened in pool.map(_screen, groups):
            found.update(screened)
    return found


def _screen(items: list) -> list:
    from actlint.runner import read_file

    screened = []
    for path, limit in items:
        data = read_file(path, limit)
        screened.append((path, data if not isinstance(data, bytes) or worth_parsing(data) else b""))
    return screened


def lint_many(items: list, jobs: int, cache=None, session: Optional[Session] = None, done=None) -> dict:
    """{path: FileReport} for (path, data) items; cache hits are not parsed at all.

    `done(path)` is called as each file is finished, for a progress line."""
    reports, todo, keys = {}, [], {}
    for path, data in items:
        if not worth_parsing(data):
            reports[path] = FileReport(path)
        elif cache is not None and (hit := cache.get(keys.setdefault(path, cache.key(path, data)))) is not None:
            reports[path] = FileReport(path, hit, True)
        else:
            todo.append((path, data))
            continue
        done and done(path)
    for report in _lint(todo, jobs, session):
        reports[report.path] = report
        if cache is not None and cacheable(report.results):
            cache.put(keys[report.path], report.results, report.deps)
        done and done(report.path)
    return reports


def _lint(todo: list, jobs: int, session: Optional[Session]):
    if jobs <= 1 or len(todo) < SERIAL_BELOW:
        session = session or Session()
        yield from (lint_source(path, data, session) for path, data in todo)
        return
    from concurrent.futures import ProcessPoolExecutor  # ~15 ms of imports a one-file run does not need

    chunk = max(1, min(32, len(todo) // (jobs * 8)))
    with ProcessPoolExecutor(jobs) as pool:
        yield from pool.map(_worker, todo, chunksize=chunk)


def _worker(item) -> FileReport:
    global _session
    if _session is None:
        _session = Session()
    report = lint_source(*item, _session)
    report.results = [replace(r, fix_plan=None) for r in report.results]  # CST nodes stay in the worker
    return report
