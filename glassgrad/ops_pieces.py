"""Rows of the rule table for cutting a tensor into pieces along a dim: ``unbind``, ``split``, ``chunk``.

Cutting ``a`` (L rows along ``dim``) into L pieces with L ``getitem`` steps would cost L full-size
arrays in backward: each step's ``∂L/∂a`` is zeros of ``a``'s shape with one row filled, and the engine
adds them up, so a recurrent layer that reads its L time steps this way pays ``L · size(a)`` — a backward
that grows with the square of the sequence length. Here the pieces meet first:

* ``pieces``: ``out = a``, the tensor about to be cut (a hidden step the pieces hang from);
  ``∂L/∂a = ∂L/∂out``, which is the buffer the pieces wrote into;
* ``piece``:  ``out = a[k]`` (one row along ``dim``; ``unbind``) or ``a[start:stop]`` (``split``);
  ``∂L/∂a`` is ``∂L/∂out`` written into that row of **one buffer shared by every piece**.

The first piece that backward reaches in a pass makes the buffer (zeros of ``a``'s shape), writes its
row and hands the buffer on as its contribution; every later piece of that pass writes its row into the
same buffer and hands on nothing (``None``: the buffer already carries it). The ``pieces`` step comes
after all of them (it was made before them), receives the full buffer as its upstream gradient and
closes the pass. Each piece's gradient is written once: the backward is linear in L. Rows no piece's
gradient reached stay 0, as for ``torch.unbind``.

The buffer is found through a holder that the ``pieces`` step's forward makes and every piece's forward
is given, with the number of the backward pass that made it (:data:`glassgrad.autograd.BACKWARD_PASS`): a
piece writes into it only in that same pass, so a pass broken off by an error leaves nothing a later pass
could mistake for its own. (Starting a second buffer within one pass is harmless: the engine adds the two,
as it adds any two contributions.) A trace shows the buffer as the first piece's contribution and no
contribution for the others. With ``create_graph=True`` each piece's gradient is recorded the plain way
(zeros with its place filled), so second derivatives need no buffer.

>>> import numpy as np
>>> from glassgrad.ops import RULES
>>> out, holder = RULES["pieces"].forward(np.arange(6.0).reshape(3, 2))
>>> RULES["piece"].forward(out, (1,), holder)[0].tolist()
[2.0, 3.0]
"""

from __future__ import annotations

import numpy as np

from .autograd import BACKWARD_PASS
from .ops import Op, register, written_into_zeros


class _Meeting:
    """Where the pieces write ∂L/∂a: the buffer, and the backward pass that handed it to the engine."""

    __slots__ = ("buffer", "backward_pass")

    def __init__(self) -> None:
        self.buffer: np.ndarray | None = None
        self.backward_pass = -1


def _pieces(a):
    holder = np.empty((), dtype=object)  # an array, so that a compiled step replays it as a value of its own
    holder[()] = _Meeting()
    return a.view(), holder


def _pieces_back(up, holder):
    meeting = holder[()]
    meeting.buffer = None  # the pass is complete: the next one starts afresh
    return (up,)


PIECES = register(Op(
    "pieces", "out = a, about to be cut into pieces",
    ("{up}: every piece's gradient, written into one buffer",),
    _pieces, _pieces_back, kind="shape", vjp_tensors=lambda up, inputs, out, saved: (up,),
))


def _piece(a, index, holder):
    return a[(*index, ...)], (a.shape, index, holder)  # ``...``: a 0-d piece is a view too, not a NumPy scalar


def _piece_back(up, saved):
    shape, index, holder = saved
    meeting = holder[()]
    if meeting.buffer is not None and meeting.backward_pass == BACKWARD_PASS[0]:
        meeting.buffer[index] = up  # the buffer already on its way to the pieces step carries it
        return (None,)
    buffer = np.zeros(shape, dtype=up.dtype)  # the first piece of this pass
    buffer[index] = up
    meeting.buffer, meeting.backward_pass = buffer, BACKWARD_PASS[0]
    return (buffer,)


def _piece_vjp(up, inputs, out, saved):
    """``up`` written into zeros of the input's shape at the piece's place (a recorded ``setitem``)."""
    shape, index, _ = saved
    return (written_into_zeros(up, shape, index),)


PIECE = register(Op(
    "piece", "out = a[k] along a dim (one piece of unbind/tensor_split)",
    ("{up} written into the piece's place of one buffer shared by all pieces",),
    _piece, _piece_back, kind="shape", vjp_tensors=_piece_vjp,
))
