"""``torch.jit``'s names, for programs that script or trace a model before serving it.

TorchScript turns a model into a program that runs without Python. glassgrad runs Python, so
``torch.jit.script(model)`` and ``torch.jit.trace(model, example)`` give the model back as it is: it
computes what PyTorch's scripted or traced module computes (Deep Learning with PyTorch traces its
segmentation model, in eval mode, and calls the traced one). Two differences: ``trace`` does not run
the example (PyTorch runs it, and a layer in training mode updates its running statistics then),
and where the model's Python branches on its input's values, a PyTorch trace keeps the branch the
example took while glassgrad follows Python on every call. The decorators model code carries
(``ignore``, ``unused``, ``export``) leave the function as it is, ``is_scripting``/``is_tracing`` say
False, ``annotate(type, value)`` gives the value. A TorchScript archive holds code, so ``save`` and
``load`` are refused in one line: save the ``state_dict`` instead.

>>> import glassgrad as gg
>>> model = gg.nn.Linear(2, 1)
>>> gg.jit.trace(model, gg.ones(1, 2)) is model, gg.jit.script(model) is model, gg.jit.is_scripting()
(True, True, False)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

__all__ = ["Final", "annotate", "export", "ignore", "is_scripting", "is_tracing", "load", "save", "script", "trace",
           "trace_module", "unused"]  # Final: TorchScript's constant marker (x: torch.jit.Final[int]), typing's own

ARCHIVE_REFUSED = ("TorchScript archives hold compiled code, which glassgrad does not run; save the weights with "
                   "torch.save(model.state_dict(), path) and load them into the model's class")


def script(obj: Any = None, *args: Any, **kwargs: Any) -> Any:
    """``obj`` (a function or module) as it is: its Python is what runs here."""
    return obj


def trace(func: Callable, example_inputs: Any = None, *args: Any, **kwargs: Any) -> Callable:
    """``func`` as it is (the example is not run; see the module docstring)."""
    return func


def trace_module(module: Any, inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
    """``module`` as it is (PyTorch traces the methods named in ``inputs``)."""
    return module


def _keep(function: Callable | None = None, **options: Any) -> Any:
    """A decorator, used bare or with options (``@ignore(drop=True)``), that leaves the function as it is."""
    return function if function is not None else (lambda decorated: decorated)


ignore = unused = export = _keep


def is_scripting() -> bool:
    """False: nothing is compiled to TorchScript here."""
    return False


def is_tracing() -> bool:
    """False: nothing is traced to TorchScript here."""
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    """``the_value``: TorchScript's type hint for an empty container changes nothing in Python."""
    return the_value


def save(module: Any, f: Any, *args: Any, **kwargs: Any) -> None:
    """Refused: see :data:`ARCHIVE_REFUSED`."""
    raise RuntimeError(f"torch.jit.save: {ARCHIVE_REFUSED}")


def load(f: Any, *args: Any, **kwargs: Any) -> Any:
    """Refused: see :data:`ARCHIVE_REFUSED`."""
    raise RuntimeError(f"torch.jit.load: {ARCHIVE_REFUSED}")

