"""Review of round 143: defects confirmed in the day's merged changes.

* ``linspace``/``logspace`` with ``steps=0`` and an integer dtype: PyTorch 2.13 returns an empty tensor whatever the
  ends; glassgrad wrote the ends into the dtype first and refused one outside its range (a regression of
  ``creation._points``). Oracle: PyTorch 2.13.
* The Code view's time-limit clock waited for the child's "started" byte with ``select.select``, which raises
  ValueError for a descriptor past 1023 (a busy server's): the watcher thread died, so the run stayed "running" for
  ever, without a time limit, and held one of the MAX_RUNNING places. Oracle: the run's own state (a program that
  loops for ever must end "timed out").
"""

from __future__ import annotations

import os
import resource
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.playground import code_runner
from glassgrad.playground.code_runner import CodeRunner

INTEGER_DTYPES = ("uint8", "int8", "int16", "int32", "int64")


@settings(max_examples=60, deadline=None)
@given(start=st.floats(-1e6, 1e6), end=st.floats(-1e6, 1e6), dtype=st.sampled_from(INTEGER_DTYPES),
       log=st.booleans())
def test_no_points_of_an_integer_dtype_read_no_end(torch, start, end, dtype, log):
    """``steps=0``: PyTorch's empty tensor of the dtype, even where an end does not fit it (-3 into uint8)."""
    name = "logspace" if log else "linspace"
    expected = getattr(torch, name)(start, end, 0, dtype=getattr(torch, dtype))
    got = getattr(gg, name)(start, end, 0, dtype=getattr(gg, dtype))
    assert got.shape == tuple(expected.shape) == (0,)
    assert got.numpy().dtype == expected.numpy().dtype


@pytest.mark.parametrize("name", ["linspace", "logspace"])
def test_no_points_with_ends_outside_uint8(torch, name):
    expected = getattr(torch, name)(-3, 300, 0, dtype=torch.uint8)
    got = getattr(gg, name)(-3, 300, 0, dtype=gg.uint8)
    assert got.numpy().dtype == np.uint8 and got.shape == tuple(expected.shape) == (0,)


@pytest.mark.skipif(code_runner.UNSUPPORTED is not None, reason="the Code view needs Linux or macOS")
def test_time_limit_holds_with_descriptors_past_1023():
    """A server holding over a thousand open files still times a run out (select() refused such descriptors)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1400
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"cannot open {wanted} files here (hard limit {hard})")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    null = os.open(os.devnull, os.O_RDONLY)
    held = [null]
    runner = CodeRunner(time_limit=1.0, memory_mb=1024)
    try:
        while held[-1] < 1100:  # the run's pipes are numbered past FD_SETSIZE
            held.append(os.dup(null))
        run = runner.get(runner.start("while True:\n    pass\n"))
        assert run.started_pipe > 1023
        assert run.done.wait(30), "the run never ended: its time limit was not enforced"
        assert run.state == "timed out", run.message
    finally:
        runner.close()
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("weighted", [False, True])
def test_a_float16_nll_loss_mean_over_more_rows_than_float16_counts_warns_nothing(torch, weighted):
    """70,000 rows: the float16 count is inf in both libraries, so the mean is 0 (a finite total ÷ inf) or NaN; NumPy's
    'overflow encountered in reduce' RuntimeWarning reached the learner (PyTorch says nothing)."""
    scores = np.full((70000, 3), -0.001, np.float16)
    labels = np.zeros(70000, np.int64)
    weight = np.ones(3, np.float16) if weighted else None

    def loss(library):
        kwargs = {} if weight is None else {"weight": library.tensor(weight)}
        return library.nn.functional.nll_loss(library.tensor(scores), library.tensor(labels), **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = loss(gg)
    np.testing.assert_array_equal(ours.numpy(), loss(torch).numpy())
