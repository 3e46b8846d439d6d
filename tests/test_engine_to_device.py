"""`.to` called as in PyTorch: a device ('cpu'), a dtype, both, keywords (issue 10, item 13)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


@pytest.mark.parametrize("args, kwargs, dtype", [
    (("cpu",), {}, np.float32),
    (("cpu:0",), {}, np.float32),
    ((), {"device": "cpu"}, np.float32),
    (("cpu", gg.float64), {}, np.float64),
    (("cpu",), {"dtype": gg.float64}, np.float64),
    ((), {"device": "cpu", "dtype": gg.float64}, np.float64),
    ((gg.float64,), {"non_blocking": True}, np.float64),
    ((gg.zeros(1, dtype=gg.float64),), {}, np.float64),
])
def test_to_accepts_pytorch_s_spellings(args, kwargs, dtype):
    x = gg.tensor([1.5, -2.0], requires_grad=True)
    y = x.to(*args, **kwargs)
    assert y.dtype == dtype and y.array.tolist() == [1.5, -2.0]
    if dtype == np.float32:
        assert y is x  # nothing to change: the same tensor, as in PyTorch
    (y * gg.tensor([3.0, 4.0], dtype=dtype)).sum().backward()
    assert x.grad.array.tolist() == [3.0, 4.0]


def test_copy_true_gives_a_new_tensor_in_the_graph():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cpu", copy=True)
    assert y is not x and not np.shares_memory(y.array, x.array)
    (y * 2).sum().backward()
    assert x.grad.array.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("device", ["cuda", "cuda:1", "mps", "xpu"])
def test_other_devices_are_refused_saying_glassgrad_runs_on_the_cpu(device):
    for call in (lambda: gg.ones(2).to(device), lambda: gg.ones(2).to(device=device),
                 lambda: gg.ones(2).to(device, gg.float64), lambda: gg.nn.Linear(2, 2).to(device)):
        with pytest.raises(RuntimeError, match=f"device '{device}' is not available: glassgrad runs on the CPU only"):
            call()


def test_modules_move_to_the_cpu_as_in_pytorch():
    model = gg.nn.Linear(2, 3)
    assert model.to("cpu") is model and model.weight.dtype == np.float32
    assert model.to("cpu", gg.float64).weight.dtype == np.float64
    assert model.to(dtype=gg.float32).weight.dtype == np.float32


def test_arguments_given_twice_or_unknown_are_refused():
    x = gg.ones(2)
    with pytest.raises(TypeError, match="got the device twice"):
        x.to("cpu", device="cpu")
    with pytest.raises(TypeError, match="got the dtype twice"):
        x.to(gg.float64, dtype=gg.float64)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        x.to("cpu", colour="red")
    with pytest.raises(RuntimeError, match="unknown device 'gpu'"):
        x.to(device="gpu")


@pytest.mark.torch
def test_the_same_calls_give_pytorch_s_dtypes(torch):
    ours, theirs = gg.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    for device_and_dtype in [("cpu",), ("cpu", "float64")]:
        mine = ours.to(device_and_dtype[0], *[getattr(gg, d) for d in device_and_dtype[1:]])
        torch_s = theirs.to(device_and_dtype[0], *[getattr(torch, d) for d in device_and_dtype[1:]])
        assert str(mine.dtype) == str(torch_s.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(mine.array, torch_s.numpy())
