"""``skip_init``: build a module without initialising its parameters (``gg.nn.utils.skip_init``).

Code that sets every weight itself right after construction (copied from a checkpoint, or an initialisation
scheme of its own) need not pay for the random start first, nor use up draws of the generator. PyTorch's
``skip_init`` leaves the parameters as uninitialised memory; here :mod:`glassgrad.nn.init`'s fill functions write
zeros instead and draw nothing (a value a constructor sets without them, such as BatchNorm's weight of ones,
stays). Either way: set the values before training.

>>> import glassgrad as gg
>>> layer = gg.nn.utils.skip_init(gg.nn.Linear, 3, 2)
>>> layer.weight.shape, layer.weight.abs().sum().item()
(Size([2, 3]), 0.0)
"""

from __future__ import annotations

from typing import Any, TypeVar

from ...device import check_device
from .. import init
from ..module import Module

Built = TypeVar("Built", bound=Module)


def skip_init(module_cls: type[Built], *args: Any, **kwargs: Any) -> Built:
    """``module_cls(*args, **kwargs)`` with the init functions turned off (zeros, no random draws).
    ``device=`` is accepted as in PyTorch ('cpu' only) and not passed on."""
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise TypeError(f"skip_init: expected a Module class such as gg.nn.Linear, got {module_cls!r}")
    check_device(kwargs.pop("device", None))
    with init.skipped():
        return module_cls(*args, **kwargs)
