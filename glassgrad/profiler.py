"""PyTorch's ``torch.profiler``: where a step's time goes, op by op.

>>> import glassgrad as gg
>>> from glassgrad.profiler import profile, record_function, ProfilerActivity
>>> model, x = gg.nn.Linear(4, 2), gg.ones(8, 4)
>>> with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
...     with record_function("model_inference"):
...         model(x).sum().backward()
>>> print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))  # doctest: +SKIP

While a profile is active it watches the engine as a trace's tape does (:func:`glassgrad.autograd.swap_tape`): every
op of a forward pass and every node of a backward pass is an event named by its rule (``linear``, ``linear
backward``). glassgrad's engine gives no signal before an op runs, only after, so an op's time is the time since
the engine's previous event: its NumPy kernels and the Python that led to it. Each module's call and each
``record_function`` block restart that clock, so the time a program spends elsewhere (loading the next batch) is
not charged to the next op. ``record_function`` blocks, and each optimizer's ``step`` and ``zero_grad``
(``Optimizer.step#SGD.step``, as PyTorch names them), are ranges: their total time and their self time (the part
no op inside took). ``profile_memory`` counts the bytes of each op's result. A ``gg.compile``d step runs eagerly
while profiled, so that every op is seen.

``key_averages()`` adds the events up by name (and by input shapes, ``group_by_input_shape=True``);
``table()`` prints them as PyTorch does (Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, # of Calls);
``export_chrome_trace(path)`` writes them for ``chrome://tracing`` or Perfetto; ``schedule``, ``step()`` and
``tensorboard_trace_handler`` profile some steps of a training loop, as PyTorch's do.
"""

from __future__ import annotations

import enum
import functools
import json
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .autograd import swap_tape
from .io import write_atomically
from .settings import warn_at_learners_line

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "record_function", "schedule",
           "tensorboard_trace_handler"]

ACTIVE: list = []
"""The profiles recording now (the innermost last): the optimizers' ranges are written to them."""


class ProfilerActivity(enum.Enum):
    """What a profile records: ``CPU`` here (every tensor lives on the CPU); the others are accepted, with a warning."""

    CPU = 0
    CUDA = 1
    MTIA = 2
    XPU = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What a :func:`schedule` tells the profile to do at a step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """PyTorch's schedule: after ``skip_first`` steps, cycles of ``wait`` idle steps, ``warmup`` steps, and ``active``
    recorded ones (the last of them saves: ``on_trace_ready`` runs), ``repeat`` cycles (0: for ever);
    ``skip_first_wait``: the steps count as if the first cycle's wait were over already."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("schedule: wait, warmup, repeat and skip_first must be 0 or more and active more than 0")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        if repeat and step // cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if position == cycle - 1 else ProfilerAction.RECORD

    return action


@dataclass
class Event:
    """One thing that took time: an op, a backward node, or a range (``record_function``, an optimizer's step)."""

    name: str
    start_ns: int
    end_ns: int
    shapes: list = field(default_factory=list)
    memory: int = 0
    kind: str = "op"
    inner_ns: int = 0  # (ranges) the time of the events inside them
    trace_name: str = ""  # the name in a Chrome trace where it differs (ProfilerStep#3, counted as ProfilerStep*)

    @property
    def cpu_time_total(self) -> float:
        return (self.end_ns - self.start_ns) / 1000

    @property
    def self_cpu_time_total(self) -> float:
        return (self.end_ns - self.start_ns - self.inner_ns) / 1000

    count = 1  # one call: read so by FunctionEventAvg.add, as a row's fields
    cpu_memory_usage = self_cpu_memory_usage = property(lambda self: self.memory)


@dataclass
class FunctionEventAvg:
    """Events of one name (and input shapes) added up: PyTorch's ``key_averages()`` row; times in µs."""

    key: str
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    cpu_memory_usage: int = 0
    self_cpu_memory_usage: int = 0
    input_shapes: list = field(default_factory=list)
    flops: int = 0  # not counted here (PyTorch counts them for matmul and conv with with_flops=True)
    # what a GPU's columns would hold: nothing runs on a device here (tutorials sort by them all the same)
    device_time_total = self_device_time_total = device_time = cuda_time = 0.0
    device_memory_usage = self_device_memory_usage = 0

    @property
    def cpu_time(self) -> float:
        """The mean time of one call (µs)."""
        return self.cpu_time_total / self.count if self.count else 0.0

    cpu_time_str = property(lambda self: _time(self.cpu_time))
    cpu_time_total_str = property(lambda self: _time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: _time(self.self_cpu_time_total))

    def add(self, event: Event | FunctionEventAvg) -> None:
        """Count in one event, or (``total_average``) another row: both have a row's fields."""
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage


def sort_key(name: str) -> str:
    """The row attribute ``table(sort_by=name)`` sorts by: PyTorch's names, the GPU ones (``cuda_time_total``,
    ``self_xpu_time_total``) read as the device's (all 0 here); an unknown name is refused in one line."""
    key = name.replace("cuda", "device").replace("xpu", "device")
    if not hasattr(FunctionEventAvg(key=""), key):
        raise AttributeError(f"table: cannot sort by {name!r}; sort by cpu_time_total, self_cpu_time_total, "
                             "cpu_time, count, cpu_memory_usage or self_cpu_memory_usage")
    return key


class EventList(list):
    """``key_averages()``: one :class:`FunctionEventAvg` per name; ``table()`` prints them."""

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width: int = 55,
              header: str | None = None, top_level_events_only: bool = False, max_shapes_column_width: int = 80,
              **unused: Any) -> str:
        """PyTorch's table: a row per name (the ``row_limit`` first by ``sort_by``, descending), then the total;
        columns right-aligned, the name column as wide as the longest name plus 4 (at most
        ``max_name_column_width``)."""
        rows = list(self)
        if sort_by is not None:
            key = sort_key(sort_by)
            rows.sort(key=lambda row: getattr(row, key), reverse=True)
        rows = rows[:row_limit] if row_limit and row_limit > 0 else rows
        total = sum(row.self_cpu_time_total for row in self) or 1.0
        memory = any(row.cpu_memory_usage for row in self)
        shapes = any(row.input_shapes for row in self)
        name_width = min(max([len(row.key) for row in self] + [0]) + 4, max_name_column_width)
        shape_width = min(max([len(str(row.input_shapes)) for row in self] + [0]) + 4, max_shapes_column_width)
        titles = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"] + \
            (["CPU Mem", "Self CPU Mem"] if memory else []) + ["# of Calls"]
        widths = [name_width] + [12] * len(titles) + ([shape_width] if shapes else [])
        titles = ["Name", *titles] + (["Input Shapes"] if shapes else [])

        def line(cells: list[str]) -> str:
            return "".join(cell[:width].rjust(width) + "  " for cell, width in zip(cells, widths))

        rule = "".join("-" * width + "  " for width in widths)
        lines = ([header] if header else []) + [rule, line(titles), rule]
        for row in rows:
            name = row.key if len(row.key) <= name_width else row.key[:name_width - 3] + "..."
            cells = [name, f"{100 * row.self_cpu_time_total / total:.2f}%", _time(row.self_cpu_time_total),
                     f"{100 * row.cpu_time_total / total:.2f}%", _time(row.cpu_time_total), _time(row.cpu_time)]
            if memory:
                cells += [_bytes(row.cpu_memory_usage), _bytes(row.self_cpu_memory_usage)]
            cells.append(str(row.count))
            if shapes:
                cells.append(str(row.input_shapes))
            lines.append(line(cells))
        lines += [rule, f"Self CPU time total: {_time(sum(row.self_cpu_time_total for row in self))}", ""]
        return "\n".join(lines)

    def __str__(self) -> str:
        """``print(prof.key_averages())``: the table, as PyTorch prints it."""
        return self.table()

    def total_average(self) -> FunctionEventAvg:
        """All rows added into one, named ``Total`` (PyTorch's)."""
        total = FunctionEventAvg(key="Total")
        for row in self:
            total.add(row)
        return total


def _time(microseconds: float) -> str:
    """PyTorch's way of writing a time: µs below a millisecond, ms below a second, then s."""
    if microseconds >= 1e6:
        return f"{microseconds / 1e6:.3f}s"
    if microseconds >= 1e3:
        return f"{microseconds / 1e3:.3f}ms"
    return f"{microseconds:.3f}us"


def _bytes(count: int) -> str:
    """PyTorch 2.13's way of writing a memory size: ``512 B``, ``2.00 KB``, ``3.00 MB``, ``5.00 GB``."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(count) >= size:
            return f"{count / size:.2f} {unit}"
    return f"{count} B"


class profile:  # noqa: N801 (PyTorch's name)
    """``with torch.profiler.profile(...) as prof:`` — record every op of the block (see the module's notes)."""

    watching = "torch.profiler's profile"
    """What a compiled step's warning names as the tape that makes it run eagerly."""

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[[profile], Any] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config: Any = None, execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Any = None) -> None:
        if use_cuda is not None:  # PyTorch 2.13 warns so for any use_cuda given, True or False
            warn_at_learners_line("`use_cuda` is deprecated, use `activities` argument instead", FutureWarning)
        if set(activities or [ProfilerActivity.CPU]) - {ProfilerActivity.CPU}:
            warn_at_learners_line("glassgrad runs on the CPU only: profiling the CPU alone")
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.step_num = 0
        self.recorded: list[Event] = []
        self._ranges: list[Event] = []
        self._clock = time.perf_counter_ns()
        self._previous_tape: Any = None
        self._hooks: list[Any] = []
        self._recording = False
        self._step_range: record_function | None = None

    # --- on and off ---------------------------------------------------------------------------------------------

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Begin recording (at once, or when the schedule says so)."""
        if self._action() in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._begin()
        self._open_step_range()

    def stop(self) -> None:
        """Stop recording; a schedule's cycle cut short is handed to ``on_trace_ready`` as it is."""
        self._close_step_range()
        if self._recording:
            self._end()
            if self.schedule is not None and self.on_trace_ready is not None:
                self.on_trace_ready(self)
        elif self.schedule is None and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self) -> None:
        """The training loop's step ended: follow the schedule (start, stop, hand the recorded cycle over)."""
        self._close_step_range()
        before = self._action()
        self.step_num += 1
        after = self._action()
        if self._recording and before == ProfilerAction.RECORD_AND_SAVE:
            self._end()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        if not self._recording and after in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self.recorded = []
            self._begin()
        self._open_step_range()

    def _open_step_range(self) -> None:
        """With a schedule, each step is a range, as PyTorch's: ``ProfilerStep#3`` in a trace, ``ProfilerStep*`` in
        the table (all steps' in one row)."""
        if self.schedule is not None:
            self._step_range = record_function("ProfilerStep*")
            self._step_range.trace_name = f"ProfilerStep#{self.step_num}"
            self._step_range.__enter__()

    def _close_step_range(self) -> None:
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None

    def _action(self) -> ProfilerAction:
        return ProfilerAction.RECORD if self.schedule is None else self.schedule(self.step_num)

    def _begin(self) -> None:
        from .nn.hooks import register_module_forward_pre_hook

        self._recording = True
        self._previous_tape = swap_tape(self)
        self._hooks = [register_module_forward_pre_hook(self._restart_clock)]
        ACTIVE.append(self)
        self._clock = time.perf_counter_ns()

    def _end(self) -> None:
        self._recording = False
        swap_tape(self._previous_tape)
        for handle in self._hooks:
            handle.remove()
        self._hooks = []
        ACTIVE.remove(self)

    def _restart_clock(self, *unused: Any) -> None:
        self._clock = time.perf_counter_ns()

    # --- what the engine tells a tape ---------------------------------------------------------------------------

    def _add(self, name: str, shapes: list, memory: int, kind: str = "op") -> None:
        now = time.perf_counter_ns()
        event = Event(name, self._clock, now, shapes, memory, kind)
        self.recorded.append(event)
        if self._ranges:  # the innermost open range holds it (an outer one gets the inner range's whole time)
            self._ranges[-1].inner_ns += now - event.start_ns
        self._clock = now

    def on_forward(self, op: Any, parents: tuple, result: Any, args: tuple) -> None:
        self._add(op.name, [list(parent.shape) for parent in parents] if self.record_shapes else [],
                  result.array.nbytes if self.profile_memory else 0)

    def on_backward(self, node: Any, upstream: Any, contributions: tuple) -> None:
        upstreams = upstream if type(upstream) is list else [upstream]  # one per output of a joint call
        self._add(f"{node._op.name} backward",
                  [[] if up is None else list(up.shape) for up in upstreams] if self.record_shapes else [],
                  sum(part.nbytes for part in contributions if part is not None) if self.profile_memory else 0,
                  "backward")

    def on_rebase(self, tensor: Any, previous: Any) -> None:
        """An in-place change re-based a tensor: nothing to time (its op was reported)."""

    def on_unreplayable(self, reason: str) -> None:
        """(A compiled step's notice: it runs eagerly while profiled.)"""

    # --- ranges -------------------------------------------------------------------------------------------------

    def _open(self, name: str, kind: str, trace_name: str = "") -> Event:
        event = Event(name, time.perf_counter_ns(), 0, kind=kind, trace_name=trace_name)
        self._ranges.append(event)
        self._clock = event.start_ns
        return event

    def _close(self, event: Event) -> None:
        event.end_ns = time.perf_counter_ns()
        self._ranges.remove(event)
        if self._ranges:
            self._ranges[-1].inner_ns += event.end_ns - event.start_ns
        self.recorded.append(event)
        self._clock = event.end_ns

    # --- reading what was recorded ------------------------------------------------------------------------------

    def events(self) -> list[Event]:
        """Every event recorded, ranges included, in the order they ended."""
        return list(self.recorded)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events added up by name (and by input shapes, ``group_by_input_shape``), in order of first sight."""
        rows: dict[Any, FunctionEventAvg] = {}
        for event in self.recorded:
            key = (event.name, str(event.shapes)) if group_by_input_shape else event.name
            row = rows.get(key)
            if row is None:
                row = rows[key] = FunctionEventAvg(event.name, input_shapes=event.shapes if group_by_input_shape
                                                   else [])
            row.add(event)
        return EventList(rows.values())

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """The events as Chrome's trace format (``chrome://tracing``, Perfetto), written atomically."""
        first = min((event.start_ns for event in self.recorded), default=0)
        trace = {"traceEvents": [
            {"name": event.trace_name or event.name, "ph": "X",
             "cat": "cpu_op" if event.kind != "user" else "user_annotation",
             "ts": (event.start_ns - first) / 1000, "dur": (event.end_ns - event.start_ns) / 1000,
             "pid": os.getpid(), "tid": 0, "args": {"Input Dims": event.shapes} if event.shapes else {}}
            for event in self.recorded], "displayTimeUnit": "ms"}
        write_atomically(path, json.dumps(trace))


class record_function:  # noqa: N801 (PyTorch's name)
    """``with record_function("data loading"):`` — a named range in the profile (also a decorator)."""

    def __init__(self, name: str, args: str | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"record_function: the name must be a string, got {type(name).__name__}")
        self.name = name
        self.trace_name = ""  # (a profile's own step range: its name in a trace)
        self._open: list[tuple[profile, Event]] = []

    def __enter__(self) -> record_function:
        self._open = [(prof, prof._open(self.name, "user", self.trace_name)) for prof in ACTIVE]
        return self

    def __exit__(self, *exc_info: object) -> None:
        for prof, event in self._open:
            prof._close(event)
        self._open = []

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name):
                return function(*args, **kwargs)
        return recorded


def optimizer_range(name: str) -> record_function | None:
    """A range for an optimizer's ``step``/``zero_grad`` while a profile records, else None (nothing to pay)."""
    return record_function(name) if ACTIVE else None


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[[profile], None]:
    """An ``on_trace_ready`` that writes each recorded cycle to ``dir_name`` as
    ``<worker>.<time in ns>.pt.trace.json``, a name of its own for each cycle however quickly they follow each
    other (``.gz`` not written: ``use_gzip`` is refused)."""
    if use_gzip:
        raise NotImplementedError("tensorboard_trace_handler: use_gzip=True is not provided; leave it False")
    worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"

    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        prof.export_chrome_trace(os.path.join(dir_name, f"{worker}.{time.time_ns()}.pt.trace.json"))

    return handler
