"""in_pieces: every piece updated exactly once, on the caller's thread and helper threads alike.

Oracles: a count of the calls per piece; an update computed in pieces by two threads against the
same rule on the whole array (bit for bit); NumPy's own error state read inside each piece.
"""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgrad.optim._pieces import in_pieces


@settings(deadline=None, max_examples=60)
@given(count=st.integers(0, 40), helpers=st.integers(0, 3))
def test_each_piece_is_updated_exactly_once(count, helpers):
    calls: Counter[int] = Counter()
    lock = threading.Lock()

    def update(number: int) -> None:
        with lock:
            calls[number] += 1

    in_pieces(update, count, helpers=helpers)
    assert calls == Counter(range(count))


@settings(deadline=None, max_examples=25)
@given(size=st.integers(1, 5000), piece=st.integers(1, 700), helpers=st.integers(1, 3), seed=st.integers(0, 99))
def test_a_rule_applied_piece_by_piece_on_threads_gives_the_whole_arrays_numbers(size, piece, helpers, seed):
    rng = np.random.default_rng(seed)
    start, grad = rng.standard_normal(size).astype(np.float32), rng.standard_normal(size).astype(np.float32)

    def run(piece: int, helpers: int) -> np.ndarray:
        weight, scratch = start.copy(), np.empty_like(start)

        def update(number: int) -> None:  # w ← w − 0.01·g / (√(g·g) + 1e-8), on one piece
            part = slice(number * piece, (number + 1) * piece)
            np.multiply(grad[part], grad[part], out=scratch[part])
            np.sqrt(scratch[part], out=scratch[part])
            scratch[part] += 1e-8
            np.divide(grad[part], scratch[part], out=scratch[part])
            scratch[part] *= 0.01
            weight[part] -= scratch[part]

        in_pieces(update, -(-size // piece), helpers=helpers)
        return weight

    np.testing.assert_array_equal(run(piece, helpers), run(size, 0))


def test_an_error_in_a_piece_reaches_the_caller_after_the_pieces_begun_have_ended():
    ended: list[int] = []

    def update(number: int) -> None:
        if number == 3:
            raise ValueError("piece 3 failed")
        ended.append(number)

    with pytest.raises(ValueError, match="piece 3 failed"):
        in_pieces(update, 50, helpers=2)
    assert 3 not in ended


def test_helpers_work_under_the_callers_numpy_error_state():
    seen: list[str] = []
    lock = threading.Lock()

    def update(number: int) -> None:
        with lock:
            seen.append(np.geterr()["over"])

    with np.errstate(over="ignore"):
        in_pieces(update, 64, helpers=2)
    assert seen == ["ignore"] * 64


def test_when_no_helper_thread_can_start_the_caller_updates_every_piece(monkeypatch):
    from glassgrad.optim import _pieces

    class NoThreads:
        def submit(self, *args):
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(_pieces, "_helpers", lambda count: NoThreads())
    done: list[int] = []
    in_pieces(done.append, 7, helpers=2)
    assert done == list(range(7))
