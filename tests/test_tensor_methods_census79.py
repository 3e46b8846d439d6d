"""Round 79: a census of Tensor methods, differential against PyTorch 2.13.

Every name ``dir(torch.Tensor)`` and ``dir(gg.Tensor)`` share (public methods and the arithmetic, comparison and
indexing dunders) was called with the argument patterns PyTorch code uses (none; a dim, negative too; keepdim;
another tensor of the same or a broadcastable shape; a number; ``dtype=``; a shape as a tuple or as varargs) on
float32/float64/int64/bool tensors of shapes ``()``, ``(5,)``, ``(3, 4)``, ``(2, 3, 4)``, ``(3, 1, 4)`` and
``(0, 3)``, comparing values, dtype, shape, whether the result shares the input's memory, what an in-place method
returns, the exception class, and the gradient of ``(result · w).sum()``.

Defects fixed this round (each test marked so fails on 9d2dc68):

* ``x.median()`` / ``x.nanmedian()`` of an integer tensor over all entries returned a view of the input:
  ``m = x.median(); m += 1`` changed ``x``. PyTorch's is a new tensor.
* ``x.diff(0)`` (n = 0) returned ``x`` itself; PyTorch's is a new tensor.
* ``geqrf`` of an empty matrix (shape ``(0, 3)``) raised NumPy's raw ValueError from a reshape; PyTorch gives empty
  ``(a, tau)``.
* ``logit(eps=-1)``: a negative eps clamped to ``[eps, 1 − eps]``, so the gradient was 0 outside [0, 1] where the
  value is NaN; in PyTorch a negative eps clamps nothing and the gradient there is NaN.
* ``logit(eps=t)``, ``hardshrink(t)``, ``softshrink(t)`` with a 0-d tensor ``t`` (PyTorch's Scalar) worked
  forward and failed in backward with a raw ``AttributeError: 'Tensor' object has no attribute 'astype'``.
* ``x /= y`` (and ``x.div_(y)``) of an integer tensor with a ``y`` of a shape that does not broadcast raised
  NumPy's raw ValueError; PyTorch's RuntimeError now, naming both shapes.
* ``xlogy``, ``logaddexp``, ``logaddexp2``, ``nextafter``, ``fmax``, ``fmin`` of operands whose shapes do not
  broadcast raised NumPy's raw ValueError (a mask worked out from both arrays before any op); PyTorch's
  RuntimeError now.
* ``x.put(mask, source)`` with a bool index (two True entries, two source entries) silently put through the mask;
  PyTorch refuses any index but int64 with RuntimeError, as glassgrad now does (a float index was IndexError).
* ``x.view_as((2, 3))``, ``reshape_as``, ``expand_as``, ``type_as`` of a number or tuple raised a raw
  AttributeError ('tuple' object has no attribute 'shape'); ``x.reshape(gg.float32)`` (a dtype among the sizes) a raw
  AttributeError from the size check (a NumPy dtype has ``ndim``); ``ormqr`` of a 0-d tensor a raw IndexError. Each
  is PyTorch's class now (TypeError, TypeError, RuntimeError).
* ``x.broadcast_to(2, 3, 4)``, ``x.squeeze(0, 1)``, ``x.count_nonzero(0, 1)``: PyTorch's methods take an int list
  one by one too; glassgrad's raised TypeError (too many positional arguments).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

SHAPES = [(), (5,), (3, 4), (2, 3, 4), (3, 1, 4), (0, 3)]


def _pair(torch, array: np.ndarray, requires_grad: bool = False):
    """The same numbers as a torch tensor and a glassgrad tensor."""
    return (torch.tensor(array, requires_grad=requires_grad), gg.tensor(array, requires_grad=requires_grad))


def _shares(result, source) -> bool:
    """Whether result sits in source's memory (both libraries answer through untyped_storage)."""
    return result.untyped_storage().data_ptr() == source.untyped_storage().data_ptr()


# --- defects ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["median", "nanmedian"])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_median_of_all_integer_entries_is_a_new_tensor(torch, name, dtype):
    """Fails on 9d2dc68: the integer median over all entries was a view of the input."""
    array = np.array([[3, 1, 2], [5, 0, 4]]).astype(dtype)
    t, g = _pair(torch, array)
    tm, gm = getattr(t, name)(), getattr(g, name)()
    assert gm.tolist() == tm.tolist()
    assert _shares(gm, g) == _shares(tm, t) == False  # noqa: E712
    gm += 10
    assert g.tolist() == array.tolist()


def test_diff_of_order_zero_is_a_new_tensor(torch):
    """Fails on 9d2dc68: x.diff(0) was x itself."""
    array = np.arange(6.0).reshape(2, 3)
    t, g = _pair(torch, array)
    td, gd = t.diff(0), g.diff(0)
    assert gd is not g and not _shares(gd, g) and not _shares(td, t)
    gd.add_(1)
    assert g.tolist() == array.tolist() and gd.tolist() == (array + 1).tolist()


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 4), (0, 3, 3)])
def test_geqrf_of_empty_matrices(torch, shape):
    """Fails on 9d2dc68: NumPy's ValueError 'cannot reshape array of size 0'."""
    t, g = _pair(torch, np.zeros(shape))
    (ta, ttau), (ga, gtau) = t.geqrf(), g.geqrf()
    assert tuple(ga.shape) == tuple(ta.shape) and tuple(gtau.shape) == tuple(ttau.shape)
    assert ga.dtype == gg.float64 and gtau.dtype == gg.float64


def test_logit_with_a_negative_eps_clamps_nothing(torch):
    """Fails on 9d2dc68: the gradient was 0 outside [0, 1] (clamped to [−1, 2]) where PyTorch's is NaN."""
    array = np.array([-0.5, 0.25, 0.5, 0.9, 1.5, 2.5, -1.5])
    t, g = _pair(torch, array, requires_grad=True)
    tv, gv = t.logit(eps=-1), g.logit(eps=-1)
    np.testing.assert_allclose(gv.detach().numpy(), tv.detach().numpy(), rtol=1e-14, equal_nan=True)
    tv.sum().backward()
    gv.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-14, equal_nan=True)


@pytest.mark.parametrize("call", [
    lambda x, s: x.logit(eps=s(0.2)),
    lambda x, s: x.hardshrink(s(0.3)),
    lambda x, s: x.hardshrink(lambd=s(0.3)),
    lambda x, s: (gg if isinstance(x, gg.Tensor) else __import__("torch")).nn.functional.softshrink(x, s(0.3)),
], ids=["logit", "hardshrink", "hardshrink_kw", "softshrink"])
def test_a_0d_tensor_as_the_scalar_setting_differentiates(torch, call):
    """Fails on 9d2dc68 (logit, hardshrink): backward raised a raw AttributeError ('astype')."""
    array = np.array([-0.6, -0.1, 0.05, 0.25, 0.5, 0.9, 1.2])
    t, g = _pair(torch, array, requires_grad=True)
    w = np.linspace(-1.0, 2.0, array.size)
    tv, gv = call(t, torch.tensor), call(g, gg.tensor)
    np.testing.assert_allclose(gv.detach().numpy(), tv.detach().numpy(), rtol=1e-13, equal_nan=True)
    (tv * torch.tensor(w)).sum().backward()
    (gv * gg.tensor(w)).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-13, equal_nan=True)


@pytest.mark.parametrize("update", [lambda x, y: x.__itruediv__(y), lambda x, y: x.div_(y)], ids=["/=", "div_"])
@pytest.mark.parametrize("other_shape", [(2, 2), (2,), (4, 3)])
def test_integer_true_division_in_place_by_a_wrong_shape_is_runtime_error(torch, update, other_shape):
    """Fails on 9d2dc68: NumPy's raw ValueError 'operands could not be broadcast together'."""
    x_array, y_array = np.arange(1, 4).reshape(1, 3), np.ones(other_shape, dtype=np.int64)
    t, g = _pair(torch, x_array)
    with pytest.raises(RuntimeError):
        update(t, torch.tensor(y_array))
    with pytest.raises(RuntimeError, match="shape"):
        update(g, gg.tensor(y_array))
    assert g.tolist() == x_array.tolist()


@pytest.mark.parametrize("name", ["xlogy", "logaddexp", "logaddexp2", "nextafter", "fmax", "fmin", "hypot",
                                  "copysign"])
def test_binary_float_ops_of_shapes_that_do_not_broadcast_are_runtime_error(torch, name):
    """Fails on 9d2dc68 (all but hypot, copysign): NumPy's raw ValueError."""
    for lib in (torch, gg):
        with pytest.raises(RuntimeError):
            getattr(lib.ones(3, 4), name)(lib.ones(4, 3))
    assert getattr(gg.ones(3, 4), name)(gg.ones(4)).shape == getattr(torch.ones(3, 4), name)(torch.ones(4)).shape


@pytest.mark.parametrize("index", [[True, False, True, False], [1.0, 2.0]], ids=["bool", "float"])
@pytest.mark.parametrize("name", ["put", "put_"])
def test_put_takes_only_an_int64_index(torch, name, index):
    """Fails on 9d2dc68: the bool index was a mask (a silent result), the float one IndexError."""
    for lib in (torch, gg):
        with pytest.raises(RuntimeError):
            getattr(lib.zeros(4), name)(lib.tensor(index), lib.tensor([5.0, 6.0]))
    assert gg.zeros(4).put(gg.tensor([1, 2]), gg.tensor([5.0, 6.0])).tolist() == [0.0, 5.0, 6.0, 0.0]


@pytest.mark.parametrize("call, error", [
    (lambda lib, x: x.view_as((2, 3)), TypeError), (lambda lib, x: x.reshape_as(3), TypeError),
    (lambda lib, x: x.expand_as((2, 3)), TypeError), (lambda lib, x: x.type_as(2.0), TypeError),
    (lambda lib, x: x.reshape(lib.float32), TypeError), (lambda lib, x: x.expand(2, lib.float32), TypeError),
    (lambda lib, x: x[0, 0].ormqr(x[0, 0], x[0, 0]), RuntimeError),
], ids=["view_as", "reshape_as", "expand_as", "type_as", "reshape_dtype", "expand_dtype", "ormqr_0d"])
def test_misused_arguments_raise_pytorchs_class(torch, call, error):
    """Fails on 9d2dc68: raw AttributeError / IndexError from inside glassgrad."""
    with pytest.raises(error):
        call(torch, torch.ones(2, 3))
    with pytest.raises(error):
        call(gg, gg.ones(2, 3))


@pytest.mark.parametrize("call", [
    lambda x: x.broadcast_to(2, 3, 1, 4), lambda x: x.squeeze(1, 0), lambda x: x.squeeze(0, 1, 2),
    lambda x: x.count_nonzero(0, 1), lambda x: x.count_nonzero(2, 0),
], ids=["broadcast_to", "squeeze", "squeeze3", "count_nonzero", "count_nonzero_2_0"])
def test_an_int_list_given_one_by_one(torch, call):
    """Fails on 9d2dc68: TypeError 'takes from 1 to 2 positional arguments'."""
    array = np.array([[[0.0, 1.0, 2.0, 0.0]], [[3.0, 0.0, 0.0, 1.0]], [[1.0, 1.0, 0.0, 0.0]]])
    t, g = _pair(torch, array)
    expected, got = call(t), call(g)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


# --- the census's core as a property ------------------------------------------------------------------------

UNARY = ["abs", "neg", "exp", "sin", "tanh", "sigmoid", "relu", "square", "sign", "frac", "trunc", "floor",
         "ceil", "round", "reciprocal", "rsqrt", "sqrt", "log1p", "expm1", "erf", "clone", "float", "double",
         "long", "bool", "int", "contiguous", "detach", "t", "T", "mT", "ravel", "flatten", "cumsum", "cumprod",
         "logcumsumexp", "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "all", "any",
         "median", "nanmedian", "nansum", "std", "var", "logsumexp", "softmax", "log_softmax", "squeeze",
         "unsqueeze", "flip", "diff", "count_nonzero", "isnan", "isfinite", "signbit", "deg2rad", "nan_to_num",
         "fliplr", "tril", "triu", "msort", "sort", "argsort", "cummax", "cummin", "logit", "sinc", "exp2",
         "hardshrink", "positive", "__neg__", "__abs__", "__invert__", "__pos__"]
PATTERNS = [((), {}), ((0,), {}), ((-1,), {}), ((), {"dim": -1, "keepdim": True})]


def _normal(value, lib):
    """A result as comparable NumPy data (tensors: values, dtype name, shape; tuples: each part)."""
    if isinstance(value, lib.Tensor):
        return ("tensor", value.detach().numpy(), str(value.dtype).split(".")[-1], tuple(value.shape))
    if isinstance(value, (tuple, list)):
        return ("seq", [_normal(v, lib) for v in value])
    return ("other", value)


def _assert_same(expected, got):
    assert expected[0] == got[0]
    if expected[0] == "seq":
        assert len(expected[1]) == len(got[1])
        for e, g in zip(expected[1], got[1]):
            _assert_same(e, g)
    elif expected[0] == "tensor":
        assert (expected[2], expected[3]) == (got[2], got[3])
        tol = 1e-12 if expected[2] == "float64" else 2e-6
        np.testing.assert_allclose(got[1].astype(np.float64), expected[1].astype(np.float64), rtol=tol,
                                   atol=tol * 1e-3, equal_nan=True)
    else:
        assert expected[1] == got[1]


def _draw_array(data, shape, dtype):
    if dtype == "bool":
        return np.array(data.draw(st.lists(st.booleans(), min_size=int(np.prod(shape)),
                                           max_size=int(np.prod(shape)))), dtype=bool).reshape(shape)
    if dtype == "int64":
        return np.array(data.draw(st.lists(st.integers(-5, 5), min_size=int(np.prod(shape)),
                                           max_size=int(np.prod(shape)))), dtype=np.int64).reshape(shape)
    values = data.draw(st.lists(st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 3)),
                                min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return np.array(values, dtype=dtype).reshape(shape)


@settings(max_examples=120, deadline=None)
@given(data=st.data(), name=st.sampled_from(UNARY), pattern=st.sampled_from(PATTERNS),
       shape=st.sampled_from(SHAPES), dtype=st.sampled_from(["float32", "float64", "int64", "bool"]))
def test_census_property(torch, data, name, pattern, shape, dtype):
    """A drawn method and argument pattern on a drawn tensor: PyTorch's outcome (result and exception class),
    whether the result shares the input's memory, and for float64 the gradient of (result · w).sum()."""
    array = _draw_array(data, shape, dtype)
    grad = dtype == "float64"
    t, g = _pair(torch, array, requires_grad=grad)
    args, kwargs = pattern
    try:
        attribute = getattr(t, name)
        if not callable(attribute):
            if args or kwargs:
                return
            expected = attribute
        else:
            expected = attribute(*args, **kwargs)
    except Exception as error:  # PyTorch refuses: glassgrad must too (leniency in the other direction is noted)
        if name in ("nanmedian",) and shape == (0, 3):  # PyTorch's IndexError; glassgrad's RuntimeError
            return
        try:
            getattr(g, name)(*args, **kwargs)
        except Exception as mine:
            assert isinstance(mine, type(error)) or type(error) in (TypeError,), (type(error), type(mine))
        return
    attribute = getattr(g, name)
    got = attribute(*args, **kwargs) if callable(attribute) else attribute
    _assert_same(_normal(expected, torch), _normal(got, gg))
    if isinstance(expected, torch.Tensor) and expected.numel() and name != "contiguous":
        assert _shares(got, g) == _shares(expected, t), "view-ness differs"
    first_t = expected[0] if isinstance(expected, tuple) else expected
    first_g = got[0] if isinstance(got, tuple) else got
    if grad and isinstance(first_t, torch.Tensor) and first_t.requires_grad and first_t.is_floating_point():
        w = np.linspace(-1.0, 1.5, max(first_t.numel(), 1))[:first_t.numel()].reshape(tuple(first_t.shape))
        (tg,) = torch.autograd.grad((first_t * torch.tensor(w)).sum(), t, allow_unused=True)
        (gg_,) = gg.autograd.grad((first_g * gg.tensor(w)).sum(), g, allow_unused=True)
        tg = np.zeros(shape) if tg is None else tg.detach().numpy(force=True)
        gg_ = np.zeros(shape) if gg_ is None else gg_.numpy()
        np.testing.assert_allclose(gg_, tg, rtol=1e-10, atol=1e-12, equal_nan=True)


# --- pinning: view-ness and in-place identity that already matched ----------------------------------------

VIEWS = {
    "view": lambda x: x.view(4, 3), "t": lambda x: x.t(), "T": lambda x: x.T, "mT": lambda x: x.mT,
    "transpose": lambda x: x.transpose(0, 1), "diagonal": lambda x: x.diagonal(),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "select": lambda x: x.select(0, 1), "unfold": lambda x: x.unfold(1, 2, 1), "expand": lambda x: x[:1].expand(3, 4),
    "unsqueeze": lambda x: x.unsqueeze(0), "permute": lambda x: x.permute(1, 0), "flatten": lambda x: x.flatten(),
    "reshape": lambda x: x.reshape(2, 6), "split": lambda x: x.split(2)[1], "chunk": lambda x: x.chunk(2, 1)[1],
    "unbind": lambda x: x.unbind(1)[2], "movedim": lambda x: x.movedim(0, 1), "detach": lambda x: x.detach(),
    "swapaxes": lambda x: x.swapaxes(0, 1), "view_as": lambda x: x.view_as(x), "real": lambda x: x.real,
    "squeeze": lambda x: x.squeeze(), "unflatten": lambda x: x.unflatten(1, (2, 2)), "ravel": lambda x: x.ravel(),
    "flatten_of_t": lambda x: x.t().flatten(), "reshape_of_t": lambda x: x.t().reshape(12),
    "clone": lambda x: x.clone(),
    "contiguous_of_t": lambda x: x.t().contiguous(), "flip": lambda x: x.flip(0), "roll": lambda x: x.roll(1),
    "diag": lambda x: x.diag(), "tril": lambda x: x.tril(), "to_same": lambda x: x.to(x.dtype),
    "float_same": lambda x: x.double(), "type_as": lambda x: x.type_as(x),
    "sum_to_size": lambda x: x.sum_to_size(3, 4),
    "expand_as": lambda x: x.expand_as(x), "broadcast_to": lambda x: x.broadcast_to((2, 3, 4)),
    "hsplit": lambda x: x.hsplit(2)[1], "tensor_split": lambda x: x.tensor_split(3)[2],
    "positive": lambda x: x.positive(),
}


def test_which_methods_share_the_inputs_memory(torch):
    """Pinned: a view (PyTorch shares memory) or a copy, as in PyTorch, for each method of VIEWS."""
    array = np.arange(12.0).reshape(3, 4)
    t, g = _pair(torch, array)
    assert [name for name, call in sorted(VIEWS.items()) if _shares(call(g), g) != _shares(call(t), t)] == []


IN_PLACE = ["abs_", "neg_", "exp_", "sin_", "clamp_", "zero_", "fill_", "add_", "mul_", "sub_", "div_", "pow_",
            "unsqueeze_", "squeeze_", "t_", "transpose_", "tril_", "copy_", "masked_fill_", "lerp_", "addcmul_",
            "__iadd__", "__imul__", "__isub__", "__itruediv__", "__ipow__"]
IN_PLACE_ARGS = {"clamp_": (-1.0, 1.0), "fill_": (2.0,), "add_": (1.5,), "mul_": (2.0,), "sub_": (1.0,),
                 "div_": (2.0,), "pow_": (2,), "unsqueeze_": (0,), "transpose_": (0, 1), "copy_": "other",
                 "masked_fill_": "mask", "lerp_": ("other", 0.25), "addcmul_": ("other", "other"),
                 "__iadd__": (1.5,), "__imul__": (2.0,), "__isub__": (1.0,), "__itruediv__": (2.0,), "__ipow__": (2,)}


def test_in_place_methods_return_self_with_pytorchs_numbers(torch):
    """Pinned: each in-place method of IN_PLACE returns the tensor itself, holding PyTorch's numbers."""
    for name in IN_PLACE:
        _check_in_place(torch, name)


def _check_in_place(torch, name: str) -> None:
    rng = np.random.default_rng(0)
    array, other = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    results = []
    for lib in (torch, gg):
        x = lib.tensor(array)
        spec = IN_PLACE_ARGS.get(name, ())
        spec = spec if isinstance(spec, tuple) else (spec,)
        args = [lib.tensor(other) if a == "other" else lib.tensor(array > 0) if a == "mask" else a for a in spec]
        if name == "masked_fill_":
            args.append(0.5)
        returned = getattr(x, name)(*args)
        assert returned is x, name
        results.append((x.numpy(), tuple(x.shape)))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-14, equal_nan=True, err_msg=name)
    assert results[1][1] == results[0][1], name


LEARNER_NAMES = ["view", "reshape", "permute", "contiguous", "item", "tolist", "numpy", "detach", "clone",
                 "requires_grad_", "backward", "register_hook", "retain_grad", "zero_", "argmax", "softmax",
                 "masked_fill", "gather", "scatter_", "index_select", "topk", "sort", "unique", "nonzero",
                 "to", "type", "float", "long", "bool", "size", "dim", "numel", "expand", "repeat", "chunk",
                 "split", "squeeze", "unsqueeze", "flatten", "transpose", "matmul", "bmm", "norm", "clamp",
                 "new_zeros", "new_ones", "new_full", "new_tensor", "fill_diagonal_", "data_ptr", "is_contiguous"]


def test_the_names_learner_code_uses_exist(torch):
    """Pinned: every name of plain course code that PyTorch's Tensor has, glassgrad's has too."""
    assert [n for n in LEARNER_NAMES if hasattr(torch.Tensor, n) and not hasattr(gg.Tensor, n)] == []
