"""Older PyTorch code against PyTorch 2.13: the legacy constructors (``Tensor(2, 3)``, ``Tensor([1, 2])``,
``FloatTensor``, ``LongTensor`` …, ``isinstance`` with them, ``x.type(DoubleTensor)``, ``set_default_tensor_type``),
``as_strided_copy``, ``autograd.Variable``, uint8 masks as indices, and softmax without ``dim``. Before this,
``gg.Tensor([1, 2])`` was an int64 tensor (PyTorch's is float32), ``gg.Tensor(2, 3)`` failed with "only Tensors of
floating point dtype can require gradients", a uint8 index was read as positions and ``F.softmax(x)`` of a 3-d or
4-d input used another dim than PyTorch's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

NAMES = ("Tensor", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
         "CharTensor", "ByteTensor", "BoolTensor")


def _made(library, name, args):
    """What ``library.<name>(*args)`` makes: its dtype name, shape and (for data) its numbers; or the error's type."""
    try:
        made = getattr(library, name)(*args)
    except (TypeError, ValueError, RuntimeError) as error:
        return type(error).__name__
    return str(made.dtype).replace("torch.", ""), tuple(made.shape)


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(NAMES), shape=st.lists(st.integers(0, 4), min_size=1, max_size=3))
def test_whole_numbers_are_a_shape_as_in_pytorch(torch, name, shape):
    made = getattr(gg, name)(*shape)
    assert _made(gg, name, shape) == _made(torch, name, shape)
    assert not made.any()  # zeros (PyTorch leaves the memory uninitialised)
    assert _made(gg, name, [gg.Size(shape)]) == _made(torch, name, [torch.Size(shape)])


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(NAMES), rows=st.integers(0, 3), columns=st.integers(1, 3), seed=st.integers(0, 2**16),
       source=st.sampled_from(["floats", "ints", "bools", "array64", "array_int"]))
def test_data_is_converted_as_in_pytorch(torch, name, rows, columns, seed, source):
    rng = np.random.default_rng(seed)
    numbers = rng.uniform(-3, 3, size=(rows, columns))
    whole = np.round(numbers).astype(np.int64)
    data = {"floats": numbers.tolist(), "ints": whole.tolist(), "bools": (numbers > 0).tolist(), "array64": numbers,
            "array_int": whole}[source]
    if name in ("ByteTensor", "BoolTensor") or source == "bools":
        data = np.abs(np.asarray(data)).astype(np.asarray(data).dtype)  # PyTorch's negative → uint8 is undefined
        data = data if source.startswith("array") else data.tolist()
    mine = getattr(gg, name)(data)
    theirs = getattr(torch, name)(data)
    assert _made(gg, name, [data]) == _made(torch, name, [data])
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.torch
def test_the_edge_cases_answer_as_pytorch(torch):
    cases = [(), ([],), ((2, 3),), (np.array(2.0),), (np.int64(3),), (0,), (2.5,), (-1,), (2, 3.0), ("a",)]
    for args in cases:
        for name in ("Tensor", "FloatTensor", "LongTensor"):
            mine, theirs = _made(gg, name, args), _made(torch, name, args)
            assert mine == theirs, (name, args)
    for bad, message in [(lambda: gg.Tensor(2.5), r"a single number is a size only when whole"),
                         (lambda: gg.Tensor(-1), r"Tensor\(-1\): sizes must be >= 0"),
                         (lambda: gg.Tensor("a"), "not text"),
                         (lambda: gg.LongTensor(gg.ones(2)), r"t is float32, but LongTensor makes int64")]:
        with pytest.raises((TypeError, RuntimeError), match=message) as error:
            bad()
        assert "\n" not in str(error.value)


@pytest.mark.torch
def test_a_tensor_of_the_same_dtype_shares_its_memory(torch):
    for library in (gg, torch):
        original = library.ones(3)
        same = library.Tensor(original)
        same[0] = 5.0
        assert original.tolist() == [5.0, 1.0, 1.0]
        assert library.FloatTensor(original).tolist() == [5.0, 1.0, 1.0]


@pytest.mark.torch
def test_isinstance_and_type_conversions_match_pytorch(torch):
    for dtype_name in ("float32", "float64", "int64", "bool"):
        mine, theirs = gg.zeros(2, dtype=getattr(gg, dtype_name if dtype_name != "bool" else "bool_")), \
            torch.zeros(2, dtype=getattr(torch, dtype_name))
        for name in NAMES[1:]:
            assert isinstance(mine, getattr(gg, name)) == isinstance(theirs, getattr(torch, name)), (dtype_name, name)
        for name in NAMES[1:]:
            assert str(mine.type(getattr(gg, name)).dtype) == str(theirs.type(getattr(torch, name)).dtype).replace(
                "torch.", "")
    assert not isinstance(np.zeros(2, np.float32), gg.FloatTensor)


def test_a_legacy_constructor_makes_a_parameter_that_trains():
    """The older custom-layer idiom: ``nn.Parameter(torch.Tensor(out, in))`` filled by an initialiser."""
    weight = gg.nn.Parameter(gg.Tensor(3, 4))
    gg.nn.init.kaiming_uniform_(weight, a=5 ** 0.5)
    bound = 1 / 4 ** 0.5  # kaiming_uniform_ with a = √5: gain √(2/6), bound gain·√(3/fan_in) = 1/√fan_in
    assert weight.dtype == gg.float32 and weight.requires_grad and weight.abs().max().item() <= bound
    before = weight.detach().clone()
    optimizer = gg.optim.SGD([weight], lr=0.1)
    (weight @ gg.ones(4)).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(weight.detach().numpy(), before.numpy() - 0.1, rtol=1e-6)


@pytest.mark.torch
def test_set_default_tensor_type_matches_pytorch(torch):
    found = []
    for library in (gg, torch):
        answers = []
        try:
            for kind in ("torch.DoubleTensor", library.FloatTensor, library.DoubleTensor, "torch.FloatTensor"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # both say it is deprecated (PyTorch once per process)
                    library.set_default_tensor_type(kind)
                answers.append((str(library.tensor([1.5]).dtype), str(library.Tensor([1]).dtype)))
        finally:
            library.set_default_dtype(library.float32)
        for bad in ("torch.LongTensor", library.IntTensor):
            with pytest.raises(TypeError), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                library.set_default_tensor_type(bad)
        found.append([tuple(text.replace("torch.", "") for text in answer) for answer in answers])
    assert found[0] == found[1] == [("float64", "float64"), ("float32", "float32")] * 2
    gg.set_warn_always(True)  # once per process, as PyTorch's: the loop above has shown it
    try:
        with pytest.warns(UserWarning, match=r"deprecated.*gg\.set_default_dtype"):
            gg.set_default_tensor_type(gg.FloatTensor)
    finally:
        gg.set_warn_always(False)
    with pytest.raises(RuntimeError, match="CPU"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gg.set_default_tensor_type("torch.cuda.FloatTensor")
    assert gg.get_default_dtype() == gg.float32


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(length=st.integers(4, 12), rows=st.integers(1, 3), columns=st.integers(1, 3), data=st.data())
def test_as_strided_copy_matches_pytorch_and_owns_its_memory(torch, length, rows, columns, data):
    row_step = data.draw(st.integers(0, 3))
    column_step = data.draw(st.integers(0, 2))
    reach = (rows - 1) * row_step + (columns - 1) * column_step
    if reach >= length:
        return
    offset = data.draw(st.integers(0, length - 1 - reach))
    values = np.random.default_rng(length).normal(size=length)
    mine = gg.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    copies = [library.as_strided_copy(x, (rows, columns), (row_step, column_step), offset)
              for library, x in ((gg, mine), (torch, theirs))]
    np.testing.assert_array_equal(copies[0].detach().numpy(), copies[1].detach().numpy())
    weights = np.arange(rows * columns, dtype=np.float64).reshape(rows, columns) + 1
    (copies[0] * gg.tensor(weights)).sum().backward()
    (copies[1] * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
    copies[0].detach().add_(1.0)
    np.testing.assert_array_equal(mine.detach().numpy(), values)


@pytest.mark.torch
def test_variable_is_a_new_leaf_over_the_same_numbers_as_in_pytorch(torch):
    """Older course code: ``from torch.autograd import Variable``; ``Variable(x, requires_grad=True)``."""
    found = []
    for library in (gg, torch):
        Variable = library.autograd.Variable
        base = library.tensor([1.0, 2.0, 3.0], requires_grad=True)
        inner = base * 2  # not a leaf
        wrapped = Variable(inner, requires_grad=True)
        (wrapped * wrapped).sum().backward()
        plain = Variable(library.ones(2))
        with library.no_grad():
            wrapped[0] = 10.0  # the same memory as inner
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            Variable(library.ones(1), volatile=True)
        found.append((wrapped.is_leaf, wrapped.grad.tolist(), base.grad is None, plain.requires_grad, plain.is_leaf,
                      inner.detach().tolist(), isinstance(library.ones(1), Variable), wrapped is inner,
                      [warning.category.__name__ for warning in caught]))
        with pytest.raises(TypeError, match="Variable data has to be a tensor"):
            Variable([1.0, 2.0])
        with pytest.raises(RuntimeError, match="floating point"):
            Variable(library.ones(2, dtype=library.int64), requires_grad=True)
    assert found[0] == found[1]
    assert found[0][1] == [4.0, 8.0, 12.0] and found[0][5] == [10.0, 4.0, 6.0]


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 2**16))
@pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8")
def test_a_byte_tensor_index_is_a_mask_as_in_pytorch(torch, shape, seed):
    """Before the fix ``x[gg.ByteTensor([1, 0, 1])]`` read the 0s and 1s as positions: x[1], x[0], x[1]."""
    rng = np.random.default_rng(seed)
    values, mask = rng.normal(size=shape), rng.integers(0, 2, size=shape).astype(np.uint8)
    mine, theirs = gg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    with pytest.warns(UserWarning, match=r"uint8 tensor is deprecated.*mask\.bool\(\)"):
        picked = mine[gg.ByteTensor(mask)]
    expected = theirs[torch.tensor(mask)]
    np.testing.assert_array_equal(picked.detach().numpy(), expected.detach().numpy())
    weights = rng.normal(size=expected.shape)
    (picked * gg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(mine.grad.numpy(), theirs.grad.numpy())
    written = gg.tensor(values)
    with pytest.warns(UserWarning, match="read as a mask"):
        written[gg.ByteTensor(mask)] = 0.0  # PyTorch refuses this one; glassgrad writes where the mask is 1
    np.testing.assert_array_equal(written.numpy(), np.where(mask == 1, 0.0, values))


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(["softmax", "log_softmax", "softmin"]), layer=st.booleans(),
       shape=st.lists(st.integers(1, 4), min_size=0, max_size=4), seed=st.integers(0, 2**16))
def test_softmax_without_dim_takes_pytorchs_implicit_dim(torch, name, layer, shape, seed):
    """Old code writes ``F.softmax(x)``: PyTorch picks dim 0 for 0-, 1- and 3-d inputs and dim 1 otherwise, and
    warns. Before the fix glassgrad took the last dim, silently different for 3-d and 4-d inputs (and refused
    softmin)."""
    values = np.random.default_rng(seed).normal(size=shape)
    results = []
    for library in (gg, torch):
        x = library.tensor(values, requires_grad=True)
        module = {"softmax": "Softmax", "log_softmax": "LogSoftmax", "softmin": "Softmin"}[name]
        function = getattr(library.nn, module)() if layer else getattr(library.nn.functional, name)
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been deprecated"):
            out = function(x)
        weights = library.tensor(np.arange(out.numel(), dtype=np.float64).reshape(out.shape))
        (out * weights).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.torch
def test_softmax_with_a_dtype_converts_first_as_pytorch(torch):
    values = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    for name in ("softmax", "log_softmax", "softmin"):
        mine = getattr(gg.nn.functional, name)(gg.tensor(values), dim=1, dtype=gg.float64)
        theirs = getattr(torch.nn.functional, name)(torch.tensor(values), dim=1, dtype=torch.float64)
        assert mine.dtype == gg.float64
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(["int64", "float64", "bool"]), offset=st.integers(-2, 2))
@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
def test_where_alone_diag_embed_and_chain_matmul_answer_as_pytorch(torch, shape, seed, dtype, offset):
    """Before the fix ``gg.where(cond)`` needed three arguments, ``diag_embed`` of an integer tensor came back
    float32 and ``chain_matmul`` of one matrix was refused."""
    rng = np.random.default_rng(seed)
    values = rng.integers(-2, 3, size=shape).astype(dtype)
    answers = []
    for library in (gg, torch):
        x = library.tensor(values)
        positions = library.where(x)
        embedded = library.diag_embed(x, offset)
        single = library.chain_matmul(library.tensor(values.reshape(shape[0], -1).astype(np.float64)))
        answers.append(([p.tolist() for p in positions], embedded.tolist(), str(embedded.dtype).replace("torch.", ""),
                        single.tolist()))
    assert answers[0] == answers[1]


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 2**16),
       which=st.sampled_from(["min", "max", "both", "crossed"]), stretch=st.booleans())
def test_clamp_by_tensors_that_require_grad_sends_them_their_gradient(torch, shape, seed, which, stretch):
    """Before the fix ``clamp(x, min=lo)`` with ``lo.requires_grad`` left ``lo.grad`` None (PyTorch: 1 where x < lo)."""
    rng = np.random.default_rng(seed)
    values, weights = rng.normal(size=shape), rng.normal(size=shape)
    bound_shape = (1,) * (len(shape) - 1) + (shape[-1],) if stretch else tuple(shape)
    low, high = rng.normal(-0.3, 0.5, size=bound_shape), rng.normal(0.3, 0.5, size=bound_shape)
    if which == "crossed":
        low, high = high + 1, low - 1  # min above max: every entry is max, as PyTorch
    results = []
    for library in (gg, torch):
        x = library.tensor(values, requires_grad=True)
        lo, hi = library.tensor(low, requires_grad=True), library.tensor(high, requires_grad=True)
        bounds = {"min": {"min": lo}, "max": {"max": hi}}.get(which, {"min": lo, "max": hi})
        out = library.clamp(x, **bounds)
        (out * library.tensor(weights)).sum().backward()
        results.append([out.detach().numpy()] + [None if t.grad is None else t.grad.numpy() for t in (x, lo, hi)])
    for mine, theirs in zip(*results):
        if theirs is None:
            assert mine is None
        else:
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.torch
def test_clamp_by_integer_tensors_and_logsumexp_of_integers_keep_pytorchs_dtypes(torch):
    values, bounds = np.linspace(-3, 3, 8).astype(np.float32), np.arange(-4, 4)
    for library in (gg, torch):
        assert str(library.clamp(library.tensor(values), max=library.tensor(bounds)).dtype).endswith("float32")
        assert str(library.logsumexp(library.tensor(bounds), 0).dtype).endswith("float32")
