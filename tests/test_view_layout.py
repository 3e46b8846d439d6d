"""``view`` shares memory or refuses, never copies: a change made through it reaches the tensor, and its
gradient, as in PyTorch. The results PyTorch lays out row-major whatever their input's order (reductions,
softmax, running totals, indexing by arrays, joins) are row-major here too, so ``view`` works on the same
tensors as PyTorch's; an elementwise result keeps its input's order in both, and both refuse ``view`` of it
where the new shape cannot step through the memory.

Before, ``view`` copied silently any op result NumPy had laid out in another order: ``(w * 1)[:, [2, 0, 1]]
.view(-1).mul_(10)`` left the indexed tensor as it was, and ``w.grad`` came out 1 where it is 10."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

ROW_MAJOR = {  # op results PyTorch allocates row-major whatever the input's order (float64, 3 dims in)
    "sum(1)": lambda L, a: a.sum(1),
    "sum(0, keepdim)": lambda L, a: a.sum(0, keepdim=True),
    "mean(2)": lambda L, a: a.mean(2),
    "amax(1)": lambda L, a: a.amax(1),
    "max(0).values": lambda L, a: a.max(0)[0],
    "min(2).values": lambda L, a: a.min(2)[0],
    "std(1)": lambda L, a: a.std(1),
    "var(0)": lambda L, a: a.var(0),
    "prod(1)": lambda L, a: a.prod(1),
    "logsumexp(2)": lambda L, a: a.logsumexp(2),
    "vector_norm(dim=1)": lambda L, a: L.linalg.vector_norm(a, dim=1),
    "softmax(1)": lambda L, a: a.softmax(1),
    "log_softmax(0)": lambda L, a: a.log_softmax(0),
    "cumsum(2)": lambda L, a: a.cumsum(2),
    "cumprod(1)": lambda L, a: a.cumprod(1),
    "a[:, index]": lambda L, a: a[:, [1, 0, 1]],
    "a[:, :, index]": lambda L, a: a[:, :, [0, 1, 0]],
    "index_select(2)": lambda L, a: a.index_select(2, L.tensor([1, 0])),
    "einsum(ijk->ik)": lambda L, a: L.einsum("ijk->ik", a),
    "cat(dim=1)": lambda L, a: L.cat([a, a], 1),
    "stack(dim=2)": lambda L, a: L.stack([a, a], 2),
    "roll(1, 1)": lambda L, a: a.roll(1, 1),
    "masked_fill": lambda L, a: a.masked_fill(a > 0, 0.0),
    "adaptive_avg_pool1d": lambda L, a: L.nn.functional.adaptive_avg_pool1d(a, 2),
    "batch_norm": lambda L, a: L.nn.functional.batch_norm(a, None, None, training=True),
    "instance_norm": lambda L, a: L.nn.functional.instance_norm(a),
    "rms_norm": lambda L, a: L.nn.functional.rms_norm(a, (4,)),
}

PERMUTATIONS = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]


def _input(lib, values: np.ndarray, order: tuple):
    """A leaf of ``values``' shape whose memory is laid out in ``order``, and the tensor the ops read (its view)."""
    leaf = lib.tensor(np.ascontiguousarray(values.transpose(order)), dtype=lib.float64, requires_grad=True)
    return leaf, leaf.permute(*np.argsort(order).tolist())


def _steps(t) -> tuple:
    """The strides that matter: a dim of size 1 is never stepped along (PyTorch's stride there is arbitrary)."""
    return tuple(step for size, step in zip(t.shape, t.stride()) if size != 1)


def test_a_change_through_the_view_of_an_indexed_result_reaches_it_and_its_gradient():
    w = gg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    picked = (w * 1)[:, [2, 0, 1]]
    flat = picked.view(-1)
    assert np.shares_memory(flat.detach().numpy(), picked.detach().numpy())
    flat.mul_(10)
    np.testing.assert_array_equal(picked.detach().numpy(), [[30.0, 10.0, 20.0], [60.0, 40.0, 50.0]])
    picked.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((2, 3), 10.0))  # ∂(Σ 10·wᵢ)/∂wᵢ = 10


def test_view_of_an_elementwise_result_in_its_inputs_order_is_refused_not_copied():
    x = gg.tensor(np.arange(6.0).reshape(2, 3))
    doubled = x.t() * 2  # keeps x.t()'s order: stride (1, 3)
    assert doubled.stride() == (1, 3)
    with pytest.raises(RuntimeError, match=r"cannot be a view .* use \.reshape\(\.\.\.\)"):
        doubled.view(-1)
    np.testing.assert_array_equal(doubled.reshape(-1).numpy(), [0.0, 6.0, 2.0, 8.0, 4.0, 10.0])


@settings(max_examples=120, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=4), order_seed=st.integers(0, 10**6),
       ops=st.lists(st.sampled_from(["exp", "permute", "slice", "sum", "index", "cat"]), max_size=4),
       new_shape_seed=st.integers(0, 10**6))
def test_view_shares_memory_or_refuses(shape, order_seed, ops, new_shape_seed):
    rng = np.random.default_rng(order_seed)
    t = gg.tensor(rng.standard_normal(shape))
    for op in ops:  # tensors of many layouts: views, elementwise results in their input's order, new results
        if op == "exp":
            t = t.exp()
        elif op == "permute":
            t = t.permute(*rng.permutation(t.ndim).tolist())
        elif op == "slice" and t.ndim and t.shape[0] > 1:
            t = t[::2]
        elif op == "sum" and t.ndim > 1:
            t = t.sum(int(rng.integers(t.ndim)))
        elif op == "index" and t.ndim and t.shape[-1]:
            t = t[..., rng.integers(t.shape[-1], size=2)]
        elif op == "cat" and t.ndim:
            t = gg.cat([t, t], int(rng.integers(t.ndim)))
    sizes = list(t.shape)
    np.random.default_rng(new_shape_seed).shuffle(sizes)
    new_shape = (-1, *sizes[1:]) if sizes and 0 not in sizes else tuple(sizes)
    try:
        view = t.view(new_shape)
    except RuntimeError as error:
        assert "cannot be a view" in str(error) and "\n" not in str(error)
        return
    if t.numel():
        assert np.shares_memory(view.numpy(), t.numpy())
    np.testing.assert_array_equal(view.numpy(), t.numpy().reshape(new_shape))


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(ROW_MAJOR))
@settings(max_examples=12, deadline=None)
@given(order=st.sampled_from(PERMUTATIONS), seed=st.integers(0, 10**6))
def test_new_results_are_laid_out_as_pytorchs_and_a_change_through_their_view_counts(torch, name, order, seed):
    """Where PyTorch's result is row-major, glassgrad's is too, and a change through ``view(-1)`` gives PyTorch's
    numbers and gradients. (Indexing and pooling keep the order of a permuted input in PyTorch, so that its view
    is refused; glassgrad's row-major result takes the view: a program PyTorch refuses runs here.)"""
    values = np.random.default_rng(seed).standard_normal((2, 3, 4))
    torch_leaf, torch_a = _input(torch, values, order)
    torch_out = ROW_MAJOR[name](torch, torch_a)
    leaf, a = _input(gg, values, order)
    out = ROW_MAJOR[name](gg, a)
    np.testing.assert_allclose(out.detach().numpy(), torch_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    if not torch_out.is_contiguous():
        assert order != (0, 1, 2), f"{name}: PyTorch's result of a row-major input is not row-major"
        return
    assert out.is_contiguous()
    assert _steps(out) == _steps(torch_out)
    for result in (out, torch_out):
        result.view(-1).mul_(3)  # a view: the change reaches the result
    np.testing.assert_allclose(out.detach().numpy(), torch_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    try:
        (torch_out * torch_out).sum().backward()
    except RuntimeError as error:  # its rule reads the changed output back (amax's): PyTorch refuses the backward
        assert "modified by an inplace operation" in str(error)
        return
    (out * out).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), torch_leaf.grad.numpy(), rtol=1e-10, atol=1e-10)


ELEMENTWISE = {"exp": lambda t: t.exp(), "mul": lambda t: t * 2, "add": lambda t: t + 1, "relu": lambda t: t.relu()}


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(order=st.sampled_from(PERMUTATIONS), op=st.sampled_from(["exp", "mul", "add", "relu"]),
       seed=st.integers(0, 10**6))
def test_view_of_an_elementwise_result_works_where_pytorchs_does(torch, order, op, seed):
    values = np.random.default_rng(seed).standard_normal((2, 3, 4))
    outcomes = []
    for lib in (gg, torch):
        _, a = _input(lib, values, order)
        out = ELEMENTWISE[op](a)
        try:
            out.view(6, 4)
            outcomes.append((_steps(out), "view"))
        except RuntimeError:
            outcomes.append((_steps(out), "refused"))
    assert outcomes[0] == outcomes[1]
