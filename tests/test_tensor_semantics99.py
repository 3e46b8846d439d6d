"""Round 99: tensor-level behaviours checked against PyTorch 2.13 on the same inputs.

* A Python list or tuple beside an operator: PyTorch leaves it to Python (``t == [1, 2]`` is False, ``t != (1, 2)``
  True, ``t + [1, 2]`` and ``t < [1, 2]`` raise TypeError, ``n * [0]`` repeats the list); its functions refuse it.
* Numbers written into tensors: a finite number past a float dtype's largest is refused (``fill_(1e40)`` of float32),
  but ``x[i] = v`` of float16 rounds to inf; one value of another dtype written through a mask is checked as a number.
"""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


def _outcome(make):
    """What ``make()`` gives: ('value', the numbers' repr (NaN equal to NaN), dtype name) or ('error', exception
    class)."""
    try:
        made = make()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return "error", type(error).__name__
    if hasattr(made, "tolist"):
        return "value", repr(made.tolist()), str(made.dtype).replace("torch.", "")
    return "value", repr(made), type(made).__name__


OPERATORS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
             ">=": operator.ge, "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
             "&": operator.and_, "|": operator.or_, "^": operator.xor, "<<": operator.lshift, ">>": operator.rshift}


@settings(max_examples=120, deadline=None)
@given(symbol=st.sampled_from(sorted(OPERATORS)), left=st.booleans(), kind=st.sampled_from(["int", "float", "bool"]),
       length=st.integers(0, 3), as_tuple=st.booleans(), nested=st.booleans(), seed=st.integers(0, 2**16))
def test_operator_with_a_list_or_tuple_as_pytorch(torch, symbol, left, kind, length, as_tuple, nested, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(-3, 4, size=2).tolist()
    sequence = rng.integers(1, 4, size=length).tolist()
    sequence = [sequence] if nested else sequence
    sequence = tuple(sequence) if as_tuple else sequence
    function = OPERATORS[symbol]

    def make(lib):
        dtype = {"int": lib.int64, "float": lib.float32, "bool": lib.bool}[kind]
        t = lib.tensor(values, dtype=dtype)
        return lambda: function(sequence, t) if left else function(t, sequence)

    assert _outcome(make(gg)) == _outcome(make(torch))


@pytest.mark.parametrize("sequence", [[1, 2], (1, 2), [[1, 3]], (1,), []])
def test_equality_with_a_list_is_identity_as_pytorch(torch, sequence):
    for lib in (gg, torch):
        t = lib.tensor([1.0, 2.0])
        assert (t == sequence) is False and (sequence == t) is False
        assert (t != sequence) is True and (sequence != t) is True


@pytest.mark.parametrize("count", [0, 1, 3])
def test_one_number_tensor_times_a_list_repeats_it_as_pytorch(torch, count):
    for lib in (gg, torch):
        assert lib.tensor(count) * [7] == [7] * count
        assert lib.tensor(count) * ("a", 1) == ("a", 1) * count
        assert [7] * lib.tensor(count) == [7] * count


def _plus_equals(t):
    t += [1, 2]


@pytest.mark.parametrize("call", [
    lambda lib, t: t.add([1, 2]), lambda lib, t: lib.add(t, (1, 2)), lambda lib, t: t.eq([1, 2]),
    lambda lib, t: t.lt((1, 2)), lambda lib, t: lib.maximum(t, [1, 2]), lambda lib, t: t.mul([1, 2]),
    lambda lib, t: t.add_([1, 2]), lambda lib, t: _plus_equals(t), lambda lib, t: t.mul_((1, 2)),
    lambda lib, t: lib.where(t > 0, [1.0, 2.0], t), lambda lib, t: lib.bitwise_and(t.long(), [1, 2]),
])
def test_functions_refuse_a_list_as_pytorch(torch, call):
    with pytest.raises(TypeError):
        call(torch, torch.tensor([1.0, 3.0]))
    with pytest.raises(TypeError, match=r"^a tensor cannot be combined with a (list|tuple), as in PyTorch; make it a "
                                        r"tensor first: gg\.tensor\(values\)$"):
        call(gg, gg.tensor([1.0, 3.0]))


def test_in_place_add_of_a_list_in_the_graph_is_refused(torch):
    for lib in (gg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True).clone()
        with pytest.raises(TypeError):
            x += [1, 2]


# --- numbers written into tensors ----------------------------------------------------------------------------------

WRITES = {
    "x[...] = v": lambda lib, t, v: t.__setitem__(Ellipsis, v),
    "x[1] = v": lambda lib, t, v: t.__setitem__(1, v),
    "x[mask] = v": lambda lib, t, v: t.__setitem__(t == 0, v),
    "x[[0, 2]] = v": lambda lib, t, v: t.__setitem__([0, 2], v),
    "fill_": lambda lib, t, v: t.fill_(v),
    "masked_fill_": lambda lib, t, v: t.masked_fill_(t == 0, v),
    "masked_fill": lambda lib, t, v: t.copy_(t.masked_fill(t == 0, v)),
    "index_fill_": lambda lib, t, v: t.index_fill_(0, lib.tensor([1]), v),
    "scatter_": lambda lib, t, v: t.scatter_(0, lib.tensor([1]), v),
    "clamp": lambda lib, t, v: t.copy_(t.clamp(max=v)),
    "full": lambda lib, t, v: t.copy_(lib.full(t.shape, v, dtype=t.dtype)),
    "full_like": lambda lib, t, v: t.copy_(lib.full_like(t, v)),
    "new_full": lambda lib, t, v: t.copy_(t.new_full(t.shape, v)),
}
NUMBERS = [0.5, 2, -1, 0.0, -0.3, 2.7, -2.7, 300, 256, -129, True, 70000, 65504, 65519.9, 65520, 1e20, 1e40, -1e40,
           3.4028235e38, float("inf"), float("-inf"), float("nan")]


WRITTEN = [(dtype, write) for dtype in ("bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64")
           for write in sorted(WRITES) if (write, dtype) != ("clamp", "bool")]  # PyTorch has no bool clamp kernel


@pytest.mark.parametrize(("dtype", "write"), WRITTEN)
def test_a_number_written_as_pytorch_writes_it(torch, dtype, write):
    for number in NUMBERS:
        def make(lib, number=number):
            t = lib.zeros(3, dtype=getattr(lib, dtype))
            return lambda: (WRITES[write](lib, t, number), t)[1]

        assert _outcome(make(gg)) == _outcome(make(torch)), number


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int32", "int64", "float16", "float32"])
def test_one_value_of_another_dtype_through_a_mask_as_pytorch(torch, dtype):
    values = [(0.5, "float32"), (2.7, "float32"), (-2.7, "float32"), (-1.5, "float64"), (300.0, "float32"),
              (300, "int64"), (-1, "int64"), (-1.0, "float32"), (3e9, "float64"), (1e40, "float64"),
              (float("nan"), "float32"), (float("inf"), "float32"), (True, "bool"), (2, "int64")]
    for number, value_dtype in values:
        for shape in ((), (1,), (1, 1)):
            def make(lib, number=number, value_dtype=value_dtype, shape=shape):
                t = lib.zeros(4, dtype=getattr(lib, dtype))
                value = lib.full(shape, number, dtype=getattr(lib, value_dtype))
                return lambda: (t.__setitem__(lib.tensor([True, False, True, False]), value), t)[1]

            assert _outcome(make(gg)) == _outcome(make(torch)), (number, value_dtype, shape)


# --- layer norm of a constant slice in float32 ----------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(value=st.floats(-1e4, 1e4, allow_subnormal=False, width=32), width=st.integers(2, 1000),
       eps=st.sampled_from([1e-5, 1e-12, 1e-3]), kind=st.sampled_from(["layer_norm", "LayerNorm", "group_norm"]))
def test_constant_float32_slice_normalizes_to_zero_as_pytorch(torch, value, width, eps, kind):
    """PyTorch's Welford mean of equal entries is the entry itself: x − μ = 0 and the output is β (0 here); glassgrad's
    float32 mean rounded and gave up to ±1 at ε = 1e-12. The gradient is then (g − mean g)/√ε, worked out in float64."""
    upstream = np.random.default_rng(width).standard_normal((2, width)).astype(np.float32)

    def run(lib):
        x = lib.full((2, width), value, dtype=lib.float32, requires_grad=True)
        if kind == "layer_norm":
            y = lib.nn.functional.layer_norm(x, (width,), eps=eps)
        elif kind == "LayerNorm":
            y = lib.nn.LayerNorm(width, eps=eps)(x)
        else:
            y = lib.nn.functional.group_norm(x.reshape(2, 1, width), 1, eps=eps).reshape(2, width)
        y.backward(lib.tensor(upstream))
        return y.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64)

    (theirs, _), (ours, ours_grad) = run(torch), run(gg)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    up = upstream.astype(np.float64)
    expected = (up - up.mean(1, keepdims=True)) / np.sqrt(np.float64(np.float32(eps)))
    np.testing.assert_allclose(ours_grad, expected, rtol=2e-5, atol=2e-5 * np.abs(expected).max())


# --- grad mode inside inference_mode --------------------------------------------------------------------------------

def _grad_modes(lib):
    """What each step of nested switches tells and records: (step, is_grad_enabled, is_inference_mode_enabled,
    (x * 2).requires_grad, has grad_fn, is_inference)."""
    seen = []
    x = lib.ones(2, requires_grad=True)

    def note(step):
        y = x * 2
        seen.append((step, lib.is_grad_enabled(), lib.is_inference_mode_enabled(), y.requires_grad,
                     y.grad_fn is not None, y.is_inference()))

    @lib.enable_grad()
    def enabled(step):
        note(step)

    @lib.enable_grad
    def enabled_bare(step):
        note(step)

    @lib.inference_mode()
    def inferring(step):
        with lib.enable_grad():
            note(step)

    with lib.inference_mode():
        note("inference")
        with lib.enable_grad():
            note("enable_grad in inference")
            with lib.no_grad():
                note("no_grad in that")
            with lib.inference_mode(False):
                note("inference_mode(False) in that")
        with lib.set_grad_enabled(True):
            note("set_grad_enabled(True) in inference")
        enabled("@enable_grad() in inference")
        enabled_bare("@enable_grad in inference")
        lib.set_grad_enabled(True)
        note("set_grad_enabled(True) called in inference")
        with lib.set_grad_enabled(False):
            note("set_grad_enabled(False) block in that")
        note("after that block")
    note("after inference")
    inferring("@inference_mode() with enable_grad inside")
    with lib.no_grad():
        with lib.inference_mode():
            with lib.enable_grad():
                note("enable_grad in inference in no_grad")
        note("back in no_grad")
    with lib.enable_grad():
        with lib.no_grad():
            note("no_grad in enable_grad")
    lib.set_grad_enabled(True)
    return seen


def test_inference_mode_wins_over_enable_grad_as_pytorch(torch):
    """PyTorch: inside inference_mode, enable_grad turns grad mode on (is_grad_enabled() is True) but nothing
    records: the results are inference tensors without grad_fn. glassgrad recorded a graph there."""
    assert _grad_modes(gg) == _grad_modes(torch)
    for lib in (gg, torch):
        x = lib.ones(2, requires_grad=True)
        with lib.inference_mode(), lib.enable_grad():
            y = (x * 2).sum()
        with pytest.raises(RuntimeError):
            y.backward()


# --- memory formats -------------------------------------------------------------------------------------------------

FORMATS = ["channels_last", "channels_last_3d", "contiguous_format", "preserve_format"]


def _layout(lib, shape, permutation, fmt_in, fmt_asked):
    """is_contiguous in each format of a (permuted) tensor, and of it made contiguous in ``fmt_in``: strides too."""
    t = lib.arange(float(np.prod(shape))).reshape(shape).permute(*permutation)
    made = _outcome(lambda: t.contiguous(memory_format=getattr(lib, fmt_in)))
    seen = [t.is_contiguous(memory_format=getattr(lib, name)) for name in FORMATS] + [t.is_contiguous()]
    if made[0] == "value":
        u = t.contiguous(memory_format=getattr(lib, fmt_in))
        seen += [u.stride(), u.tolist(), u.is_contiguous(), u.is_contiguous(memory_format=getattr(lib, fmt_asked))]
    return seen, made[0] if made[0] == "value" else made


@settings(max_examples=80, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=5), seed=st.integers(0, 2**16),
       fmt_in=st.sampled_from(FORMATS), fmt_asked=st.sampled_from(FORMATS))
def test_memory_format_contiguity_and_strides_as_pytorch(torch, shape, seed, fmt_in, fmt_asked):
    """is_contiguous(memory_format=torch.channels_last) was True for every tensor; contiguous(memory_format=...)
    kept row-major strides; contiguous(memory_format=torch.preserve_format) of a strided tensor copied where PyTorch
    raises RuntimeError. A channels-last format of another rank is refused by contiguous (RuntimeError) and False
    for is_contiguous, as in PyTorch."""
    permutation = tuple(np.random.default_rng(seed).permutation(len(shape)).tolist())
    assert _layout(gg, tuple(shape), permutation, fmt_in, fmt_asked) == _layout(torch, tuple(shape), permutation,
                                                                                 fmt_in, fmt_asked)


def test_channels_last_copy_passes_the_gradient_and_refuses_a_string(torch):
    for lib in (gg, torch):
        x = lib.arange(120.0).reshape(2, 3, 4, 5).requires_grad_()
        y = x.contiguous(memory_format=lib.channels_last)
        assert y.stride() == (60, 1, 15, 3) and y.is_contiguous(memory_format=lib.channels_last)
        (y * lib.arange(120.0).reshape(2, 3, 4, 5)).sum().backward()
        assert x.grad.tolist() == lib.arange(120.0).reshape(2, 3, 4, 5).tolist()
        with pytest.raises(TypeError):
            x.is_contiguous(memory_format="channels_last")


# --- dtype limits (already as PyTorch's: pinned) --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["float16", "float32", "float64", "bfloat16", "uint8", "int8", "int16", "int32",
                                  "int64", "bool"])
def test_finfo_and_iinfo_fields_as_pytorch(torch, name):
    def fields(lib):
        seen = {}
        for kind, names in (("finfo", ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution")),
                            ("iinfo", ("bits", "max", "min"))):
            try:
                info = getattr(lib, kind)(getattr(lib, name))
            except Exception as error:  # noqa: BLE001 - the class is what is compared
                seen[kind] = type(error).__name__
                continue
            seen[kind] = [repr(float(getattr(info, field))) for field in names]
        return seen

    assert fields(gg) == fields(torch)


# --- logsumexp at infinities (already as PyTorch's: pinned) ---------------------------------------------------------

@pytest.mark.parametrize("rows", [[[-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]], [[-np.inf, np.inf, 1.0]],
                                  [[np.inf, np.inf]], [[np.nan, 1.0]], [[np.nan, -np.inf]], [[-np.inf]],
                                  [[-np.inf, -np.inf], [-np.inf, 0.0]]])
@pytest.mark.parametrize("dim", [0, 1, (0, 1)])
def test_logsumexp_at_infinities_as_pytorch(torch, rows, dim):
    def run(lib):
        x = lib.tensor(rows, dtype=lib.float64, requires_grad=True)
        y = lib.logsumexp(x, dim)
        y.backward(lib.ones_like(y))
        return y.detach().numpy(), x.grad.numpy()

    for ours, theirs in zip(run(gg), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
