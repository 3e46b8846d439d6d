"""Process-wide settings PyTorch code makes: threads, matmul precision, deterministic algorithms.

* :func:`set_num_threads` / :func:`get_num_threads`: the threads NumPy's BLAS (the matrix products)
  uses, through ``threadpoolctl``; glassgrad's own loops are single-threaded Python.
* :func:`set_float32_matmul_precision`: accepted and remembered; glassgrad's float32 products are
  always full float32 (PyTorch's ``"highest"``: there is no TF32 on a CPU).
* :func:`use_deterministic_algorithms`: accepted and remembered; every glassgrad op already gives
  the same numbers run after run (no atomics, no nondeterministic kernels).
"""

from __future__ import annotations

import os
from typing import Any

PRECISIONS = ("highest", "high", "medium")
_settings: dict[str, Any] = {"precision": "highest", "deterministic": False, "warn_only": False}


def set_num_threads(threads: int) -> None:
    """Let the matrix products use ``threads`` threads (≥ 1)."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"set_num_threads: expected a whole number of threads >= 1, got {threads!r}")
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")


def get_num_threads() -> int:
    """How many threads the matrix products use (the CPU count when no BLAS library reports one)."""
    from threadpoolctl import threadpool_info

    counts = [entry["num_threads"] for entry in threadpool_info() if entry.get("user_api") == "blas"]
    return max(counts) if counts else os.cpu_count() or 1


def set_float32_matmul_precision(precision: str) -> None:
    """Remember ``precision`` (``"highest"``, ``"high"`` or ``"medium"``); float32 products stay full float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"set_float32_matmul_precision: expected one of {PRECISIONS}, got {precision!r}")
    _settings["precision"] = precision


def get_float32_matmul_precision() -> str:
    return _settings["precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Remember the request; glassgrad's ops are deterministic either way."""
    _settings["deterministic"], _settings["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _settings["warn_only"]
