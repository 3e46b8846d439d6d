"""A differential fuzzer of ``gg.func`` and ``gg.vmap`` against PyTorch 2.13's ``torch.func``, in float64.

Random functions are chains of ops (elementwise, reductions with dims, softmax, matmul, views and transposes,
indexing, cat/stack, where, clamp); each is run through a transform (vmap with in_dims/out_dims/chunk_size,
nested vmap, grad/grad_and_value with argnums and has_aux, jacrev/jacfwd, hessian, vjp, jvp, linearize and their
compositions) on both libraries from the same numbers, and the values, the output's pytree structure and dtypes
are compared; misuse is compared by exception class. Pins cover nn modules through functional_call and
stack_module_state ensembles.
"""

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_func_transforms import _numbers
from test_func_transforms import _same as _same_values

import glassgrad as gg

pytestmark = pytest.mark.torch
_Pair = namedtuple("_Pair", "a b")

# --- random functions ------------------------------------------------------------------------

OPS = {  # name → the op, written once for both libraries (``m`` is glassgrad or torch)
    "sin": lambda m, x: m.sin(x),
    "tanh": lambda m, x: x.tanh(),
    "square": lambda m, x: x * x + x,
    "relu": lambda m, x: m.relu(x),
    "sigmoid": lambda m, x: m.sigmoid(x),
    "clamp": lambda m, x: m.clamp(x, -0.5, 0.7),
    "where": lambda m, x: m.where(x > 0, x, 0.1 * x),
    "sum_keepdim": lambda m, x: x.sum(dim=-1, keepdim=True) if x.dim() > 1 else x,
    "mean0": lambda m, x: x.mean(dim=0) if x.dim() > 1 else x.mean(0, keepdim=True),
    "amax": lambda m, x: x.amax(dim=-1) if x.dim() > 1 else x,
    "logsumexp": lambda m, x: m.logsumexp(x, dim=-1, keepdim=True),
    "softmax": lambda m, x: m.softmax(x, dim=-1),
    "log_softmax0": lambda m, x: m.log_softmax(x, dim=0),
    "transpose": lambda m, x: x.transpose(0, -1),
    "reshape": lambda m, x: x.reshape(-1),
    "unsqueeze": lambda m, x: x.unsqueeze(0),
    "slice": lambda m, x: x[..., :2],
    "first": lambda m, x: x[0] if x.dim() > 1 else x[1:],
    "fancy": lambda m, x: x[..., [0, 0, 1]],
    "cat": lambda m, x: m.cat([x, x * 2], dim=-1),
    "stack": lambda m, x: m.stack([x, x.cos()], dim=0),
    "matmul": lambda m, x: x @ m.ones(x.shape[-1], 3, dtype=x.dtype) / 3 + x[..., :1],
    "gram": lambda m, x: x @ x.transpose(0, -1) if x.dim() == 2 else x,
    "norm": lambda m, x: m.linalg.norm(x, dim=-1, keepdim=True) if x.dim() > 1 else x.norm().reshape(1),
    "cumsum": lambda m, x: x.cumsum(dim=-1),
    "prod": lambda m, x: x.prod(dim=-1, keepdim=True),
    "sort": lambda m, x: m.sort(x, dim=-1)[0],
    "maximum": lambda m, x: m.maximum(x, x.flip(-1)),
    "expand": lambda m, x: x.unsqueeze(0).expand(2, *x.shape),
    "gelu": lambda m, x: m.nn.functional.gelu(x),
}


def _chain(names, scalar=False):
    def f(m, x):
        for name in names:
            x = OPS[name](m, x)
        return x.sum() if scalar else x
    return f


def _same(mine, theirs):
    """test_func_transforms' comparison (nesting, shapes, values), and each tensor's dtype too."""
    _same_values(mine, theirs)
    dtypes = [[part.dtype for part in _numbers(result) if not isinstance(part, tuple)] for result in (mine, theirs)]
    assert dtypes[0] == dtypes[1]


TRANSFORMS = ["vmap", "vmap_vmap", "grad_and_value", "jacrev", "jacfwd", "hessian", "jvp", "linearize", "vjp",
              "vmap_grad", "vmap_jvp", "jacfwd_jacrev", "jacrev_vmap", "argnums"]


def _run(m, transform, f, scalar_f, arrays, dims):
    x, batch, other = (m.tensor(a) for a in arrays)
    in_dim, out_dim, argnums, aux = dims
    func = m.func
    if transform == "vmap":
        return func.vmap(lambda t: f(m, t), in_dims=in_dim, out_dims=out_dim, chunk_size=2)(batch.movedim(0, in_dim))
    if transform == "vmap_vmap":
        return func.vmap(func.vmap(lambda t: f(m, t)), in_dims=(in_dim,))(batch.unsqueeze(1).expand(-1, 2, *x.shape)
                                                                          .movedim(0, in_dim))
    if transform == "grad_and_value":
        return func.grad_and_value(lambda t: scalar_f(m, t))(x)
    if transform in ("jacrev", "jacfwd"):
        return getattr(func, transform)(lambda t: f(m, t))(x)
    if transform == "hessian":
        return func.hessian(lambda t: scalar_f(m, t))(x)
    if transform == "jvp":
        return func.jvp(lambda t: f(m, t), (x,), (other,))
    if transform == "linearize":
        value, jvp_fn = func.linearize(lambda t: f(m, t), x)
        return value, jvp_fn(other)
    if transform == "vjp":
        value, vjp_fn = func.vjp(lambda t: f(m, t), x)
        return value, vjp_fn(value.cos())
    if transform == "vmap_grad":
        return func.vmap(func.grad(lambda t: scalar_f(m, t)))(batch)
    if transform == "vmap_jvp":
        return func.vmap(lambda t, v: func.jvp(lambda s: f(m, s), (t,), (v,)))(batch, batch.sin())
    if transform == "jacfwd_jacrev":
        return func.jacfwd(func.jacrev(lambda t: f(m, t)))(x)
    if transform == "jacrev_vmap":
        return func.jacrev(func.vmap(lambda t: f(m, t)))(batch)

    def two(t, u):  # "argnums": grad or jacrev of a function of two arguments, with and without aux
        out = scalar_f(m, t * u + u)
        return (out, {"doubled": out * 2, "seen": [t]}) if aux else out
    return func.grad(two, argnums=argnums, has_aux=aux)(x, other)


@st.composite
def _cases(draw):
    names = draw(st.lists(st.sampled_from(sorted(OPS)), min_size=1, max_size=4))
    item = tuple(draw(st.lists(st.integers(2, 3), min_size=1, max_size=2)))
    transform = draw(st.sampled_from(TRANSFORMS))
    size = draw(st.integers(1, 3))
    in_dim = draw(st.integers(0, len(item)))
    dims = (in_dim, draw(st.sampled_from([0, -1])), draw(st.sampled_from([0, 1, -1, (0, 1), (1,)])),
            draw(st.booleans()))
    return names, item, transform, size, dims, draw(st.integers(0, 2**16))


@given(case=_cases())
def test_random_functions_through_random_transforms_match_pytorch(torch, case):
    names, item, transform, size, dims, seed = case
    rng = np.random.default_rng(seed)
    arrays = (rng.standard_normal(item), rng.standard_normal((size, *item)), rng.standard_normal(item))
    f, scalar_f = _chain(names), _chain(names, scalar=True)
    results = []
    for m in (gg, torch):
        try:
            results.append(_run(m, transform, f, scalar_f, arrays, dims))
        except Exception as error:  # both must refuse, with one class (a draw whose shapes do not fit)
            results.append(type(error).__name__)
    if isinstance(results[0], str) or isinstance(results[1], str):
        assert results[0] == results[1]
    else:
        _same(*results)


# --- the regressions ------------------------------------------------------------------------

def _product(x, y):
    return x * y


def _product_sum(x, y):
    return (x * y).sum()


@pytest.mark.parametrize("argnums", [0.0, [0, 1], (0, 1.0), "0"])
def test_argnums_that_is_no_int_or_tuple_of_ints_is_refused_with_pytorchs_class(torch, argnums):
    """Before: argnums=0.0 failed on ``tuple(0.0)`` (TypeError: 'float' object is not iterable), and a list was
    taken where PyTorch refuses it."""
    for transform in ("grad_and_value", "jacfwd", "hessian"):
        f = _product if transform == "jacfwd" else _product_sum
        with pytest.raises(RuntimeError, match=r"argnums must be an int or a tuple of ints, got") as raised:
            getattr(gg.func, transform)(f, argnums=argnums)(gg.ones(2), gg.ones(2))
        assert "\n" not in str(raised.value)
        with pytest.raises(RuntimeError):
            getattr(torch.func, transform)(f, argnums=argnums)(torch.ones(2), torch.ones(2))


def test_a_list_argnums_is_told_the_tuple_to_write():
    with pytest.raises(RuntimeError, match=r"got \[0, 1\]; write argnums=\(0, 1\)$"):
        gg.func.grad(lambda x, y: (x * y).sum(), argnums=[0, 1])(gg.ones(2), gg.ones(2))


@pytest.mark.parametrize("call", [
    lambda m: m.func.grad(lambda x: x * 2)(3.0),
    lambda m: m.func.grad_and_value(lambda x, y: x.sum() * y, argnums=1)(m.ones(2), 2.0),
    lambda m: m.func.jacrev(lambda x: x * 2)((m.ones(2), 3.0)),
    lambda m: m.func.jacrev(lambda x, y: x * y, argnums=(0, 1))(m.ones(2), 3.0),
    lambda m: m.func.vjp(lambda x: x * 2, 3.0),
])
def test_a_number_where_a_tensor_is_differentiated_raises_pytorchs_value_error(torch, call):
    """Before: a TypeError, where PyTorch's "Thing passed to transform API must be Tensor" is a ValueError."""
    with pytest.raises(ValueError, match=r"must be a Tensor \(or a tuple/list/dict of Tensors\)"):
        call(gg)
    with pytest.raises(ValueError):
        call(torch)


@pytest.mark.parametrize("transform", ["vmap", "grad", "jacrev", "jacfwd", "vjp", "jvp", "autograd.backward"])
def test_backward_inside_a_transforms_function_is_refused_as_pytorch_refuses_it(torch, transform):
    """Before: vmap called the function once per item, so its ``loss.backward()`` filled ``.grad`` once per item
    (one item: silently) and the second item failed with 'backward through the graph a second time (the pieces
    step ...)'; inside grad or jacrev a retained backward filled ``.grad`` silently."""
    def call(m):
        weight = m.ones(2, requires_grad=True)

        def f(x):
            loss = (x * weight).sum()
            if transform == "autograd.backward":
                m.autograd.backward([loss, loss * 2], retain_graph=True)
            else:
                loss.backward(retain_graph=True)
            return loss if transform in ("grad", "vmap", "autograd.backward") else x * loss
        x = m.ones(2)
        if transform in ("vmap", "autograd.backward"):
            return m.vmap(f)(m.ones(1, 2))
        if transform == "vjp":
            return m.func.vjp(f, x)
        if transform == "jvp":
            return m.func.jvp(f, (x,), (x,))
        return getattr(m.func, transform)(f)(x)
    with pytest.raises(RuntimeError, match=r"^backward\(\) called inside \w+\(f\): .* call backward\(\) on the "
                                           r"transform's result, outside it$"):
        call(gg)
    with pytest.raises(RuntimeError, match="backward"):
        call(torch)


def test_backward_of_a_transforms_result_outside_it_still_works():
    x = gg.ones(3, 2, requires_grad=True)
    gg.vmap(lambda row: row * row)(x).sum().backward()
    assert gg.equal(x.grad, 2 * gg.ones(3, 2))
    gg.func.grad(lambda t: (t ** 3).sum())(x).sum().backward()
    assert gg.equal(x.grad, 8 * gg.ones(3, 2))


@pytest.mark.parametrize("call", [
    lambda m, x: m.vmap(lambda row: row.max(0))(x),
    lambda m, x: m.vmap(lambda row: m.sort(row, descending=True), out_dims=1)(x),
    lambda m, x: m.vmap(lambda row: m.topk(row, 2))(x),
    lambda m, x: m.func.jacrev(lambda t: m.aminmax(t, dim=0))(x),
    lambda m, x: m.func.grad(lambda p: (p.a * p.b).sum())(_Pair(x[0], x[1])),
    lambda m, x: m.vmap(lambda p: _Pair(p.a * p.b, p.b), in_dims=(_Pair(0, None),))(_Pair(x, x[0])),
])
def test_namedtuples_in_and_out_of_the_transforms_keep_their_type_as_in_pytorch(torch, call):
    """Before: vmap of a function returning ``x.max(0)`` or a sort's ``(values, indices)`` raised 'must only return
    Tensors, got type MinMax', where PyTorch returns its namedtuple batched; a namedtuple argument was refused by
    grad and could not be mapped."""
    x = np.random.default_rng(11).standard_normal((3, 4))
    mine, theirs = call(gg, gg.tensor(x)), call(torch, torch.tensor(x))
    assert isinstance(mine, tuple) and hasattr(type(mine), "_fields")  # a namedtuple, fields named as PyTorch's
    _same(tuple(mine), tuple(getattr(theirs, field) for field in mine._fields))


def test_a_plain_tuple_of_out_dims_for_a_namedtuple_output_is_refused_as_in_pytorch(torch):
    for m in (gg, torch):
        with pytest.raises(ValueError, match="out_dims"):
            m.vmap(lambda row: row.sort(), out_dims=(0, 1))(m.ones(3, 4))


@pytest.mark.parametrize("returned", [lambda x: None, lambda x: (x, None), lambda x: {"a": [x.sum(), None]}])
def test_vmap_of_a_function_returning_none_is_refused_as_in_pytorch(torch, returned):
    """Before: vmap of a function that forgot its return gave None without a word (PyTorch: ValueError)."""
    with pytest.raises(ValueError, match=r"must only return Tensors, got None.*; set out_dims to None") as raised:
        gg.vmap(returned)(gg.ones(3, 2))
    assert "\n" not in str(raised.value)
    with pytest.raises(ValueError, match="must only return Tensors"):
        torch.vmap(returned)(torch.ones(3, 2))
    assert gg.vmap(lambda x: None, out_dims=None)(gg.ones(3, 2)) is torch.vmap(lambda x: None, out_dims=None)(
        torch.ones(3, 2)) is None


# --- pins: what already behaved --------------------------------------------------------------

def _pair(torch, call):
    """``call`` on both libraries: (glassgrad's result or exception class, PyTorch's)."""
    results = []
    for m in (gg, torch):
        m.set_default_dtype(m.float64)
        try:
            results.append(call(m))
        except Exception as error:
            results.append(type(error))
        finally:
            m.set_default_dtype(m.float32)
    return results


X = np.random.default_rng(0).standard_normal((3, 4))
W = np.random.default_rng(1).standard_normal(4)

MISUSE = {
    "in_dims a list": lambda m: m.vmap(lambda x: x, in_dims=[0])(m.tensor(X)),
    "in_dims None": lambda m: m.vmap(lambda x: x, in_dims=None)(m.tensor(X)),
    "in_dims too many": lambda m: m.vmap(lambda x: x, in_dims=(0, 0))(m.tensor(X)),
    "in_dim out of range": lambda m: m.vmap(lambda x: x, in_dims=-3)(m.tensor(X)),
    "in_dim for a number": lambda m: m.vmap(lambda x, a: x * a, in_dims=(0, 0))(m.tensor(X), 2.0),
    "a 0-d tensor mapped": lambda m: m.vmap(lambda x: x)(m.tensor(3.0)),
    "batch sizes differ": lambda m: m.vmap(lambda x, y: x.sum() + y.sum())(m.tensor(X), m.ones(2, 2)),
    "no inputs": lambda m: m.vmap(lambda: m.ones(2))(),
    "out_dims too short": lambda m: m.vmap(lambda x: (x, x.sum()), out_dims=(1,))(m.tensor(X)),
    "out_dims a float": lambda m: m.vmap(lambda x: x, out_dims=1.0)(m.tensor(X)),
    "out_dim out of range": lambda m: m.vmap(lambda x: x, out_dims=3)(m.tensor(X)),
    "out_dims None for a batched output": lambda m: m.vmap(lambda x: (x.sum(), x[0]), out_dims=(None, 0))(m.tensor(X)),
    "a float returned": lambda m: m.vmap(lambda x: 1.0)(m.tensor(X)),
    "chunk_size 0": lambda m: m.vmap(lambda x: x, chunk_size=0)(m.tensor(X)),
    "randn with randomness='error'": lambda m: m.vmap(lambda x: x + m.randn(4))(m.tensor(X)),
    "dropout with randomness='error'": lambda m: m.vmap(lambda x: m.nn.functional.dropout(x, 0.5))(m.tensor(X)),
    "unmapped input written with a batched value": lambda m: m.vmap(lambda x, w: w.add_(x), in_dims=(0, None))(
        m.tensor(X), m.tensor(W)),
    "grad of a vector": lambda m: m.func.grad(lambda x: x * 2)(m.tensor(W)),
    "grad of a tuple": lambda m: m.func.grad(lambda x: (x.sum(), x.sum()))(m.tensor(W)),
    "argnums out of range": lambda m: m.func.grad(lambda x: x.sum(), argnums=-2)(m.tensor(W)),
    "argnums repeated": lambda m: m.func.grad(lambda x, y: x.sum(), argnums=(0, 0))(m.tensor(W), m.tensor(W)),
    "argnums empty": lambda m: m.func.jacrev(lambda x: x, argnums=())(m.tensor(W)),
    "has_aux without a pair": lambda m: m.func.grad(lambda x: (x.sum(), 1, 2), has_aux=True)(m.tensor(W)),
    "an integer input": lambda m: m.func.grad(lambda x: (x * 2).sum())(m.tensor([1, 2])),
    "cotangent of another shape": lambda m: m.func.vjp(lambda x: x.sin(), m.tensor(W))[1](m.ones(3)),
    "cotangent of another structure": lambda m: m.func.vjp(lambda x: x.sin(), m.tensor(W))[1]((m.ones(4),)),
    "jvp primals a list": lambda m: m.func.jvp(lambda x: x.sin(), [m.tensor(W)], [m.ones(4)]),
    "jvp tangent of another shape": lambda m: m.func.jvp(lambda x: x.sin(), (m.tensor(W),), (m.ones(3),)),
    "linearize tangent of another shape": lambda m: m.func.linearize(lambda x: x.sin(), m.tensor(W))[1](m.ones(3)),
    "jacrev chunk_size 0": lambda m: m.func.jacrev(lambda x: x.sin(), chunk_size=0)(m.tensor(W)),
    "jacfwd randomness": lambda m: m.func.jacfwd(lambda x: x, randomness="sometimes")(m.tensor(W)),
    "stack_module_state of nothing": lambda m: m.func.stack_module_state([]),
}


@pytest.mark.parametrize("name", MISUSE)
def test_misuse_raises_pytorchs_exception_class_in_one_line(torch, name):
    mine, theirs = _pair(torch, MISUSE[name])
    assert isinstance(mine, type) and mine is theirs, (mine, theirs)


@pytest.mark.parametrize("out_dims", [({"f": 0, "g": (0, -1)}, -1), ({"f": -1, "g": 1}, 0), 1])
@pytest.mark.parametrize("z_dim", [-1, 2])
def test_vmap_over_dicts_and_tuples_with_nested_in_dims_and_out_dims_matches_pytorch(torch, out_dims, z_dim):
    rng = np.random.default_rng(3)
    a, c, z = rng.standard_normal((2, 3, 2)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2, 2))

    def f(m, d, t):
        r = m.softmax(d["a"] * d["c"] + t, dim=-1)
        return {"f": r, "g": (r.sum(0), d["c"] * t[0, 0])}, t.tanh()

    mine, theirs = _pair(torch, lambda m: m.vmap(lambda d, t: f(m, d, t), in_dims=({"a": 0, "c": None}, z_dim),
                                                 out_dims=out_dims)({"a": m.tensor(a), "c": m.tensor(c)},
                                                                    m.tensor(z)))
    _same(mine, theirs)


def test_randomness_same_repeats_the_draws_for_every_item_and_different_does_not():
    x = gg.ones(4, 6)
    same = gg.vmap(lambda r: gg.nn.functional.dropout(r, 0.5) + gg.randn(6), randomness="same")(x)
    different = gg.vmap(lambda r: gg.nn.functional.dropout(r, 0.5) + gg.randn(6), randomness="different")(x)
    assert all(gg.equal(row, same[0]) for row in same)
    assert not all(gg.equal(row, different[0]) for row in different)
    assert gg.equal(gg.vmap(lambda r: gg.nn.functional.dropout(r, 0.5, training=False))(x), x)


def _net(m, seed=0):
    net = m.nn.Sequential(m.nn.Linear(4, 3), m.nn.Tanh(), m.nn.Linear(3, 2)).double()
    with m.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_(m.tensor(np.random.default_rng(100 * seed + i).standard_normal(tuple(p.shape))))
    return net


def test_per_sample_gradients_and_an_ensemble_through_functional_call_match_pytorch(torch):
    y = np.random.default_rng(5).standard_normal((3, 2))

    def both(m):
        net = _net(m)
        params = {name: p.detach() for name, p in net.named_parameters()}

        def loss(p, x, t):
            return ((m.func.functional_call(net, p, (x.unsqueeze(0),)) - t) ** 2).mean()
        per_sample = m.vmap(m.func.grad(loss), in_dims=(None, 0, 0))(params, m.tensor(X), m.tensor(y))
        stacked, buffers = m.func.stack_module_state([_net(m, seed) for seed in range(3)])
        out = m.vmap(lambda p, b, x: m.func.functional_call(net, (p, b), (x,)), in_dims=(0, 0, None))(
            stacked, buffers, m.tensor(X))
        out.square().sum().backward()
        return per_sample, out, {name: p.grad for name, p in stacked.items()}, buffers
    _same(*_pair(torch, both))


@pytest.mark.parametrize("given, tie_weights", [({"enc.weight": 0.5}, True), ({"dec.weight": 0.5}, True),
                                                ({"dec.weight": 0.5}, False),
                                                ({"enc.weight": 0.5, "dec.weight": 2.0}, False),
                                                ({"enc.weight": 0.5, "dec.weight": 2.0}, True)])
def test_functional_call_with_tied_weights_and_its_gradient_match_pytorch(torch, given, tie_weights):
    def both(m):
        class Tied(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.enc, self.dec = m.nn.Linear(4, 4, bias=False).double(), m.nn.Linear(4, 4).double()
                self.dec.weight = self.enc.weight

            def forward(self, x):
                return self.dec(self.enc(x).tanh())
        model = Tied()
        with m.no_grad():
            model.enc.weight.copy_(m.tensor(np.random.default_rng(7).standard_normal((4, 4))))
            model.dec.bias.zero_()
        tensors = {name: m.eye(4, dtype=m.float64) * scale for name, scale in given.items()}
        return m.func.grad(lambda t: m.func.functional_call(model, t, (m.tensor(X),), tie_weights=tie_weights)
                           .sum())(tensors)
    mine, theirs = _pair(torch, both)
    if isinstance(theirs, type):
        assert mine is theirs
    else:
        _same(mine, theirs)


def test_jacfwd_with_a_negative_argnums_is_jacrev_where_pytorchs_gives_zeros(torch):
    """A PyTorch 2.13 quirk the fuzzer met: its jacfwd with argnums=-1 returns zeros; glassgrad's is the Jacobian
    (PyTorch's jacrev and its jacfwd with argnums=1 agree with it)."""
    x, y = np.random.default_rng(8).standard_normal((2, 3))

    def f(m):
        return lambda a, b: m.linalg.norm(a * b + b, dim=-1, keepdim=True)
    mine = gg.func.jacfwd(f(gg), argnums=-1)(gg.tensor(x), gg.tensor(y))
    assert not torch.func.jacfwd(f(torch), argnums=-1)(torch.tensor(x), torch.tensor(y)).any()
    _same(mine, torch.func.jacrev(f(torch), argnums=1)(torch.tensor(x), torch.tensor(y)))


@pytest.mark.parametrize("out_dim", [1, -1])
def test_an_output_no_item_changes_is_stacked_at_any_out_dim_where_pytorch_fails_to_expand_it(torch, out_dim):
    """A PyTorch 2.13 quirk the fuzzer met: vmap returning a tensor computed from no mapped input, with an out_dim
    other than 0, fails in its expand; glassgrad gives that output repeated along out_dim, which is PyTorch's
    out_dim=0 result moved there."""
    c = np.random.default_rng(9).standard_normal((3, 2))
    mine = gg.vmap(lambda x: gg.tensor(c) * 2, out_dims=out_dim)(gg.ones(4))
    with pytest.raises(RuntimeError):
        torch.vmap(lambda x: torch.tensor(c) * 2, out_dims=out_dim)(torch.ones(4))
    _same(mine, torch.vmap(lambda x: torch.tensor(c) * 2)(torch.ones(4)).movedim(0, out_dim))


def test_per_sample_gradients_of_conv_embedding_and_attention_models_match_pytorch(torch):
    """vmap(grad_and_value) over functional_call of small models, PyTorch's weights loaded into glassgrad's."""
    rng = np.random.default_rng(12)
    cases = {  # a model, its per-example input, how the output is read
        "conv": (lambda nn: nn.Sequential(nn.Conv1d(2, 3, 2), nn.ReLU(), nn.Flatten(0), nn.Linear(6, 3)),
                 rng.standard_normal((3, 2, 3)), lambda out: out),
        "embedding": (lambda nn: nn.Sequential(nn.Embedding(7, 4), nn.Flatten(0), nn.Linear(12, 3)),
                      rng.integers(0, 7, (3, 3)), lambda out: out),
        "attention": (lambda nn: nn.MultiheadAttention(4, 2, batch_first=True), rng.standard_normal((3, 3, 4)),
                      lambda out: out[0][0, -1, :3]),
    }
    targets = rng.standard_normal((3, 3))
    for build, inputs, read in cases.values():
        torch.manual_seed(0)
        theirs_model = build(torch.nn).double()
        mine_model = build(gg.nn).double()
        mine_model.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in theirs_model.state_dict().items()})
        _same(*(_per_sample_gradients(m, model, read, inputs, targets)
                for m, model in ((gg, mine_model), (torch, theirs_model))))


def _per_sample_gradients(m, model, read, inputs, targets):
    def loss(p, x, y):
        call_args = (x.unsqueeze(0),) * 3 if isinstance(model, m.nn.MultiheadAttention) else (x,)
        return ((read(m.func.functional_call(model, p, call_args)) - y) ** 2).sum()
    params = {name: p.detach() for name, p in model.named_parameters()}
    return m.vmap(m.func.grad_and_value(loss), in_dims=(None, 0, 0))(params, m.tensor(inputs), m.tensor(targets))
