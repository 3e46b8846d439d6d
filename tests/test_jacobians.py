"""``gg.autograd.functional``: jacobian, hessian, vjp, jvp, vhp, hvp, against PyTorch and by hand."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

functional = gg.autograd.functional
shapes = st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple)


def _vector_function(a, b):
    """Two outputs from two inputs, every kind of coupling: elementwise, a reduction, a product."""
    return (a * b).tanh() + a.exp(), (a ** 2).sum() * b.sigmoid()


def _scalar_function(a, b):
    return (a.exp() * b).sum() + (a * a).sum() * b.sum() + (a * b).sin().sum()


def _numbers(result):
    if isinstance(result, (tuple, list)):
        return [number for part in result for number in _numbers(part)]
    return [result.detach().numpy()]


def _same(mine, theirs):
    mine, theirs = _numbers(mine), _numbers(theirs)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


@pytest.mark.torch
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_every_function_matches_pytorch(torch, shape, seed):
    rng = np.random.default_rng(seed)
    a, b, u, w = (rng.standard_normal(shape) for _ in range(4))
    results = []
    for lib in (gg, torch):
        t = lib.tensor
        fn = lib.autograd.functional
        results.append([
            fn.jacobian(_vector_function, (t(a), t(b))),
            fn.jacobian(lambda x: x.sin() * x.sum(), t(a)),
            fn.hessian(_scalar_function, (t(a), t(b))),
            fn.hessian(lambda x: (x ** 3).sum() * x.mean(), t(a)),
            fn.vjp(_vector_function, (t(a), t(b)), (t(u), t(w))),
            fn.jvp(_vector_function, (t(a), t(b)), (t(u), t(w))),
            fn.vhp(_scalar_function, (t(a), t(b)), (t(u), t(w))),
            fn.hvp(_scalar_function, (t(a), t(b)), (t(u), t(w))),
            fn.vjp(lambda x: (x * x).sum(), t(a)),
        ])
    for mine, theirs in zip(*results):
        _same(mine, theirs)


def test_by_hand_a_linear_map_and_a_quadratic_form():
    weight = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0]])
    matrix = np.array([[2.0, 1.0], [0.0, 3.0]])
    x = gg.tensor([0.3, -1.2, 2.0], dtype=gg.float64)
    np.testing.assert_array_equal(functional.jacobian(lambda v: gg.tensor(weight) @ v, x).numpy(), weight)
    # f(x) = xᵀAx: ∇f = (A + Aᵀ)x, H = A + Aᵀ
    quadratic = lambda v: v @ (gg.tensor(matrix) @ v)  # noqa: E731
    point, direction = gg.tensor([1.0, -2.0], dtype=gg.float64), gg.tensor([1.0, 1.0], dtype=gg.float64)
    np.testing.assert_allclose(functional.hessian(quadratic, point).numpy(), matrix + matrix.T)
    value, product = functional.hvp(quadratic, point, direction)
    assert value.item() == pytest.approx(2 - 2 + 12)
    np.testing.assert_allclose(product.numpy(), (matrix + matrix.T) @ [1.0, 1.0])


def test_results_are_outside_the_graph_unless_create_graph():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    plain = functional.jacobian(lambda v: v ** 3, x)
    assert not plain.requires_grad
    recorded = functional.jacobian(lambda v: v ** 3, x, create_graph=True)  # diag(3x²)
    recorded.sum().backward()  # ∂/∂x Σ 3x² = 6x
    assert recorded.requires_grad and x.grad.tolist() == [6.0, 12.0]


def test_strict_refuses_an_input_the_output_ignores_and_otherwise_gives_zeros():
    a, b = gg.tensor([1.0, 2.0]), gg.tensor([3.0])
    jacobians = functional.jacobian(lambda a, b: a * 2, (a, b))
    assert jacobians[1].tolist() == [[0.0], [0.0]]
    with pytest.raises(RuntimeError, match=r"^jacobian: the output is independent of input 1, which strict=True"):
        functional.jacobian(lambda a, b: a * 2, (a, b), strict=True)


@pytest.mark.parametrize("call, error, message", [
    (lambda: functional.jacobian(lambda x: x, [1.0, 2.0]), TypeError, r"^jacobian: inputs must be a Tensor or a tuple"),
    (lambda: functional.jacobian(lambda x: 3.0, gg.tensor([1.0])), TypeError,
     r"^jacobian: the function must return a Tensor or a tuple of Tensors, got float"),
    (lambda: functional.hessian(lambda x: x * 2, gg.tensor([1.0, 2.0])), RuntimeError,
     r"^hessian: the function must return one Tensor with a single element \(a loss\), got shape\(s\) \(2,\)"),
    (lambda: functional.vjp(lambda x: x * 2, gg.tensor([1.0, 2.0])), RuntimeError,
     r"^vjp: v can be left out only when the outputs are a single one-element Tensor"),
    (lambda: functional.jvp(lambda x: x * 2, gg.tensor([1.0, 2.0]), gg.ones(3)), RuntimeError,
     r"^jvp: v must have the shapes of the inputs, \(\(2,\)\); got \(\(3,\)\)"),
    (lambda: functional.jacobian(lambda x: x, gg.tensor([1, 2])), RuntimeError, r"^jacobian: input 0 is int64"),
    (lambda: functional.jacobian(lambda x: x, gg.ones(2), strategy="forward-mode"), NotImplementedError,
     r"^jacobian: the strategy 'forward-mode' needs vectorize=True"),
])
def test_bad_calls_are_refused_in_one_line(call, error, message):
    with pytest.raises(error, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)


def test_pytorch_code_imports_it_under_the_shim():
    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch\nfrom torch.autograd.functional import jacobian\n"
               "print(jacobian(lambda x: x * x, torch.tensor([1.0, 2.0])).tolist())")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[[2.0, 0.0], [0.0, 4.0]]"


STRICT_CALLS = {  # name: (call(functional, f, x, v), f linear in x: its derivative a constant, f quadratic)
    "jacobian": lambda functional, f, x, v: functional.jacobian(f, x, create_graph=True, strict=True),
    "vjp": lambda functional, f, x, v: functional.vjp(f, x, v, create_graph=True, strict=True),
    "jvp": lambda functional, f, x, v: functional.jvp(f, x, v, create_graph=True, strict=True),
    "hessian": lambda functional, f, x, v: functional.hessian(lambda t: (f(t) ** 2).sum(), x, create_graph=True,
                                                              strict=True),
    "vhp": lambda functional, f, x, v: functional.vhp(lambda t: (f(t) * v).sum(), x, v, create_graph=True,
                                                      strict=True),
    "hvp": lambda functional, f, x, v: functional.hvp(lambda t: (f(t) * v).sum(), x, v, create_graph=True,
                                                      strict=True),
}


def _outcome(library, name, shape, linear):
    x = library.tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape), dtype=library.float64)
    v = library.tensor(np.linspace(0.5, 2, int(np.prod(shape))).reshape(shape), dtype=library.float64)
    f = (lambda t: 3 * t) if linear else (lambda t: t * t)
    try:
        return STRICT_CALLS[name](library.autograd.functional, f, x, v)
    except RuntimeError as error:
        assert "\n" not in str(error)
        return RuntimeError


@pytest.mark.torch
@given(shape=shapes, linear=st.booleans())
@pytest.mark.parametrize("name", sorted(STRICT_CALLS))
def test_strict_with_create_graph_refuses_a_derivative_that_is_a_constant_as_pytorch(torch, name, shape, linear):
    """``strict=True, create_graph=True``: a result that does not depend on the inputs (the Jacobian of a linear
    function) would have a second derivative of 0 silently; PyTorch refuses it (RuntimeError "...is independent of
    input 0. This is not allowed in strict mode when create_graph=True"). glassgrad's jacobian and vjp returned it.
    Where the result depends on the inputs, both give the same numbers."""
    mine, theirs = _outcome(gg, name, shape, linear), _outcome(torch, name, shape, linear)
    if theirs is RuntimeError:
        assert mine is RuntimeError
    else:
        _same(mine, theirs)


def test_inside_no_grad_they_still_differentiate():
    """An evaluation loop's ``with no_grad():`` around them gave zeros everywhere (the function's output did not
    require grad, so nothing was differentiated); PyTorch turns grad mode on inside them, and so do they now.
    f(x) = (x₁², x₁x₂): J = [[2x₁, 0], [x₂, x₁]]; g(x) = Σx³: H = diag(6x)."""
    functional = gg.autograd.functional
    x, v = gg.tensor([1.5, -2.0], dtype=gg.float64), gg.tensor([1.0, 3.0], dtype=gg.float64)

    def f(t):
        return gg.stack([t[0] ** 2, t[0] * t[1]])

    def g(t):
        return (t ** 3).sum()

    with gg.no_grad():
        jacobian = functional.jacobian(f, x)
        (_, jv), (_, vj) = functional.jvp(f, x, v), functional.vjp(f, x, v)
        hessian = functional.hessian(g, x)
        (_, hv), (_, vh) = functional.hvp(g, x, v), functional.vhp(g, x, v)
        assert not gg.is_grad_enabled()
    expected = np.array([[3.0, 0.0], [-2.0, 1.5]])
    np.testing.assert_array_equal(jacobian.numpy(), expected)
    np.testing.assert_array_equal(jv.numpy(), expected @ [1.0, 3.0])
    np.testing.assert_array_equal(vj.numpy(), [1.0, 3.0] @ expected)
    np.testing.assert_array_equal(hessian.numpy(), np.diag([9.0, -12.0]))
    np.testing.assert_array_equal(hv.numpy(), [9.0, -36.0])
    np.testing.assert_array_equal(vh.numpy(), [9.0, -36.0])


def _skewed_quadratic(lib):
    """``f(x) = xᵀMx/2`` as a custom Function whose backward is ``g·(M·x)``, M not symmetric."""
    matrix = lib.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=lib.float64)

    class Quadratic(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x * (matrix @ x)).sum() / 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (matrix @ x)

    return Quadratic.apply


@pytest.mark.torch
def test_hvp_is_the_hessian_times_v_where_the_hessian_is_not_symmetric(torch):
    """The custom Function's backward makes autograd's Hessian M: ``hvp`` gave ``vᵀM`` (vhp's numbers); PyTorch's,
    and now glassgrad's, is ``M·v``. ``create_graph`` keeps it in the graph of ``x``."""
    results = []
    for lib in (gg, torch):
        x = lib.tensor([1.0, 3.0], dtype=lib.float64, requires_grad=True)
        v = lib.tensor([0.5, 1.0], dtype=lib.float64)
        value, product = lib.autograd.functional.hvp(_skewed_quadratic(lib), x, v, create_graph=True)
        results.append((value.item(), product.detach().numpy(), product.requires_grad))
    (my_value, mine, my_graph), (their_value, theirs, their_graph) = results
    assert my_value == their_value
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    np.testing.assert_allclose(mine, np.array([[1.0, 2.0], [0.0, 1.0]]) @ [0.5, 1.0], rtol=1e-12)  # M·v by hand
    assert my_graph == their_graph
