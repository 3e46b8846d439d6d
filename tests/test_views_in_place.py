"""In-place changes through views, against PyTorch 2.13 in float64: a change PyTorch refuses is refused (in one
line), and a change it makes reaches the same numbers and the same gradients. Never a change that moves the
numbers while the gradient goes on as before (the pieces of ``split``, ``chunk``, ``unbind``, ``tensor_split``
and ``hsplit`` did that: they shared the tensor's memory without being known as its views)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

PIECES = {
    "split": lambda b: b.split(2)[1],
    "chunk": lambda b: b.chunk(3)[0],
    "unbind": lambda b: b.reshape(2, 3).unbind(0)[1],
    "tensor_split": lambda b: b.tensor_split(2)[1],
    "hsplit": lambda b: b.hsplit(2)[0],
    "vsplit": lambda b: b.reshape(2, 3).vsplit(2)[1],
    "split_with_sizes": lambda b: b.split_with_sizes([4, 2])[0],
}
EDITS = {"mul_": lambda v: v.mul_(3), "item assignment": lambda v: v.__setitem__(0, 7.0), "add_": lambda v: v.add_(1)}


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("piece", sorted(PIECES))
def test_changing_a_piece_of_a_tensor_in_the_graph_is_refused(piece, edit):
    a = gg.tensor(np.arange(1.0, 7.0), requires_grad=True)
    b = a * 1
    view = PIECES[piece](b)
    with pytest.raises(RuntimeError, match="on a view .* of a tensor in the graph is not supported"):
        EDITS[edit](view)
    np.testing.assert_array_equal(b.detach().numpy(), np.arange(1.0, 7.0))  # nothing was written


@pytest.mark.parametrize("piece", sorted(PIECES))
def test_changing_the_tensor_after_cutting_it_is_followed(piece):
    """PyTorch allows the change (it refuses only a later use of the piece); the piece reads the tensor again, as
    its slice, so a gradient through it is the slice's of the new numbers."""
    a = gg.tensor(np.arange(1.0, 7.0), requires_grad=True)
    b = a * 1
    kept = PIECES[piece](b)  # a live piece
    b.mul_(3)
    np.testing.assert_array_equal(kept.detach().numpy().reshape(-1), b.detach().numpy().reshape(-1)[
        np.isin(np.arange(1.0, 7.0) * 3, kept.detach().numpy())])
    (b.sum() + (kept * kept).sum()).backward()
    expected = np.full(6, 3.0)
    chosen = np.isin(np.arange(1.0, 7.0) * 3, kept.detach().numpy())
    expected[chosen] += 2 * 9 * np.arange(1.0, 7.0)[chosen]
    np.testing.assert_array_equal(a.grad.numpy(), expected)


@pytest.mark.torch
@pytest.mark.parametrize("piece", sorted(PIECES))
def test_pieces_outside_the_graph_write_into_the_tensor_as_pytorchs(torch, piece):
    ours, theirs = gg.zeros(6, dtype=gg.float64), torch.zeros(6, dtype=torch.float64)
    PIECES[piece](ours).fill_(5.0)
    PIECES[piece](theirs).fill_(5.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), offset=st.integers(-4, 4), data=st.data())
def test_a_diagonal_is_a_view_writes_reach_the_tensor_as_in_pytorch(torch, shape, offset, data):
    """``A.diagonal().add_(λ)`` (a ridge, a jitter) changes A in PyTorch; it was a copy here, so A stayed as it was."""
    dim1 = data.draw(st.integers(-len(shape), len(shape) - 1))
    dim2 = data.draw(st.integers(-len(shape), len(shape) - 1).filter(lambda d: d % len(shape) != dim1 % len(shape)))
    start = np.random.default_rng(0).normal(size=shape)
    ours, theirs = gg.tensor(start), torch.tensor(start)
    view_ours, view_theirs = ours.diagonal(offset, dim1, dim2), theirs.diagonal(offset, dim1, dim2)
    np.testing.assert_array_equal(view_ours.numpy(), view_theirs.numpy())
    view_ours.add_(2.5)
    view_theirs.add_(2.5)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours[..., 0] = -1.0  # and a change of the tensor shows in the view
    theirs[..., 0] = -1.0
    np.testing.assert_array_equal(view_ours.numpy(), view_theirs.numpy())


@pytest.mark.torch
def test_diag_of_a_matrix_is_a_new_tensor_as_in_pytorch(torch):
    for library in (gg, torch):
        matrix = library.ones(2, 2)
        library.diag(matrix).fill_(9.0)
        assert matrix.sum().item() == 4.0


def test_changing_the_diagonal_of_a_tensor_in_the_graph_reaches_its_gradient():
    """``b.diagonal().mul_(3)`` of b = 2a was refused: PyTorch records it, and so does glassgrad now (b becomes its
    old value with the diagonal written, a setitem). L = Σ b²: ∂L/∂a = 2b·2 off the diagonal, 2b·3·2 on it."""
    a = gg.tensor(np.arange(1.0, 10.0).reshape(3, 3), dtype=gg.float64, requires_grad=True)
    b = a * 2
    b.diagonal().mul_(3)
    (b * b).sum().backward()
    twice = 2 * np.arange(1.0, 10.0).reshape(3, 3)
    expected = np.where(np.eye(3, dtype=bool), 2 * (3 * twice) * 6, 2 * twice * 2)
    np.testing.assert_array_equal(a.grad.numpy(), expected)


def test_fill_diagonal_keeps_the_gradient_of_the_other_entries():
    """``y.fill_diagonal_(v)`` wrote a constant copy of all of y (copy_ of an array): ∂L/∂x lost y's path
    everywhere. Now only the diagonal is written. y = 1.5x, diagonal := −1, L = Σ y²: ∂L/∂x = 4.5x off the
    diagonal, 0 on it."""
    x = gg.tensor(np.arange(1.0, 13.0).reshape(3, 4), dtype=gg.float64, requires_grad=True)
    y = x * 1.5
    y.fill_diagonal_(-1.0)
    (y * y).sum().backward()
    on = np.eye(3, 4, dtype=bool)
    np.testing.assert_array_equal(x.grad.numpy(), np.where(on, 0.0, 4.5 * np.arange(1.0, 13.0).reshape(3, 4)))
    np.testing.assert_array_equal(y.detach().numpy()[on], [-1.0, -1.0, -1.0])


VIEWS = {  # name: (can it be taken of this shape?, the view)
    "flat": (lambda shape: len(shape) >= 1, lambda t: t.reshape(-1)),
    "transpose": (lambda shape: len(shape) == 2, lambda t: t.t()),
    "row": (lambda shape: len(shape) >= 2 and shape[0] >= 2, lambda t: t[1]),
    "columns": (lambda shape: len(shape) == 2 and shape[1] >= 3, lambda t: t[:, 1:3]),
    "tail": (lambda shape: len(shape) == 1 and shape[0] >= 3, lambda t: t[2:]),
    "unsqueeze": (lambda shape: len(shape) <= 2, lambda t: t.unsqueeze(0)),
    "squeeze": (lambda shape: len(shape) == 3 and shape[0] == 1, lambda t: t.squeeze(0)),
    "narrow": (lambda shape: len(shape) >= 1 and shape[-1] >= 3, lambda t: t.narrow(-1, 1, 2)),
    "diagonal": (lambda shape: len(shape) >= 2, lambda t: t.diagonal()),
    "diagonal above": (lambda shape: len(shape) >= 2, lambda t: t.diagonal(1, -1, 0)),
}
def add_to_the_first(lib, t) -> None:
    """``t[0] += 2``: Python reads the view ``t[0]``, changes it in place, and assigns it back."""
    t[0] += 2.0


CHANGES = {  # name: the in-place change (each library's own tensors)
    "first += 2": add_to_the_first,
    "mul_": lambda lib, t: t.mul_(1.5),
    "add_": lambda lib, t: t.add_(0.25),
    "first = 2": lambda lib, t: t.__setitem__(0, 2.0),
    "masked = -1": lambda lib, t: t.__setitem__(t > 0.5, -1.0),
    "clamp_": lambda lib, t: t.clamp_(-0.5, 0.75),
    "copy_": lambda lib, t: t.copy_(lib.full_like(t, 0.5)),
}


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.booleans(), st.integers(0, 99), st.integers(0, 99)), min_size=1, max_size=6),
       seed=st.integers(0, 2**16))
def test_changes_through_views_give_pytorchs_numbers_and_gradients(torch, steps, seed):
    """Views taken of views, in-place changes of any of them (the tensor follows its views, and the views their
    tensor), then one loss of all of them: the same numbers and the same gradient as PyTorch's, or the same
    refusal (a rule's saved tensor changed since)."""
    start = np.random.default_rng(seed).normal(size=(3, 4))
    outcomes = []
    for lib in (gg, torch):
        leaf = lib.tensor(start, requires_grad=True)
        tensors = [leaf * 1.5]
        refused = None
        for make_view, first, second in steps:
            tensor = tensors[first % len(tensors)]
            if make_view:
                choices = [view for name, (fits, view) in sorted(VIEWS.items()) if fits(tuple(tensor.shape))]
                tensors.append(choices[second % len(choices)](tensor))
            else:
                CHANGES[sorted(CHANGES)[second % len(CHANGES)]](lib, tensor)
        weights = np.random.default_rng(seed + 1)
        loss = sum((t * lib.tensor(weights.normal(size=tuple(t.shape)))).sum() for t in tensors)
        try:
            loss.backward()
        except RuntimeError as error:  # a tensor a rule saved was changed in place since: refused by both
            refused = "modified by an inplace operation" in str(error)
            assert refused, str(error)
        outcomes.append(([t.detach().numpy().copy() for t in tensors], refused,
                         None if refused else leaf.grad.numpy().copy()))
    (ours, our_refusal, our_grad), (theirs, their_refusal, their_grad) = outcomes
    for mine, its in zip(ours, theirs):
        np.testing.assert_allclose(mine, its, rtol=1e-12, atol=1e-12)
    assert our_refusal == their_refusal
    if our_grad is not None:
        np.testing.assert_allclose(our_grad, their_grad, rtol=1e-10, atol=1e-12)
