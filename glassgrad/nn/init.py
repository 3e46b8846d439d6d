"""Weight initialisation (``gg.nn.init``), with PyTorch's names, gains and fan conventions.

Every function fills a tensor **in place** (its ``.array``, outside the graph, as under
``no_grad``) and returns it. Random ones draw from glassgrad's generator
(:func:`glassgrad.manual_seed`), or from ``generator=`` / a fresh ``seed=`` for that call.

For a weight of shape ``(out, in)``: ``fan_in = in``, ``fan_out = out`` (times the
receptive-field size for more than 2 dims). The variance-keeping rules:

* Xavier/Glorot (for tanh/sigmoid): ``std = gain · √(2 / (fan_in + fan_out))``
* Kaiming/He (for ReLU): ``std = gain / √fan``  with ``fan = fan_in`` (or ``fan_out``)

and a uniform ``U(−b, b)`` has ``std = b/√3``, so its bound is ``b = √3 · std``.

>>> import glassgrad as gg
>>> w = gg.zeros(256, 128)
>>> _ = gg.nn.init.kaiming_uniform_(w, nonlinearity="relu", seed=0)
>>> bool(w.abs().max() <= (6 / 128) ** 0.5)    # bound √3 · √2/√128
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import bump_version
from ..creation import pick_generator
from ..tensor import Tensor

LINEAR_GAIN = ("linear", "identity", "conv1d", "conv2d", "conv3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through ``nonlinearity``.

    linear/sigmoid: 1,  tanh: 5/3,  relu: √2,  leaky_relu (slope a, default 0.01): √(2/(1 + a²)),  selu: 3/4.
    """
    if nonlinearity in LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}: use one of "
                     f"{(*LINEAR_GAIN, 'tanh', 'relu', 'leaky_relu', 'selu')}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shaped ``(out, in, *kernel)``."""
    if tensor.ndim < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(this one has shape {tuple(tensor.shape)}); use uniform_/normal_/constant_ for a bias")
    receptive_field = int(np.prod(tensor.shape[2:], dtype=np.int64))
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check_target(tensor: Tensor) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init functions fill a gg.Tensor in place, got {type(tensor).__name__}")
    if tensor.array.dtype.kind != "f":
        raise TypeError(f"init functions fill floating tensors, got {tensor.array.dtype}; convert with .float()")
    return tensor


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write ``values`` into ``tensor.array`` in place (cast to its dtype) and return the tensor."""
    _check_target(tensor).array[...] = values
    bump_version(tensor.array)  # an in-place change, as PyTorch's init functions count it
    return tensor


def _draws(tensor: Tensor, generator: np.random.Generator | None, seed: int | None) -> np.random.Generator:
    """The generator to draw from, once ``tensor`` is known to be fillable (so a bad call draws nothing)."""
    _check_target(tensor)
    return pick_generator(seed, generator)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None,
             seed: int | None = None) -> Tensor:
    """Fill with draws from the uniform distribution ``U(a, b)``."""
    if not a <= b:
        raise ValueError(f"uniform_ expects a <= b, got a={a}, b={b}")
    return _fill(tensor, _draws(tensor, generator, seed).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None,
            seed: int | None = None) -> Tensor:
    """Fill with draws from the normal distribution ``N(mean, std²)``."""
    if not std >= 0:
        raise ValueError(f"normal_ expects std >= 0, got {std}")
    return _fill(tensor, _draws(tensor, generator, seed).normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``."""
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None,
                    seed: int | None = None) -> Tensor:
    """Glorot uniform: ``U(−b, b)`` with ``b = gain · √(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator, seed)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None,
                   seed: int | None = None) -> Tensor:
    """Glorot normal: ``N(0, std²)`` with ``std = gain · √(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator, seed)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: np.random.Generator | None = None, seed: int | None = None) -> Tensor:
    """He uniform: ``U(−b, b)`` with ``b = √3 · gain / √fan`` (``a`` is leaky_relu's negative slope).

    ``nn.Linear``'s default is ``a = √5``: gain ``√(2/6)``, so ``b = 1/√fan_in``.
    """
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator, seed)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: np.random.Generator | None = None, seed: int | None = None) -> Tensor:
    """He normal: ``N(0, std²)`` with ``std = gain / √fan``."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator, seed)
