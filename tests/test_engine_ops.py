"""Arithmetic, elementwise functions, reductions, products: gradients vs finite differences and PyTorch.

Each row is one op with all its spellings (operator, Tensor method, ``gg.`` function); adding an op
is adding a row. The two tests come from :func:`test_engine_oracle.table_tests`.
"""

from __future__ import annotations

from hypothesis import strategies as st
from test_engine_oracle import Case, shapes, table_tests

sides = st.integers(1, 3)


@st.composite
def matmul_shapes(draw, left_ndim: int, right_ndim: int):
    """Shapes for ``left @ right``: 1 = vector (k,), 2 = matrix, 3 = a stack of matrices whose
    batch dims broadcast against the other operand's."""
    n, k, m = draw(sides), draw(sides), draw(sides)
    batch_left, batch_right = draw(shapes(2, min_dims=1, max_dims=2))
    left = {1: (k,), 2: (n, k)}.get(left_ndim, batch_left + (n, k))
    right = {1: (k,), 2: (k, m)}.get(right_ndim, batch_right + (k, m))
    return left, right


@st.composite
def linear_shapes(draw, bias: bool = True):
    """Input (…, in), weight (out, in) and bias (out,)."""
    batch = draw(st.lists(sides, max_size=2).map(tuple))
    n_in, n_out = draw(sides), draw(sides)
    return (batch + (n_in,), (n_out, n_in)) + (((n_out,),) if bias else ())


one = shapes(1)
two = shapes(2)
at_least_1d = shapes(1, min_dims=1)
at_least_2d = shapes(1, min_dims=2)
at_least_3d = shapes(1, min_dims=3)
sampled = shapes(1, min_dims=1, min_side=2)  # at least 2 numbers along every dim: var/std with n − 1 > 0
leaky_torch = (lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1),) * 3


CASES = [
    # --- arithmetic, broadcasting --------------------------------------------------------------
    Case("add", [lambda lib, x, y: x + y, lambda lib, x, y: x.add(y), lambda lib, x, y: lib.add(x, y)], two),
    Case("sub", [lambda lib, x, y: x - y, lambda lib, x, y: x.sub(y), lambda lib, x, y: lib.sub(x, y)], two),
    Case("mul", [lambda lib, x, y: x * y, lambda lib, x, y: x.mul(y), lambda lib, x, y: lib.mul(x, y)], two),
    Case("div", [lambda lib, x, y: x / y, lambda lib, x, y: x.div(y), lambda lib, x, y: lib.div(x, y)], two,
         ("real", "nonzero")),
    Case("pow tensor exponent", [lambda lib, x, y: x**y, lambda lib, x, y: x.pow(y), lambda lib, x, y: lib.pow(x, y)],
         two, ("positive", "real")),
    Case("pow 3", [lambda lib, x: x**3, lambda lib, x: x.pow(3), lambda lib, x: lib.pow(x, 3)], one),
    Case("pow 0.5", [lambda lib, x: x**0.5, lambda lib, x: lib.pow(x, 0.5)], one, ("positive",)),
    Case("pow -1.5", [lambda lib, x: x**-1.5, lambda lib, x: x.pow(-1.5)], one, ("positive",)),
    Case("neg", [lambda lib, x: -x, lambda lib, x: x.neg(), lambda lib, x: lib.neg(x)], one),
    Case("scalar + x", [lambda lib, x: 2.5 + x], one),
    Case("scalar - x", [lambda lib, x: 2.5 - x], one),
    Case("int scalar * x", [lambda lib, x: 3 * x], one),
    Case("scalar / x", [lambda lib, x: 2.5 / x], one, ("nonzero",)),
    Case("scalar ** x", [lambda lib, x: 2.0**x], one),
    Case("x op scalars", [lambda lib, x: (x - 1.5) / 4 * 2 + 1], one),
    # --- matrix products -----------------------------------------------------------------------------
    *[
        Case(f"matmul {name}", [lambda lib, x, y: x @ y, lambda lib, x, y: x.matmul(y),
                                lambda lib, x, y: lib.matmul(x, y)], matmul_shapes(left, right))
        for name, left, right in [("vector·vector", 1, 1), ("matrix·matrix", 2, 2), ("matrix·vector", 2, 1),
                                  ("vector·matrix", 1, 2), ("batched", 3, 3), ("batched·matrix", 3, 2),
                                  ("vector·batched", 1, 3)]
    ],
    Case("linear", [lambda lib, x, w, b: lib.nn.functional.linear(x, w, b)], linear_shapes()),
    Case("linear no bias", [lambda lib, x, w: lib.nn.functional.linear(x, w)], linear_shapes(bias=False)),
    Case("gg.linear", [lambda lib, x, w, b: lib.linear(x, w, b)], linear_shapes(),
         torch_forms=[lambda lib, x, w, b: lib.nn.functional.linear(x, w, b)]),
    # --- elementwise functions -----------------------------------------------------------------------
    Case("exp", [lambda lib, x: x.exp(), lambda lib, x: lib.exp(x)], one),
    Case("log", [lambda lib, x: x.log(), lambda lib, x: lib.log(x)], one, ("positive",)),
    Case("sqrt", [lambda lib, x: x.sqrt(), lambda lib, x: lib.sqrt(x)], one, ("positive",)),
    Case("abs", [lambda lib, x: x.abs(), lambda lib, x: lib.abs(x)], one, ("nonzero",)),
    Case("sin", [lambda lib, x: x.sin(), lambda lib, x: lib.sin(x)], one),
    Case("cos", [lambda lib, x: x.cos(), lambda lib, x: lib.cos(x)], one),
    Case("relu", [lambda lib, x: x.relu(), lambda lib, x: lib.relu(x)], one, ("nonzero",)),
    Case("leaky_relu", [lambda lib, x: x.leaky_relu(0.1), lambda lib, x: lib.leaky_relu(x, 0.1),
                        lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1)], one, ("nonzero",), leaky_torch),
    Case("sigmoid", [lambda lib, x: x.sigmoid(), lambda lib, x: lib.sigmoid(x)], one),
    Case("tanh", [lambda lib, x: x.tanh(), lambda lib, x: lib.tanh(x)], one),
    Case("clamp", [lambda lib, x: x.clamp(-1.0, 1.0), lambda lib, x: lib.clamp(x, min=-1.0, max=1.0),
                   lambda lib, x: x.clip(-1.0, 1.0)], one, ("odd_quarters",)),
    Case("clamp min", [lambda lib, x: x.clamp(min=-1.0), lambda lib, x: lib.clamp(x, min=-1.0)], one,
         ("odd_quarters",)),
    Case("clamp max", [lambda lib, x: x.clamp(max=1.0), lambda lib, x: lib.clamp(x, max=1.0)], one,
         ("odd_quarters",)),
    Case("maximum", [lambda lib, x, y: x.maximum(y), lambda lib, x, y: lib.maximum(x, y),
                     lambda lib, x, y: lib.max(x, y)], two, ("odd_quarters", "halves")),
    Case("minimum", [lambda lib, x, y: x.minimum(y), lambda lib, x, y: lib.minimum(x, y),
                     lambda lib, x, y: lib.min(x, y)], two, ("odd_quarters", "halves")),
    Case("where", [lambda lib, x, y: lib.where(x > 0, x, y)], two, ("nonzero", "real")),
    Case("where scalar", [lambda lib, x: lib.where(x < 0, 0.5, x)], one, ("nonzero",)),
    # --- reductions: PyTorch's dim/keepdim and NumPy's axis/keepdims ------------------------------------
    Case("sum", [lambda lib, x: x.sum(), lambda lib, x: lib.sum(x)], one),
    Case("sum dim", [lambda lib, x: x.sum(dim=-1), lambda lib, x: lib.sum(x, -1)], at_least_1d),
    Case("sum dims keepdim", [lambda lib, x: x.sum(dim=(0, 2), keepdim=True),
                              lambda lib, x: lib.sum(x, (2, 0), keepdim=True)], at_least_3d),
    Case("sum axis keepdims", [lambda lib, x: x.sum(axis=1, keepdims=True),
                               lambda lib, x: lib.sum(x, axis=1, keepdims=True)], at_least_2d),
    Case("mean", [lambda lib, x: x.mean(), lambda lib, x: lib.mean(x)], one),
    Case("mean dim", [lambda lib, x: x.mean(dim=1), lambda lib, x: lib.mean(x, 1)], at_least_2d),
    Case("mean axis keepdims", [lambda lib, x: x.mean(axis=(0, 1), keepdims=True),
                                lambda lib, x: lib.mean(x, dim=(1, 0), keepdim=True)], at_least_2d),
    Case("var", [lambda lib, x: x.var(), lambda lib, x: lib.var(x)], sampled),
    Case("var dim keepdim", [lambda lib, x: x.var(dim=0, keepdim=True), lambda lib, x: lib.var(x, 0, keepdim=True)],
         sampled),
    Case("var axis correction=0", [lambda lib, x: x.var(axis=-1, correction=0),
                                   lambda lib, x: lib.var(x, dim=-1, correction=0)], at_least_2d),
    Case("std", [lambda lib, x: x.std(dim=0), lambda lib, x: lib.std(x, 0)], sampled),
    Case("max", [lambda lib, x: x.max(), lambda lib, x: lib.max(x)], one, ("distinct",)),
    Case("max dim", [lambda lib, x: x.max(dim=1).values, lambda lib, x: lib.max(x, 1)[0],
                     lambda lib, x: x.max(axis=1, keepdims=True).values.squeeze(1)], at_least_2d, ("distinct",)),
    Case("min", [lambda lib, x: x.min(), lambda lib, x: lib.min(x)], one, ("distinct",)),
    Case("min dim keepdim", [lambda lib, x: x.min(dim=-1, keepdim=True).values, lambda lib, x: lib.min(x, -1, True)[0],
                             lambda lib, x: x.min(axis=-1, keepdims=True).values], at_least_1d, ("distinct",)),
    Case("logsumexp", [lambda lib, x: x.logsumexp(dim=-1), lambda lib, x: lib.logsumexp(x, -1)],
         at_least_1d),
    Case("logsumexp dims keepdim", [lambda lib, x: x.logsumexp(dim=(0, 1), keepdim=True),
                                    lambda lib, x: lib.logsumexp(x, (0, 1), True)], at_least_2d),
    Case("softmax", [lambda lib, x: x.softmax(-1), lambda lib, x: lib.softmax(x, dim=-1),
                     lambda lib, x: lib.nn.functional.softmax(x, dim=-1)], at_least_1d),
    Case("softmax dim 0", [lambda lib, x: x.softmax(0), lambda lib, x: lib.softmax(x, 0)], at_least_2d),
    Case("log_softmax", [lambda lib, x: x.log_softmax(-1), lambda lib, x: lib.log_softmax(x, dim=-1),
                         lambda lib, x: lib.nn.functional.log_softmax(x, dim=-1)], at_least_1d),
    Case("log_softmax dim 0", [lambda lib, x: x.log_softmax(0), lambda lib, x: lib.log_softmax(x, 0)], at_least_2d),
    # --- a composite: a small network layer, every piece broadcasting -------------------------------------
    Case("composite", [lambda lib, x, w: ((x @ w).tanh() * x.sum(dim=-1, keepdim=True) - w.mean()).exp().sum()],
         matmul_shapes(2, 2)),
]

test_gradients_match_finite_differences, test_values_and_gradients_match_pytorch = table_tests(CASES)
