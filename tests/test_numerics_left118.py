"""Round 118: numerics and exception classes against PyTorch 2.13.

* float32 batch_norm / instance_norm of a constant column: the float32 mean's rounding, divided by √(σ² + ε),
  gave up to ±2.5 at ε = 1e-12; the layer-norm row's one correction (round 99) now gives β exactly. PyTorch's
  own output there is ``x·α + (β − μ·α)`` rounded in float32 (α = γ/√(σ² + ε)), β up to a few ulps of ``|x|·α``:
  compared with that bound.
* RNN/GRU take ``proj_size`` by position as PyTorch's ``RNNBase.__init__`` does; a keyword one is refused.
* An optimizer step whose state has the shape a parameter had before it changed shape: RuntimeError.
* ``finfo(None)``, ``finfo('float32')``, ``iinfo('int32')``: TypeError, as PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F

F32 = float(np.finfo(np.float32).eps)


def _pytorch_rounding(x: np.ndarray, eps: float, axes: tuple[int, ...]) -> np.ndarray:
    """The bound on PyTorch's float32 ``x·α + (β − μ·α)`` rounding: 4 ulps of ``(|x| + |μ|)·α`` (γ = 1)."""
    wide = x.astype(np.float64)
    mean = wide.mean(axes, keepdims=True)
    alpha = 1 / np.sqrt(wide.var(axes, keepdims=True) + eps)
    return 4 * F32 * (np.abs(wide) + np.abs(mean)) * alpha + 1e-6


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 3), st.integers(0, 2), st.integers(2, 5),
       st.sampled_from([0.1, 3.7, -123.4, 1e-3, 7.0]), st.sampled_from([1e-12, 1e-5, 1e-3]), st.booleans())
def test_batch_and_instance_norm_of_a_constant_float32_column_give_beta(torch, batch, channels, extra, length,
                                                                        value, eps, constant):
    """Before: (7, 2) of 3.7 at ε = 1e-12 gave 0.28 (PyTorch 0.048), −123.4 gave 2.5 (PyTorch 1.5)."""
    shape = (batch + 1, channels) + (length,) * extra
    rng = np.random.default_rng(batch * 100 + channels * 10 + extra)
    x = np.full(shape, value, np.float32)
    if not constant:  # one channel constant, the others drawn
        x[:, 1:] = rng.standard_normal(x[:, 1:].shape).astype(np.float32)
    axes = (0, *range(2, len(shape)))
    ours, theirs = gg.zeros(channels), torch.zeros(channels)
    our_var, their_var = gg.ones(channels), torch.ones(channels)
    out = F.batch_norm(gg.tensor(x), ours, our_var, training=True, eps=eps).numpy()
    expected = torch.nn.functional.batch_norm(torch.tensor(x), theirs, their_var, training=True, eps=eps).numpy()
    assert (out[:, 0] == 0).all()  # β
    assert (np.abs(out - expected) <= _pytorch_rounding(x, eps, axes)).all()
    scale = float(np.abs(x).max())  # the running statistics: float32 rounding of the column's scale
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-7, atol=F32 * scale)
    np.testing.assert_allclose(our_var.numpy(), their_var.numpy(), rtol=1e-6, atol=F32 * scale ** 2)
    if extra:
        out = F.instance_norm(gg.tensor(x), eps=eps).numpy()
        expected = torch.nn.functional.instance_norm(torch.tensor(x), eps=eps).numpy()
        assert (out[:, 0] == 0).all()
        assert (np.abs(out - expected) <= _pytorch_rounding(x, eps, tuple(range(2, len(shape))))).all()


@pytest.mark.parametrize("layer", ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d",
                                   "InstanceNorm2d", "InstanceNorm3d"])
def test_norm_layers_of_a_constant_float32_input_give_beta_and_pytorchs_running_statistics(torch, layer):
    dims = {"1d": 1, "2d": 2, "3d": 3}[layer[-2:]]
    x = np.full((7, 2) + (3,) * dims, 3.7, np.float32)
    kwargs = {"eps": 1e-12, **({"track_running_stats": True} if layer.startswith("Instance") else {})}
    ours, theirs = getattr(gg.nn, layer)(2, **kwargs), getattr(torch.nn, layer)(2, **kwargs)
    out = ours(gg.tensor(x))
    assert (out.numpy() == 0).all()
    np.testing.assert_allclose(out.numpy(), theirs(torch.tensor(x)).detach().numpy(), atol=0.5)  # its rounding
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=2e-7)


@pytest.mark.parametrize("value,width,eps", [(0.74439096, 20, 1e-3), (-0.3009924, 367, 1e-5), (3.792452, 250, 1e-3),
                                             (0.07175098, 338, 1e-5), (0.5705479, 941, 1e-3)])
@pytest.mark.parametrize("kind", ["layer_norm", "group_norm"])
def test_layer_norm_of_a_constant_float32_slice_is_beta_at_any_eps(torch, value, width, eps, kind):
    """Round 99's rule compared σ² + ε with 2⁻¹⁴·μ², so at ε = 1e-3 or 1e-5 it did not correct the mean and a constant
    slice gave up to ±1e-5 (PyTorch: 0); round 99's own test (atol 1e-6) failed on such draws (about 7% of slices
    drawn as it draws them). The rule now compares σ² alone."""
    def run(lib):
        x = lib.full((2, width), value, dtype=lib.float32)
        if kind == "layer_norm":
            return lib.nn.functional.layer_norm(x, (width,), eps=eps).numpy()
        return lib.nn.functional.group_norm(x.reshape(2, 1, width), 1, eps=eps).numpy()

    assert (run(gg) == 0).all()
    assert (run(torch) == 0).all()


def test_float64_batch_norm_is_untouched():
    """float64 is never corrected: the composed numbers, as before."""
    x = gg.tensor(np.full((7, 2), 3.7))
    mean = x.mean((0,), keepdim=True)
    expected = (x - mean) / (x.var((0,), keepdim=True, correction=0) + 1e-12).sqrt()
    assert np.array_equal(F.batch_norm(x, None, None, training=True, eps=1e-12).numpy(), expected.numpy())


@pytest.mark.parametrize("layer", ["BatchNorm1d", "InstanceNorm1d"])
@pytest.mark.parametrize("constant_first", [False, True])
def test_a_compiled_norm_step_corrects_a_constant_column_as_eager_does(layer, constant_first):
    """The correction is asked for at each call, not once at the capture: a step captured on ordinary batches and
    then given a constant column (or the reverse) gives eager's numbers and gradients, bit for bit (a correction
    decided in Python at the capture was replayed as it was: -0.238 where eager gives 0)."""
    def built():
        gg.manual_seed(0)
        kwargs = {"affine": True, "track_running_stats": True} if layer == "InstanceNorm1d" else {}
        return getattr(gg.nn, layer)(3, eps=1e-12, **kwargs)

    eager_layer, compiled_layer = built(), built()

    def step(module, x):
        out = module(x)
        (out * out.detach().abs()).sum().backward()
        return out

    compiled = gg.compile(lambda x: step(compiled_layer, x))
    rng = np.random.default_rng(1)
    for call in range(4):
        x = rng.standard_normal((6, 3, 4) if layer == "InstanceNorm1d" else (6, 3)).astype(np.float32)
        if (call >= 2) != constant_first:
            x[:, 1] = 3.7
        ours, theirs = compiled(gg.tensor(x)), step(eager_layer, gg.tensor(x))
        assert np.array_equal(ours.detach().numpy(), theirs.detach().numpy())
        for a, b in zip(compiled_layer.parameters(), eager_layer.parameters()):
            assert np.array_equal(a.grad.numpy(), b.grad.numpy())
        for a, b in zip(compiled_layer.buffers(), eager_layer.buffers()):
            assert np.array_equal(a.numpy(), b.numpy())


# --- var / var_mean / std of near-constant float32 rows ---------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=3), st.data(), st.sampled_from([1000.0, -3.7, 0.1, 1e5]),
       st.sampled_from([1e-6, 1e-4, 0.0]))
def test_var_of_near_constant_float32_rows_is_accurate_as_pytorchs(torch, shape, data, centre, spread):
    """Before: var/var_mean of 1000 ± 1e-3 in float32 were off by up to 1% (the float32 mean's rounding δ adds δ²);
    PyTorch's var_mean (and its var over a dim) is within a few ulps. Oracle: the same float32 numbers in float64."""
    shape = tuple(shape)
    dim = data.draw(st.sampled_from([None, *range(len(shape))]))
    count = int(np.prod(shape)) if dim is None else shape[dim]
    if count < 2:
        return
    rng = np.random.default_rng(sum(shape) * 7 + len(shape))
    x = (centre + centre * spread * rng.standard_normal(shape)).astype(np.float32)
    wide = x.astype(np.float64)
    truth = wide.var(axis=dim, ddof=1)
    kwargs = {} if dim is None else {"dim": dim}
    ours, ours_mean = gg.var_mean(gg.tensor(x), **kwargs)
    theirs = torch.var_mean(torch.tensor(x), **kwargs)[0].numpy().astype(np.float64)
    tolerance = 8 * count * F32 * truth  # a float32 sum of n squares' rounding (0 for a constant row: exact)
    assert (np.abs(theirs - truth) <= tolerance).all()
    assert (np.abs(ours.numpy().astype(np.float64) - truth) <= tolerance).all()
    assert (np.abs(gg.tensor(x).var(**kwargs).numpy().astype(np.float64) - truth) <= tolerance).all()
    if spread == 0.0:
        assert (ours.numpy() == 0).all() and (gg.tensor(x).std(**kwargs).numpy() == 0).all()


# --- RNN / GRU: proj_size by position ---------------------------------------------------------------------------

def _outcome(build):
    try:
        module = build()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error)
    return [(name, tuple(p.shape)) for name, p in module.named_parameters()]


@pytest.mark.parametrize("args", [
    ("GRU", 3, 4, 1, True, False, 0.0, False, 0),
    ("GRU", 3, 4, 1, True, False, 0.0, False, 2),
    ("GRU", 3, 4, 1, True, False, 0.0, False, 0, None, "float64"),
    ("GRU", 3, 4, 1, True, False, 0.0, False, 0, None, None, 9),
    ("RNN", 3, 4, 1, "tanh", True, False, 0.0, False, 0),
    ("RNN", 3, 4, 1, "relu", True, False, 0.0, False, 2),
    ("RNN", 3, 4, 1, "tanh", True, False, 0.0, False, 0, None, None, 9),
    ("LSTM", 3, 4, 1, True, False, 0.0, False, 2),
    ("LSTM", 3, 4, 1, True, False, 0.0, False, 0, None, None, 9),
])
def test_rnn_constructors_take_positions_as_pytorch(torch, args):
    """Before: GRU/RNN refused proj_size=0 by position (PyTorch builds the layer), and every class took a 12th
    positional argument (seed) where PyTorch raises TypeError."""
    name, *rest = args

    def build(lib):
        values = [getattr(lib, v) if v == "float64" else v for v in rest]
        return lambda: getattr(lib.nn, name)(*values)

    assert _outcome(build(gg)) == _outcome(build(torch))


@pytest.mark.parametrize("name", ["RNN", "GRU"])
def test_rnn_and_gru_refuse_proj_size_by_keyword_and_cannot_run_with_one(torch, name):
    for lib in (gg, torch):
        with pytest.raises(ValueError, match="proj_size"):
            getattr(lib.nn, name)(3, 4, proj_size=0)
    tail = (1, "tanh", True, False, 0.0, False, 2) if name == "RNN" else (1, True, False, 0.0, False, 2)
    for lib in (gg, torch):
        with pytest.raises(RuntimeError) as caught:
            getattr(lib.nn, name)(3, 4, *tail)(lib.zeros(5, 2, 3))
    message = str(caught.value)
    assert "\n" not in message
    assert gg.nn.GRU(3, 4, 1, True, False, 0.0, False, 0)(gg.zeros(5, 2, 3))[0].shape == (5, 2, 4)


# --- optimizer state of a parameter that changed shape ------------------------------------------------------------

OPTIMIZERS = [("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}), ("Adam", {}),
              ("Adam", {"amsgrad": True}), ("AdamW", {}), ("RMSprop", {}), ("RMSprop", {"momentum": 0.9}),
              ("Adagrad", {}), ("Adadelta", {}), ("Adamax", {}), ("NAdam", {}), ("RAdam", {}), ("ASGD", {})]


def _reshaped_step(m, name, kwargs, old, new):
    """A step, then the parametrized weight assigned a value of shape ``new`` (its original takes that shape), then
    another step: the exception's class and message, or None."""
    class Same(m.nn.Module):
        def forward(self, x):
            return x

        def right_inverse(self, w):
            return w

    layer = m.nn.Linear(old[1], old[0], bias=False).double()
    m.nn.utils.parametrize.register_parametrization(layer, "weight", Same())
    optimizer = getattr(m.optim, name)(layer.parameters(), lr=0.1, **kwargs)
    layer(m.ones(2, old[1], dtype=m.float64)).sum().backward()
    optimizer.step()
    optimizer.zero_grad()
    layer.weight = m.tensor(np.arange(float(np.prod(new))).reshape(new))
    layer(m.ones(2, new[1], dtype=m.float64)).sum().backward()
    try:
        optimizer.step()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error), str(error)
    return None


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS)
@pytest.mark.parametrize("old,new", [((4, 3), (2, 3)), ((1, 3), (4, 3)), ((4, 1), (4, 3)), ((4, 3), (3, 4))])
def test_a_step_with_state_of_the_old_shape_raises_pytorchs_runtime_error(torch, name, kwargs, old, new):
    """Before: NumPy's ValueError ('operands could not be broadcast together')."""
    ours, theirs = _reshaped_step(gg, name, kwargs, old, new), _reshaped_step(torch, name, kwargs, old, new)
    assert theirs is not None and theirs[0] is RuntimeError
    assert ours is not None and ours[0] is RuntimeError
    assert "\n" not in ours[1] and "changed shape" in ours[1]


# --- finfo / iinfo -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda m: m.finfo(None), lambda m: m.finfo("float32"), lambda m: m.iinfo("int32"), lambda m: m.iinfo(None),
    lambda m: m.finfo(np.float32), lambda m: m.finfo(m.int32), lambda m: m.iinfo(m.float32),
    lambda m: m.iinfo(m.bool), lambda m: m.finfo(bool), lambda m: m.iinfo(float),
])
def test_finfo_and_iinfo_refuse_what_pytorch_refuses(torch, call):
    for lib in (gg, torch):
        with pytest.raises(TypeError) as caught:
            call(lib)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("call", [lambda m: m.finfo(), lambda m: m.finfo(float), lambda m: m.iinfo(int),
                                  lambda m: m.finfo(m.float16), lambda m: m.iinfo(m.uint8)])
def test_finfo_and_iinfo_read_what_pytorch_reads(torch, call):
    ours, theirs = call(gg), call(torch)
    fields = ("bits", "eps", "max", "min", "tiny") if hasattr(theirs, "eps") else ("bits", "max", "min")
    assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]
