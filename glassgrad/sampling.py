"""Drawing samples: from a normal distribution, from categories (``multinomial``), shaped like a tensor.

>>> import glassgrad as gg
>>> g = gg.Generator().manual_seed(0)
>>> p = gg.tensor([0.0, 0.3, 0.7])
>>> gg.multinomial(p, 5, replacement=True, generator=g).tolist()  # never 0: its weight is 0
[2, 1, 1, 1, 2]

Like every random function of glassgrad, these draw from ``generator=`` (a
:class:`~glassgrad.generator.Generator` or a NumPy one), a fresh generator for ``seed=``, or
glassgrad's own (:func:`~glassgrad.creation.manual_seed`). A draw from parameters that require grad (``normal``'s
tensor mean and std, ``bernoulli``'s probabilities, ``poisson``'s rates) is in their graph with a gradient of 0, as
in PyTorch (:data:`glassgrad.ops.DRAW`); the others are outside the graph.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .arguments import broadcast_error, resolve_dtype, shape_text, sizes_tuple
from .autograd import recorded_call
from .creation import (
    _float_dtype,
    _leaf,
    _sized,
    _stream,
    drawn,
    laid_like,
    rand,
    randint,
    randn,
    sample_of,
    scaled_draws,
    tensor_argument,
)
from .device import check_device
from .memory_formats import check_memory_format
from .tensor import Tensor


def rand_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              seed: int | None = None, generator: Any = None, memory_format: Any = None) -> Tensor:
    """Uniform samples on [0, 1) in ``input``'s shape and dtype, unless ``dtype`` is given (an integer input
    without a float ``dtype`` is refused, as in PyTorch)."""
    check_memory_format(memory_format, "rand_like", tensor_argument(input, "rand_like", "input", 1).ndim)
    return laid_like(rand(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad,
                          seed=seed, generator=generator), input, memory_format)


def randn_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               seed: int | None = None, generator: Any = None, memory_format: Any = None) -> Tensor:
    """Standard normal samples N(0, 1) in ``input``'s shape and dtype, unless ``dtype`` is given (an integer input
    without a float ``dtype`` is refused, as in PyTorch)."""
    check_memory_format(memory_format, "randn_like", tensor_argument(input, "randn_like", "input", 1).ndim)
    return laid_like(randn(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad,
                           seed=seed, generator=generator), input, memory_format)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False, seed: int | None = None, generator: Any = None,
                 memory_format: Any = None) -> Tensor:
    """Integers from ``[low, high)`` in ``input``'s shape and dtype; ``randint_like(x, high)`` starts at 0."""
    if high is None:
        low, high = 0, low
    check_memory_format(memory_format, "randint_like", tensor_argument(input, "randint_like", "input", 1).ndim)
    return laid_like(randint(low, high, input.shape, seed=seed, generator=generator,
                             dtype=resolve_dtype(dtype) or input.dtype, device=device, requires_grad=requires_grad),
                     input, memory_format)


def normal(mean: Any = 0.0, std: Any = 1.0, size: tuple | None = None, generator: Any = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False, seed: int | None = None) -> Tensor:
    """Samples of N(mean, std²): ``mean + std·z`` with ``z`` standard normal.

    ``mean`` and ``std`` are numbers (then ``size`` gives the shape) or tensors (the result takes
    their broadcast shape: one sample per entry; in their graph when one requires grad, each getting a gradient
    of 0, as in PyTorch: :data:`glassgrad.ops.DRAW`). ``std`` must be ≥ 0.
    """
    check_device(device)
    tensors = tuple(value for value in (mean, std) if isinstance(value, Tensor))
    mean, std = (value.array if isinstance(value, Tensor) else value for value in (mean, std))
    recorded_call(_check_spread, std)  # kernels of a compiled step: std's values are read at each call
    if tensors:
        if size is not None:
            raise TypeError("normal: give either tensors for mean/std (their shape is the result's) or a size")
        if requires_grad:
            raise TypeError("normal: requires_grad= goes with numbers for mean and std (and a size), as in PyTorch; a "
                            "draw from tensors is in their graph when they require grad")
        try:
            shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
        except ValueError:  # PyTorch's class and a line naming the shapes, not NumPy's ValueError
            if (error := broadcast_error("normal", np.shape(mean), np.shape(std))) is None:
                raise
            raise error from None
        dtype = dtype or next((t.dtype for t in tensors if t.dtype.kind == "f"), None)
    elif size is None:
        raise TypeError("normal: with numbers for mean and std, give the size too: gg.normal(0.0, 1.0, size=(2, 3))")
    else:
        shape = _sized((sizes_tuple(size, "normal"),), "normal")
    dtype = _float_dtype(dtype, "normal")
    sample = recorded_call(scaled_draws, "standard_normal", seed, generator, shape, dtype, mean, std)
    return sample_of(sample, tensors, "normal") if tensors else _leaf(sample, requires_grad)


def _check_spread(std: Any) -> None:
    if np.any(np.less(std, 0)) or not np.all(np.isfinite(std)):
        raise RuntimeError(f"normal: std must be finite and >= 0, got {std!r}")


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, generator: Any = None,
                seed: int | None = None) -> Tensor:
    """Category indices drawn with probabilities proportional to ``input``'s weights (int64).

    ``input`` holds non-negative weights, one row per distribution (1-D: one distribution); they
    need not sum to 1. Without replacement each category is drawn at most once, so a row needs at
    least ``num_samples`` categories of non-zero weight. The weights must be a floating tensor: integer or bool
    counts are refused, as PyTorch refuses them (``counts.float()`` first).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: input must be a tensor, got {type(input).__name__}; pass torch.tensor(...)")
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial: needs a floating tensor of weights, got {input.dtype}; convert it with "
                           "x.float()")
    weights = input.array
    shape = np.shape(weights)
    if len(shape) not in (1, 2):
        raise RuntimeError(f"multinomial: the weights must be 1-D or 2-D, got shape {shape_text(shape)}")
    if isinstance(num_samples, Tensor):  # a one-entry integer tensor is its number, as in PyTorch
        num_samples = operator.index(num_samples)
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"multinomial: num_samples must be a whole number > 0 (an int), not "
                        f"{type(num_samples).__name__} ({num_samples!r})")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: num_samples must be a whole number > 0, got {num_samples}")
    if shape[-1] == 0:
        raise RuntimeError("multinomial: there are no categories (the last dim has size 0)")
    return Tensor._wrap(recorded_call(_categories, seed, generator, weights, int(num_samples), bool(replacement)))


def _categories(seed: int | None, generator: Any, weights: Any, count: int, replacement: bool) -> np.ndarray:
    """``count`` categories drawn for each row of ``weights`` (checked first), of shape ``(…, count)``, int64: one
    kernel of a compiled step, which reads the weights and picks the stream (:func:`~glassgrad.creation.drawn`) at
    each call."""
    weights = np.asarray(weights, dtype=np.float64)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise RuntimeError("multinomial: the weights must be finite and >= 0 (no inf, nan or negative entries)")
    rows = weights.reshape(-1, weights.shape[-1])
    totals = rows.sum(axis=1)
    if np.any(totals <= 0):
        raise RuntimeError("multinomial: a row of weights sums to 0, so it is no distribution; give it a positive "
                           "weight somewhere")
    if not replacement and np.any((rows > 0).sum(axis=1) < count):
        raise RuntimeError(f"multinomial: cannot draw {count} samples without replacement from a row with fewer "
                           "categories of non-zero weight; draw fewer, or pass replacement=True")
    stream = _stream(seed, generator)
    drawn = np.array([stream.choice(rows.shape[1], size=count, replace=replacement, p=row / total)
                      for row, total in zip(rows, totals)], dtype=np.int64).reshape(-1, count)  # 0 rows: (0, count)
    return drawn.reshape(weights.shape[:-1] + (count,)).astype(np.int64)


def _rates(input: Any, name: str) -> np.ndarray:
    """``input``'s numbers, which must be floats (the samples take their dtype)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{name}: input must hold floats (the samples take its dtype), got {input.dtype}; "
                                  "convert it with .float()")
    return input.array


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None, seed: int | None = None) -> Tensor:
    """Draws of 1 (with probability ``input``'s entry, or ``p`` for every entry) or 0, in ``input``'s shape and
    dtype. In the graph of ``input`` if it requires grad, with a gradient of 0 (a draw is no function of its
    probabilities: :data:`glassgrad.ops.DRAW`), or, given ``p``, none: backward through it is refused, as in
    PyTorch."""
    chances = _rates(input, "bernoulli")
    sample = recorded_call(flips, seed, generator, chances.shape, chances.dtype, chances if p is None else p,
                           "bernoulli")
    return sample_of(sample, (input,), "bernoulli", differentiable=p is None)


def flips(seed: int | None, generator: Any, shape: tuple, dtype: np.dtype, chances: Any, name: str) -> np.ndarray:
    """1 where a uniform draw on [0, 1) of ``shape`` falls below ``chances`` (each entry's probability, checked to
    be in [0, 1]; a number: every entry's), else 0, in ``dtype``: ``name``'s draws (``bernoulli``,
    ``x.bernoulli_(p)``), one kernel of a compiled step, as :func:`~glassgrad.creation.drawn`."""
    if np.any(~((np.asarray(chances) >= 0) & (np.asarray(chances) <= 1))):
        raise RuntimeError(f"{name}: probabilities must be in [0, 1] (no NaN)")
    return np.asarray(_stream(seed, generator).random(shape) < chances, dtype=dtype)  # 0-d too: an array, no scalar


def poisson(input: Tensor, generator: Any = None, *, seed: int | None = None) -> Tensor:
    """A draw of Poisson(rate) for each entry of ``input`` (the rates, ≥ 0), in its shape and dtype; in the graph of
    ``input`` if it requires grad, with a gradient of 0 (:data:`glassgrad.ops.DRAW`), as in PyTorch."""
    rates = _rates(input, "poisson")
    recorded_call(_check_rates, rates)  # kernels of a compiled step: the rates are read at each call
    return sample_of(recorded_call(drawn, "poisson", seed, generator, rates.shape, rates.dtype, rates), (input,),
                     "poisson")


def _check_rates(rates: np.ndarray) -> None:
    if np.any(~(rates >= 0)) or not np.all(np.isfinite(rates)):
        raise RuntimeError("poisson: rates must be finite and >= 0")
