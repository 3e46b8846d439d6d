"""PyTorch's memory methods (glassgrad.tensor_memory), older spellings and ``*_copy`` functions
(glassgrad.tensor_legacy) against PyTorch 2.13: shapes and values on drawn shapes, gradients of the copies, and
the refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import copies

shapes = st.lists(st.integers(1, 4), min_size=2, max_size=3).map(tuple)


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(shape=shapes, size=st.lists(st.integers(0, 5), min_size=1, max_size=3).map(tuple))
def test_resize_keeps_the_entries_in_order_as_pytorch(torch, shape, size):
    values = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values)
        assert x.resize_(*size) is x and x._version == (0 if size == shape else 1)
        kept = min(int(np.prod(size)), values.size)  # PyTorch leaves the entries past the old ones uninitialized
        found.append((tuple(x.shape), x.numpy().reshape(-1)[:kept].tolist()))
        other = lib.zeros(*shape)
        found.append(tuple(lib.ones(7).resize_as_(other).shape))
    assert found[0] == found[2] and found[1] == found[3]
    with pytest.raises(RuntimeError, match="requires grad"):
        gg.ones(2, requires_grad=True).resize_(3)


@pytest.mark.torch
def test_apply_and_map_call_a_python_function_per_entry(torch):
    found = []
    for lib in (gg, torch):
        x, y = lib.tensor([[1.0, -2.0], [3.0, 4.0]]), lib.tensor([10.0, 20.0])
        x.apply_(lambda v: v * v + 1)
        x.map_(y, lambda a, b: a - b)
        found.append(x.tolist())
        with pytest.raises(RuntimeError):
            lib.ones(2, requires_grad=True).apply_(abs)
    assert found[0] == found[1]


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(shape=shapes, start=st.integers(0, 1))
def test_memory_questions_match_pytorch(torch, shape, start):
    values = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values)
        sliced, flipped = x[min(start, shape[0] - 1):], x.transpose(0, -1)
        unambiguous = 1 not in shape  # a dim of size 1 may sit anywhere (PyTorch's ambiguity_check refuses it)
        found.append([sliced.storage_offset(), x.storage_offset(), x.dim_order(),
                      flipped.dim_order() if unambiguous else None,
                      x.is_shared(), x.is_pinned(), x.share_memory_() is x,
                      (sliced.data_ptr() - x.data_ptr()) // 4, x.H.tolist() if x.ndim == 2 else None])
    assert found[0] == found[1]


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_older_spellings_and_copies_match_pytorch_with_gradients(torch, shape, seed):
    values = np.random.default_rng(seed).normal(size=shape)
    calls = [
        lambda lib, x: list(x.unsafe_chunk(2, 1)), lambda lib, x: list(x.unsafe_split(1, 0)),
        lambda lib, x: list(x.unsafe_split_with_sizes([1, x.shape[0] - 1])) if x.shape[0] > 1 else [x * 1],
        lambda lib, x: x.narrow_copy(1, 0, 1), lambda lib, x: lib.t_copy(x[0]) if x.ndim == 3 else lib.t_copy(x),
        lambda lib, x: lib.transpose_copy(x, 0, 1), lambda lib, x: lib.permute_copy(x, tuple(range(x.ndim))[::-1]),
        lambda lib, x: lib.unsqueeze_copy(x, 1), lambda lib, x: lib.squeeze_copy(x),
        lambda lib, x: lib.expand_copy(x[:1], (3, *x.shape[1:])), lambda lib, x: lib.view_copy(x, (-1,)),
        lambda lib, x: lib.select_copy(x, 1, 0), lambda lib, x: lib.diagonal_copy(x),
        lambda lib, x: list(lib.unbind_copy(x, 0)),
        lambda lib, x: list(lib.split_copy(x, 2, 1)),
        lambda lib, x: list(lib.split_with_sizes_copy(x, [1] * x.shape[0])),
        lambda lib, x: lib.slice_copy(x, -1, 1, None, 2), lambda lib, x: lib.alias_copy(x),
        lambda lib, x: lib.unfold_copy(x, 0, 1, 1),
    ]
    found = []
    for lib in (gg, torch):
        leaf = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        outputs = []
        for call in calls:
            result = call(lib, leaf)
            outputs.extend(result if isinstance(result, list) else [result])
        sum((out * out.detach().sin()).sum() for out in outputs if out.requires_grad).backward()
        found.append([out.detach().numpy() for out in outputs] + [leaf.grad.numpy()])
    assert len(found[0]) == len(found[1])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    assert not gg.detach_copy(gg.ones(2, requires_grad=True)).requires_grad  # PyTorch's has no derivative
    copy = gg.t_copy(gg.ones(2, 3))
    assert not np.may_share_memory(copy.numpy(), gg.ones(2, 3).numpy())


def test_every_copy_form_is_a_top_level_name():
    for name in ("select_copy", "slice_copy", "t_copy", "unbind_copy", "view_copy"):
        assert getattr(gg, name) is getattr(copies, name) and name in gg.__all__


@pytest.mark.torch
def test_new_asarray_and_scalar_tensor_match_pytorch(torch):
    found = []
    for lib in (gg, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64)
        made = [x.new([3, 4]), x.new(2, 3), x.new(), lib.asarray([1, 2]), lib.asarray(x, dtype=lib.float32),
                lib.scalar_tensor(3), lib.scalar_tensor(2, dtype=lib.float64)]
        found.append([(tuple(m.shape), str(m.dtype).replace("torch.", "")) for m in made]
                     + [made[0].tolist(), lib.asarray(x) is x, lib.asarray(x, copy=True) is x,
                        lib.asarray([1.0], requires_grad=True).requires_grad])
    assert found[0] == found[1]


@pytest.mark.parametrize("name", ["bfloat16", "cfloat", "cdouble", "chalf"])
def test_missing_dtypes_are_refused_in_one_line(name):
    with pytest.raises(TypeError, match="glassgrad has no") as error:
        getattr(gg.ones(2), name)()
    assert "\n" not in str(error.value)


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 9), window=st.integers(1, 3), step=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_as_strided_windows_match_pytorch_with_gradients(torch, n, window, step, seed):
    values = np.random.default_rng(seed).normal(size=n)
    count = (n - window) // step + 1
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        windows = x.as_strided((count, window), (step, 1))  # sliding windows, entries repeating
        later = lib.as_strided(x[1:], (count - 1, 1), (step, 1)) if count > 1 else x[:0]
        scattered = lib.as_strided_scatter(x.detach(), lib.ones(count, window, dtype=lib.float64) * 7, (count, window),
                                           (step, 1), 0)
        ((windows * windows).sum() + later.sum()).backward()
        found.append([windows.detach().numpy(), later.detach().numpy(), scattered.numpy(), x.grad.numpy()])
        reshaped = lib.tensor(values)
        assert reshaped.as_strided_((count, window), (step, 1)) is reshaped and reshaped._version == 1
        found[-1].append(reshaped.numpy())
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_as_strided_outside_the_tensor_or_on_a_transposed_one_is_refused_in_one_line():
    for call, message in [(lambda: gg.arange(4.0).as_strided((3,), (2,)), "outside this tensor's 4 entries"),
                          (lambda: gg.ones(2, 3).t().as_strided((2,), (1,)), "call .contiguous\\(\\) first"),
                          (lambda: gg.ones(4).as_strided((2,), (1, 1)), "one non-negative entry per dim")]:
        with pytest.raises(RuntimeError, match=message) as error:
            call()
        assert "\n" not in str(error.value)


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(shape=shapes, size=st.integers(0, 6), seed=st.integers(0, 2**16))
def test_nonzero_static_matches_pytorch(torch, shape, size, seed):
    values = np.random.default_rng(seed).integers(0, 2, size=shape)
    found = [lib.nonzero_static(lib.tensor(values), size=size, fill_value=-7).tolist() for lib in (gg, torch)]
    assert found[0] == found[1]


def test_as_strided_scatter_sends_the_gradient_where_the_input_is_kept():
    """Hand-derived oracle: out is x except at the written positions, so ∂out/∂x is 1 where x is kept and 0 where
    src went, and src gets the upstream gradient at its positions (PyTorch 2.13 sends x's gradient to the
    written positions instead: [0, 2, 3, 4, 5] here)."""
    x = gg.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=gg.float64, requires_grad=True)
    src = gg.tensor([[10.0, 20.0], [30.0, 40.0]], dtype=gg.float64, requires_grad=True)
    out = gg.as_strided_scatter(x, src, (2, 2), (2, 1), 1)  # positions [[1, 2], [3, 4]]
    assert out.tolist() == [1.0, 10.0, 20.0, 30.0, 40.0]
    (out * gg.arange(1.0, 6.0, dtype=gg.float64)).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0] and src.grad.tolist() == [[2.0, 3.0], [4.0, 5.0]]


@pytest.mark.torch
def test_what_a_tensor_is_not_and_memory_sharing_match_pytorch(torch):
    flags = ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mps", "is_xla", "is_xpu", "is_mkldnn",
             "is_nested", "is_vulkan", "is_ipu", "is_maia", "is_mtia")
    found = []
    for lib in (gg, torch):
        x = lib.tensor([[1.0, 2.0, 3.0]])
        y = lib.zeros(5)
        y.set_(x)
        z = lib.zeros(2)
        z.map2_(lib.ones(2), lib.tensor([2.0, 5.0]), lambda a, b, c: a + b * c)
        found.append([getattr(x, flag) for flag in flags] + [
            str(x.layout), x.layout == lib.strided, y.tolist(), y.is_set_to(x), x.is_set_to(x[:, :2]), z.tolist(),
            x.conj_physical_() is x, lib.typename(x), lib.typename(x.double()), lib.typename(3),
            lib.get_default_device() == "cpu" or str(lib.get_default_device()) == "cpu",
            tuple(lib.empty_strided((2, 3), (1, 2)).shape), tuple(x.new_empty_strided((3, 1), (1, 1)).shape),
            lib.narrow_copy(x, 1, 1, 2).tolist(), [t.tolist() for t in lib.unsafe_chunk(x, 2, 1)],
            lib.get_device(x), lib.is_inference(x)])
        y.set_()
        found[-1].append(tuple(y.shape))
        with pytest.raises(RuntimeError, match="imag"):
            _ = x.imag
    assert found[0] == found[1]


@pytest.mark.parametrize("name", ["lstsq", "solve", "eig", "symeig", "matrix_rank"])
def test_removed_functions_name_their_replacement_in_one_line(name):
    with pytest.raises(RuntimeError, match="removed from PyTorch in version 1.9; use gg.linalg") as error:
        getattr(gg, name)(gg.eye(2), gg.eye(2))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", ["to_sparse", "to_sparse_csr", "values", "indices", "coalesce"])
def test_sparse_methods_are_refused_in_one_line(name):
    with pytest.raises(NotImplementedError, match="no sparse tensors"):
        getattr(gg.ones(2), name)()


def test_set_default_device_accepts_the_cpu_only():
    gg.set_default_device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        gg.set_default_device("cuda")


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(start=st.integers(-5, 5), count=st.integers(0, 8), step=st.sampled_from([1, 2, 0.5, 0.25, -1, -0.5]))
def test_range_includes_its_end_and_warns_as_pytorch(torch, start, count, step):
    end = start + step * count
    found = []
    for lib in (gg, torch):
        with pytest.warns(UserWarning, match="range is deprecated"):
            made = lib.range(start, end, step)
        found.append((made.tolist(), str(made.dtype).replace("torch.", "")))
    assert found[0] == found[1]
    assert "range" not in gg.__all__  # `from glassgrad import *` keeps Python's range


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(spatial=st.integers(1, 3), transposed=st.booleans(), stride=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_convolution_picks_the_convolution_the_weight_calls_for(torch, spatial, transposed, stride, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 2) + (5,) * spatial)
    w = rng.normal(size=((2, 3) if transposed else (3, 2)) + (2,) * spatial)
    bias = rng.normal(size=3)
    found = []
    for lib in (gg, torch):
        inputs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in (x, w, bias)]
        out = lib.convolution(*inputs, [stride] * spatial, [1] * spatial, [1] * spatial, transposed,
                              [stride - 1 if transposed else 0] * spatial, 1)
        (out * out).sum().backward()
        found.append([out.detach().numpy()] + [t.grad.numpy() for t in inputs])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
@settings(max_examples=20, deadline=None)
@given(shape=shapes, dtype=st.sampled_from(["float32", "float64", "int64"]))
def test_storages_show_the_whole_memory_as_pytorch(torch, shape, dtype):
    values = np.arange(np.prod(shape)).reshape(shape)
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=getattr(lib, dtype))
        view = x[1:] if shape[0] > 1 else x.transpose(0, 1)
        other = lib.tensor(values, dtype=getattr(lib, dtype))
        found.append([view.storage().tolist(), len(view.storage()), view.untyped_storage().nbytes(),
                      view.untyped_storage().size(), view.untyped_storage().tolist()[:8],
                      view.untyped_storage().data_ptr() == x.untyped_storage().data_ptr(),
                      other.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()])
    assert found[0] == found[1]


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
@settings(max_examples=20, deadline=None)
@given(shape=shapes, dtype=st.sampled_from(["float32", "float64", "int64"]), data=st.data())
def test_writing_an_entry_through_the_storage_changes_every_view_as_pytorch(torch, shape, dtype, data):
    """Deep Learning with PyTorch's ``points_storage = points.storage(); points_storage[0] = 2.0`` (changing a
    tensor through its storage) raised TypeError: a storage could be read, not written."""
    values = np.arange(np.prod(shape)).reshape(shape)
    size = int(np.prod(shape))
    index = data.draw(st.integers(-size, size - 1))
    byte = data.draw(st.integers(0, np.dtype(dtype).itemsize * size - 1))
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=getattr(lib, dtype))
        view = x.transpose(0, 1)
        view.storage()[index] = 7
        x.untyped_storage()[byte] = 255 if byte % 3 else 0  # a float's byte may make it NaN: compared as equal
        found.append([x.numpy().copy(), view.numpy().copy(), np.array(view.storage().tolist())])
    for mine, theirs in zip(*found):
        np.testing.assert_array_equal(mine, theirs)


def test_a_write_through_the_storage_counts_as_an_in_place_change():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    out = (x * 1).exp()  # exp's backward reads its output
    out.storage()[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation|changed in place"):
        out.sum().backward()


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
@settings(max_examples=20, deadline=None)
@given(shape=shapes, dtype=st.sampled_from(["float32", "int64", "bool"]))
def test_a_storage_reads_and_prints_its_entries_as_pytorch(torch, shape, dtype):
    """``a.storage()`` as a course shows it (makemore: a view's numbers are one row of memory): iterated, indexed
    and printed one entry a line, as PyTorch does."""
    values = np.arange(np.prod(shape)).reshape(shape) % 3
    found = []
    for lib in (gg, torch):
        storage = lib.tensor(values, dtype=getattr(lib, dtype)).transpose(0, 1).storage()
        entries = [storage[index] for index in range(-len(storage), len(storage))]
        found.append([list(storage), entries, [type(entry) for entry in entries], str(storage).splitlines()[:-1],
                      list(lib.tensor(values, dtype=getattr(lib, dtype)).untyped_storage())])
        with pytest.raises(IndexError, match="out of range for storage of size"):
            storage[len(storage)]
    assert found[0] == found[1]
