"""The machine's cores, as this process sees them (for choosing how many threads to run)."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """How many cores this process may run on: its CPU affinity where the system keeps one (Linux), else all.

    >>> usable_cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
