"""``nn.DataParallel``: PyTorch's wrapper that splits a batch over several GPUs, here on the one CPU.

Programs wrap their model when more than one GPU is found and unwrap it before saving
(``if isinstance(model, nn.DataParallel): model = model.module``, as Deep Learning with PyTorch's
training scripts do). On a machine without GPUs PyTorch's wrapper calls the model itself, and so
does this one: ``DataParallel(model)(x) = model(x)``, the model registered as ``module`` (so the state
dict's keys read ``module.weight`` …, as in PyTorch).

>>> import glassgrad as gg
>>> wrapped = gg.nn.DataParallel(gg.nn.Linear(2, 1))
>>> sorted(wrapped.state_dict()), wrapped.device_ids
(['module.bias', 'module.weight'], [])
"""

from __future__ import annotations

from typing import Any

from .module import Module


class DataParallel(Module):
    """The model run as it is (no GPU to split the batch over); ``module`` is the model wrapped.

    ``device_ids``, ``output_device`` and ``dim`` are PyTorch's options; with no GPU they change
    nothing, and ``device_ids`` is ``[]`` as PyTorch leaves it on a CPU.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel wraps a Module, got {type(module).__name__}")
        self.module = module
        self.device_ids: list[int] = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)
