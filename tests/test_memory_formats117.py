"""Channels-last layouts through vision ops and optimizers, against PyTorch 2.13 CPU (round 117).

Fixed here (all failed on 27815f67; strides only, the numbers were and are PyTorch's):

* ``conv2d`` (and ``conv3d``/``conv_transpose3d`` in float32), ``conv_transpose2d``, ``batch_norm``, ``group_norm``,
  2-d and 3-d max pooling, 2-d average/adaptive/LP pooling and every ``interpolate`` mode gave a channels-last
  input (or, for a convolution, weight) a row-major output; PyTorch's CPU kernels lay it out channels-last.
* ``Adam``'s ``exp_avg``/``exp_avg_sq`` of channels-last parameters were row-major views of one flat buffer;
  PyTorch's state is ``zeros_like(p, memory_format=torch.preserve_format)``.
* ``relu`` of 256 entries and more of a channels-last input was row-major.

Strides are compared on the dims of size > 1 where NumPy's kernels may give a dim of size 1 another stride (no
format reads it).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

FORMATS = ["contiguous_format", "channels_last", "channels_last_3d"]

OPS = {  # name: (spatial dims, call(F, module, x, dtype))
    "conv2d": (2, lambda F, m, x, d: F.conv2d(x, m.tensor(np.linspace(-1, 1, 4 * x.shape[1] * 4).reshape(
        4, x.shape[1], 2, 2).astype(d)), m.tensor(np.arange(4.0).astype(d)), padding=1)),
    "conv2d channels-last weight": (2, lambda F, m, x, d: F.conv2d(x.contiguous(), m.tensor(np.linspace(
        -1, 1, 3 * x.shape[1] * 4).reshape(3, x.shape[1], 2, 2).astype(d)).contiguous(
        memory_format=m.channels_last))),
    "conv3d": (3, lambda F, m, x, d: F.conv3d(x, m.tensor(np.linspace(-1, 1, 2 * x.shape[1] * 8).reshape(
        2, x.shape[1], 2, 2, 2).astype(d)), padding=1)),
    "conv_transpose2d": (2, lambda F, m, x, d: F.conv_transpose2d(x, m.tensor(np.linspace(
        -1, 1, x.shape[1] * 3 * 4).reshape(x.shape[1], 3, 2, 2).astype(d)), stride=2)),
    "conv_transpose3d": (3, lambda F, m, x, d: F.conv_transpose3d(x, m.tensor(np.linspace(
        -1, 1, x.shape[1] * 2 * 8).reshape(x.shape[1], 2, 2, 2, 2).astype(d)))),
    "batch_norm": (2, lambda F, m, x, d: F.batch_norm(x, None, None, training=True)),
    "batch_norm eval": (2, lambda F, m, x, d: F.batch_norm(x, m.zeros(x.shape[1], dtype=x.dtype),
                                                           m.ones(x.shape[1], dtype=x.dtype))),
    "batch_norm 3d": (3, lambda F, m, x, d: F.batch_norm(x, None, None, training=True)),
    "group_norm": (2, lambda F, m, x, d: F.group_norm(x, 1)),
    "group_norm 3d": (3, lambda F, m, x, d: F.group_norm(x, 1)),
    "instance_norm": (2, lambda F, m, x, d: F.instance_norm(x)),
    "instance_norm running": (2, lambda F, m, x, d: F.instance_norm(
        x, m.zeros(x.shape[1], dtype=x.dtype), m.ones(x.shape[1], dtype=x.dtype), use_input_stats=False)),
    "max_pool2d": (2, lambda F, m, x, d: F.max_pool2d(x, 2, ceil_mode=True)),
    "max_pool3d": (3, lambda F, m, x, d: F.max_pool3d(x, 2, ceil_mode=True)),
    "avg_pool2d": (2, lambda F, m, x, d: F.avg_pool2d(x, 2, ceil_mode=True)),
    "avg_pool3d": (3, lambda F, m, x, d: F.avg_pool3d(x, 2, ceil_mode=True)),
    "adaptive_avg_pool2d": (2, lambda F, m, x, d: F.adaptive_avg_pool2d(x, (2, 1))),
    "adaptive_avg_pool2d 1": (2, lambda F, m, x, d: F.adaptive_avg_pool2d(x, 1)),
    "adaptive_avg_pool3d": (3, lambda F, m, x, d: F.adaptive_avg_pool3d(x, 2)),
    "adaptive_max_pool2d": (2, lambda F, m, x, d: F.adaptive_max_pool2d(x, (2, 3))),
    "adaptive_max_pool3d": (3, lambda F, m, x, d: F.adaptive_max_pool3d(x, 2)),
    "lp_pool2d": (2, lambda F, m, x, d: F.lp_pool2d(x, 2, 2, ceil_mode=True)),
    "lp_pool3d": (3, lambda F, m, x, d: F.lp_pool3d(x, 2, 2, ceil_mode=True)),
    "relu": (2, lambda F, m, x, d: F.relu(x.repeat(1, 1, 4, 4))),  # 256 entries and more: NumPy's vector loop
    "nearest": (2, lambda F, m, x, d: F.interpolate(x, scale_factor=1.5)),
    "nearest 3d": (3, lambda F, m, x, d: F.interpolate(x, scale_factor=2)),
    "bilinear": (2, lambda F, m, x, d: F.interpolate(x, size=(3, 5), mode="bilinear")),
    "bilinear kept size": (2, lambda F, m, x, d: F.interpolate(x, size=x.shape[2:], mode="bilinear")),
    "bicubic antialias": (2, lambda F, m, x, d: F.interpolate(x, size=(2, 2), mode="bicubic", antialias=True)),
    "trilinear": (3, lambda F, m, x, d: F.interpolate(x, scale_factor=2, mode="trilinear", align_corners=True)),
    "area": (2, lambda F, m, x, d: F.interpolate(x, size=(2, 3), mode="area")),
}


def _steps(tensor) -> tuple:
    """The strides of the dims of size > 1 (a dim of size 1 steps nothing: NumPy's kernels may give it any
    stride, which no format reads)."""
    return tuple(step for step, size in zip(tensor.stride(), tensor.shape) if size > 1)


def _same(got: gg.Tensor, expected, dtype: str) -> None:
    assert _steps(got) == _steps(expected), (expected.shape, expected.stride(), got.stride())
    for name in FORMATS:
        assert got.is_contiguous(memory_format=getattr(gg, name)) == expected.is_contiguous(
            memory_format=getattr(__import__("torch"), name)), name
    tolerance = 1e-9 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=tolerance, atol=tolerance)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(OPS)), st.sampled_from(["float32", "float64"]), st.integers(1, 3), st.integers(1, 3),
       st.lists(st.integers(2, 5), min_size=3, max_size=3), st.sampled_from(["channels_last", "row-major"]))
def test_vision_ops_lay_out_their_output_and_gradient_as_torch(torch, name, dtype, batch, channels, sizes, layout):
    dims, call = OPS[name]
    shape = (batch, channels, *sizes[:dims])
    if "norm" in name and not name.startswith("group") and batch * int(np.prod(sizes[:dims])) < 2:
        return
    values = np.random.default_rng(len(name)).standard_normal(shape).astype(dtype)
    t, g = torch.tensor(values), gg.tensor(values)
    if layout == "channels_last":
        fmt = "channels_last" if dims == 2 else "channels_last_3d"
        t, g = t.contiguous(memory_format=getattr(torch, fmt)), g.contiguous(memory_format=getattr(gg, fmt))
    t.requires_grad_(), g.requires_grad_()
    expected, got = call(torch.nn.functional, torch, t, dtype), call(gg.nn.functional, gg, g, dtype)
    _same(got, expected, dtype)
    weights = np.cos(np.arange(expected.numel())).reshape(tuple(expected.shape)).astype(dtype)
    (grad_t,) = torch.autograd.grad((expected * torch.tensor(weights)).sum(), t, retain_graph=True)
    (expected * torch.tensor(weights)).sum().backward()
    (got * gg.tensor(weights)).sum().backward()
    assert _steps(g.grad) == _steps(t.grad)
    np.testing.assert_allclose(g.grad.numpy(), grad_t.numpy(), rtol=1e-4 if dtype == "float32" else 1e-9,
                               atol=1e-4 if dtype == "float32" else 1e-9)


@pytest.mark.parametrize("pool", ["max_pool2d", "max_pool3d", "adaptive_max_pool2d", "adaptive_max_pool3d"])
def test_max_pooling_indices_are_laid_out_as_torchs(torch, pool):
    dims = int(pool[-2])
    values = np.random.default_rng(0).standard_normal((2, 3) + (4,) * dims)
    fmt = "channels_last" if dims == 2 else "channels_last_3d"
    t = torch.tensor(values).contiguous(memory_format=getattr(torch, fmt))
    g = gg.tensor(values).contiguous(memory_format=getattr(gg, fmt))
    expected, got = (getattr(m.nn.functional, pool)(x, 2, return_indices=True) for m, x in ((torch, t), (gg, g)))
    for a, b in zip(got, expected):
        assert a.stride() == b.stride()
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    if dims == 3:  # PyTorch's unbatched 3-d pooling gives another layout: not built
        return
    unbatched = getattr(gg.nn.functional, pool)(g[0], 2, return_indices=True)
    assert [a.stride() for a in unbatched] == [b.stride() for b in getattr(torch.nn.functional, pool)(
        t[0], 2, return_indices=True)]


@pytest.mark.parametrize("name, settings_", [
    ("Adam", {}), ("Adam", {"foreach": False}), ("AdamW", {}), ("Adam", {"amsgrad": True}), ("NAdam", {}),
    ("SGD", {"momentum": 0.9}), ("RMSprop", {"momentum": 0.9}), ("Adagrad", {}), ("Adamax", {}), ("RAdam", {}),
])
def test_optimizer_state_of_channels_last_parameters_is_channels_last_as_torchs(torch, name, settings_):
    values = {}
    for m in (torch, gg):
        m.manual_seed(0)
        conv = m.nn.Conv2d(3, 4, 3).to(memory_format=m.channels_last).double()
        with m.no_grad():
            conv.weight.copy_(m.tensor(np.linspace(-1, 1, 108).reshape(4, 3, 3, 3)))
            conv.bias.copy_(m.tensor(np.linspace(0, 1, 4)))
        optimizer = getattr(m.optim, name)(conv.parameters(), lr=0.01, **settings_)
        x = m.tensor(np.linspace(-2, 2, 216).reshape(2, 3, 6, 6)).contiguous(memory_format=m.channels_last)
        for _ in range(3):
            optimizer.zero_grad()
            conv(x).square().sum().backward()
            optimizer.step()
        state = optimizer.state[conv.weight]
        values[m.__name__] = (conv.weight.stride(), conv.weight.detach().numpy().copy(),
                              {k: (v.stride(), v.numpy().copy()) for k, v in state.items() if v.ndim == 4})
    (t_stride, t_weight, t_state), (g_stride, g_weight, g_state) = values["torch"], values["glassgrad"]
    assert g_stride == t_stride and set(g_state) == set(t_state)
    np.testing.assert_allclose(g_weight, t_weight, rtol=1e-9, atol=1e-12)
    for key, (stride, array) in t_state.items():
        assert g_state[key][0] == stride, key
        np.testing.assert_allclose(g_state[key][1], array, rtol=1e-9, atol=1e-12)


def test_row_major_inputs_keep_row_major_outputs_and_the_same_numbers():
    """A row-major input's path is laid out as it was; a channels-last one's gives the same numbers (up to the
    order a reduction such as batch norm's mean adds them in, as in PyTorch)."""
    values = np.random.default_rng(3).standard_normal((2, 3, 5, 5)).astype(np.float32)
    model = gg.nn.Sequential(gg.nn.Conv2d(3, 4, 3, padding=1), gg.nn.BatchNorm2d(4), gg.nn.ReLU(),
                             gg.nn.MaxPool2d(2), gg.nn.Upsample(scale_factor=2, mode="bilinear"))
    plain = model(gg.tensor(values))
    last = model(gg.tensor(values).contiguous(memory_format=gg.channels_last))
    assert plain.is_contiguous() and last.is_contiguous(memory_format=gg.channels_last)
    np.testing.assert_allclose(plain.numpy(), last.numpy(), rtol=1e-5, atol=1e-6)


def test_a_compiled_channels_last_conv_net_step_replays_bit_for_bit_with_eagers_layouts():
    def make():
        gg.manual_seed(0)
        body = gg.nn.Sequential(gg.nn.Conv2d(2, 4, 3, padding=1), gg.nn.BatchNorm2d(4), gg.nn.ReLU(),
                                gg.nn.MaxPool2d(2))
        head = gg.nn.Sequential(gg.nn.Conv2d(4, 3, 1), gg.nn.AdaptiveAvgPool2d(1), gg.nn.Flatten())
        model = gg.nn.Sequential(body, head).to(memory_format=gg.channels_last)
        optimizer = gg.optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            optimizer.zero_grad()
            hidden = body(x)
            loss = gg.nn.functional.cross_entropy(head(hidden), y)
            loss.backward()
            optimizer.step()
            return loss, hidden
        return step, model, optimizer

    rng = np.random.default_rng(1)
    batches = [(gg.tensor(rng.standard_normal((2, 2, 6, 6)).astype(np.float32)).contiguous(
        memory_format=gg.channels_last), gg.tensor(rng.integers(0, 3, 2))) for _ in range(6)]
    runs = []
    for compiled in (False, True):
        step, model, optimizer = make()
        run = gg.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            outs = [run(*batch) for batch in batches]
        runs.append((outs, model, optimizer))
        if compiled:
            assert sum(entry.replays for entry in run.entries.values()) == len(batches) - 2
    (eager, eager_model, eager_opt), (mine, model, optimizer) = runs
    for (loss_e, hidden_e), (loss_c, hidden_c) in zip(eager, mine):
        assert hidden_c.stride() == hidden_e.stride() and hidden_e.is_contiguous(memory_format=gg.channels_last)
        np.testing.assert_array_equal(loss_c.numpy(), loss_e.numpy())
        np.testing.assert_array_equal(hidden_c.numpy(), hidden_e.numpy())
    for a, b in zip(model.parameters(), eager_model.parameters()):
        assert a.stride() == b.stride()
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for a, b in zip(optimizer.state.values(), eager_opt.state.values()):
        for key in a:
            assert a[key].stride() == b[key].stride(), key
            np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())

