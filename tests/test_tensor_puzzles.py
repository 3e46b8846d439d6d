"""Tensor-puzzle code (the kind learners write in "tensor puzzles", fast.ai's "from the foundations" and CS231n's
vectorisation exercises) gives PyTorch 2.13's numbers, dtypes, shapes, views and gradients on glassgrad.

Oracle: PyTorch in float64 (values and gradients through ``backward``), over hypothesis-drawn shapes and entries;
where PyTorch refuses, glassgrad refuses with one line.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import BroadcastableShapes, mutually_broadcastable_shapes

import glassgrad as gg


def _same(mine, theirs, tol: float = 1e-12) -> None:
    """Same dtype, shape and entries."""
    assert str(mine.dtype).removeprefix("glassgrad.") == str(theirs.dtype).removeprefix("torch.")
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


# --- div with rounding_mode ----------------------------------------------------------------------------------------

@pytest.mark.torch
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**16), integers=st.booleans(), mode=st.sampled_from(["floor", "trunc"]))
def test_div_rounds_as_pytorch_on_both_signs(torch, shapes, seed, integers, mode):
    rng = np.random.default_rng(seed)
    shape_a, shape_b = shapes.input_shapes
    b = rng.choice([-4, -2, -1, 1, 2, 4], size=shape_b)
    a = rng.integers(-20, 21, size=shape_a)
    if not integers:  # n + ¼ over a power of 2: an exact quotient, never a whole number (where the rounding jumps)
        a, b = a + 0.25, b.astype(np.float64)
    for divisor in (lambda lib: lib.tensor(b), lambda lib: -3):
        theirs = torch.div(torch.tensor(a), divisor(torch), rounding_mode=mode)
        _same(gg.div(gg.tensor(a), divisor(gg), rounding_mode=mode), theirs)
        _same(gg.tensor(a).div(divisor(gg), rounding_mode=mode),
              torch.tensor(a).div(divisor(torch), rounding_mode=mode))
        if theirs.shape == np.shape(a):  # in place, a keeps its shape
            _same(gg.tensor(a).div_(divisor(gg), rounding_mode=mode), theirs)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_a_rounded_quotient_has_slope_zero_as_in_pytorch(torch, mode):
    grads = []
    for lib in (gg, torch):
        a = lib.tensor([-7.5, 7.5, 3.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([2.0, -2.0, 0.7], dtype=lib.float64, requires_grad=True)
        (lib.div(a, b, rounding_mode=mode) * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        grads.append((a.grad, b.grad))
    for mine, theirs in zip(*grads):
        _same(mine, theirs)


def test_div_refuses_an_unknown_rounding_mode_and_integer_division_by_zero():
    with pytest.raises(ValueError, match="rounding_mode must be None, 'floor' or 'trunc'"):
        gg.div(gg.tensor([1.0]), 2, rounding_mode="round")
    with pytest.raises(RuntimeError, match="integer division by zero"):
        gg.div(gg.tensor([7]), 0, rounding_mode="trunc")


# --- scatter with reduce= ------------------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@given(rows=st.integers(1, 3), columns=st.integers(1, 4), picks=st.integers(1, 4), seed=st.integers(0, 2**16),
       reduce=st.sampled_from(["add", "multiply"]), integers=st.booleans())
def test_scatter_with_reduce_adds_or_multiplies_repeats_as_pytorch(torch, rows, columns, picks, seed, reduce,
                                                                   integers):
    rng = np.random.default_rng(seed)
    index = rng.integers(0, columns, size=(rows, picks))  # repeats within a row are likely
    base, src = rng.integers(-3, 4, size=(rows, columns)), rng.integers(-3, 4, size=(rows, picks))
    if not integers:
        base, src = base + 0.5, src * 0.25
    results = [lib.tensor(base).scatter_(1, lib.tensor(index), lib.tensor(src), reduce=reduce) for lib in (gg, torch)]
    _same(*results)
    _same(gg.tensor(base).scatter(1, gg.tensor(index), 1.5, reduce=reduce),
          torch.tensor(base).scatter(1, torch.tensor(index), 1.5, reduce=reduce))


def test_scatter_refuses_an_unknown_reduce_and_the_gradient_of_multiply():
    index = gg.tensor([[0, 0]])
    with pytest.raises(RuntimeError, match="reduce must be None, 'add' or 'multiply'"):  # PyTorch's class
        gg.ones(1, 2).scatter_(1, index, 2.0, reduce="mean")
    with pytest.raises(RuntimeError, match="reduce='multiply' has no gradient"):
        gg.ones(1, 2, requires_grad=True).scatter(1, index, 2.0, reduce="multiply")


# --- view refuses what only a copy could give ----------------------------------------------------------------------

VIEWS = {
    "transposed": (lambda x: x.transpose(0, 1), (-1,)),
    "columns cut": (lambda x: x[:, :2], (-1,)),
    "permuted": (lambda x: x.permute(2, 0, 1), (3, -1)),
    "expanded": (lambda x: x[:1].expand(4, 3, 2), (-1,)),
    "transposed, last dims kept": (lambda x: x.transpose(0, 1), (3, 4, 1, 2)),
    "columns cut, rows split": (lambda x: x[:, :2], (2, 2, 2, 2)),
    "every other row": (lambda x: x[::2], (2, 3, 2)),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_of_a_strided_tensor_refuses_where_pytorch_does(torch, name):
    make, shape = VIEWS[name]
    values = np.arange(24.0).reshape(4, 3, 2)
    try:
        theirs = make(torch.tensor(values)).view(shape)
    except RuntimeError:
        with pytest.raises(RuntimeError, match=r"view: shape .* use \.reshape\(\.\.\.\), or \.contiguous\(\)\.view"):
            make(gg.tensor(values)).view(shape)
        _same(make(gg.tensor(values)).contiguous().view(shape), make(torch.tensor(values)).contiguous().view(shape))
        return
    mine = make(gg.tensor(values)).view(shape)
    _same(mine, theirs)


def test_a_view_of_a_view_writes_through_to_the_base():
    base = gg.zeros(4, 3, 2)
    base.transpose(0, 1).view(3, 4, 1, 2)[1] = 1.0
    assert base[:, 1].sum().item() == 8.0 and base.sum().item() == 8.0


# --- no negative steps ---------------------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("index", [np.s_[::-1], np.s_[:, ::-2], np.s_[..., 1::0], np.s_[0, 3:0:-1]])
def test_a_slice_step_below_one_is_refused_in_one_line_as_in_pytorch(torch, index):
    with pytest.raises(ValueError, match="step"):
        torch.zeros(2, 4)[index]
    with pytest.raises(ValueError, match=r"step must be greater than zero, got -?\d+ .* x\.flip\(dim\)$"):
        gg.zeros(2, 4)[index]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        gg.zeros(2, 4)[index] = 1.0


# --- repeat_interleave of counts alone -----------------------------------------------------------------------------

@pytest.mark.torch
@given(counts=st.lists(st.integers(0, 4), max_size=6), dtype=st.sampled_from(["int64", "int32"]))
def test_repeat_interleave_of_counts_alone_counts_out_positions_as_pytorch(torch, counts, dtype):
    theirs = torch.repeat_interleave(torch.tensor(counts, dtype=getattr(torch, dtype)))
    mine = gg.repeat_interleave(gg.tensor(counts, dtype=getattr(gg, dtype)))
    _same(mine, theirs)
    _same(gg.repeat_interleave(gg.tensor(counts, dtype=getattr(gg, dtype)), output_size=sum(counts)), theirs)


@pytest.mark.torch
def test_repeat_interleave_checks_output_size_as_pytorch(torch):
    found = []
    for lib in (gg, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        out = x.repeat_interleave(lib.tensor([1, 3]), dim=1, output_size=4)
        (out * lib.arange(8.0, dtype=lib.float64).reshape(2, 4)).sum().backward()
        found.append((out, x.grad))
        with pytest.raises(RuntimeError, match="output_size"):
            x.repeat_interleave(2, dim=0, output_size=3)
        with pytest.raises(RuntimeError, match="1-?D"):
            lib.repeat_interleave(lib.tensor([[2, 0]]))
    for mine, theirs in zip(*found):
        _same(mine, theirs)


# --- unfold is a view ----------------------------------------------------------------------------------------------

@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), data=st.data())
def test_unfold_is_a_view_whose_writes_reach_the_base_as_in_pytorch(torch, shape, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    size = data.draw(st.integers(1, shape[dim]))
    step = data.draw(st.integers(size, size + 2))  # windows that do not overlap: each write lands once
    found = []
    for lib in (gg, torch):
        x = lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape)
        windows = x.unfold(dim, size, step)
        windows.mul_(-1)
        found.append((x, windows))
        assert windows.stride() == tuple(found[0][1].stride())
        assert windows.storage_offset() == found[0][1].storage_offset()
    for mine, theirs in zip(*found):
        _same(mine, theirs)


@pytest.mark.torch
@given(length=st.integers(3, 7), size=st.integers(1, 3), step=st.integers(1, 3))
def test_unfold_gradients_and_a_change_of_its_base_in_the_graph_match_pytorch(torch, length, size, step):
    found = []
    for lib in (gg, torch):
        x = lib.linspace(-1.0, 2.0, 2 * length, dtype=lib.float64).reshape(2, length).requires_grad_()
        y = x * 1.5
        windows = y.unfold(1, size, step)
        y.mul_(x)  # the windows read the new values, as PyTorch's view does
        weights = lib.arange(float(windows.numel()), dtype=lib.float64).reshape(windows.shape)
        (windows * weights).sum().backward()
        found.append((windows, x.grad))
    for mine, theirs in zip(*found):
        _same(mine, theirs)


# --- as_strided is a view ------------------------------------------------------------------------------------------

@st.composite
def _strided_reads(draw):
    """(size, stride, offset) that read inside a row-major tensor of 12 entries (sliding windows, repeats)."""
    dims = draw(st.integers(1, 3))
    size = tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    stride = tuple(draw(st.lists(st.integers(0, 3), min_size=dims, max_size=dims)))
    last = sum((n - 1) * step for n, step in zip(size, stride))
    offset = draw(st.integers(0, 11 - last)) if last <= 11 else None
    return size, stride, offset


@pytest.mark.torch
@given(read=_strided_reads())
def test_as_strided_values_gradients_and_strides_match_pytorch(torch, read):
    size, stride, offset = read
    if offset is None:
        return  # reaches past the 12 entries
    found = []
    for lib in (gg, torch):
        x = lib.linspace(-2.0, 3.0, 12, dtype=lib.float64).requires_grad_()
        view = (x * 1).reshape(3, 4).as_strided(size, stride, offset)
        weights = lib.arange(1.0, view.numel() + 1.0, dtype=lib.float64).reshape(size)
        (view * view * weights).sum().backward()  # repeated entries: their gradients add up
        found.append((view, x.grad))
        assert (view.stride(), view.storage_offset()) == (stride, offset)
    for mine, theirs in zip(*found):
        _same(mine, theirs)


@pytest.mark.torch
def test_a_write_through_as_strided_reaches_the_base_and_a_base_change_reaches_it(torch):
    found = []
    for lib in (gg, torch):
        x = lib.arange(12.0, dtype=lib.float64)
        x[2:].as_strided((2, 2), (4, 1), 3)[1, 1] = -5.0  # storage_offset counts from the memory's start
        y = lib.arange(6.0, dtype=lib.float64).requires_grad_()
        z = y * 1
        window = z.as_strided((2, 2), (1, 2))
        z.mul_(y)  # the window reads the new values, as PyTorch's view does
        (window * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)).sum().backward()
        found.append((x, window, y.grad))
    for mine, theirs in zip(*found):
        _same(mine, theirs)


# --- cat leaves out an empty 1-D tensor ----------------------------------------------------------------------------

@pytest.mark.torch
@given(rows=st.lists(st.integers(1, 3), min_size=1, max_size=4), width=st.integers(1, 3),
       dtype=st.sampled_from(["float32", "float64", "int64"]))
def test_cat_onto_an_empty_start_grows_rows_as_pytorch(torch, rows, width, dtype):
    found = []
    for lib in (gg, torch):
        out = lib.tensor([], dtype=getattr(lib, dtype))  # the learner's accumulator
        first = None
        for i, n in enumerate(rows):
            piece = lib.arange(float(n * width), dtype=lib.float64).reshape(n, width).requires_grad_()
            first = piece if first is None else first
            out = lib.cat([out, piece * (i + 1)])
        (out * out).sum().backward()
        found.append((out, first.grad))
    for mine, theirs in zip(*found):
        _same(mine, theirs)


# --- searchsorted's sorter, out_int32 ------------------------------------------------------------------------------

@pytest.mark.torch
@given(sequence=st.lists(st.integers(-5, 5), min_size=1, max_size=6), values=st.lists(st.integers(-6, 6), max_size=5),
       right=st.booleans(), out_int32=st.booleans())
def test_searchsorted_with_a_sorter_and_bucketize_in_int32_as_pytorch(torch, sequence, values, right, out_int32):
    order = np.argsort(sequence, kind="stable")

    def positions(lib):
        values_in = lib.tensor(values, dtype=lib.int64)
        return (lib.searchsorted(lib.tensor(sequence), values_in, right=right, sorter=lib.tensor(order),
                                 out_int32=out_int32),
                lib.bucketize(values_in, lib.tensor(sorted(sequence)), right=right, out_int32=out_int32))

    for mine, theirs in zip(positions(gg), positions(torch)):
        _same(mine, theirs)


# --- integer tensors where PyTorch needs floats --------------------------------------------------------------------

INTEGER_REFUSALS = {
    "std": lambda lib, x: x.std(),
    "var": lambda lib, x: x.var(1),
    "std_mean": lambda lib, x: lib.std_mean(x),
    "softmax": lambda lib, x: x.softmax(0),
    "log_softmax": lambda lib, x: lib.nn.functional.log_softmax(x, 1),
    "cross_entropy": lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0, 1])),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(INTEGER_REFUSALS))
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_integer_tensors_are_refused_where_pytorch_needs_floats(torch, name, dtype):
    make = INTEGER_REFUSALS[name]
    values = [[1, 0], [3, 5]]
    with pytest.raises(RuntimeError):
        make(torch, torch.tensor(values, dtype=getattr(torch, dtype)))
    with pytest.raises((RuntimeError, TypeError), match="needs a floating tensor, got"):
        make(gg, gg.tensor(values, dtype=getattr(gg, dtype)))


@pytest.mark.torch
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_integers_takes_a_float_dtype_as_pytorch(torch, name):
    found = [getattr(lib, name)(lib.tensor([[1, 2], [3, 5]]), 1, dtype=lib.float64) for lib in (gg, torch)]
    _same(*found)
    found = [getattr(lib.tensor([[1, 2], [3, 5]]), name)(0, dtype=lib.float32) for lib in (gg, torch)]
    _same(*found, tol=1e-6)


# --- einsum's sublist form -----------------------------------------------------------------------------------------

SUBLISTS = {
    "matmul": (lambda a, b, v: (a, [0, 1], b, [1, 2], [0, 2])),
    "implicit output": (lambda a, b, v: (a, [0, 1], b, [1, 2])),
    "sum of all": (lambda a, b, v: (a, [0, 1], [])),
    "ellipsis": (lambda a, b, v: (a, [Ellipsis, 1], v, [1], [Ellipsis])),
    "high letters": (lambda a, b, v: (a, [30, 51], [51, 30])),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(SUBLISTS))
def test_einsum_takes_sublists_as_pytorch(torch, name):
    found = []
    for lib in (gg, torch):
        a = lib.linspace(-1.0, 1.0, 6, dtype=lib.float64).reshape(2, 3).requires_grad_()
        b = lib.linspace(0.5, 2.0, 12, dtype=lib.float64).reshape(3, 4).requires_grad_()
        v = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        out = lib.einsum(*SUBLISTS[name](a, b, v))
        (out * out).sum().backward()
        found.append([out] + [t.grad if t.grad is not None else lib.zeros_like(t) for t in (a, b, v)])
    for mine, theirs in zip(*found):
        _same(mine, theirs)
    with pytest.raises(ValueError, match=r"a sublist's dims must be within \[0, 52\)"):  # PyTorch's class
        gg.einsum(gg.ones(2), [52])
    with pytest.raises(ValueError):
        torch.einsum(torch.ones(2), [52])


# --- indices mixing numbers (or 0-d tensors) with index arrays -----------------------------------------------------

@st.composite
def _mixed_indices(draw):
    """An index of the first dims of a (2, 3, 4, 5) tensor: per dim a number, a 0-d tensor, an index array (no
    repeats: a write lands once) or a slice, with at least one array; maybe a None (a new dim) somewhere."""
    sizes = (2, 3, 4, 5)[:draw(st.integers(1, 4))]
    kinds = [draw(st.sampled_from(["number", "0-d", "array", "slice"])) for _ in sizes]
    if "array" not in kinds:
        kinds[draw(st.integers(0, len(kinds) - 1))] = "array"
    parts = []
    for kind, size in zip(kinds, sizes):
        if kind == "number":
            parts.append((kind, draw(st.integers(-size, size - 1))))
        elif kind == "0-d":
            parts.append((kind, draw(st.integers(0, size - 1))))
        elif kind == "array":
            parts.append((kind, draw(st.lists(st.integers(0, size - 1), min_size=2, max_size=2, unique=True))))
        else:
            parts.append((kind, None))
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), ("none", None))
    return parts


def _index(lib, parts):
    made = {"number": lambda v: v, "0-d": lambda v: lib.tensor(v), "array": lambda v: lib.tensor(v),
            "slice": lambda v: slice(None), "none": lambda v: None}
    return tuple(made[kind](value) for kind, value in parts)


@pytest.mark.torch
@given(parts=_mixed_indices())
def test_numbers_among_index_arrays_pick_first_as_in_pytorch(torch, parts):
    found = []
    for lib in (gg, torch):
        x = lib.arange(120.0, dtype=lib.float64).reshape(2, 3, 4, 5).requires_grad_()
        y = x * 1
        picked = y[_index(lib, parts)]
        value = lib.arange(float(picked.numel()), dtype=lib.float64).reshape(picked.shape).requires_grad_()
        y[_index(lib, parts)] = -value  # the same place, in the same order
        (y * y).sum().backward()
        found.append((picked, y, x.grad, value.grad))
    for mine, theirs in zip(*found):
        _same(mine, theirs)


@pytest.mark.torch
def test_a_0d_integer_tensor_index_is_a_view_as_in_pytorch(torch):
    for lib in (gg, torch):
        x = lib.zeros(3, 2)
        x[lib.tensor(1)].fill_(5.0)
        assert x.tolist() == [[0.0, 0.0], [5.0, 5.0], [0.0, 0.0]]


# --- writing into an expanded tensor -------------------------------------------------------------------------------

WRITES = {"add_": lambda x: x.add_(1), "mul_": lambda x: x.mul_(2), "+=": lambda x: x.__iadd__(1),
          "item assignment": lambda x: x.__setitem__(0, 5.0), "copy_": lambda x: x.copy_(x.clone() + 1)}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_write_into_an_expanded_tensor_is_refused_in_one_line_as_in_pytorch(torch, name):
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single"):
        WRITES[name](torch.zeros(3, 1).expand(3, 4))
    with pytest.raises(RuntimeError, match=r"more than one element .* clone\(\) it first") as refused:
        WRITES[name](gg.zeros(3, 1).expand(3, 4))
    assert "\n" not in str(refused.value)


# --- as_tensor shares a NumPy array's memory -----------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "uint8", "bool"])
@pytest.mark.parametrize("asked", [None, "same", "float16"])
def test_as_tensor_shares_a_numpy_arrays_memory_where_pytorch_does(torch, dtype, asked):
    found = []
    for lib in (gg, torch):
        array = np.zeros((2, 3), dtype=dtype)[:, ::2]  # a strided view: shared too
        kind = None if asked is None else getattr(lib, dtype if asked == "same" else asked)
        t = lib.as_tensor(array, dtype=kind)
        t.fill_(1)
        found.append((array.tolist(), str(t.dtype).removeprefix("torch.").removeprefix("glassgrad.")))
    assert found[0] == found[1]


# --- view(dtype) reads the same bytes --------------------------------------------------------------------------------

DTYPES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64"]


@pytest.mark.torch
@given(rows=st.integers(1, 3), columns=st.sampled_from([1, 2, 4, 8]), seed=st.integers(0, 2**16),
       old=st.sampled_from(DTYPES), new=st.sampled_from(DTYPES), transposed=st.booleans())
def test_view_as_another_dtype_reads_the_same_bytes_as_pytorch(torch, rows, columns, seed, old, new, transposed):
    values = np.random.default_rng(seed).integers(0, 100, size=(rows, columns)).astype(old)
    outcomes = []
    for lib in (gg, torch):
        x = lib.tensor(values)
        x = x.t() if transposed else x
        try:
            viewed = x.view(getattr(lib, new))
        except RuntimeError:
            outcomes.append(None)
            continue
        viewed[(0,) * viewed.ndim] = 0  # a write reaches x
        outcomes.append((viewed, x))
    if outcomes[1] is None:
        assert outcomes[0] is None
        return
    for mine, theirs in zip(*outcomes):
        assert str(mine.dtype).removeprefix("glassgrad.") == str(theirs.dtype).removeprefix("torch.")
        assert mine.shape == theirs.shape and mine.stride() == theirs.stride()
        assert np.ascontiguousarray(mine.numpy()).tobytes() == np.ascontiguousarray(theirs.numpy()).tobytes()


# --- masked ops broadcast the tensor and the mask together ---------------------------------------------------------

MASKED = {
    "masked_fill": lambda lib, x, mask: x.masked_fill(mask, -1.5),
    "masked_select": lambda lib, x, mask: x.masked_select(mask),
    "masked_scatter": lambda lib, x, mask: x.masked_scatter(mask, lib.arange(1.0, 28.0, dtype=lib.float64)),
}
"""masked_scatter's source holds 27 numbers: enough for a 3×3×3 input wholly chosen (with 24, both refused)."""


@pytest.mark.torch
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**16), name=st.sampled_from(sorted(MASKED)))
@example(shapes=BroadcastableShapes(((3, 3, 3), ()), (3, 3, 3)), seed=1, name="masked_scatter")  # all 27 chosen
def test_masked_ops_broadcast_tensor_and_mask_together_as_pytorch(torch, shapes, seed, name):
    shape, mask_shape = shapes.input_shapes
    rng = np.random.default_rng(seed)
    values, chosen = rng.normal(size=shape), rng.random(size=mask_shape) < 0.5
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, requires_grad=True)
        out = MASKED[name](lib, x, lib.tensor(chosen))
        (out * lib.arange(1.0, out.numel() + 1.0, dtype=lib.float64).reshape(out.shape)).sum().backward()
        found.append((out, x.grad))
    for mine, theirs in zip(*found):
        _same(mine, theirs)


LISTS = {
    "lists": lambda lib: [[0, 2], [1, 3]],
    "tensors": lambda lib: [lib.tensor([0, 2]), lib.tensor([1, 3])],
    "slice": lambda lib: [slice(None), 1],
    "None": lambda lib: [None, 0],
    "ellipsis": lambda lib: [Ellipsis, 1],
}


@pytest.mark.torch
@pytest.mark.parametrize("name", [*sorted(LISTS), "numbers"])
def test_a_list_holding_indices_is_a_tuple_of_them_as_pytorch_reads_it(torch, name):
    found = []
    for lib in (gg, torch):
        x = lib.arange(12.0, dtype=lib.float64).reshape(3, 4).requires_grad_()
        if name == "numbers":  # a list of numbers is one index array, as in NumPy
            out = x[[0, 2]]
        else:
            with pytest.warns(UserWarning, match="deprecat"):  # PyTorch deprecates this reading; so does glassgrad
                out = x[LISTS[name](lib)]
        (out * lib.arange(1.0, out.numel() + 1.0, dtype=lib.float64).reshape(out.shape)).sum().backward()
        found.append((out, x.grad))
    for mine, theirs in zip(*found):
        _same(mine, theirs)


# --- whole-number powers below 0, the sign of a bool, chunks of nothing ---------------------------------------------

@pytest.mark.torch
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
       seed=st.integers(0, 2**16), dtype=st.sampled_from(["int64", "int32"]))
def test_integer_powers_with_negative_exponents_are_pytorchs(torch, shapes, seed, dtype):
    rng = np.random.default_rng(seed)
    base = rng.integers(-3, 4, size=shapes.input_shapes[0])
    exponent = rng.integers(-3, 4, size=shapes.input_shapes[1])
    _same(gg.tensor(base, dtype=getattr(gg, dtype)) ** gg.tensor(exponent),
          torch.tensor(base, dtype=getattr(torch, dtype)) ** torch.tensor(exponent))


@pytest.mark.torch
def test_the_sign_of_a_bool_and_chunks_of_an_empty_dim_are_pytorchs(torch):
    _same(gg.tensor([True, False]).sign(), torch.tensor([True, False]).sign())
    for chunks in (1, 3):
        mine, theirs = gg.zeros(2, 0).chunk(chunks, 1), torch.zeros(2, 0).chunk(chunks, 1)
        assert [tuple(t.shape) for t in mine] == [tuple(t.shape) for t in theirs]


@pytest.mark.torch
def test_gather_takes_sparse_grad_false_and_refuses_true_in_one_line(torch):
    found = []
    for lib in (gg, torch):
        x = lib.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], dtype=lib.float64, requires_grad=True)
        out = lib.gather(x, 1, lib.tensor([[2, 0], [1, 1]]), sparse_grad=False)
        (out * out).sum().backward()
        found.append((out, x.grad))
    for mine, theirs in zip(*found):
        _same(mine, theirs)
    with pytest.raises(NotImplementedError, match="glassgrad has no sparse tensors; leave it False"):
        gg.gather(gg.ones(2, 2), 1, gg.tensor([[0], [1]]), sparse_grad=True)
