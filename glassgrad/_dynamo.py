"""``torch._dynamo``'s names that learner code calls (``import torch._dynamo``), for :mod:`glassgrad.torch_names`.

PyTorch's Dynamo turns Python into graphs; glassgrad's compiler (:mod:`glassgrad.compiler`) records kernels instead,
so these are its functions under Dynamo's names: ``reset()`` between experiments, ``config`` (settings kept and
read back, changing nothing: :mod:`glassgrad.compiler.configs`), ``disable``, ``is_compiling``, and the shape hints
``mark_dynamic``/``mark_static``, which change nothing either (each shape gets its own program), and the class of a
compiled module, ``OptimizedModule`` (also as ``torch._dynamo.eval_frame.OptimizedModule``, which code tests to unwrap
a compiled model: ``if isinstance(model, OptimizedModule): model = model._orig_mod``).
"""

from __future__ import annotations

from typing import Any

from .compiler import allow_in_graph, disable, is_compiling, reset
from .compiler import optimized_module as eval_frame
from .compiler.configs import DYNAMO as config
from .compiler.optimized_module import OptimizedModule
from .tensor import Tensor

__all__ = ["OptimizedModule", "allow_in_graph", "config", "disable", "eval_frame", "is_compiling", "mark_dynamic",
           "mark_static", "maybe_mark_dynamic", "reset"]


def mark_dynamic(t: Tensor, index: Any, **hints: Any) -> None:
    """A hint that ``t``'s dim ``index`` changes between calls; glassgrad captures a program per shape anyway (up to
    :data:`~glassgrad.compiler.compiled.MAX_PROGRAMS`), so nothing changes. ``t`` must be a tensor, as in PyTorch."""
    _check_tensor(t, "mark_dynamic")


def maybe_mark_dynamic(t: Tensor, index: Any) -> None:
    """As :func:`mark_dynamic`."""
    _check_tensor(t, "maybe_mark_dynamic")


def mark_static(t: Any, index: Any = None) -> None:
    """A hint that a dim keeps its size; each shape gets its own program here anyway."""


def _check_tensor(t: Any, name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"torch._dynamo.{name}: expected a tensor, got {type(t).__name__}")
