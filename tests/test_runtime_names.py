"""PyTorch's runtime names: finfo/iinfo, Size, broadcasting, inference_mode, thread and precision settings,
autocast and GradScaler, testing.assert_close, and ``torch.utils`` reachable from ``import torch``."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


@pytest.mark.torch
def test_dtype_limits_are_pytorchs(torch):
    for mine, theirs in [(gg.float16, torch.float16), (gg.float32, torch.float32), (gg.float64, torch.float64)]:
        for field in ("eps", "max", "min", "tiny", "bits", "resolution", "smallest_normal"):
            assert float(getattr(gg.finfo(mine), field)) == float(getattr(torch.finfo(theirs), field)), field
    for mine, theirs in [(gg.int8, torch.int8), (gg.int32, torch.int32), (gg.int64, torch.int64),
                         (gg.uint8, torch.uint8)]:
        assert (gg.iinfo(mine).max, gg.iinfo(mine).min, gg.iinfo(mine).bits) == (
            torch.iinfo(theirs).max, torch.iinfo(theirs).min, torch.iinfo(theirs).bits)
    assert gg.finfo().eps == torch.finfo().eps
    with pytest.raises(TypeError, match="^finfo: expected a floating dtype"):
        gg.finfo(gg.int64)


@pytest.mark.torch
@given(shapes=st.lists(st.lists(st.integers(1, 3), max_size=3), min_size=1, max_size=3), seed=st.integers(0, 99))
def test_broadcasting_matches_pytorch(torch, shapes, seed):
    rng = np.random.default_rng(seed)
    shapes = [tuple(1 if rng.random() < 0.4 else size for size in shape) for shape in shapes]
    try:
        expected = torch.broadcast_shapes(*shapes)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="^broadcast_shapes: shapes .* do not broadcast"):
            gg.broadcast_shapes(*shapes)
        return
    assert gg.broadcast_shapes(*shapes) == expected and gg.Size(expected).numel() == expected.numel()
    arrays = [rng.standard_normal(shape) for shape in shapes]
    results = []
    for lib in (gg, torch):
        tensors = [lib.tensor(array, requires_grad=True) for array in arrays]
        outs = lib.broadcast_tensors(*tensors)
        sum((out * (position + 1)).sum() for position, out in enumerate(outs)).backward()
        results.append([out.detach().numpy() for out in outs] + [t.grad.numpy() for t in tensors])
    for mine, theirs in zip(*results):
        np.testing.assert_array_equal(mine, theirs)


def test_inference_mode_records_nothing_as_a_block_and_as_a_decorator():
    w = gg.ones(2, requires_grad=True)
    with gg.inference_mode():
        assert not (w * 2).requires_grad
    with gg.inference_mode(False):
        assert (w * 2).requires_grad

    @gg.inference_mode()
    def evaluate():
        return (w * 2).requires_grad

    assert evaluate() is False and (w * 2).requires_grad


def test_thread_and_precision_settings():
    before = gg.get_num_threads()
    try:
        gg.set_num_threads(1)
        assert gg.get_num_threads() == 1
    finally:
        gg.set_num_threads(before)
    with pytest.raises(ValueError, match="^set_num_threads: expected a whole number of threads >= 1, got 0$"):
        gg.set_num_threads(0)
    gg.set_float32_matmul_precision("high")
    assert gg.get_float32_matmul_precision() == "high"
    gg.set_float32_matmul_precision("highest")
    with pytest.raises(ValueError, match="^set_float32_matmul_precision: expected one of"):
        gg.set_float32_matmul_precision("low")
    gg.use_deterministic_algorithms(True, warn_only=True)
    assert gg.are_deterministic_algorithms_enabled() and gg.is_deterministic_algorithms_warn_only_enabled()
    gg.use_deterministic_algorithms(False)


@pytest.mark.torch
def test_grad_scaler_trains_and_skips_overflowing_steps_as_pytorch(torch):
    """Float32 SGD with loss scaling: the same weights and the same scale after every step, an overflow included."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    factors = [1.0, 1.0, 1e35, 1.0, 1.0, 1.0, 1.0]  # the third loss overflows once scaled by 2¹⁶: that step is skipped
    runs = []
    for lib, scaler in ((gg, gg.amp.GradScaler("cpu", init_scale=2.0 ** 16, growth_interval=2)),
                        (torch, torch.amp.GradScaler("cpu", init_scale=2.0 ** 16, growth_interval=2))):
        w = lib.tensor(np.array([0.5, -0.25, 1.0], np.float32), requires_grad=True)
        optimizer = lib.optim.SGD([w], lr=0.05)
        trace = []
        for factor in factors:
            optimizer.zero_grad()
            with lib.autocast("cpu", enabled=False), np.errstate(over="ignore", invalid="ignore"):
                loss = ((lib.tensor(x) @ w - lib.tensor(y)) ** 2).mean() * factor
            with np.errstate(over="ignore", invalid="ignore"):
                scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            trace.append((w.detach().numpy().copy(), scaler.get_scale()))
        runs.append(trace)
    for (w_mine, scale_mine), (w_theirs, scale_theirs) in zip(*runs):
        np.testing.assert_allclose(w_mine, w_theirs, rtol=1e-6)  # float32 products round a little differently
        assert scale_mine == scale_theirs
    # scaling by a power of two is exact: the same weights as training unscaled, skipping the overflowing step
    w = gg.tensor(np.array([0.5, -0.25, 1.0], np.float32), requires_grad=True)
    optimizer = gg.optim.SGD([w], lr=0.05)
    for factor in factors:
        optimizer.zero_grad()
        ((gg.tensor(x) @ w - gg.tensor(y)) ** 2).mean().backward()
        if factor == 1.0:
            optimizer.step()
    np.testing.assert_array_equal(w.numpy(), runs[0][-1][0])
    disabled = gg.amp.GradScaler(enabled=False)
    assert disabled.scale(gg.tensor(3.0)).item() == 3.0 and disabled.get_scale() == 1.0


@pytest.mark.torch
@pytest.mark.parametrize("made", ["amp.GradScaler()", "amp.GradScaler('cuda')", "amp.GradScaler('cpu')",
                                  "cuda.amp.GradScaler()", "amp.GradScaler(enabled=False)"])
def test_a_cuda_grad_scaler_turns_itself_off_without_cuda_as_pytorch(torch, made):
    """PyTorch's GradScaler is for "cuda" unless named and, on a machine without CUDA, turns itself off with a
    UserWarning: the loss is not scaled and get_scale() is 1.0. glassgrad (which has no CUDA) kept scaling by 2¹⁶."""
    def outcome(library):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scaler = eval(f"library.{made}")  # noqa: S307 (the spellings above)
        loss = library.tensor(3.0)
        return (scaler.is_enabled(), scaler.get_scale(), scaler.scale(loss).item(), sorted(scaler.state_dict()),
                sum(warning.category is UserWarning for warning in caught))

    assert outcome(gg) == outcome(torch)


@pytest.mark.torch
@pytest.mark.parametrize("actual, expected, kwargs", [
    ([1.0, 2.0], [1.0, 2.0 + 1e-6], {}),
    ([1.0, 2.0], [1.0, 2.0 + 1e-4], {}),
    ([1.0, 2.0], [1.0, 2.1], {"rtol": 0.1, "atol": 0.0}),
    ([1.0, float("nan")], [1.0, float("nan")], {}),
    ([1.0, float("nan")], [1.0, float("nan")], {"equal_nan": True}),
    ([1, 2], [1, 3], {}),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_assert_close_agrees_with_pytorch(torch, actual, expected, kwargs, dtype):
    def outcome(lib, tensor_dtype):
        make = lambda v: lib.tensor(np.array(v, dtype=tensor_dtype if isinstance(v[0], float) else np.int64))  # noqa: E731
        try:
            lib.testing.assert_close(make(actual), make(expected), **kwargs)
            return True
        except AssertionError as error:
            return str(error).replace("torch.", "")

    assert outcome(gg, dtype) == outcome(torch, dtype)


def test_assert_close_names_the_problem():
    with pytest.raises(AssertionError, match=r"^The values for attribute 'shape' do not match: Size\(\[2\]\) != "):
        gg.testing.assert_close(gg.ones(2), gg.ones(3))
    with pytest.raises(AssertionError, match="^The values for attribute 'dtype' do not match: float32 != float64.$"):
        gg.testing.assert_close(gg.ones(2), gg.ones(2, dtype=gg.float64))
    gg.testing.assert_close(gg.ones(2), gg.ones(2, dtype=gg.float64), check_dtype=False)
    mismatch = r"(?s)^Tensor-likes are not close!\n\nMismatched elements: 1 / 2.*item \[1\]$"
    with pytest.raises(AssertionError, match=mismatch):
        gg.testing.assert_close([gg.ones(2), gg.ones(2)], [gg.ones(2), gg.tensor([1.0, 1.5])])


def test_pytorch_code_reaches_utils_data_and_amp_from_import_torch():
    program = ("from glassgrad import torch_names; torch_names.install()\nimport torch\n"
               "loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(4)), batch_size=2)\n"
               "scaler = torch.cuda.amp.GradScaler(enabled=False)\n"
               "with torch.autocast(device_type='cpu', dtype=torch.float16):\n"
               "    print(len(loader), scaler.get_scale(), torch.finfo(torch.float32).eps)")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["2", "1.0", "1.1920928955078125e-07"]  # 2⁻²³
