"""Module forward and backward hooks against PyTorch 2.13 (round 46): call order, replaced arguments, outputs and
gradients, what a hook may return, handles, ``always_call``, global hooks."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _numbers(value):
    """Plain numbers (nested lists) of a tensor, a tuple or list of them, or the value itself."""
    if isinstance(value, (tuple, list)):
        return [_numbers(entry) for entry in value]
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy(), dtype=float).round(10).tolist()
    return value


def _global(lib):
    """Where each library keeps its global module hooks."""
    return lib.nn.modules.module if lib.__name__ == "torch" else lib.nn


def _linear(lib, seed=0, fan_in=2, fan_out=2):
    layer = lib.nn.Linear(fan_in, fan_out).double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(rng.standard_normal((fan_out, fan_in)), dtype=lib.float64))
        layer.bias.copy_(lib.tensor(rng.standard_normal(fan_out), dtype=lib.float64))
    return layer


def _pair(lib):
    """A module of two inputs and a keyword giving a tuple of two outputs."""
    class Pair(lib.nn.Module):
        def forward(self, a, b, scale=1.0):
            return a * b * scale, a + b
    return Pair()


def _both(torch, case):
    """``case(lib)`` on PyTorch and on glassgrad, as numbers (or the exception's class), warnings silenced."""
    results = []
    for lib in (torch, gg):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                results.append(_numbers(case(lib)))
            except Exception as error:  # noqa: BLE001 - the class is what is compared
                results.append(type(error).__name__)
    return results


# --- defects fixed in round 46 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["full", "pre"])
def test_backward_hook_returning_a_list_replaces_the_gradients(torch, kind):
    """A full backward hook (pre-hook) returning a list of gradients raised TypeError; PyTorch takes any sequence
    of the right length."""
    def case(lib):
        layer = _linear(lib, 1)
        if kind == "full":
            layer.register_full_backward_hook(lambda module, grad_input, grad_output: [grad_input[0] * 3])
        else:
            layer.register_full_backward_pre_hook(lambda module, grad_output: [grad_output[0] * 2])
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        layer(x).sum().backward()
        return x.grad, layer.weight.grad
    torch_result, gg_result = _both(torch, case)
    assert gg_result == torch_result
    assert not isinstance(gg_result, str)


def test_backward_hook_returning_gradients_where_no_input_requires_grad_is_refused(torch):
    """Where no input of the call requires grad the hook's returned gradients went nowhere, silently; PyTorch
    raises RuntimeError. A tuple of None is still taken."""
    def case(lib, returned):
        layer = _linear(lib, 2)
        layer.register_full_backward_hook(lambda module, grad_input, grad_output: returned(grad_output))
        layer(lib.tensor([1.0, 2.0], dtype=lib.float64)).sum().backward()
        return layer.weight.grad
    assert _both(torch, lambda lib: case(lib, lambda grad_output: (grad_output[0],))) == ["RuntimeError"] * 2
    torch_result, gg_result = _both(torch, lambda lib: case(lib, lambda grad_output: (None,)))
    assert gg_result == torch_result and not isinstance(gg_result, str)
    layer = _linear(gg, 2)
    layer.register_full_backward_hook(lambda module, grad_input, grad_output: grad_output)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="no input of this call requires grad"):
        layer(gg.tensor([1.0, 2.0], dtype=gg.float64)).sum().backward()
