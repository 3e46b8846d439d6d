"""Anomaly detection (PyTorch's ``torch.autograd.detect_anomaly``): a backward pass that makes NaN stops where it does.

With the mode on, every gradient a backward rule returns is checked, and the first that holds
NaN ends the pass with one ``RuntimeError`` that names the op, its derivative (the row's own
text, as ``glassgrad rules`` prints it), the first entry that is NaN, and the numbers that met
there: ∂L/∂out and the op's input and output, where they have the gradient's shape. For
``x.sqrt()`` at ``x = 0`` under a loss whose ∂L/∂out is 0 there::

    backward made NaN: the rule of 'sqrt' gave NaN in ∂L/∂a (input 0) at entry [0]:
    ∂out/∂a = 1/(2√a) = 1/(2·out); there ∂L/∂out = 0.0, a = 0.0, out = 0.0

(``1/(2·0) = inf``, and ``inf·0`` is NaN). A NaN that arrives with ∂L/∂out itself comes from
the gradient given to ``backward`` (the rules before were checked): the message says so.

>>> import glassgrad as gg
>>> x = gg.tensor([0.0, 4.0], requires_grad=True)
>>> with gg.autograd.detect_anomaly():
...     try:
...         (x.sqrt() * gg.tensor([0.0, 1.0])).sum().backward()
...     except RuntimeError as error:
...         print(str(error).split(":")[0])
backward made NaN

``detect_anomaly(check_nan=True)`` is a context manager; ``set_detect_anomaly(mode,
check_nan=True)`` switches the mode at once, and as a context manager puts it back on exit. The
mode is one switch for the whole process, as in PyTorch. It costs a NaN test of every gradient,
so it is for finding a bug, not for training. PyTorch also keeps, for every node, the traceback
of the forward call that made it; glassgrad names the op and its numbers instead (no cost while
the mode is off). A compiled step (:mod:`glassgrad.compiler`) runs eagerly while the mode is on,
or where its own backward runs with the mode on, so that its rules are checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MODE = [False, True]
"""``[enabled, check_nan]``: read once per backward pass (:func:`glassgrad.autograd.run_backward`)."""

UNREPLAYABLE = ("anomaly detection is on in its backward, which checks each rule's gradients for NaN in Python, and a "
                "replay would not")
"""Why a compiled step whose backward runs under anomaly detection runs eagerly."""

__all__ = ["detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "set_detect_anomaly"]


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (``torch.is_anomaly_enabled``)."""
    return MODE[0]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection is on and checks gradients for NaN (``torch.is_anomaly_check_nan_enabled``): read
    once by each backward pass."""
    return MODE[0] and MODE[1]


class set_detect_anomaly:
    """Switch anomaly detection on or off now; used with ``with``, the previous mode comes back on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.previous = list(MODE)
        MODE[:] = [bool(mode), bool(check_nan)]

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        MODE[:] = self.previous


class detect_anomaly:
    """Anomaly detection on inside the ``with`` block, then back as it was."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)
        self.previous: list[list[bool]] = []

    def __enter__(self) -> None:
        self.previous.append(list(MODE))
        MODE[:] = [True, self.check_nan]

    def __exit__(self, *exc_info: object) -> None:
        MODE[:] = self.previous.pop()


def check_gradients(node: Any, upstream: Any, contributions: tuple) -> None:
    """Raise the one-line error of :mod:`glassgrad.anomaly` if a gradient ``node``'s rule returned for an input that
    requires grad holds NaN (one for an input that needs none is thrown away unread). ``upstream``: a list of every
    output's for a call with several (:attr:`glassgrad.ops.Op.joint`), whose message shows ``node``'s own.

    A walk checking so tells a compiled step capturing (:mod:`glassgrad.compiler`) that it checks in Python
    (:data:`UNREPLAYABLE`): a replay would not, and a NaN in a later call would go through (the mode switched on
    inside the step, ``with detect_anomaly():``)."""
    if type(upstream) is list:
        upstream = upstream[node._ctx[1]]
    for position, (parent, contribution) in enumerate(zip(node._parents, contributions)):
        array = getattr(contribution, "array", contribution)  # a tensor under create_graph
        if (parent._requires_grad and isinstance(array, np.ndarray) and array.dtype.kind in "fc"
                and np.isnan(array).any()):
            raise RuntimeError(_nan_message(node._op, getattr(upstream, "array", upstream), array, position, node))


def check_replayed(op: Any, upstream: np.ndarray, picked: tuple) -> None:
    """:func:`check_gradients` for a rule replayed by a compiled forward's node (:mod:`glassgrad.compiler`), when its
    backward runs under anomaly detection switched on after the forward: ``picked`` holds ``(position, gradient)``
    for each input that requires grad. The message names the op and ∂L/∂out there; the inputs and output were not
    kept (the forward ran no graph)."""
    for position, array in picked:
        if isinstance(array, np.ndarray) and array.dtype.kind in "fc" and np.isnan(array).any():
            raise RuntimeError(_nan_message(op, upstream if isinstance(upstream, np.ndarray) else None, array,
                                            position))


def _nan_message(op: Any, upstream: np.ndarray | None, gradient: np.ndarray, position: int, node: Any = None) -> str:
    entry = np.unravel_index(int(np.flatnonzero(np.isnan(gradient))[0]), gradient.shape)
    roles = op.roles
    role = roles[position] if position < len(roles) else f"input {position}"
    lines = op.derivative_lines()
    derivative = lines[min(position, len(lines) - 1)] if lines else op.formula
    values = [_value_at("∂L/∂out", upstream, entry, gradient.shape)]  # None: a joint call's, replayed
    if node is not None:
        values += [_value_at(name, parent.array, entry, gradient.shape)
                   for name, parent in zip(roles, node._parents)]
        values.append(_value_at("out", node.array, entry, gradient.shape))
    shown = ", ".join(value for value in values if value)
    where = f"[{', '.join(str(int(i)) for i in entry)}]"
    message = (f"backward made NaN: the rule of '{op.name}' gave NaN in ∂L/∂{role} (input {position}) at entry "
               f"{where}: {derivative}")
    if shown:
        message += f"; there {shown}"
    if upstream is not None and np.isnan(upstream).any():
        message += ("; ∂L/∂out itself already held NaN, so the NaN came with the gradient given to backward() "
                    "(is the loss NaN?)")
    return message + " (anomaly detection: gg.autograd.detect_anomaly)"


def _value_at(name: str, array: Any, entry: tuple, shape: tuple) -> str:
    """``name = value`` of ``array`` at ``entry`` where it has the gradient's ``shape`` (else nothing to show)."""
    if not isinstance(array, np.ndarray) or array.shape != shape:
        return ""
    return f"{name} = {array[entry].item()!r}"
