"""The in-place forms of glassgrad.tensor_in_place against PyTorch 2.13 in float64: the numbers written under
``no_grad``, the gradients when the changed tensor is inside a graph, the version counter (one more per change),
the refusal on a leaf that requires grad, and the shape-changing forms (``t_``, ``unsqueeze_`` …)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.tensor_in_place import FUNCTION_FORMS, VALUE_FORMS

DOMAINS = {"any": (-2.0, 2.0), "unit": (-0.9, 0.9), "positive": (0.2, 2.0), "above1": (1.1, 3.0),
           "prob": (0.05, 0.95), "above2": (2.1, 4.0)}


def _other(lib, x, low=0.3, high=1.7):
    """A second operand made from x's numbers (the same for both libraries), away from 0."""
    return lib.tensor(np.linspace(low, high, x.numel()).reshape(tuple(x.shape)), dtype=x.dtype)


CALLS = {  # name: (the in-place call on x, given the library; the domain of x's numbers)
    **{name: (lambda lib, x, name=name: getattr(x, name)(), "unit")
       for name in ("acos_", "asin_", "atanh_", "arccos_", "arcsin_", "arctanh_", "erfinv_")},
    **{name: (lambda lib, x, name=name: getattr(x, name)(), "above1") for name in ("acosh_", "arccosh_")},
    **{name: (lambda lib, x, name=name: getattr(x, name)(), "any")
       for name in ("asinh_", "arcsinh_", "atan_", "arctan_", "cosh_", "sinh_", "deg2rad_", "rad2deg_", "erf_",
                    "erfc_", "exp2_", "expm1_", "fix_", "sgn_", "sinc_", "nan_to_num_", "i0_", "absolute_",
                    "negative_")},
    **{name: (lambda lib, x, name=name: getattr(x, name)(_other(lib, x, -1.0, 1.0)), "any")
       for name in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_", "less_equal_",
                    "not_equal_")},
    **{name: (lambda lib, x, name=name: getattr(x, name)(), "positive")
       for name in ("digamma_", "lgamma_", "log10_", "log1p_", "log2_")},
    "tan_": (lambda lib, x: x.tan_(), "unit"),
    "logit_": (lambda lib, x: x.logit_(), "prob"),
    "logit_eps": (lambda lib, x: x.logit_(0.2), "prob"),
    "mvlgamma_": (lambda lib, x: x.mvlgamma_(3), "above2"),
    "polygamma_": (lambda lib, x: x.polygamma_(1), "positive"),
    "atan2_": (lambda lib, x: x.atan2_(_other(lib, x)), "any"),
    "arctan2_": (lambda lib, x: x.arctan2_(_other(lib, x)), "any"),
    "fmod_": (lambda lib, x: x.fmod_(_other(lib, x)), "any"),
    "remainder_": (lambda lib, x: x.remainder_(_other(lib, x)), "any"),
    "hypot_": (lambda lib, x: x.hypot_(_other(lib, x)), "any"),
    "copysign_": (lambda lib, x: x.copysign_(-_other(lib, x)), "any"),
    "xlogy_": (lambda lib, x: x.xlogy_(_other(lib, x)), "any"),
    "float_power_": (lambda lib, x: x.float_power_(3), "any"),
    "ldexp_": (lambda lib, x: x.ldexp_(lib.tensor([1, 2, 3, 0])), "any"),  # PyTorch's gradient is 0 for e < 0
    "renorm_": (lambda lib, x: x.renorm_(2, 0, 1.0), "any"),
    "cumsum_": (lambda lib, x: x.cumsum_(1), "any"),
    "cumprod_": (lambda lib, x: x.cumprod_(0), "any"),
    "addmm_": (lambda lib, x: x.addmm_(_other(lib, x)[:, :2], _other(lib, x).reshape(2, 6)[:, :4], beta=0.5,
                                       alpha=2), "any"),
    "addmv_": (lambda lib, x: x[0].clone().addmv_(_other(lib, x).t(), _other(lib, x)[:, 0]), "any"),
    "addr_": (lambda lib, x: x.addr_(_other(lib, x)[:, 0], _other(lib, x)[0], alpha=-1), "any"),
    "addbmm_": (lambda lib, x: x.addbmm_(_other(lib, x).reshape(2, 3, 2),
                                         lib.linspace(-1.0, 1.5, 16, dtype=lib.float64).reshape(2, 2, 4)), "any"),
    "tril_": (lambda lib, x: x.tril_(1), "any"),
    "put_": (lambda lib, x: x.put_(lib.tensor([0, -1, 5, 0]), _other(lib, x)[0], accumulate=True), "any"),
    "triu_": (lambda lib, x: x.triu_(-1), "any"),
    "multiply_": (lambda lib, x: x.multiply_(_other(lib, x)), "any"),
    "subtract_": (lambda lib, x: x.subtract_(_other(lib, x)), "any"),
    "divide_": (lambda lib, x: x.divide_(_other(lib, x)), "any"),
    "true_divide_": (lambda lib, x: x.true_divide_(_other(lib, x)), "any"),
    "heaviside_": (lambda lib, x: x.heaviside_(_other(lib, x)), "any"),
    "floor_divide_": (lambda lib, x: x.floor_divide_(_other(lib, x)), "any"),
    "nextafter_": (lambda lib, x: x.nextafter_(_other(lib, x) * 10), "any"),
    "igamma_": (lambda lib, x: x.igamma_(_other(lib, x)), "positive"),
    "igammac_": (lambda lib, x: x.igammac_(_other(lib, x)), "positive"),
    **{name: (lambda lib, x, name=name: getattr(x, name)(x.detach() > 0.5), "any")
       for name in ("logical_and_", "logical_or_", "logical_xor_")},
    "logical_not_": (lambda lib, x: x.logical_not_(), "any"),
    "conj_physical_": (lambda lib, x: x.conj_physical_(), "any"),
}
NO_GRADIENT_IN_PYTORCH = {"heaviside_", "floor_divide_", "igamma_", "igammac_"}
"""PyTorch refuses to differentiate these in a graph (igamma_ changes its shape argument, which has no
gradient); glassgrad's igamma refuses too, the steps give 0."""
IN_PLACE_NOT_DIFFERENTIATED_BY_PYTORCH = {"acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_"}
"""PyTorch has no derivative for these in-place forms (its out-of-place ones are the oracle)."""
SPECIAL = {"digamma_", "lgamma_", "polygamma_", "mvlgamma_", "igamma_", "igammac_", "i0_", "erfinv_"}
"""Values from SciPy, which agree with PyTorch's to about 1e-9 (not to the last digit)."""
GRADIENT_PASSED_BY_PYTORCH = {"logical_and_", "logical_or_", "logical_xor_", "logical_not_"}
"""PyTorch passes the gradient through these unchanged although the result is a step (0 or 1); glassgrad gives the
derivative of the step, 0. (``nextafter_`` has PyTorch's slope: 1, and 0 where the entry already is the target.)"""


def _values(seed, domain, shape=(3, 4)):
    low, high = DOMAINS[domain]
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def test_every_value_form_has_a_call_here():
    named = {name.removesuffix("_") for name in CALLS} | {"logit"}
    for name in VALUE_FORMS:
        assert name in named or name in ("gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
                                         "bitwise_left_shift", "bitwise_right_shift", "baddbmm",
                                         "index_reduce"), name  # index_reduce_: tests/test_torch_functional_names.py


@pytest.mark.torch
def test_baddbmm_in_place_on_a_batch(torch):
    found = []
    for lib in (gg, torch):
        leaf = lib.tensor(_values(3, "any", (2, 3, 4)), dtype=lib.float64, requires_grad=True)
        inner = leaf * 1.0
        first = lib.linspace(-1.0, 1.0, 12, dtype=lib.float64).reshape(2, 3, 2)
        inner.baddbmm_(first, lib.linspace(0.0, 2.0, 16, dtype=lib.float64).reshape(2, 2, 4), beta=0.5, alpha=-2)
        (inner * inner).sum().backward()
        found.append((inner.detach().numpy(), leaf.grad.numpy()))
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


@pytest.mark.torch
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_under_no_grad_the_numbers_land_in_place_and_the_version_goes_up(torch, name, seed):
    call, domain = CALLS[name]
    found = []
    for lib in (gg, torch):
        leaf = lib.tensor(_values(seed, domain), dtype=lib.float64, requires_grad=True)
        before = leaf._version
        with lib.no_grad():
            returned = call(lib, leaf)
        if name != "addmv_":  # addmv_ changes a clone of a row
            assert returned is leaf and leaf._version == before + 1
        found.append(returned.detach().numpy().copy())
    np.testing.assert_allclose(*found, rtol=1e-8 if name in SPECIAL else 1e-10, atol=1e-12)


@pytest.mark.torch
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(set(CALLS) - NO_GRADIENT_IN_PYTORCH))
def test_inside_a_graph_the_gradients_are_pytorchs(torch, name, seed):
    call, domain = CALLS[name]
    found = []
    for lib in (gg, torch):
        leaf = lib.tensor(_values(seed, domain), dtype=lib.float64, requires_grad=True)
        inner = leaf * 1.5 if domain == "any" else leaf * 1.0
        if lib is torch and name in IN_PLACE_NOT_DIFFERENTIATED_BY_PYTORCH:
            changed = getattr(inner, name.removesuffix("_"))()
        else:
            changed = call(lib, inner)
        weights = lib.arange(float(changed.numel()), dtype=lib.float64).reshape(tuple(changed.shape))
        (changed * weights).sum().backward()
        zero = getattr(leaf.grad, "_is_zerotensor", lambda: False)()  # PyTorch's gradient of sgn
        found.append((changed.detach().numpy(), np.zeros(leaf.shape) if zero else leaf.grad.numpy()))
    (mine, my_grad), (theirs, their_grad) = found
    tolerance = 1e-8 if name in SPECIAL else 1e-10
    np.testing.assert_allclose(mine, theirs, rtol=tolerance, atol=1e-12)
    if name in GRADIENT_PASSED_BY_PYTORCH:
        np.testing.assert_array_equal(my_grad, 0.0)
    else:
        np.testing.assert_allclose(my_grad, their_grad, rtol=tolerance * 10, atol=1e-10)


@pytest.mark.parametrize("name", ["heaviside_", "floor_divide_"])
def test_steps_in_a_graph_give_a_zero_gradient(name):
    leaf = gg.tensor(_values(0, "any"), dtype=gg.float64, requires_grad=True)
    inner = leaf * 1.5
    CALLS[name][0](gg, inner)
    inner.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), 0.0)


@pytest.mark.parametrize("name", ["igamma_", "igammac_"])
def test_the_incomplete_gamma_in_a_graph_is_refused_in_one_line(name):
    leaf = gg.tensor(_values(0, "positive"), dtype=gg.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="no gradient with respect to input") as error:
        CALLS[name][0](gg, leaf * 1.0)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", sorted(set(CALLS) - {"addmv_"}))  # addmv_ is called on a clone of a row here
def test_a_leaf_that_requires_grad_is_refused(name):
    call, domain = CALLS[name]
    leaf = gg.tensor(_values(1, domain), dtype=gg.float64, requires_grad=True)
    with pytest.raises((RuntimeError, NotImplementedError), match="leaf Variable|no gradient"):
        call(gg, leaf)


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(a=st.lists(st.integers(-2**40, 2**40), min_size=4, max_size=4),
       b=st.lists(st.integers(-70, 70), min_size=4, max_size=4))
@pytest.mark.parametrize("name", ["gcd_", "lcm_", "bitwise_and_", "bitwise_or_", "bitwise_xor_",
                                  "bitwise_left_shift_", "bitwise_right_shift_", "bitwise_not_"])
def test_integer_forms_match_pytorch(torch, name, a, b):
    if name in ("gcd_", "lcm_"):
        a, b = [v % 10**6 - 5 * 10**5 for v in a], [v + 30 for v in b]
    found = []
    for lib in (gg, torch):
        x = lib.tensor(a)
        args = () if name == "bitwise_not_" else (lib.tensor(b),)
        returned = getattr(x, name)(*args)
        assert returned is x and x._version == 1
        found.append(x.numpy().copy())
    np.testing.assert_array_equal(*found)


@pytest.mark.torch
def test_python_in_place_operators_change_the_same_tensor(torch):
    for operator in ("__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__"):
        found = []
        for lib in (gg, torch):
            x = lib.tensor([5, -6, 7, 12])
            result = getattr(x, operator)(lib.tensor([3, 1, 2, 4]))
            assert result is x and x._version == 1
            found.append(x.numpy().copy())
        np.testing.assert_array_equal(*found)
    mask = gg.tensor([True, False, True])
    mask &= gg.tensor([True, True, False])
    assert mask.tolist() == [True, False, False]


def test_float_power_in_place_needs_a_float64_tensor():
    with pytest.raises(RuntimeError, match="float_power_: the result is float64 but this tensor is float32"):
        gg.ones(2).float_power_(2)
    assert gg.ones(2, dtype=gg.float64).float_power_(2).tolist() == [1.0, 1.0]


def test_a_float_result_into_an_integer_tensor_is_refused():
    x = gg.arange(4)
    with pytest.raises(RuntimeError, match="can't be cast to this tensor's dtype int64") as error:
        x.sin_()
    assert "\n" not in str(error.value) and x.tolist() == [0, 1, 2, 3] and x._version == 0


# --- shape changed in place -----------------------------------------------------------------------

SHAPE_CALLS = {
    "t_": lambda x: x.t_(), "transpose_": lambda x: x.transpose_(0, -1), "swapaxes_": lambda x: x.swapaxes_(0, 1),
    "swapdims_": lambda x: x.swapdims_(1, 0), "unsqueeze_": lambda x: x.unsqueeze_(1),
    "squeeze_": lambda x: x.squeeze_(), "squeeze_dim": lambda x: x.squeeze_(-1),
}
matrices = st.tuples(st.integers(1, 4), st.integers(1, 4))


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(shape=matrices, seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(SHAPE_CALLS))
def test_shape_forms_change_the_tensor_itself_as_pytorch(torch, name, shape, seed):
    values = np.random.default_rng(seed).normal(size=shape)
    found = []
    for lib in (gg, torch):
        plain = lib.tensor(values, dtype=lib.float64)
        returned = SHAPE_CALLS[name](plain)
        assert returned is plain and plain._version == 1
        leaf = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        inner = leaf * 2.0
        SHAPE_CALLS[name](inner)
        assert inner._version == 1
        weights = lib.arange(float(inner.numel()), dtype=lib.float64).reshape(tuple(inner.shape))
        (inner.exp() * weights).sum().backward()
        found.append((tuple(plain.shape), plain.numpy().copy(), tuple(inner.shape), leaf.grad.numpy()))
    mine, theirs = found
    assert mine[0] == theirs[0] and mine[2] == theirs[2]
    np.testing.assert_array_equal(mine[1], theirs[1])
    np.testing.assert_allclose(mine[3], theirs[3], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(SHAPE_CALLS))
def test_shape_forms_refuse_a_leaf_that_requires_grad(name):
    leaf = gg.ones(2, 1, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        SHAPE_CALLS[name](leaf)
    assert leaf.shape == (2, 1)
    with gg.no_grad():
        SHAPE_CALLS[name](leaf)  # allowed outside grad mode, as in PyTorch
    assert leaf._version == 1


@pytest.mark.torch
def test_a_shape_change_after_the_value_was_saved_is_caught_as_in_pytorch(torch):
    for lib in (gg, torch):
        leaf = lib.ones(2, 3, requires_grad=True)
        y = leaf.exp()  # saves its output
        y.unsqueeze_(0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


@pytest.mark.torch
def test_ops_recorded_before_a_shape_change_still_see_the_old_shape(torch):
    found = []
    for lib in (gg, torch):
        leaf = lib.tensor([[1.0, 2.0, 3.0]], dtype=lib.float64, requires_grad=True)
        h = leaf * 3
        before = h * lib.tensor([[1.0, 10.0, 100.0]], dtype=lib.float64)
        h.t_()
        after = h * lib.tensor([[1.0], [2.0], [3.0]], dtype=lib.float64)
        (before.sum() + after.sum()).backward()
        found.append(leaf.grad.numpy())
    np.testing.assert_allclose(*found)


@pytest.mark.torch
def test_detach_in_place(torch):
    for lib in (gg, torch):
        leaf = lib.ones(2, requires_grad=True)
        y = leaf * 2
        assert y.detach_() is y and not y.requires_grad and y.grad_fn is None
        assert y.tolist() == [2.0, 2.0]


DETACHED_AFTER_USE = {  # name: (the graph made from y before y.detach_(), whether y is changed in place after it)
    "exp (saves its output)": (lambda y: y.exp(), False),
    "exp, y changed in place after detach_": (lambda y: y.exp(), True),
    "times a number": (lambda y: y * 3, False),
    "a view, then times a number": (lambda y: y[1:] * 3, False),
    "softmax of a reshaped view": (lambda y: y.reshape(2, 2).softmax(1), False),
}


@pytest.mark.torch
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(DETACHED_AFTER_USE))
def test_detach_in_place_keeps_the_graph_made_from_the_tensor_before(torch, name, seed):
    """PyTorch's detach_() makes y a leaf but leaves the ops recorded from y before: their gradients still reach
    x through y. glassgrad cut them too (x.grad stayed None)."""
    make, change_after = DETACHED_AFTER_USE[name]
    values = np.random.default_rng(seed).normal(size=4)
    upstream = np.random.default_rng(seed + 1).normal(size=4)
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        y = x * 2
        out = make(y).reshape(-1)
        y.detach_()
        if change_after:
            y.add_(1)
        (out * lib.tensor(upstream[:out.numel()], dtype=lib.float64)).sum().backward()
        assert not y.requires_grad and y.grad_fn is None
        found.append(x.grad.numpy())
    np.testing.assert_allclose(*found, rtol=1e-12)


@pytest.mark.torch
def test_top_level_in_place_functions_with_tensor_arguments_are_pytorchs(torch):
    found = []
    for lib in (gg, torch):
        v, m = lib.tensor([1.0, 2.0], dtype=lib.float64), lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)
        x = lib.arange(6.0, dtype=lib.float64)
        results = [lib.addmv_(v, m, lib.tensor([0.5, -1.0], dtype=lib.float64)),
                   lib.index_put_(m, (lib.tensor([0, 1]), lib.tensor([1, 1])), lib.tensor(9.0, dtype=lib.float64)),
                   lib.as_strided_(x, (2, 2), (2, 1))]
        assert results[0] is v and results[1] is m and results[2] is x
        found.append([r.tolist() for r in results])
    assert found[0] == found[1]


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(set(FUNCTION_FORMS) - {"addmv_", "index_put_", "as_strided_"}))
def test_top_level_in_place_functions_are_pytorchs(torch, name):
    args = {"clamp_": (-0.5, 0.5), "clamp_max_": (0.3,), "clamp_min_": (0.1,), "clip_": (-0.2, 0.4), "fill_": (2.0,),
            "ldexp_": (3,), "xlogy_": (2.0,)}.get(name, ())
    integers = name in ("gcd_", "lcm_")
    found = []
    for lib in (gg, torch):
        values = np.array([[0.2, 0.7], [0.4, 0.9]]) + (1 if "cosh" in name else 0)  # arccosh: x ≥ 1
        x = lib.tensor([[3, 4], [6, 9]]) if integers else lib.tensor(values, dtype=lib.float64)
        extra = (lib.tensor([[2, 6], [4, 3]]),) if integers else tuple(
            lib.tensor(a) if name == "ldexp_" else a for a in args)
        returned = getattr(lib, name)(x, *extra)
        assert returned is x
        found.append(x.detach().numpy().copy())
    np.testing.assert_allclose(*found, rtol=1e-12)


# --- random fills -------------------------------------------------------------------------------------

def test_random_fills_draw_from_their_distributions():
    rng = np.random.default_rng(7)
    n = 200_000
    draws = gg.zeros(n, dtype=gg.float64).exponential_(4.0, generator=rng).numpy()
    assert draws.min() >= 0 and abs(draws.mean() - 0.25) < 0.005
    draws = gg.zeros(n, dtype=gg.float64).cauchy_(2.0, 0.5, generator=rng).numpy()
    quartiles = np.quantile(draws, [0.25, 0.5, 0.75])  # median ± σ for a Cauchy distribution
    np.testing.assert_allclose(quartiles, [1.5, 2.0, 2.5], atol=0.02)
    draws = gg.zeros(n, dtype=gg.float64).log_normal_(0.5, 0.25, generator=rng).numpy()
    assert abs(np.log(draws).mean() - 0.5) < 0.005 and abs(np.log(draws).std() - 0.25) < 0.005
    draws = gg.zeros(n).geometric_(0.25, generator=rng).numpy()
    assert draws.min() == 1 and abs(draws.mean() - 4) < 0.05  # mean 1/p
    draws = gg.zeros(n).random_(3, 7, generator=rng).numpy()
    assert set(np.unique(draws)) == {3.0, 4.0, 5.0, 6.0}
    draws = gg.zeros(n, dtype=gg.int8).random_(generator=rng).numpy()
    assert draws.min() == 0 and draws.max() == 127
    assert set(np.unique(gg.zeros(1000).random_(2, generator=rng).numpy())) == {0.0, 1.0}


@pytest.mark.parametrize("call", [lambda x: x.exponential_(), lambda x: x.cauchy_(), lambda x: x.log_normal_(),
                                  lambda x: x.geometric_(0.5), lambda x: x.random_(5)])
def test_random_fills_count_a_change_and_refuse_leaves(call):
    x = gg.zeros(3)
    assert call(x) is x and x._version == 1
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        call(gg.zeros(3, requires_grad=True))


@pytest.mark.parametrize("call, message", [
    (lambda: gg.zeros(3, dtype=gg.int64).exponential_(), "samples are real numbers"),
    (lambda: gg.zeros(3).exponential_(-1.0), "lambd > 0"),
    (lambda: gg.zeros(3).cauchy_(0.0, 0.0), "sigma > 0"),
    (lambda: gg.zeros(3).geometric_(1.5), "0 < p < 1"),
    (lambda: gg.zeros(3).random_(4, 2), "from < to"),
])
def test_random_fills_refuse_bad_arguments_in_one_line(call, message):
    with pytest.raises((RuntimeError, TypeError), match=message) as error:
        call()
    assert "\n" not in str(error.value)


def test_a_compiled_step_that_reshapes_in_place_runs_eagerly_saying_why():
    import warnings

    def step(x):
        y = x * 2.0
        y.t_()
        return y * gg.arange(6.0).reshape(3, 2)

    compiled = gg.compile(step)
    x = gg.arange(6.0).reshape(2, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [compiled(x).numpy().copy() for _ in range(4)]
    for result in results:
        np.testing.assert_array_equal(result, step(x).numpy())
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "t_ gives a tensor a new shape in place" in messages[0]
