"""PyTorch's ``torch.utils.benchmark``: time a statement, as the torch.func tutorials do to compare a loop with vmap.

>>> from glassgrad.utils.benchmark import Timer
>>> measurement = Timer("sum(range(100))").timeit(1000)
>>> measurement.number_per_run, len(measurement.times)
(1000, 1)

``Timer(stmt, setup, globals=…, num_threads=1)`` compiles ``stmt`` once (Python's :mod:`timeit`, with the garbage
collector left on, as the code runs for real) and runs it with the matrix products limited to ``num_threads``
threads, as PyTorch's Timer does. ``timeit(number)`` gives one measurement of ``number`` runs;
``blocked_autorange(min_run_time)`` picks a block size that takes at least a millisecond, then times blocks until
``min_run_time`` seconds have passed; ``adaptive_autorange`` times blocks until the spread (IQR) of their times is
under ``threshold`` of the median, or ``max_run_time`` has passed. A :class:`Measurement` gives the time per run
of each block (``times``) and their ``mean``, ``median`` and ``iqr``, and prints as PyTorch's does;
``Compare(measurements).print()`` lays medians out in a table, a row per ``sub_label`` (or statement), a column
per ``description`` (laid out more simply than PyTorch's).
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Compare", "Measurement", "Timer"]


def unit(seconds: float) -> tuple[str, float]:
    """The unit PyTorch's Timer shows ``seconds`` in (ns, us, ms or s: the one that puts it in [1, 1000)), and its
    size in seconds."""
    power = int(np.floor(np.log10(seconds)) // 3) if seconds > 0 else 0
    name = {-3: "ns", -2: "us", -1: "ms"}.get(power, "s")
    return name, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[name]


@dataclass
class Measurement:
    """The times one :class:`Timer` took: ``raw_times[k]`` seconds for block ``k`` of ``number_per_run`` runs."""

    number_per_run: int
    raw_times: list[float]
    stmt: str
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1
    metadata: dict | None = field(default=None, repr=False)

    @property
    def times(self) -> list[float]:
        """Seconds per run, one entry per block."""
        return [raw / self.number_per_run for raw in self.raw_times]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def iqr(self) -> float:
        """The interquartile range of the blocks' times per run (0 for one block)."""
        first, third = np.percentile(self.times, [25, 75])
        return float(third - first)

    @property
    def title(self) -> str:
        return self.label or self.stmt

    def __repr__(self) -> str:
        """PyTorch's layout: the statement, the median (and, from 4 blocks on, the IQR and quartiles) in the median's
        unit, and how many blocks and runs."""
        count, median = len(self.times), self.median
        name, size = unit(median)
        lines = [f"<glassgrad.utils.benchmark.Measurement object at {hex(id(self))}>", self.title,
                 f"  {'Median: ' if count > 1 else ''}{median / size:.2f} {name}"]
        if count >= 4:
            low, high = np.percentile(self.times, [25, 75])
            lines.append(f"  IQR:    {(high - low) / size:.2f} {name} ({low / size:.2f} to {high / size:.2f})")
        lines.append(f"  {count} measurement{'s' if count > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if count > 1 else ','} {self.num_threads} thread"
                     f"{'s' if self.num_threads > 1 else ''}")
        return "\n".join(lines)


class Timer:
    """PyTorch's ``torch.utils.benchmark.Timer`` for Python statements (see the module's notes)."""

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "", timer: Callable | None = None,
                 globals: dict[str, Any] | None = None, label: str | None = None, sub_label: str | None = None,
                 description: str | None = None, env: str | None = None, num_threads: int = 1,
                 language: str = "python") -> None:
        if str(language).lower().rpartition(".")[2] not in ("python", "py"):
            raise ValueError(f"Timer: glassgrad times Python statements only, not language={language!r}")
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"Timer: num_threads must be a whole number >= 1, got {num_threads!r}")
        self.stmt, self.num_threads = stmt, num_threads
        self.names = {"label": label, "sub_label": sub_label, "description": description, "env": env}
        setup = setup if not global_setup else f"{global_setup}\n{setup}"
        self.timer = timeit.Timer(stmt, f"import gc; gc.enable()\n{setup}", timer or timeit.default_timer,
                                  globals=dict(globals or {}))

    def _blocks(self, number: int, blocks: int) -> list[float]:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.num_threads, user_api="blas"):
            return [self.timer.timeit(number) for _ in range(blocks)]

    def _measurement(self, number: int, raw_times: list[float]) -> Measurement:
        return Measurement(number, raw_times, self.stmt, num_threads=self.num_threads, **self.names)

    def timeit(self, number: int = 1000000) -> Measurement:
        """One block of ``number`` runs (after one run to warm up)."""
        self._blocks(1, 1)
        return self._measurement(number, self._blocks(number, 1))

    def _block_size(self) -> int:
        """Runs per block: the first power of ten whose runs take at least a millisecond."""
        number = 1
        while self._blocks(number, 1)[0] < 1e-3 and number < 10**9:
            number *= 10
        return number

    def blocked_autorange(self, callback: Callable[[int, float], None] | None = None,
                          min_run_time: float = 0.2) -> Measurement:
        """Blocks of a size that takes at least a millisecond, until ``min_run_time`` seconds have passed."""
        number, raw_times = self._block_size(), []
        while sum(raw_times) < min_run_time or not raw_times:
            raw_times += self._blocks(number, 1)
            if callback is not None:
                callback(number, raw_times[-1])
        return self._measurement(number, raw_times)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01, max_run_time: float = 10.0,
                           callback: Callable[[int, float], None] | None = None) -> Measurement:
        """Blocks until their IQR is under ``threshold`` of the median (after ``min_run_time`` seconds and at least
        3 blocks), or ``max_run_time`` seconds have passed."""
        number, raw_times = self._block_size(), []
        while True:
            raw_times += self._blocks(number, 1)
            if callback is not None:
                callback(number, raw_times[-1])
            measurement = self._measurement(number, raw_times)
            spent = sum(raw_times)
            steady = len(raw_times) >= 3 and measurement.iqr <= threshold * measurement.median
            if spent >= max_run_time or (spent >= min_run_time and steady):
                return measurement

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        raise NotImplementedError("Timer.repeat is not implemented (as in PyTorch): use timeit or blocked_autorange")

    def autorange(self, callback: Callable | None = None) -> None:
        raise NotImplementedError("Timer.autorange is not implemented (as in PyTorch): use blocked_autorange")


class Compare:
    """``Compare(measurements)``: their medians in one table per ``label``, a row per ``sub_label`` (or statement),
    a column per ``description``, in the unit of the table's fastest; ``print()`` shows it."""

    def __init__(self, results: Sequence[Measurement]) -> None:
        self.results = list(results)

    def __str__(self) -> str:
        words = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds", "s": "seconds"}
        tables = []
        for label in dict.fromkeys(result.label or "" for result in self.results):
            chosen = [result for result in self.results if (result.label or "") == label]
            name, size = unit(min(result.median for result in chosen))
            columns = list(dict.fromkeys(result.description or "" for result in chosen))
            rows = list(dict.fromkeys(result.sub_label or result.stmt for result in chosen))
            cells = {(result.sub_label or result.stmt, result.description or ""): f"{result.median / size:.1f}"
                     for result in chosen}
            first = max(len(row) for row in rows)
            widths = [max(len(column), *(len(cells.get((row, column), "")) for row in rows)) for column in columns]
            header = " " * first + " | " + " | ".join(f"{c:^{w}}" for c, w in zip(columns, widths))
            lines = [f"[{f' {label} ':-^{len(header)}}]", header]
            lines += [f"{row:>{first}} | " + " | ".join(f"{cells.get((row, c), ''):>{w}}" for c, w in zip(columns,
                                                                                                        widths))
                      for row in rows]
            tables.append("\n".join(lines) + f"\n\nTimes are in {words[name]} ({name}).")
        return "\n\n".join(tables) + "\n"

    def print(self) -> None:
        print(self)
