"""Mixed precision's names (``torch.autocast``, ``torch.amp.GradScaler``), so AMP training loops run.

``autocast`` lets PyTorch run chosen ops in float16/bfloat16 inside a block; glassgrad computes every op
in its tensors' own dtype, so the block changes nothing (the numbers are float32's, which PyTorch would
give with ``enabled=False``). :class:`GradScaler` is PyTorch's loss scaling, done exactly: the loss is
multiplied by ``scale`` before ``backward`` (a power of two, so the gradients are scaled exactly too),
``step`` divides the gradients back and skips the update when one is inf or NaN, and ``update``
halves the scale after such a step or doubles it after ``growth_interval`` clean ones.

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

import math
import warnings
from types import SimpleNamespace
from typing import Any

import numpy as np

from .autograd import no_grad, note_unreplayable


class autocast:
    """A block (or a decorated function) where PyTorch would lower the precision of some ops; glassgrad keeps each
    op in its inputs' dtype. ``device_type`` is ``"cpu"`` or ``"cuda"``, as in PyTorch."""

    def __init__(self, device_type: str = "cpu", dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if device_type not in ("cpu", "cuda", "mps", "xpu"):
            raise ValueError(f"autocast: device_type must be 'cpu' or 'cuda' (a device name), got {device_type!r}")
        self.device_type, self.fast_dtype, self.enabled = device_type, dtype, bool(enabled)

    def __enter__(self) -> autocast:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __call__(self, function: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)
        return wrapped


UNREPLAYABLE = ("GradScaler decides in Python whether the gradients are finite (and so whether to step) and how to "
                "change its scale, which a replay would not repeat")
"""Why a ``gg.compile``d step with an enabled scaler runs eagerly (:func:`glassgrad.autograd.note_unreplayable`)."""


class GradScaler:
    """Loss scaling for mixed precision, as PyTorch's: ``scaler.scale(loss).backward()``, ``scaler.step(optimizer)``,
    ``scaler.update()``. With ``enabled=False`` every call passes through unchanged.

    The device is ``"cuda"`` unless named, as in PyTorch, and glassgrad has no CUDA: such a scaler turns itself off
    with a warning, as PyTorch's does on a machine without a GPU (``GradScaler("cpu")`` scales)."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        if growth_factor <= 1 or not 0 < backoff_factor < 1 or growth_interval < 1 or init_scale <= 0:
            raise ValueError("GradScaler: needs init_scale > 0, growth_factor > 1, 0 < backoff_factor < 1 and "
                             "growth_interval >= 1")
        if enabled and device == "cuda":
            warnings.warn("GradScaler('cuda') is enabled, but glassgrad has no CUDA: loss scaling is off, as in "
                          "PyTorch without a GPU (GradScaler('cpu') scales)", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        self._scale = float(init_scale)
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._unscaled: dict[int, bool] = {}  # id(optimizer) → whether a gradient was inf or NaN
        self._skipped = False

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def scale(self, outputs: Any) -> Any:
        """``outputs × scale`` (a tensor, or tensors nested in lists and tuples)."""
        if not self._enabled:
            return outputs
        note_unreplayable(UNREPLAYABLE)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(output) for output in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer: Any) -> None:
        """Divide the optimizer's gradients by the scale (once per step), noting whether one is inf or NaN."""
        if not self._enabled:
            return
        note_unreplayable(UNREPLAYABLE)
        if id(optimizer) in self._unscaled:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update()")
        inverse = 1.0 / self._scale
        found = False
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if param.grad is not None:
                        param.grad.mul_(inverse)
                        found = found or not bool(np.isfinite(param.grad.array).all())
        self._unscaled[id(optimizer)] = found

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step()`` on the unscaled gradients, skipped when one of them is inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._unscaled:
            self.unscale_(optimizer)
        if self._unscaled[id(optimizer)]:
            self._skipped = True
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale: float | None = None) -> None:
        """Halve the scale after a skipped step, double it after ``growth_interval`` clean steps in a row."""
        if not self._enabled:
            return
        note_unreplayable(UNREPLAYABLE)
        if new_scale is not None:
            self._scale = float(new_scale)
        elif self._skipped or any(self._unscaled.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                grown = self._scale * self._growth_factor
                self._scale = grown if math.isfinite(grown) else self._scale
                self._growth_tracker = 0
        self._unscaled.clear()
        self._skipped = False

    def state_dict(self) -> dict[str, Any]:
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not self._enabled:
            return
        self._scale = float(state["scale"])
        self._growth_factor, self._backoff_factor = float(state["growth_factor"]), float(state["backoff_factor"])
        self._growth_interval, self._growth_tracker = int(state["growth_interval"]), int(state["_growth_tracker"])


def _renamed(old: str, device: str) -> None:
    warnings.warn(f"`torch.{device}.amp.{old}(args...)` is deprecated. Please use `torch.amp.{old}('{device}', "
                  "args...)` instead.", FutureWarning, stacklevel=3)


class _CudaAutocast(autocast):
    """``torch.cuda.amp.autocast(enabled, dtype, cache_enabled)``, the older spelling of ``autocast('cuda', …)``:
    PyTorch 2.13 still runs it, with a FutureWarning naming the new one, and so does glassgrad."""

    def __init__(self, enabled: bool = True, dtype: Any = np.float16, cache_enabled: bool = True) -> None:
        _renamed("autocast", "cuda")
        super().__init__("cuda", dtype, enabled, cache_enabled)


class _CudaGradScaler(GradScaler):
    """``torch.cuda.amp.GradScaler(...)``, the older spelling of ``GradScaler('cuda', ...)``, with PyTorch's
    FutureWarning."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        _renamed("GradScaler", "cuda")
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


cuda_amp = SimpleNamespace(__name__="glassgrad.cuda.amp", autocast=_CudaAutocast, GradScaler=_CudaGradScaler)
"""``torch.cuda.amp``: ``autocast`` and ``GradScaler`` as older AMP code imports them (deprecated in PyTorch)."""
