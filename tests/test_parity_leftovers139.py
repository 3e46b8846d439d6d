"""Round 139: PyTorch 2.13 parity leftovers, each checked against PyTorch on the same inputs: the number-first
overloads' warning (once per process, as PyTorch's one ``TORCH_WARN_ONCE``), ``profiler.profile(use_cuda=...)``'s
FutureWarning, a size given as a bool to a layer, ASGD after a parameter changed shape, writes into an ``expand``
view, mixed-layout elementwise ops, and the DataLoader's count of usable cores."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.cores import usable_cores

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fresh_warnings(lib: str, code: str) -> list[str]:
    """The categories and first words of the warnings ``code`` gives in a fresh process (``lib`` imported as
    ``lib``), every warning recorded (``"always"``)."""
    program = (f"import warnings, {lib} as lib\nwarnings.simplefilter('always')\n"
               "with warnings.catch_warnings(record=True) as caught:\n"
               "    warnings.simplefilter('always')\n"
               + "".join(f"    {line}\n" for line in code.splitlines())
               + "print('|'.join(f'{w.category.__name__}:{str(w.message)[:24]}' for w in caught))\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": ROOT})
    return [each for each in done.stdout.strip().split("|") if each]


# --- 2. the number-first overloads warn once per process, for all of them together -----------------------------

NUMBER_FIRST = ("x = lib.ones(2)\n"
                "x.sub(2, x)\n"
                "x.sub(2, x)\n"
                "x.add(2, x)\n"
                "x.addcmul(2, x, x)\n"
                "lib.add(x, 2, x)\n"
                "lib.set_warn_always(True)\n"
                "x.add_(2, x)\n"
                "x.addcdiv(2, x, x)\n")


def test_the_number_first_warning_comes_once_per_process_as_pytorchs(torch):
    """PyTorch 2.13 warns from one ``TORCH_WARN_ONCE`` in its argument parser: the first deprecated overload of any
    of add/sub/addcmul/addcdiv in a process, even under ``"always"``; ``set_warn_always(True)`` shows every one.
    glassgrad warned at every call."""
    theirs = _fresh_warnings("torch", NUMBER_FIRST)
    ours = _fresh_warnings("glassgrad", NUMBER_FIRST)
    assert [each.split(":")[0] for each in ours] == [each.split(":")[0] for each in theirs] == ["UserWarning"] * 3
    assert [each.split(":")[1] for each in ours] == [each.split(":")[1] for each in theirs]


# --- 3. torch.profiler.profile(use_cuda=...) ---------------------------------------------------------------------

@pytest.mark.parametrize("use_cuda", [True, False])
def test_profile_use_cuda_gives_pytorchs_future_warning(torch, use_cuda):
    """PyTorch 2.13: any ``use_cuda`` given (True or False) gives one FutureWarning '`use_cuda` is deprecated, use
    `activities` argument instead' and nothing else; glassgrad gave a UserWarning (and none for False)."""
    found = []
    for lib in (torch, gg):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.profiler.profile(use_cuda=use_cuda)
        found.append([(w.category, str(w.message)) for w in caught])
    assert found[1] == found[0] == [(FutureWarning, "`use_cuda` is deprecated, use `activities` argument instead")]
    assert caught[0].filename == __file__


def test_the_older_profiler_and_gpu_activities_still_say_cpu_only(torch):
    """``torch.autograd.profiler.profile(use_cuda=True)`` keeps its FutureWarning and UserWarning (as PyTorch's);
    GPU activities keep glassgrad's UserWarning (PyTorch's says 'CUDA is not available' when it starts)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gg.autograd.profiler.profile(use_cuda=True)
        gg.profiler.profile(activities=[gg.profiler.ProfilerActivity.CPU, gg.profiler.ProfilerActivity.CUDA])
    assert [w.category for w in caught] == [FutureWarning, UserWarning, UserWarning]
    assert {w.filename for w in caught} == {__file__}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gg.profiler.profile()
        gg.autograd.profiler.profile()


# --- 4. ASGD after a parameter changed shape ---------------------------------------------------------------------

@pytest.mark.parametrize("t0", [0, 1e6])
def test_asgd_after_a_parameter_changed_shape_raises_pytorchs_class_at_that_step(torch, t0):
    """PyTorch 2.13 raises RuntimeError at the first step after the change (whatever ``t0``); so does glassgrad."""
    for lib in (torch, gg):
        p = lib.nn.Parameter(lib.ones(3, dtype=lib.float64))
        optimizer = lib.optim.ASGD([p], lr=0.1, t0=t0)
        for _ in range(2):
            p.grad = lib.ones_like(p)
            optimizer.step()
        p.data = lib.ones(5, dtype=lib.float64)
        p.grad = lib.ones(5, dtype=lib.float64)
        with pytest.raises(RuntimeError) as raised:
            optimizer.step()
        if lib is gg:
            assert "\n" not in str(raised.value) and "changed shape" in str(raised.value)


# --- 5. writes into an expand view -------------------------------------------------------------------------------

EXPANDED_WRITES = {
    "x[:, 0] = 5": lambda lib, x: x.__setitem__((slice(None), 0), 5.0),
    "x.add_(1)": lambda lib, x: x.add_(1.0),
    "x.copy_(ones)": lambda lib, x: x.copy_(lib.ones(2, 3)),
    "x.scatter_": lambda lib, x: x.scatter_(1, lib.tensor([[0], [1]]), 7.0),
    "x.masked_scatter_": lambda lib, x: x.masked_scatter_(lib.tensor([[True, False, True], [False, False, False]]),
                                                          lib.arange(6.0)),
}


@pytest.mark.parametrize("site", EXPANDED_WRITES)
def test_a_write_pytorch_refuses_into_an_expand_view_gets_its_class(torch, site):
    """Where PyTorch 2.13 raises 'unsupported operation: more than one element of the written-to tensor refers to a
    single memory location', glassgrad raises the same class, in one line."""
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single "
                                               "memory location") as raised:
            EXPANDED_WRITES[site](lib, lib.zeros(1, 3).expand(2, 3))
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("site", ["x.masked_fill_(mask, 1)", "x[mask] = 5", "x.index_put_((i,), v)", "x[i] = 5",
                                  "x.index_fill_(1, i, 3)"])
def test_a_fill_pytorch_does_with_a_deprecation_warning_is_refused_here(torch, site):
    """PyTorch 2.13 still writes these (each repeated memory location gets the one value) with a UserWarning that
    the use is deprecated; glassgrad refuses them in one line (README: 'differs')."""
    mask, index = gg.tensor([[True, False, True], [False, False, False]]), gg.tensor([0])
    calls = {"x.masked_fill_(mask, 1)": lambda x: x.masked_fill_(mask, 1.0), "x[mask] = 5": lambda x: x.__setitem__(
        mask, 5.0), "x.index_put_((i,), v)": lambda x: x.index_put_((index,), gg.tensor(5.0)),
        "x[i] = 5": lambda x: x.__setitem__(index, 5.0), "x.index_fill_(1, i, 3)": lambda x: x.index_fill_(
            1, index, 3.0)}
    with pytest.raises(RuntimeError, match="clone") as raised:
        calls[site](gg.zeros(1, 3).expand(2, 3))
    assert "\n" not in str(raised.value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = torch.zeros(1, 3).expand(2, 3)
        {"x.masked_fill_(mask, 1)": lambda: x.masked_fill_(torch.tensor(mask.tolist()), 1.0),
         "x[mask] = 5": lambda: x.__setitem__(torch.tensor(mask.tolist()), 5.0),
         "x.index_put_((i,), v)": lambda: x.index_put_((torch.tensor([0]),), torch.tensor(5.0)),
         "x[i] = 5": lambda: x.__setitem__(torch.tensor([0]), 5.0),
         "x.index_fill_(1, i, 3)": lambda: x.index_fill_(1, torch.tensor([0]), 3.0)}[site]()
    assert any("on expanded tensors is deprecated" in str(w.message) for w in caught)


# --- 6. mixed-layout elementwise ops -----------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=4, max_size=4), op=st.sampled_from(["add", "mul", "maximum",
                                                                                      "sub"]),
       first_channels_last=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_mixed_layout_elementwise_ops_give_pytorchs_values(torch, shape, op, first_channels_last, seed):
    """A channels-last tensor with a contiguous one (either first), and a transposed view with a contiguous matrix:
    the same values as PyTorch (the result's layout may differ: see the report of round 139)."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    found = []
    for lib in (torch, gg):
        x, y = lib.tensor(a, dtype=lib.float64), lib.tensor(b, dtype=lib.float64)
        x = x.to(memory_format=lib.channels_last) if first_channels_last else x
        y = y if first_channels_last else y.to(memory_format=lib.channels_last)
        m, t = lib.tensor(a[0, 0], dtype=lib.float64), lib.tensor(b[0, 0].T.copy(), dtype=lib.float64).t()
        found.append([getattr(lib, op)(x, y).numpy(), getattr(lib, op)(t, m).numpy(), getattr(lib, op)(m, t).numpy()])
    for ours, theirs in zip(found[1], found[0]):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


# --- 7. the DataLoader's usable cores ----------------------------------------------------------------------------

@pytest.mark.parametrize("extra", [0, 1])
def test_the_too_many_workers_warning_matches_pytorch_on_this_machines_real_cores(torch, extra):
    """Unpatched: both count the cores this process may run on (``sched_getaffinity`` where the system has it, as
    ``torch._utils.cpu_count``, which round 133's test patches, and glassgrad's ``usable_cores``)."""
    assert usable_cores() == torch._utils.cpu_count()
    workers = usable_cores() + extra
    counts = []
    for lib in (torch, gg):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.zeros(4)), num_workers=workers)
        counts.append([w.category for w in caught])
    assert counts[1] == counts[0] == [UserWarning] * extra


# --- 1. a size given as a bool to a layer ------------------------------------------------------------------------

T, Fa = True, False
BOOL_SIZES = [  # (layer, args, keywords): a bool in each size argument, where it leads a parameter's shape or not
    ("Linear", (T, 3), {}), ("Linear", (3, T), {}), ("Linear", (Fa, 3), {}), ("Linear", (3, T), {"bias": False}),
    ("Bilinear", (T, 2, 3), {}), ("Bilinear", (2, T, 3), {}), ("Bilinear", (2, 2, T), {}),
    ("Conv2d", (T, 3, 2), {}), ("Conv2d", (3, T, 2), {}), ("Conv1d", (3, T, 2), {}), ("Conv2d", (4, 4, 2),
                                                                                        {"groups": T}),
    ("ConvTranspose2d", (T, 3, 2), {}), ("ConvTranspose2d", (3, T, 2), {}),
    ("ConvTranspose2d", (3, T, 2), {"bias": False}),
    ("Embedding", (T, 2), {}), ("Embedding", (2, T), {}), ("Embedding", (2, Fa), {}), ("EmbeddingBag", (T, 2), {}),
    ("EmbeddingBag", (2, T), {}),
    ("LSTM", (2, T), {}), ("LSTM", (T, 2), {}), ("LSTM", (2, 2, T), {}), ("LSTM", (2, Fa), {}),
    ("LSTM", (2, 3), {"proj_size": T}), ("GRU", (2, T), {}), ("GRU", (T, 2), {}), ("RNN", (2, T), {}),
    ("RNN", (T, 2), {}), ("RNN", (2, T), {"bias": False}),
    ("LSTMCell", (T, 2), {}), ("LSTMCell", (2, T), {}), ("GRUCell", (2, T), {}), ("RNNCell", (2, T), {}),
    ("RNNCell", (T, 2), {}), ("LSTMCell", (Fa, 2), {}),
    ("BatchNorm1d", (T,), {}), ("BatchNorm2d", (T,), {"affine": False}),
    ("BatchNorm1d", (T,), {"affine": False, "track_running_stats": False}),
    ("InstanceNorm1d", (T,), {}), ("InstanceNorm1d", (T,), {"affine": True}),
    ("LayerNorm", (T,), {}), ("LayerNorm", ((2, T),), {}), ("RMSNorm", (T,), {}), ("RMSNorm", ((2, T),), {}),
    ("GroupNorm", (1, T), {}), ("GroupNorm", (1, T), {"affine": False}),
    ("MultiheadAttention", (T, 1), {}), ("MultiheadAttention", (2, T), {}),
    ("MultiheadAttention", (2, 1), {"kdim": T}), ("MultiheadAttention", (2, 1), {"kdim": 3, "vdim": T}),
    ("TransformerEncoderLayer", (T, 1), {}), ("TransformerEncoderLayer", (2, T), {}),
    ("TransformerEncoderLayer", (2, 1), {"dim_feedforward": T}),
    ("PReLU", (T,), {}), ("PReLU", (2.5,), {}), ("PReLU", (0,), {}),
    ("AdaptiveLogSoftmaxWithLoss", (8, T, [2]), {}), ("AdaptiveLogSoftmaxWithLoss", (True, 4, [2]), {"div_value": 1.0}),
]


def _built(lib, name: str, args: tuple, keywords: dict) -> object:
    """The parameters' names and shapes of ``lib.nn.<name>(*args, **keywords)``, or the class it raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            layer = getattr(lib.nn, name)(*args, **keywords)
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            return type(error)
    return [(key, tuple(value.shape)) for key, value in layer.named_parameters()]


@pytest.mark.parametrize("name, args, keywords", BOOL_SIZES)
def test_a_bool_size_gives_pytorchs_layer_or_its_type_error(torch, name, args, keywords):
    """PyTorch 2.13's layers pass a bool on as a size (True is 1, False 0); its ``empty(shape)`` refuses one as a
    shape's first entry only (TypeError). So ``Linear(True, 3)`` has weight (3, 1) and ``Linear(3, True)`` raises;
    glassgrad refused every bool (and made ``PReLU(2.5)`` two slopes, where PyTorch raises TypeError)."""
    assert _built(gg, name, args, keywords) == _built(torch, name, args, keywords)


def test_a_layer_built_with_a_bool_size_computes_pytorchs_numbers(torch):
    """``Linear(True, 3)`` is ``Linear(1, 3)``: the same output for the same weights."""
    layers = [lib.nn.Linear(True, 3).double() for lib in (torch, gg)]
    layers[1].load_state_dict({key: gg.tensor(value.detach().numpy()) for key, value in layers[0].state_dict().items()})
    x = np.linspace(-1, 1, 4).reshape(4, 1)
    np.testing.assert_allclose(layers[1](gg.tensor(x)).detach().numpy(),
                               layers[0](torch.tensor(x)).detach().numpy(), rtol=0, atol=1e-12)
    assert layers[1].in_features == 1 and type(layers[1].in_features) is int


KERNEL_LIKE = {  # the settings of convolutions and pools, each given a bool alone, first, second or twice
    "Conv2d kernel_size": lambda lib, v, x: lib.nn.Conv2d(2, 2, v)(x),
    "ConvTranspose2d kernel_size": lambda lib, v, x: lib.nn.ConvTranspose2d(2, 2, v)(x),
    "Conv2d stride": lambda lib, v, x: lib.nn.Conv2d(2, 2, 2, stride=v)(x),
    "Conv2d padding": lambda lib, v, x: lib.nn.Conv2d(2, 2, 2, padding=v)(x),
    "Conv2d dilation": lambda lib, v, x: lib.nn.Conv2d(2, 2, 2, dilation=v)(x),
    "ConvTranspose2d output_padding": lambda lib, v, x: lib.nn.ConvTranspose2d(2, 2, 2, stride=2, output_padding=v)(x),
    "F.conv2d stride": lambda lib, v, x: lib.nn.functional.conv2d(x, lib.ones(2, 2, 2, 2), stride=v),
    "F.max_pool2d kernel_size": lambda lib, v, x: lib.nn.functional.max_pool2d(x, v),
    "F.max_pool2d stride": lambda lib, v, x: lib.nn.functional.max_pool2d(x, 2, stride=v),
    "F.avg_pool2d kernel_size": lambda lib, v, x: lib.nn.functional.avg_pool2d(x, v),
    "AvgPool2d padding": lambda lib, v, x: lib.nn.AvgPool2d(2, padding=v)(x),
    "F.unfold kernel_size": lambda lib, v, x: lib.nn.functional.unfold(x, v),
    "F.fold output_size": lambda lib, v, x: lib.nn.functional.fold(lib.ones(1, 2, 1), v, 1),
}


@pytest.mark.parametrize("site", KERNEL_LIKE)
@pytest.mark.parametrize("value", [True, (True, 2), (2, True), (True, True)], ids=["alone", "first", "second", "both"])
def test_a_bool_kernel_stride_or_padding_gives_pytorchs_result_or_class(torch, site, value):
    """PyTorch's list-of-ints parser refuses a bool alone or first (TypeError) and reads a later one as 0 or 1; a
    convolution layer's ``kernel_size`` only shapes its weight past the channels, so a bool is a size anywhere."""
    found = []
    for lib in (torch, gg):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                found.append(tuple(KERNEL_LIKE[site](lib, value, lib.ones(1, 2, 6, 6)).shape))
            except Exception as error:  # noqa: BLE001 - the class is what is compared
                found.append(type(error))
    assert found[1] == found[0]
