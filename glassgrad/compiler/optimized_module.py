"""``gg.compile(model)`` of a module: a module again, as PyTorch's ``OptimizedModule``.

Its one child, ``_orig_mod``, is the model, so what walks the tree sees the model under that name, as in
PyTorch: ``named_parameters()`` and ``state_dict()`` say ``_orig_mod.fc1.weight`` (a checkpoint of a compiled
model loads into a compiled model, or into the bare model once the prefix is cut, nanoGPT's
``k[len('_orig_mod.'):]``), and ``print`` shows the model inside ``OptimizedModule(…)``. The parameters are
the model's own objects, ``train()``/``eval()`` reach the model, and any other attribute is the model's
(``compiled.fc1``). A call goes through :class:`~glassgrad.compiler.compiled.Compiled`: the model's hooks run inside
it (or refuse the replay, as they do for a compiled function).

>>> import glassgrad as gg
>>> model = gg.nn.Linear(2, 1)
>>> compiled = gg.compile(model)
>>> list(compiled.state_dict()), compiled.weight is model.weight
(['_orig_mod.weight', '_orig_mod.bias'], True)
"""

from __future__ import annotations

from typing import Any

from ..nn.module import Module
from .compiled import Compiled


class OptimizedModule(Module):
    """A compiled module: call it as the model; ``explain()`` shows the captured program."""

    def __init__(self, model: Module, fullgraph: bool = False) -> None:
        super().__init__()
        self._orig_mod = model
        object.__setattr__(self, "_compiled", Compiled(model, fullgraph))  # a plain attribute, not a child

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The compiled call; hooks registered on the compiled module itself run around it, as on any module."""
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks:
            return super().__call__(*args, **kwargs)
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        """What the compiled module itself has not is the model's (``compiled.fc1``, ``compiled.config()``)."""
        model = self.__dict__.get("_orig_mod")
        if model is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")
        return getattr(model, name)

    def explain(self, source: bool = False) -> str:
        """The captured program (:meth:`glassgrad.compiler.compiled.Compiled.explain`)."""
        return self._compiled.explain(source)
