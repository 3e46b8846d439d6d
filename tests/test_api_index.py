"""Ops that pick, move, repeat or scan entries (issue 11, item 1), against PyTorch 2.13 and finite differences.

Each case runs the same call on glassgrad and PyTorch in float64 and compares the values, the
integer outputs (indices) and the gradients for a random upstream; ``gg.gradcheck`` checks the
same functions on hypothesis-drawn shapes. Kinks: ``prod``/``cumprod`` at zeros (one zero, two
zeros), ``sort``/``topk`` with ties (a stable order), ``scatter`` overwriting entries.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg

# id → (input shape, call on glassgrad or PyTorch: f(x, lib) with lib the module: gg or torch)
CASES = {
    "cumsum_0": ((3, 4), lambda x, lib: x.cumsum(0)),
    "cumsum_-1": ((2, 3, 4), lambda x, lib: x.cumsum(-1)),
    "cumprod_1": ((3, 4), lambda x, lib: x.cumprod(1)),
    "prod_all": ((3, 4), lambda x, lib: x.prod()),
    "prod_dim": ((3, 4), lambda x, lib: x.prod(1)),
    "prod_keepdim": ((2, 3, 2), lambda x, lib: x.prod(0, keepdim=True)),
    "roll_dims": ((3, 4), lambda x, lib: x.roll((1, -2), (0, 1))),
    "roll_flat": ((3, 4), lambda x, lib: x.roll(5)),
    "flip": ((2, 3, 4), lambda x, lib: x.flip((0, 2))),
    "flip_function": ((3, 4), lambda x, lib: lib.flip(x, [1])),
    "tril": ((4, 5), lambda x, lib: x.tril()),
    "tril_-1_batched": ((2, 4, 3), lambda x, lib: x.tril(-1)),
    "triu_1": ((4, 5), lambda x, lib: x.triu(1)),
    "diag_of_vector": ((4,), lambda x, lib: x.diag(1)),
    "diag_of_matrix": ((3, 5), lambda x, lib: x.diag(-1)),
    "diagonal": ((2, 3, 4), lambda x, lib: x.diagonal(1, 2, 0)),
    "gather": ((3, 4), lambda x, lib: x.gather(1, lib.tensor(np.array([[0, 0], [3, 1], [2, 2]])))),
    "gather_dim0_smaller": ((3, 4), lambda x, lib: x.gather(0, lib.tensor(np.array([[2, 0, 1]])))),
    "index_select": ((3, 4), lambda x, lib: x.index_select(1, lib.tensor(np.array([3, 0, 3])))),
    "scatter_src": ((3, 4), lambda x, lib: x.scatter(1, lib.tensor(np.array([[2], [0], [3]])), x[:, :1] * 3)),
    "scatter_value": ((3, 4), lambda x, lib: x.scatter(0, lib.tensor(np.array([[1, 2, 0, 1]])), 0.5)),
    "scatter_add": ((3, 4), lambda x, lib: x.scatter_add(1, lib.tensor([[1, 1], [0, 3], [2, 2]]), x[:, 1:3] ** 2)),
    "masked_fill": ((3, 4), lambda x, lib: x.masked_fill(x > 0.3, -1.5)),
    "masked_fill_broadcast_mask": ((3, 4), lambda x, lib: x.masked_fill(lib.tensor([True, False, False, True]), 2.0)),
    "masked_select": ((3, 4), lambda x, lib: x.masked_select(x < 0)),
    "repeat": ((2, 3), lambda x, lib: x.repeat(2, 1, 3)),
    "repeat_interleave_int": ((2, 3), lambda x, lib: x.repeat_interleave(2, dim=1)),
    "repeat_interleave_counts": ((3, 2), lambda x, lib: x.repeat_interleave(lib.tensor(np.array([1, 0, 3])), dim=0)),
    "repeat_interleave_flat": ((2, 3), lambda x, lib: x.repeat_interleave(2)),
    "unfold": ((3, 7), lambda x, lib: x.unfold(1, 3, 2)),
    "unfold_dim0": ((5, 2), lambda x, lib: x.unfold(0, 2, 1)),
    "sort_values": ((3, 5), lambda x, lib: x.sort(dim=1, descending=True).values),
    "sort_dim0": ((4, 3), lambda x, lib: x.sort(0)[0]),
    "topk_values": ((3, 6), lambda x, lib: x.topk(3).values),
    "topk_smallest_dim0": ((5, 3), lambda x, lib: x.topk(2, dim=0, largest=False)[0]),
    "chunk": ((5, 4), lambda x, lib: x.chunk(3)[1] * 2 + x.chunk(3)[2].sum()),
    "split_sections": ((3, 6), lambda x, lib: x.split([1, 2, 3], dim=1)[2] * x.split([1, 2, 3], dim=1)[0]),
    "unflatten": ((3, 6), lambda x, lib: x.unflatten(1, (2, 3)).sum(1)),
    "t": ((3, 4), lambda x, lib: x.t()),
    "mm": ((3, 4), lambda x, lib: x.mm(x.t())),
    "bmm": ((2, 3, 4), lambda x, lib: x.bmm(x.transpose(1, 2))),
    "view_as_expand_as": ((2, 3), lambda x, lib: x.view_as(lib.zeros(3, 2)) * x.sum(0)[:2].expand_as(lib.zeros(3, 2))),
    "clip": ((3, 4), lambda x, lib: lib.clip(x, -0.5, 0.5)),
}
INTEGER_CASES = {
    "sort_indices": ((3, 5), lambda x, lib: x.sort(dim=1, descending=True).indices),
    "argsort": ((3, 5), lambda x, lib: x.argsort(0)),
    "topk_indices": ((3, 6), lambda x, lib: x.topk(3)[1]),
    "nonzero": ((3, 4), lambda x, lib: (x > 0).nonzero()),
    "any_dim": ((3, 4), lambda x, lib: (x > 0.5).any(1)),
    "all_dim_keepdim": ((3, 4), lambda x, lib: (x > -0.5).all(0, keepdim=True)),
    "isclose": ((3, 4), lambda x, lib: lib.isclose(x, x + 1e-9)),
    "comparisons": ((3, 4), lambda x, lib: lib.stack([x.eq(0.1), x.ne(x), x.lt(0), x.le(0), x.gt(0), x.ge(0)])),
}


def _data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


@pytest.mark.torch
@pytest.mark.parametrize("case", list(CASES))
def test_values_and_gradients_match_pytorch(case, torch):
    shape, call = CASES[case]
    data = _data(shape)
    ours, theirs = gg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, expected = call(ours, gg), call(theirs, torch)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-13, atol=1e-15)
    upstream = np.random.default_rng(1).normal(size=out.shape)
    out.backward(gg.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("case", list(INTEGER_CASES))
def test_indices_and_bool_results_match_pytorch(case, torch):
    shape, call = INTEGER_CASES[case]
    data = _data(shape)
    out, expected = call(gg.tensor(data), gg), call(torch.tensor(data), torch)
    assert out.tolist() == expected.tolist()
    assert str(out.dtype) == str(expected.dtype).removeprefix("torch.")


KINKS = np.array([-0.5, 0.0, 0.3, 0.5])
"""Where a case above switches (clip's bounds, the masks' thresholds): finite differences of step 1e-6 across one
measure the jump, not the slope."""


@pytest.mark.parametrize("case", list(CASES))
@given(seed=st.integers(0, 2**16))
def test_gradients_match_finite_differences(case, seed):
    shape, call = CASES[case]
    values = _data(shape, seed)
    near = np.abs(values[..., None] - KINKS).min(axis=-1) < 1e-4
    x = gg.tensor(np.where(near, values + 1e-3, values), requires_grad=True)  # (seed 444 drew −0.50000095)
    assert gg.gradcheck(lambda a: call(a, gg), (x,), raise_exception=True).ok


shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data())
def test_scans_and_moves_of_any_shape_match_finite_differences(shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = gg.tensor(_data(shape, seed), requires_grad=True)
    for call in (lambda a: a.cumsum(dim), lambda a: a.cumprod(dim), lambda a: a.prod(dim), lambda a: a.flip(dim),
                 lambda a: a.roll(1, dim), lambda a: a.sort(dim)[0], lambda a: a.repeat_interleave(2, dim),
                 lambda a: a.unfold(dim, 1, 1), lambda a: a.index_select(dim, gg.tensor([0, 0]))):
        assert gg.gradcheck(call, (x,), raise_exception=True).ok


@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data())
def test_gather_of_any_shape_matches_pytorchs_definition(shape, seed, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    index = np.random.default_rng(seed).integers(0, shape[dim], size=shape)
    x = gg.tensor(_data(shape, seed), requires_grad=True)
    out = x.gather(dim, gg.tensor(index))
    expected = np.take_along_axis(x.numpy(), index, axis=dim)  # out[…i…] = x[…index[…i…]…] along dim
    np.testing.assert_array_equal(out.numpy(), expected)
    assert gg.gradcheck(lambda a: a.gather(dim, gg.tensor(index)), (x,), raise_exception=True).ok


@pytest.mark.torch
@pytest.mark.parametrize("zeros", [[1], [0, 2]])
def test_prod_and_cumprod_at_zeros_match_pytorch(zeros, torch):
    data = _data((6,))
    data[zeros] = 0.0
    for call in (lambda x: x.prod(), lambda x: x.cumprod(0)):
        ours, theirs = gg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        call(ours).sum().backward()
        call(theirs).sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)
        assert np.all(np.isfinite(ours.grad.numpy()))


@pytest.mark.torch
def test_sort_and_topk_of_ties_are_stable_and_send_each_gradient_to_one_entry(torch):
    data = [3.0, 1.0, 3.0, 1.0, 2.0]
    x = gg.tensor(data, requires_grad=True)
    values, indices = x.sort(descending=True)
    expected = torch.tensor(data).sort(descending=True, stable=True)
    assert indices.tolist() == expected.indices.tolist() == [0, 2, 4, 1, 3]
    (values * gg.tensor([1.0, 10.0, 100.0, 1000.0, 10000.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 1000.0, 10.0, 10000.0, 100.0]
    assert x.topk(2, largest=False).indices.tolist() == [1, 3]


@pytest.mark.torch
def test_integer_scans_and_products_give_int64_as_pytorch(torch):
    data = [[1, 2, 3], [4, 5, 6]]
    for call in (lambda x: x.cumsum(1), lambda x: x.cumprod(0), lambda x: x.prod(), lambda x: x.prod(1)):
        ours, theirs = call(gg.tensor(data, dtype=gg.int32)), call(torch.tensor(data, dtype=torch.int32))
        assert ours.tolist() == theirs.tolist() and ours.dtype == np.int64 and str(theirs.dtype) == "torch.int64"


@pytest.mark.torch
def test_chunk_and_split_give_pytorchs_pieces(torch):
    for n, chunks in [(5, 3), (6, 4), (2, 5), (7, 2)]:
        ours = [t.shape[0] for t in gg.arange(n).chunk(chunks)]
        assert ours == [t.shape[0] for t in torch.arange(n).chunk(chunks)]
    assert [t.tolist() for t in gg.arange(7).split(3)] == [t.tolist() for t in torch.arange(7).split(3)]


def test_chunk_and_split_are_views_as_in_pytorch():
    x = gg.zeros(6)
    x.split(2)[1][0] = 5.0
    assert x.tolist() == [0.0, 0.0, 5.0, 0.0, 0.0, 0.0]


def test_in_place_fills_of_integer_tensors_and_masks():
    counts = gg.zeros((3, 3), dtype=gg.int32)
    counts[1, 2] += 1
    counts[1, 2] += 1
    counts[0] += 3
    assert counts.tolist() == [[3, 3, 3], [0, 0, 2], [0, 0, 0]] and counts.dtype == np.int32
    x = gg.zeros(2, 3)
    x.masked_fill_(gg.tensor([True, False, True]), 7.0)
    assert x.tolist() == [[7.0, 0.0, 7.0], [7.0, 0.0, 7.0]]
    onehot = gg.zeros(2, 4).scatter_(1, gg.tensor([[3], [1]]), 1.0)
    assert onehot.tolist() == [[0, 0, 0, 1], [0, 1, 0, 0]]


def test_masked_fill_with_a_value_that_requires_grad_sends_it_the_masked_sum():
    x = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    value = gg.tensor(0.5, requires_grad=True)
    out = x.masked_fill(gg.tensor([True, False, True]), value)
    (out * gg.tensor([1.0, 2.0, 4.0])).sum().backward()
    assert out.tolist() == [0.5, 2.0, 0.5] and value.grad.item() == 5.0 and x.grad.tolist() == [0.0, 2.0, 0.0]


@pytest.mark.parametrize("value_learns", [False, True])
@pytest.mark.parametrize("input_learns", [False, True])
def test_fill_sends_the_value_the_sum_and_the_input_zeros(input_learns, value_learns):
    """``gg.fill(x, v)``: every entry is v, so ∂L/∂v = Σ ∂L/∂out, and ∂L/∂x is zeros (PyTorch's, not None)."""
    if not (input_learns or value_learns):
        out = gg.fill(gg.tensor([1.0, 2.0]), gg.tensor(3.0))
        assert out.tolist() == [3.0, 3.0] and not out.requires_grad
        return
    x = gg.tensor([[1.0, -2.0, 3.0]], dtype=gg.float64, requires_grad=input_learns)
    value = gg.tensor(0.5, dtype=gg.float64, requires_grad=value_learns) if value_learns else 0.5
    out = gg.fill(x, value)
    (out * gg.tensor([[1.0, 2.0, 4.0]], dtype=gg.float64)).sum().backward()
    assert out.dtype == gg.float64 and out.tolist() == [[0.5, 0.5, 0.5]]
    assert (x.grad.tolist() == [[0.0, 0.0, 0.0]]) if input_learns else x.grad is None
    if value_learns:
        assert value.grad.item() == 7.0


def test_fill_of_integers_takes_no_gradient_and_a_value_must_be_0_d():
    out = gg.fill(gg.tensor([1, 2]), gg.tensor(2.7, requires_grad=True))
    assert out.tolist() == [2, 2] and out.dtype == gg.int64 and not out.requires_grad
    with pytest.raises(RuntimeError, match=r"fill: the value must be a number or a 0-d tensor, got one of shape"):
        gg.fill(gg.ones(3), gg.ones(2))


@pytest.mark.parametrize("call, message", [
    (lambda: gg.ones(3, 4).gather(1, gg.tensor([0, 1, 2])), "gather: the index must have as many dims"),
    (lambda: gg.ones(3, 4).gather(1, gg.tensor([[4]])), "gather: index 4 is out of bounds for dim 1 of size 4"),
    (lambda: gg.ones(3, 4).gather(1, gg.tensor([[0.0]])), "gather: the index must hold integers"),
    (lambda: gg.ones(3, 4).index_select(0, gg.tensor([[0]])), "index_select: the index must be 1-D"),
    (lambda: gg.ones(3, 4).masked_fill(gg.ones(3, 4), 0.0), "masked_fill: the mask must be a bool tensor"),
    (lambda: gg.ones(3, 4).masked_fill(gg.ones(4, 3) > 0, 0.0), r"masked_fill: a mask of shape \(4, 3\) does not"),
    (lambda: gg.ones(3, 4).topk(5), r"topk: k \(5\) must be a whole number in \[0, 4\]"),
    (lambda: gg.ones(3, 4).repeat(2), "repeat: give at least one size per dim"),
    (lambda: gg.ones(3).repeat_interleave(gg.tensor([1, 2])), "repeat_interleave: 2 repeats for 3 entries"),
    (lambda: gg.ones(3).unfold(0, 4, 1), r"unfold: size \(4\) must be in \[0, 3\]"),
    (lambda: gg.ones(3).tril(), "tril: needs a matrix"),
    (lambda: gg.ones(2, 3, 4).t(), "t\\(\\) expects a tensor with <= 2 dims"),
    (lambda: gg.ones(3).mm(gg.ones(3, 3)), "mm: both operands must be matrices"),
    (lambda: gg.ones(2, 3, 4).bmm(gg.ones(3, 4, 2)), "bmm: expected two 3-D tensors with the same batch size"),
    (lambda: gg.ones(6).split([2, 3]), r"split: the sizes \[2, 3\] add up to 5, but dim 0 has 6 entries"),
    (lambda: gg.ones(6).chunk(0), "chunk: chunks must be a whole number > 0"),
    (lambda: gg.ones(6).roll((1, 2), 0), r"roll: 2 shift\(s\) for 1 dim\(s\)"),
    (lambda: gg.ones(2, 2).flip((0, 0)), "flip: dim 0 appears more than once in dims="),
    (lambda: gg.ones(2, 2).diag().diag().diag(), None),
    (lambda: gg.ones(2, 2, 2).diag(), "diag: expects a 1-D or 2-D tensor"),
    (lambda: gg.ones(3, requires_grad=True).scatter_(0, gg.tensor([0]), 2.0),
     "a leaf Variable that requires grad is being used in an in-place"),
])
def test_bad_arguments_are_one_line_errors(call, message):
    if message is None:
        call()  # a vector → matrix → vector → matrix round trip is fine
        return
    with pytest.raises((RuntimeError, TypeError, IndexError)) as error:
        call()
    assert re.search(message, str(error.value)) and "\n" not in str(error.value)


matrix_shapes = hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4)


@pytest.mark.torch
@given(shape=matrix_shapes, seed=st.integers(0, 2**16), data=st.data())
def test_matrix_ops_of_any_shape_match_pytorch(shape, seed, data, torch):
    k = data.draw(st.integers(-3, 3))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    calls = [lambda x, lib: x.tril(k), lambda x, lib: x.triu(k), lambda x, lib: x.diagonal(k, 0, -1),
             lambda x, lib: x.repeat(2, *([1] * len(shape))), lambda x, lib: x.cumsum(dim),
             lambda x, lib: x.cumprod(dim), lambda x, lib: x.prod(dim), lambda x, lib: x.roll(k, dim),
             lambda x, lib: x.masked_fill(x > 0, 0.25), lambda x, lib: x.sort(dim, descending=True)[0],
             lambda x, lib: x.topk(1, dim)[0], lambda x, lib: x.repeat_interleave(2, dim)]
    values = _data(shape, seed)
    for call in calls:
        ours, theirs = gg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        out, expected = call(ours, gg), call(theirs, torch)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-15)
        upstream = np.random.default_rng(seed + 1).normal(size=out.shape)
        out.backward(gg.tensor(upstream))
        expected.backward(torch.tensor(upstream))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.torch
@given(data=hnp.arrays(np.float32, st.integers(1, 400), elements=st.floats(-1e8, 1e8, width=32)),
       half=st.booleans(), scan=st.sampled_from(["cumsum", "cumprod"]))
def test_running_sums_and_products_are_carried_as_pytorch_carries_them(data, half, scan, torch):
    """PyTorch's CPU ``cumsum``/``cumprod`` carry a float32 running total in float64 (float16 in float32) and round
    each entry once: ``cumsum`` of (1e8, 1, −1e8) ends at 1. glassgrad carried it in float32 and ended at 0, and over
    100,000 float32 numbers drifted about 1e-3 from PyTorch's sums. Values, and cumsum's gradient (a running sum
    too), must be PyTorch's to the last bit."""
    if scan == "cumprod":
        data = (1 + data / 1e9).astype(np.float32)  # products near 1, so that they neither overflow nor vanish
    if half:
        data = (data / 1e6 if scan == "cumsum" else data).astype(np.float16)  # |sums| < 65504: no overflow to ∞
    ours, theirs = gg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, expected = getattr(ours, scan)(0), getattr(theirs, scan)(0)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    if scan == "cumsum":
        upstream = data[::-1].copy()
        out.backward(gg.tensor(upstream))
        expected.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_a_float32_running_sum_keeps_what_float32_totals_lose():
    """By hand: 1e8 + 1 is 1e8 in float32, so a float32 total of (1e8, 1, −1e8) ends at 0; carried in float64 it is
    1, as PyTorch gives."""
    assert gg.tensor([1e8, 1.0, -1e8]).cumsum(0).tolist() == [1e8, 1e8, 1.0]
