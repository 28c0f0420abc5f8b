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

from actlint.engine import Session, cacheable, lint_source
from actlint.prefilter import screen as prefilter
from actlint.results import FileReport
from actlint.sources import read_file

SERIAL_BELOW = 24  # files to parse: under this, no pool
SCREEN_FROM = 200  # files to read: from this many, reading, prefilter and cache look-ups are shared by forks
_session: Optional[Session] = None  # a pool worker's, set by _start_worker


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def screen(items: list, jobs: int, cache=None) -> tuple[dict, dict, dict]:
    """Read (as `sources.read_file` reads) and prefilter the (path, size limit) items of a large run,
    and look them up in the cache, on `jobs` processes: this process and jobs - 1 forked children, each
    with an equal share. That is most of a run over a tree without ML code, and all of a warm one.

    Returns ({path: bytes or an ACT0xx Result}, {path: FileReport settled here}, {path: cache key or
    None of each file still to parse}): a file the prefilter drops comes back as b"" with an empty
    report, a cache hit with its report (and its bytes only when it has results, for showing and
    suppressions); `lint_many` is given the third, so it neither screens nor looks those files up again.
    Small runs, and platforms without fork (spawned workers would import actlint again, slower than
    reading), get ({}, {}, {}) and read files themselves."""
    if jobs <= 1 or len(items) < SCREEN_FROM or not _can_fork():
        return {}, {}, {}
    contents, reports, to_parse = {}, {}, {}
    for part in _forked_map(lambda share: _screen(share, cache), [items[i::jobs] for i in range(jobs)]):
        for path, data, report, key in part:
            contents[path] = data
            if report is not None:
                reports[path] = report
            elif isinstance(data, bytes):
                to_parse[path] = key
    return contents, reports, to_parse


def _screen(items: list, cache) -> list:
    screened = []
    for path, limit in items:
        data, report, key = read_file(path, limit), None, None
        if isinstance(data, bytes):
            report, key = _settled(path, data, cache)
            if report is not None:
                data = data if report.results else b""
        screened.append((path, data, report, key))
    return screened


def _settled(path: str, data: bytes, cache) -> tuple:
    """(a FileReport when the file needs no parse, else None; its cache key or None).

    The prefilter with the cache look-up between its stages: a file the first stage drops is not
    cached (that costs more than the stage); a file the second drops is remembered as clean, so a warm
    run does not scan it again."""
    looked_up = []

    def remembered():
        key = cache.key(path, data) if cache is not None else None
        looked_up.append(key)
        return cache.get(key) if key is not None else None

    verdict = prefilter(data, remembered)
    key = looked_up[0] if looked_up else None
    if verdict is True:
        return None, key
    if verdict is False and key is not None:
        cache.put(key, [], {})
    return FileReport(path, [] if verdict is False else verdict), key


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


def lint_many(items: list, jobs: int, cache=None, session: Optional[Session] = None, done=None,
              screened: Optional[dict] = None) -> dict:
    """{path: FileReport} for (path, data) items; cache hits are not parsed at all. `screened` ({path:
    cache key}: `screen`'s third answer) names the files already prefiltered and looked up, to parse.

    `done(path, report)` is called as each file is finished, for a progress line."""
    reports, todo, keys = {}, [], dict(screened or {})
    for path, data in items:
        if path in keys:
            todo.append((path, data))
            continue
        report, keys[path] = _settled(path, data, cache)
        if report is None:
            todo.append((path, data))
            continue
        reports[path] = report
        done and done(path, report)
    for report in _lint(todo, jobs, session):
        reports[report.path] = report
        if keys[report.path] is not None and cacheable(report.results):
            cache.put(keys[report.path], report.results, report.deps)
        done and done(report.path, report)
    return reports


def _lint(todo: list, jobs: int, session: Optional[Session]):
    if jobs <= 1 or len(todo) < SERIAL_BELOW:
        session = session or Session()
        yield from (lint_source(path, data, session, screened=True) for path, data in todo)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor  # ~15 ms of imports a one-file run does not need

    chunk = max(1, min(32, len(todo) // (jobs * 8)))
    # The size limit for imported files: a forked worker inherits it as it is (a spawned one would need
    # it pickled, with the run's configuration: it keeps the default limit instead).
    forked = multiprocessing.get_start_method() == "fork"
    limit = session.limit if session is not None and forked else None
    with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(limit,)) as pool:
        yield from pool.map(_worker, todo, chunksize=chunk)


def _start_worker(limit) -> None:
    global _session
    _session = Session(limit=limit)


def _worker(item) -> FileReport:
    report = lint_source(*item, _session, screened=True)
    report.results = [replace(r, fix_plan=None) for r in report.results]  # CST nodes stay in the worker
    return report
