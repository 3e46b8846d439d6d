"""Mixed precision's names (``torch.autocast``, ``torch.amp.GradScaler``), so AMP training loops run.

``autocast`` lets PyTorch run chosen ops in float16/bfloat16 inside a block; glassgrad computes every op
in its tensors' own dtype, so the block changes no number (the numbers are float32's, which PyTorch would
give with ``enabled=False``); it only sets what ``gg.is_autocast_enabled(device_type)`` and
``gg.get_autocast_dtype(device_type)`` report, as PyTorch's block does. :class:`GradScaler` is PyTorch's loss
scaling: the loss is multiplied by ``scale`` (a float32 number) before ``backward``, ``step`` multiplies the
gradients by float32(1 / scale) and skips the update when one is inf or NaN, and ``update`` multiplies the scale
by ``backoff_factor`` after such a step or by ``growth_factor`` after ``growth_interval`` clean ones, rounding
to float32 as PyTorch's kernel does.

>>> import glassgrad as gg
>>> w = gg.tensor([1.0, 2.0], requires_grad=True)
>>> optimizer, scaler = gg.optim.SGD([w], lr=0.5), gg.amp.GradScaler("cpu")
>>> with gg.autocast("cpu"):
...     loss = (w * w).sum()
>>> scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()
>>> w.tolist()                      # w − 0.5·2w: the unscaled step
[0.0, 0.0]
"""

from __future__ import annotations

import functools
import math
import warnings
from types import SimpleNamespace
from typing import Any

import numpy as np

from .autograd import no_grad, note_unreplayable
from .creation import tensor
from .dtypes import bfloat16
from .settings import warn_at_learners_line
from .tensor import Tensor

_DEFAULT_DTYPES: dict[str, Any] = {"cpu": bfloat16, "cuda": np.dtype(np.float16), "mps": np.dtype(np.float16),
                                    "xpu": bfloat16}
"""PyTorch's default low dtype per device type (``torch.get_autocast_dtype`` before any block sets one)."""
_CPU_DTYPES = (bfloat16, np.dtype(np.float16))
"""The dtypes PyTorch's CPU autocast takes; another one turns the block off with a warning."""
_state: dict[str, list[Any]] = {name: [False, dtype] for name, dtype in _DEFAULT_DTYPES.items()}
"""device type → [enabled, dtype]: what ``is_autocast_enabled``/``get_autocast_dtype`` report (the ops ignore it)."""
_cache = [True]


def _device_type(device_type: Any) -> str:
    """``'cuda:0'`` → ``'cuda'``; PyTorch's ValueError for a non-string, RuntimeError for an unknown name."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    name = device_type.split(":")[0]
    if name not in _state:
        raise RuntimeError(f"autocast: unknown device type {device_type!r}: expected 'cpu' or 'cuda'")
    return name


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """``torch.is_autocast_enabled(device_type)``: True inside an enabled ``autocast(device_type)`` block (no
    argument: ``'cuda'``, as PyTorch's, which is never enabled here)."""
    return bool(_state[_device_type(device_type)][0])


def get_autocast_dtype(device_type: str) -> Any:
    """``torch.get_autocast_dtype(device_type)``: the block's low dtype (``bfloat16`` on a CPU by default)."""
    return _state[_device_type(device_type)][1]


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    """``torch.set_autocast_enabled(device_type, enabled)``: what ``is_autocast_enabled`` reports from now on."""
    _state[_device_type(device_type)][0] = bool(enabled)


def set_autocast_dtype(device_type: str, dtype: Any) -> None:
    """``torch.set_autocast_dtype(device_type, dtype)``: what ``get_autocast_dtype`` reports from now on."""
    _state[_device_type(device_type)][1] = dtype


def is_autocast_available(device_type: str) -> bool:
    """``torch.amp.is_autocast_available``: True for the device types autocast takes."""
    return device_type.split(":")[0] in _state


def is_autocast_cache_enabled() -> bool:
    return _cache[0]


def set_autocast_cache_enabled(enabled: bool) -> None:
    _cache[0] = bool(enabled)


def clear_autocast_cache() -> None:
    """Nothing is cached: glassgrad casts no weights."""


class autocast:
    """A block (or a decorated function) where PyTorch would lower the precision of some ops; glassgrad keeps each
    op in its inputs' dtype. ``device_type`` is ``"cpu"`` or ``"cuda"``, as in PyTorch. The block sets what
    :func:`is_autocast_enabled` and :func:`get_autocast_dtype` report, restored on leaving it (nested blocks
    included); as PyTorch's, a CPU block with a dtype other than ``bfloat16``/``float16`` and a ``"cuda"`` block
    (no GPU) warn and turn themselves off."""

    def __init__(self, device_type: str = "cpu", dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        self.device_type = _device_type(device_type)
        self.fast_dtype = get_autocast_dtype(self.device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else bool(cache_enabled)
        self.enabled = bool(enabled)
        if self.enabled and self.device_type == "cpu" and self.fast_dtype not in _CPU_DTYPES:
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\nCPU Autocast "
                          "only supports dtypes of torch.bfloat16, torch.float16 currently.", UserWarning, stacklevel=2)
            self.enabled = False
        elif self.enabled and self.device_type == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                          stacklevel=2)
            self.enabled = False
        self._saved: list[tuple[list[Any], bool]] = []  # a stack: a recursive decorated function restores each
        # level's state (PyTorch keeps one on the block, so leaving the outer call leaves autocast on)

    def __enter__(self) -> autocast:
        state = _state[self.device_type]
        self._saved.append((list(state), is_autocast_cache_enabled()))
        state[:] = [self.enabled, self.fast_dtype]
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, *exc_info: object) -> bool:
        """Restore the state before the block; False, as PyTorch's: an exception raised in the block goes on."""
        previous, cache = self._saved.pop()
        _state[self.device_type][:] = previous
        set_autocast_cache_enabled(cache)
        return False

    def __call__(self, function: Any) -> Any:
        @functools.wraps(function)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)
        return wrapped


def custom_fwd(fwd: Any = None, *, device_type: str, cast_inputs: Any = None) -> Any:
    """``torch.amp.custom_fwd(device_type=…, cast_inputs=…)`` for an ``autograd.Function``'s ``forward``: with
    ``cast_inputs`` inside an enabled block, its float16/float32 tensor arguments are cast to that dtype (float64
    ones are kept, as PyTorch keeps them) and it runs with autocast off, as PyTorch's; otherwise it runs as
    written."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    device_type = _device_type(device_type)

    @functools.wraps(fwd)
    def forward(*args: Any, **kwargs: Any) -> Any:
        if cast_inputs is None or not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)

        def cast(value: Any) -> Any:
            if isinstance(value, Tensor) and value.is_floating_point() and value.dtype != np.float64:
                return value.to(cast_inputs)
            return value
        with autocast(device_type, enabled=False):
            return fwd(*[cast(a) for a in args], **{k: cast(v) for k, v in kwargs.items()})
    return forward


def custom_bwd(bwd: Any = None, *, device_type: str) -> Any:
    """``torch.amp.custom_bwd(device_type=…)`` for a ``backward``: it runs as written (glassgrad's backward runs
    outside any block's state)."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    _device_type(device_type)
    return bwd


UNREPLAYABLE = ("GradScaler decides in Python whether the gradients are finite (and so whether to step) and how to "
                "change its scale, which a replay would not repeat")
"""Why a ``gg.compile``d step with an enabled scaler runs eagerly (:func:`glassgrad.autograd.note_unreplayable`)."""


def _float32(value: float) -> float:
    """``value`` rounded to float32, as PyTorch's scale tensor holds it (inf past float32's largest)."""
    with np.errstate(over="ignore"):
        return float(np.float32(value))


_UNSCALED, _STEPPED = "unscaled", "stepped"


class GradScaler:
    """Loss scaling for mixed precision, as PyTorch's: ``scaler.scale(loss).backward()``, ``scaler.step(optimizer)``,
    ``scaler.update()``. With ``enabled=False`` every call passes through unchanged.

    The device is ``"cuda"`` unless named, as in PyTorch, and glassgrad has no CUDA: such a scaler turns itself off
    with a warning, as PyTorch's does on a machine without a GPU (``GradScaler("cpu")`` scales).

    The scale is a float32 number, as PyTorch's scale tensor: made from ``init_scale`` at the first ``scale()``
    (before it ``get_scale()`` gives ``init_scale`` as given), and each ``update`` computes
    ``scale × backoff_factor`` or ``scale × growth_factor`` in float64 and rounds it to float32 (a growth that
    would overflow float32 is not taken). ``unscale_`` multiplies each gradient by float32(1 / scale) and notes
    whether a scaled gradient was inf or NaN. Misuse is refused as PyTorch refuses it: ``unscale_`` twice or
    after ``step``, ``step`` twice before ``update`` (RuntimeError), ``update`` before any ``scale`` or with no
    step or ``unscale_`` since the last one (AssertionError), float16 gradients (ValueError)."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        if enabled:  # PyTorch's own two checks, and its class
            if not growth_factor > 1.0:  # raised, not asserted: python -O must not drop the check
                raise AssertionError("The growth factor must be > 1.0.")
            if not backoff_factor < 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        if not 0 < backoff_factor or growth_interval < 1 or init_scale <= 0:
            raise ValueError("GradScaler: needs init_scale > 0, growth_factor > 1, 0 < backoff_factor < 1 and "
                             "growth_interval >= 1")
        if enabled and device == "cuda":
            warn_at_learners_line("GradScaler('cuda') is enabled, but glassgrad has no CUDA: loss scaling is off, as "
                                  "in PyTorch without a GPU (GradScaler('cpu') scales)")
            enabled = False
        self._enabled = bool(enabled)
        self._init_scale = init_scale
        self._scale: float | None = None  # float32's value once scale() has run, as PyTorch's lazy tensor
        self._growth_factor, self._backoff_factor = growth_factor, backoff_factor
        self._growth_interval = int(growth_interval)
        self._init_growth_tracker = 0
        self._growth_tracker = 0
        # id(optimizer) → (stage, whether a gradient was inf or NaN; None when the optimizer had no gradient)
        self._stages: dict[int, tuple[str, bool | None]] = {}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def _check_scale(self, funcname: str) -> float:
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  This may indicate your script did not "
                                 "use scaler.scale(loss or outputs) earlier in the iteration.")
        return self._scale

    def scale(self, outputs: Any) -> Any:
        """``outputs × scale`` (a tensor, or tensors nested in lists and tuples), the scale a 0-d float32 tensor as
        PyTorch's, so a float16 loss gives a float32 scaled loss."""
        if not self._enabled:
            return outputs
        note_unreplayable(UNREPLAYABLE)
        if self._scale is None:
            self._scale, self._growth_tracker = _float32(self._init_scale), self._init_growth_tracker
        scale = tensor(self._scale, dtype=np.float32)

        def apply(value: Any) -> Any:
            if isinstance(value, Tensor):
                return value * scale
            if isinstance(value, (list, tuple)):
                return type(value)(apply(item) for item in value)
            if hasattr(value, "__iter__"):  # another iterable: a lazy map, as PyTorch's
                return map(apply, value)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply(outputs)

    def unscale_(self, optimizer: Any) -> None:
        """Multiply the optimizer's gradients by float32(1 / scale) (once per step), noting whether a scaled one
        was inf or NaN."""
        if not self._enabled:
            return
        note_unreplayable(UNREPLAYABLE)
        stage = self._stages.get(id(optimizer), (None, False))[0]
        if stage == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if stage == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inverse = _float32(1.0 / self._check_scale("unscale_"))
        grads = [param.grad for group in optimizer.param_groups for param in group["params"]
                 if param.grad is not None]
        if any(grad.dtype == np.float16 for grad in grads):
            raise ValueError("Attempting to unscale FP16 gradients.")
        found: bool | None = False if grads else None
        with no_grad():
            for grad in grads:
                found = found or not bool(np.isfinite(grad.array).all())
                grad.mul_(inverse)
        self._stages[id(optimizer)] = (_UNSCALED, found)

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step()`` on the unscaled gradients, skipped (returning None) when one of them is inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale("step")
        stage = self._stages.get(id(optimizer), (None, False))[0]
        if stage == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if stage is None:
            self.unscale_(optimizer)
        found = self._stages[id(optimizer)][1]
        if found is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        self._stages[id(optimizer)] = (_STEPPED, found)
        return None if found else optimizer.step(*args, **kwargs)

    def update(self, new_scale: Any = None) -> None:
        """Multiply the scale by ``backoff_factor`` after a skipped step, by ``growth_factor`` after
        ``growth_interval`` clean steps in a row (each rounded to float32), or set it to ``new_scale``."""
        if not self._enabled:
            return
        note_unreplayable(UNREPLAYABLE)
        scale = self._check_scale("update")
        if new_scale is not None:
            if hasattr(new_scale, "numel"):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise AssertionError("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                                         "torch.FloatTensor with requires_grad=False.")
                new_scale = new_scale.item()
            self._scale = _float32(new_scale)
        else:
            if all(found is None for _, found in self._stages.values()):
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found for _, found in self._stages.values()):
                self._scale = _float32(scale * self._backoff_factor)
                self._growth_tracker = 0
            elif self._growth_tracker + 1 == self._growth_interval:
                grown = _float32(scale * self._growth_factor)
                self._scale = grown if math.isfinite(grown) else scale
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
        self._stages.clear()

    def state_dict(self) -> dict[str, Any]:
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker if self._scale is not None else self._init_growth_tracker}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = state["scale"]
        self._growth_factor, self._backoff_factor = state["growth_factor"], state["backoff_factor"]
        self._growth_interval = state["growth_interval"]
        self._init_growth_tracker = state["_growth_tracker"]
        if self._scale is not None:
            self._scale, self._growth_tracker = _float32(state["scale"]), int(state["_growth_tracker"])


def _renamed(old: str, device: str) -> None:
    warnings.warn(f"`torch.{device}.amp.{old}(args...)` is deprecated. Please use `torch.amp.{old}('{device}', "
                  "args...)` instead.", FutureWarning, stacklevel=3)


def _older_spellings(device: str) -> tuple[type[autocast], type[GradScaler]]:
    """``torch.<device>.amp.autocast(enabled, dtype, cache_enabled)`` and ``torch.<device>.amp.GradScaler(...)``,
    the older spellings of ``autocast(device, …)`` and ``GradScaler(device, …)``: PyTorch 2.13 still runs them,
    with a FutureWarning naming the new one, and so does glassgrad."""

    class OlderAutocast(autocast):
        def __init__(self, enabled: bool = True, dtype: Any = _DEFAULT_DTYPES[device],
                     cache_enabled: bool = True) -> None:
            _renamed("autocast", device)
            super().__init__(device, dtype, enabled, cache_enabled)

    class OlderGradScaler(GradScaler):
        def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                     growth_interval: int = 2000, enabled: bool = True) -> None:
            _renamed("GradScaler", device)
            super().__init__(device, init_scale, growth_factor, backoff_factor, growth_interval, enabled)

    OlderAutocast.__qualname__ = OlderAutocast.__name__ = "autocast"
    OlderGradScaler.__qualname__ = OlderGradScaler.__name__ = "GradScaler"
    OlderAutocast.__module__ = OlderGradScaler.__module__ = f"glassgrad.{device}.amp"
    return OlderAutocast, OlderGradScaler


_CudaAutocast, _CudaGradScaler = _older_spellings("cuda")
_CpuAutocast, _CpuGradScaler = _older_spellings("cpu")
cuda_amp = SimpleNamespace(__name__="glassgrad.cuda.amp", autocast=_CudaAutocast, GradScaler=_CudaGradScaler)
"""``torch.cuda.amp``: ``autocast`` and ``GradScaler`` as older AMP code imports them (deprecated in PyTorch)."""


cpu = SimpleNamespace(__name__="glassgrad.cpu", amp=SimpleNamespace(
    __name__="glassgrad.cpu.amp", autocast=_CpuAutocast, GradScaler=_CpuGradScaler))
"""``torch.cpu.amp``: ``autocast`` and ``GradScaler`` as older CPU AMP code imports them (deprecated in PyTorch)."""
