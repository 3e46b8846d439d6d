"""The rule table against the traces: every row's numbers and every loss's written formulas.

* For every row that declares a numeric local derivative, the trace's ``local`` × ``upstream``
  equals the contribution the engine computed (random float64 inputs, random upstream).
* For every loss row, each formula the trace shows — the loss and its gradient — evaluated
  with the numbers shown beside it (a small reader of the notation, written here, independent
  of the row) gives the number shown as its result.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.ops import RULES, SMALL_SIGMOID
from glassgrad.tensor import apply

POSITIVE = {"log", "sqrt", "pow", "log10", "log2", "log1p", "rsqrt"}
DOMAINS = {"asin": np.tanh, "acos": np.tanh, "atanh": np.tanh, "erfinv": np.tanh, "acosh": lambda x: 1.1 + np.abs(x),
           "ndtri": lambda x: 1 / (1 + np.exp(-x))}
"""Rows defined on another part of the line: a map from a normal draw into it."""
WITHOUT_LOCAL = {"where"}  # its condition is not an input: the trace cannot recompute its local derivative


def elementwise_rows():
    return [op for op in RULES.values() if op.kind in ("elementwise", "activation")]


def test_every_elementwise_row_declares_a_local_derivative_and_its_settings_defaults():
    missing = {op.name for op in elementwise_rows() if op.local is None}
    assert missing == WITHOUT_LOCAL
    assert all(len(op.defaults) == len(op.settings) for op in elementwise_rows())


@pytest.mark.parametrize("op", [op for op in elementwise_rows() if op.name not in WITHOUT_LOCAL],
                         ids=lambda op: op.name)
@pytest.mark.parametrize("seed", [0, 1])
def test_local_derivative_times_upstream_is_the_engines_contribution(op, seed):
    rng = np.random.default_rng(seed)
    shape = (3, 4)
    into_domain = DOMAINS.get(op.name, (lambda x: np.abs(x) + 0.1) if op.name in POSITIVE else (lambda x: x))
    inputs = [gg.tensor(into_domain(rng.normal(size=shape)), dtype=gg.float64, requires_grad=True) for _ in op.roles]
    upstream = rng.normal(size=shape)
    with gg.trace() as tape:
        out = apply(op, tuple(inputs), *(t.array for t in inputs), *op.defaults)
        out.backward(gg.tensor(upstream))
    steps = [step for step in tape.describe()["backward"] if step["op"] == op.name]
    assert len(steps) == len(op.roles)
    for step, tensor in zip(steps, inputs):
        np.testing.assert_array_equal(step["upstream"]["values"], upstream)
        np.testing.assert_allclose(step["upstream"]["values"] * step["local"]["values"], step["output"]["values"],
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(step["output"]["values"], tensor.grad.array, rtol=1e-12, atol=1e-15)


def test_a_broadcast_input_gets_its_local_derivative_summed():
    a = gg.tensor(np.random.default_rng(3).normal(size=(3, 4)), requires_grad=True)
    b = gg.tensor(np.random.default_rng(4).normal(size=(4,)), requires_grad=True)
    with gg.trace() as tape:
        (a * b).sum().backward()
    step = next(s for s in tape.describe()["backward"] if s["op"] == "mul" and s["role"] == "b")
    np.testing.assert_allclose((step["upstream"]["values"] * step["local"]["values"]).sum(axis=0),
                               step["output"]["values"], rtol=1e-12)


# --- the written formulas of the losses ------------------------------------------------------

def _softmax(z):
    exps = np.exp(z - z.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


NOTATION = [  # the trace's notation → Python, applied in order
    (r"\|([^|]+)\|", r"abs(\1)"), ("½", "0.5"), ("≥", ">="),  # |d|, Iverson brackets [|d| < 1]
    (r"log softmax\((\w+)\)ᵢ\[(\w+)ᵢ\+1\]", r"pick(log(softmax(\1)), \2)"),  # entry y+1 from 1: position y
    (r"Σⱼ (\w+)ᵢⱼ·log softmax\((\w+)\)ᵢⱼ", r"rows(\1*log(softmax(\2)))"),
    (r"Σⱼ (\w+)ⱼ", r"mass(\1)"),
    (r"log ([^\s(]+\([^()]*\)|\w+)", r"log(\1)"),
    (r"\(1/(\w)\) Σᵢ? (.*)$", r"(1/\1)*total(\2)"),
    (r"^(−?)Σᵢ? (.*)$", r"\1total(\2)"),
    (r"\[", "("), (r"\]", ")"),
    ("10⁻¹²", "1e-12"),  # binary_cross_entropy's floor, max(p·(1 − p), 10⁻¹²)
    ("σ", "sigmoid"), ("−", "-"), ("·", "*"), ("²", "**2"), (r"(\d)\(", r"\1*("), (r"\)\(", ")*("),
]


def evaluate(formula: str, shown: dict[str, np.ndarray]) -> np.ndarray:
    """The right-hand side of ``formula`` computed from the shown numbers (``shown``: symbol → values)."""
    right = formula.split(" = ", 1)[1].split(",  ")[0]
    counts = dict(re.findall(r"\((\w) = (\d+)\)", right))
    right = re.sub(r"\s+\(\w = \d+\)$", "", right)
    names = {}
    for number, symbol in enumerate(sorted(shown, key=len, reverse=True)):
        names[f"v{number}"] = shown[symbol]
        right = right.replace(symbol, f"v{number}")
    for pattern, replacement in NOTATION:
        right = re.sub(pattern, replacement, right)
    space = {"abs": np.abs, "sign": np.sign, "exp": np.exp,  # |d|, L1's gradient, KL with log targets
             "max": np.maximum,
             "log": np.log, "softmax": _softmax, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "total": np.sum,
             "pick": lambda values, classes: values[np.arange(len(values)), classes.astype(int)],
             "rows": lambda values: values.sum(axis=1), "mass": lambda values: values.sum(axis=1, keepdims=True),
             **{name: int(value) for name, value in counts.items()}, **names}
    return eval(right, {"__builtins__": {}}, space)  # noqa: S307 (our own notation, from our own trace)


def _probabilities(rng, shape):
    return 1 / (1 + np.exp(-rng.normal(size=shape)))


def _distributions(rng, shape):
    weights = rng.uniform(0.1, 1, size=shape)
    return weights / weights.sum(axis=1, keepdims=True) * rng.uniform(0.5, 1.5)  # rows of mass ≠ 1 too


def kl_div_log_target(input, target, reduction="mean"):
    """``F.kl_div(..., log_target=True)``: its own row (the target is log-probabilities)."""
    return F.kl_div(input, target, reduction=reduction, log_target=True)


LOSSES = {  # case → (loss function, input maker, target maker); the row is the function's name
    "mse_loss": (F.mse_loss, lambda rng: rng.normal(size=(3, 2)), lambda rng: rng.normal(size=(3, 2))),
    "binary_cross_entropy": (F.binary_cross_entropy, lambda rng: _probabilities(rng, (4, 1)),
                             lambda rng: rng.integers(0, 2, size=(4, 1)).astype(float)),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, lambda rng: rng.normal(size=(4, 1)),
                                         lambda rng: rng.integers(0, 2, size=(4, 1)).astype(float)),
    "cross_entropy": (F.cross_entropy, lambda rng: rng.normal(size=(3, 4)), lambda rng: rng.integers(0, 4, size=3)),
    "cross_entropy with probabilities": (F.cross_entropy, lambda rng: rng.normal(size=(3, 4)),
                                         lambda rng: _distributions(rng, (3, 4))),
    "l1_loss": (F.l1_loss, lambda rng: rng.normal(size=(3, 2)), lambda rng: rng.normal(size=(3, 2))),
    "smooth_l1_loss": (F.smooth_l1_loss, lambda rng: 2 * rng.normal(size=(4, 3)), lambda rng: rng.normal(size=(4, 3))),
    "huber_loss": (F.huber_loss, lambda rng: 2 * rng.normal(size=(4, 3)), lambda rng: rng.normal(size=(4, 3))),
    "kl_div": (F.kl_div, lambda rng: np.log(_distributions(rng, (3, 4))), lambda rng: _distributions(rng, (3, 4))),
    "kl_div_log_target": (kl_div_log_target, lambda rng: np.log(_distributions(rng, (3, 4))),
                          lambda rng: np.log(_distributions(rng, (3, 4)))),
}


def test_every_loss_row_is_checked():
    assert {op.name for op in RULES.values() if op.kind == "loss"} == {case[0].__name__ for case in LOSSES.values()}


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("seed", [0, 1])
def test_written_loss_formulas_give_the_numbers_shown(name, reduction, seed):
    loss_function, make_input, make_target = LOSSES[name]
    rng = np.random.default_rng(seed)
    raw, target = make_input(rng), make_target(rng)
    x = gg.tensor(raw, dtype=gg.float64)
    weight = gg.ones(*raw.shape[1:], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        prediction = x * weight  # the loss's input is an inner tensor, as in a network
        loss_function(prediction, gg.tensor(target), reduction=reduction).backward()
    document = tape.describe()
    for phase in ("forward", "backward"):
        step = next(s for s in document[phase] if s["kind"] == "loss")
        shown = {entry["symbol"]: np.asarray(entry["values"], dtype=np.float64) for entry in step["inputs"]}
        np.testing.assert_allclose(evaluate(step["formula"], shown), step["output"]["values"], rtol=1e-10,
                                   err_msg=f"{phase}: {step['formula']}")
        for entry in step["inputs"]:
            if "formula" in entry:  # ŷ = softmax(Z): the derived numbers follow their formula too
                np.testing.assert_allclose(evaluate(entry["formula"], shown), entry["values"], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_each_loss_rows_formula_functions_compute_what_the_engine_does(name, reduction):
    """The functions beside a loss row's written formulas agree with the row's forward and backward."""
    loss_function, make_input, make_target = LOSSES[name]
    rng = np.random.default_rng(5)
    raw, target = make_input(rng), make_target(rng)
    x = gg.tensor(raw, dtype=gg.float64, requires_grad=True)
    loss = loss_function(x, gg.tensor(target), reduction=reduction)
    loss.backward()
    form = RULES[loss_function.__name__].loss.for_target(target)
    count = form.items(raw) if reduction == "mean" else 1
    sign = -1 if form.negated else 1
    np.testing.assert_allclose(sign * form.item_value(raw, target).sum() / count, loss.item(), rtol=1e-12)
    np.testing.assert_allclose(form.gradient_value(raw, target) / count, x.grad.array, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("piece", [90001, 500, 7], ids=["NumPy's passes", "expit", "expit, 7 at a time"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_its_relative_precision_far_below_zero(dtype, piece):
    """σ(a) = 1/(1 + e⁻ᵃ) to within 2 units in the last place of the true value wherever that value is a normal
    number (it was ½·tanh(a/2) + ½, which cancels: σ(−20) came out 0 in float32 and σ(−40) 0 in float64), and
    no overflow warning however negative a is: on a large array (NumPy's passes) and on small ones (SciPy's
    ``expit``, up to ``SMALL_SIGMOID`` entries)."""
    import warnings

    a = np.linspace(-120, 60, 90001).astype(dtype)
    exact = 1 / (1 + np.exp(-a.astype(np.longdouble)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in e⁻ᵃ would warn
        mine = np.concatenate([gg.tensor(a[start:start + piece]).sigmoid().numpy()
                               for start in range(0, a.size, piece)])
    normal = exact > np.finfo(dtype).tiny
    error = np.abs(mine[normal].astype(np.longdouble) - exact[normal]) / exact[normal]
    assert error.max() <= 2 * np.finfo(dtype).eps
    assert (mine[~normal] < 2 * np.finfo(dtype).tiny).all()  # below the normal numbers: about 0
    values = np.array([-30.0, -20.0, 0.0], dtype)
    leaf = gg.tensor(values, requires_grad=True)
    leaf.sigmoid().sum().backward()
    s = 1 / (1 + np.exp(-values.astype(np.longdouble)))
    np.testing.assert_allclose(leaf.grad.numpy(), (s * (1 - s)).astype(dtype), rtol=4 * np.finfo(dtype).eps)


@settings(max_examples=60)
@given(st.integers(1, 512), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_a_small_sigmoid_rounds_as_pytorchs_and_agrees_with_the_large_one(size, dtype, seed):
    """σ of up to ``SMALL_SIGMOID`` entries (SciPy's ``expit``, one call) is PyTorch's to within 4 ulps and flushes
    to 0 where PyTorch does (σ(−100) in float32: NumPy's capped passes gave 3·10⁻³⁹); the same entries inside a
    large array (NumPy's passes) agree with it to within 4 eps (each is within 2 eps of the true value)."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    a = (np.random.default_rng(seed).standard_normal(size) * 30).astype(dtype)
    a[0] = {np.float32: -100.0, np.float64: -746.0}[dtype]
    small = gg.tensor(a).sigmoid().numpy()
    theirs = torch.sigmoid(torch.from_numpy(a)).numpy()
    assert small[0] == theirs[0] == 0
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
    np.testing.assert_allclose(small, theirs, rtol=4 * eps, atol=tiny)  # PyTorch's own exp is off by up to 4 ulps
    large = gg.tensor(np.resize(a, SMALL_SIGMOID * 8)).sigmoid().numpy()[:size]
    np.testing.assert_allclose(large, small, rtol=4 * eps, atol=2 * tiny)  # each within 2 eps of the true σ


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [1, 3])
def test_linear_bias_gradient_sums_from_zero_as_pytorchs(dtype, rows):
    """∂L/∂b = Σ_rows ∂L/∂Z: a −0.0 upstream in one row gives +0.0 (a sum starts from 0), as PyTorch's; one row
    takes its own path (added to 0), several the reduction."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    up = np.array([[-0.0, 1.5, -2.0]] + [[-0.0, 0.25, 1.0]] * (rows - 1), dtype)
    x = np.ones((rows, 2), dtype)
    bias = gg.zeros(3, dtype=dtype, requires_grad=True)
    F.linear(gg.tensor(x), gg.zeros((3, 2), dtype=dtype), bias).backward(gg.tensor(up))
    theirs = torch.zeros(3, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
    torch.nn.functional.linear(torch.from_numpy(x), torch.zeros_like(theirs).expand(2, 3).T, theirs).backward(
        torch.from_numpy(up))
    assert bias.grad.numpy().tobytes() == theirs.grad.numpy().tobytes()
    assert not np.signbit(bias.grad.numpy()[0])


@settings(max_examples=40)
@given(st.integers(0, 300), st.sampled_from([np.float16, np.float32]), st.integers(0, 2**32 - 1))
def test_erf_of_a_narrow_float_is_cs_erf_rounded(size, dtype, seed):
    """erf of float32/float16 entries is C's ``erf`` worked out in float64 (``math.erf``, entry by entry, the
    oracle) rounded to the input's dtype, and the exact GELU a·½(1 + erf(a/√2)) is within 2 eps of it; a 0-d
    input too."""
    import math

    shape = (size,) if size else ()
    a = (np.random.default_rng(seed).standard_normal(shape) * 3).astype(dtype)
    expected = np.array([math.erf(float(x)) for x in a.reshape(-1)]).reshape(shape).astype(dtype)
    assert gg.tensor(a).erf().numpy().tobytes() == expected.tobytes()
    gelu = F.gelu(gg.tensor(a)).numpy()
    by_hand = 0.5 * a * (1 + np.array([math.erf(float(x) / math.sqrt(2)) for x in a.reshape(-1)]).reshape(shape))
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(gelu, by_hand, rtol=2 * eps, atol=eps)  # a/√2 is rounded to the dtype first


@settings(max_examples=40)
@given(st.sampled_from([0.0, 0.01, 0.2, 1.0, 1.5, -0.3]), st.sampled_from([np.float32, np.float64]),
       st.integers(0, 600), st.integers(0, 2**32 - 1))
def test_leaky_relu_is_pytorchs_bit_for_bit(slope, dtype, size, seed):
    """leaky_relu (max(a, s·a) for 0 < s ≤ 1, picked by the mask otherwise) gives PyTorch's numbers and signs,
    with ±0, NaN and ±inf among the entries (+∞ at s = 0 is +∞: max(∞, ∞·0) would be NaN), and its gradient is
    PyTorch's."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    drawn = np.random.default_rng(seed).standard_normal(size) * 3
    a = np.concatenate([[0.0, -0.0, np.nan, -np.inf, np.inf], drawn]).astype(dtype)
    with np.errstate(invalid="ignore"):  # −inf·0 is NaN in both
        mine = gg.tensor(a, requires_grad=True)
        out = F.leaky_relu(mine, slope)
        out.sum().backward()
    theirs = torch.from_numpy(a).requires_grad_()
    expected = torch.nn.functional.leaky_relu(theirs, slope)
    expected.sum().backward()
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())  # NaN where theirs is NaN
    assert (np.signbit(out.numpy()) == np.signbit(expected.detach().numpy())).all()
    np.testing.assert_array_equal(mine.grad.numpy(), theirs.grad.numpy())


@settings(max_examples=40)
@given(st.integers(1, 1200), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_relu_passes_no_gradient_where_it_is_flat_as_pytorch(size, dtype, seed):
    """ReLU's gradient is the upstream where a > 0 and +0.0 elsewhere, whatever the upstream: a product with its
    0/1 mask gave −0.0 under a negative upstream (printed ``-0.``) and NaN under an infinite one. On small
    arrays (``np.where``) and large ones (the upstream's bits under a mask), with ±0 upstream at either side."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(size).astype(dtype)
    a[::7] = 0.0  # at 0 itself: flat, as PyTorch
    up = rng.choice(np.array([-3.0, -0.0, 0.0, 2.5, -np.inf, np.inf, np.nan]), size).astype(dtype)
    grads = []
    for lib in (gg, torch):
        x = lib.tensor(a, requires_grad=True)
        x.relu().backward(lib.tensor(up))
        grads.append(x.grad.numpy())
    mine, theirs = grads
    np.testing.assert_array_equal(mine, theirs)  # NaN only where PyTorch has NaN (an active entry's NaN upstream)
    assert (np.signbit(mine) == np.signbit(theirs)).all()


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_step_functions_gradient_is_plus_zero_whatever_the_upstream(name, dtype):
    """floor, ceil, trunc, round and sign pass +0.0 back everywhere, as PyTorch's: ``up · 0`` gave −0.0 under a
    negative upstream (printed ``-0.``) and NaN under an infinite or NaN one."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    a = np.array([-2.5, -0.5, 0.0, 0.5, 1.5, 2.0, 7.25], dtype)
    up = np.array([-3.0, -1.0, -np.inf, np.inf, np.nan, -0.0, 2.0], dtype)
    grads = []
    for lib in (gg, torch):
        x = lib.tensor(a, requires_grad=True)
        getattr(x, name)().backward(lib.tensor(up))
        grads.append(x.grad.numpy())
    mine, theirs = grads
    assert mine.tobytes() == theirs.tobytes() == np.zeros_like(a).tobytes()


def test_the_exact_gelu_works_out_erf_once_for_its_forward_and_backward(monkeypatch):
    """The exact GELU keeps Φ(a) from its forward for its backward: erf (the costly part) runs once per pass pair;
    the gradient is the local derivative's, Φ(a) + a·φ(a), worked out here by hand with math.erf."""
    import math

    import glassgrad.ops as ops

    calls = []
    erf = ops._erf
    monkeypatch.setattr(ops, "_erf", lambda a: calls.append(1) or erf(a))
    a = np.array([-2.0, -0.5, 0.0, 0.7, 3.0])
    x = gg.tensor(a, requires_grad=True)
    F.gelu(x).sum().backward()
    assert len(calls) == 1
    by_hand = [0.5 * (1 + math.erf(v / math.sqrt(2))) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi) for v in a]
    np.testing.assert_allclose(x.grad.numpy(), by_hand, rtol=1e-15)
