"""Small differences from PyTorch 2.13 that programs meet: its keyword names for sizes and dims, Python ints past
int64, calls that give no size, each checked against PyTorch itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg

SHAPES = st.lists(st.integers(1, 3), min_size=1, max_size=4)

# each call by PyTorch's keyword names, as a function of the library and a tensor
KEYWORD_CALLS = {
    "view(size=)": lambda lib, x: x.view(size=(-1,)),
    "view(dtype=)": lambda lib, x: x.view(dtype=lib.int64),
    "reshape(shape=)": lambda lib, x: x.reshape(shape=(x.numel(), 1)),
    "permute(dims=)": lambda lib, x: x.permute(dims=tuple(reversed(range(x.ndim)))),
    "expand(size=)": lambda lib, x: x[..., :1].expand(size=(2, *x.shape[:-1], 3)),
    "repeat(repeats=)": lambda lib, x: x.repeat(repeats=(2,) * x.ndim),
    "split(split_size=)": lambda lib, x: x.split(split_size=1, dim=-1),
    "flip(dims=)": lambda lib, x: x.flip(dims=(0,)),
    "tile(dims=)": lambda lib, x: x.tile(dims=(2,)),
    "swapdims(dim0=, dim1=)": lambda lib, x: x.swapdims(dim0=0, dim1=-1),
    "torch.reshape(input=, shape=)": lambda lib, x: lib.reshape(input=x, shape=(-1,)),
    "torch.permute(input=, dims=)": lambda lib, x: lib.permute(input=x, dims=tuple(reversed(range(x.ndim)))),
    "torch.split(tensor=, split_size_or_sections=)": lambda lib, x: lib.split(tensor=x, split_size_or_sections=1),
    "torch.flip(input=, dims=)": lambda lib, x: lib.flip(input=x, dims=(-1,)),
    "torch.tile(input=, dims=)": lambda lib, x: lib.tile(input=x, dims=(1, 2)),
    "torch.swapdims(input=, dim0=, dim1=)": lambda lib, x: lib.swapdims(input=x, dim0=0, dim1=-1),
    "tensor_split(sections=)": lambda lib, x: x.tensor_split(sections=2, dim=-1),
    "torch.tensor_split(input=, indices=)": lambda lib, x: lib.tensor_split(input=x, indices=[1], dim=0),
    "hsplit(indices=)": lambda lib, x: x.hsplit(indices=[1]),
    "torch.hsplit(input=, sections=)": lambda lib, x: lib.hsplit(input=x.reshape(-1, 1), sections=1),
    "vsplit(indices=)": lambda lib, x: x.reshape(x.shape[0], -1).vsplit(indices=[1]),
    "torch.dsplit(input=, sections=)": lambda lib, x: lib.dsplit(input=x.reshape(1, 1, -1), sections=1),
    "sum_to_size(size=)": lambda lib, x: x.sum_to_size(size=(1,) * x.ndim),
}


def _values(result):
    """A result as nested lists (a tuple of pieces as a list of them)."""
    if isinstance(result, tuple):
        return [piece.tolist() for piece in result]
    return result.tolist()


@pytest.mark.torch
@pytest.mark.parametrize("call", sorted(KEYWORD_CALLS))
@given(shape=SHAPES)
def test_pytorchs_keyword_names_for_sizes_and_dims_are_accepted(call, shape, torch):
    """``x.reshape(shape=(…))``, ``x.permute(dims=…)``, ``torch.split(tensor=x, …)``… are how PyTorch names these
    arguments (programs, and its own docs, pass them so); glassgrad raised TypeError for each."""
    values = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    ours = KEYWORD_CALLS[call](gg, gg.tensor(values))
    theirs = KEYWORD_CALLS[call](torch, torch.tensor(values))
    assert _values(ours) == _values(theirs)


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(2, 3).reshape(6, shape=(6,)),
    lambda lib: lib.ones(2, 3).view(6, size=(6,)),
    lambda lib: lib.ones(2, 3).permute(1, 0, dims=(1, 0)),
    lambda lib: lib.ones(1, 3).expand(2, 3, size=(2, 3)),
    lambda lib: lib.zeros(2, size=(2,)),
], ids=["reshape", "view", "permute", "expand", "zeros"])
def test_sizes_given_both_ways_are_a_type_error(call, torch):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError, match=r"give the sizes once, as \w+\(2, 3\) or \w+\(\w+=\(2, 3\)\), not both"):
        call(gg)


NO_SIZE_CALLS = {
    "ones()": lambda lib: lib.ones(),
    "zeros()": lambda lib: lib.zeros(),
    "empty()": lambda lib: lib.empty(),
    "rand()": lambda lib: lib.rand(),
    "randn()": lambda lib: lib.randn(),
    "x.view()": lambda lib: lib.ones(1).view(),
    "x.reshape()": lambda lib: lib.ones(1).reshape(),
    "x.permute()": lambda lib: lib.tensor(1.0).permute(),
    "x.expand()": lambda lib: lib.tensor(1.0).expand(),
    "x.repeat()": lambda lib: lib.tensor(1.0).repeat(),
    "x.flip()": lambda lib: lib.ones(2).flip(),
    "x.tile()": lambda lib: lib.ones(2).tile(),
    "x.new_zeros()": lambda lib: lib.ones(2).new_zeros(),
    "x.tensor_split()": lambda lib: lib.ones(2).tensor_split(),
    "x.hsplit()": lambda lib: lib.ones(2).hsplit(),
}


@pytest.mark.torch
@pytest.mark.parametrize("call", sorted(NO_SIZE_CALLS))
def test_no_size_at_all_is_pytorchs_type_error(call, torch):
    """``gg.ones()`` made a 0-d tensor and ``x.reshape()`` of a one-entry tensor a 0-d view, where PyTorch raises
    TypeError: the size is missing. (The 0-d shape is written ``()``.)"""
    with pytest.raises(TypeError):
        NO_SIZE_CALLS[call](torch)
    with pytest.raises(TypeError, match=r"missing its sizes: give them as .*\(\(\) for a 0-d shape\)|give where to "
                                        r"cut once: a number of sections .* or a list of indices"):
        NO_SIZE_CALLS[call](gg)


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(()), lambda lib: lib.zeros([]), lambda lib: lib.ones(size=()), lambda lib: lib.rand(()),
    lambda lib: lib.full((), 2.0), lambda lib: lib.zeros_like(lib.tensor(1.0)),
    lambda lib: lib.tensor(1.0).new_full((), 3.0), lambda lib: lib.ones(1).view(()),
    lambda lib: lib.ones(1).reshape(()), lambda lib: lib.tensor(1.0).permute(()),
    lambda lib: lib.tensor(1.0).expand(()), lambda lib: lib.tensor(1.0).repeat(()),
    lambda lib: lib.tile(lib.tensor(1.0), ()), lambda lib: lib.broadcast_tensors(lib.tensor(1.0))[0],
    lambda lib: lib.tensor(2.0).prod(),
])
def test_the_0d_shape_given_as_an_empty_tuple_stays_0d(call, torch):
    ours, theirs = call(gg), call(torch)
    assert tuple(ours.shape) == tuple(theirs.shape) == ()


def test_a_0d_products_gradient_keeps_its_shape():
    """The gradient of ``x.prod()`` for a 0-d ``x`` is 1 (d x / d x), shaped as ``x``."""
    x = gg.tensor(3.0, dtype=gg.float64, requires_grad=True)
    x.prod().backward()
    assert x.grad.shape == () and x.grad.item() == 1.0


PAST_INT64 = st.one_of(st.integers(2**63, 2**70), st.integers(-(2**70), -(2**63) - 1))


@pytest.mark.torch
@given(value=PAST_INT64, others=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3), nested=st.booleans(),
       position=st.integers(0, 3))
def test_python_ints_past_int64_are_pytorchs_value_error(value, others, nested, position, torch):
    """``torch.tensor(2**63)`` raises ValueError (Python ints are int64); glassgrad made a uint64 tensor of it, a
    float32 one of ``[1, 2**63]`` and raised TypeError for ``-2**63 - 1``."""
    entries = list(others)
    entries.insert(min(position, len(entries)), value)
    data = [[n] for n in entries] if nested else entries
    for given_data in (data, value):
        with pytest.raises(ValueError):
            torch.tensor(given_data)
        with pytest.raises(ValueError, match=rf"tensor\(\): the int {value} is outside int64's range "
                                             rf"\[-9223372036854775808, 9223372036854775807\]") as caught:
            gg.tensor(given_data)
        assert "\n" not in str(caught.value)


@pytest.mark.torch
@pytest.mark.parametrize("data", [2**63 - 1, -(2**63), [1, -(2**63)], [[2**63 - 1], [0]]])
def test_python_ints_at_int64s_ends_stay_int64(data, torch):
    ours, theirs = gg.tensor(data), torch.tensor(data)
    assert ours.dtype == gg.int64 and ours.tolist() == theirs.tolist()


@pytest.mark.torch
def test_ints_past_int64_with_a_float_dtype_or_a_float_beside_them_are_floats(torch):
    for data, dtype in (([2**63], "float64"), ([1.5, 2**63], None), (2**64, "float32")):
        ours = gg.tensor(data, dtype=None if dtype is None else getattr(gg, dtype))
        theirs = torch.tensor(data, dtype=None if dtype is None else getattr(torch, dtype))
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
@given(batch=st.integers(0, 3), in_features=st.integers(0, 3), out_features=st.integers(0, 3))
def test_linear_layers_with_no_inputs_or_no_outputs_work_as_pytorchs(batch, in_features, out_features, torch):
    """``nn.Linear(0, n)`` (no inputs: the output is the bias, which then starts at 0) and ``nn.Linear(n, 0)`` are
    accepted by PyTorch, with zero-size gradients; glassgrad refused them."""
    assume(in_features == 0 or out_features == 0)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        ours = gg.nn.Linear(in_features, out_features, dtype=gg.float64)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        theirs = torch.nn.Linear(in_features, out_features, dtype=torch.float64)
    with torch.no_grad():  # the same draws in both (none when either size is 0)
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    values = np.arange(batch * in_features, dtype=np.float64).reshape(batch, in_features)
    x_ours = gg.tensor(values, requires_grad=True)
    x_theirs = torch.tensor(values, requires_grad=True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_array_equal(out_ours.detach().numpy(), out_theirs.detach().numpy())
    (out_ours * 2).sum().backward()
    (out_theirs * 2).sum().backward()
    for mine, reference in ((x_ours.grad, x_theirs.grad), (ours.weight.grad, theirs.weight.grad),
                            (ours.bias.grad, theirs.bias.grad)):
        assert tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())


@pytest.mark.torch
def test_saving_into_a_missing_folder_is_pytorchs_runtime_error(tmp_path, torch):
    """``torch.save`` into a folder that does not exist raises RuntimeError; ``gg.save`` raised FileNotFoundError
    alone (it still is one, for code that catches OSError)."""
    target = tmp_path / "no_such_folder" / "model.pt"
    with pytest.raises(RuntimeError):
        torch.save({"w": torch.zeros(1)}, target)
    with pytest.raises(RuntimeError, match=r"^cannot write .*model\.pt: the folder .*no_such_folder does not exist; "
                                           r"create it first$") as caught:
        gg.save({"w": gg.zeros(1)}, target)
    assert isinstance(caught.value, FileNotFoundError) and "\n" not in str(caught.value)


EMPTY_SHAPES = st.lists(st.integers(0, 3), min_size=1, max_size=4).filter(lambda shape: 0 in shape)


@pytest.mark.torch
@given(shape=EMPTY_SHAPES)
def test_strides_of_a_new_tensor_with_no_entries_are_pytorchs(shape, torch):
    """PyTorch works out a new tensor's strides with each size of 0 counted as 1 (``zeros(2, 0, 3)``: ``(3, 3, 1)``);
    glassgrad counted it as 0 (``(0, 3, 1)``)."""
    ours, theirs = gg.zeros(shape), torch.zeros(shape)
    assert ours.stride() == theirs.stride()
    assert [ours.stride(d) for d in range(len(shape))] == [theirs.stride(d) for d in range(len(shape))]
    assert ours.is_contiguous() and theirs.is_contiguous()


@pytest.mark.torch
@given(shape=EMPTY_SHAPES, method=st.sampled_from(["view", "reshape"]), data=st.data())
def test_a_minus_one_beside_a_size_0_is_refused_as_pytorch_does(shape, method, data, torch):
    """With a size of 0 in the new shape, a -1 could be any size: PyTorch raises RuntimeError; so does glassgrad,
    saying why."""
    new = data.draw(st.permutations([-1, 0, *data.draw(st.lists(st.integers(1, 3), max_size=2))]))
    with pytest.raises(RuntimeError):
        getattr(torch.zeros(shape), method)(new)
    with pytest.raises(RuntimeError, match=r"its -1 could be any size, as another size is 0: write that size out"):
        getattr(gg.zeros(shape), method)(new)


@pytest.mark.torch
@pytest.mark.parametrize("dst_type", ["float64", "torch.DoubleTensor", "torch.HalfTensor"])
def test_module_type_converts_parameters_and_buffers_as_pytorchs(dst_type, torch):
    """``model.type(torch.float64)`` (or a legacy name) converts every parameter and buffer, integer buffers too;
    glassgrad's modules had no ``type``."""
    def build(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        return model.type(getattr(lib, dst_type) if dst_type == "float64" else dst_type)

    ours, theirs = build(gg), build(torch)
    ours_dtypes = {name: str(t.dtype) for name, t in [*ours.named_parameters(), *ours.named_buffers()]}
    theirs_dtypes = {name: str(t.dtype).removeprefix("torch.")
                     for name, t in [*theirs.named_parameters(), *theirs.named_buffers()]}
    assert ours_dtypes == theirs_dtypes
    with pytest.raises(RuntimeError):
        torch.nn.Linear(2, 3).type(torch.int64)
    with pytest.raises(RuntimeError, match="Module.type: parameters must stay floating to learn, so int64 is refused"):
        gg.nn.Linear(2, 3).type(gg.int64)


TOP_LEVEL_LINALG = {
    "inverse": {}, "det": {}, "logdet": {}, "slogdet": {}, "matrix_power": {"n": 3}, "matrix_exp": {},
    "cholesky_inverse": {},
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(TOP_LEVEL_LINALG))
@given(entries=st.lists(st.floats(-1, 1), min_size=4, max_size=4))
def test_top_level_matrix_functions_take_pytorchs_input_keyword(name, entries, torch):
    """``torch.det(input=a)``, ``torch.inverse(input=a)``… name their argument ``input`` (``torch.linalg.det`` names
    it ``A``); glassgrad's took ``A`` alone and raised TypeError."""
    values = np.array(entries).reshape(2, 2) + 3 * np.eye(2)  # well away from singular
    values = values @ values.T if name == "cholesky_inverse" else values
    ours = getattr(gg, name)(input=gg.tensor(values), **TOP_LEVEL_LINALG[name])
    theirs = getattr(torch, name)(input=torch.tensor(values), **TOP_LEVEL_LINALG[name])
    for mine, reference in zip(ours if isinstance(ours, tuple) else [ours], theirs if isinstance(theirs, tuple)
                               else [theirs]):
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@given(shape=SHAPES.filter(lambda shape: len(shape) <= 2), ord=st.sampled_from([None, 1, 2]))
def test_linalg_norm_takes_pytorchs_input_keyword(shape, ord, torch):
    """``torch.linalg.norm(input=x)`` (its documented name); glassgrad's took ``A`` and raised TypeError."""
    values = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) - 2
    ours = gg.linalg.norm(input=gg.tensor(values), ord=ord)
    theirs = torch.linalg.norm(input=torch.tensor(values), ord=ord)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
