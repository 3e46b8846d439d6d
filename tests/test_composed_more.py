"""Joins, cuts, products and picks made of other ops (``glassgrad.composed_joins``, ``composed_products``,
``composed_picks``) and the layout queries (``stride``, ``is_contiguous``, ``nbytes``, ``itemsize``), against
PyTorch 2.13.

Each case draws its sizes and values with hypothesis, calls the same function in both libraries in float64,
and compares the result, the gradient of a weighted sum of squares into every input, and (where PyTorch has
one: not ``cdist``) a second derivative.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from derivatives import value_and_derivatives
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _cat_pieces(lib, pieces, dim):
    return lib.cat([piece * (k + 1) for k, piece in enumerate(pieces)], dim)


# name: (function of (lib, *tensors), the inputs' shapes from three drawn sizes n, m, k, has a second derivative)
CASES = {
    "tensordot_int": (lambda lib, a, b: lib.tensordot(a, b, dims=2), lambda n, m, k: [(n, m, k), (m, k, n)], True),
    "tensordot_lists": (lambda lib, a, b: lib.tensordot(a, b, dims=([0, 2], [2, 0])),
                        lambda n, m, k: [(n, m, k), (k, m, n)], True),
    "tensordot_outer": (lambda lib, a, b: lib.tensordot(a, b, dims=0), lambda n, m, k: [(n,), (m, k)], True),
    "tensordot_every_dim": (lambda lib, a, b: lib.tensordot(a, b, dims=2), lambda n, m, k: [(n, m), (n, m)], True),
    "kron": (lambda lib, a, b: lib.kron(a, b), lambda n, m, k: [(n, m), (k, n)], True),
    "kron_method_fewer_dims": (lambda lib, a, b: a.kron(b), lambda n, m, k: [(n,), (m, k)], True),
    "cdist": (lambda lib, a, b: lib.cdist(a, b), lambda n, m, k: [(n, k), (m, k)], False),
    "cdist_zero_distances": (lambda lib, a, b: lib.cdist(a, lib.cat([b, a * 1])), lambda n, m, k: [(n, k), (m, k)],
                             False),
    "cdist_batched_broadcast": (lambda lib, a, b: lib.cdist(a, b), lambda n, m, k: [(2, n, k), (1, m, k)], False),
    "baddbmm": (lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=0.5, alpha=2.0),
                lambda n, m, k: [(n, m, k), (n, m, 2), (n, 2, k)], True),
    "baddbmm_method_broadcast": (lambda lib, c, a, b: c.baddbmm(a, b), lambda n, m, k: [(k,), (n, m, 2), (n, 2, k)],
                                 True),
    "block_diag": (lambda lib, a, b, c: lib.block_diag(a, b, c), lambda n, m, k: [(n, m), (k,), ()], True),
    "hstack": (lambda lib, a, b: lib.hstack([a, b]), lambda n, m, k: [(n, m), (n, k)], True),
    "hstack_vectors": (lambda lib, a, b: lib.hstack((a, b)), lambda n, m, k: [(n,), (m,)], True),
    "vstack": (lambda lib, a, b: lib.vstack([a, b]), lambda n, m, k: [(m,), (n, m)], True),
    "row_stack": (lambda lib, a, b: lib.row_stack([a, b]), lambda n, m, k: [(n, m), (k, m)], True),
    "dstack": (lambda lib, a, b: lib.dstack([a, b]), lambda n, m, k: [(n, m), (n, m, k)], True),
    "dstack_vectors": (lambda lib, a, b: lib.dstack([a, b]), lambda n, m, k: [(n,), (n,)], True),
    "column_stack": (lambda lib, a, b, c: lib.column_stack([a, b, c]), lambda n, m, k: [(n,), (n, m), (n, k)], True),
    "atleast": (lambda lib, a, b, c: lib.cat([t.reshape(-1) for t in (*lib.atleast_3d(a, b), lib.atleast_2d(c))]),
                lambda n, m, k: [(), (n, m), (k,)], True),
    "tensor_split_sections": (lambda lib, a: _cat_pieces(lib, lib.tensor_split(a, 3, dim=1), 1),
                              lambda n, m, k: [(n, m + k)], True),
    "tensor_split_indices": (lambda lib, a: _cat_pieces(lib, a.tensor_split([1, k_cut(a), 9], dim=-1), -1),
                             lambda n, m, k: [(n, m + 1)], True),
    "tile": (lambda lib, a: lib.tile(a, (2,)), lambda n, m, k: [(n, m)], True),
    "tile_more_dims": (lambda lib, a: a.tile((2, 1, 3)), lambda n, m, k: [(n, m)], True),
    "diag_embed": (lambda lib, a: lib.diag_embed(a), lambda n, m, k: [(n, m)], True),
    "diag_embed_offset_dims": (lambda lib, a: lib.diag_embed(a, offset=2, dim1=0, dim2=2),
                               lambda n, m, k: [(n, m)], True),
    "diag_embed_negative_offset": (lambda lib, a: a.diag_embed(-1, 2, 1), lambda n, m, k: [(n, k, m)], True),
    "kthvalue": (lambda lib, a: lib.kthvalue(a, a.shape[1], dim=1).values.unsqueeze(1) * 2
                 + a.kthvalue(1, 0, True)[0], lambda n, m, k: [(n, m)], True),
    "index_copy": (lambda lib, a, s: lib.index_copy(a, 0, lib.tensor(list(range(a.shape[0]))[::2]), s),
                   lambda n, m, k: [(2 * n, m), (n, m)], True),
    "index_copy_in_place": (lambda lib, a, s: (a * 1).index_copy_(1, lib.tensor([m_last(a)]), s),
                            lambda n, m, k: [(n, m), (n, 1)], True),
    "masked_scatter": (lambda lib, a, s: a.masked_scatter(a > 0, s), lambda n, m, k: [(n, m), (n * m + k,)], True),
    "masked_scatter_broadcast_mask": (lambda lib, a, s: lib.masked_scatter(a, lib.tensor([True, False] * m_half(a)),
                                                                           s),
                                      lambda n, m, k: [(n, 2 * m), (n * m,)], True),
    "index_put_accumulate": (lambda lib, a, v: a.index_put((lib.tensor([0, a.shape[0] - 1, 0]),), v, accumulate=True),
                             lambda n, m, k: [(n, m), (3, m)], True),
    "index_put_pairs_in_place": (lambda lib, a, v: (a * 1).index_put_((lib.tensor([a.shape[0] - 1, 0]),
                                                                       lib.tensor([0, a.shape[1] - 1])), v),
                                 lambda n, m, k: [(n, m), (1,)], True),
}


def k_cut(a):
    return a.shape[-1] // 2


def m_last(a):
    return a.shape[1] - 1


def m_half(a):
    return a.shape[1] // 2


def _results(lib, name, arrays, outer, inner):
    function, _, smooth = CASES[name]
    return value_and_derivatives(lib, function, smooth, arrays, outer, inner)


@pytest.mark.torch
@given(sizes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_derivatives_match_pytorch(torch, name, sizes, seed):
    shapes = CASES[name][1](*sizes)
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=shape) for shape in shapes]
    outer, inner = rng.normal(size=256), [rng.normal(size=shape) for shape in shapes]
    mine, theirs = _results(gg, name, arrays, outer, inner), _results(torch, name, arrays, outer, inner)
    assert len(mine) == len(theirs)
    for ours, reference in zip(mine, theirs):
        assert ours.shape == reference.shape
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 3.0, math.inf])
@given(seed=st.integers(0, 2**16))
def test_cdist_for_any_p_with_zero_distances_and_zero_coordinates_matches_pytorch(torch, p, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 3))
    b[:, 1] = a[:, 2]  # pairs at distance 0
    b[0, 3, 0] = a[0, 0, 0]  # a pair with one coordinate equal
    upstream = rng.normal(size=(2, 4, 5))
    found = []
    for lib in (gg, torch):
        x1, x2 = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = lib.cdist(x1, x2, p=p)
        (out * lib.tensor(upstream)).sum().backward()
        found.append([out.detach().numpy(), x1.grad.numpy(), x2.grad.numpy()])
    for ours, reference in zip(*found):
        assert not np.isnan(ours).any()
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("make", [
    lambda lib: lib.arange(24.0).reshape(2, 3, 4),
    lambda lib: lib.arange(24.0).reshape(2, 3, 4).transpose(0, 2),
    lambda lib: lib.arange(24.0).reshape(2, 3, 4)[:, 1:, ::2],
    lambda lib: lib.arange(24.0).reshape(2, 3, 4).permute(1, 0, 2),
    lambda lib: lib.arange(3.0).reshape(3, 1).expand(3, 4),
    lambda lib: lib.arange(6.0).unsqueeze(0).unsqueeze(2),
    lambda lib: lib.tensor(5.0),
    lambda lib: lib.zeros(0, 3),
    lambda lib: lib.arange(6, dtype=lib.int64).reshape(2, 3).t(),
])
def test_stride_is_contiguous_nbytes_and_itemsize_match_pytorch(torch, make):
    mine, theirs = make(gg), make(torch)
    assert mine.stride() == theirs.stride()
    assert all(mine.stride(d) == theirs.stride(d) for d in range(-mine.ndim, mine.ndim))
    assert mine.is_contiguous() == theirs.is_contiguous()
    assert (mine.nbytes, mine.itemsize) == (theirs.nbytes, theirs.itemsize)


def test_a_flipped_view_counts_as_the_contiguous_copy_pytorch_makes():
    flipped = gg.arange(6.0).reshape(2, 3).flip(1)
    assert flipped.stride() == (3, 1) and flipped.is_contiguous()


LAYOUTS = {  # a view of a base tensor (made from the same numbers in both libraries), by name
    "transposed": lambda x: x.t(),
    "permuted": lambda x: x.reshape(2, 3, 2).permute(2, 0, 1),
    "every_other_column": lambda x: x[:, ::2],
    "narrowed_rows": lambda x: x[1:3],
    "expanded": lambda x: x[:1].expand(3, 4),
    "already_contiguous": lambda x: x.reshape(6, 2),
    "flipped": lambda x: x.flip(1),
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_contiguous_copies_exactly_where_pytorch_copies(torch, name):
    """``contiguous()`` returns the tensor itself when its layout is row-major already, and otherwise a row-major
    copy: changing the copy in place leaves the original alone (it used to return every view itself, so that
    ``x.t().contiguous().add_(1)`` changed ``x``), and the gradient flows back unchanged."""
    mine_base, their_base = gg.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    mine_view, their_view = LAYOUTS[name](mine_base), LAYOUTS[name](their_base)
    mine, theirs = mine_view.contiguous(), their_view.contiguous()
    assert (mine is mine_view) == (theirs is their_view)
    assert mine.is_contiguous() and theirs.is_contiguous() and mine.stride() == theirs.stride()
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    if theirs is not their_view:
        mine.add_(100.0)
        theirs.add_(100.0)
        np.testing.assert_array_equal(mine_base.numpy(), their_base.numpy())
        assert mine_base.numpy().max() == 11.0

    mine_leaf = gg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    their_leaf = torch.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    weights = np.linspace(-1.0, 2.0, mine.numel()).reshape(mine.shape)
    (LAYOUTS[name](mine_leaf).contiguous() * gg.tensor(weights)).square().sum().backward()
    (LAYOUTS[name](their_leaf).contiguous() * torch.tensor(weights)).square().sum().backward()
    np.testing.assert_allclose(mine_leaf.grad.numpy(), their_leaf.grad.numpy(), rtol=1e-12)


def test_function_forms_in_place_forms_and_views():
    x = gg.arange(6.0).reshape(2, 3)
    first, second = x.tensor_split(2, dim=1)
    assert np.shares_memory(first.array, x.array) and first.shape == (2, 2) and second.shape == (2, 1)
    assert gg.tile(x, (2,)).shape == (2, 6) and x.tile(2, 1, 1).shape == (2, 2, 3)
    y = gg.zeros(3)
    assert y.index_copy_(0, gg.tensor([1]), gg.tensor([4.0])) is y and y.tolist() == [0.0, 4.0, 0.0]
    assert y.masked_scatter_(gg.tensor([True, False, True]), gg.tensor([7.0, 8.0])).tolist() == [7.0, 4.0, 8.0]
    found = gg.kthvalue(gg.tensor(3.0), 1)
    assert (found.values.item(), found.indices.item()) == (3.0, 0)
    assert gg.block_diag().shape == (1, 0)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.tensordot(gg.ones(2, 3), gg.ones(4, 2), dims=1), "contracted dimensions need to match"),
    (lambda: gg.tensordot(gg.ones(2), gg.ones(2), dims=-1), "tensordot: dims must be >= 0"),
    (lambda: gg.tensordot(gg.ones(2), gg.ones(2), dims=([0], [0, 0])), "both lists of dims must be as long"),
    (lambda: gg.cdist(gg.ones(3), gg.ones(2, 3)), "cdist: needs tensors with at least 2 dims"),
    (lambda: gg.cdist(gg.ones(2, 3), gg.ones(2, 4)), "x1 and x2 must have the same number of columns"),
    (lambda: gg.cdist(gg.ones(2, 3), gg.ones(2, 3), p=-1), "cdist: p must be a number >= 0"),
    (lambda: gg.baddbmm(gg.ones(2, 2), gg.ones(2, 2), gg.ones(2, 2)), "baddbmm: batch1 must be 3-D"),
    (lambda: gg.block_diag(gg.ones(1, 1, 1)), "block_diag: input 0 has 3 dims"),
    (lambda: gg.tensor_split(gg.ones(4), 0), "number of sections must be larger than 0"),
    (lambda: gg.tensor_split(gg.ones(4), 1.5), "tensor_split: indices_or_sections must be a whole number"),
    (lambda: gg.diag_embed(gg.ones(2), dim1=0, dim2=-2), "diag_embed: dim1=0 and dim2=-2 must be two different"),
    (lambda: gg.kthvalue(gg.ones(2, 3), 4), "kthvalue: k=4 is out of range for dim -1 of size 3"),
    (lambda: gg.index_copy(gg.ones(3, 2), 0, gg.tensor([0]), gg.ones(2, 2)), "index_copy: source must have shape"),
    (lambda: gg.masked_scatter(gg.ones(3), gg.tensor([1, 0, 1]), gg.ones(3)), "mask must be a bool tensor"),
    (lambda: gg.masked_scatter(gg.ones(3), gg.tensor([True, True, True]), gg.ones(2)),
     "source has 2 entries but the mask chooses 3"),
    (lambda: gg.index_put(gg.ones(3), (gg.tensor([5]),), gg.ones(1)), "index_put: index 5 is out of bounds"),
    (lambda: gg.index_put(gg.ones(3, 2), (gg.tensor([0, 1]),), gg.ones(3)), "index_put: values of shape (3,)"),
    (lambda: gg.hstack(gg.ones(2)), "hstack expects a non-empty list or tuple of tensors"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises((RuntimeError, IndexError, TypeError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_every_new_function_is_a_gg_name_and_traced_as_its_ops():
    import glassgrad.composed_joins as joins
    import glassgrad.composed_picks as picks
    import glassgrad.composed_products as products

    for module in (joins, picks, products):
        public = [name for name, value in vars(module).items() if callable(value) and not name.startswith("_")
                  and getattr(value, "__module__", "") == module.__name__]
        assert public and all(name in gg.__all__ for name in public), set(public) - set(gg.__all__)
    a = gg.tensor([[1.0, 2.0]], requires_grad=True)
    with gg.trace() as tape:
        gg.kron(a, a).sum().backward()
    assert [step["op"] for step in tape.describe()["forward"]] == ["reshape", "reshape", "mul", "reshape", "sum"]
