"""Process-wide settings PyTorch code makes: threads, matmul precision, deterministic algorithms.

* :func:`set_num_threads` / :func:`get_num_threads`: the threads NumPy's BLAS (the matrix products)
  uses, through ``threadpoolctl``; glassgrad's own loops are single-threaded Python.
* :func:`set_float32_matmul_precision`: accepted and remembered; glassgrad's float32 products are
  always full float32 (PyTorch's ``"highest"``: there is no TF32 on a CPU).
* :func:`use_deterministic_algorithms`: accepted and remembered; every glassgrad op already gives
  the same numbers run after run (no atomics, no nondeterministic kernels).
* :func:`set_num_interop_threads` / :func:`get_num_interop_threads`: remembered; glassgrad runs one op at
  a time, so there are no threads running independent ops side by side.
* :func:`set_warn_always`: glassgrad's warnings are Python's ``warnings``, whose filters decide how often each
  one shows; the few PyTorch gives only once in a process (:func:`warn_once`) show every time after
  ``set_warn_always(True)``, as there.
* :func:`set_flush_denormal`: not supported (NumPy gives no control over the CPU's denormal flag), so it
  returns False and numbers below the smallest normal float stay as they are, as PyTorch does on a CPU
  without that flag.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

PRECISIONS = ("highest", "high", "medium")
_settings: dict[str, Any] = {"precision": "highest", "deterministic": False, "warn_only": False,
                             "interop_threads": os.cpu_count() or 1, "warn_always": False}
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_warned: set[str] = set()
"""The messages :func:`warn_once` has shown in this process."""


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


def set_num_interop_threads(threads: int) -> None:
    """Remember ``threads`` (≥ 1); glassgrad never runs two ops at once, so nothing else changes."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"set_num_interop_threads: expected a whole number of threads >= 1, got {threads!r}")
    _settings["interop_threads"] = threads


def get_num_interop_threads() -> int:
    """What :func:`set_num_interop_threads` remembered (the CPU count at first)."""
    return _settings["interop_threads"]


def set_warn_always(b: bool) -> None:
    """Show the once-per-process warnings (:func:`warn_once`) every time; Python's filters decide the others."""
    _settings["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _settings["warn_always"]


def warn_once(message: str, site: str | None = None) -> None:
    """A UserWarning shown the first time in a process only (PyTorch's ``TORCH_WARN_ONCE``: later ones are dropped
    even where a filter asks for ``"always"``), or every time after ``set_warn_always(True)``; at the learner's line
    (:func:`warn_at_learners_line`). ``site`` names the one ``TORCH_WARN_ONCE`` that several messages share (shown
    once for all of them, as there); by default each message is its own."""
    site = message if site is None else site
    if site in _warned and not _settings["warn_always"]:
        return
    _warned.add(site)
    warn_at_learners_line(message)


def warn_at_learners_line(message: str, category: type[Warning] = UserWarning) -> None:
    """A warning (a UserWarning unless ``category`` says) pointing at the learner's line: the first caller outside
    glassgrad's package (wrappers such as ``out=`` or the NumPy keywords add frames, so no fixed ``stacklevel`` would
    find it)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def set_flush_denormal(mode: bool) -> bool:
    """False: flushing denormal numbers to zero is not supported here (NumPy cannot set the CPU's flag)."""
    return False
