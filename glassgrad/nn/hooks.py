"""Forward hooks: functions called around a module's ``forward`` (to record activations, for example).

``module.register_forward_hook(hook)`` calls ``hook(module, inputs, output)`` after that
module's forward; :func:`register_module_forward_hook` does it for *every* module (so a
trace can tell which layer each recorded step belongs to). Each returns a
:class:`RemovableHandle`: ``handle.remove()``, or use it in a ``with`` block.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..handles import RemovableHandle, add_hook

if TYPE_CHECKING:
    from .module import Module


ForwardHook = Callable[["Module", tuple, Any], Any]
ForwardPreHook = Callable[["Module", tuple], Any]


class WithKeywords:
    """A module hook registered with ``with_kwargs=True``: it also gets the forward's keyword arguments,
    ``hook(module, args, kwargs)`` before (returning None or a new ``(args, kwargs)``) and
    ``hook(module, args, kwargs, output)`` after."""

    __slots__ = ("hook",)

    def __init__(self, hook: Callable) -> None:
        self.hook = hook

    def __call__(self, *args: Any) -> Any:
        return self.hook(*args)


class AlwaysCalled(WithKeywords):
    """A forward hook registered with ``always_call=True``: run also when the call fails (the forward, a pre-hook
    or an earlier forward hook raised), then with the output so far (``None`` if the forward did not return).

    It is always handed the keyword arguments and passes them on only when registered ``with_kwargs=True``.
    """

    __slots__ = ("with_kwargs",)

    def __init__(self, hook: Callable, with_kwargs: bool) -> None:
        super().__init__(hook)
        self.with_kwargs = with_kwargs

    def __call__(self, module: Module, inputs: tuple, kwargs: dict, output: Any) -> Any:
        if self.with_kwargs:
            return self.hook(module, inputs, kwargs, output)
        return self.hook(module, inputs, output)


def replayed_hook(*calls: str) -> Callable:
    """Mark a forward pre-hook of glassgrad's own (``spectral_norm``'s, ``weight_norm``'s, a pruning method's) as one a
    ``gg.compile``d step replays: what it does is ops, recorded as kernels as the forward's are (a value-dependent
    change such as spectral norm's power iteration: one kernel), and the weight it binds, bound by a kernel too
    (:func:`bind_weight`). ``calls``: the hook's methods it calls, which must be marked too (a subclass overriding one
    runs its own Python, refused as any user's hook is)."""
    def mark(function: Callable) -> Callable:
        function.replayed_calls = calls
        return function
    return mark


def is_replayed_hook(hook: Any) -> bool:
    """Whether ``hook`` is a library forward pre-hook a compiled step replays (:func:`replayed_hook`)."""
    kind = type(hook)
    calls = getattr(kind.__call__, "replayed_calls", None)
    return calls is not None and all(hasattr(getattr(kind, name, None), "replayed_calls") for name in calls)


def bound_by_hooks(owner: Any) -> set[str]:
    """The names a layer's library pre-hooks bind at each call (:func:`replayed_hook`: ``weight`` of a layer under
    ``spectral_norm`` or pruned), made in the step by their kernels: not a value read from outside it."""
    hooks = getattr(owner, "__dict__", {}).get("_forward_pre_hooks")
    return {hook.bound_name for hook in hooks.values() if is_replayed_hook(hook)} if hooks else set()


def bind_weight(module: Module, name: str, weight: Any) -> None:
    """``module.<name> = weight``, the weight a library pre-hook made (:func:`replayed_hook`), bound as an attribute;
    told to a capturing recorder as a kernel that binds the replay's array, a value, so that ``layer.weight`` read
    after a replayed call holds that call's numbers, as eager's does."""
    from ..autograd import note_kernel

    object.__setattr__(module, name, weight)
    note_kernel(_bind_array, (module, name, weight.array))


def _bind_array(module: Module, name: str, array: Any) -> None:
    """A replay's binding of a library pre-hook's weight (:func:`bind_weight`): its numbers, as a value."""
    from ..tensor import Tensor

    object.__setattr__(module, name, Tensor._wrap(array))


def forward_hook_entry(hook: Callable, with_kwargs: bool, always_call: bool) -> Callable:
    """What a forward-hook registry holds for ``hook`` registered with these options."""
    if always_call:
        return AlwaysCalled(hook, with_kwargs)
    return WithKeywords(hook) if with_kwargs else hook


def call_always_called_hooks(module: Module, hooks: tuple, inputs: tuple, kwargs: dict, output: Any) -> None:
    """After a failed call of ``module``: run the ``always_call`` hooks among ``hooks`` (those not run yet), as
    PyTorch does; an error one of them raises is shown as a warning, so the call's own error is the one raised."""
    for hook in hooks:
        if type(hook) is AlwaysCalled:
            try:
                replaced = hook(module, inputs, kwargs, output)
            except Exception as error:
                warnings.warn(f"a forward hook with always_call=True raised an error, silenced because the call of "
                              f"{type(module).__name__} raised another: {error}", stacklevel=3)
                continue
            if replaced is not None:
                output = replaced


_GLOBAL_FORWARD_PRE_HOOKS: dict[int, ForwardPreHook] = {}
_GLOBAL_FORWARD_HOOKS: dict[int, ForwardHook] = {}


def register_module_forward_pre_hook(hook: ForwardPreHook) -> RemovableHandle:
    """Call ``hook(module, inputs)`` before the forward of *every* module (e.g. to group a trace by layer)."""
    return add_hook(_GLOBAL_FORWARD_PRE_HOOKS, hook)


def register_module_forward_hook(hook: ForwardHook, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """Call ``hook(module, inputs, output)`` after the forward of *every* module (``with_kwargs``, ``always_call``:
    as :meth:`~glassgrad.nn.Module.register_forward_hook`'s)."""
    return add_hook(_GLOBAL_FORWARD_HOOKS, forward_hook_entry(hook, with_kwargs, always_call))
