"""``torch.utils.benchmark`` (glassgrad.utils.benchmark): the torch.func tutorials (model ensembling, per-sample
gradients, Jacobians) time a loop against vmap with its Timer; ``import torch.utils.benchmark`` had no
counterpart.

Oracles: counting the runs a statement makes, statistics of the raw times computed here with NumPy, and
PyTorch 2.13's own ``Measurement`` printed for the same times.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassgrad.utils.benchmark import Compare, Measurement, Timer


def test_timeit_runs_the_statement_number_times_after_one_warm_up_run():
    calls = []
    measurement = Timer("calls.append(1)", globals={"calls": calls}).timeit(25)
    assert len(calls) == 26 and measurement.number_per_run == 25
    assert measurement.times == [measurement.raw_times[0] / 25]


class _Clock:
    """A clock that moves only when the timed statement ticks it: every run takes exactly 2⁻¹² s (0.24 ms), whatever
    else the machine does (a real sleep of 0.2 ms took over 1 ms under load, and the block size changed with it)."""

    def __init__(self) -> None:
        self.now = 0.0

    def tick(self) -> None:
        self.now += 2.0 ** -12

    def __call__(self) -> float:
        return self.now


def test_blocked_autorange_times_blocks_of_at_least_a_millisecond_for_min_run_time():
    blocks, clock = [], _Clock()
    measurement = Timer("clock.tick()", timer=clock, globals={"clock": clock}).blocked_autorange(
        callback=lambda number, seconds: blocks.append((number, seconds)), min_run_time=0.02)
    assert measurement.number_per_run == 10  # 1 run: 0.24 ms; 10 runs: 2.4 ms ≥ 1 ms
    assert sum(measurement.raw_times) >= 0.02 and blocks == list(zip([10] * len(blocks), measurement.raw_times))
    assert all(time == 2.0 ** -12 for time in measurement.times)


def test_adaptive_autorange_stops_once_the_spread_is_small_or_the_time_is_up():
    measurement = Timer("sum(range(50))").adaptive_autorange(threshold=10.0, min_run_time=0.005)
    assert len(measurement.times) >= 3 and measurement.iqr <= 10.0 * measurement.median
    assert len(Timer("sum(range(50))").adaptive_autorange(threshold=0.0, max_run_time=0.01).times) >= 1


@given(raw=st.lists(st.floats(1e-7, 10.0), min_size=1, max_size=12), number=st.integers(1, 1000))
def test_a_measurements_statistics_are_the_times_per_run(raw, number):
    measurement = Measurement(number, raw, "x + y")
    per_run = np.array(raw) / number
    np.testing.assert_allclose(measurement.times, per_run)
    np.testing.assert_allclose(measurement.median, np.median(per_run))
    np.testing.assert_allclose(measurement.mean, per_run.mean())
    np.testing.assert_allclose(measurement.iqr, np.subtract(*np.percentile(per_run, [75, 25])), atol=1e-18)


@pytest.mark.torch
@given(raw=st.lists(st.floats(1e-8, 50.0), min_size=1, max_size=9), number=st.integers(1, 100000))
def test_a_measurement_prints_as_pytorchs(torch, raw, number):
    from torch.utils.benchmark import Measurement as TorchMeasurement
    from torch.utils.benchmark.utils.common import TaskSpec

    theirs = repr(TorchMeasurement(number, raw, TaskSpec(stmt="vmap(f)(x)", setup="pass")))
    if "WARNING" in theirs:  # PyTorch adds a warning when the spread is large; glassgrad leaves it out
        theirs = theirs[:theirs.index("\n  WARNING")]
    assert repr(Measurement(number, raw, "vmap(f)(x)")).split("\n")[1:] == theirs.split("\n")[1:]


def test_compare_lays_out_medians_by_label_sub_label_and_description_in_one_unit():
    results = [Measurement(10, [0.1 * k * j], "f(x)", label="Add", sub_label=f"n={k}", description=f"t={j}")
               for k in (1, 2) for j in (1, 3)]
    lines = str(Compare(results)).splitlines()
    assert lines[0].startswith("[") and " Add " in lines[0]
    cells = [[cell.strip() for cell in line.split("|")] for line in lines[1:4]]
    assert cells == [["", "t=1", "t=3"], ["n=1", "10.0", "30.0"], ["n=2", "20.0", "60.0"]]
    assert lines[-1] == "Times are in milliseconds (ms)."


def test_what_pytorchs_timer_does_not_do_either_is_refused_in_one_line():
    with pytest.raises(NotImplementedError, match="Timer.repeat is not implemented"):
        Timer("pass").repeat()
    with pytest.raises(ValueError, match="Python statements only"):
        Timer("x", language="cpp")
    with pytest.raises(ValueError, match="num_threads must be a whole number >= 1"):
        Timer("pass", num_threads=0)


def test_import_torch_utils_benchmark_through_the_shim_gives_this_module():
    import glassgrad.utils.benchmark as benchmark
    from glassgrad.torch_names import counterpart

    assert counterpart("torch.utils.benchmark") is benchmark
