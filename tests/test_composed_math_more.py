"""More elementwise math and the dtype rules, made of other ops (glassgrad.composed_math).

Oracles: PyTorch 2.13 (values, gradients and dtypes, float64 and float32, on hypothesis-drawn shapes),
finite differences (``gg.gradcheck``) and hand-derived values (``deg2rad(180) = π``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)

ONE_INPUT = ["sgn", "deg2rad", "rad2deg", "ravel"]
TWO_INPUTS = ["copysign", "logaddexp2", "float_power", "fmax", "fmin", "ldexp"]
NO_GRADIENT = ["heaviside", "nextafter", "signbit"]


def _operands(rng, shape, name):
    a = rng.normal(size=shape) * 2
    b = rng.normal(size=shape) * 2
    if name == "float_power":
        a = np.abs(a) + 0.2
    if name in ("fmax", "fmin"):  # NaNs on either side (never at the same entry), no ties
        a = np.where(rng.random(shape) < 0.2, np.nan, a)
        b = np.where(np.isnan(a) | (rng.random(shape) < 0.7), b, np.nan)
    return a, b


def _numbers(grad, shape):
    """A gradient's numbers; none (an unused input) or PyTorch's ZeroTensor (sgn's) as zeros."""
    if grad is None or getattr(grad, "_is_zerotensor", lambda: False)():
        return np.zeros(shape)
    return grad.numpy()


@pytest.mark.torch
@settings(max_examples=8, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", ONE_INPUT + TWO_INPUTS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_and_gradients_match_pytorch(torch, name, dtype, shape, seed):
    rng = np.random.default_rng(seed)
    a, b = _operands(rng, shape, name)
    up = rng.normal(size=np.broadcast_shapes(shape))
    found = []
    for module in (gg, torch):
        x = module.tensor(a, dtype=getattr(module, dtype), requires_grad=True)
        y = module.tensor(b, dtype=getattr(module, dtype), requires_grad=True)
        out = getattr(module, name)(x) if name in ONE_INPUT else getattr(module, name)(x, y)
        out.backward(module.tensor(up.reshape(tuple(out.shape)), dtype=out.dtype))
        grads = [_numbers(t.grad, shape) for t in (x, y)]
        found.append((out.detach().numpy(), *grads, str(out.dtype).replace("torch.", "")))
    mine, theirs = found
    assert mine[3] == theirs[3]
    tolerance = 1e-12 if dtype == "float64" else 2e-5
    for ours, reference in zip(mine[:3], theirs[:3]):
        np.testing.assert_allclose(ours, reference, rtol=tolerance, atol=tolerance)


@pytest.mark.torch
@settings(max_examples=8, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", NO_GRADIENT)
def test_steps_match_pytorch_and_are_plain_tensors(torch, name, shape, seed):
    rng = np.random.default_rng(seed)
    a = np.where(rng.random(shape) < 0.3, 0.0, rng.normal(size=shape))
    b = rng.normal(size=shape)
    found = []
    for module in (gg, torch):
        x = module.tensor(a)
        y = module.tensor(b, dtype=x.dtype)
        out = getattr(module, name)(x) if name == "signbit" else getattr(module, name)(x, y)
        found.append(out)
    np.testing.assert_array_equal(found[0].numpy(), found[1].numpy())
    assert not found[0].requires_grad and str(found[0].dtype) == str(found[1].dtype).replace("torch.", "")


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)), seed=st.integers(0, 2**16),
       p=st.sampled_from([1.0, 2.0, 3.0]), dim=st.integers(-3, 2), maxnorm=st.sampled_from([0.5, 1.0, 5.0]))
def test_renorm_matches_pytorch_values_and_gradients(torch, shape, seed, p, dim, maxnorm):
    rng = np.random.default_rng(seed)
    x, up = rng.normal(size=shape), rng.normal(size=shape)
    found = []
    for module in (gg, torch):
        t = module.tensor(x, dtype=module.float64, requires_grad=True)
        out = module.renorm(t, p, dim, maxnorm)
        out.backward(module.tensor(up))
        found.append((out.detach().numpy(), t.grad.numpy()))
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_gradients_against_finite_differences():
    rng = np.random.default_rng(0)
    a = gg.tensor(rng.normal(size=(3, 4)), dtype=gg.float64, requires_grad=True)
    b = gg.tensor(rng.normal(size=(3, 4)), dtype=gg.float64, requires_grad=True)
    assert gg.gradcheck(gg.logaddexp2, [a, b]).ok
    assert gg.gradcheck(gg.ldexp, [a, b]).ok
    assert gg.gradcheck(lambda t: gg.renorm(t, 2, 0, 1.0), [a]).ok
    assert gg.gradcheck(lambda t, u: gg.float_power(t.abs() + 0.5, u), [a, b]).ok


def test_hand_derived_values():
    assert gg.deg2rad(gg.tensor([180])).tolist() == [pytest.approx(math.pi)]
    assert gg.deg2rad(gg.tensor([180])).dtype == gg.get_default_dtype()
    assert gg.rad2deg(gg.tensor([math.pi], dtype=gg.float64)).tolist() == [pytest.approx(180.0, rel=1e-15)]
    assert gg.ldexp(gg.tensor([3.0]), gg.tensor([4])).tolist() == [48.0]
    assert gg.copysign(gg.tensor([2.0, 2.0]), gg.tensor([-0.0, 0.0])).tolist() == [-2.0, 2.0]
    assert gg.float_power(gg.tensor([2], dtype=gg.int32), 3).dtype == gg.float64
    assert gg.ones(2, 3).ravel().shape == (6,)
    assert gg.fmax(gg.tensor([float("nan")]), gg.tensor([float("nan")])).isnan().tolist() == [True]


@pytest.mark.torch
def test_dtype_rules_match_pytorch(torch):
    dtypes = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
    for first in dtypes:
        for second in dtypes:
            mine, theirs = getattr(gg, first if first != "bool" else "bool_"), getattr(torch, first)
            other, reference = getattr(gg, second if second != "bool" else "bool_"), getattr(torch, second)
            assert str(gg.promote_types(mine, other)) == str(torch.promote_types(theirs, reference)).replace(
                "torch.", "").replace("bool", "bool"), (first, second)
            assert gg.can_cast(mine, other) == torch.can_cast(theirs, reference), (first, second)
    operands = [lambda m, d: m.ones(2, dtype=getattr(m, d)), lambda m, d: m.tensor(1, dtype=getattr(m, d))]
    for first in ("bool", "uint8", "int32", "int64", "float32", "float64"):
        for second in ("bool", "int16", "float16", "float64"):
            for make_a in operands:
                for make_b in operands:
                    a, b = make_a(torch, first), make_b(torch, second)
                    ga, gb = gg.tensor(a.numpy()), gg.tensor(b.numpy())
                    assert str(gg.result_type(ga, gb)) == str(torch.result_type(a, b)).replace("torch.", "")
            for number in (True, 3, 2.5):
                a = make_a(torch, first)
                assert str(gg.result_type(gg.tensor(a.numpy()), number)) == str(
                    torch.result_type(a, number)).replace("torch.", "")


@pytest.mark.parametrize("call, message", [
    (lambda: gg.heaviside(gg.ones(2), gg.ones(2, dtype=gg.float64)), "heaviside: input (float32) and values"),
    (lambda: gg.heaviside(gg.ones(2), gg.ones(3)), "heaviside: shapes (2,) and (3,) cannot be broadcast"),
    (lambda: gg.renorm(gg.ones(3), 2, 0, 1.0), "renorm: needs a tensor of at least 2 dims"),
    (lambda: gg.renorm(gg.ones(2, 3), 0, 0, 1.0), "renorm: p must be > 0"),
    (lambda: gg.renorm(gg.ones(2, 3), 2, 0, -1.0), "renorm: maxnorm must be >= 0"),
    (lambda: gg.result_type(gg.ones(2), "x"), "result_type: expects tensors or Python numbers"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises((RuntimeError, TypeError, IndexError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_every_function_is_a_gg_name():
    import glassgrad.composed_math as composed_math

    public = [name for name, value in vars(composed_math).items() if callable(value) and not name.startswith("_")
              and getattr(value, "__module__", "") == composed_math.__name__]
    assert public and all(name in gg.__all__ for name in public), set(public) - set(gg.__all__)
    for name in ONE_INPUT + TWO_INPUTS + NO_GRADIENT + ["heaviside", "renorm"]:
        assert hasattr(gg.Tensor, name), name


@given(exponents=st.lists(st.tuples(st.floats(-44, 38), st.floats(-44, 38), st.booleans(), st.booleans()),
                          min_size=1, max_size=6))
def test_hypot_neither_overflows_nor_underflows_in_float32(exponents):
    """hypot(3e19, 4e19) = 5e19 and hypot(1e-30, 1e-30) = 1.41e-30 in float32: √(a² + b²) formed a² (inf past
    1.8e19, 0 below 1e-23) and gave inf or 0. Oracle: Python's math.hypot in float64 of the same float32
    numbers, rounded to float32; the gradient a/out, b/out likewise."""
    a = np.array([(-1) ** s * 10.0 ** e for e, _, s, _ in exponents], np.float32)
    b = np.array([(-1) ** s * 10.0 ** e for _, e, _, s in exponents], np.float32)
    x, y = gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True)
    out = gg.hypot(x, y)
    out.sum().backward()
    exact = np.array([math.hypot(float(p), float(q)) for p, q in zip(a, b)])
    np.testing.assert_allclose(out.numpy(), exact.astype(np.float32), rtol=1e-6)
    stored = out.numpy().astype(np.float64)
    np.testing.assert_allclose(x.grad.numpy(), a / stored, rtol=2e-6, atol=1e-30)
    np.testing.assert_allclose(y.grad.numpy(), b / stored, rtol=2e-6, atol=1e-30)


@pytest.mark.torch
def test_hypot_at_extremes_and_the_origin_as_pytorch(torch):
    """Values and gradients at overflow-prone, underflow-prone, infinite and zero points, float32 and float64,
    and float16 values (the origin's gradient is 0/0 = NaN in PyTorch too)."""
    a = [3e19, 1e-30, 0.0, float("inf"), 3.0, -2e-20]
    b = [4e19, 1e-30, 0.0, float("nan"), 4.0, 5e30]
    for name in ("float32", "float64"):
        results = []
        for lib in (gg, torch):
            x = lib.tensor(a, dtype=getattr(lib, name), requires_grad=True)
            y = lib.tensor(b, dtype=getattr(lib, name), requires_grad=True)
            out = lib.hypot(x, y)
            out.backward(lib.ones_like(out))
            results.append([t.detach().numpy() for t in (out, x.grad, y.grad)])
        for mine, theirs in zip(*results):
            np.testing.assert_allclose(mine, theirs, rtol=2e-6, equal_nan=True)
    halves = [lib.hypot(lib.tensor([300.0, 6e4], dtype=lib.float16), lib.tensor([400.0, 3e4], dtype=lib.float16))
              for lib in (gg, torch)]  # 500 (squares overflow float16), and inf (so does the result)
    assert halves[0].dtype == gg.float16
    np.testing.assert_array_equal(halves[0].numpy(), halves[1].numpy())


@pytest.mark.torch
def test_nextafter_has_pytorchs_slopes(torch):
    """PyTorch 2.13 differentiates nextafter: 1 with respect to the input, except where it already is the target
    (0), and 0 with respect to the target; glassgrad's was a plain tensor, so a loss silently lost that term."""
    a = [1.0, 2.0, 0.0, -0.0, 5.0, np.inf, -3.0]
    b = [1.0, 3.0, 0.0, 0.0, -1.0, 1.0, np.nan]
    found = []
    for lib in (gg, torch):
        x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(b, dtype=lib.float64, requires_grad=True)
        out = lib.nextafter(x, y)
        (g,) = lib.autograd.grad((out * out).sum() + (x * 0).sum() + (y * 0).sum(), x, create_graph=True)
        found.append((out.detach().numpy(), g.detach().numpy(), lib.autograd.grad(g.sum(), x)[0].numpy()))
        assert out.requires_grad
    for mine, theirs in zip(*found):
        np.testing.assert_array_equal(mine, theirs)
