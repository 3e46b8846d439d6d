"""The checks shared by the error tests: glassgrad itself raises the error, in one clear line (of PyTorch's class)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

import glassgrad as gg

GLASSGRAD_DIR = Path(gg.__file__).parent


def assert_glassgrad_refuses(make: Callable, kind: type[BaseException], message: str, one_line: bool = True) -> None:
    """``make(gg)`` raises ``kind`` matching ``message``, from glassgrad's own code (not deep in NumPy)."""
    with pytest.raises(kind, match=message) as caught:
        make(gg)
    if one_line:
        assert "\n" not in str(caught.value)
    raised_in = Path(caught.traceback[-1].path)
    assert GLASSGRAD_DIR in raised_in.parents, f"raised from deep inside {raised_in}, not by glassgrad"


def assert_raises_as_pytorch(make: Callable, torch: ModuleType) -> BaseException:
    """``make(torch)`` raises, and ``make(gg)`` raises the same exception class in one line; glassgrad's error."""
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(Exception) as ours:
        make(gg)
    assert type(ours.value) is type(theirs.value), str(ours.value)
    assert "\n" not in str(ours.value)
    return ours.value
