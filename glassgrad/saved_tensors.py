"""``torch.autograd.graph``'s saved-tensor contexts: ``save_on_cpu`` and ``saved_tensors_hooks``.

PyTorch keeps, for each op of the graph, the tensors its backward reads (its *saved tensors*), and these
contexts change where they are kept until backward: ``save_on_cpu()`` moves them to the CPU's memory (to free
GPU memory), ``saved_tensors_hooks(pack, unpack)`` hands each to ``pack`` and gives backward ``unpack`` of it.

In glassgrad every tensor already lives in the CPU's memory, so ``save_on_cpu`` changes nothing and is a plain
context (its gradients are those of the same code without it). ``saved_tensors_hooks`` is refused in one line:
glassgrad's ops keep NumPy arrays, not tensors, and the backward walk does not yet unpack them.

>>> import glassgrad as gg
>>> x = gg.tensor([1.0, 2.0], requires_grad=True)
>>> with gg.autograd.graph.save_on_cpu(pin_memory=True):
...     y = (x * x).sum()
>>> y.backward()
>>> x.grad.tolist()
[2.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class saved_tensors_hooks:
    """PyTorch's ``saved_tensors_hooks(pack_hook, unpack_hook)``: refused, naming what works instead."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        raise NotImplementedError(
            "torch.autograd.graph.saved_tensors_hooks is not supported in glassgrad: its ops keep NumPy arrays for "
            "backward and cannot hand them to pack/unpack hooks; remove the context (save_on_cpu works, as a no-op)")


class save_on_cpu:
    """Keep saved tensors in the CPU's memory: where glassgrad keeps every tensor, so nothing changes.

    ``pin_memory`` and ``device_type`` are PyTorch's, taken so that its calls run unchanged.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        self.pin_memory, self.device_type = pin_memory, device_type

    def __enter__(self) -> save_on_cpu:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None
