"""``gg.func``'s transforms (vmap, jacrev, jacfwd, hessian, vjp, jvp, stack_module_state) against PyTorch's
``torch.func``, in float64."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _numbers(result):
    """Every tensor of a (nested) result, in order, as arrays; the nesting's types and keys alongside."""
    if isinstance(result, dict):
        return [("dict", tuple(result))] + [number for value in result.values() for number in _numbers(value)]
    if isinstance(result, (tuple, list)):
        return [(type(result).__name__, len(result))] + [number for part in result for number in _numbers(part)]
    return [result.detach().numpy()]


def _same(mine, theirs):
    mine, theirs = _numbers(mine), _numbers(theirs)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        if isinstance(a, tuple):
            assert a == b
        else:
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@st.composite
def _mapped(draw):
    """An item shape, a batch size, where the batch sits in ``a`` (as a positive or negative dim), whether ``b``
    is mapped and where, and out_dims for ``_two_outputs``'s two results."""
    item = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    size = draw(st.integers(1, 3))
    where = draw(st.integers(0, len(item)))
    a_dim = draw(st.sampled_from([where, where - len(item) - 1]))
    b_dim = draw(st.sampled_from([None, 0, 1, -1]))
    out_dims = (draw(st.integers(-len(item) - 1, len(item))), draw(st.integers(-len(item), len(item) - 1)))
    a_shape = (*item[:where], size, *item[where:])
    b_shape = (2,) if b_dim is None else (size, 2) if b_dim in (0, -2) else (2, size)
    return a_shape, b_shape, (a_dim, b_dim), out_dims


def _two_outputs(a, b):
    """Elementwise, a reduction over the item's first dim, and an unmapped-or-mapped second argument."""
    return a.tanh() * b.sum() + a, (a ** 2).sum(0) * b[0]


@pytest.mark.torch
@given(case=_mapped(), seed=st.integers(0, 2**16))
def test_vmap_values_and_gradients_match_pytorch(torch, case, seed):
    a_shape, b_shape, in_dims, out_dims = case
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    results = []
    for lib in (gg, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        first, second = lib.func.vmap(_two_outputs, in_dims=in_dims, out_dims=out_dims)(x, y)
        weights = np.random.default_rng(seed + 1)
        ((first * lib.tensor(weights.standard_normal(tuple(first.shape)))).sum()
         + (second * lib.tensor(weights.standard_normal(tuple(second.shape)))).sum()).backward()
        results.append((first, second, x.grad, y.grad))
    _same(*results)


@pytest.mark.torch
@given(rows=st.integers(1, 3), columns=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_nested_vmap_and_nested_in_dims_match_pytorch(torch, rows, columns, seed):
    rng = np.random.default_rng(seed)
    u, v, w = rng.standard_normal((rows, 3)), rng.standard_normal((columns, 3)), rng.standard_normal(3)
    results = []
    for lib in (gg, torch):
        x, y = lib.tensor(u, requires_grad=True), lib.tensor(v, requires_grad=True)
        distance = lambda p, q: ((p - q) ** 2).sum().sqrt()  # noqa: E731
        pairwise = lib.vmap(lib.vmap(distance, in_dims=(None, 0)), in_dims=(0, None))(x, y)  # rows × columns

        def scaled(pair, options):
            return {"sum": pair[0] * options["scale"] + pair[1], "label": options["label"]}

        inputs = ([x, y[0]], {"scale": lib.tensor(w), "label": "kept"})
        mixed = lib.func.vmap(scaled, in_dims=([0, None], {"scale": None, "label": None}),
                              out_dims={"sum": 1, "label": None})(*inputs)
        assert mixed["label"] == "kept"
        (pairwise.sum() + mixed["sum"].sin().sum()).backward()
        results.append((pairwise, mixed["sum"], x.grad, y.grad))
    _same(*results)


@pytest.mark.torch
def test_an_output_the_same_for_every_item_comes_back_unbatched_with_out_dims_none(torch):
    results = [lib.vmap(lambda x, lib=lib: (x * 2, lib.ones(2, dtype=lib.float64)), out_dims=(0, None))(
        lib.arange(3.0, dtype=lib.float64)) for lib in (gg, torch)]
    _same(*results)


def _linear_model(lib, seed):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2).double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for parameter in model.parameters():
            parameter.copy_(lib.tensor(rng.standard_normal(tuple(parameter.shape))))
    return model, rng


@pytest.mark.torch
@given(batch=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_per_sample_gradients_match_pytorch_and_a_loop(torch, batch, seed):
    results = []
    for lib in (gg, torch):
        model, rng = _linear_model(lib, seed)
        x, y = lib.tensor(rng.standard_normal((batch, 3))), lib.tensor(rng.standard_normal((batch, 2)))
        params = {name: p.detach() for name, p in model.named_parameters()}

        def loss(params, sample, target, model=model, lib=lib):
            prediction = lib.func.functional_call(model, params, (sample.unsqueeze(0),))
            return lib.nn.functional.mse_loss(prediction, target.unsqueeze(0))

        results.append(lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(params, x, y))
    _same(*results)
    model, rng = _linear_model(gg, seed)  # the oracle without transforms: one backward per sample
    x, y = rng.standard_normal((batch, 3)), rng.standard_normal((batch, 2))
    for k in range(batch):
        model.zero_grad()
        gg.nn.functional.mse_loss(model(gg.tensor(x[k:k + 1])), gg.tensor(y[k:k + 1])).backward()
        for name, parameter in model.named_parameters():
            np.testing.assert_allclose(results[0][name][k].numpy(), parameter.grad.numpy(), rtol=1e-12)


@pytest.mark.torch
@given(members=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_an_ensemble_through_stack_module_state_and_vmap_matches_pytorch(torch, members, seed):
    results = []
    for lib in (gg, torch):
        models = [_linear_model(lib, seed + k)[0] for k in range(members)]
        data = lib.tensor(np.random.default_rng(seed).standard_normal((4, 3)))
        params, buffers = lib.func.stack_module_state(models)

        def run(params, buffers, x, model=models[0], lib=lib):
            return lib.func.functional_call(model, (params, buffers), (x,))

        outputs = lib.vmap(run, in_dims=(0, 0, None))(params, buffers, data)  # (members, 4, 2)
        outputs.tanh().sum().backward()
        assert all(p.is_leaf and p.requires_grad for p in params.values())
        results.append((outputs, params, {name: p.grad for name, p in params.items()}))
    _same(*results)
    for model, weight in zip(models, results[0][1]["weight"]):  # model k's weight is row k
        np.testing.assert_array_equal(weight.detach().numpy(), model.weight.detach().numpy())


def _vmapped_without_running_statistics(lib):
    """A small convolutional model whose batch norm layers (one nested, one at the root of a second model) stop
    keeping running statistics, then run per item under vmap in training and in evaluation."""
    model = lib.nn.Sequential(lib.nn.Conv2d(1, 2, 3), lib.nn.Sequential(lib.nn.BatchNorm2d(2)), lib.nn.Flatten(),
                              lib.nn.Linear(2 * 4 * 4, 3)).double()
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for parameter in model.parameters():
            parameter.copy_(lib.tensor(rng.standard_normal(tuple(parameter.shape))))
    norm = lib.nn.BatchNorm1d(3).double()
    assert lib.func.replace_all_batch_norm_modules_(model) is model
    lib.func.replace_all_batch_norm_modules_(norm)
    batches = lib.tensor(rng.standard_normal((2, 4, 1, 6, 6)))
    outputs = [lib.vmap(lambda x: norm(model(x)))(batches)]
    model.eval(), norm.eval()
    outputs.append(lib.vmap(lambda x: norm(model(x)))(batches))
    return outputs, [(type(m).__name__, m.track_running_stats, m.running_mean, m.running_var, m.num_batches_tracked)
                     for m in (model[1][0], norm)], list(dict(model.named_buffers()))


@pytest.mark.torch
def test_replace_all_batch_norm_modules_makes_a_model_vmappable_as_in_pytorch(torch):
    """It was missing from gg.func (AttributeError)."""
    (mine, mine_layers, mine_buffers), (theirs, their_layers, their_buffers) = (
        _vmapped_without_running_statistics(gg), _vmapped_without_running_statistics(torch))
    _same(mine, theirs)
    assert mine_layers == their_layers == [("BatchNorm2d", False, None, None, None),
                                           ("BatchNorm1d", False, None, None, None)]
    assert mine_buffers == their_buffers == []


FUNCTIONS = {  # name: (function, argnums, has_aux)
    "elementwise": (lambda x: x.sin() * x.exp(), 0, False),
    "matmul": (lambda w, x: w @ x, (0, 1), False),
    "reduction": (lambda x: (x ** 3).sum(-1).mean(), 0, False),
    "tuple outputs": (lambda w, x: ((w @ x).tanh(), (w * w).sum()), 1, False),
    "argnums tuple, tuple outputs": (lambda w, x: (w.sum(0) * x, (w @ x).softmax(0)), (1, 0), False),
    "has_aux": (lambda w, x: ((w @ x).sigmoid(), {"norm": w.norm()}), 0, True),
    "dict argument": (lambda p, x: p["w"] @ x + p["b"], 0, False),
}


def _arguments(lib, name, rng_seed):
    rng = np.random.default_rng(rng_seed)
    w, x, b = lib.tensor(rng.standard_normal((2, 3))), lib.tensor(rng.standard_normal(3)), lib.tensor(
        rng.standard_normal(2))
    if name == "elementwise" or name == "reduction":
        return (lib.tensor(rng.standard_normal((2, 3))),)
    return ({"w": w, "b": b}, x) if name == "dict argument" else (w, x)


@pytest.mark.torch
@pytest.mark.parametrize("name", list(FUNCTIONS))
@given(seed=st.integers(0, 2**16))
def test_jacrev_jacfwd_and_hessian_match_pytorch(torch, name, seed):
    function, argnums, has_aux = FUNCTIONS[name]
    results = []
    for lib in (gg, torch):
        args = _arguments(lib, name, seed)
        transformed = [lib.func.jacrev(function, argnums, has_aux=has_aux)(*args),
                       lib.func.jacfwd(function, argnums, has_aux)(*args)]
        if not has_aux and name != "tuple outputs" and name != "argnums tuple, tuple outputs":
            transformed.append(lib.func.hessian(lambda *a: function(*a).sum(), argnums)(*args))
        results.append(transformed)
    _same(*results)


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
def test_transforms_compose_and_their_results_can_be_differentiated(torch, seed):
    rng = np.random.default_rng(seed)
    a, m = rng.standard_normal(3), rng.standard_normal((4, 3))
    results = []
    for lib in (gg, torch):
        x = lib.tensor(a, requires_grad=True)
        f = lambda v: (v.sin() * v).sum() * v.exp()  # noqa: E731
        jacobian = lib.func.jacrev(f)(x)
        twice = lib.func.jacrev(lib.func.jacrev(f))(x)
        second = lib.func.grad(lib.func.grad(lambda s: s.sin() * s.exp()))(x[0])
        batched = lib.vmap(lib.func.jacrev(lambda v: v.tanh() * v.sum()))(lib.tensor(m))
        (jacobian ** 2).sum().backward()  # through the Jacobian, back to x
        results.append((jacobian, twice, second, batched, x.grad))
    _same(*results)


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), aux=st.booleans())
def test_vjp_and_jvp_match_pytorch(torch, seed, aux):
    rng = np.random.default_rng(seed)
    a, b, u, v, s = (rng.standard_normal(3) for _ in range(5))
    results = []
    for lib in (gg, torch):
        def f(x, y, lib=lib):
            outputs = (x.sin() * y, (x * y.exp()).sum())
            return (outputs, x.cos()) if aux else outputs

        t = lib.tensor
        output, vjp_fn, *extra = lib.func.vjp(f, t(a), t(b), has_aux=aux)
        products = [vjp_fn((t(u), t(s[0]))), vjp_fn((t(v), t(s[1])))]  # vjp_fn can be called again
        forward = lib.func.jvp(f, (t(a), t(b)), (t(u), t(v)), has_aux=aux)
        results.append((output, products, forward, extra))
    _same(*results)


@pytest.mark.torch
def test_the_transforms_differentiate_also_under_no_grad(torch):
    results = []
    for lib in (gg, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
        with lib.no_grad():
            results.append((lib.func.grad(lambda v: (v.sin() * v).sum())(x), lib.func.jacrev(lambda v: v.exp())(x),
                            lib.vmap(lib.func.grad(lambda v: v.cos()))(x)))
    _same(*results)
    assert not any(result.requires_grad for result in results[0])


def _random_rows(lib, randomness):
    return lib.vmap(lambda row: row + lib.randn(3, dtype=lib.float64), randomness=randomness)(
        lib.zeros(4, 3, dtype=lib.float64))


@pytest.mark.torch
def test_randomness_error_same_and_different_behave_as_in_pytorch(torch):
    for lib in (gg, torch):
        with pytest.raises(RuntimeError):
            _random_rows(lib, "error")
        same, different = _random_rows(lib, "same").numpy(), _random_rows(lib, "different").numpy()
        assert all(np.array_equal(row, same[0]) for row in same)
        assert len({tuple(row) for row in different}) == 4
    for lib in (gg, torch):  # a layer that draws: dropout in training mode
        with pytest.raises(RuntimeError, match=None if lib is torch else r"^vmap\(Sequential, \.\.\.\): Sequential "
                                                                          r"drew random numbers[^\n]*$"):
            lib.vmap(lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Dropout(0.5)))(lib.ones(4, 3))
    gg.manual_seed(7)
    drawn = gg.randn(3, dtype=gg.float64).numpy()
    gg.manual_seed(7)
    np.testing.assert_array_equal(_random_rows(gg, "same").numpy()[0], drawn)  # the draw the first item would see
    with pytest.raises(RuntimeError, match=r"^vmap\(<lambda>, \.\.\.\): <lambda> drew random numbers while "
                                           r"randomness='error'; pass randomness='different'"):
        _random_rows(gg, "error")


def _add(x, y):
    return x + y


ERRORS = [  # (a call made with lib, the error, glassgrad's message)
    (lambda lib: lib.vmap(_add)(lib.ones(2, 3), lib.ones(3, 3)), ValueError,
     r"^vmap\(_add\): expected all tensors to have the same size in the mapped dimension, got sizes \[2, 3\]"),
    (lambda lib: lib.vmap(_add, in_dims=(0, 0, 0))(lib.ones(2), lib.ones(2)), ValueError,
     r"in_dims does not match the structure of the inputs: in_dims is \(\*, \*, \*\), the inputs are \(\*, \*\)$"),
    (lambda lib: lib.vmap(_add, in_dims=(2, 0))(lib.ones(2, 3), lib.ones(2)), ValueError,
     r"got in_dim=2 for a tensor with 2 dimensions; in_dim must satisfy -2 <= in_dim < 2$"),
    (lambda lib: lib.vmap(lambda x: 3.0)(lib.ones(2, 3)), ValueError,
     r"^vmap\(<lambda>, \.\.\.\): <lambda> must only return Tensors, got type float; set out_dims to None"),
    (lambda lib: lib.vmap(_add, in_dims=(None, None))(lib.ones(2), lib.ones(2)), ValueError,
     r"^vmap\(_add\): expected at least one tensor to vmap over; every in_dim is None"),
    (lambda lib: lib.vmap(_add, in_dims=(0, 0))(lib.ones(2), 3.0), ValueError,
     r"got in_dim=0 for an input of type float; only tensors can be mapped over, give it in_dim None$"),
    (lambda lib: lib.vmap(_add, in_dims=[0, 0])(lib.ones(2), lib.ones(2)), ValueError,
     r"in_dims must be an int or a tuple with one entry per argument, got list$"),
    (lambda lib: lib.vmap(lambda x: (x, x), out_dims=(0, 0, 0))(lib.ones(2)), ValueError,
     r"out_dims does not match the structure of the outputs: out_dims is \(\*, \*, \*\), the outputs are \(\*, \*\)$"),
    (lambda lib: lib.vmap(lambda x: x, out_dims=2)(lib.ones(2)), IndexError,  # PyTorch's, not ValueError
     r"out_dim=2 is out of range for an output with 1 dimensions"),
    (lambda lib: lib.vmap(lambda x: x * 2, out_dims=None)(lib.arange(3.0)), ValueError,
     r"^vmap\(<lambda>, \.\.\.\): <lambda> returned an output that differs between items where out_dim is None"),
    (lambda lib: lib.vmap(_add, randomness="sometimes")(lib.ones(2), lib.ones(2)), RuntimeError,
     r"^vmap: randomness must be 'error', 'different' or 'same', got 'sometimes'$"),
    (lambda lib: lib.func.jacrev(_add, argnums=2)(lib.ones(2), lib.ones(2)), RuntimeError,
     r"^jacrev: argnums=2 names argument 2, but the function was given 2 positional argument\(s\)$"),
    (lambda lib: lib.func.jacfwd(lambda x: x * 2, has_aux=True)(lib.ones(2)), RuntimeError,
     r"^jacfwd\(f, \.\.\., has_aux=True\): f must return a pair \(output, aux\), got Tensor$"),
    (lambda lib: lib.func.jacrev(lambda x: 3.0)(lib.ones(2)), RuntimeError,
     r"^jacrev: the function must return a Tensor or a tuple/list/dict of Tensors, got float$"),
    (lambda lib: lib.func.vjp(lambda x: x * 2, lib.ones(2))[1](lib.ones(3)), RuntimeError,
     r"^vjp: the cotangents must have the output's structure \* and shapes \(\(2,\)\); got \* with shapes \(\(3,\)\)$"),
    (lambda lib: lib.func.stack_module_state([lib.nn.Linear(2, 1), lib.nn.Linear(2, 1).eval()]), RuntimeError,
     r"^stack_module_state: the models must all be in training mode or all in eval mode"),
    (lambda lib: lib.func.stack_module_state([lib.nn.Linear(2, 1), lib.nn.Tanh()]), RuntimeError,
     r"^stack_module_state: the models must be of one class, got Linear, Tanh$"),
    (lambda lib: lib.func.jvp(lambda x: x * 2, lib.ones(2), lib.ones(2)), RuntimeError,
     r"^jvp: primals must be a tuple of Tensors, so that f\(\*primals\) is the call; got Tensor$"),
]


@pytest.mark.torch
@pytest.mark.parametrize("call, error, message", ERRORS)
def test_bad_calls_are_refused_in_one_line_where_pytorch_refuses_them(torch, call, error, message):
    with pytest.raises(error, match=message) as raised:
        call(gg)
    assert "\n" not in str(raised.value)
    with pytest.raises(error):
        call(torch)


def test_import_torch_func_and_torch_vmap_through_the_shim():
    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch, torch.func\nfrom torch.func import vmap, jacrev\n"
               "assert torch.vmap is vmap is torch.func.vmap\n"
               "print(jacrev(vmap(lambda x: x * x))(torch.tensor([1.0, 2.0])).tolist())")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[[2.0, 0.0], [0.0, 4.0]]"


CLOSED_OVER = {  # name: (a transform's result for (lib, f, xs)), f closing over the weights w
    "vmap(grad)": lambda lib, f, xs: lib.func.vmap(lib.func.grad(f))(xs),
    "grad_and_value": lambda lib, f, xs: lib.func.grad_and_value(f)(xs[0]),
    "jacrev": lambda lib, f, xs: lib.func.jacrev(lambda x: (x * x.sum()).tanh() * f(x))(xs[0]),
    "hessian": lambda lib, f, xs: lib.func.hessian(f)(xs[0]),
    "vmap(hessian)": lambda lib, f, xs: lib.func.vmap(lib.func.hessian(f))(xs),
    "vjp": lambda lib, f, xs: lib.func.vjp(lambda x: (x * f(x)).sin(), xs[0])[1](xs[0].cos()),
    "jvp": lambda lib, f, xs: lib.func.jvp(f, (xs[0],), (xs[0].cos(),)),
}


@pytest.mark.torch
@given(batch=st.integers(1, 3), width=st.integers(1, 3), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(CLOSED_OVER))
def test_a_transform_of_a_function_closing_over_weights_stays_connected_to_them(torch, name, batch, width, seed):
    """A physics-informed net written with torch.func: ``u_x = vmap(grad(u))(xs)`` with ``u`` closing over the
    network's weights, then ``(u_x²).mean() + u(x₀)²`` backward into the weights. PyTorch's transforms keep
    their results in the graph of such closed-over tensors; glassgrad's recorded them only when an argument
    required grad, so ``u_x`` came back detached: the residual's share of the weights' gradient was silently
    missing (only the boundary term's was there), or backward refused a loss made of it alone."""
    rng = np.random.default_rng(seed)
    arrays = rng.normal(size=(batch, width)), rng.normal(size=(width, 3)), rng.normal(size=3)
    found = []
    for lib in (gg, torch):
        xs = lib.tensor(arrays[0], dtype=lib.float64)
        w = lib.tensor(arrays[1], dtype=lib.float64, requires_grad=True)
        b = lib.tensor(arrays[2], dtype=lib.float64, requires_grad=True)

        def u(x, w=w, b=b):
            return ((x @ w + b).tanh() ** 2).sum()

        results = _numbers_of(CLOSED_OVER[name](lib, u, xs))
        loss = sum((t ** 2).mean() for t in results) + u(xs[0]) ** 2
        loss.backward()
        found.append([*results, w.grad, b.grad])
    _same(found[0], found[1])


def _numbers_of(result):
    """The tensors of a (nested) result, in order."""
    if isinstance(result, (tuple, list)):
        return [tensor for part in result for tensor in _numbers_of(part)]
    return [result]


@pytest.mark.torch
@pytest.mark.parametrize("create_graph", [None, True, False])
def test_vjp_fn_takes_pytorchs_keywords(torch, create_graph):
    """``vjp_fn(v, retain_graph=…, create_graph=…)``, as PyTorch's takes them, raised TypeError; ``create_graph=False``
    gives the product outside the graph of a weight that requires grad (None or True: inside it)."""
    results = []
    for lib in (gg, torch):
        weight = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        _, vjp_fn = lib.func.vjp(lambda a, w=weight: (a * w).exp(), lib.tensor([1.0, 2.0], dtype=lib.float64))
        (product,) = vjp_fn(lib.ones(2, dtype=lib.float64), retain_graph=True, create_graph=create_graph)
        (again,) = vjp_fn(lib.ones(2, dtype=lib.float64))
        results.append((product.detach().numpy(), again.detach().numpy(), product.requires_grad))
    (mine, my_again, my_graph), (theirs, their_again, their_graph) = results
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    np.testing.assert_allclose(my_again, their_again, rtol=1e-12)
    assert my_graph == their_graph


@pytest.mark.torch
def test_jvp_of_a_function_with_an_integer_output_gives_it_a_zero_tangent(torch):
    """``jvp(lambda a: (a.argmax(), a * 2), …)`` raised RuntimeError; PyTorch gives the integer output a zero
    tangent of its dtype."""
    results = []
    for lib in (gg, torch):
        x, v = lib.tensor([1.0, 2.0], dtype=lib.float64), lib.tensor([0.3, -0.4], dtype=lib.float64)
        (position, doubled), (still, moved) = lib.func.jvp(lambda a: (a.argmax(), a * 2), (x,), (v,))
        results.append((position.item(), still.item(), str(still.dtype).split(".")[-1], moved.numpy()))
    assert results[0][:3] == results[1][:3] == (1, 0, "int64")
    np.testing.assert_allclose(results[0][3], results[1][3], rtol=1e-12)


@pytest.mark.parametrize("change", [lambda a, w: w.add_(a), lambda a, w: a + w.add_(1), lambda a, w: w.mul_(2) + a])
def test_an_in_place_change_of_an_argument_vmap_does_not_map_is_refused_after_the_first_item(change):
    """vmap calls f once per item: an unmapped w changed in place was changed once per item (w += a summed the whole
    batch into w, and each item saw another w), where PyTorch's one batched call changes it once or refuses."""
    w, a = gg.tensor([1.0, 2.0, 3.0]), gg.tensor([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    once = w.clone()
    change(a[0], once)
    with pytest.raises(RuntimeError, match=r"changed an argument it does not map .*in place.*w = w\.clone\(\)"):
        gg.vmap(change, in_dims=(0, None))(a, w)
    np.testing.assert_array_equal(w.numpy(), once.numpy())  # the first item's change, and no more


def test_an_in_place_change_of_a_mapped_argument_changes_each_item_once():
    a, w = gg.tensor([[1.0, 1.0], [2.0, 2.0]]), gg.tensor([10.0, 20.0])
    out = gg.vmap(lambda row, w: row.add_(w), in_dims=(0, None))(a, w)
    np.testing.assert_array_equal(out.numpy(), [[11.0, 21.0], [12.0, 22.0]])
    np.testing.assert_array_equal(a.numpy(), [[11.0, 21.0], [12.0, 22.0]])  # the items are views of a, as in PyTorch


def test_jacfwd_is_forward_modes_at_a_point_where_the_function_is_not_differentiable(torch):
    """jacfwd builds columns J·eⱼ, as PyTorch's forward mode: at sqrt(x·x)'s x₀ = 0 NaN along row 0, where
    jacrev (reverse mode) puts it down column 0."""
    ours = gg.func.jacfwd(lambda x: gg.sqrt(x * x))(gg.tensor([0.0, 2.0], dtype=gg.float64)).numpy()
    ours_reverse = gg.func.jacrev(lambda x: gg.sqrt(x * x))(gg.tensor([0.0, 2.0], dtype=gg.float64)).numpy()
    theirs_forward = torch.func.jacfwd(lambda x: torch.sqrt(x * x))(torch.tensor([0.0, 2.0], dtype=torch.float64))
    theirs_reverse = torch.func.jacrev(lambda x: torch.sqrt(x * x))(torch.tensor([0.0, 2.0], dtype=torch.float64))
    np.testing.assert_array_equal(ours, theirs_forward.numpy())
    np.testing.assert_array_equal(ours_reverse, theirs_reverse.numpy())
