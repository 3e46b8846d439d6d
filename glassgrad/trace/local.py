"""Local derivatives ``∂out/∂input`` of the elementwise ops, as numbers, for the trace.

An elementwise row of the rule table (:mod:`glassgrad.ops`) carries its local derivative as a
function (``op.local``) beside the text (``op.derivatives``); here it is applied to the values
the tape recorded, so a trace can show the three factors of the chain rule side by side::

    contribution = upstream ⊙ local          (∂L/∂a = ∂L/∂out ⊙ ∂out/∂a)

e.g. the ReLU mask ``1 where z > 0, else 0``, the sigmoid's ``σ(z)·(1 − σ(z))``. Ops whose
Jacobian is not diagonal (``matmul``, ``sum``, ``softmax`` …) have no such function: for them
:func:`local_derivatives` returns ``None`` and the trace shows the row's text.

>>> import numpy as np
>>> from glassgrad import ops
>>> local_derivatives(ops.RELU, (np.array([-1.0, 2.0]),), np.array([0.0, 2.0]), ())[0].tolist()
[0.0, 1.0]
"""

from __future__ import annotations

import numpy as np

from ..ops import Op

Array = np.ndarray


def local_derivatives(op: Op, inputs: tuple, output: Array, settings: tuple) -> list[Array] | None:
    """``∂out/∂input`` for each input of an elementwise op, broadcast to the output's shape.

    ``None`` for ops without a local derivative (their Jacobian is not a diagonal).
    """
    if op.local is None:
        return None
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        locals_ = op.local(tuple(np.asarray(value) for value in inputs), np.asarray(output), settings)
    return [np.broadcast_to(np.asarray(value, dtype=np.result_type(output, np.float32)), output.shape).copy()
            for value in locals_]
