"""What learners write in "neural networks from zero" courses (makemore style), run as PyTorch runs it.

The backprop-by-hand exercise builds the embedding table's gradient by hand, into a plain tensor of zeros,
from values that are themselves in the graph (they were computed from tensors that require grad)::

    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]

``dC[i] += v`` takes the view ``dC[i]`` outside the graph, adds ``v`` to it in place, and writes it back:
PyTorch records it (the view joins the graph, and so does ``dC``). Oracle: PyTorch 2.13 in float64.
"""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

SIZES = st.tuples(st.integers(1, 6), st.integers(1, 4), st.integers(1, 5), st.integers(1, 4))  # rows, n, batch, block


def hand_made_gradient(lib, C, indices, weights):
    """The exercise's loop: ``dC[ix] += demb[k, j]`` into zeros, ``demb`` in the graph; then a loss of dC."""
    demb = (C[indices] * 2.0).tanh()  # in the graph, as the learner's manual gradients are
    dC = lib.zeros_like(C)
    for k in range(indices.shape[0]):
        for j in range(indices.shape[1]):
            ix = indices[k, j]
            dC[ix] += demb[k, j]
    (dC * weights).sum().backward()
    return dC


@settings(max_examples=25, deadline=None)
@given(SIZES, st.integers(0, 2**32 - 1))
def test_the_hand_made_embedding_gradient_loop_matches_pytorch(torch, sizes, seed):
    rows, n_embd, batch, block = sizes
    rng = np.random.default_rng(seed)
    table, weights = rng.standard_normal((rows, n_embd)), rng.standard_normal((rows, n_embd))
    indices = rng.integers(0, rows, size=(batch, block))
    ours_C = gg.tensor(table, requires_grad=True)
    theirs_C = torch.tensor(table, requires_grad=True)
    ours = hand_made_gradient(gg, ours_C, gg.tensor(indices), gg.tensor(weights))
    theirs = hand_made_gradient(torch, theirs_C, torch.tensor(indices), torch.tensor(weights))
    assert ours.requires_grad and theirs.requires_grad
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_C.grad.numpy(), theirs_C.grad.numpy(), rtol=1e-12, atol=1e-12)


def accumulate_after_a_look(lib, C, method, indices):
    """``index_add_``/``index_put_`` of graph values into zeros the learner printed a row of first."""
    d = lib.zeros_like(C)
    str(d[0])  # a view of d, taken and dropped outside the graph
    values = C[: len(indices)] * 3.0
    if method == "index_add_":
        d.index_add_(0, lib.tensor(indices), values)
    else:
        d.index_put_((lib.tensor(indices),), values, accumulate=True)
    (d * d).sum().backward()
    return d


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.sampled_from(["index_add_", "index_put_"]), st.data())
def test_accumulating_into_zeros_after_a_view_was_dropped_matches_pytorch(torch, rows, cols, method, data):
    indices = data.draw(st.lists(st.integers(0, rows - 1), min_size=1, max_size=rows))
    table = np.random.default_rng(rows * 7 + cols).standard_normal((rows, cols))
    ours_C, theirs_C = gg.tensor(table, requires_grad=True), torch.tensor(table, requires_grad=True)
    ours = accumulate_after_a_look(gg, ours_C, method, indices)
    theirs = accumulate_after_a_look(torch, theirs_C, method, indices)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_C.grad.numpy(), theirs_C.grad.numpy(), rtol=1e-12)


def change_beside_a_live_view(lib, w, start, stop, look_start, look_stop):
    """A plain tensor changed in place through one slice by a graph value, while a slice of it is held."""
    x = lib.zeros(w.shape[0], dtype=lib.float64)
    held = x[look_start:look_stop]
    x[start:stop] += w[start:stop] * 2.0
    loss = (held * lib.arange(1.0, 1.0 + held.shape[0], dtype=lib.float64)).sum() + x.sum()
    loss.backward()
    return held


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.data())
def test_a_held_view_of_a_plain_tensor_joins_the_graph_as_in_pytorch(torch, size, data):
    start = data.draw(st.integers(0, size - 1))
    stop = data.draw(st.integers(start + 1, size))
    look_start = data.draw(st.integers(0, size - 1))
    look_stop = data.draw(st.integers(look_start + 1, size))
    values = np.linspace(-1.0, 1.0, size)
    ours_w, theirs_w = gg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    ours = change_beside_a_live_view(gg, ours_w, start, stop, look_start, look_stop)
    theirs = change_beside_a_live_view(torch, theirs_w, start, stop, look_start, look_stop)
    assert ours.requires_grad == theirs.requires_grad
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_w.grad.numpy(), theirs_w.grad.numpy(), rtol=1e-12)


def copies_of_a_view_and_its_tensor(lib, copy_of, a, b):
    """``copy.deepcopy`` of a view and of the tensor it views (a model copied with its buffers), then changes of the
    copies by graph values: the copies are tensors of their own, the original and its view stay as they were."""
    x = lib.zeros(4, dtype=lib.float64)
    held = x[1:3]
    view_copy, tensor_copy = copy_of(held), copy_of(x)
    view_copy += a
    tensor_copy += b
    (view_copy * lib.tensor([1.0, -2.0], dtype=lib.float64)).sum().backward()
    (tensor_copy * tensor_copy).sum().backward()
    return [x, held, view_copy, tensor_copy], held.requires_grad


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_copies_of_views_are_tensors_of_their_own_as_in_pytorch(torch, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(2), rng.standard_normal(4)
    found = []
    for lib in (gg, torch):
        leaves = [lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)]
        tensors, held_requires_grad = copies_of_a_view_and_its_tensor(lib, copy.deepcopy, *leaves)
        found.append(([t.detach().numpy().copy() for t in tensors + [leaf.grad for leaf in leaves]],
                      held_requires_grad))
    (ours, our_flag), (theirs, their_flag) = found
    assert our_flag == their_flag
    for mine, its in zip(ours, theirs):
        np.testing.assert_allclose(mine, its, rtol=1e-12)


def backprop_by_hand_with_g(lib, x, w1, w2, target):
    """fast.ai's backprop from the foundations: each step stores its input's gradient as the attribute ``.g``."""
    def lin_grad(inp, out, w):
        inp.g = out.g @ w.t()
        w.g = (inp.unsqueeze(-1) * out.g.unsqueeze(1)).sum(0)

    l1 = x @ w1
    l2 = l1.clamp_min(0.0)
    out = l2 @ w2
    out.g = 2.0 * (out.squeeze(-1) - target).unsqueeze(-1) / out.shape[0]  # ∂ mean((out − y)²) / ∂out
    lin_grad(l2, out, w2)
    l1.g = (l1 > 0).double() * l2.g
    lin_grad(x, l1, w1)
    return [w1.g, w2.g, x.g]


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_gradients_kept_as_tensor_attributes_match_pytorchs_autograd(torch, rows, inputs, hidden, seed):
    rng = np.random.default_rng(seed)
    x, w1, w2 = (rng.standard_normal(shape) for shape in ((rows, inputs), (inputs, hidden), (hidden, 1)))
    target = rng.standard_normal(rows)
    ours = backprop_by_hand_with_g(gg, *(gg.tensor(a) for a in (x, w1, w2, target)))
    leaves = [torch.tensor(a, requires_grad=True) for a in (x, w1, w2)]
    ((leaves[0] @ leaves[1]).clamp_min(0.0) @ leaves[2]).squeeze(-1).sub(torch.tensor(target)).pow(2).mean().backward()
    for mine, leaf in zip(ours, (leaves[1], leaves[2], leaves[0])):
        np.testing.assert_allclose(mine.numpy(), leaf.grad.numpy(), rtol=1e-10, atol=1e-12)
    kept = gg.zeros(2)
    kept.g = gg.ones(2)
    assert copy.deepcopy(kept).g.tolist() == [1.0, 1.0]  # a copy keeps them, as PyTorch's does
