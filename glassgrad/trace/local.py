"""Local derivatives ``∂out/∂input`` of the elementwise ops, as numbers, for the trace.

The rule table (:mod:`glassgrad.ops`) gives each op's local derivative as text
(``op.local_grad``) and applies it inside the backward rule; here it is computed on its
own, from the values the tape recorded, so a trace can show the three factors of the
chain rule side by side::

    contribution = upstream ⊙ local          (∂L/∂a = ∂L/∂out ⊙ ∂out/∂a)

e.g. the ReLU mask ``1 if z > 0 else 0``, the sigmoid's ``σ(z)·(1 − σ(z))``. Only ops
whose Jacobian is diagonal (elementwise) have a local derivative of the output's shape;
for the others (``matmul``, ``sum``, ``softmax`` …) :func:`local_derivatives` returns
``None`` and the trace shows the rule's text.

>>> import numpy as np
>>> from glassgrad import ops
>>> local_derivatives(ops.RELU, (np.array([-1.0, 2.0]),), np.array([0.0, 2.0]), ())[0].tolist()
[0.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..ops import Op

Array = np.ndarray


def _scalar_setting(settings: tuple) -> Any:
    return next(s for s in settings if isinstance(s, (int, float)) and not isinstance(s, bool))


# each entry: (inputs, output, settings) -> one array per input (broadcastable to the output)
_LOCAL: dict[str, Callable[[tuple, Array, tuple], list[Array]]] = {
    "add": lambda i, out, s: [np.ones_like(out), np.ones_like(out)],
    "sub": lambda i, out, s: [np.ones_like(out), -np.ones_like(out)],
    "mul": lambda i, out, s: [i[1], i[0]],
    "div": lambda i, out, s: [1 / i[1], -i[0] / (i[1] * i[1])],
    "neg": lambda i, out, s: [-np.ones_like(out)],
    "pow_scalar": lambda i, out, s: [_scalar_setting(s) * i[0] ** (_scalar_setting(s) - 1)],
    "exp": lambda i, out, s: [out],
    "log": lambda i, out, s: [1 / i[0]],
    "sqrt": lambda i, out, s: [1 / (2 * out)],
    "abs": lambda i, out, s: [np.sign(i[0])],
    "sin": lambda i, out, s: [np.cos(i[0])],
    "cos": lambda i, out, s: [-np.sin(i[0])],
    "relu": lambda i, out, s: [(i[0] > 0).astype(out.dtype)],
    "leaky_relu": lambda i, out, s: [np.where(i[0] > 0, 1, _scalar_setting(s)).astype(out.dtype)],
    "sigmoid": lambda i, out, s: [out * (1 - out)],
    "tanh": lambda i, out, s: [1 - out * out],
    "clamp": lambda i, out, s: [(out == i[0]).astype(out.dtype)],  # 1 where clamping left the value alone
    "cast": lambda i, out, s: [np.ones_like(out)],
}

NAMES = {"relu": "ReLU", "sigmoid": "σ", "tanh": "tanh", "leaky_relu": "LeakyReLU"}
"""How the activations are written in formulas: ``A₁ = ReLU(Z₁)``, ``A₁ = σ(Z₁)``."""

DERIVATIVE_TEXT = {
    "relu": "1 where {z} > 0, else 0",
    "sigmoid": "σ({z})·(1 − σ({z})) = {a}·(1 − {a})",
    "tanh": "1 − tanh²({z}) = 1 − {a}²",
    "leaky_relu": "1 where {z} > 0, else {slope}",
}
"""The activations' local derivatives, written with the step's symbols ``{z}`` (in) and ``{a}`` (out)."""


def activation_text(op: Op, settings: tuple, argument: str) -> str:
    """How an activation is applied, with its setting when it has one: ``LeakyReLU(Z₁; slope 0.01)``."""
    if op.name == "leaky_relu":
        return f"{NAMES[op.name]}({argument}; slope {_scalar_setting(settings):g})"
    return f"{NAMES[op.name]}({argument})"


def derivative_text(op: Op, settings: tuple, z: str, a: str) -> str:
    """The activation's local derivative written with the step's symbols (and its slope)."""
    slope = f"{_scalar_setting(settings):g}" if op.name == "leaky_relu" else ""
    return DERIVATIVE_TEXT[op.name].format(z=z, a=a, slope=slope)


def has_local_derivative(op: Op) -> bool:
    """True when ``op`` is elementwise, so its local derivative is an array like its output."""
    return op.name in _LOCAL


def local_derivatives(op: Op, inputs: tuple, output: Array, settings: tuple) -> list[Array] | None:
    """``∂out/∂input`` for each input of an elementwise op, broadcast to the output's shape.

    ``None`` for ops that are not elementwise (their Jacobian is not a diagonal).
    """
    rule = _LOCAL.get(op.name)
    if rule is None:
        return None
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        locals_ = rule(tuple(np.asarray(value) for value in inputs), np.asarray(output), settings)
    return [np.broadcast_to(np.asarray(value, dtype=np.result_type(output, np.float32)), output.shape).copy()
            for value in locals_]
