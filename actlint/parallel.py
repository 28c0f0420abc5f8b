"""Lint many files: the prefilter and cache hits first (shared with forked processes on large runs),
the rest serially or on a process pool.

Small runs (a pre-commit hook on a few files) stay in this process: a pool costs more to
start than it saves. Each worker keeps one parse Session for all the files it lints.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import Optional

from actlint.engine import (
    FileReport, Session, assigns_loss, cacheable, lint_source, names_a_framework, names_a_rule, narrow,
)

SERIAL_BELOW = 24  # files to parse: under this, no pool
SCREEN_FROM = 200  # files to read: from this many, reading, prefilter and cache look-ups are shared by forks
_session: Optional[Session] = None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def screen(items: list, jobs: int, cache=None) -> tuple[dict, dict]:
    """Read (as `runner.read_file` reads) and prefilter the (path, size limit) items of a large run,
    and look them up in the cache, on `jobs` processes: this process and jobs - 1 forked children, each
    with an equal share. That is most of a run over a tree without ML code, and all of a warm one.

    Returns ({path: bytes or an ACT0xx Result}, {path: FileReport settled here}): a file the prefilter
    drops comes back as b"" with an empty report, a cache hit with its report (and its bytes only when
    it has results, for showing and suppressions). Small runs, and platforms without fork (spawned
    workers would import actlint again, slower than reading), get ({}, {}) and read files themselves."""
    if jobs <= 1 or len(items) < SCREEN_FROM or not _can_fork():
        return {}, {}
    contents, reports = {}, {}
    for part in _forked_map(lambda share: _screen(share, cache), [items[i::jobs] for i in range(jobs)]):
        for path, data, report in part:
            contents[path] = data
            if report is not None:
                reports[path] = report
    return contents, reports


def _screen(items: list, cache) -> list:
    from actlint.runner import read_file

    screened = []
    for path, limit in items:
        data, report = read_file(path, limit), None
        if isinstance(data, bytes):
            report, _ = _settled(path, data, cache)
            if report is not None:
                data = data if report.results else b""
        screened.append((path, data, report))
    return screened


def _settled(path: str, data: bytes, cache) -> tuple:
    """(a FileReport when the file needs no parse, else None; its cache key or None).

    The prefilter (engine.worth_parsing) in its stages, with the cache look-up between them: a file
    without a framework is dropped uncached; a framework file is looked up before the second stage (a
    scan for every token a rule looks at: ~50 ms over the keras tree), and remembered as clean when
    that stage drops it, so a warm run does not scan it again."""
    text = narrow(data)
    framework = names_a_framework(text)
    if not framework and not assigns_loss(text):
        return FileReport(path), None
    key = cache.key(path, data) if cache is not None else None
    if key is not None and (hit := cache.get(key)) is not None:
        return FileReport(path, hit), key
    if framework and not names_a_rule(text):
        if key is not None:
            cache.put(key, [], {})
        return FileReport(path), key
    return None, key


def _can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform.startswith("linux")  # fork is unsafe on macOS


def _forked_map(function, parts: list) -> list:
    """[function(part) for part in parts], parts[1:] each in a forked child, parts[0] here meanwhile.
    A child that fails (killed, out of memory) has its part done here instead."""
    import pickle

    children = []
    for part in parts[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: send the answer and leave without any of the parent's clean-up
            status = 1
            try:
                os.close(read)
                with os.fdopen(write, "wb") as out:
                    pickle.dump(function(part), out, pickle.HIGHEST_PROTOCOL)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        children.append((pid, read, part))
    done = [function(parts[0])]
    for pid, read, part in children:
        with os.fdopen(read, "rb") as answer:
            try:
                done.append(pickle.load(answer))
            except Exception:  # a truncated or empty answer: the child died
                done.append(function(part))
        os.waitpid(pid, 0)
    return done


def lint_many(items: list, jobs: int, cache=None, session: Optional[Session] = None, done=None) -> dict:
    """{path: FileReport} for (path, data) items; cache hits are not parsed at all.

    `done(path)` is called as each file is finished, for a progress line."""
    reports, todo, keys = {}, [], {}
    for path, data in items:
        report, keys[path] = _settled(path, data, cache)
        if report is None:
            todo.append((path, data))
            continue
        reports[path] = report
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
