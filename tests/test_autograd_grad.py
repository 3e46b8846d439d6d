"""``gg.autograd.grad`` and ``create_graph=True``: gradients as values, and gradients of gradients.

Oracles: PyTorch 2.13 (``torch.autograd.grad`` on the same float64 numbers, first and second
derivatives, Hessian-vector products on hypothesis-drawn shapes), finite differences (``gg.gradcheck``
of the first derivative checks the second), and hand-derived values (d²(x³)/dx² = 6x).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.tensor import apply

grad = gg.autograd.grad


def both(torch, values, requires_grad=True):
    """The same float64 numbers as a glassgrad tensor and a torch tensor."""
    return (gg.tensor(values, dtype=gg.float64, requires_grad=requires_grad),
            torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad))


def close(ours, theirs, tolerance=1e-10):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=tolerance, atol=tolerance)


# --- first derivatives: what grad returns and what it leaves alone -------------------------------

@pytest.mark.torch
def test_grad_returns_a_tuple_and_leaves_every_grad_alone(torch):
    x, tx = both(torch, [1.0, -2.0, 3.0])
    w, tw = both(torch, [0.5, 0.25, -1.0])
    hidden, t_hidden = x * w, tx * tw
    hidden.retain_grad()
    t_hidden.retain_grad()
    ours = grad((hidden.exp()).sum(), (x, w))
    theirs = torch.autograd.grad((t_hidden.exp()).sum(), (tx, tw))
    assert isinstance(ours, tuple) and len(ours) == 2
    for mine, expected in zip(ours, theirs):
        close(mine, expected)
        assert not mine.requires_grad
    assert x.grad is None and w.grad is None and tx.grad is None and tw.grad is None
    close(hidden.grad, t_hidden.grad)  # a tensor that called retain_grad() on the way keeps its gradient, as there


@pytest.mark.torch
def test_grad_outputs_several_outputs_and_an_intermediate_input(torch):
    rng = np.random.default_rng(0)
    values, seed_a, seed_b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=3)
    x, tx = both(torch, values)
    a, ta = x.tanh(), tx.tanh()
    b, tb = (a * x).sum(dim=0), (ta * tx).sum(dim=0)
    ours = grad((a, b), (x, a), grad_outputs=(gg.tensor(seed_a), gg.tensor(seed_b)))
    theirs = torch.autograd.grad((ta, tb), (tx, ta), grad_outputs=(torch.tensor(seed_a), torch.tensor(seed_b)))
    close(ours[0], theirs[0])
    close(ours[1], theirs[1])


@pytest.mark.torch
def test_the_same_input_twice_and_an_output_that_is_an_input(torch):
    x, tx = both(torch, [1.5, -0.5])
    ours = grad((x * x).sum(), (x, x))
    theirs = torch.autograd.grad((tx * tx).sum(), (tx, tx))
    close(ours[0], theirs[0])
    close(ours[1], theirs[1])
    ours[0].numpy()[0] = 99.0  # two results never share memory
    assert ours[1].numpy()[0] == theirs[1][0].item()
    (itself,) = grad(x, x, grad_outputs=gg.tensor([2.0, 3.0], dtype=gg.float64))
    assert itself.tolist() == [2.0, 3.0]


def _seeded_by_integers(library, spelling):
    """x² seeded with an integer (or bool) ∂L/∂y, given each way PyTorch takes one: x.grad, or the gradient."""
    x = library.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x ** 2
    if spelling == "backward":
        y.backward(library.tensor([1, 0, 2]))
    elif spelling == "autograd.backward":
        library.autograd.backward(y, library.tensor([True, False, True]))
    else:
        (found,) = library.autograd.grad(y, x, grad_outputs=library.tensor([1, 0, 2]),
                                         create_graph=spelling == "grad, create_graph")
        return found.dtype == x.dtype, found.tolist()
    return x.grad.dtype == x.dtype, x.grad.tolist()


@pytest.mark.torch
@pytest.mark.parametrize("spelling", ["backward", "autograd.backward", "grad", "grad, create_graph"])
def test_an_integer_or_bool_seed_is_cast_to_the_outputs_dtype_as_in_pytorch(torch, spelling):
    """y.backward(torch.tensor([1, 0, 2])) was refused ('gradient must be a float tensor, got int64')."""
    assert _seeded_by_integers(gg, spelling) == _seeded_by_integers(torch, spelling)


def _hessian_rows_with_materialized_zeros(library):
    """∂²f/∂(x, y)² of f = Σ x³ (y unused) row by row, each row the gradient of one entry of the first gradient, all
    with materialize_grads=True: y's first gradient is zeros that a second grad must take."""
    x = library.tensor([1.0, -2.0], dtype=library.float64, requires_grad=True)
    y = library.tensor([0.5], dtype=library.float64, requires_grad=True)
    first = library.autograd.grad((x ** 3).sum(), (x, y), create_graph=True, materialize_grads=True)
    rows = [library.autograd.grad(part.sum(), (x, y), materialize_grads=True) for part in first]
    return [(part.requires_grad, part.is_leaf) for part in first], [[g.tolist() for g in row] for row in rows]


@pytest.mark.torch
def test_materialized_zeros_with_create_graph_require_grad_as_in_pytorch(torch):
    """They did not require grad, so differentiating them again raised 'element 0 of tensors does not require
    grad'; PyTorch makes them with requires_grad=create_graph."""
    assert _hessian_rows_with_materialized_zeros(gg) == _hessian_rows_with_materialized_zeros(torch) == (
        [(True, False), (True, True)], [[[6.0, -12.0], [0.0]], [[0.0, 0.0], [0.0]]])


@pytest.mark.torch
def test_allow_unused_and_materialize_grads(torch):
    x, tx = both(torch, [1.0, 2.0])
    unused, t_unused = both(torch, [3.0])
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph") as error:
        grad((x * 2).sum(), (x, unused))
    assert "\n" not in str(error.value) and "allow_unused=True" in str(error.value)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        torch.autograd.grad((tx * 2).sum(), (tx, t_unused))
    ours = grad((x * 2).sum(), (x, unused), allow_unused=True)
    theirs = torch.autograd.grad((tx * 2).sum(), (tx, t_unused), allow_unused=True)
    assert ours[1] is None and theirs[1] is None
    ours = grad((x * 2).sum(), (x, unused), materialize_grads=True)
    theirs = torch.autograd.grad((tx * 2).sum(), (tx, t_unused), materialize_grads=True)
    close(ours[1], theirs[1])
    with pytest.raises(ValueError, match="allow_unused"):
        grad((x * 2).sum(), (x, unused), allow_unused=False, materialize_grads=True)


@pytest.mark.parametrize("call, message", [
    (lambda x, y: grad(y, gg.tensor([1.0])), "does not require grad"),
    (lambda x, y: grad(gg.tensor(1.0), x), "element 0 of tensors does not require grad"),
    (lambda x, y: grad(y * x, x), "grad can be implicitly created only for scalar outputs"),
    (lambda x, y: grad(y * x, x, grad_outputs=gg.ones(3)), "Mismatch in shape"),
    (lambda x, y: grad(y, x, grad_outputs=(None, None)), "grad_outputs has 2 entries but there are 1 outputs"),
    (lambda x, y: grad(y, [x, 3.0]), "inputs\\[1\\] must be a Tensor"),
    (lambda x, y: grad(y, []), "non-empty inputs"),
    (lambda x, y: grad(y, x, is_grads_batched=True), "is_grads_batched=True\\): give grad_outputs as tensors"),
])
def test_wrong_calls_are_one_line_errors(call, message):
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises((RuntimeError, TypeError, NotImplementedError), match=message) as error:
        call(x, y)
    assert "\n" not in str(error.value)


def test_grad_frees_the_graph_unless_retained():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    grad(y, x, retain_graph=True)
    y.backward(retain_graph=True)  # still there
    np.testing.assert_allclose(x.grad.numpy(), (np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0]))), rtol=1e-6)
    grad(y, x)  # frees it now
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    z = (x * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        grad(z, x)


def test_a_saved_tensor_changed_in_place_is_refused_as_in_backward():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = (h * h).sum()
    with gg.no_grad():
        h.numpy()  # reading is fine
        h.data.mul_(2)  # a counted change through .data
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        grad(y, x)


# --- second derivatives: hand-derived and finite differences ---------------------------------------

def test_second_derivative_of_x_cubed_is_6x():
    x = gg.tensor([-1.5, 0.0, 2.0], dtype=gg.float64, requires_grad=True)
    (first,) = grad((x ** 3).sum(), x, create_graph=True)
    assert first.requires_grad and first.grad_fn is not None
    np.testing.assert_allclose(first.numpy(), 3 * x.numpy() ** 2)
    (second,) = grad(first.sum(), x, create_graph=True)
    np.testing.assert_allclose(second.numpy(), 6 * x.numpy())
    (third,) = grad(second.sum(), x)
    np.testing.assert_allclose(third.numpy(), [6.0, 6.0, 6.0])


def test_backward_with_create_graph_stores_a_differentiable_grad():
    x = gg.tensor(2.0, dtype=gg.float64, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    first = x.grad
    assert first.item() == 12.0 and first.grad_fn is not None
    x.grad = None
    first.backward()
    assert x.grad.item() == 12.0  # 6x


@pytest.mark.torch
@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_with_inputs_fills_only_their_grad_as_in_pytorch(torch, create_graph):
    found = []
    for module in (gg, torch):
        x = module.tensor([1.0, 2.0], dtype=module.float64, requires_grad=True)
        w = module.tensor([3.0, -4.0], dtype=module.float64, requires_grad=True)
        hidden = x * w
        hidden.retain_grad()
        (hidden * hidden).sum().backward(inputs=[x], create_graph=create_graph)
        later = x * w
        (later.tanh()).sum().backward(inputs=later, retain_graph=True)  # a non-leaf input keeps its gradient
        found.append((x.grad, w.grad, hidden.grad, later.grad))
    for mine, theirs in zip(*found):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            close(mine, theirs)
            assert mine.requires_grad == theirs.requires_grad


@pytest.mark.parametrize("inputs, message", [([], "cannot be empty"), ([gg.ones(2)], "inputs\\[0\\] must be a tensor "
                                                                                     "that requires grad")])
def test_backward_with_bad_inputs_is_one_line(inputs, message):
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=message) as error:
        (x * x).sum().backward(inputs=inputs)
    assert "\n" not in str(error.value)


UNARY = {  # name: (the op on t, written for both libraries (F: their nn.functional), the inputs' domain)
    "neg": (lambda t, F: -t, "any"),
    "exp": (lambda t, F: t.exp(), "any"),
    "log": (lambda t, F: t.log(), "positive"),
    "sqrt": (lambda t, F: t.sqrt(), "positive"),
    "abs": (lambda t, F: t.abs(), "not zero"),
    "sin": (lambda t, F: t.sin(), "any"),
    "cos": (lambda t, F: t.cos(), "any"),
    "tanh": (lambda t, F: t.tanh(), "any"),
    "sigmoid": (lambda t, F: t.sigmoid(), "any"),
    "relu": (lambda t, F: t.relu(), "not zero"),
    "leaky_relu": (lambda t, F: F.leaky_relu(t, 0.1), "not zero"),
    "silu": (lambda t, F: F.silu(t), "any"),
    "gelu_tanh": (lambda t, F: F.gelu(t, approximate="tanh"), "any"),
    "gelu": (lambda t, F: F.gelu(t), "any"),  # exact: Φ through the erf row
    "erf": (lambda t, F: t.erf() * 2, "any"),
    "pow_scalar": (lambda t, F: t ** 3, "any"),
    "pow_fraction": (lambda t, F: t ** 2.5, "positive"),
    "clamp": (lambda t, F: t.clamp(-0.5, 0.5), "not zero"),
    "sum_dim": (lambda t, F: t.sum(dim=0), "any"),
    "sum_all": (lambda t, F: t.sum(), "any"),
    "mean_keepdim": (lambda t, F: t.mean(dim=-1, keepdim=True), "any"),
    "var_dim": (lambda t, F: t.var(dim=-1, correction=0), "any"),
    "max_dim": (lambda t, F: t.max(dim=-1).values, "any"),
    "logsumexp": (lambda t, F: t.logsumexp(dim=-1), "any"),
    "softmax": (lambda t, F: t.softmax(dim=-1), "any"),
    "log_softmax": (lambda t, F: t.log_softmax(dim=0), "any"),
    "reshape": (lambda t, F: t.reshape(-1), "any"),
    "transpose": (lambda t, F: t.transpose(0, 1), "any"),
    "expand": (lambda t, F: t.unsqueeze(0).expand(3, *t.shape), "any"),
    "double": (lambda t, F: t.float().double(), "any"),
    "mse_loss": (lambda t, F: F.mse_loss(t, t.detach() * 0.0 + 0.25), "any"),  # a constant target
    "getitem_slice": (lambda t, F: t[:, :1], "any"),
    "getitem_last_row": (lambda t, F: t[-1], "any"),
    "getitem_mask": (lambda t, F: t[t > 0], "any"),
    "setitem": (lambda t, F: _row_written(t), "any"),
    "cross_entropy": (lambda t, F: F.cross_entropy(t, (t.detach()[:, 0] * 0).long()), "any"),
    "cross_entropy_none": (lambda t, F: F.cross_entropy(t, (t.detach()[:, 0] * 0).long(), reduction="none"), "any"),
    "cross_entropy_probabilities": (lambda t, F: F.cross_entropy(t, t.detach().softmax(dim=1), reduction="sum"),
                                    "any"),
    "bce_with_logits": (lambda t, F: F.binary_cross_entropy_with_logits(t, t.detach().sigmoid()), "any"),
    "bce": (lambda t, F: F.binary_cross_entropy(t.sigmoid(), (t.detach() > 0).double(), reduction="none"), "any"),
    # losses whose target is also a function of t: both inputs' recorded gradients
    "l1_loss": (lambda t, F: F.l1_loss(t, (0.5 * t).tanh()), "any"),
    "smooth_l1_loss": (lambda t, F: F.smooth_l1_loss(t, (0.5 * t).tanh(), reduction="sum", beta=0.3), "any"),
    "huber_loss": (lambda t, F: F.huber_loss(t, (0.5 * t).tanh(), reduction="none", delta=0.2), "any"),
    "kl_div": (lambda t, F: F.kl_div(t.log_softmax(dim=-1), (0.5 * t).softmax(dim=-1), reduction="batchmean"),
               "any"),
    "kl_div_log_target": (lambda t, F: F.kl_div(t.log_softmax(dim=-1), (0.5 * t).log_softmax(dim=-1),
                                                reduction="none", log_target=True), "any"),
    # the math rows (glassgrad.ops_math), each in its domain
    "tan": (lambda t, F: t.tan(), "unit"),
    "asin": (lambda t, F: t.asin(), "unit"),
    "acos": (lambda t, F: t.acos(), "unit"),
    "atan": (lambda t, F: t.atan(), "any"),
    "sinh": (lambda t, F: t.sinh(), "any"),
    "cosh": (lambda t, F: t.cosh(), "any"),
    "asinh": (lambda t, F: t.asinh(), "any"),
    "acosh": (lambda t, F: t.acosh(), "above one"),
    "atanh": (lambda t, F: t.atanh(), "unit"),
    "log10": (lambda t, F: t.log10(), "positive"),
    "log2": (lambda t, F: t.log2(), "positive"),
    "log1p": (lambda t, F: t.log1p(), "unit"),
    "expm1": (lambda t, F: t.expm1(), "any"),
    "rsqrt": (lambda t, F: t.rsqrt(), "positive"),
    "square": (lambda t, F: t.square(), "any"),
    "reciprocal": (lambda t, F: t.reciprocal(), "positive"),
    # the steps have slope 0: times t, their recorded 0 meets a nonzero second derivative (floor(t) + t·0)
    "floor": (lambda t, F: t * t.floor(), "any"),
    "ceil": (lambda t, F: t * t.ceil(), "any"),
    "trunc": (lambda t, F: t * t.trunc(), "any"),
    "round": (lambda t, F: t * t.round(), "any"),
    "sign": (lambda t, F: t * t.sign(), "not zero"),
    "masked_fill": (lambda t, F: t.masked_fill(t.detach() > 0.5, 2.0), "any"),
    "elu": (lambda t, F: F.elu(t, 0.7), "not zero"),
    "softplus": (lambda t, F: F.softplus(t), "any"),
    "softplus_threshold": (lambda t, F: F.softplus(t, beta=2.0, threshold=1.5), "any"),  # the identity above 0.75
    # linear rows of glassgrad.ops_index: their recorded backward is another op on the upstream
    "flip": (lambda t, F: t.flip(0, 1), "any"),
    "roll": (lambda t, F: t.roll((1, -2), (0, 1)), "any"),
    "roll_flat": (lambda t, F: t.roll(3), "any"),
    "tril": (lambda t, F: t.tril(), "any"),
    "triu": (lambda t, F: t.triu(1), "any"),
    "cumsum": (lambda t, F: t.cumsum(dim=1), "any"),
    "repeat": (lambda t, F: t.repeat(2, 1, 2), "any"),  # a new leading dim, and tiled
    "repeat_interleave": (lambda t, F: t.repeat_interleave(2, dim=1), "any"),
    "diagonal": (lambda t, F: t.diagonal(1), "any"),
    "diagonal_3d": (lambda t, F: (t.unsqueeze(1) * t.unsqueeze(0)).diagonal(-1, 2, 0), "any"),  # dims apart
    "diag": (lambda t, F: t.reshape(-1)[:3].diag(-1), "any"),  # 1-D in, a matrix out
    "unfold": (lambda t, F: t.unfold(1, 1, 1), "any"),
    "unfold_overlapping": (lambda t, F: t.repeat(1, 2).unfold(1, 2, 1), "any"),  # windows share entries
    "unfold_rows": (lambda t, F: t.unfold(0, 1, 2), "any"),  # step 2: rows left out get 0
    "unfold_rows_overlapping": (lambda t, F: t.repeat(2, 1).unfold(0, 2, 1), "any"),  # a leading dim's windows
    "gather": (lambda t, F: t.gather(1, _picks(t, 2)), "any"),  # repeats: their gradients add up
    "index_select": (lambda t, F: t.index_select(1, _picks(t, 2)[0]), "any"),
    "sort": (lambda t, F: t.sort(dim=1).values, "any"),
    "topk": (lambda t, F: t.topk(1, dim=0).values, "any"),
    "scatter": (lambda t, F: t.scatter(1, _picks(t, 1, 1), t * t), "any"),  # each row's index a permutation
    "scatter_add": (lambda t, F: t.scatter_add(1, _picks(t, 1), t * t), "any"),
}


def _picks(t, widen, step=2):
    """An index of t's rows and ``widen`` × its columns: row i, place j picks column (i + j // step) mod columns."""
    rows, columns = t.shape
    picks = (np.arange(rows)[:, None] + np.arange(widen * columns)[None, :] // step) % columns
    return t.new_tensor(picks).long()


def _row_written(t):
    """``y[0] = t[-1]²`` on a copy: an in-place write recorded in the graph (setitem)."""
    y = t * 1.0
    y[0] = t[-1] ** 2
    return y


def _inputs(rng: np.random.Generator, shape: tuple, domain: str) -> np.ndarray:
    values = rng.uniform(-2, 2, size=shape)
    if domain == "positive":
        return np.abs(values) + 0.2
    if domain == "unit":  # (−0.9, 0.9): inside asin's, acos's and atanh's (−1, 1), short of tan's poles
        return 0.45 * values
    if domain == "above one":  # acosh: a > 1
        return np.abs(values) + 1.2
    if domain == "not zero":  # |x| in [0.1, 0.4] or [1.1, 1.4]: away from the kinks at 0 and ±0.5
        return np.sign(values) * (0.1 + 0.15 * np.abs(values) + (np.abs(values) > 1))
    return values


def _library(module):
    """What a test function needs of a library: its tensor maker (float64) and its nn.functional."""
    return lambda values: module.tensor(values, dtype=module.float64), module.nn.functional


@pytest.mark.torch
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4)), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(UNARY))
def test_second_derivatives_of_one_input_ops_match_pytorch(torch, name, shape, seed):
    """Hessian-vector products: g = ∂(Σ v·f(x)²)/∂x recorded, then ∂(Σ w·g)/∂x, against PyTorch's."""
    function, domain = UNARY[name]
    rng = np.random.default_rng(seed)
    values, inner = _inputs(rng, shape, domain), rng.normal(size=shape)
    outer = rng.normal(size=64)
    found = []
    for module in (gg, torch):
        cast, functional = _library(module)
        x = cast(values).requires_grad_()
        y = function(x, functional)
        weights = cast(outer[:y.numel()].reshape(tuple(y.shape)))
        (first,) = module.autograd.grad((y * y * weights).sum(), x, create_graph=True)
        (second,) = module.autograd.grad((first * cast(inner)).sum(), x)
        found.append((y, first, second))
    for mine, theirs in zip(*found):
        close(mine, theirs, 1e-9)


BINARY = {
    "add": (lambda a, b, lib: a + b, "any"),
    "sub": (lambda a, b, lib: a - b, "any"),
    "mul": (lambda a, b, lib: a * b, "any"),
    "div": (lambda a, b, lib: a / b, "positive"),
    "pow": (lambda a, b, lib: a ** b, "positive"),
    "maximum": (lambda a, b, lib: a.maximum(b), "any"),
    "minimum": (lambda a, b, lib: a.minimum(b), "any"),
    "where": (lambda a, b, lib: lib.where(a > 0, a * b, b), "any"),
    "cat": (lambda a, b, lib: lib.cat([a.reshape(-1), (b * 2).reshape(-1)]), "any"),
    "stack": (lambda a, b, lib: lib.stack([a + b, a * b], dim=-1), "any"),
    "atan2": (lambda a, b, lib: a.atan2(b), "not zero"),
    "lerp": (lambda a, b, lib: a.lerp(b, (a * b).tanh()), "any"),  # all three inputs, the weight from both
    "lerp_number": (lambda a, b, lib: a.lerp(b, 0.25), "any"),
}


def _mixed_derivatives(module, function, a_values, b_values, outer, inner_a, inner_b):
    cast, _ = _library(module)
    a, b = cast(a_values).requires_grad_(), cast(b_values).requires_grad_()
    out = function(a, b, module)
    weights = cast(np.resize(outer, tuple(out.shape)))  # as many weights as the output has entries
    first = module.autograd.grad((out * out * weights).sum(), (a, b), create_graph=True)
    second = module.autograd.grad((first[0] * cast(inner_a)).sum() + (first[1] * cast(inner_b)).sum(), (a, b))
    return (*first, *second)


@pytest.mark.torch
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(BINARY))
def test_mixed_second_derivatives_of_broadcasting_ops_match_pytorch(torch, name, shapes, seed):
    function, domain = BINARY[name]
    rng = np.random.default_rng(seed)
    (shape_a, shape_b), result = shapes.input_shapes, shapes.result_shape
    arrays = (_inputs(rng, shape_a, domain), _inputs(rng, shape_b, domain), rng.normal(size=result),
              rng.normal(size=shape_a), rng.normal(size=shape_b))
    for mine, theirs in zip(_mixed_derivatives(gg, function, *arrays), _mixed_derivatives(torch, function, *arrays)):
        close(mine, theirs, 1e-9)


matmul_shapes = st.sampled_from([((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                                 ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2))])


@pytest.mark.torch
@given(shapes=matmul_shapes, seed=st.integers(0, 2**16))
def test_second_derivatives_of_matmul_match_pytorch(torch, shapes, seed):
    rng = np.random.default_rng(seed)
    out_shape = np.matmul(np.ones(shapes[0]), np.ones(shapes[1])).shape
    arrays = (rng.normal(size=shapes[0]), rng.normal(size=shapes[1]), rng.normal(size=out_shape),
              rng.normal(size=shapes[0]), rng.normal(size=shapes[1]))

    def function(a, b, lib):
        return (a @ b).tanh()

    for mine, theirs in zip(_mixed_derivatives(gg, function, *arrays), _mixed_derivatives(torch, function, *arrays)):
        close(mine, theirs, 1e-9)


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "sin", "pow_scalar", "softmax", "logsumexp",
                                  "silu", "mse_loss", "max_dim", "sqrt", "log_softmax", "getitem_mask", "setitem",
                                  "cross_entropy", "gather", "scatter", "cumsum", "atanh", "softplus"])
def test_the_recorded_first_derivative_has_the_finite_difference_derivative(name):
    function, domain = UNARY[name]
    x = gg.tensor(_inputs(np.random.default_rng(3), (2, 3), domain), dtype=gg.float64, requires_grad=True)

    def first_derivative(t):
        with gg.enable_grad():  # gradcheck's finite differences run under no_grad
            return grad((function(t, F) ** 2).sum(), t, create_graph=True)[0]

    report = gg.gradcheck(first_derivative, [x])
    assert report.ok, report


def test_scatter_add_from_a_larger_src_has_the_finite_difference_second_derivative():
    """src larger than the index: only its corner is read (PyTorch 2.13's double backward refuses this shape)."""
    x = gg.tensor(np.random.default_rng(4).normal(size=(3, 4)), dtype=gg.float64, requires_grad=True)

    def first_derivative(t):
        with gg.enable_grad():
            out = t.scatter_add(1, _picks(t, 1)[:, :2], t.exp())
            return grad((out ** 2).sum(), t, create_graph=True)[0]

    report = gg.gradcheck(first_derivative, [x])
    assert report.ok, report


@pytest.mark.torch
def test_gradient_penalty_of_a_tanh_mlp_matches_pytorch(torch):
    """∂/∂W of ‖∂out/∂x‖², the input-gradient penalty: linear and tanh twice over, then backward."""
    rng = np.random.default_rng(5)
    weights = [rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(1, 4)), rng.normal(size=1)]
    inputs = rng.normal(size=(5, 3))
    found = []
    for module in (gg, torch):
        cast, functional = _library(module)
        params = [cast(w).requires_grad_() for w in weights]
        x = cast(inputs).requires_grad_()
        out = functional.linear(functional.linear(x, params[0], params[1]).tanh(), params[2], params[3])
        (slope,) = module.autograd.grad(out.sum(), x, create_graph=True)
        penalty = (slope * slope).sum()
        penalty.backward()
        assert params[3].grad is None  # the last bias does not change the slope
        found.append([slope, penalty] + [p.grad for p in params[:3]])
    for mine, theirs in zip(*found):
        close(mine, theirs)


ELEMENTWISE_RECORDED = [op for op in gg.RULES.values()
                        if op.elementwise and op.vjp_tensors is not None and op.name != "where"]  # where: a condition
POSITIVE = {"log", "sqrt", "pow", "log10", "log2", "rsqrt", "reciprocal"}
UNIT = {"asin", "acos", "atanh", "tan", "log1p", "erfinv"}  # (−0.9, 0.9)
ABOVE_ONE = {"acosh"}


@pytest.mark.parametrize("op", ELEMENTWISE_RECORDED, ids=lambda op: op.name)
def test_every_elementwise_rows_recorded_rule_gives_its_numeric_gradient(op):
    """A row's two backward rules (NumPy, and tensors for create_graph=True) give the same first derivative."""
    rng = np.random.default_rng(len(op.name))
    values = [_row_inputs(rng, op.name) for _ in op.roles]
    upstream = gg.tensor(rng.normal(size=(3, 4)), dtype=gg.float64)
    found = []
    for create_graph in (False, True):
        inputs = tuple(gg.tensor(v, dtype=gg.float64, requires_grad=True) for v in values)
        out = apply(op, inputs, *(t.array for t in inputs), *op.defaults)
        found.append(grad(out, inputs, upstream, create_graph=create_graph))
    for numeric, recorded in zip(*found):
        np.testing.assert_allclose(recorded.numpy(), numeric.numpy(), rtol=1e-12, atol=1e-14)


def _row_inputs(rng: np.random.Generator, name: str) -> np.ndarray:
    """A (3, 4) input inside the row's domain."""
    if name in POSITIVE:
        return rng.uniform(0.2, 2.0, size=(3, 4))
    if name in UNIT:
        return rng.uniform(-0.9, 0.9, size=(3, 4))
    if name in ABOVE_ONE:
        return rng.uniform(1.2, 3.0, size=(3, 4))
    return rng.normal(size=(3, 4))



# --- the rows of windows, tables and products: convolution, pooling, embedding, prod, cumprod -------------

WINDOWED = {  # name: (the op on (x, w) for both libraries, x's shape, w's shape)
    "conv2d": (lambda x, w, F: F.conv2d(x, w), (2, 3, 5, 4), (4, 3, 2, 3)),
    "conv2d_stride_padding": (lambda x, w, F: F.conv2d(x, w, stride=2, padding=1), (2, 3, 5, 6), (4, 3, 3, 3)),
    "conv2d_dilation_uneven_padding": (lambda x, w, F: F.conv2d(x, w, dilation=2, padding=(1, 2)),
                                       (1, 2, 6, 5), (3, 2, 2, 2)),
    "conv2d_groups": (lambda x, w, F: F.conv2d(x, w, groups=2, stride=(2, 1)), (2, 4, 5, 5), (6, 2, 3, 2)),
    "conv1d": (lambda x, w, F: F.conv1d(x, w, stride=2, padding=1), (2, 3, 7), (4, 3, 3)),
    # the pools: the weight w only scales the output (so both inputs have a second derivative to compare)
    "max_pool2d": (lambda x, w, F: F.max_pool2d(x, 2) * w, (2, 3, 4, 6), (3, 1, 1)),
    "max_pool2d_overlapping_padded": (lambda x, w, F: F.max_pool2d(x, 3, stride=1, padding=1) * w,
                                      (1, 2, 4, 5), (2, 1, 1)),
    "max_pool2d_dilated_unbatched": (lambda x, w, F: F.max_pool2d(x, 2, stride=1, dilation=2) * w,
                                     (3, 5, 5), (3, 1, 1)),
    "avg_pool2d": (lambda x, w, F: F.avg_pool2d(x, 2) * w, (2, 3, 4, 6), (3, 1, 1)),
    "avg_pool2d_padding_not_counted": (lambda x, w, F: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False) * w,
                                       (1, 2, 5, 5), (2, 1, 1)),
    "avg_pool2d_divisor": (lambda x, w, F: F.avg_pool2d(x, 2, stride=1, divisor_override=3) * w,
                           (1, 2, 4, 4), (2, 1, 1)),
    "adaptive_avg_pool2d": (lambda x, w, F: F.adaptive_avg_pool2d(x, (2, 3)) * w, (2, 3, 5, 7), (3, 1, 1)),
    # the 3-d rows: the same windows over volumes (N, C, D, H, W)
    "conv3d_stride_padding_dilation_groups": (
        lambda x, w, F: F.conv3d(x, w, stride=(1, 2, 1), padding=(1, 0, 1), dilation=(1, 1, 2), groups=2),
        (1, 4, 3, 4, 4), (2, 2, 2, 2, 2)),
    "max_pool3d_overlapping_padded": (lambda x, w, F: F.max_pool3d(x, 3, stride=(1, 2, 1), padding=1) * w,
                                      (1, 2, 3, 4, 3), (2, 1, 1, 1)),
    "avg_pool3d_padding_not_counted": (lambda x, w, F: F.avg_pool3d(x, 2, 1, 1, count_include_pad=False) * w,
                                       (1, 2, 3, 2, 3), (2, 1, 1, 1)),
    "adaptive_avg_pool3d_unbatched": (lambda x, w, F: F.adaptive_avg_pool3d(x, (2, 1, 3)) * w, (2, 3, 4, 5),
                                      (2, 1, 1, 1)),
    # the table is w; x picks its rows (an index: no gradient), repeats and all
    "embedding": (lambda x, w, F: F.embedding(_rows_of(x, 5), w) * (w[0].sum() + x.sum()), (2, 4), (5, 3)),
    "embedding_padding_idx": (lambda x, w, F: F.embedding(_rows_of(x, 5), w, padding_idx=1) * x.tanh().sum(),
                              (2, 4), (5, 3)),
    "prod": (lambda x, w, F: (x * w).prod(dim=1), (3, 4), (3, 4)),
    "prod_all_keepdim": (lambda x, w, F: (x + w).prod() + (x * w).prod(0, keepdim=True), (2, 3), (2, 3)),
    "cumprod": (lambda x, w, F: (x * w).cumprod(dim=1), (3, 4), (3, 4)),
    "cumprod_first_dim": (lambda x, w, F: (x - w).cumprod(dim=0), (4, 2), (4, 2)),
}


def _rows_of(x, rows: int):
    """Row indices picked from x's values (repeats included): an index the gradient does not flow through."""
    return x.new_tensor((np.abs(x.detach().numpy()) * 7).astype(np.int64) % rows).long()


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), zeros=st.integers(0, 2))
@pytest.mark.parametrize("name", sorted(WINDOWED))
def test_second_derivatives_of_windows_tables_and_products_match_pytorch(torch, name, seed, zeros):
    """Both inputs' first derivatives recorded, then the mixed second derivatives, against PyTorch's;
    ``zeros`` entries of x set to exactly 0 (a product's rule must not divide by them)."""
    function, x_shape, w_shape = WINDOWED[name]
    rng = np.random.default_rng(seed)
    x_values = rng.normal(size=x_shape)
    x_values.reshape(-1)[rng.choice(x_values.size, zeros, replace=False)] = 0.0
    arrays = (x_values, rng.normal(size=w_shape), rng.normal(size=64), rng.normal(size=x_shape),
              rng.normal(size=w_shape))

    def both_inputs(a, b, lib):
        return function(a, b, lib.nn.functional)

    mine, theirs = _mixed_derivatives(gg, both_inputs, *arrays), _mixed_derivatives(torch, both_inputs, *arrays)
    for ours, reference in zip(mine, theirs):
        close(ours, reference, 1e-9)


@pytest.mark.parametrize("name", ["conv2d_stride_padding", "conv2d_groups", "max_pool2d_overlapping_padded",
                                  "avg_pool2d_padding_not_counted", "adaptive_avg_pool2d", "embedding",
                                  "prod", "cumprod_first_dim", "conv3d_stride_padding_dilation_groups",
                                  "adaptive_avg_pool3d_unbatched"])
def test_the_recorded_first_derivatives_of_windows_and_products_have_finite_difference_derivatives(name):
    function, x_shape, w_shape = WINDOWED[name]
    rng = np.random.default_rng(11)
    x = gg.tensor(rng.normal(size=x_shape), dtype=gg.float64, requires_grad=True)
    w = gg.tensor(rng.normal(size=w_shape), dtype=gg.float64, requires_grad=True)

    def first_derivatives(a, b):
        with gg.enable_grad():  # gradcheck's finite differences run under no_grad
            out = function(a, b, F)
            found = grad((out * out).sum(), (a, b), create_graph=True, allow_unused=True)
            return sum((g * g.detach().sign()).sum() for g in found if g is not None)

    report = gg.gradcheck(first_derivatives, [x, w])
    assert report.ok, report


@given(values=st.lists(st.sampled_from([-np.inf, np.inf, -2.0, -0.5, 0.0, 1.5, 3.0]), min_size=1, max_size=5),
       seed=st.integers(0, 2**16))
def test_the_recorded_cumprod_gradient_is_the_plain_one_with_infinite_entries(values, seed):
    """``∂L/∂aᵢ = Σ_(j≥i) upⱼ·Π_(k≤j, k≠i) aₖ``, worked out term by term here: an infinite ``aₖ`` enters only the
    terms it is a factor of. The recorded rule (``create_graph=True``) multiplied the entries it leaves out by 0,
    so one infinite entry made every gradient of its row NaN (cumprod([inf, 1, 2]): NaN for ∂/∂a₀, which is
    up₀ + up₁ + 2·up₂); now it gives the numbers the plain rule gives. Compared where the sum is a number (no
    0·∞ in a term, no ∞ − ∞ between terms); elsewhere the value hangs on how the terms are grouped."""
    a = np.array(values)
    up = np.random.default_rng(seed).normal(size=a.shape)
    found = []
    with np.errstate(invalid="ignore"):  # the 0·∞ and ∞ − ∞ of the entries left undefined
        expected = np.array([sum(up[j] * np.prod(np.delete(a[:j + 1], i)) for j in range(i, len(a)))
                             for i in range(len(a))])
        for create_graph in (False, True):
            x = gg.tensor(a, requires_grad=True)
            found.append(grad(x.cumprod(0), x, gg.tensor(up), create_graph=create_graph)[0].detach().numpy())
    defined = ~np.isnan(expected)
    np.testing.assert_allclose(found[1][defined], expected[defined], rtol=1e-12)
    np.testing.assert_allclose(found[0][defined], expected[defined], rtol=1e-12)


def test_embedding_scaled_by_frequency_records_its_scaled_rule():
    """``scale_grad_by_freq``: each row's gradient divided by its index's count, a rule that is not the
    derivative of the forward, so the oracle is the rule itself: the recorded ``∂L/∂W`` is linear in the
    upstream ``u``, and its derivative in ``u`` (finite differences) is the same scaled sum. (PyTorch 2.13's
    double backward leaves the division out.)"""
    rng = np.random.default_rng(12)
    table = gg.tensor(rng.normal(size=(5, 3)), dtype=gg.float64, requires_grad=True)
    picks = gg.tensor([[1, 3, 3], [0, 3, 4]])
    upstream = gg.tensor(rng.normal(size=(2, 3, 3)), dtype=gg.float64, requires_grad=True)

    def table_gradient(u):
        with gg.enable_grad():
            return grad(F.embedding(picks, table, scale_grad_by_freq=True), table, u, create_graph=True)[0]

    flat, expected = picks.numpy().reshape(-1), np.zeros((5, 3))
    np.add.at(expected, flat, upstream.numpy().reshape(6, 3) / np.bincount(flat, minlength=5)[flat, None])
    np.testing.assert_allclose(table_gradient(upstream).numpy(), expected, rtol=1e-12)
    report = gg.gradcheck(table_gradient, [upstream])
    assert report.ok, report


@pytest.mark.torch
def test_gradient_penalty_of_a_small_cnn_matches_pytorch(torch):
    """A WGAN-GP-style penalty ``(‖∂D/∂x‖ − 1)²`` through conv, ReLU, max-pool, conv with padding, average
    pool and linear, then backward into every weight: the second derivatives of the window rows."""
    rng = np.random.default_rng(13)
    shapes = [(4, 2, 3, 3), (4,), (3, 4, 3, 3), (3,), (1, 3), (1,)]
    weights, images = [rng.normal(size=s) * 0.5 for s in shapes], rng.normal(size=(2, 2, 8, 8))
    found = []
    for module in (gg, torch):
        cast, functional = _library(module)
        w = [cast(v).requires_grad_() for v in weights]
        x = cast(images).requires_grad_()
        h = functional.max_pool2d(functional.conv2d(x, w[0], w[1]).tanh(), 2)
        h = functional.adaptive_avg_pool2d(functional.conv2d(h, w[2], w[3], padding=1).tanh(), 1).flatten(1)
        score = functional.linear(h, w[4], w[5])
        (slope,) = module.autograd.grad(score.sum(), x, create_graph=True)
        penalty = (((slope.flatten(1) ** 2).sum(dim=1).sqrt() - 1) ** 2).mean()
        penalty.backward()
        found.append([slope, penalty] + [p.grad for p in w[:5]])
    assert found[0][-1] is not None and all(p is not None for p in found[0][2:])
    for mine, theirs in zip(*found):
        close(mine, theirs, 1e-9)


def test_every_row_of_the_table_has_a_recorded_backward():
    """``create_graph=True`` reaches every built-in op: each row gives its rule on tensors too."""
    assert [name for name, row in gg.RULES.items() if row.vjp_tensors is None] == []


def _row_without_a_recorded_backward():
    """``out = 2a`` as a row made without ``vjp_tensors`` (as a user's own row might be)."""
    from glassgrad import ops

    return ops.Op("twice", "out = 2a", ("2·{up}",), lambda a: (2 * a, None), lambda up, saved: (2 * up,))


def test_a_row_without_a_recorded_backward_is_refused_in_one_line():
    """A row made without ``vjp_tensors`` is refused by name under create_graph=True."""
    plain = _row_without_a_recorded_backward()
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="create_graph=True: no second derivative for 'twice' yet") as error:
        grad(apply(plain, (x,), x.array).sum(), x, create_graph=True)
    assert "\n" not in str(error.value)
    assert grad(apply(plain, (x,), x.array).sum(), x)[0].tolist() == [2.0, 2.0]

# --- refusals -------------------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("reduce", [lambda t: t.std(), lambda t: t.std(dim=0), lambda t: t.var(dim=(0, 1)),
                                    lambda t: t.std(dim=1, keepdim=True)])
def test_second_derivatives_of_var_and_std_match_pytorch(torch, reduce):
    values, inner = np.random.default_rng(8).normal(size=(3, 4)), np.random.default_rng(9).normal(size=(3, 4))
    found = []
    for module in (gg, torch):
        cast, _ = _library(module)
        x = cast(values).requires_grad_()
        (first,) = module.autograd.grad((reduce(x) ** 2).sum(), x, create_graph=True)
        (second,) = module.autograd.grad((first * cast(inner)).sum(), x)
        found.append((first, second))
    for mine, theirs in zip(*found):
        close(mine, theirs)


def test_a_variance_without_degrees_of_freedom_is_refused_in_one_line():
    z = gg.tensor([[0.5, 1.0]], requires_grad=True)
    with pytest.warns(UserWarning, match="no degrees of freedom"):
        spread = z.var(dim=0)  # one value per column, correction 1
    with pytest.raises(RuntimeError, match="no second derivative for var/std with no degrees of freedom") as error:
        grad(spread.sum(), z, create_graph=True)
    assert "\n" not in str(error.value)


@pytest.mark.torch
@pytest.mark.parametrize("pick", [lambda t: t[[0, 0, 1]], lambda t: t[t.new_tensor([[2, 0], [2, 2]]).long()],
                                  lambda t: t[1:, [1, 1]]])
def test_indexing_with_repeats_has_pytorchs_second_derivative(torch, pick):
    """Repeated indices: each picked entry's gradient adds up at its place, recorded (a scatter_add)."""
    values, inner = np.random.default_rng(14).normal(size=(3, 2)), np.random.default_rng(15).normal(size=(3, 2))
    found = []
    for module in (gg, torch):
        cast, _ = _library(module)
        x = cast(values).requires_grad_()
        (first,) = module.autograd.grad((pick(x) ** 3).sum(), x, create_graph=True)
        (second,) = module.autograd.grad((first * cast(inner)).sum(), x)
        found.append((first, second))
    for mine, theirs in zip(*found):
        close(mine, theirs)


def test_a_refused_row_beyond_the_inputs_is_never_visited():
    x = gg.tensor([0.5, -0.5], requires_grad=True)
    hidden = apply(_row_without_a_recorded_backward(), (x,), x.array)  # it lies before the input asked for
    (slope,) = grad((hidden ** 3).sum(), hidden, create_graph=True)
    np.testing.assert_allclose(slope.numpy(), 3 * hidden.numpy() ** 2, rtol=1e-6)


def test_create_graph_under_a_tape_keeps_the_trace_of_the_pass():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with gg.trace() as tape:
        y = (x * x).sum()
        grad(y, x, create_graph=True)
    assert [record.op.name for record in tape.forward] == ["mul", "sum"]
    assert [record.op.name for record in tape.backward] == ["sum", "mul"]


@pytest.mark.torch
def test_enable_grad_records_inside_no_grad_as_a_block_and_a_decorator(torch):
    for module in (gg, torch):
        x = module.tensor([1.0, 2.0], requires_grad=True)

        @module.enable_grad()
        def cube(t):
            return (t ** 3).sum()

        with module.no_grad():
            inside = cube(x)
            with module.enable_grad():
                also = (x * x).sum()
            outside = (x * x).sum()
        assert inside.requires_grad and also.requires_grad and not outside.requires_grad
        assert module.autograd.grad(inside, x)[0].tolist() == [3.0, 12.0]
