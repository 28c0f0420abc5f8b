"""A depth budget that does not depend on the caller's stack.

libcst's passes (parse, metadata, positions, transformers, code generation) recurse two or three frames
per level of nesting. Run below a deep caller (a test runner, a recursive helper that calls `main()`),
they overflowed on files the command line analyzed. `with_frames` gives them a fixed number of frames
instead, counted from where they start, so a file gets the same findings, or the same RecursionError
(which the engine reports as ACT004), whoever calls. Imported only once a file is parsed (libcst
imports threading anyway).
"""

from __future__ import annotations

import sys
import threading

# For a file's analysis: about 400 levels of `a.b.b...`. Under CPython's default limit (1000) by more
# than the depth of the command line (~15) or of a test runner (~40-100), which then run it in place.
FRAMES = 900
FIX_FRAMES = 2 * FRAMES  # the fixer's transformer takes ~1.5x the analysis's frames per level
STACK_SIZE = 64 << 20  # bytes, of a thread of its own: 8x a main thread's (only the pages used are memory)

_lock = threading.Lock()  # the recursion limit and the stack size are the process's: one budget at a time
_local = threading.local()


def with_frames(function, *args, frames: int = FRAMES):
    """function(*args) with `frames` frames of recursion left: in place on the main thread when its
    recursion limit allows that many more, else on a thread of its own (a fresh thread costs ~1 ms of
    libcst's parser warming its caches, so a shallow caller does not pay it). Inside, in place."""
    if getattr(_local, "budgeted", False):
        return function(*args)
    depth = _depth(sys._getframe())
    with _lock:
        if threading.current_thread() is threading.main_thread() and depth + frames <= sys.getrecursionlimit():
            return _limited(frames, function, args)
        return _on_a_thread(frames, depth, function, args)


def _on_a_thread(frames: int, caller_depth: int, function, args):
    """The caller runs a few frames of Python while it waits: a caller deeper than `frames` (it raised
    the limit) keeps its depth as the limit."""
    outcome = []

    def run():
        try:
            outcome.append((True, _limited(frames, function, args, floor=caller_depth + 50)))
        except BaseException as error:
            outcome.append((False, error))

    size = threading.stack_size(STACK_SIZE)
    try:
        thread = threading.Thread(target=run, name="actlint-depth", daemon=True)
        thread.start()
    finally:
        threading.stack_size(size)
    thread.join()
    done, value = outcome[0]
    if done:
        return value
    raise value


def _limited(frames: int, function, args, floor: int = 0):
    """function(*args) with the recursion limit `frames` frames above this one (the limit is the
    interpreter's: restored after)."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(_depth(sys._getframe()) + frames, floor))
    _local.budgeted = True
    try:
        return function(*args)
    finally:
        _local.budgeted = False
        sys.setrecursionlimit(before)


def _depth(frame) -> int:
    """Python frames: calls through C code the caller is in the middle of (a few) count towards the limit
    too, and so take a few frames off a budget used in place."""
    depth = 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def raised_in(error: BaseException, kinds):
    """The first exception of `kinds` in the error's cause chain (the error itself, then what it was
    raised from or while handling: libcst's code generation re-raises a RecursionError as a KeyError),
    or None."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kinds):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
