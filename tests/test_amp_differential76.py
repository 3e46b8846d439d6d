"""Round 76: mixed precision (``autocast``, ``GradScaler``) against PyTorch 2.13 on a CPU, as courses write it.

A drawn scaler (init_scale, growth/backoff factors, growth_interval, steps whose loss is inf, NaN or overflows once
scaled, ``update(new_scale)``, ``unscale_`` then clipping, a list of losses) trains float32 weights for up to 50
steps on both libraries: the same scale after every step, the same state dict, the same weights. Then PyTorch's
refusals of misuse (class and message), the autocast state functions (nesting, decorator, an exception inside the
block), the older ``torch.cpu.amp`` names and ``torch.amp.custom_fwd``/``custom_bwd``.

glassgrad's ``autocast`` changes no op's dtype (README, devices row: every op runs in its inputs' dtype), so the
drawn runs keep the forward outside a float16 block; ``test_autocast_leaves_op_dtypes_as_documented`` pins that.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _train(lib, init, growth, backoff, interval, bad, new, clip, two, steps, seed):
    """Scales, state dict and weights of a small float32 regression trained with loss scaling on ``lib``."""
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((steps, 5, 3)).astype(np.float32), rng.standard_normal((steps, 5, 2)).astype(np.float32)
    scaler = lib.amp.GradScaler("cpu", init_scale=init, growth_factor=growth, backoff_factor=backoff,
                                growth_interval=interval)
    w = lib.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    b = lib.tensor(np.zeros(2, np.float32), requires_grad=True)
    optimizer = lib.optim.SGD([w, b], lr=0.01, momentum=0.9)
    scales, weights = [], []
    for i in range(steps):
        optimizer.zero_grad()
        loss = ((lib.tensor(x[i]) @ w + b - lib.tensor(y[i])) ** 2).mean()
        with np.errstate(all="ignore"):
            if i in bad:
                loss = loss * bad[i]
            if two:
                first, second = scaler.scale([loss, loss * 0.5])
                (first + second).backward()
            else:
                scaler.scale(loss).backward()
            if clip:
                scaler.unscale_(optimizer)
                lib.nn.utils.clip_grad_norm_([w, b], 1.0)
            scaler.step(optimizer)
        scaler.update(new.get(i))
        scales.append(scaler.get_scale())
        weights.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy()]))
    return scales, scaler.state_dict(), np.array(weights)


@pytest.mark.torch
@given(init=st.sampled_from([2.0 ** 16, 1000.1, 3.0, 0.7, 2.0 ** 120]), growth=st.sampled_from([2.0, 1.5, 3.0, 1.01]),
       backoff=st.sampled_from([0.5, 0.3, 0.9]), interval=st.sampled_from([1, 2, 3, 7, 2000]),
       bad=st.dictionaries(st.integers(0, 29), st.sampled_from([np.inf, np.nan]), max_size=6),
       new=st.dictionaries(st.integers(0, 29), st.sampled_from([8.0, 1000.3]), max_size=1),
       clip=st.booleans(), two=st.booleans(), seed=st.integers(0, 99))
def test_drawn_scaler_runs_match_pytorch(torch, init, growth, backoff, interval, bad, new, clip, two, seed):
    """The fuzzer's core: every step's scale (a float32 number, each update rounded as PyTorch's kernel rounds it),
    the state dict and the weights (float32 rounding) agree with PyTorch's CPU GradScaler."""
    mine = _train(gg, init, growth, backoff, interval, bad, new, clip, two, 30, seed)
    theirs = _train(torch, init, growth, backoff, interval, bad, new, clip, two, 30, seed)
    assert mine[0] == theirs[0]
    assert mine[1] == theirs[1]
    np.testing.assert_allclose(mine[2], theirs[2], rtol=2e-5, atol=2e-6)


@pytest.mark.torch
def test_scale_is_a_float32_number_as_pytorch(torch):
    """The scale was a Python float: init_scale=1000.1 stayed 1000.1 and ``scale × 0.3`` was a float64 product, so
    get_scale() and the state dict drifted from PyTorch's float32 scale tensor (1000.0999755859375) from the first
    step on, and every later scale differed. Now the scale is float32's, each update rounded as PyTorch's."""
    def run(lib):
        scaler = lib.amp.GradScaler("cpu", init_scale=1000.1, growth_factor=1.5, backoff_factor=0.3, growth_interval=2)
        before = (scaler.get_scale(), scaler.state_dict())  # before the first scale(): init_scale as given
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        optimizer = lib.optim.SGD([w], lr=0.1)
        seen = []
        for factor in [1.0, float("inf"), 1.0, 1.0, 1.0, float("nan"), 1.0]:
            optimizer.zero_grad()
            with np.errstate(all="ignore"):
                scaler.scale((w * w).sum() * factor).backward()
            scaler.step(optimizer)
            scaler.update()
            seen.append(scaler.get_scale())
        return before, seen, scaler.state_dict(), w.tolist()
    assert run(gg) == run(torch)


@pytest.mark.torch
def test_scale_growth_stops_below_float32_overflow_as_pytorch(torch):
    """Growth that would overflow float32 is not taken (PyTorch's kernel tests the float32 product)."""
    def run(lib):
        scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 126, growth_interval=1)
        w = lib.tensor([1.0], requires_grad=True)
        optimizer = lib.optim.SGD([w], lr=0.1)
        seen = []
        for _ in range(4):
            optimizer.zero_grad()
            scaler.scale(w.sum() * 1e-30).backward()
            scaler.step(optimizer)
            scaler.update()
            seen.append(scaler.get_scale())
        return seen
    assert run(gg) == run(torch) == [2.0 ** 127] * 4


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("shape", [(), (3,)])
def test_scaled_loss_dtype_and_value_as_pytorch(torch, dtype, shape):
    """The scale multiplies as PyTorch's 0-d float32 tensor: a 0-d float16 loss scaled by 2¹⁶ is a float32 131072
    (glassgrad multiplied by a Python number: float16 inf, and every gradient inf); a 1-d float16 one stays
    float16, a float64 one float64."""
    def run(lib):
        loss = lib.full(shape, 2.0, dtype=getattr(lib, dtype))
        with np.errstate(over="ignore"):
            scaled = lib.amp.GradScaler("cpu").scale(loss)
        return str(scaled.dtype).replace("torch.", ""), tuple(scaled.shape), scaled.detach().double().numpy().tolist()
    assert run(gg) == run(torch)


def _parameter(lib, dtype="float32"):
    w = lib.tensor([1.0, 2.0], dtype=getattr(lib, dtype), requires_grad=True)
    return w, lib.optim.SGD([w], lr=0.1)


def _backward(lib, scaler, dtype="float32"):
    w, optimizer = _parameter(lib, dtype)
    with np.errstate(over="ignore"):
        scaler.scale((w * w).sum()).backward()
    return optimizer


ORDERS = {"unscale_ twice": ("unscale_", "unscale_"), "step twice": ("step", "step"),
          "unscale_ after step": ("step", "unscale_")}


def _misuse(lib, case):
    scaler = lib.amp.GradScaler("cpu")
    if case in ORDERS:
        optimizer = _backward(lib, scaler)
        for name in ORDERS[case]:
            getattr(scaler, name)(optimizer)
    elif case == "closure":
        optimizer = _backward(lib, scaler)
        scaler.step(optimizer, closure=lambda: None)
    elif case == "update before scale":
        scaler.update()
    elif case == "update without step":
        _backward(lib, scaler)
        scaler.update()
    elif case == "float16 gradients":
        optimizer = _backward(lib, scaler, "float16")
        scaler.unscale_(optimizer)
    elif case == "no gradients":
        scaler.scale(lib.tensor(1.0))
        scaler.step(_parameter(lib)[1])
    elif case == "load an empty state":
        scaler.load_state_dict({})
    elif case == "scale a number":
        scaler.scale(2.0)
    elif case == "new_scale of two entries":
        _backward(lib, scaler)
        scaler.update(lib.tensor([8.0, 1.0]))
    elif case == "growth_factor 1":
        lib.amp.GradScaler("cpu", growth_factor=1.0)
    elif case == "backoff_factor 1":
        lib.amp.GradScaler("cpu", backoff_factor=1.0)


MISUSES = ["unscale_ twice", "step twice", "unscale_ after step", "closure", "update before scale",
           "update without step", "float16 gradients", "no gradients", "load an empty state", "scale a number",
           "new_scale of two entries", "growth_factor 1", "backoff_factor 1"]


@pytest.mark.torch
@pytest.mark.parametrize("case", MISUSES)
def test_scaler_misuse_is_refused_as_pytorch(torch, case):
    """PyTorch's class and message for each misuse. glassgrad stepped twice, unscaled after a step, ignored a
    closure, grew the scale on an update with no step (or before any scale), unscaled float16 gradients, stepped an
    optimizer without gradients, raised KeyError on an empty state dict, scaled a Python number, and refused
    factors with ValueError (PyTorch: AssertionError)."""
    outcomes = []
    for lib in (gg, torch):
        with pytest.raises(Exception) as caught, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _misuse(lib, case)
        outcomes.append((type(caught.value), str(caught.value)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.torch
def test_state_dict_moves_between_libraries(torch):
    """A state dict saved by one library's scaler loads into the other's and training goes on with equal scales."""
    def steps(lib, scaler, count):
        w, optimizer = _parameter(lib)
        seen = []
        for i in range(count):
            optimizer.zero_grad()
            with np.errstate(all="ignore"):
                scaler.scale((w * w).sum() * (float("inf") if i == 1 else 1.0)).backward()
            scaler.step(optimizer)
            scaler.update()
            seen.append(scaler.get_scale())
        return seen
    options = {"init_scale": 300.7, "growth_factor": 1.7, "backoff_factor": 0.3, "growth_interval": 2}
    mine, theirs = gg.amp.GradScaler("cpu", **options), torch.amp.GradScaler("cpu", **options)
    assert steps(gg, mine, 3) == steps(torch, theirs, 3)
    assert mine.state_dict() == theirs.state_dict()
    resumed_mine, resumed_theirs = gg.amp.GradScaler("cpu"), torch.amp.GradScaler("cpu")
    resumed_mine.load_state_dict(theirs.state_dict())
    resumed_theirs.load_state_dict(mine.state_dict())
    assert resumed_mine.state_dict() == resumed_theirs.state_dict() == theirs.state_dict()
    assert steps(gg, resumed_mine, 5) == steps(torch, resumed_theirs, 5)
    assert resumed_mine.get_growth_factor() == resumed_theirs.get_growth_factor() == 1.7


@pytest.mark.torch
def test_disabled_scaler_passes_through_as_pytorch(torch):
    def run(lib):
        scaler = lib.amp.GradScaler("cpu", enabled=False)
        loss = lib.tensor(3.0)
        w, optimizer = _parameter(lib)
        (w * w).sum().backward()
        scaler.step(optimizer)
        scaler.update()
        scaler.load_state_dict({})
        return scaler.scale(loss) is loss, scaler.get_scale(), scaler.state_dict(), scaler.is_enabled(), w.tolist()
    assert run(gg) == run(torch)


@pytest.mark.torch
def test_scale_of_nested_lists_and_tuples_as_pytorch(torch):
    def run(lib):
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
        a, b = lib.tensor(1.5), lib.tensor([2.0, 3.0])
        out = scaler.scale([a, (b, [a])])
        lazy = scaler.scale(iter([a, b]))
        return (type(out).__name__, type(out[1]).__name__, out[0].item(), out[1][0].tolist(), out[1][1][0].item(),
                type(lazy).__name__, [t.tolist() for t in lazy])
    assert run(gg) == run(torch)


def _autocast_states(lib):
    seen = [(lib.is_autocast_enabled("cpu"), lib.is_autocast_enabled(), str(lib.get_autocast_dtype("cpu")),
             str(lib.get_autocast_dtype("cuda")))]
    with lib.autocast("cpu"):
        seen.append((lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu"))))
        with lib.autocast(device_type="cpu", dtype=lib.float16):
            seen.append((lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu"))))
            with lib.autocast("cpu", enabled=False, cache_enabled=False):
                seen.append((lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu")),
                             lib.is_autocast_cache_enabled()))
            seen.append((lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu")),
                         lib.is_autocast_cache_enabled()))
        try:
            with lib.amp.autocast("cpu", dtype=lib.float16):
                raise KeyError("inside")
        except KeyError:
            seen.append((lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu"))))

    @lib.autocast("cpu", dtype=lib.float16)
    def decorated():
        """Its docstring."""
        return lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu"))
    seen.append(decorated() + (decorated.__name__, decorated.__doc__))
    seen.append((lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu")),
                 lib.amp.is_autocast_available("cpu")))
    return [tuple(item.replace("torch.", "") if isinstance(item, str) else item for item in row) for row in seen]


@pytest.mark.torch
def test_autocast_state_functions_as_pytorch(torch):
    """``is_autocast_enabled``/``get_autocast_dtype`` were missing (AttributeError): code that asks them, or casts
    to the block's dtype, failed. Now a block sets them (nested blocks, ``enabled=False``, ``cache_enabled``, an
    exception inside, a decorated function) and leaving restores them, as PyTorch's. (A decorated function that
    calls itself leaves PyTorch's autocast on after it returns, the block keeping one saved state: a PyTorch
    quirk; glassgrad restores each level's.)"""
    assert _autocast_states(gg) == _autocast_states(torch)


@pytest.mark.torch
@pytest.mark.parametrize("made", ["autocast('cpu', dtype=lib.float32)", "autocast('cpu', dtype=lib.float64)",
                                  "autocast('cuda')", "autocast('cuda', enabled=False)",
                                  "autocast('cpu', lib.float16, False)",
                                  "cpu.amp.autocast()", "cpu.amp.autocast(dtype=lib.float16)", "cpu.amp.GradScaler()",
                                  "autocast(0)", "autocast('tpu_x')"])
def test_autocast_warnings_and_refusals_as_pytorch(torch, made):
    """A CPU block of a dtype other than bfloat16/float16 and a CUDA block warn and turn themselves off;
    ``torch.cpu.amp``'s names warn FutureWarning (glassgrad had no ``gg.cpu``); a device type that is not a string
    is a ValueError, an unknown one a RuntimeError (glassgrad: ValueError)."""
    def outcome(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                block = eval(f"lib.{made}")  # noqa: S307 (the spellings above)
            except Exception as error:  # noqa: BLE001 (the class is compared)
                return type(error).__name__
        state = None
        if hasattr(block, "__enter__"):
            with block:
                state = lib.is_autocast_enabled("cpu"), lib.is_autocast_enabled("cuda")
        return state, [(w.category.__name__, str(w.message).split(".")[0][:30]) for w in caught]
    assert outcome(gg) == outcome(torch)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_custom_fwd_casts_inputs_and_runs_outside_the_block_as_pytorch(torch, dtype):
    """``torch.amp.custom_fwd(device_type='cpu', cast_inputs=torch.float32)`` on a Function's forward: inside a
    float16 block its float16 inputs are float32 (float64 ones are kept) and autocast is off; ``custom_bwd`` runs
    the backward as written."""
    def run(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type="cpu", cast_inputs=lib.float32)
            def forward(ctx, x):
                ctx.save_for_backward(x)
                Square.seen = (str(x.dtype).replace("torch.", ""), lib.is_autocast_enabled("cpu"))
                return x * x

            @staticmethod
            @lib.amp.custom_bwd(device_type="cpu")
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad
        x = lib.tensor([1.5, -2.0], dtype=getattr(lib, dtype), requires_grad=True)
        with lib.autocast("cpu", dtype=lib.float16):
            y = Square.apply(x)
            inside = y.grad_fn is not None
        y.sum().backward()
        return (inside, str(y.dtype).replace("torch.", ""), y.tolist(), str(x.grad.dtype).replace("torch.", ""),
                x.grad.tolist(), Square.seen)
    assert run(gg) == run(torch)


def test_autocast_leaves_op_dtypes_as_documented():
    """glassgrad's documented limitation (README, devices row): ops in a float16 or bfloat16 block run in their
    inputs' dtype (PyTorch's CPU autocast runs linear, matmul and conv, and ops after them, in float16), while the
    block's state says it is on."""
    layer = gg.nn.Linear(3, 2)
    x = gg.randn(4, 3)
    for dtype in (gg.float16, gg.bfloat16):
        with gg.autocast("cpu", dtype=dtype):
            out = layer(x)
            assert gg.is_autocast_enabled("cpu") and gg.get_autocast_dtype("cpu") is dtype
        assert out.dtype == gg.float32 and gg.softmax(out, 1).dtype == gg.float32
    assert not gg.is_autocast_enabled("cpu") and gg.get_autocast_dtype("cpu") is gg.bfloat16
