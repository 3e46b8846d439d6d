"""``vmap`` as learners use it, and parametrizations that change a tensor's shape, against PyTorch 2.13 in float64.

vmap: batched matmul/linear/conv/embedding/cross_entropy/softmax/layer_norm/where/index ops with drawn batch sizes,
shapes, in_dims and out_dims (negative too) and chunk sizes; per-sample gradients (``vmap(grad(loss))`` through
``functional_call``), ensembles (``stack_module_state``), ``jacrev``/``jacfwd``/``hessian`` under vmap, nested
in_dims/out_dims with None, and dropout under each ``randomness``. All of these matched before this round.

Parametrizations, where glassgrad differed (before the fixes): a ``right_inverse`` returning one tensor of another
shape (the original stored flat, the forward reshaping it back) was refused without ``unsafe`` (the check compared
the value with the original after the original had taken its new shape); assigning a value of another shape
(``layer.weight = w``) was refused without ``unsafe``, where PyTorch checks only the dtype; a second
parametrization's ``right_inverse`` was given the current value rather than that parametrization's output;
``remove_parametrizations`` of a tensor made from several originals kept a parameter where PyTorch leaves a buffer
(originals that do not require grad, or removal under ``no_grad``); ``functional_call`` with a parametrized name
said the name did not exist rather than naming ``parametrizations.<name>.original``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_vmap_census95 import _both  # make(m) on both libraries: results, or the exceptions' classes

import glassgrad as gg

pytestmark = pytest.mark.torch


def _close(ours, theirs):
    if isinstance(ours, (tuple, list)):
        assert isinstance(theirs, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b)
        return
    if isinstance(ours, dict):
        assert sorted(ours) == sorted(theirs)
        for key in ours:
            _close(ours[key], theirs[key])
        return
    if not hasattr(theirs, "detach"):
        assert ours == theirs
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def _agree(torch, make):
    ours, theirs = _both(torch, make)
    assert not isinstance(ours, type) and not isinstance(theirs, type), (ours, theirs)
    _close(ours, theirs)


# --- vmap: batched ops with drawn shapes and dims ----------------------------------------------------------------

def _ops(m):
    """name → (the op for one item, the item shapes, integer inputs as (shape, high))."""
    F = m.nn.functional
    return {
        "matmul": (lambda a, b: a @ b, [(2, 3), (3, 4)], []),
        "linear": (lambda a, w, b: F.linear(a, w, b), [(5, 3), (2, 3), (2,)], []),
        "conv2d": (lambda a, w: F.conv2d(a, w, padding=1), [(1, 2, 4, 4), (3, 2, 3, 3)], []),
        "softmax": (lambda a: F.softmax(a, dim=-1), [(3, 4)], []),
        "log_softmax": (lambda a: a.log_softmax(0), [(3, 4)], []),
        "layer_norm": (lambda a, g, b: F.layer_norm(a, (4,), g, b), [(3, 4), (4,), (4,)], []),
        "where": (lambda a, b: m.where(a > 0, a, b), [(3, 4), (3, 4)], []),
        "embedding": (lambda w, i: F.embedding(i, w), [(5, 3)], [((4,), 5)]),
        "cross_entropy": (lambda a, t: F.cross_entropy(a, t, label_smoothing=0.1), [(4, 5)], [((4,), 5)]),
        "gather": (lambda a, i: a.gather(1, i), [(3, 4)], [((3, 2), 4)]),
        "index": (lambda a, i: a[i, 1:], [(4, 3)], [((2,), 4)]),
        "scatter_add": (lambda a, i: m.zeros(5, dtype=a.dtype).scatter_add(0, i, a), [(4,)], [((4,), 5)]),
    }


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(_ops(gg))), st.integers(1, 4), st.data())
def test_property_batched_ops_under_vmap_match_pytorch(torch, name, batch, data):
    """Each input mapped along a drawn dim (negative too) or not at all (None), a drawn out_dim and chunk_size."""
    floats, ints = _ops(gg)[name][1:]
    shapes = floats + [shape for shape, _ in ints]
    dims = [data.draw(st.one_of(st.none(), st.integers(-len(s) - 1, len(s)))) for s in shapes]
    if all(dim is None for dim in dims):
        dims[0] = 0
    out_dim = data.draw(st.sampled_from([0, -1]))
    chunk = data.draw(st.sampled_from([None, 1, 2]))
    rng = np.random.default_rng(batch * 7 + len(name))
    arrays = [rng.standard_normal(s) for s in floats] + [rng.integers(0, high, s) for s, high in ints]
    batched = [a if d is None else np.moveaxis(np.stack([a * (k + 1) if a.dtype.kind == "f" else (a + k) % high
                                                         for k in range(batch)]), 0, d)
               for a, d, high in zip(arrays, dims, [None] * len(floats) + [h for _, h in ints])]
    ours, theirs = _both(torch, lambda m: m.func.vmap(_ops(m)[name][0], in_dims=tuple(dims), out_dims=out_dim,
                                                      chunk_size=chunk)(*[m.tensor(a) for a in batched]))
    if theirs is RuntimeError:  # PyTorch's batching rule refuses (cross_entropy's label smoothing of unmapped
        # logits and mapped targets writes in place): vmap's definition, torch on each item, stacked, is the oracle
        items = [[torch.tensor(a if d is None else np.take(a, k, axis=d)) for a, d in zip(batched, dims)]
                 for k in range(batch)]
        theirs = torch.stack([_ops(torch)[name][0](*item) for item in items], out_dim)
    _close(ours, theirs)


def _mlp(m):
    m.manual_seed(0)
    net = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.Tanh(), m.nn.Linear(4, 2)).double()
    with m.no_grad():
        for number, p in enumerate(net.parameters()):
            p.copy_(m.tensor(np.random.default_rng(10 + number).standard_normal(tuple(p.shape))))
    return net


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 6))
def test_property_per_sample_gradients_and_ensembles_match_pytorch(torch, batch):
    rng = np.random.default_rng(batch)
    x, y = rng.standard_normal((batch, 3)), rng.integers(0, 2, batch)

    def per_sample(m):
        net = _mlp(m)
        params = {k: v.detach() for k, v in net.named_parameters()}

        def loss(p, a, t):
            return m.nn.functional.cross_entropy(m.func.functional_call(net, p, (a.unsqueeze(0),)), t.unsqueeze(0))

        grads = m.func.vmap(m.func.grad(loss), in_dims=(None, 0, 0))(params, m.tensor(x), m.tensor(y))
        both = m.func.vmap(m.func.grad_and_value(loss, argnums=(0, 1)), in_dims=(None, 0, 0), chunk_size=2)(
            params, m.tensor(x), m.tensor(y))
        return grads, both

    def ensemble(m):
        nets = [_mlp(m) for _ in range(batch)]
        for k, net in enumerate(nets):
            with m.no_grad():
                for p in net.parameters():
                    p.mul_(k + 1)
        params, buffers = m.func.stack_module_state(nets)
        call = lambda p, b, a: m.func.functional_call(nets[0], (p, b), (a,))  # noqa: E731
        shared = m.func.vmap(call, in_dims=(0, 0, None))(params, buffers, m.tensor(x))
        shared.pow(2).sum().backward()
        each = m.func.vmap(call)(params, buffers, m.tensor(x)[:, None])
        return shared, each, [params[k].grad for k in sorted(params)]

    _agree(torch, per_sample)
    _agree(torch, ensemble)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4))
def test_property_jacobians_and_hessians_under_vmap_match_pytorch(torch, batch, size):
    rng = np.random.default_rng(batch * 5 + size)
    x, w, z = rng.standard_normal((batch, size)), rng.standard_normal((2, size)), rng.standard_normal((batch, 3))
    _agree(torch, lambda m: (
        m.func.vmap(m.func.jacrev(lambda a: a.sin() * a.sum()))(m.tensor(x)),
        m.func.vmap(m.func.jacfwd(lambda a, v: (v @ a).tanh(), argnums=(0, 1)), in_dims=(0, None))(m.tensor(x),
                                                                                                    m.tensor(w)),
        m.func.vmap(m.func.hessian(lambda a: (a ** 3).sum() * a[0]), in_dims=-1, out_dims=-1)(m.tensor(x.T.copy())),
        m.func.vmap(m.func.jacrev(_mlp(m)))(m.tensor(z)),
    ))


def test_nested_in_dims_and_out_dims_with_none_match_pytorch(torch):
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal((3, 2)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    _agree(torch, lambda m: (
        m.func.vmap(lambda d: d["a"] * d["b"], in_dims=({"a": 0, "b": None},))({"a": m.tensor(a), "b": m.tensor(c)}),
        m.func.vmap(lambda t: t[0] + t[1][0] * t[1][1], in_dims=((0, (1, None)),))(
            (m.tensor(a), (m.tensor(b), m.tensor(c)))),
        m.func.vmap(lambda u, v: (u * 2, v), in_dims=(0, None), out_dims=(0, None))(m.tensor(a), m.tensor(c)),
        m.func.vmap(lambda u: {"x": u, "y": (u.sum(), u * 3)}, out_dims={"x": 1, "y": (0, -1)})(m.tensor(a)),
        m.func.vmap(m.func.vmap(m.dot, in_dims=(0, None)), in_dims=(None, 0), out_dims=-1)(m.tensor(b.T.copy()),
                                                                                           m.tensor(a)),
    ))


@pytest.mark.parametrize("randomness", ["error", "same", "different"])
def test_dropout_under_each_randomness_behaves_as_pytorch(torch, randomness):
    """Dropout that draws nothing (p=0, eval) works under every mode; one that draws is refused under 'error';
    'same' gives every item one mask and 'different' items their own (4 rows of 6 fair draws all agreeing has
    probability 2⁻⁷² ≪ 1e-9)."""
    _agree(torch, lambda m: (m.func.vmap(lambda a: m.nn.functional.dropout(a, 0.0), randomness=randomness)(
        m.ones(4, 6, dtype=m.float64)), m.func.vmap(m.nn.Dropout(0.3).eval(), randomness=randomness)(
        m.ones(4, 6, dtype=m.float64))))
    for m in (gg, torch):
        m.manual_seed(0)
        mapped = m.func.vmap(m.nn.functional.dropout, randomness=randomness)
        if randomness == "error":
            with pytest.raises(RuntimeError):
                mapped(m.ones(4, 6, dtype=m.float64))
            continue
        rows = mapped(m.ones(4, 6, dtype=m.float64))
        assert all(bool((rows[0] == rows[k]).all()) for k in range(4)) == (randomness == "same")


# --- parametrizations that change shape --------------------------------------------------------------------------

def _kinds(m):
    """Parametrizations written once for both libraries."""

    class Flat(m.nn.Module):  # the original is stored flat; the forward gives the (4, 3) weight back
        def forward(self, x):
            return x.reshape(4, 3)

        def right_inverse(self, w):
            return w.reshape(-1)

    class Same(m.nn.Module):
        def forward(self, x):
            return x

        def right_inverse(self, w):
            return w

    class Outer(m.nn.Module):  # two originals: a column and a row, weight = a @ b
        def forward(self, a, b):
            return a @ b

        def right_inverse(self, w):
            return w[:, :1].clone(), w[:1, :].clone()

    class Scale(m.nn.Module):
        def forward(self, x):
            return 2 * x

        def right_inverse(self, w):
            return w / 2

    class SymmetricChecked(m.nn.Module):  # its right_inverse takes only what its forward can give
        def forward(self, x):
            return (x + x.T) / 2

        def right_inverse(self, w):
            if not bool((w == w.T).all()):
                raise ValueError("not symmetric")
            return w

    return {"flat": Flat, "same": Same, "outer": Outer, "scale": Scale, "symmetric": SymmetricChecked}


def _layer(m, rows=4, cols=3, bias=True):
    layer = m.nn.Linear(cols, rows, bias=bias).double()
    with m.no_grad():
        layer.weight.copy_(m.tensor(np.arange(rows * cols, dtype=float).reshape(rows, cols) / 7 - 0.5))
        if bias:
            layer.bias.copy_(m.tensor(np.arange(rows, dtype=float) / 3))
    return layer


def _step(m, layer, x):
    """One forward and backward: the output, each parameter's gradient, the state dict's names."""
    out = layer(m.tensor(x))
    (out ** 2).sum().backward()
    return out, {name: p.grad for name, p in layer.named_parameters()}, sorted(layer.state_dict())


def test_a_right_inverse_that_stores_the_original_flat_is_taken_without_unsafe_as_pytorch(torch):
    """Before: refused ('(12,) float64 became (4, 3)'): the check compared the forward's (4, 3) with the original
    after it had become (12,). PyTorch checks the forward against the tensor's shape before registration."""
    x = np.random.default_rng(1).standard_normal((5, 3))

    def run(m):
        layer = m.nn.utils.parametrize.register_parametrization(_layer(m), "weight", _kinds(m)["flat"]())
        original = layer.parametrizations.weight.original
        state = {k: v * 3 for k, v in layer.state_dict().items()}
        layer.load_state_dict(state)
        result = (tuple(original.shape), layer.weight, _step(m, layer, x))
        removed = [m.nn.utils.parametrize.remove_parametrizations(
            m.nn.utils.parametrize.register_parametrization(_layer(m), "weight", _kinds(m)["flat"]()), "weight",
            leave_parametrized=leave).weight for leave in (True, False)]
        return result, removed

    _agree(torch, run)


@pytest.mark.parametrize("unsafe", [False, True])
def test_assigning_a_value_of_another_shape_sets_the_original_as_pytorch(torch, unsafe):
    """Before: refused without unsafe ('right_inverse may not change the tensor's shape'); PyTorch's assignment
    checks only the dtype, and the original takes the new shape (the same parameter object)."""
    def run(m):
        parametrize = m.nn.utils.parametrize
        layer = parametrize.register_parametrization(_layer(m, bias=False), "weight", _kinds(m)["same"](),
                                                     unsafe=unsafe)
        original = layer.parametrizations.weight.original
        layer.weight = m.tensor(np.arange(6.0).reshape(2, 3))
        step = _step(m, layer, np.linspace(-1, 1, 6).reshape(2, 3))
        several = parametrize.register_parametrization(_layer(m), "weight", _kinds(m)["outer"](), unsafe=unsafe)
        several.weight = m.tensor(np.arange(10.0).reshape(5, 2))
        originals = several.parametrizations.weight
        return (layer.weight, layer.parametrizations.weight.original is original, step, several.weight,
                originals.original0, originals.original1)

    _agree(torch, run)


def test_assigning_another_dtype_is_refused_as_pytorch(torch):
    def run(m):
        layer = m.nn.utils.parametrize.register_parametrization(_layer(m), "weight", _kinds(m)["same"](), unsafe=True)
        layer.weight = m.ones(4, 3, dtype=m.float32)

    assert _both(torch, run) == [ValueError, ValueError]


@pytest.mark.parametrize("how", ["frozen", "buffer", "no_grad", "learned"])
def test_removing_a_tensor_made_from_several_originals_leaves_what_pytorch_leaves(torch, how):
    """PyTorch keeps the value in a new parameter only when it requires grad (the originals do, grad mode on), else
    in a buffer. Before: glassgrad kept a parameter whenever the originals were parameters."""
    def run(m):
        parametrize = m.nn.utils.parametrize
        layer = _layer(m)
        if how == "frozen":
            layer.weight.requires_grad_(False)
        if how == "buffer":
            value = layer.weight.detach().clone()
            del layer.weight
            layer.register_buffer("weight", value)
        parametrize.register_parametrization(layer, "weight", _kinds(m)["outer"]())
        if how == "no_grad":
            with m.no_grad():
                parametrize.remove_parametrizations(layer, "weight")
        else:
            parametrize.remove_parametrizations(layer, "weight")
        return (layer.weight, isinstance(layer.weight, m.nn.Parameter), layer.weight.requires_grad,
                sorted(name for name, _ in layer.named_buffers()), sorted(name for name, _ in layer.named_parameters()))

    _agree(torch, run)


def test_a_stacked_parametrizations_right_inverse_is_given_its_forwards_output_as_pytorch(torch):
    """Before: the check gave right_inverse the current (not symmetric) weight and it raised; PyTorch gives it
    P(weight), a value the parametrization can produce."""
    def run(m):
        parametrize = m.nn.utils.parametrize
        layer = parametrize.register_parametrization(_layer(m, 3, 3), "weight", _kinds(m)["scale"]())
        parametrize.register_parametrization(layer, "weight", _kinds(m)["symmetric"]())
        return layer.weight, _step(m, layer, np.ones((2, 3)))

    _agree(torch, run)


def test_functional_call_with_a_parametrized_name_names_the_original_in_one_line():
    """PyTorch puts the value through right_inverse and P, and its gradient lands on the layer's original, not on
    the tensor passed (a silent wrong gradient for vmap(grad(...))); glassgrad refuses, naming the key to pass."""
    layer = gg.nn.Sequential(gg.nn.utils.parametrize.register_parametrization(_layer(gg), "weight",
                                                                              _kinds(gg)["scale"]()))
    with pytest.raises(RuntimeError, match=r"^functional_call: '0.weight' is computed by a parametrization .*pass "
                                           r"0.parametrizations.weight.original \(original0") as error:
        gg.func.functional_call(layer, {"0.weight": gg.ones(4, 3, dtype=gg.float64)},
                                (gg.ones(1, 3, dtype=gg.float64),))
    assert "\n" not in str(error.value)
    out = gg.func.functional_call(layer, {"0.parametrizations.weight.original": gg.ones(4, 3, dtype=gg.float64)},
                                  (gg.ones(1, 3, dtype=gg.float64),))
    assert out.tolist() == [[6.0 + b for b in (0, 1 / 3, 2 / 3, 1.0)]]


def _unsafe_kinds(m, keep, extra):
    class Rows(m.nn.Module):  # (r, c) → (keep, c): no right_inverse
        def forward(self, x):
            return x[:keep]

    class Pad(m.nn.Module):  # (r, c) → (r, c + extra); right_inverse drops the columns again
        def forward(self, x):
            return m.cat([x, 3 * x[:, :extra]], 1)

        def right_inverse(self, w):
            return w[:, :w.shape[1] - extra]

    return Rows, Pad


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 4), st.integers(2, 4), st.data())
def test_property_unsafe_shape_changing_parametrizations_train_as_pytorch(torch, rows, cols, data):
    """Rows (no right_inverse) and a chain scale → same → pad registered with unsafe=True on drawn shapes: the weight,
    a step's output and the originals' gradients, the state dict's names, cached reads, remove_parametrizations."""
    keep, extra = data.draw(st.integers(1, rows)), data.draw(st.integers(1, cols))
    x = np.random.default_rng(rows * 10 + cols).standard_normal((3, cols))

    def run(m):
        parametrize = m.nn.utils.parametrize
        Rows, Pad = _unsafe_kinds(m, keep, extra)
        cut = parametrize.register_parametrization(_layer(m, rows, cols, bias=False), "weight", Rows(), unsafe=True)
        chain = _layer(m, rows, cols, bias=False)
        parametrize.register_parametrization(chain, "weight", _kinds(m)["scale"]())
        parametrize.register_parametrization(chain, "weight", _kinds(m)["same"]())
        parametrize.register_parametrization(chain, "weight", Pad(), unsafe=True)
        wide = m.tensor(np.random.default_rng(0).standard_normal((3, cols + extra)))
        with parametrize.cached():
            cached_once = chain.weight is chain.weight
            out = (m.nn.functional.linear(wide, chain.weight) ** 2).sum() + (m.nn.functional.linear(wide, chain.weight)
                                                                             ).sum()
        out.backward()
        chain.weight = m.tensor(np.arange(rows * (cols + extra), dtype=float).reshape(rows, cols + extra))
        removed = [parametrize.remove_parametrizations(parametrize.register_parametrization(
            _layer(m, rows, cols, bias=False), "weight", Rows(), unsafe=True), "weight", leave_parametrized=leave)
            .weight for leave in (True, False)]
        return (_step(m, cut, x), cached_once, out, chain.parametrizations.weight.original.grad, chain.weight,
                chain.parametrizations.weight.original, sorted(chain.state_dict()), removed)

    _agree(torch, run)


@pytest.mark.parametrize("kind", ["flat", "outer", "pad"])
def test_per_sample_gradients_of_a_parametrized_layers_originals_match_pytorch(torch, kind):
    x = np.random.default_rng(3).standard_normal((4, 3))

    def run(m):
        parametrize = m.nn.utils.parametrize
        if kind == "pad":
            layer = _layer(m)  # the original keeps the first 2 columns; the weight is made (4, 3) again
            parametrize.register_parametrization(layer, "weight", _unsafe_kinds(m, 4, 1)[1](), unsafe=True)
        else:
            layer = parametrize.register_parametrization(_layer(m), "weight", _kinds(m)[kind]())
        params = {k: v.detach() for k, v in layer.named_parameters()}
        loss = lambda p, a: (m.func.functional_call(layer, p, (a,)) ** 2).sum()  # noqa: E731
        return m.func.vmap(m.func.grad(loss), in_dims=(None, 0))(params, m.tensor(x))

    _agree(torch, run)


@pytest.mark.parametrize("case", ["forward_shape", "forward_dtype", "right_inverse_dtype", "stacked_shape",
                                  "stacked_right_inverse_shape", "several_length", "leave_several"])
def test_refusals_have_pytorchs_classes(torch, case):
    def run(m):
        parametrize = m.nn.utils.parametrize
        layer = _layer(m)
        Rows, Pad = _unsafe_kinds(m, 2, 1)

        class Cast(m.nn.Module):  # changes the dtype, no right_inverse
            def forward(self, x):
                return x.float()

        class Half(Cast):
            def right_inverse(self, w):
                return w.float()

        class Flatten(m.nn.Module):
            def forward(self, x):
                return x

            def right_inverse(self, w):
                return w.reshape(-1)

        if case == "forward_shape":
            parametrize.register_parametrization(layer, "weight", Rows())
        elif case == "forward_dtype":
            parametrize.register_parametrization(layer, "weight", Cast())
        elif case == "right_inverse_dtype":
            parametrize.register_parametrization(layer, "weight", Half(), unsafe=True)
        elif case == "stacked_shape":
            parametrize.register_parametrization(layer, "weight", _kinds(m)["scale"]())
            parametrize.register_parametrization(layer, "weight", Pad())
        elif case == "stacked_right_inverse_shape":
            parametrize.register_parametrization(layer, "weight", _kinds(m)["scale"]())
            parametrize.register_parametrization(layer, "weight", Flatten())
        elif case == "several_length":
            parametrize.register_parametrization(layer, "weight", _kinds(m)["outer"]())
            layer.parametrizations.weight[0].right_inverse = lambda w: (w[:, :1],)
            layer.weight = m.ones(4, 3, dtype=m.float64)
        else:
            parametrize.register_parametrization(layer, "weight", _kinds(m)["outer"]())
            parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)

    assert _both(torch, run) == [ValueError, ValueError]
