"""Infinities and NaNs come out of glassgrad's ops without NumPy's RuntimeWarnings, as PyTorch gives them silently
(``log(0) = −∞``, ``√−1 = NaN``, ``1/0 = ∞``, the gradient of ``√a`` at 0 is ∞), with PyTorch's numbers.
The oracle is PyTorch 2.13 in float64."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.float_errors import NUMPY_WARNINGS_OF_GLASSGRAD

SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, math.inf, -math.inf]  # (1000: e^1000 overflows)
values = st.lists(st.sampled_from([*SPECIAL, 1000.0]), min_size=1, max_size=5)

ONE_INPUT = {  # name → the op on a tensor x (each lib), its gradient checked too
    "log": lambda lib, x: x.log(), "log2": lambda lib, x: x.log2(), "log10": lambda lib, x: x.log10(),
    "log1p": lambda lib, x: x.log1p(), "sqrt": lambda lib, x: x.sqrt(), "rsqrt": lambda lib, x: x.rsqrt(),
    "reciprocal": lambda lib, x: x.reciprocal(), "asin": lambda lib, x: x.asin(), "acos": lambda lib, x: x.acos(),
    "atanh": lambda lib, x: x.atanh(), "acosh": lambda lib, x: x.acosh(),
    "1 / x": lambda lib, x: 1 / x, "x / 0": lambda lib, x: x / 0, "x ** -1": lambda lib, x: x ** -1,
    "x ** 0.5": lambda lib, x: x ** 0.5, "x ** -0.5": lambda lib, x: x ** -0.5, "x ** -2": lambda lib, x: x ** -2,
    "x ** 2": lambda lib, x: x ** 2, "x.clone().div_(0) (in the graph)": lambda lib, x: x.clone().div_(0),
    "exp": lambda lib, x: x.exp(), "exp2": lambda lib, x: x.exp2(),
    "expm1": lambda lib, x: x.expm1(), "softmax": lambda lib, x: x.softmax(0),
    "log_softmax": lambda lib, x: x.log_softmax(0), "sin": lambda lib, x: x.sin(), "cos": lambda lib, x: x.cos(),
    "tan": lambda lib, x: x.tan(),
}
TWO_INPUTS = {  # the op on tensors a and b of the same shape
    "a / b": lambda lib, a, b: a / b, "a ** b": lambda lib, a, b: a ** b,
}
NO_GRADIENT = {  # (remainder's and fmod's gradients at a = ±∞ are another matter: −∞ here, NaN in PyTorch)
    "remainder": lambda lib, a, b: lib.remainder(a, b), "fmod": lambda lib, a, b: lib.fmod(a, b),
    "floor_divide": lambda lib, a, b: lib.floor_divide(a, b),
    "index_add": lambda lib, a, b: lib.zeros(1, dtype=lib.float64).index_add(0, lib.zeros(len(a), dtype=lib.int64), a),
    "scatter_add": lambda lib, a, b: lib.zeros(1, dtype=lib.float64).scatter_add(
        0, lib.zeros(len(a), dtype=lib.int64), a),
}


def run(lib, op, arrays, gradient):
    """The op's value and, if ``gradient``, each input's gradient (upstream: ones)."""
    tensors = [lib.tensor(array, dtype=lib.float64, requires_grad=gradient) for array in arrays]
    out = op(lib, *tensors)
    if not gradient:
        return [out.detach().numpy()]
    out.backward(lib.ones_like(out))
    return [out.detach().numpy(), *(tensor.grad.numpy() for tensor in tensors)]


def check(torch, op, arrays, gradient=True):
    expected = run(torch, op, arrays, gradient)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # NumPy's "divide by zero encountered …" fails the test
        found = run(gg, op, arrays, gradient)
    for mine, theirs in zip(found, expected):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12, equal_nan=True)  # (softmax: Σ of ~0)


@pytest.mark.parametrize("name", ONE_INPUT)
@given(x=values)
def test_one_input_ops_give_pytorchs_infinities_and_nans_silently(torch, name, x):
    check(torch, ONE_INPUT[name], [np.array(x)])


@pytest.mark.parametrize("name", TWO_INPUTS)
@given(pairs=st.lists(st.tuples(st.sampled_from(SPECIAL), st.sampled_from(SPECIAL)), min_size=1, max_size=5))
def test_two_input_ops_give_pytorchs_infinities_and_nans_silently(torch, name, pairs):
    check(torch, TWO_INPUTS[name], [np.array(column) for column in zip(*pairs)])


@pytest.mark.parametrize("name", NO_GRADIENT)
@given(pairs=st.lists(st.tuples(st.sampled_from(SPECIAL), st.sampled_from(SPECIAL)), min_size=1, max_size=5))
def test_ops_without_a_gradient_give_pytorchs_infinities_and_nans_silently(torch, name, pairs):
    check(torch, NO_GRADIENT[name], [np.array(column) for column in zip(*pairs)], gradient=False)


@given(x=values)
def test_dividing_in_place_outside_the_graph_gives_pytorchs_infinities_and_nans_silently(torch, x):
    check(torch, lambda lib, x: x.__itruediv__(lib.zeros_like(x)), [np.array(x)], gradient=False)


BLOWN_UP = [math.inf, -math.inf, 0.6, -0.6, 0.0, 1.0]  # ±0.6 stand for ± 0.6 × the dtype's largest number
BLOW_UPS = {  # ops whose rules run without quiet(): ±∞ reach them only when numbers have blown up
    "a + b": lambda lib, a, b: a + b, "a - b": lambda lib, a, b: a - b, "a * b": lambda lib, a, b: a * b,
    "(a * b).sum()": lambda lib, a, b: (a * b).sum(), "a @ b": lambda lib, a, b: a @ b,
    "a.cumsum(0)": lambda lib, a, b: a.cumsum(0),  # (prod: its gradient is the product of the others, finite
    # where PyTorch's prod/aᵢ is ∞ or NaN: another matter)
    "mse_loss": lambda lib, a, b: lib.nn.functional.mse_loss(a, b),
    "linear": lambda lib, a, b: lib.nn.functional.linear(a[None], b[None]),
}


SUMMED = {"(a * b).sum()", "a @ b", "mse_loss", "linear"}


def warnings_seen_as_a_learner_sees_them(run_it):
    """The RuntimeWarnings ``run_it()`` shows with the filter ``import glassgrad`` adds in a program (pytest sets
    aside the filters added while it collects tests, so it is put back here; that the import adds it, a fresh
    process shows: test_a_diverging_training_run_shows_no_numpy_warning). Every other warning is shown."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.filterwarnings("always")
        warnings.filterwarnings(**NUMPY_WARNINGS_OF_GLASSGRAD)
        result = run_it()
    return [str(warning.message) for warning in seen if issubclass(warning.category, RuntimeWarning)], result


@pytest.mark.parametrize("name", BLOW_UPS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@given(pairs=st.lists(st.tuples(st.sampled_from(BLOWN_UP), st.sampled_from(BLOWN_UP)), min_size=1, max_size=4))
def test_ops_on_blown_up_numbers_give_pytorchs_values_without_numpys_warnings(torch, name, dtype, pairs):
    """A training run with too large a learning rate (the lesson's η = 10) makes ±∞ and NaN in every op: PyTorch
    gives them without a word; glassgrad showed NumPy's "overflow encountered in multiply" and "invalid value
    encountered in subtract" on lines of glassgrad/ops.py, which a learner reads as glassgrad's error."""
    op = BLOW_UPS[name]
    huge = np.finfo(dtype).max  # 0.6 of it: a sum or a product of two overflows
    arrays = [np.array([value * huge if abs(value) == 0.6 else value for value in column], dtype=dtype)
              for column in zip(*pairs)]

    def values(lib):
        tensors = [lib.tensor(array, requires_grad=True) for array in arrays]
        out = op(lib, *tensors)
        out.backward(lib.ones_like(out))
        return [out.detach().numpy(), *(tensor.grad.numpy() for tensor in tensors if tensor.grad is not None)]

    shown, found = warnings_seen_as_a_learner_sees_them(lambda: values(gg))
    assert shown == []
    if name in SUMMED:  # a sum whose terms overflow is ∞, NaN or even finite by the order it adds them in
        return
    for mine, theirs in zip(found, values(torch)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, equal_nan=True)


def test_the_learners_own_numpy_still_warns():
    """glassgrad's filter matches only lines of glassgrad's modules: ``np.inf − np.inf`` in the learner's code warns."""
    shown, _ = warnings_seen_as_a_learner_sees_them(lambda: np.array([np.inf]) - np.inf)
    assert shown == ["invalid value encountered in subtract"]


@pytest.mark.torch
@pytest.mark.parametrize("call", ["np.sqrt(t)", "np.log(t)", "np.arccos(t)", "np.add.reduce(t)", "np.exp(t)"])
def test_numpys_own_functions_on_a_tensor_warn_at_the_learners_line_as_in_pytorch(torch, call):
    """``np.sqrt(t)`` of a negative entry warns in PyTorch ("invalid value encountered in sqrt": NumPy runs on the
    learner's call); glassgrad ran the ufunc on a line of its own, which its filter silences, so the learner saw a
    NaN with no word. Now NumPy's warnings of the learner's call show, at the learner's line, as PyTorch's do (an
    operator's ufunc, ``np.divide(1, t)``, is the tensor's own operator: silent in both, as ``1 / t``)."""
    values = [-1.0, 0.0, 2.0, 1e308, 1e308]
    seen = {}
    for library in (gg, torch):
        t = library.tensor(values, dtype=library.float64)
        with warnings.catch_warnings(record=True) as caught:
            warnings.filterwarnings("always")
            warnings.filterwarnings(**NUMPY_WARNINGS_OF_GLASSGRAD)
            eval(compile(call, "learners_cell.py", "eval"), {"np": np, "t": t})
        seen[library.__name__] = [(str(w.message), w.filename) for w in caught if w.category is RuntimeWarning]
    assert seen["glassgrad"] == seen["torch"]
    assert all(filename == "learners_cell.py" for _, filename in seen["glassgrad"])


DIVERGING = """
import warnings, numpy as np
warnings.simplefilter("default")
import {library} as torch
x = torch.tensor(np.linspace(-1, 1, 64, dtype=np.float32).reshape(16, 4))
model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(np.full(tuple(p.shape), 0.3, dtype=np.float32)))
optimizer = torch.optim.SGD(model.parameters(), lr=10)
for _ in range(40):
    loss = torch.nn.functional.mse_loss(model(x), 3 * x[:, :1])
    optimizer.zero_grad(); loss.backward(); optimizer.step()
print(loss.item())
"""


@pytest.mark.parametrize("library", ["glassgrad", "torch"])
def test_a_diverging_training_run_shows_no_numpy_warning(library):
    """The whole program, as a learner runs it (a fresh process with Python's default filters): with η = 10 the
    loss blows up to NaN in PyTorch and in glassgrad alike, and neither prints a warning."""
    if library == "torch":
        pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    done = subprocess.run([sys.executable, "-c", DIVERGING.format(library=library)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "nan"
    assert done.stderr == ""
