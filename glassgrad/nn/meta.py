"""A model on PyTorch's ``'meta'`` device: its parameters and buffers keep their shapes and dtypes, and lose their
numbers.

PyTorch's model-ensembling tutorial moves a copy of a model there, ``base = copy.deepcopy(models[0]).to('meta')``,
and calls that copy only through ``torch.func.functional_call``, which hands it the weights to compute with.
glassgrad's tensors always hold numbers, so ``model.to('meta')`` gives each parameter and buffer a *placeholder*
(:func:`glassgrad.device.placeholder`: a read-only array of the same shape and dtype that takes no memory, a
zero-stride view of one NaN), which ``t.is_meta`` and ``t.device`` report as ``'meta'``. A layer refuses to run
while any tensor of its own or of its sublayers is still a placeholder, in one line saying to pass the weights
through ``functional_call``, so a placeholder's NaN never reaches a number. ``model.to_empty(device='cpu')`` gives
every placeholder memory (zeros, where PyTorch leaves whatever the memory held) for the model to be initialised
again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..device import is_placeholder, placeholder

if TYPE_CHECKING:
    from .module import Module


def move_to_meta(model: Module) -> None:
    """Every parameter and buffer of ``model`` becomes a placeholder (the same tensor objects, as PyTorch keeps the
    parameters), their gradients dropped; each layer is marked, so that calling it checks for placeholders."""
    for layer in model.modules():
        for tensor in (*layer._parameters.values(), *layer._buffers.values()):
            if tensor is not None:
                tensor.array = placeholder(tensor.array.shape, tensor.array.dtype)
                tensor.grad = None
        object.__setattr__(layer, "_on_meta", True)


def give_memory(model: Module) -> None:
    """``to_empty``: every placeholder becomes an array of zeros of its shape and dtype; the layers are unmarked."""
    for layer in model.modules():
        for tensor in (*layer._parameters.values(), *layer._buffers.values()):
            if tensor is not None and is_placeholder(tensor.array):
                tensor.array = np.zeros(tensor.array.shape, tensor.array.dtype)
        object.__setattr__(layer, "_on_meta", False)


def refuse_placeholders(layer: Module) -> None:
    """Refuse to run ``layer`` while a parameter or buffer of it or of its sublayers is a placeholder."""
    for name, tensor in (*layer.named_parameters(), *layer.named_buffers()):
        if is_placeholder(tensor.array):
            raise RuntimeError(f"{type(layer).__name__} is on the 'meta' device: its {name} has a shape and no "
                               "numbers; call it through torch.func.functional_call(model, weights, inputs), which "
                               "gives it the weights, or give it memory first with model.to_empty(device='cpu')")
