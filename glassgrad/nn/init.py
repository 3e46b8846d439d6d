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

PyTorch's old names without the trailing ``_`` (``uniform``, ``xavier_normal``, …) still work: each warns
(``FutureWarning``) and calls the new one.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from ..arguments import written_number
from ..autograd import recorded_call
from ..creation import _stream, drawn
from ..renamed import renamed
from ..tensor import Tensor, _set_in_place, refuse_inference, writable
from ..tensor_methods import check_spread, check_uniform_bounds

LINEAR_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "sigmoid")

_SKIPPING = ContextVar("skipping_init", default=False)


@contextmanager
def skipped() -> Iterator[None]:
    """Inside, every fill function writes zeros and draws no random numbers (for ``gg.nn.utils.skip_init``)."""
    token = _SKIPPING.set(True)
    try:
        yield
    finally:
        _SKIPPING.reset(token)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through ``nonlinearity``.

    linear/sigmoid: 1,  tanh: 5/3,  relu: √2,  leaky_relu (slope a, default 0.01): √(2/(1 + a²)),  selu: 3/4.
    The linear ones give the int 1, as PyTorch (a program printing the gain shows ``1``).
    """
    if nonlinearity in LINEAR_GAIN:
        return 1
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


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    """Kaiming's fan: ``fan_in`` or ``fan_out`` of :func:`_calculate_fan_in_and_fan_out`, ``mode`` read in any case
    (``"FAN_IN"`` too), as PyTorch's function of this name reads it."""
    if mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


def _check_target(tensor: Tensor) -> Tensor:
    """``tensor`` if it can be filled in place, of any dtype: a constant, the identity or a Dirac delta fills an
    integer or bool tensor too, as PyTorch's (random draws need a float one: :func:`_draws`)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init functions fill a gg.Tensor in place, got {type(tensor).__name__}")
    if tensor._inference:
        refuse_inference("an nn.init function")
    return tensor


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write ``values`` into ``tensor.array`` in place (cast to its dtype) and return the tensor: an in-place
    change, as PyTorch's init functions count it, and a kernel of a compiled step (a tensor the step makes and
    fills, ``nn.init.constant_(gg.empty(n), 0.5)``, is filled at each call)."""
    array = _check_target(tensor).array
    if not array.flags.writeable:  # an expand: one number is written, as PyTorch's fill_; draws are refused
        array = writable("an nn.init function", array, fills=np.ndim(values) == 0)
    recorded_call(_set_in_place, array, ..., 0.0 if _SKIPPING.get() else values)
    return tensor


def _stream_for(tensor: Tensor, generator: np.random.Generator | None, seed: int | None) -> tuple:
    """``(seed, generator)``, the stream to draw from (:func:`glassgrad.creation.drawn`), once ``tensor`` is known to
    be fillable with random floats (so a bad call draws nothing). The draws are kernels of a compiled step, which
    draws them again at each call from the stream picked then."""
    if _check_target(tensor).array.dtype.kind != "f":  # PyTorch's class: its kernels have no integer version
        raise NotImplementedError(f"init functions draw random numbers into floating tensors, got "
                                  f"{tensor.array.dtype}; convert with .float()")
    return (0, None) if _SKIPPING.get() else (seed, generator)  # skipping: a throwaway stream, the others untouched


def _draws(tensor: Tensor, kind: str, generator: np.random.Generator | None, seed: int | None, shape: tuple,
           *params: Any) -> np.ndarray:
    """Float64 draws of NumPy's ``kind`` (``uniform``, ``normal``, ``random``) of ``shape``, from
    :func:`_stream_for`'s stream."""
    return recorded_call(drawn, kind, *_stream_for(tensor, generator, seed), shape, np.float64, *params)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None,
             seed: int | None = None) -> Tensor:
    """Fill with draws from the uniform distribution ``U(a, b)``, its bounds checked as ``x.uniform_`` checks them."""
    check_uniform_bounds("uniform_", _check_target(tensor).array.dtype, a, b)
    return _fill(tensor, _draws(tensor, "uniform", generator, seed, tensor.array.shape, a, b))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None,
            seed: int | None = None) -> Tensor:
    """Fill with draws from the normal distribution ``N(mean, std²)``."""
    check_spread("normal_", std)
    return _fill(tensor, _draws(tensor, "normal", generator, seed, tensor.array.shape, mean, std))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``, written as ``fill_`` writes it (into an integer tensor 2.7 is cut to 2)."""
    return _fill(tensor, written_number(val, _check_target(tensor).array.dtype, "constant_"))


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1.0)


def _xavier_std(tensor: Tensor, gain: float) -> float:
    """Glorot's ``std = gain · √(2 / (fan_in + fan_out))``; no fans at all (shape ``(0, 0)``) is PyTorch's
    ZeroDivisionError, here with a message."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if fan_in + fan_out == 0:
        raise ZeroDivisionError(f"xavier init of shape {tuple(tensor.shape)}: fan_in + fan_out is 0 (PyTorch's float "
                                f"division by zero); a tensor without entries needs no init")
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None,
                    seed: int | None = None) -> Tensor:
    """Glorot uniform: ``U(−b, b)`` with ``b = gain · √(6 / (fan_in + fan_out))``."""
    bound = math.sqrt(3.0) * _xavier_std(tensor, gain)
    return uniform_(tensor, -bound, bound, generator, seed)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None,
                   seed: int | None = None) -> Tensor:
    """Glorot normal: ``N(0, std²)`` with ``std = gain · √(2 / (fan_in + fan_out))``."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain), generator, seed)


def _empty(tensor: Tensor) -> bool:
    """Whether ``tensor`` has no entries (a fan of 0, no bound to draw from): then Kaiming's fills leave it, with
    PyTorch's warning."""
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: np.random.Generator | None = None, seed: int | None = None) -> Tensor:
    """He uniform: ``U(−b, b)`` with ``b = √3 · gain / √fan`` (``a`` is leaky_relu's negative slope).

    ``nn.Linear``'s default is ``a = √5``: gain ``√(2/6)``, so ``b = 1/√fan_in``.
    """
    if _empty(tensor):
        return tensor
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator, seed)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: np.random.Generator | None = None, seed: int | None = None) -> Tensor:
    """He normal: ``N(0, std²)`` with ``std = gain / √fan``."""
    if _empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator, seed)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: np.random.Generator | None = None, seed: int | None = None) -> Tensor:
    """Fill with draws from ``N(mean, std²)`` kept inside ``[a, b]``, by inverting its distribution function.

    In standard units ``α = (a − mean)/std``, ``β = (b − mean)/std``, a uniform ``U ~ U(0, 1)`` gives the draw
    ``mean + std · Φ⁻¹((1 − U)·Φ(α) + U·Φ(β))``, with Φ the standard normal's distribution function. That is
    one draw per entry wherever ``[a, b]`` lies (redrawing the normal draws outside it never ends for an
    interval far in a tail, where almost none fall). Φ is read in logarithms (``log Φ``, ``Φ⁻¹(e^y)``), and an
    interval whose middle lies above the mean is drawn mirrored, at ``[−β, −α]``, then negated: so ``Φ`` stays
    the small left tail that a float holds to full precision.

    ``a == b`` fills every entry with ``a``, as PyTorch; ``a > b`` is PyTorch's RuntimeError. PyTorch warns
    "mean is more than 2 std from [a, b]" (its draws may then be wrong); these are exact there, so no warning.
    """
    if not std > 0:
        raise ValueError(f"trunc_normal_ expects std > 0, got std={std}")
    if not a <= b:
        raise RuntimeError(f"trunc_normal_ expects a <= b, got a={a}, b={b}: swap them")
    uniform = _draws(tensor, "random", generator, seed, tensor.array.shape)
    return _fill(tensor, recorded_call(_truncated_normal, uniform, mean, std, a, b))


def _truncated_normal(uniform: np.ndarray, mean: float, std: float, a: float, b: float) -> np.ndarray:
    """:func:`trunc_normal_`'s draws from its uniform ones (a kernel of a compiled step, as the draw)."""
    from scipy.special import log_ndtr, ndtri_exp  # here, not at the top: `import glassgrad` does not load SciPy

    low, high = (a - mean) / std, (b - mean) / std
    mirrored = low + high > 0
    if mirrored:
        low, high = -high, -low
    with np.errstate(divide="ignore"):  # log 0 = −∞ where U = 0: the draw is then the interval's end
        log_share = np.logaddexp(np.log1p(-uniform) + log_ndtr(low), np.log(uniform) + log_ndtr(high))
    standard = ndtri_exp(log_share)
    return np.clip(mean + std * (-standard if mirrored else standard), a, b)  # the ends, where rounding stepped past


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None,
                seed: int | None = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain``: the Q of the QR factorisation of a normal draw, its
    signs fixed by R's diagonal (the rows are orthonormal when there are fewer rows than columns, else the
    columns); more than 2 dims are flattened after the first."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_ expects a tensor with at least 2 dims, got shape {tuple(tensor.shape)}")
    rows = tensor.shape[0]
    if tensor.numel() == 0:  # nothing to fill (PyTorch's no-op, without a warning)
        return tensor
    columns = tensor.array.size // rows
    flat = _draws(tensor, "normal", generator, seed, (rows, columns), 0.0, 1.0)
    return _fill(tensor, recorded_call(_orthogonal, flat, gain, tensor.array.shape))


def _orthogonal(flat: np.ndarray, gain: float, shape: tuple) -> np.ndarray:
    """:func:`orthogonal_`'s matrix from its normal draws ``flat`` (a kernel of a compiled step, as the draw)."""
    rows, columns = flat.shape
    q, r = np.linalg.qr(flat.T if rows < columns else flat)
    q = q * np.sign(np.diag(r))
    return gain * (q.T if rows < columns else q).reshape(shape)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal): a linear layer that starts as a copy."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_ expects a 2-D tensor, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: each output channel copies its input channel
    (within each of ``groups`` groups) at the kernel's centre."""
    if tensor.ndim not in (3, 4, 5) or tensor.shape[0] % groups:
        raise ValueError(f"dirac_ expects a 3-, 4- or 5-D weight whose dim 0 divides into {groups} groups, got shape "
                         f"{tuple(tensor.shape)}")
    values = np.zeros(tensor.shape)
    per_group = tensor.shape[0] // groups
    centre = tuple(size // 2 for size in tensor.shape[2:])
    for group in range(groups):
        for channel in range(min(per_group, tensor.shape[1])):
            values[(group * per_group + channel, channel, *centre)] = 1.0
    return _fill(tensor, values)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: np.random.Generator | None = None,
            seed: int | None = None) -> Tensor:
    """Fill a 2-D tensor with draws from ``N(0, std²)`` and set ``⌈sparsity · rows⌉`` entries of each column
    to 0 (at random rows)."""
    if tensor.ndim != 2 or not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_ expects a 2-D tensor and a sparsity in [0, 1], got shape {tuple(tensor.shape)} "
                         f"and sparsity={sparsity}")
    check_spread("sparse_", std)
    zeros = math.ceil(sparsity * tensor.shape[0])
    return _fill(tensor, recorded_call(_sparse, *_stream_for(tensor, generator, seed), tensor.array.shape, std, zeros))


def _sparse(seed: int | None, generator: np.random.Generator | None, shape: tuple, std: float,
            zeros: int) -> np.ndarray:
    """:func:`sparse_`'s values: draws of ``N(0, std²)``, then ``zeros`` entries of each column set to 0, at rows
    drawn from the same stream (one kernel of a compiled step, as :func:`glassgrad.creation.drawn`)."""
    stream = _stream(seed, generator)
    values = stream.normal(0.0, std, shape)
    for column in range(shape[1]):
        values[stream.permutation(shape[0])[:zeros], column] = 0.0
    return values


def _old_spelling(new: Any) -> Any:
    """PyTorch's name of ``new`` from before the trailing ``_`` (``uniform`` for ``uniform_``): warns, then calls it."""
    return renamed(new, f"gg.nn.init.{new.__name__[:-1]}", f"gg.nn.init.{new.__name__}")


uniform, normal, constant = _old_spelling(uniform_), _old_spelling(normal_), _old_spelling(constant_)
xavier_uniform, xavier_normal = _old_spelling(xavier_uniform_), _old_spelling(xavier_normal_)
kaiming_uniform, kaiming_normal = _old_spelling(kaiming_uniform_), _old_spelling(kaiming_normal_)
orthogonal, sparse = _old_spelling(orthogonal_), _old_spelling(sparse_)
dirac, eye = _old_spelling(dirac_), _old_spelling(eye_)
