"""Dropout: during training, zero each input with probability ``p`` and scale the rest by ``1/(1 − p)``.

This is *inverted* dropout (PyTorch's): with a mask ``m ~ Bernoulli(1 − p)``,

    out = x · m / (1 − p)        so  E[out] = x,   and  ∂out/∂x = m / (1 − p)

which lets evaluation use the layer as the identity, with no rescaling. The mask is one
constant tensor multiplied in (no hand-written backward).

>>> import glassgrad as gg
>>> layer = gg.nn.Dropout(0.5, seed=0)
>>> sorted(set(layer(gg.ones(100)).tolist()))
[0.0, 2.0]
>>> layer.eval()(gg.ones(3)).tolist()
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arguments import shape_text, shown
from ..autograd import recorded_call
from ..creation import as_tensor, default_generator, pick_generator
from ..settings import warn_at_learners_line
from ..tensor import Tensor
from .in_place import takes_inplace
from .module import Module


def _check_probability(p: Any) -> float:
    number = not isinstance(p, bool) and isinstance(p, (int, float, np.floating))
    if not number or not 0 <= p <= 1:  # no number: PyTorch's TypeError (of its comparison p < 0)
        raise (ValueError if number else TypeError)(f"dropout probability has to be between 0 and 1, but got "
                                                    f"{shown(p)}")
    return float(p)


def _masked(input: Tensor, p: float, shape: tuple[int, ...], generator: np.random.Generator | None) -> Tensor:
    """``input`` times a mask of ``shape`` (broadcast over it): 0 with probability ``p``, else ``1/(1 − p)``."""
    return input * Tensor._wrap(recorded_call(_draw_mask, generator, p, shape, input.dtype))


def _draw_mask(generator: np.random.Generator | None, p: float, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A fresh mask: 0 with probability ``p``, else ``1/(1 − p)``, drawn from ``generator`` (None: glassgrad's).

    One call, so that a compiled step (:mod:`glassgrad.compiler`) replays the draw itself, from the same stream.
    """
    return np.multiply(_draw_kept(generator, p, shape), 1 / (1 - p), dtype=dtype) if p < 1 else np.zeros(shape, dtype)


def _draw_kept(generator: np.random.Generator | None, p: float, shape: tuple[int, ...]) -> np.ndarray:
    """Which entries stay: True with probability ``1 − p``."""
    rng = generator if generator is not None else default_generator.numpy_generator
    return rng.random(shape, dtype=np.float32) >= p


def _checked_input(input: Any, name: str) -> Tensor:
    """``input`` as a tensor if it holds floats, else PyTorch's RuntimeError for a training dropout of an integer or
    bool tensor (``result type Float can't be cast to the desired output type Long``); glassgrad refuses one in
    eval mode and at p = 0 or 1 too, where PyTorch gives it back (README, "creation, dtypes, random numbers")."""
    input = as_tensor(input)
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name} needs a floating tensor, got {input.dtype}; convert it with .float()")
    return input


@takes_inplace
def dropout(input: Tensor, p: float = 0.5, training: bool = True, *,
            generator: np.random.Generator | None = None) -> Tensor:
    """Inverted dropout of ``input`` (the identity when ``training`` is False or ``p`` is 0).

    The mask is drawn from ``generator``, else from glassgrad's generator (:func:`glassgrad.manual_seed`).
    """
    p = _check_probability(p)
    input = _checked_input(input, "dropout")
    if not training or p == 0:
        return input
    return _masked(input, p, input.array.shape, generator)


def _channel_mask_shape(input: Tensor, name: str, lead: int) -> tuple[int, ...]:
    """One draw per entry of the first ``lead`` dims (2 for a sample's channel in (N, C, …), 1 for the channel of
    an unbatched (C, …)), broadcast over the rest."""
    if input.ndim < lead:
        raise RuntimeError(f"{name}: channel dropout draws once per sample and channel, so the input needs at least "
                           f"2 dims, got shape {shape_text(input.shape)}; use dropout for single entries")
    return input.shape[:lead] + (1,) * (input.ndim - lead)


def _warn_unusual_dims(name: str, ndim: int, usual: tuple[int, int], reading: str) -> None:
    """PyTorch still takes a channel dropout of other dims than its own two, with a deprecation warning: so does
    glassgrad, reading the input as PyTorch 2.13 does."""
    if ndim not in usual:
        warn_at_learners_line(f"{name}: a {ndim}-D input is deprecated (PyTorch will refuse it in a later release) "
                              f"and is read as {reading}; use dropout for entry-wise dropout")


def _channel_dropout(input: Tensor, p: float, training: bool, generator: Any, name: str, lead: int) -> Tensor:
    """``input`` with whole channels zeroed with probability ``p``: one draw per entry of its first ``lead`` dims."""
    p = _check_probability(p)
    if not training or p == 0:
        return input
    return _masked(input, p, _channel_mask_shape(input, name, lead), generator)


@takes_inplace
def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, *,
              generator: np.random.Generator | None = None) -> Tensor:
    """Channel dropout of sequences (N, C, L) or (C, L): each whole channel zeroed with probability ``p``."""
    input = _checked_input(input, "dropout1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: expected input of shape (N, C, L) or (C, L), got {shape_text(input.shape)}")
    return _channel_dropout(input, p, training, generator, "dropout1d", input.ndim - 1)


@takes_inplace
def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, *,
              generator: np.random.Generator | None = None) -> Tensor:
    """Channel dropout of images (N, C, H, W): each whole channel is zeroed with probability ``p`` (one draw per
    sample and channel), the rest scaled by ``1/(1 − p)``. As in PyTorch 2.13, a 3-d input is read as (N, C, L)
    (with PyTorch's warning that a later release reads it as one unbatched image), and other dims as (N, C, …)
    with its deprecation warning."""
    input = _checked_input(input, "dropout2d")
    _warn_unusual_dims("dropout2d", input.ndim, (3, 4), "(N, C, …)")
    if input.ndim == 3:
        warn_at_learners_line("dropout2d: a 3-D input is read as (N, C, L), one draw per sample and channel (PyTorch "
                              "will read it as an unbatched (C, H, W) image in a later release); use dropout1d for "
                              "sequences")
    return _channel_dropout(input, p, training, generator, "dropout2d", 2)


@takes_inplace
def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, *,
              generator: np.random.Generator | None = None) -> Tensor:
    """Channel dropout of volumes (N, C, D, H, W) or (C, D, H, W); other dims as in PyTorch 2.13, with its
    deprecation warning: 5 dims are (N, C, …), any other number (C, …)."""
    input = _checked_input(input, "dropout3d")
    _warn_unusual_dims("dropout3d", input.ndim, (4, 5), "(C, …) (unbatched)")
    return _channel_dropout(input, p, training, generator, "dropout3d", 2 if input.ndim == 5 else 1)


_SELU_NEGATIVE = 1.7580993408473766  # −(SELU's value at −∞) = λ·α: where a dropped SELU output sits


def _alpha_dropout(input: Any, p: float, training: bool, generator: Any, name: str, channels: bool) -> Tensor:
    """Dropout that keeps SELU's mean 0 and variance 1: a dropped entry becomes −λα (SELU's floor), then every
    entry is mapped by ``a·x + b`` with ``a = 1/√((λα)²·p + 1)(1 − p))``, ``b = −a·λα·(1 − m) + a·λα·p``
    (``m`` the 0/1 mask), PyTorch's constants."""
    p = _check_probability(p)
    input = _checked_input(input, name)
    if not training or p == 0:
        return input
    shape = _channel_mask_shape(input, name, 2) if channels else input.shape  # (N, C) of a 2-d input: entry-wise
    if p == 1:
        return input * 0
    scale = 1 / np.sqrt((_SELU_NEGATIVE ** 2 * p + 1) * (1 - p))
    kept = Tensor._wrap(recorded_call(_draw_kept, generator, p, shape)).to(input.dtype)  # each a kernel
    return input * (kept * scale) + ((kept - 1) * (_SELU_NEGATIVE * scale) + _SELU_NEGATIVE * scale * p)


@takes_inplace
def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, *,
                  generator: np.random.Generator | None = None) -> Tensor:
    """Dropout for self-normalising (SELU) networks: entries dropped to SELU's floor, mean and variance kept."""
    return _alpha_dropout(input, p, training, generator, "alpha_dropout", channels=False)


@takes_inplace
def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, *,
                          generator: np.random.Generator | None = None) -> Tensor:
    """:func:`alpha_dropout` of whole channels (one draw per sample and channel)."""
    return _alpha_dropout(input, p, training, generator, "feature_alpha_dropout", channels=True)


class Dropout(Module):
    """Zero each input with probability ``p`` in training (scaling the rest by ``1/(1 − p)``); identity in eval.

    ``seed=`` (or ``generator=``) gives the layer its own random stream, so masks repeat run to run;
    ``inplace=True`` writes the result into the input, as in PyTorch.
    """

    function = staticmethod(dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = _check_probability(p)
        self.inplace = bool(inplace)
        self.generator = pick_generator(seed, generator) if seed is not None or generator is not None else None

    def forward(self, input: Tensor) -> Tensor:
        return self.function(input, self.p, self.training, inplace=self.inplace, generator=self.generator)

    def config(self) -> dict[str, Any]:
        return {"p": self.p, **({"inplace": True} if self.inplace else {})}


class Dropout1d(Dropout):
    """Zero whole channels of sequences (N, C, L) with probability ``p`` in training; identity in eval."""

    function = staticmethod(dropout1d)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability ``p`` in training (the rest scaled by ``1/(1 − p)``),
    as neighbouring pixels are too alike for entry-wise dropout to help; identity in eval."""

    function = staticmethod(dropout2d)


class Dropout3d(Dropout):
    """Zero whole channels of volumes (N, C, D, H, W) with probability ``p`` in training; identity in eval."""

    function = staticmethod(dropout3d)


class AlphaDropout(Dropout):
    """Dropout for SELU networks (:func:`alpha_dropout`): the output keeps mean 0 and variance 1."""

    function = staticmethod(alpha_dropout)


class FeatureAlphaDropout(Dropout):
    """:class:`AlphaDropout` of whole channels."""

    function = staticmethod(feature_alpha_dropout)
