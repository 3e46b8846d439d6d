"""Weights re-expressed before each forward: weight normalisation and spectral normalisation.

Both keep the learned numbers in other parameters and make the layer's ``weight`` from them in a
forward pre-hook (PyTorch's ``torch.nn.utils.weight_norm`` and ``spectral_norm``, the hook-based
forms whose state dicts hold ``weight_g``/``weight_v`` and ``weight_orig``/``weight_u``/``weight_v``):

* **weight norm** splits ``w`` into a length and a direction, learned apart (Salimans & Kingma, 2016)::

      w = g · v / ‖v‖        (‖v‖ over every dim but ``dim``: one length per output row for dim 0)

* **spectral norm** divides ``w`` by its largest singular value σ, so the layer stretches no input by more
  than 1 (Miyato et al., 2018; GAN discriminators). σ comes from power iteration on the weight as a
  matrix ``W`` (``dim`` first, the rest flattened), one step per forward in training, the vectors kept
  as buffers ``u`` and ``v``::

      v ← Wᵀu / ‖Wᵀu‖,   u ← Wv / ‖Wv‖   (n_power_iterations times, outside the graph)
      σ = uᵀ W v,        w = w_orig / σ  (the gradient flows through W, with u and v held fixed)

>>> import glassgrad as gg
>>> layer = gg.nn.utils.weight_norm(gg.nn.Linear(3, 2, seed=0))
>>> sorted(name for name, _ in layer.named_parameters())
['bias', 'weight_g', 'weight_v']

``remove_weight_norm``/``remove_spectral_norm`` fold the weight back into one parameter. A layer with
either hook inside a ``gg.compile``d step replays: the weight is made by ops, recorded as kernels, the power
iteration (which reads the values, in Python) is one kernel, run at each training call, and the weight bound to
``module.<name>`` is bound by a kernel too, a value after a replayed call (no ``grad_fn``, as a returned tensor);
the hook's settings (``n_power_iterations``, ``eps``) are guarded as a layer's are.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from ...arguments import check_dim
from ...autograd import bump_version, no_grad, recorded_call
from ...tensor import Tensor
from ..hooks import bind_weight, replayed_hook
from ..module import Module
from ..parameter import Parameter

__all__ = ["remove_spectral_norm", "remove_weight_norm", "spectral_norm", "weight_norm"]


def direction_lengths(v: Any, dim: int | None) -> Any:
    """‖v‖ over every dim but ``dim`` (all of them for None), kept as size-1 dims: works on tensors and arrays."""
    if dim is None:
        return (v * v).sum() ** 0.5
    others = tuple(d for d in range(v.ndim) if d != dim)
    if not others:  # a 1-d v kept along dim 0: each entry is its own slice, ‖vᵢ‖ = |vᵢ| (sum(()) sums all)
        return (v * v) ** 0.5
    return ((v * v).sum(others, keepdims=True) if isinstance(v, np.ndarray)
            else (v * v).sum(others, keepdim=True)) ** 0.5


def weight_matrix(weight: Any, dim: int) -> Any:
    """The weight as a matrix: ``dim`` first, the other dims flattened (a tensor or an array)."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim)) \
            if isinstance(weight, Tensor) else np.moveaxis(weight, dim, 0)
    return weight.reshape(weight.shape[0], -1)


def unit(vector: np.ndarray, eps: float) -> np.ndarray:
    """``vector / max(‖vector‖, eps)`` (PyTorch's ``F.normalize``)."""
    return vector / max(float(np.sqrt((vector * vector).sum())), eps)


def _weight_parameter(module: Module, name: str, owner: str) -> Parameter:
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, (_WeightNorm, _SpectralNorm)) and hook.name == name:
            raise RuntimeError(f"{owner}: {name!r} of this {type(module).__name__} is normalised already")
    weight = module._parameters.get(name)
    if weight is None:
        held = ", ".join(key for key, value in module._parameters.items() if value is not None)
        raise ValueError(f"{owner}: {type(module).__name__} has no parameter {name!r} to normalise; name one it has "
                         f"({held or 'none'})")
    return weight


def _install(module: Module, hook: Any, weight: Tensor) -> None:
    """Make ``weight`` the module's plain attribute ``hook.name`` and run ``hook`` before every forward."""
    object.__setattr__(module, hook.name, weight)
    hook.handle = module.register_forward_pre_hook(hook)


def _uninstall(module: Module, kind: type, name: str, owner: str) -> Any:
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, kind) and hook.name == name:
            hook.handle.remove()
            object.__delattr__(module, name)
            return hook
    raise ValueError(f"{owner}: {name!r} of this {type(module).__name__} is not normalised this way")


# --- weight norm -------------------------------------------------------------------------------

class _WeightNorm:
    """The pre-hook of :func:`weight_norm`: ``module.<name> = g · v / ‖v‖``."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name, self.dim = name, dim

    @property
    def bound_name(self) -> str:
        """The attribute this hook binds (:func:`~glassgrad.nn.hooks.bound_by_hooks`)."""
        return self.name

    @replayed_hook()
    def lengths(self, v: Any) -> Any:
        return direction_lengths(v, self.dim)

    @replayed_hook()
    def weight(self, module: Module) -> Tensor:
        v = getattr(module, self.name + "_v")
        return v * (getattr(module, self.name + "_g") / self.lengths(v))

    @replayed_hook("weight", "lengths")
    def __call__(self, module: Module, inputs: tuple) -> None:
        bind_weight(module, self.name, self.weight(module))


def length_dim(weight: Tensor, dim: int | None) -> int | None:
    """The dim of ``weight`` that keeps one length per slice, from 0 (both weight norms' ``dim``): None for None
    or −1 (as PyTorch: one length for the whole weight); out of range, PyTorch's IndexError; not an int, TypeError."""
    return None if dim is None or (not isinstance(dim, bool) and dim == -1) else check_dim(weight, dim, "weight_norm")


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Learn ``module.<name>`` as a length ``<name>_g`` and a direction ``<name>_v``: ``w = g · v / ‖v‖``.

    ``dim``: the dim that keeps one length per slice (0: per output row); None or −1 (as PyTorch): one length.
    Warns (``FutureWarning``), as PyTorch does: :func:`glassgrad.nn.utils.parametrizations.weight_norm` is the
    newer spelling.
    """
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    weight = _weight_parameter(module, name, "weight_norm")
    hook = _WeightNorm(name, length_dim(weight, dim))
    delattr(module, name)
    module.register_parameter(name + "_g", Parameter(hook.lengths(weight.array)))
    module.register_parameter(name + "_v", Parameter(weight))  # the weight's own memory, as PyTorch's weight.data
    _install(module, hook, hook.weight(module))
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Fold ``g · v / ‖v‖`` back into one parameter ``module.<name>``."""
    hook = _uninstall(module, _WeightNorm, name, "remove_weight_norm")
    with no_grad():
        weight = hook.weight(module)
    delattr(module, name + "_g")
    delattr(module, name + "_v")
    module.register_parameter(name, Parameter(weight.array))
    return module


# --- spectral norm -----------------------------------------------------------------------------

def spectral_dim(module: Module, weight: Tensor, dim: int | None) -> int:
    """The dim of the output channels, from 0: ``dim`` when given (out of range: PyTorch's IndexError, as its
    parametrization raises; not an int: TypeError), else 1 for transposed convolutions and 0 for the rest."""
    from ..conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

    if dim is not None:
        return check_dim(weight, dim, "spectral_norm")
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) and weight.ndim > 1 else 0


def check_power_iterations(n_power_iterations: Any) -> int:
    """``n_power_iterations`` as a Python int: a whole number (a NumPy one too, as PyTorch takes) ≥ 1."""
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, numbers.Integral):
        raise TypeError(f"spectral_norm: n_power_iterations must be a whole number ≥ 1, got "
                        f"{type(n_power_iterations).__name__} {n_power_iterations!r}")
    if n_power_iterations < 1:
        raise ValueError(f"spectral_norm: n_power_iterations must be a whole number ≥ 1, got {n_power_iterations!r}")
    return int(n_power_iterations)


class _SpectralNorm:
    """The pre-hook of :func:`spectral_norm`: ``module.<name> = <name>_orig / σ``."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    @property
    def bound_name(self) -> str:
        """The attribute this hook binds (:func:`~glassgrad.nn.hooks.bound_by_hooks`)."""
        return self.name

    @replayed_hook()
    def matrix(self, weight: Any) -> Any:
        return weight_matrix(weight, self.dim)

    def unit(self, vector: np.ndarray) -> np.ndarray:
        return unit(vector, self.eps)

    @replayed_hook("matrix")
    def weight(self, module: Module, iterate: bool) -> Tensor:
        original = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.matrix(original)
        if iterate:  # one kernel of a compiled step: it reads the values, run again at each call
            recorded_call(_power_iteration, matrix.array, u.array, v.array, self.n_power_iterations, self.eps)
        # u and v copied by kernels: copied in Python, a replay would hold the captures' numbers
        sigma = (Tensor._wrap(recorded_call(np.copy, u.array)) * (matrix @ Tensor._wrap(recorded_call(
            np.copy, v.array)))).sum()
        return original / sigma

    @replayed_hook("weight")
    def __call__(self, module: Module, inputs: tuple) -> None:
        bind_weight(module, self.name, self.weight(module, module.training))


def _power_iteration(matrix: np.ndarray, u: np.ndarray, v: np.ndarray, steps: int, eps: float) -> None:
    """``steps`` steps of power iteration on ``matrix``, written into the buffers ``u`` and ``v`` (each change
    counted): ``v ← Wᵀu / ‖Wᵀu‖, u ← Wv / ‖Wv‖``."""
    for _ in range(steps):
        v[...] = unit(matrix.T @ u, eps)
        u[...] = unit(matrix @ v, eps)
    bump_version(u)
    bump_version(v)


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its largest singular value before every forward (see the module docstring).

    ``u`` and ``v`` start as unit vectors of normal draws from glassgrad's generator (PyTorch's from its own:
    copy its ``weight_u``/``weight_v`` to compare); ``dim`` defaults to 0, and to 1 for transposed convolutions.
    """
    from ...creation import default_generator

    weight = _weight_parameter(module, name, "spectral_norm")
    hook = _SpectralNorm(name, check_power_iterations(n_power_iterations), spectral_dim(module, weight, dim), eps)
    rows, columns = hook.matrix(weight.array).shape
    generator = default_generator.numpy_generator
    u = hook.unit(generator.standard_normal(rows).astype(weight.dtype))
    v = hook.unit(generator.standard_normal(columns).astype(weight.dtype))
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", Tensor._wrap(u))
    module.register_buffer(name + "_v", Tensor._wrap(v))
    _install(module, hook, weight.detach())  # as PyTorch: the plain weight until the first forward
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Fold ``<name>_orig / σ`` (with the current ``u`` and ``v``) back into one parameter ``module.<name>``."""
    hook = _uninstall(module, _SpectralNorm, name, "remove_spectral_norm")
    with no_grad():
        weight = hook.weight(module, iterate=False)
    for suffix in ("_orig", "_u", "_v"):
        delattr(module, name + suffix)
    module.register_parameter(name, Parameter(weight.array))
    return module
