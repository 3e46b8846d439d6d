"""Run an update piece by piece, on every core that is free: the big optimizer steps.

An optimizer's rule touches each number on its own (``m ← β₁·m + (1 − β₁)·g`` for weight ``i``
needs nothing from weight ``j``), so a large parameter can be cut into pieces and the pieces
updated in any order, by any thread, with the very same numbers. NumPy lets go of Python's
lock inside each of its array loops, so two threads updating two pieces run on two cores.

The pieces are *shared*, not split in advance: the calling thread and the helpers each take the
next piece not yet taken until none is left. On a machine whose other cores are busy a helper
may be scheduled late, or not before the caller has taken every piece; the caller then waits
only for a piece a helper has already begun, never for a helper to wake up.

>>> done = []
>>> in_pieces(done.append, 5)
>>> sorted(done)
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

import contextvars
import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..cores import usable_cores

HELPERS = max(0, min(usable_cores(), 4) - 1)
"""Threads besides the caller's that update pieces: one per other core, at most 3."""

_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def in_pieces(update: Callable[[int], None], count: int, helpers: int | None = None) -> None:
    """Call ``update(number)`` once for each ``number`` in ``range(count)``, on this thread and ``helpers`` others.

    ``update`` must touch only its own piece. The helpers run in a copy of the caller's context
    (NumPy's ``errstate`` holds for them too). An exception raised in any piece is raised here,
    after every piece already begun has ended.
    """
    helpers = HELPERS if helpers is None else helpers
    if helpers <= 0 or count <= 1:
        for number in range(count):
            update(number)
        return
    shared = _SharedPieces(update, count)
    try:
        pool = _helpers(helpers)
        for _ in range(min(helpers, count - 1)):
            pool.submit(contextvars.copy_context().run, shared.take_pieces)
    except RuntimeError:  # no thread could start (a memory cap, the interpreter ending): this thread takes them all
        pass
    shared.take_pieces()
    shared.wait()


class _SharedPieces:
    """The pieces of one call: a counter every thread takes from, and what each helper is doing."""

    def __init__(self, update: Callable[[int], None], count: int) -> None:
        self.update, self.count = update, count
        self.numbers = itertools.count()  # next() on it is atomic: each number is taken once
        self.lock = threading.Lock()
        self.busy = 0  # threads (the caller's too) that have begun taking pieces and not ended
        self.idle = threading.Condition(self.lock)
        self.error: BaseException | None = None

    def take_pieces(self) -> None:
        """Update the next piece nobody has taken, until none is left (or a piece failed)."""
        with self.lock:
            self.busy += 1
        try:
            for number in iter(self.numbers.__next__, None):
                if number >= self.count or self.error is not None:
                    break
                self.update(number)
        except BaseException as error:  # raised again by the caller, in wait()
            self.error = error
        finally:
            with self.lock:
                self.busy -= 1
                self.idle.notify_all()

    def wait(self) -> None:
        """Wait until no thread is inside a piece, then raise what a piece raised."""
        with self.lock:
            self.idle.wait_for(lambda: self.busy == 0)
        if self.error is not None:
            raise self.error


def _helpers(count: int) -> ThreadPoolExecutor:
    """The helper threads, made on first use (again in a forked child, whose copy has none running)."""
    global _pool, _pool_size
    if _pool is None or _pool_size < count:
        _pool, _pool_size = ThreadPoolExecutor(max_workers=count, thread_name_prefix="glassgrad-pieces"), count
    return _pool


def _forget_helpers() -> None:
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)
