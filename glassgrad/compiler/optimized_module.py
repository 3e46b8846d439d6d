"""``gg.compile(model)`` of a module: a module again, as PyTorch's ``OptimizedModule``.

Its one child, ``_orig_mod``, is the model, so what walks the tree sees the model under that name, as in
PyTorch: ``named_parameters()`` and ``state_dict()`` say ``_orig_mod.fc1.weight`` (a checkpoint of a compiled
model loads into a compiled model, or into the bare model once the prefix is cut, nanoGPT's
``k[len('_orig_mod.'):]``; ``gg.fit``'s checkpoints and ``save_checkpoint`` save the model itself, with its
architecture), and ``print`` shows the model inside ``OptimizedModule(…)``. The parameters are
the model's own objects, ``train()``/``eval()`` reach the model and ``compiled.training`` is the model's mode (set
by either), and any other attribute is the model's, read or written as PyTorch's wrapper forwards it:
``compiled.fc1``, ``compiled.temperature = 0.5`` and ``compiled.head = nn.Linear(…)`` (a head swapped for
fine-tuning) change the model, which the compiled call runs; ``len(compiled)`` is the model's, ``dir`` lists both,
``get_submodule("fc1")`` finds the model's layer, and a pickled or deep-copied compiled module is compiled afresh
around its copy of the model. A call goes through :class:`~glassgrad.compiler.compiled.Compiled`: the model's hooks
run inside it (or refuse the replay, as they do for a compiled function).

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

    @property  # type: ignore[override]
    def training(self) -> bool:
        """The model's mode: ``model.eval()`` shows in ``compiled.training``, as PyTorch's wrapper mirrors it."""
        return self.__dict__["_orig_mod"].training if "_orig_mod" in self.__dict__ else True

    @training.setter
    def training(self, mode: bool) -> None:
        if "_compiled" in self.__dict__:  # Module.__init__'s default is not the model's mode
            self._orig_mod.training = mode

    def _own(self, name: str) -> bool:
        """Whether ``name`` is the compiled module's own (set up by ``__init__``, a method, a hook registry) rather
        than the model's."""
        return "_compiled" not in self.__dict__ or name in self.__dict__ or hasattr(type(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        """``compiled.temperature = 0.5``, ``compiled.head = nn.Linear(…)``: the model's attribute, as in PyTorch
        (kept on the wrapper, the compiled call would never see it)."""
        if self._own(name):
            super().__setattr__(name, value)
        else:
            setattr(self._orig_mod, name, value)

    def __delattr__(self, name: str) -> None:
        if self._own(name):
            super().__delattr__(name)
        else:
            delattr(self._orig_mod, name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._orig_mod)) | set(super().__dir__()))

    def __len__(self) -> int:
        """The model's length (a compiled ``Sequential``), as PyTorch's wrapper gives it."""
        return len(self._orig_mod)  # type: ignore[arg-type]

    def get_submodule(self, target: str) -> Module:
        """``compiled.get_submodule("fc1")`` is the model's layer, as PyTorch finds it; ``"_orig_mod.fc1"`` too."""
        if target.split(".")[0] in self._modules or not target:
            return super().get_submodule(target)
        return self._orig_mod.get_submodule(target)

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


def original_module(model: Any) -> Any:
    """``model`` itself, or the model a ``gg.compile`` wrapper (nested or not) holds: the one whose parameters are
    named without the wrapper's ``_orig_mod.``."""
    while isinstance(model, OptimizedModule):
        model = model._orig_mod
    return model
