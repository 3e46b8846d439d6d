"""PyTorch's older profiler, ``torch.autograd.profiler``, as older tutorials and courses write it::

    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        with torch.autograd.profiler.record_function("forward"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

It records what :mod:`glassgrad.profiler`'s ``profile`` records (every op of the forward and backward passes, the
``record_function`` ranges; see there), with the old keywords (``enabled``, ``use_cuda``, ``use_device``) and the old
reads: ``prof.function_events`` (one row per event, in the order they ended), ``prof.table()`` (their table),
``prof.self_cpu_time_total`` (µs) and ``prof.total_average()``.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import profiler
from .profiler import EventList, FunctionEventAvg, record_function

__all__ = ["EventList", "FunctionEventAvg", "profile", "record_function"]


class profile(profiler.profile):  # noqa: N801 (PyTorch's name)
    """``with torch.autograd.profiler.profile(...) as prof:`` — record every op of the block; ``enabled=False``
    records nothing (and gives None to ``as``, as PyTorch's). A GPU (``use_cuda=True``, ``use_device="cuda"``) is
    told to be absent: the CPU is profiled."""

    watching = "torch.autograd.profiler's profile"

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: str | None = None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False, use_cpu: bool = True,
                 experimental_config: Any = None, acc_events: bool = False, custom_trace_id_callback: Any = None,
                 **unused: Any) -> None:
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use ``use_device = 'cuda'`` "
                          "instead.", FutureWarning, stacklevel=2)
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory,
                         activities=[profiler.ProfilerActivity.CPU, profiler.ProfilerActivity.CUDA]
                         if use_cuda or use_device not in (None, "cpu") else None)
        self.enabled = enabled

    def __enter__(self) -> profile | None:
        if not self.enabled:  # as PyTorch's: `with profile(enabled=False) as prof` gives None
            return None
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.enabled:
            self.stop()

    @property
    def function_events(self) -> EventList:
        """Every event recorded, one row each (a call count of 1), in the order they ended."""
        rows = EventList()
        for event in self.recorded:
            row = FunctionEventAvg(event.name, input_shapes=event.shapes)
            row.add(event)
            rows.append(row)
        return rows

    def table(self, sort_by: str | None = None, row_limit: int = 100, **options: Any) -> str:
        """The table of :attr:`function_events` (one row per event; ``key_averages().table()`` adds them up)."""
        return self.function_events.table(sort_by=sort_by, row_limit=row_limit, **options)

    @property
    def self_cpu_time_total(self) -> float:
        """The time of the whole block, µs: the events' self times added up."""
        return sum(event.self_cpu_time_total for event in self.recorded)

    def total_average(self) -> FunctionEventAvg:
        """Every event added into one row, named ``Total``."""
        return self.function_events.total_average()
