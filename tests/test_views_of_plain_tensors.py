"""In-place writes of a value that requires grad through views of a plain tensor (review of the course sweeps).

The oracle is PyTorch in float64 where it runs the program, and its refusal where it refuses: a plain tensor whose
memory glassgrad cannot follow back to its owner must be refused, never joined to the graph with a gradient lost.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

PIECES = {"split": lambda x: x.split(1)[1][0], "unbind": lambda x: x.unbind(0)[1][:],
          "chunk": lambda x: x.chunk(3)[1][0]}


@pytest.mark.parametrize("cut", sorted(PIECES))
def test_a_write_through_a_view_of_a_piece_is_refused_as_in_pytorch(torch, cut):
    """x.split(1)[1][0] += w made the piece join the graph but not x: (x·C).sum()'s gradient C[1] never reached w
    (w.grad was 2w, not 2w + C[1])."""
    for lib in (torch, gg):
        x, w = lib.zeros(3, 2, dtype=lib.float64), lib.tensor([0.3, -0.7], dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError):
            piece = PIECES[cut](x)
            piece += w


def test_a_long_chain_of_plain_views_is_refused_in_one_line_not_walked():
    """x = x[:] three thousand times, then a graph value written in: refused in one line (it raised RecursionError
    while following the chain, which also kept every link alive)."""
    x = gg.zeros(4)
    for _ in range(3000):
        x = x[:]
    w = gg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="clone"):
        x += w


@pytest.mark.parametrize("form", ["row", "rows by list", "reshape"])
def test_a_write_into_a_fresh_plain_tensor_joins_the_graph_as_in_pytorch(torch, form):
    """out = zeros(3, 2); out[1] += w (makemore's dC[ix] += demb[k, j]): the gradient reaches w as in PyTorch."""
    grads = []
    for lib in (torch, gg):
        C = lib.tensor(np.arange(6.0).reshape(3, 2) + 1)
        w = lib.tensor([0.3, -0.7], dtype=lib.float64, requires_grad=True)
        out = lib.zeros(3, 2, dtype=lib.float64)
        if form == "row":
            out[1] += w
        elif form == "rows by list":
            out[[0, 2]] += w * 2
        else:
            flat = out.reshape(6)
            flat += w.repeat(3)
        ((out * C).sum() + (w * w * out.sum()).sum()).backward()
        grads.append(w.grad.numpy().copy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)


def test_a_view_taken_under_no_grad_makes_a_later_graph_write_into_its_tensor_refused(torch):
    """A plain view taken under no_grad is not followed (inference takes many views and pays for none): changing its
    tensor later with a value that requires grad is refused, where PyTorch refuses the view's later use."""
    for lib in (torch, gg):
        x, w = lib.zeros(2, 2, dtype=lib.float64), lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
        with lib.no_grad():
            row = x[0]
        with pytest.raises(RuntimeError, match=None if lib is torch else "a view taken under no_grad"):
            x += w
            (row * 2).sum().backward()
