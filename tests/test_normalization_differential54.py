"""Differential tests of the normalization layers against PyTorch 2.13 (helper round 54).

The fuzzer behind these built BatchNorm1d (2-d and 3-d input), BatchNorm2d/3d, InstanceNorm1d/2d/3d, LayerNorm,
GroupNorm, RMSNorm and LocalResponseNorm with random momentum (None: the cumulative average), eps, affine,
bias and track_running_stats, trained them a few steps in float64 and float32 and compared the outputs, the
gradients of the input, γ and β, the running statistics, ``num_batches_tracked``, the state dict's keys and
dtypes and the output in eval; and called F.batch_norm/layer_norm/group_norm/instance_norm/rms_norm with or without
γ, β and running statistics, on row-major and transposed inputs, comparing values, gradients and strides.
The defects it found: LayerNorm (with its γ) of a transposed input returned a tensor in the input's order, so
``out.view(…)`` raised where PyTorch's row-major result views; F.batch_norm in eval without running statistics
raised ValueError (PyTorch: RuntimeError), and so did F.instance_norm with ``use_input_stats=False``; one running
statistic alone was updated while the other was ignored (PyTorch: ValueError); a negative eps gave inf (BatchNorm
in eval) or a shifted result (PyTorch: ValueError); an integer input raised RuntimeError from ``mean`` or NumPy's
ValueError "data type not inexact" from rms_norm (PyTorch: NotImplementedError).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _numpy(t):
    return None if t is None else t.detach().numpy()


def _tol(dtype) -> float:
    return 1e-10 if dtype == np.float64 else 2e-4


def _raises_like(torch, function):
    """The exception class PyTorch raises for ``function(torch)``; glassgrad raises the same."""
    with pytest.raises(Exception) as t_error:
        function(torch)
    with pytest.raises(type(t_error.value)):
        function(gg)
    return t_error.value


def _train_both(torch, make, shape, dtype, steps=3, seed=0):
    """Build the layer in both libraries (same γ, β), run ``steps`` training steps with a backward each and one eval
    step; compare outputs, gradients, state dict (keys, dtypes, values) as it goes."""
    rng = np.random.default_rng(seed)
    t_dtype = torch.float64 if dtype == np.float64 else torch.float32
    t_layer, g_layer = make(torch, t_dtype), make(gg, dtype)
    for (name, t_p), (g_name, g_p) in zip(t_layer.named_parameters(), g_layer.named_parameters(), strict=True):
        assert name == g_name
        values = rng.standard_normal(tuple(t_p.shape)).astype(dtype)
        with torch.no_grad():
            t_p.copy_(torch.tensor(values))
        with gg.no_grad():
            g_p.copy_(gg.tensor(values))
    tol = _tol(dtype)
    for step in range(steps + 1):
        if step == steps:
            t_layer.eval()
            g_layer.eval()
        x = (rng.standard_normal(shape) * rng.uniform(0.5, 3) + rng.uniform(-2, 2)).astype(dtype)
        tx, gx = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
        t_out, g_out = t_layer(tx), g_layer(gx)
        np.testing.assert_allclose(_numpy(g_out), _numpy(t_out), rtol=tol, atol=tol)
        up = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
        t_out.backward(torch.tensor(up))
        g_out.backward(gg.tensor(up))
        np.testing.assert_allclose(_numpy(gx.grad), _numpy(tx.grad), rtol=tol, atol=tol)
        for t_p, g_p in zip(t_layer.parameters(), g_layer.parameters(), strict=True):
            np.testing.assert_allclose(_numpy(g_p.grad), _numpy(t_p.grad), rtol=tol, atol=tol)
            t_p.grad, g_p.grad = None, None
    t_state, g_state = t_layer.state_dict(), g_layer.state_dict()
    assert list(g_state) == list(t_state)
    for key, t_value in t_state.items():
        assert str(g_state[key].dtype).split(".")[-1] == str(t_value.dtype).split(".")[-1], key
        np.testing.assert_allclose(g_state[key].numpy(), t_value.numpy(), rtol=tol, atol=tol)


_MOMENTA = st.sampled_from([0.1, 0.6, None, 0.0, 1.0])
_EPS = st.sampled_from([1e-5, 1e-3, 0.1])


@st.composite
def _layers(draw):
    """A layer's maker and an input shape: the fuzzer's core."""
    kind = draw(st.sampled_from(["bn1", "bn2", "bn3", "in", "ln", "gn", "rms", "lrn"]))
    n, c = draw(st.integers(2, 3)), draw(st.integers(1, 4))
    momentum, eps = draw(_MOMENTA), draw(_EPS)
    affine, tracked, bias = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    spatial = tuple(draw(st.lists(st.integers(2, 3), min_size=0, max_size=3)))
    if kind.startswith("bn"):
        name = {0: "BatchNorm1d", 1: "BatchNorm1d", 2: "BatchNorm2d", 3: "BatchNorm3d"}[len(spatial)]
        options = {"eps": eps, "momentum": momentum, "affine": affine, "track_running_stats": tracked, "bias": bias}
        return (lambda lib, dtype: getattr(lib.nn, name)(c, dtype=dtype, **options)), (n, c, *spatial)
    if kind == "in":
        spatial = spatial or (3,)
        name = f"InstanceNorm{len(spatial)}d"
        options = {"eps": eps, "momentum": momentum, "affine": affine, "track_running_stats": tracked, "bias": bias}
        return (lambda lib, dtype: getattr(lib.nn, name)(c, dtype=dtype, **options)), (n, c, *spatial)
    if kind == "ln":
        dims = draw(st.integers(1, 1 + len(spatial)))
        shape = (n, c, *spatial)
        normalized = shape[len(shape) - dims:]
        return (lambda lib, dtype: lib.nn.LayerNorm(normalized, eps=eps, elementwise_affine=affine, bias=bias,
                                                    dtype=dtype)), shape
    if kind == "gn":
        groups = draw(st.integers(1, 3))
        channels = groups * draw(st.integers(1, 2))
        return (lambda lib, dtype: lib.nn.GroupNorm(groups, channels, eps=eps, affine=affine, bias=bias,
                                                    dtype=dtype)), (n, channels, *spatial)
    if kind == "rms":
        shape = (n, c, *spatial)
        normalized = shape[len(shape) - draw(st.integers(1, 2)):]
        rms_eps = draw(st.sampled_from([None, 1e-6, 0.1]))
        return (lambda lib, dtype: lib.nn.RMSNorm(normalized, eps=rms_eps, elementwise_affine=affine,
                                                  dtype=dtype)), shape
    size = draw(st.integers(1, 5))
    alpha, beta = draw(st.sampled_from([1e-4, 0.5])), draw(st.sampled_from([0.75, 0.3]))
    k = draw(st.sampled_from([1.0, 2.0]))
    return (lambda lib, dtype: lib.nn.LocalResponseNorm(size, alpha, beta, k)), (n, c, *(spatial or (2,)))


@given(_layers(), st.sampled_from([np.float64, np.float32]), st.integers(0, 2**16))
def test_normalization_layers_train_and_evaluate_as_pytorchs(torch, layer, dtype, seed):
    """Outputs, gradients of x, γ and β over three training steps and one eval step, then the state dict (running
    statistics after momentum or the cumulative average, num_batches_tracked, keys, dtypes) as PyTorch's."""
    make, shape = layer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # InstanceNorm without affine: PyTorch's num_features warning
        _train_both(torch, make, shape, dtype, seed=seed)


# --- the defects ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_of_a_transposed_input_is_row_major_as_pytorchs(torch, affine):
    """A conv's (N, C, L) output transposed to (N, L, C) and layer-normed over C: PyTorch's result is row-major, so
    ``view`` works; glassgrad's (with γ) kept the input's order and its view raised."""
    x = np.random.default_rng(0).standard_normal((2, 3, 5))
    outs = []
    for lib in (torch, gg):
        layer = lib.nn.LayerNorm(3, elementwise_affine=affine, dtype=lib.float64)
        out = layer(lib.tensor(x).transpose(1, 2))
        assert out.is_contiguous() and tuple(out.stride()) == (15, 3, 1)
        outs.append(_numpy(out.view(10, 3)))
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("missing", ["running_mean", "running_var", "both"])
def test_batch_norm_in_eval_without_running_statistics_raises_runtime_error(torch, missing):
    x = np.ones((2, 3))

    def call(lib):
        mean = None if missing in ("running_mean", "both") else lib.zeros(3)
        var = None if missing in ("running_var", "both") else lib.ones(3)
        return lib.nn.functional.batch_norm(lib.tensor(x), mean, var, training=False)

    error = _raises_like(torch, call)
    assert isinstance(error, RuntimeError)


def test_instance_norm_without_input_stats_needs_running_statistics(torch):
    x = np.ones((2, 3, 4))
    for running in ((None, None), ("mean", None)):
        def call(lib, running=running):
            mean = None if running[0] is None else lib.zeros(3)
            return lib.nn.functional.instance_norm(lib.tensor(x), mean, None, use_input_stats=False)

        assert isinstance(_raises_like(torch, call), RuntimeError)
    with pytest.raises(RuntimeError, match="use_input_stats=True"):
        gg.nn.functional.instance_norm(gg.ones(2, 3, 4), use_input_stats=False)


@pytest.mark.parametrize("function", ["batch_norm", "instance_norm"])
@pytest.mark.parametrize("given_one", ["running_mean", "running_var"])
def test_running_statistics_come_in_pairs(torch, function, given_one):
    """One running statistic alone: PyTorch refuses (ValueError); glassgrad updated it and ignored the other."""
    x = np.random.default_rng(1).standard_normal((4, 3, 2)).astype(np.float32)

    def call(lib):
        one = lib.zeros(3) if given_one == "running_mean" else lib.ones(3)
        pair = (one, None) if given_one == "running_mean" else (None, one)
        return getattr(lib.nn.functional, function)(lib.tensor(x), *pair, **(
            {"training": True} if function == "batch_norm" else {}))

    assert isinstance(_raises_like(torch, call), ValueError)


@pytest.mark.parametrize(("eps", "training"), [(-1.0, False), (-1.0, True), (0.0, True)])
def test_batch_norm_refuses_an_eps_pytorch_refuses(torch, eps, training):
    """BatchNorm1d(eps=-1) in eval gave inf for a variance of 1 (√0); in training a shifted result."""
    x = np.arange(6.0).reshape(2, 3)

    def call(lib):
        layer = lib.nn.BatchNorm1d(3, eps=eps, dtype=lib.float64)
        return layer.train(training)(lib.tensor(x))

    assert isinstance(_raises_like(torch, call), ValueError)
    with pytest.raises(ValueError, match="eps"):
        gg.nn.functional.batch_norm(gg.tensor(x), None, None, training=True, eps=eps)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("function", ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm"])
def test_an_integer_input_raises_not_implemented_error(torch, function, dtype):
    calls = {
        "batch_norm": lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True),
        "instance_norm": lambda lib, x: lib.nn.functional.instance_norm(x),
        "layer_norm": lambda lib, x: lib.nn.functional.layer_norm(x, (4,)),
        "group_norm": lambda lib, x: lib.nn.functional.group_norm(x, 1),
        "rms_norm": lambda lib, x: lib.nn.functional.rms_norm(x, (4,)),
    }
    x = np.ones((2, 3, 4), dtype=dtype)
    error = _raises_like(torch, lambda lib: calls[function](lib, lib.tensor(x)))
    assert isinstance(error, NotImplementedError)
    with pytest.raises(NotImplementedError, match=r"float\(\)"):
        calls[function](gg, gg.tensor(x))


# --- pinned behaviour ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "shape"), [("BatchNorm1d", (1, 3)), ("BatchNorm1d", (1, 3, 1)),
                                             ("BatchNorm2d", (1, 3, 1, 1)), ("BatchNorm3d", (1, 3, 1, 1, 1))])
def test_a_batch_of_one_value_per_channel_in_training_raises_value_error(torch, name, shape):
    def call(lib):
        return getattr(lib.nn, name)(3)(lib.ones(*shape))

    assert "Expected more than 1 value per channel" in str(_raises_like(torch, call))
    assert getattr(gg.nn, name)(3).eval()(gg.ones(*shape)).shape == shape  # eval: the running statistics


def test_a_batch_of_one_with_positions_trains(torch):
    x = np.random.default_rng(2).standard_normal((1, 3, 4))
    _train_both(torch, lambda lib, dtype: lib.nn.BatchNorm1d(3, dtype=dtype), x.shape, np.float64)


def test_cumulative_average_with_momentum_none(torch):
    """momentum=None: the running statistics are the plain average over the batches so far."""
    _train_both(torch, lambda lib, dtype: lib.nn.BatchNorm2d(2, momentum=None, dtype=dtype), (3, 2, 2, 2),
                np.float64, steps=5)
    layer = gg.nn.BatchNorm1d(1, momentum=None, dtype=gg.float64)
    means = []
    for k in range(4):
        batch = gg.tensor([[k * 1.0], [k + 2.0]], dtype=gg.float64)
        means.append(k + 1.0)
        layer(batch)
    assert layer.running_mean.item() == pytest.approx(np.mean(means), rel=1e-15)
    assert layer.num_batches_tracked.item() == 4


@pytest.mark.parametrize("tracked", [True, False])
def test_eval_uses_batch_statistics_without_tracking(torch, tracked):
    x = np.random.default_rng(3).standard_normal((4, 3)) * 5 + 2
    outs = [_numpy(lib.nn.BatchNorm1d(3, track_running_stats=tracked).eval()(lib.tensor(x, dtype=lib.float32)))
            for lib in (torch, gg)]
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-5)


def test_state_dict_without_num_batches_tracked_loads_and_keeps_the_count(torch):
    """An old checkpoint (no num_batches_tracked): strict loading works, the count stays, as in PyTorch."""
    results = []
    for lib in (torch, gg):
        layer = lib.nn.BatchNorm1d(3)
        layer.num_batches_tracked += 5
        state = {"weight": lib.ones(3) * 2, "bias": lib.zeros(3), "running_mean": lib.ones(3),
                 "running_var": lib.ones(3) * 4}
        report = layer.load_state_dict(state)
        results.append((list(report.missing_keys), int(layer.num_batches_tracked), float(layer.running_var[0])))
    assert results[1] == results[0] == ([], 5, 4.0)


def test_reset_running_stats_and_reset_parameters(torch):
    results = []
    for lib in (torch, gg):
        layer = lib.nn.BatchNorm1d(3, momentum=0.5, dtype=lib.float64)
        with lib.no_grad():
            layer.weight.mul_(3)
            layer.bias.add_(1)
        layer(lib.tensor(np.arange(12.0).reshape(4, 3) ** 1.5))
        layer.reset_running_stats()
        after_stats = [_numpy(layer.running_mean), _numpy(layer.running_var), int(layer.num_batches_tracked),
                       _numpy(layer.weight)]
        layer.reset_parameters()
        results.append(after_stats + [_numpy(layer.weight), _numpy(layer.bias)])
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_state_dict_keys_and_dtypes(torch):
    makers = [lambda lib: lib.nn.BatchNorm2d(3, bias=False), lambda lib: lib.nn.BatchNorm2d(3, affine=False),
              lambda lib: lib.nn.BatchNorm1d(3, track_running_stats=False, dtype=lib.float64),
              lambda lib: lib.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
              lambda lib: lib.nn.LayerNorm((2, 3), bias=False), lambda lib: lib.nn.RMSNorm([2, 3]),
              lambda lib: lib.nn.GroupNorm(1, 3, affine=False)]
    for make in makers:
        described = [[(key, str(value.dtype).split(".")[-1], tuple(value.shape)) for key, value in
                      make(lib).state_dict().items()] for lib in (torch, gg)]
        assert described[1] == described[0]


@pytest.mark.parametrize("name", ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
                                  "LazyInstanceNorm2d", "LazyInstanceNorm3d"])
def test_lazy_norms_first_call(torch, name):
    dims = int(name[-2])
    shape = (4, 3, *(3,) * (dims if "Batch" not in name or dims > 1 else 1))
    x = np.random.default_rng(4).standard_normal(shape)
    results = []
    for lib in (torch, gg):
        layer = getattr(lib.nn, name)(momentum=0.3, dtype=lib.float64)
        out = layer(lib.tensor(x))
        layer(lib.tensor(2 * x))
        results.append((type(layer).__name__, layer.num_features, int(layer.num_batches_tracked), _numpy(out),
                        _numpy(layer.running_var), sorted(layer.state_dict())))
    assert results[1][:3] == results[0][:3] and results[1][5] == results[0][5]
    np.testing.assert_allclose(results[1][3], results[0][3], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(results[1][4], results[0][4], rtol=1e-10)


def test_instance_norm_unbatched_input_and_the_num_features_warning(torch):
    x = np.random.default_rng(5).standard_normal((3, 5))
    outs = []
    for lib in (torch, gg):
        with pytest.warns(UserWarning, match="does not match num_features"):
            outs.append(_numpy(lib.nn.InstanceNorm1d(4)(lib.tensor(x))))
        assert isinstance(_raises_like(torch, lambda lib: lib.nn.InstanceNorm1d(4, affine=True)(lib.tensor(x))),
                          ValueError)
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-12)
    assert "Expected more than 1 spatial element" in str(
        _raises_like(torch, lambda lib: lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 1))))
    _raises_like(torch, lambda lib: lib.nn.InstanceNorm2d(3)(lib.ones(1, 3, 4, 2, 2)))


def test_group_norm_errors(torch):
    assert isinstance(_raises_like(torch, lambda lib: lib.nn.GroupNorm(3, 4)), ValueError)
    assert isinstance(_raises_like(torch, lambda lib: lib.nn.functional.group_norm(lib.ones(2, 4, 3), 3)),
                      RuntimeError)
    assert isinstance(_raises_like(torch, lambda lib: lib.nn.functional.group_norm(lib.ones(1, 2), 2)), ValueError)
    assert isinstance(_raises_like(torch, lambda lib: lib.nn.GroupNorm(2, 4)(lib.ones(2, 6, 3))), RuntimeError)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rms_norm_default_eps_is_the_dtypes_machine_epsilon(torch, dtype):
    x = np.array([[1e-4, 0.0, 0.0]] if dtype == "float32" else [[1e-9, 0.0, 0.0]], dtype=dtype)
    outs = [_numpy(lib.nn.functional.rms_norm(lib.tensor(x), (3,))) for lib in (torch, gg)]
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6)
    assert 0.05 < outs[1][0, 0] < 0.5  # ε is felt: without it the first entry would be √3


def test_functional_batch_norm_updates_running_statistics_in_place(torch):
    x = np.random.default_rng(6).standard_normal((4, 3, 2)).astype(np.float32)
    results = []
    for lib in (torch, gg):
        mean, var = lib.tensor([0.5, -1.0, 2.0]), lib.tensor([2.0, 0.5, 3.0])
        out = lib.nn.functional.batch_norm(lib.tensor(x), mean, var, None, None, True, 0.3, 1e-3)
        ev = lib.nn.functional.batch_norm(lib.tensor(x), mean, var, lib.tensor([1.0, 2.0, 3.0]), None, False)
        results.append([_numpy(out), _numpy(mean), _numpy(var), _numpy(ev)])
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm"])
def test_float32_at_a_large_offset_stays_near_the_float64_truth(torch, kind):
    """Inputs of mean 1e4, std 1: a float32 step of 1e4 is u = 2⁻¹⁰ ≈ 1e-3, so x − μ carries an error of about u and
    both libraries' float32 results are off the float64 truth by a few u over σ of a row (here glassgrad's outputs
    up to 4.5e-3, PyTorch's up to 3.2e-3; gradients up to 1.06e-2 in both, glassgrad's instance_norm 1.06e-2 where
    PyTorch's is 1.5e-3). Pinned: outputs within 8u, gradients within 16u, for both libraries, so that glassgrad's
    accuracy is not degraded."""
    calls = {"batch_norm": lambda F, x: F.batch_norm(x, None, None, training=True),
             "layer_norm": lambda F, x: F.layer_norm(x, (8,)), "group_norm": lambda F, x: F.group_norm(x, 2),
             "instance_norm": lambda F, x: F.instance_norm(x), "rms_norm": lambda F, x: F.rms_norm(x, (8,))}
    rng = np.random.default_rng(7)
    x32 = (rng.standard_normal((16, 4, 8)) + 1e4).astype(np.float32)
    up = rng.standard_normal(x32.shape)
    tx = torch.tensor(x32.astype(np.float64), requires_grad=True)
    truth = calls[kind](torch.nn.functional, tx)
    truth.backward(torch.tensor(up))
    errors = {}
    for lib in (torch, gg):
        x = lib.tensor(x32, requires_grad=True)
        out = calls[kind](lib.nn.functional, x)
        out.backward(lib.tensor(up.astype(np.float32)))
        errors[lib.__name__] = (np.abs(_numpy(out) - _numpy(truth)).max(),
                                np.abs(_numpy(x.grad) - _numpy(tx.grad)).max())
    u = float(np.spacing(np.float32(1e4)))
    for lib_errors in errors.values():
        assert lib_errors[0] < 8 * u and lib_errors[1] < 16 * u, errors


@pytest.mark.parametrize("name", ["BatchNorm1d", "LayerNorm", "GroupNorm", "InstanceNorm1d", "RMSNorm"])
def test_gradient_penalty_through_a_normalization(torch, name):
    """Second order: ‖∂Σ out³/∂x‖² differentiated again (a WGAN-GP style penalty), w.r.t. x, γ and β."""
    makers = {"BatchNorm1d": lambda lib: lib.nn.BatchNorm1d(4, dtype=lib.float64),
              "LayerNorm": lambda lib: lib.nn.LayerNorm(6, dtype=lib.float64),
              "GroupNorm": lambda lib: lib.nn.GroupNorm(2, 4, dtype=lib.float64),
              "InstanceNorm1d": lambda lib: lib.nn.InstanceNorm1d(4, affine=True, dtype=lib.float64),
              "RMSNorm": lambda lib: lib.nn.RMSNorm(6, dtype=lib.float64)}
    x = np.random.default_rng(8).standard_normal((5, 4, 6))
    results = []
    for lib in (torch, gg):
        layer = makers[name](lib)
        for i, p in enumerate(layer.parameters()):
            with lib.no_grad():
                p.copy_(lib.tensor(np.random.default_rng(i).standard_normal(tuple(p.shape))))
        xt = lib.tensor(x, requires_grad=True)
        (grad,) = lib.autograd.grad((layer(xt) ** 3).sum(), xt, create_graph=True)
        (grad ** 2).sum().backward()
        results.append([_numpy(xt.grad)] + [_numpy(p.grad) for p in layer.parameters()])
    scale = max(np.abs(theirs).max() for theirs in results[0])  # β's gradient is a cancellation: near 0
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12 * scale)


def test_batch_norm_gradient_does_not_depend_on_the_inputs_layout():
    """PyTorch 2.13's CPU batch_norm backward gives another input gradient for an input laid out channels-last with
    a size-1 dim (a PyTorch bug, not compared here); glassgrad's is the same for either layout."""
    rng = np.random.default_rng(9)
    x, w, up = rng.standard_normal((2, 3, 2, 1)), rng.standard_normal(3), rng.standard_normal((2, 3, 2, 1))
    grads = []
    for transposed in (False, True):
        xt, wt = gg.tensor(x, requires_grad=True), gg.tensor(w, requires_grad=True)
        xin = xt.transpose(1, -1).contiguous().transpose(1, -1) if transposed else xt
        gg.nn.functional.batch_norm(xin, None, None, wt, None, True).backward(gg.tensor(up))
        grads.append((xt.grad.numpy(), wt.grad.numpy()))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-12)


def test_local_response_norm_with_a_window_wider_than_the_channels(torch):
    x = np.arange(24.0).reshape(2, 3, 4)
    outs = [_numpy(lib.nn.functional.local_response_norm(lib.tensor(x, requires_grad=True), 7, 0.5, 0.6, 1.5))
            for lib in (torch, gg)]
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-12)
    assert isinstance(_raises_like(torch, lambda lib: lib.nn.functional.local_response_norm(lib.ones(2, 3), 2)),
                      ValueError)
