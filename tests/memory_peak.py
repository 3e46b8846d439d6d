"""The memory check shared by tests that must not allocate much: the peak of traced allocations in a block."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Peak:
    bytes: int = 0


@contextmanager
def traced_peak() -> Iterator[Peak]:
    """``with traced_peak() as peak: ...``; afterwards ``peak.bytes`` is the block's highest traced
    allocation (NumPy reports its buffers to tracemalloc)."""
    peak = Peak()
    tracemalloc.start()
    try:
        yield peak
        peak.bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
