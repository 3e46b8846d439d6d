"""Shape manipulation and the gather/scatter family against PyTorch 2.13 on drawn shapes and arguments.

cat/stack and their h/v/d/column forms, split/chunk/tensor_split/unbind, movedim/permute/transpose, flatten/
unflatten/squeeze/unsqueeze, reshape/view, expand/broadcast_to/broadcast_tensors, repeat/tile/repeat_interleave,
roll/flip/rot90, narrow/select/take/take_along_dim/unfold, gather/scatter/scatter_add/scatter_reduce/index_select/
index_add/index_copy, masked_select/masked_scatter/nonzero, tril/triu/diag/diag_embed/diagonal and block_diag/
cartesian_prod/combinations/atleast_nd, on float64, float32, int64 and bool tensors of drawn shapes (0-d, size-0
and size-1 dims included) with drawn arguments (negative and out-of-range dims, -1 sizes, sections lists):
glassgrad must give PyTorch's values, shapes, dtypes, aliasing (a write to the input shows in a view), gradients
of every float input under a random weighting, and for misuse PyTorch's exception class with a one-line message.

PyTorch's own quirks the fuzz steps around (noted in the round's report, not asserted): which write wins where a
plain ``scatter`` index repeats; ``take_along_dim`` with a dim reads an index past the end without a word (and may
crash); its backward of ``scatter``/``scatter_add``/``scatter_reduce`` with a ``src`` larger than the index fails,
and ``scatter_reduce(..., 'prod')`` gives src entries the index never reads a gradient; ``repeat_interleave`` with a
negative repeat and ``output_size`` segfaults.
"""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

# --- the fuzzer's core: a drawn op with its inputs, run the same way on either library ----------------------------


def _shape(r: random.Random, nd: int | None = None) -> tuple:
    nd = r.choice([0, 1, 1, 2, 2, 3]) if nd is None else nd
    return tuple(r.choice([0, 1, 2, 3]) if r.random() < 0.12 else r.choice([1, 2, 3, 4]) for _ in range(nd))


def _array(r: random.Random, shape: tuple, dtype: str = "float64") -> np.ndarray:
    data = np.asarray(np.random.RandomState(r.randint(0, 1 << 30)).randn(*shape))
    return {"int64": (data * 4).astype(np.int64), "bool": data > 0, "float32": data.astype(np.float32)}.get(dtype, data)


def _dim(r: random.Random, ndim: int) -> int:
    """A dim of a tensor of ``ndim`` dims, now and then one out of range."""
    return r.choice([ndim, -ndim - 1]) if r.random() < 0.06 else r.randint(-max(ndim, 1), max(ndim, 1) - 1)


def _places(r: random.Random, size: int, shape: tuple) -> np.ndarray:
    """Indices into a dim of ``size``, now and then one past the end."""
    rs = np.random.RandomState(r.randint(0, 1 << 30))
    index = rs.randint(0, max(size, 1), size=shape).astype(np.int64) if size else np.zeros(shape, np.int64)
    if r.random() < 0.05 and index.size:
        index.flat[0] = size + 1
    return index


def _draw(r: random.Random):
    """(name, input arrays, function of (library, *tensors)): one drawn call."""
    dtype = r.choice(["float64", "float64", "float64", "int64", "float32", "bool"])
    shape = _shape(r)
    nd = len(shape)
    x = _array(r, shape, dtype)
    d = _dim(r, nd)
    n = shape[d] if nd and -nd <= d < nd else 1
    op = r.choice(["cat", "stack", "hstack", "split", "chunk", "tensor_split", "unbind", "movedim", "permute",
                   "flatten", "unflatten", "squeeze", "unsqueeze", "reshape", "view", "expand", "repeat", "tile",
                   "repeat_interleave", "roll", "flip", "rot90", "narrow", "select", "take", "take_along_dim",
                   "unfold", "gather", "scatter_add", "scatter_reduce", "index_select", "masked_select", "nonzero",
                   "tril", "diagonal", "diag_embed", "block_diag", "atleast_2d"])
    if op in ("cat", "stack", "hstack"):
        pieces = [x]
        for _ in range(r.randint(0, 2)):
            other = list(shape)
            if op == "cat" and nd and -nd <= d < nd:
                other[d] = r.choice([0, 1, 2])
            pieces.append(_array(r, (0,) if r.random() < 0.1 else tuple(other), r.choice(["float64", "int64",
                                                                                          "float32"])))
        if op == "hstack":
            return op, pieces, lambda L, *t: L.hstack(t)
        return op, pieces, lambda L, *t: getattr(L, op)(list(t), d)
    if op in ("split", "chunk", "tensor_split"):
        if op == "split" and r.random() < 0.5:
            sizes, left = [], n
            while left > 0:
                sizes.append(r.randint(0, left))
                left -= sizes[-1]
            sizes += [1] if r.random() < 0.15 else []
            return op, [x], lambda L, t: L.split(t, sizes, d)
        if op == "tensor_split" and r.random() < 0.5:
            cuts = sorted(r.randint(-n - 1, n + 2) for _ in range(r.randint(0, 3)))
            return op, [x], lambda L, t: L.tensor_split(t, L.tensor(cuts, dtype=L.int64), dim=d)
        k = r.choice([1, 2, 3, 5, 0])
        return op, [x], lambda L, t: getattr(L, op)(t, k, d)
    if op == "unbind":
        return op, [x], lambda L, t: L.unbind(t, d)
    if op == "movedim":
        other = _dim(r, nd)
        return op, [x], lambda L, t: L.movedim(t, d, other)
    if op == "permute":
        order = [v - nd if r.random() < 0.3 else v for v in r.sample(range(nd), nd)]
        if r.random() < 0.1 and nd >= 2:
            order[1] = order[0]
        return op, [x], lambda L, t: t.permute(order)
    if op == "flatten":
        end = _dim(r, nd)
        return op, [x], lambda L, t: L.flatten(t, d, end)
    if op == "unflatten":
        sizes = r.choice([(n,), (-1, 1), (1, -1), (-1, -1), (n + 1,)] + ([(2, -1)] if n % 2 == 0 and n else []))
        return op, [x], lambda L, t: L.unflatten(t, d, sizes)
    if op == "squeeze":
        dims = tuple(_dim(r, nd) for _ in range(r.randint(0, 2)))
        return op, [x], lambda L, t: t.squeeze(dims)
    if op == "unsqueeze":
        at = _dim(r, nd + 1)
        return op, [x], lambda L, t: t.unsqueeze(at)
    if op in ("reshape", "view"):
        total = int(np.prod(shape))
        new = r.choice([(-1,), (total, 1), (1, -1), (-1, -1), (total + 1,), ()])
        if r.random() < 0.5 and nd >= 2:  # a transposed input: view refuses where PyTorch does
            return op, [x], lambda L, t: getattr(t.transpose(0, 1), op)(new)
        return op, [x], lambda L, t: getattr(t, op)(new)
    if op == "expand":
        sizes = tuple([r.choice([1, 2])] * r.randint(0, 1)) + tuple(r.choice([-1, 3, 0]) if s == 1 else
                                                                    r.choice([s, -1]) for s in shape)
        return op, [x], lambda L, t: t.expand(sizes)
    if op in ("repeat", "tile"):
        sizes = tuple(r.choice([0, 1, 2]) for _ in range(max(0, nd + r.choice([-1, 0, 0, 1]))))
        return op, [x], lambda L, t: t.repeat(sizes) if op == "repeat" else L.tile(t, sizes)
    if op == "repeat_interleave":
        counts = np.array([r.randint(0, 2) for _ in range(n)], np.int64)
        if r.random() < 0.5:
            return op, [x], lambda L, t: L.repeat_interleave(t, 2, dim=d)
        return op, [x], lambda L, t: L.repeat_interleave(t, L.tensor(counts), dim=d)
    if op == "roll":
        shifts, dims = tuple(r.randint(-5, 5) for _ in range(2)), (_dim(r, nd), _dim(r, nd))
        return op, [x], lambda L, t: L.roll(t, shifts, dims)
    if op == "flip":
        dims = tuple(_dim(r, nd) for _ in range(r.randint(0, 2)))
        return op, [x], lambda L, t: L.flip(t, dims)
    if op == "rot90":
        k, dims = r.randint(-5, 5), r.choice([(0, 1), (-1, 0), (1, 1), (0,), (0, 2)])
        return op, [x], lambda L, t: L.rot90(t, k, dims)
    if op == "narrow":
        start, length = r.randint(-n - 1, n), r.randint(0, n + 1)
        return op, [x], lambda L, t: L.narrow(t, d, start, length)
    if op == "select":
        at = r.randint(-n - 1, n)
        return op, [x], lambda L, t: L.select(t, d, at)
    if op == "take":
        picks = _places(r, int(np.prod(shape)), _shape(r, r.choice([0, 1, 2])))
        return op, [x], lambda L, t: L.take(t, L.tensor(picks))
    if op == "take_along_dim":
        if r.random() < 0.4:
            picks = _places(r, int(np.prod(shape)), _shape(r, r.choice([0, 1])))
            return op, [x], lambda L, t: L.take_along_dim(t, L.tensor(picks))
        ishape = tuple(r.choice([s, 1]) if i != d % max(nd, 1) else r.randint(0, 3) for i, s in enumerate(shape))
        picks = np.minimum(_places(r, n, ishape), max(n - 1, 0))  # PyTorch reads past the end here unchecked
        return op, [x], lambda L, t: L.take_along_dim(t, L.tensor(picks), d)
    if op == "unfold":
        size, step = r.randint(0, n + 1), r.randint(1, 2)
        return op, [x], lambda L, t: t.unfold(d, size, step)
    if op in ("gather", "scatter_add", "scatter_reduce", "index_select"):
        if op == "index_select":
            picks = _places(r, n, (r.randint(0, 4),))
            return op, [x], lambda L, t: L.index_select(t, d, L.tensor(picks))
        ishape = tuple(r.randint(0, s) for s in shape)
        if nd and -nd <= d < nd:
            ishape = ishape[:d % nd] + (r.randint(0, 4),) + ishape[d % nd + 1:]
        picks = _places(r, n, ishape)
        if op == "gather":
            return op, [x], lambda L, t: L.gather(t, d, L.tensor(picks))
        src = _array(r, ishape, "float64" if x.dtype == np.bool_ else x.dtype.name)  # PyTorch's backward fails on
        if op == "scatter_add":  # a src larger than the index
            return op, [x, src], lambda L, t, u: L.scatter_add(t, d, L.tensor(picks), u)
        reduce, own = r.choice(["sum", "prod", "mean", "amax", "amin"]), r.random() < 0.5
        return op, [x, src], lambda L, t, u: L.scatter_reduce(t, d, L.tensor(picks), u, reduce, include_self=own)
    if op == "masked_select":
        mask = _array(r, tuple(s if r.random() < 0.7 else 1 for s in shape), "bool")
        return op, [x], lambda L, t: L.masked_select(t, L.tensor(mask))
    if op == "nonzero":
        as_tuple = r.random() < 0.5
        return op, [x], lambda L, t: L.nonzero(t, as_tuple=as_tuple)
    if op in ("tril", "diagonal"):
        k = r.randint(-3, 3)
        other = _dim(r, nd)
        return op, [x], lambda L, t: L.tril(t, k) if op == "tril" else L.diagonal(t, k, d, other)
    if op == "diag_embed":
        k, first, second = r.randint(-2, 2), _dim(r, nd + 1), _dim(r, nd + 1)
        return op, [x], lambda L, t: L.diag_embed(t, k, first, second)
    if op == "block_diag":
        blocks = [x] + [_array(r, _shape(r, r.choice([0, 1, 2])), "float64") for _ in range(r.randint(0, 2))]
        if x.dtype == np.bool_:
            blocks[0] = blocks[0].astype(np.int64)
        return op, blocks, lambda L, *t: L.block_diag(*t)
    return op, [x], lambda L, t: L.atleast_2d(t)


def _outcome(lib, fn, inputs: list, seed: int):
    """What ``fn`` gives on fresh tensors from ``inputs``: the error's class and message, or for each output its
    values, shape and dtype name, whether a write to the inputs reaches it (a view), and the inputs' gradients."""
    tensors = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    try:
        out = fn(lib, *tensors)
    except Exception as error:  # noqa: BLE001 (the oracle's class is compared)
        return type(error), str(error)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    found = [(o.detach().numpy().copy(), tuple(o.shape), str(o.dtype).split(".")[-1]) for o in outs]
    grads = None
    floats = [o for o in outs if o.requires_grad]
    if floats:
        rs = np.random.RandomState(seed)
        loss = sum((o * lib.tensor(np.asarray(rs.randn(*o.shape)), dtype=o.dtype)).sum() for o in floats)
        loss.backward()
        grads = [None if t.grad is None else t.grad.numpy() for t in tensors]
    tensors = [lib.tensor(a) for a in inputs]  # the same call on plain tensors, then a write to each input
    out = fn(lib, *tensors)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for t in tensors:
        t.logical_not_() if t.dtype == lib.bool else t.add_(1)
    views = [not np.array_equal(o.numpy(), v, equal_nan=True) for o, (v, _, _) in zip(outs, found)]
    return found, views, grads


def _assert_as_pytorch(theirs, ours) -> None:
    if isinstance(theirs[0], type):
        assert isinstance(ours[0], type), f"PyTorch refused ({theirs[0].__name__}: {theirs[1]}), glassgrad gave {ours}"
        base = next(c for c in theirs[0].__mro__ if c in (RuntimeError, IndexError, ValueError, TypeError,
                                                            NotImplementedError))
        assert issubclass(ours[0], base), (theirs, ours)
        assert "\n" not in ours[1].strip() and "axis" not in ours[1], ours[1]
        return
    assert not isinstance(ours[0], type), f"glassgrad refused {ours}, PyTorch gave {theirs[0]}"
    (found, views, grads), (expected, expected_views, expected_grads) = ours, theirs
    assert [(s, t) for _, s, t in found] == [(s, t) for _, s, t in expected]
    for (value, _, _), (wanted, _, _) in zip(found, expected):
        np.testing.assert_allclose(value, wanted, rtol=1e-12 if wanted.dtype != np.float32 else 1e-6)
    assert [v for v, (a, _, _) in zip(views, found) if a.size] == [
        v for v, (a, _, _) in zip(expected_views, expected) if a.size]
    assert (grads is None) == (expected_grads is None)
    for grad, wanted in zip(grads or [], expected_grads or []):
        if wanted is not None and grad is not None:
            np.testing.assert_allclose(grad, wanted, rtol=1e-10 if wanted.dtype == np.float64 else 1e-5, atol=1e-12)
        elif wanted is not None and wanted.size:
            pytest.fail("glassgrad gave no gradient where PyTorch gave one")


@settings(max_examples=250)
@given(st.integers(0, 2**31 - 1))
def test_drawn_shape_op_as_pytorch(torch, seed):
    name, inputs, fn = _draw(random.Random(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _outcome(torch, fn, inputs, seed)
        if isinstance(theirs[0], type) and any(word in theirs[1] for word in ("appears multiple times",
                                                                               "Dimension specified as",
                                                                               "Dimension out of range")):
            return  # PyTorch refuses a repeated or out-of-range dim of a 0-d tensor that glassgrad reads as dim 0
        _assert_as_pytorch(theirs, _outcome(gg, fn, inputs, seed))


# --- the regressions glassgrad had (each failed before its fix) --------------------------------------------------

@pytest.mark.parametrize("index", [1, -1, np.int64(2)])
def test_take_with_a_0d_index_is_a_copy_as_in_pytorch(torch, index):
    data = np.arange(6.0).reshape(2, 3)
    x, t = gg.tensor(data), torch.tensor(data)
    out, expected = gg.take(x, gg.tensor(index)), torch.take(t, torch.tensor(index))
    assert tuple(out.shape) == tuple(expected.shape) == ()
    x.add_(10)  # PyTorch's take copies: glassgrad's read a view that saw this write
    t.add_(10)
    assert out.item() == expected.item() == data.reshape(-1)[index]


@pytest.mark.parametrize("size", [0, 1])
def test_unfold_of_a_0d_tensor_as_in_pytorch(torch, size):
    out, expected = gg.tensor(2.5).unfold(0, size, 1), torch.tensor(2.5).unfold(0, size, 1)
    assert tuple(out.shape) == tuple(expected.shape) == (size,)  # glassgrad raised NumPy's raw AxisError
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    with pytest.raises(RuntimeError, match="size"):
        gg.tensor(2.5).unfold(0, 2, 1)


def test_unflatten_of_a_0d_tensor_is_refused_as_in_pytorch(torch):
    with pytest.raises(RuntimeError):
        torch.unflatten(torch.tensor(1.0), 0, (-1, 1))
    with pytest.raises(RuntimeError, match="unflatten.*0-d"):  # was a raw IndexError: tuple index out of range
        gg.unflatten(gg.tensor(1.0), 0, (-1, 1))
    with pytest.raises(RuntimeError, match="unflatten.*0-d"):  # was silently a (1,) tensor
        gg.tensor(1.0).unflatten(0, (1,))


@pytest.mark.parametrize("source, destination", [(0, 0), (-1, 0), ((0,), (-1,)), ((), ())])
def test_movedim_of_a_0d_tensor_as_in_pytorch(torch, source, destination):
    x = gg.tensor(3.0, requires_grad=True)
    out = gg.movedim(x, source, destination)
    assert out.item() == torch.movedim(torch.tensor(3.0), source, destination).item() == 3.0
    assert gg.moveaxis(x, source, destination).shape == ()
    out.backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("shape, dims", [((2, 2), (0,)), ((2, 2, 2), (0, 1, 2)), ((3,), (0, 1)), ((), (0, 1))])
def test_rot90_given_other_than_two_dims_refuses_as_pytorch(torch, shape, dims):
    with pytest.raises(RuntimeError):
        torch.rot90(torch.ones(shape), 1, dims)
    with pytest.raises(RuntimeError, match="rot90: needs exactly two dims"):  # was a raw ValueError (unpacking)
        gg.rot90(gg.ones(shape), 1, dims)  # or an IndexError for a 1-D tensor


def test_concatenate_takes_pytorch_dim_keyword(torch):
    pieces = [np.arange(4.0).reshape(2, 2), np.ones((2, 1))]
    out = gg.concatenate([gg.tensor(p) for p in pieces], dim=1)  # was TypeError: unexpected keyword argument 'dim'
    expected = torch.concatenate([torch.tensor(p) for p in pieces], dim=1)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    np.testing.assert_array_equal(gg.concatenate([gg.tensor(p) for p in pieces], axis=1).numpy(), expected.numpy())


@pytest.mark.parametrize("dims", [(5, 0), (0, -4), (2, 3)])
def test_diag_embed_dim_out_of_range_is_pytorchs_index_error(torch, dims):
    with pytest.raises(IndexError):
        torch.diag_embed(torch.ones(2), 0, *dims)
    with pytest.raises(IndexError, match="diag_embed: dim .* out of range"):  # was a RuntimeError
        gg.diag_embed(gg.ones(2), 0, *dims)


def test_take_along_dim_of_a_0d_tensor_with_a_dim_is_pytorchs_index_error(torch):
    with pytest.raises(IndexError):
        torch.take_along_dim(torch.tensor(1.0), torch.tensor(0), 0)
    with pytest.raises(IndexError, match="take_along_dim"):  # was a RuntimeError
        gg.take_along_dim(gg.tensor(1.0), gg.tensor(0), 0)


@pytest.mark.parametrize("index", [[-1, 2], [6], [0]])
def test_take_along_dim_without_a_dim_is_a_flat_gather_as_in_pytorch(torch, index):
    data = np.zeros((0, 2)) if index == [0] else np.arange(6.0).reshape(2, 3)
    try:
        expected = torch.take_along_dim(torch.tensor(data), torch.tensor(index))
    except RuntimeError:  # a negative index (glassgrad read it from the end), one past the end, any of an empty
        with pytest.raises(RuntimeError, match="take_along_dim: index"):  # tensor (glassgrad's IndexError): refused
            gg.take_along_dim(gg.tensor(data), gg.tensor(index))
        return
    np.testing.assert_array_equal(gg.take_along_dim(gg.tensor(data), gg.tensor(index)).numpy(), expected.numpy())


@pytest.mark.parametrize("name", ["gather", "scatter", "scatter_add", "scatter_reduce"])
def test_an_empty_index_larger_in_another_dim_is_allowed_as_in_pytorch(torch, name):
    def run(lib):
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        index = lib.zeros(3, 0, dtype=lib.int64)  # 3 rows > x's 2, but nothing is read or written
        src = lib.ones(3, 3, dtype=lib.float64)
        out = {"gather": lambda: x.gather(1, index), "scatter": lambda: x.scatter(1, index, src),
               "scatter_add": lambda: x.scatter_add(1, index, src),
               "scatter_reduce": lambda: x.scatter_reduce(1, index, src, "sum")}[name]()
        (out * 2).sum().backward()
        return out.detach().numpy(), x.grad.numpy()
    for ours, theirs in zip(run(gg), run(torch)):  # glassgrad refused: "the index … is larger than the tensor"
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("call", [
    lambda L: L.cat([]), lambda L: L.concat([]), lambda L: L.stack([]), lambda L: L.hstack([]),
    lambda L: L.vstack([]), lambda L: L.dstack([]), lambda L: L.column_stack([]),  # each was a TypeError
    lambda L: L.rot90(L.ones(2, 2), 1.0),  # was taken
    lambda L: L.index_copy(L.zeros(3), 0, L.tensor([[0]]), L.tensor([[1.0]])),  # was a RuntimeError
    lambda L: L.zeros(3).scatter_(0, L.tensor([0]), 1.0, reduce="mean"),  # was a ValueError
])
def test_refusals_raise_pytorchs_class(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception) as ours:
        call(gg)
    assert type(ours.value) is type(theirs.value) and "\n" not in str(ours.value)


@pytest.mark.parametrize("shifts, dims", [(1, ()), ([2], []), ((1,), None), ("0-d", None), ("0-d", ())])
def test_roll_with_no_dims_rolls_the_flat_tensor_as_pytorch(torch, shifts, dims):
    def run(lib):
        given = lib.tensor(-2) if shifts == "0-d" else shifts
        return lib.roll(lib.arange(6.0).reshape(2, 3), given, dims).tolist()
    assert run(gg) == run(torch)  # glassgrad refused an empty dims tuple, a (1,) or a 0-d tensor shift


@pytest.mark.parametrize("dims", [(2, 0), (0, 1), (-2, -1), (0, 0), (-1, 0)])
def test_flatten_of_a_0d_tensor_checks_its_dims_as_pytorch(torch, dims):
    try:
        expected = torch.flatten(torch.tensor(1.0), *dims).tolist()
    except IndexError:
        with pytest.raises(IndexError, match="flatten: dim"):  # glassgrad gave a (1,) tensor for any dims
            gg.flatten(gg.tensor(1.0), *dims)
        return
    assert gg.flatten(gg.tensor(1.0), *dims).tolist() == expected


# --- pinned: behaviour that already matched PyTorch, or where glassgrad is right and PyTorch is not --------------

def test_scatter_reduce_prod_gives_unread_src_entries_no_gradient():
    """PyTorch 2.13 gives src[1] (which the index never reads) the gradient of the product it is not in."""
    src = gg.tensor([2.0, 5.0], requires_grad=True)
    out = gg.scatter_reduce(gg.tensor([3.0]), 0, gg.tensor([0]), src, "prod")
    out.sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(), [3.0, 0.0])


def test_take_along_dim_refuses_an_index_past_the_end():
    """PyTorch reads past the end without a word here (``take_along_dim(ones(1, 2), [[5, 0]], 1)`` gives ones)."""
    with pytest.raises(RuntimeError, match="out of bounds"):
        gg.take_along_dim(gg.ones(1, 2), gg.tensor([[5, 0]]), 1)


def test_scatter_add_and_index_add_sum_repeated_indices(torch):
    for lib in (gg, torch):
        x = lib.zeros(2, 3, dtype=lib.float64)
        index = lib.tensor([[0, 0, 2], [1, 1, 1]])
        src = lib.arange(1.0, 7.0, dtype=lib.float64).reshape(2, 3)
        added = x.scatter_add(1, index, src)
        by_rows = lib.zeros(3, 2, dtype=lib.float64).index_add(0, lib.tensor([1, 1, 0]), src.T)
        assert added.tolist() == [[3.0, 0.0, 3.0], [0.0, 15.0, 0.0]]
        assert by_rows.tolist() == [[3.0, 6.0], [3.0, 9.0], [0.0, 0.0]]


@pytest.mark.parametrize("call, error", [
    (lambda L, x: L.split(x, [1, 2], 0), RuntimeError),  # sizes that do not sum to the dim
    (lambda L, x: x.permute(0, 0, 1), RuntimeError),  # a repeated dim
    (lambda L, x: x.view(-1, -1), RuntimeError),  # -1 twice
    (lambda L, x: x.transpose(0, 1).view(-1), RuntimeError),  # a view of a non-contiguous tensor
    (lambda L, x: x.repeat(2), RuntimeError),  # fewer repeats than dims
    (lambda L, x: x.expand(-1, 2, 3, 4), RuntimeError),  # -1 for a new leading dim
    (lambda L, x: L.cat([x, L.tensor(1.0)]), RuntimeError),  # a 0-d tensor
    (lambda L, x: L.stack([x, x[:1]]), RuntimeError),  # shapes that differ
    (lambda L, x: x.gather(1, L.tensor([[0, 4]])), RuntimeError),  # an index past the end
    (lambda L, x: x.index_select(0, L.tensor([3])), IndexError),
    (lambda L, x: x.narrow(0, 5, 1), IndexError),
    (lambda L, x: x.squeeze(4), IndexError),
    (lambda L, x: L.movedim(x, (0, 0), (1, 2)), RuntimeError),
])
def test_misuse_gets_pytorchs_class_and_one_line(torch, call, error):
    with pytest.raises(error):
        call(torch, torch.zeros(2, 3, 4))
    with pytest.raises(error) as caught:
        call(gg, gg.zeros(2, 3, 4))
    assert "\n" not in str(caught.value).strip()


def test_cat_skips_an_empty_1d_tensor_but_promotes_by_it(torch):
    for lib in (gg, torch):
        out = lib.cat([lib.ones(2, 2, dtype=lib.float32), lib.tensor([], dtype=lib.float64)])
        assert str(out.dtype).endswith("float64") and tuple(out.shape) == (2, 2)


def test_views_write_through_and_take_copies_as_in_pytorch(torch):
    def writes(lib):
        x = lib.zeros(2, 3, 4)
        for view in (x.unfold(2, 2, 2), x.movedim(0, -1), x.diagonal(0, 1, 2), x.narrow(1, 1, 1), x.select(2, 3),
                     x.unflatten(2, (2, 2)), x.swapaxes(0, 2), x.unbind(1)[0], x.flatten(1), x.squeeze(),
                     lib.tensor(5.0).unfold(0, 1, 1), x.permute(2, 0, 1), x.take(lib.tensor([0, 5])),
                     lib.take_along_dim(x, lib.tensor([[[1]]]), 2), x.flip(0), x.roll(1, 0), x.repeat(1, 1, 1)):
            view.add_(1)
        return x.numpy()
    np.testing.assert_array_equal(writes(gg), writes(torch))
