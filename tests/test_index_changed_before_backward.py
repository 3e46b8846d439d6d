"""An index changed in place between the forward and ``backward()`` is refused, as PyTorch 2.13 refuses it.

``x[i]`` keeps ``i`` to scatter the gradient back; changing ``i`` afterwards routed the gradient by the new
positions (``[0, 20, 10]`` where the forward read rows 0 and 1 and the gradient is ``[10, 20, 0]``).
"""

from __future__ import annotations

import numpy as np
import pytest
from one_line_errors import assert_raises_as_pytorch

import glassgrad as gg

PICKS = {
    "x[i]": (lambda lib, x, i, mask: x[i], lambda i, mask: i.__setitem__(0, 2)),
    "x[i, None]": (lambda lib, x, i, mask: x[i, None].squeeze(1), lambda i, mask: i.__setitem__(0, 2)),
    "take": (lambda lib, x, i, mask: x.take(i), lambda i, mask: i.__setitem__(0, 2)),
    "take_along_dim": (lambda lib, x, i, mask: lib.take_along_dim(x, i), lambda i, mask: i.add_(1)),
    "x[mask]": (lambda lib, x, i, mask: x[mask], lambda i, mask: mask.copy_(mask.logical_not())),
}


def _run(lib, pick: str, change: bool):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i, mask = lib.tensor([0, 1]), lib.tensor([True, True, False])
    forward, edit = PICKS[pick]
    out = forward(lib, x, i, mask)
    if change:
        edit(i, mask)
    (out * lib.tensor([10.0, 20.0])).sum().backward()
    return x.grad.numpy()


@pytest.mark.torch
@pytest.mark.parametrize("pick", list(PICKS))
def test_a_changed_index_is_refused_at_backward_as_pytorch_refuses_it(torch, pick):
    error = assert_raises_as_pytorch(lambda lib: _run(lib, pick, change=True), torch)
    assert "modified by an inplace operation" in str(error)


@pytest.mark.torch
@pytest.mark.parametrize("pick", list(PICKS))
def test_an_unchanged_index_gives_pytorchs_gradient(torch, pick):
    np.testing.assert_array_equal(_run(gg, pick, change=False), _run(torch, pick, change=False))


def test_an_index_written_through_keeps_the_positions_it_wrote():
    """y[i] = v copies i for its backward, so i changed afterwards changes nothing: the gradient is that of the write
    made. (PyTorch refuses this at backward instead; glassgrad's gradient is right, so it is kept.)"""
    for change in (False, True):
        np.testing.assert_array_equal(_written_gradient(change), [0.0, 0.0, 10.0])


def _written_gradient(change: bool):
    x = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = gg.tensor([0, 1])
    y = x * 1
    y[i] = gg.tensor([5.0, 6.0])  # y = [5, 6, x₂]: the gradient reaches x₂ alone
    if change:
        i[1] = 2  # after the write, which kept its own copy of the positions
    (y * gg.tensor([1.0, 1.0, 10.0])).sum().backward()
    return x.grad.numpy()


def test_an_index_whose_copy_was_read_may_change():
    x = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = gg.tensor([0, 1])
    out = x[i.clone()]
    i[0] = 2  # the forward read a copy
    out.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 0.0]


@pytest.mark.torch
def test_a_slice_bound_given_as_a_0d_tensor_is_read_when_sliced_as_pytorch(torch):
    """x[i:] kept the 0-d i itself inside the slice: after i += 1 the backward broke on NumPy's broadcast error;
    PyTorch reads the bound as a number when it slices."""
    grads = []
    for library in (gg, torch):
        x = library.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        i = library.tensor(1)
        y = x[i:]
        i += 1
        y.sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1] == [0.0, 1.0, 1.0, 1.0]
