"""``Module``: the base of every layer and model.

A module keeps its learnable tensors (:class:`~glassgrad.nn.Parameter`), its non-learned
state (*buffers*, e.g. BatchNorm's running mean) and its sub-modules in three ordered
registries, filled automatically when you assign an attribute::

    class TwoLayer(gg.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = gg.nn.Linear(4, 3)    # a sub-module: registered as "hidden"
            self.out = gg.nn.Linear(3, 4)

        def forward(self, x):
            return self.out(self.hidden(x).relu())

    TwoLayer().state_dict().keys()   # hidden.weight, hidden.bias, out.weight, out.bias

Calling a module (``model(x)``) runs any forward pre-hooks, ``forward``, then any forward
hooks (:mod:`glassgrad.nn.hooks`). Only ``Parameter`` attributes are learned; use
:meth:`Module.register_buffer` for state that is saved but not learned.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..arguments import counted, resolve_dtype
from ..autograd import call_recorder, zero_gradient
from ..device import is_placeholder, placeholder
from ..handles import add_hook
from ..tensor import Tensor
from .backward_hooks import BackwardWatch
from .hooks import (
    _GLOBAL_FORWARD_HOOKS,
    _GLOBAL_FORWARD_PRE_HOOKS,
    ForwardHook,
    ForwardPreHook,
    RemovableHandle,
    WithKeywords,
    call_always_called_hooks,
    forward_hook_entry,
)
from .hooks import register_module_forward_hook as register_module_forward_hook  # also importable from here
from .hooks import register_module_forward_pre_hook as register_module_forward_pre_hook
from .layer_text import keep_arguments, layer_text
from .meta import give_memory, move_to_meta, refuse_placeholders
from .module_state import IncompatibleKeys as IncompatibleKeys  # also importable from here
from .module_state import SavedState
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedTensorMixin


def _check_name(name: Any, kind: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f'{kind} name must be a non-empty string without ".", got {name!r}')


def _check_target(target: Any, method: str) -> None:
    """A dotted path (``"encoder.0.weight"``) must be a string: an int (``get_submodule(0)``) was read as ``""``,
    this module. PyTorch's class (an AttributeError, from calling ``split`` on it), in one line."""
    if not isinstance(target, str):
        raise AttributeError(f"{method} takes the dotted name of a member as a string (e.g. '0' or 'encoder.0'), "
                             f"got {type(target).__name__} {target!r}")


REPR_COUNT_COLUMN = 60
"""``repr`` aligns the parameter counts at this column (longer lines put theirs right after)."""


class _Members(OrderedDict):
    """A module's registry of one kind (``_parameters``, ``_buffers``, ``_modules``). glassgrad keeps each member
    as a plain attribute too, which ``forward`` reads fast (``self.weight``); a change made to the registry itself
    (``module._parameters["weight"] = p``, ``del module._buffers["scale"]``, ``popitem()``, ``clear()``, as pruning
    and weight-norm code make it) reaches that attribute, so that forward reads what PyTorch's would. A shallow copy
    (``copy.copy(module)``) shares the registries, as PyTorch's does, and both modules' attributes follow them."""

    def __init__(self, owner: Module) -> None:
        super().__init__()
        self._owners = [weakref.ref(owner)]

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        for owner in self._owners:
            module = owner()
            if module is not None:
                object.__setattr__(module, name, value)

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self._drop_attribute(name)

    def pop(self, name: str, *default: Any) -> Any:
        had = name in self
        value = super().pop(name, *default)
        if had:
            self._drop_attribute(name)
        return value

    def popitem(self, last: bool = True) -> tuple[str, Any]:
        name, value = super().popitem(last)
        self._drop_attribute(name)
        return name, value

    def clear(self) -> None:
        for name in list(self):
            self._drop_attribute(name)
        super().clear()

    def setdefault(self, name: str, default: Any = None) -> Any:
        if name not in self:
            self[name] = default
        return self[name]

    def _drop_attribute(self, name: str) -> None:
        for owner in self._owners:
            module = owner()
            if module is not None:
                module.__dict__.pop(name, None)

    def _own(self, module: Module) -> None:
        """``module`` holds this registry too (a shallow copy), or alone (a deep copy, unpickled: no live owner)."""
        self._owners = [owner for owner in self._owners if owner() is not None] + [weakref.ref(module)]

    def __reduce__(self) -> tuple:
        """A copy (``copy.deepcopy`` of the module, pickle) is owned by the copied module (``Module.__setstate__``)."""
        return (_Members._unowned, (list(self.items()),))

    @staticmethod
    def _unowned(items: list) -> _Members:
        members = OrderedDict.__new__(_Members)
        members._owners = []
        OrderedDict.__init__(members, items)
        return members


class Module(SavedState):
    """Base class of layers and models: subclass it, build sub-layers in ``__init__``, write ``forward``.

    >>> import glassgrad as gg
    >>> layer = gg.nn.Linear(4, 3)
    >>> [name for name, _ in layer.named_parameters()]
    ['weight', 'bias']
    >>> layer.num_parameters()
    15
    """

    training: bool
    _on_meta = False
    """True once ``to('meta')`` left placeholders in it (:mod:`glassgrad.nn.meta`): a call checks for them."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        keep_arguments(cls)  # a layer PyTorch shows some settings of as written keeps them (layer_text)

    def __setstate__(self, state: dict) -> None:
        """A copied (``copy.deepcopy``) or unpickled module owns its registries again (:class:`_Members`)."""
        self.__dict__.update(state)
        for name in ("_parameters", "_buffers", "_modules"):
            members = state.get(name)
            if isinstance(members, _Members):
                members._own(self)

    def __getattr__(self, name: str) -> Any:
        """Reached only for a name the module lacks (its members are plain attributes, found before this). A
        module whose ``__init__`` never called ``super().__init__()`` lacks the registries every method reads, so
        the refusal says so instead of naming the registry it tripped over (``_buffers``, ``_forward_hooks``)."""
        if "_parameters" not in self.__dict__ and not name.startswith("__"):
            raise AttributeError(f"{type(self).__name__} is not set up as a module (no {name!r}): its __init__ "
                                 f"must call super().__init__() first, before registering parameters, buffers or "
                                 "layers, and before the module is used")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        """The names ``module.<name>`` can reach, as PyTorch lists them: a name that starts with a digit (a
        Sequential's ``"0"``, a child registered as ``"1x"``) is left out, since Python cannot spell it after a dot
        (it is reached by ``getattr``, or indexing a container)."""
        return sorted(name for name in super().__dir__() if not name[:1].isdigit())

    def __init__(self) -> None:
        set_plain = object.__setattr__
        set_plain(self, "training", True)
        set_plain(self, "_parameters", _Members(self))
        set_plain(self, "_buffers", _Members(self))
        set_plain(self, "_non_persistent_buffers", set())
        set_plain(self, "_modules", _Members(self))
        set_plain(self, "_forward_pre_hooks", OrderedDict())
        set_plain(self, "_forward_hooks", OrderedDict())
        set_plain(self, "_backward_pre_hooks", OrderedDict())
        set_plain(self, "_backward_hooks", OrderedDict())
        set_plain(self, "_state_dict_pre_hooks", OrderedDict())
        set_plain(self, "_state_dict_hooks", OrderedDict())
        set_plain(self, "_load_state_dict_pre_hooks", OrderedDict())
        set_plain(self, "_load_state_dict_post_hooks", OrderedDict())

    # --- running ------------------------------------------------------------------------

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._on_meta:
            refuse_placeholders(self)
        output = None
        hooks_run = 0  # forward hooks called so far: an always_call one among them is not called again on an error
        try:
            if self._forward_pre_hooks or _GLOBAL_FORWARD_PRE_HOOKS:
                for hook in (*_GLOBAL_FORWARD_PRE_HOOKS.values(), *self._forward_pre_hooks.values()):
                    if type(hook) is WithKeywords:
                        replaced = hook(self, inputs, kwargs)
                        if replaced is not None:
                            if not (isinstance(replaced, tuple) and len(replaced) == 2):
                                raise RuntimeError("a forward pre-hook registered with_kwargs=True must return None "
                                                   f"or a tuple (args, kwargs), got {type(replaced).__name__}")
                            inputs, kwargs = replaced
                        continue
                    replaced = hook(self, inputs)
                    if replaced is not None:
                        inputs = replaced if isinstance(replaced, tuple) else (replaced,)
            watch = BackwardWatch(self, inputs) if self._backward_hooks or self._backward_pre_hooks else None
            output = self.forward(*(inputs if watch is None else watch.arguments_for_forward()), **kwargs)
            if self._forward_hooks or _GLOBAL_FORWARD_HOOKS:
                for hook in (*_GLOBAL_FORWARD_HOOKS.values(), *self._forward_hooks.values()):
                    hooks_run += 1
                    keywords = (kwargs,) if isinstance(hook, WithKeywords) else ()
                    replaced = hook(self, inputs, *keywords, output)
                    if replaced is not None:
                        output = replaced
            if watch is not None:
                output = watch.watch_output(output)
            return output
        except Exception:
            if self._forward_hooks or _GLOBAL_FORWARD_HOOKS:
                hooks = (*_GLOBAL_FORWARD_HOOKS.values(), *self._forward_hooks.values())
                call_always_called_hooks(self, hooks[hooks_run:], inputs, kwargs, output)
            raise

    def register_forward_pre_hook(self, hook: ForwardPreHook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before each forward; a non-None return replaces the inputs.

        ``prepend=True``: run it before the hooks registered already; ``with_kwargs=True``: call
        ``hook(module, inputs, kwargs)``, whose non-None return is a new ``(inputs, kwargs)``.
        """
        return add_hook(self._forward_pre_hooks, WithKeywords(hook) if with_kwargs else hook, prepend)

    def register_forward_hook(self, hook: ForwardHook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after each forward; a non-None return replaces the output.

        ``prepend=True``: run it before the hooks registered already; ``with_kwargs=True``: call
        ``hook(module, inputs, kwargs, output)``; ``always_call=True``: call it also when the call raises (with the
        output so far, ``None`` if the forward raised), before the error goes on. The glass box uses this to record
        each layer's activations.
        """
        return add_hook(self._forward_hooks, forward_hook_entry(hook, with_kwargs, always_call), prepend)

    def register_backward_hook(self, hook: Any) -> RemovableHandle:
        """PyTorch's deprecated module backward hook, whose ``grad_input`` is that of the module's last step only."""
        raise NotImplementedError("Module.register_backward_hook (deprecated in PyTorch) is not supported in "
                                  "glassgrad: use register_full_backward_hook, same hook(module, grad_input, "
                                  "grad_output)")

    def register_full_backward_hook(self, hook: Any, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` in each backward pass through a call of this module.

        ``grad_input``: ∂L/∂input per positional argument (None where none flows); a returned tuple
        replaces it. ``prepend=True``: run it before the ones registered already. See
        :mod:`glassgrad.nn.backward_hooks`.
        """
        return add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Any, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` in each backward pass, before ∂L/∂output goes into the module.

        A returned tuple replaces ``grad_output``; ``prepend=True`` runs it before the ones registered already.
        """
        return add_hook(self._backward_pre_hooks, hook, prepend)

    # --- registration ---------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:  # before Module.__init__(): a plain value is kept, as in PyTorch
            if not isinstance(value, (Parameter, Module, Buffer)):
                object.__setattr__(self, name, value)
                return
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call: "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )
        if isinstance(value, Parameter):
            self._make_room(name, self._parameters)
            self.register_parameter(name, value)
        elif name in self._parameters:  # before the other kinds, as in PyTorch: a layer is no parameter
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(gg.nn.Parameter or None expected)")
            self.register_parameter(name, None)
        elif isinstance(value, Module):
            self._make_room(name, self._modules)
            self.add_module(name, value)
        elif name in self._modules:  # before the buffers, as in PyTorch: an nn.Buffer is no layer either
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(gg.nn.Module or None expected)")
            self.add_module(name, None)
        elif isinstance(value, Buffer):  # PyTorch 2.x: nn.Buffer(t) marks t to be registered as a buffer
            self._make_room(name, self._buffers)
            self.register_buffer(name, Tensor._wrap(value.array, value.requires_grad), value.persistent)
        elif isinstance(value, UninitializedBuffer):  # a lazy module's buffer, registered as PyTorch does
            self._make_room(name, self._buffers)
            self.register_buffer(name, value)
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)")
            self._buffers[name] = value
            object.__setattr__(self, name, value)
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        member = any(name in registry for registry in (self._parameters, self._buffers, self._modules))
        self._forget(name)  # a member's attribute goes with it (_Members.pop)
        if not member:
            object.__delattr__(self, name)

    def _forget(self, name: str, keep: dict | None = None) -> None:
        """Drop ``name`` from every registry but ``keep`` (before it is registered again, maybe as another kind).

        An entry of ``keep`` is then replaced where it stands, so ``model.conv1 = Conv2d(1, 64, 3)`` leaves
        ``conv1`` first in the state dict and a Sequential's ``setattr(model, "0", layer)`` keeps the order of
        the layers, as in PyTorch.
        """
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def _make_room(self, name: str, registry: dict) -> None:
        """What ``self.name = value`` does before registering ``value`` in ``registry``: a plain attribute or an
        entry of another kind called ``name`` goes, as in PyTorch (a ``register_*`` call refuses a taken name)."""
        if name not in registry:
            self.__dict__.pop(name, None)
            self._forget(name, keep=registry)

    def _register(self, registry: dict, kind: str, name: str, value: Any, expected: type, hint: str) -> None:
        _check_name(name, kind)
        if name not in registry and hasattr(self, name):
            raise KeyError(f"attribute '{name}' already exists: {type(self).__name__} has an attribute (or a member "
                           f"of another kind) of that name; pick another name, or delete it first (del module.{name})")
        if value is not None and not isinstance(value, expected):
            raise TypeError(f"cannot assign '{type(value).__name__}' object to {kind} '{name}' ({hint})")
        self._forget(name, keep=registry)
        registry[name] = value
        object.__setattr__(self, name, value)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or ``None``: a slot such as a disabled bias) under ``name``."""
        self._register(self._parameters, "parameter", name, param, Parameter,
                       "gg.nn.Parameter or None required: wrap it, gg.nn.Parameter(t)")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is saved (if ``persistent``) and moved with the module but not learned."""
        self._register(self._buffers, "buffer", name, tensor, Tensor, "Tensor or None required")
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child called ``name`` (what ``self.name = module`` does)."""
        self._register(self._modules, "module", name, module, Module, "gg.nn.Module or None required")

    register_module = add_module

    # --- walking the tree -----------------------------------------------------------------

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path ``target`` (``"encoder.layers.0"``); ``""`` is this module."""
        _check_target(target, "get_submodule")
        module: Module = self
        if not target:
            return module
        walked = []
        for name in target.split("."):
            child = module._modules.get(name)
            if child is None:
                where = ".".join(walked) or type(self).__name__
                raise AttributeError(f"{type(module).__name__} ({where}) has no submodule `{name}`; its children are "
                                     f"{', '.join(module._modules) or 'none'}")
            module = child
            walked.append(name)
        return module

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put ``module`` at dotted path ``target`` (``"encoder.layers.0"``), replacing the module there in its place.

        With ``strict=True`` the path must already name an attribute; an attribute that is not a module is
        never replaced.
        """
        if not target:
            raise ValueError("set_submodule needs a target name, e.g. 'encoder.layers.0' (\"\" is this module)")
        if not isinstance(module, Module):
            raise ValueError(f"set_submodule puts a gg.nn.Module, not a {type(module).__name__}")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}` to replace (strict=True)")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` of {type(parent).__name__} is a {type(getattr(parent, name)).__name__}, "
                                 "not a gg.nn.Module, so set_submodule does not replace it")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (``"encoder.0.weight"``)."""
        return self._get_member(target, "_parameters", "parameter")

    def get_buffer(self, target: str) -> Tensor | None:
        """The buffer at dotted path ``target`` (``"norm.running_mean"``); ``None`` for a buffer slot registered
        empty (``register_buffer("mask", None)``), as PyTorch's (a parameter slot left ``None`` is no parameter)."""
        return self._get_member(target, "_buffers", "buffer")

    def _get_member(self, target: str, registry: str, kind: str) -> Any:
        _check_target(target, f"get_{kind}")
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        members = getattr(module, registry)
        if name not in members or (members[name] is None and kind == "parameter"):  # Linear(bias=False).bias
            raise AttributeError(f"{type(module).__name__} has no {kind} `{name}`; it has "
                                 f"{', '.join(key for key, value in members.items() if value is not None) or 'none'}")
        return members[name]

    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """Every module in the tree, this one first (named ``""``), with dotted names: each once, or, with
        ``remove_duplicate=False``, once under every name it is registered as. ``memo``, as in PyTorch: a set of
        modules to leave out (with ``remove_duplicate=False`` too), to which each module given is added (with
        ``remove_duplicate=True``)."""
        seen = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if module in seen:  # seen before, or left out by the caller's memo (remove_duplicate=False too)
                continue
            if remove_duplicate:
                seen.add(module)
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules, with their names; one registered under two names comes once (the first)."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, member in getattr(module, registry).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{module_name}.{name}" if module_name else name), member

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``("0.weight", Parameter)`` pairs, as in PyTorch; a parameter shared by two layers comes once (under
        each of its names with ``remove_duplicate=False``)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)  # type: ignore[return-value]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the model learns (each parameter counted once; a lazy layer's parameters count 0 until
        its first call gives them their shapes)."""
        return sum(p.array.size for p in self.parameters()
                   if (p.requires_grad or not trainable_only) and not isinstance(p, UninitializedTensorMixin))

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and on this module; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes, gradients, dtypes ------------------------------------------------------------

    def compile(self, *, fullgraph: bool = False, dynamic: bool | None = None, backend: Any = "inductor",
                mode: str | None = None, options: dict | None = None, disable: bool = False) -> None:
        """PyTorch's ``model.compile()``: from now on ``model(x)`` runs its ``forward`` compiled, as
        :func:`glassgrad.compile` compiles a function (with its arguments), in place; the parameters and
        ``state_dict`` are unchanged."""
        from ..compiler.compiled import Compiled, check_options

        check_options(mode, options)
        if not disable:
            self.forward = Compiled(self.forward, fullgraph)

    def train(self, mode: bool = True) -> Module:
        """Training mode (the default): Dropout drops, BatchNorm uses and updates batch statistics."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        object.__setattr__(self, "training", mode)
        for child in self.children():  # each child's own train(), so a layer that overrides it (to keep its
            child.train(mode)          # BatchNorm frozen, say) is obeyed inside a model too, as in PyTorch
        return self

    def eval(self) -> Module:
        """Evaluation mode: Dropout is the identity, BatchNorm uses its running statistics."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` (to ``None``, or to zeros with ``set_to_none=False``).

        Gradients *add up* across ``backward()`` calls, so reset them before each step.
        """
        recorder = call_recorder()  # a compiled step (glassgrad.compiler) replays this call as one kernel
        if recorder is not None:
            return recorder.on_call(type(self).zero_grad, (self, set_to_none))
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                zero_gradient(param.grad)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (``False``) or unfreeze every parameter: frozen ones get no ``.grad`` in backward."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert floating parameters and buffers to ``dtype`` in place (e.g. ``gg.float64``).

        Called as in PyTorch: ``model.to("cpu")`` (glassgrad's only device: nothing to move),
        ``model.to("cpu", gg.float64)``, ``model.to(dtype=gg.float64)``; ``memory_format=torch.channels_last`` lays
        out each 4-d (and 5-d) parameter, buffer and gradient so, as ``tensor.to(memory_format=...)``.
        """
        from ..device import to_arguments

        dtype, _, to_meta, memory_format = to_arguments("Module", args, kwargs, meta=True)
        if to_meta:
            move_to_meta(self)
        if memory_format is not None:
            self._laid_out(memory_format)
        if dtype is None:
            return self
        dtype = resolve_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: expected a floating dtype (gg.float32 or gg.float64), got {dtype}")
        return self._converted(dtype, "f")

    def type(self, dst_type: Any) -> Module:
        """Every parameter and buffer converted to ``dst_type`` (a floating dtype, or a legacy name such as
        ``'torch.DoubleTensor'``), integer buffers too, as PyTorch's (``num_batches_tracked`` becomes a float)."""
        from ..tensor_methods import type_dtype

        dtype = resolve_dtype(type_dtype(dst_type))
        if dtype.kind != "f":
            raise RuntimeError(f"Module.type: parameters must stay floating to learn, so {dtype} is refused; give "
                               "gg.float32 or gg.float64 (or convert a tensor itself with tensor.type())")
        return self._converted(dtype, "biuf")

    def to_empty(self, *, device: Any, recurse: bool = True) -> Module:
        """A model on 'meta' given memory on ``device`` (the CPU): each placeholder becomes zeros, to be initialised
        again (``reset_parameters()``); the other tensors stay as they are."""
        from ..device import check_device

        check_device(device)
        give_memory(self)
        return self

    def _laid_out(self, memory_format: Any) -> None:
        """Every 4-d and 5-d parameter and buffer (and gradient) laid out in ``memory_format`` in place, as PyTorch's
        ``Module.to(memory_format=...)`` (a 5-d one and ``torch.channels_last``: its RuntimeError; a lazy module's
        parameter with no shape yet: its ValueError)."""
        for tensor in itertools.chain(self.parameters(), self.buffers()):
            if isinstance(tensor, UninitializedTensorMixin):
                raise ValueError("Module.to: memory_format lays out parameters by their dims, and this lazy module's "
                                 "have none yet; call it on an example input first, then .to(memory_format=...)")
            if tensor.ndim in (4, 5) and not is_placeholder(tensor.array):
                for held in (tensor, tensor.grad) if tensor.grad is not None else (tensor,):
                    held.array = held.detach().to(memory_format=memory_format).array

    def _converted(self, dtype: np.dtype, kinds: str) -> Module:
        """The parameters and buffers whose dtype is of one of ``kinds`` (``"f"``: the floating ones) converted to
        ``dtype`` in place, their gradients too."""
        for tensor in itertools.chain(self.parameters(), self.buffers()):
            if tensor.dtype.kind in kinds and tensor.dtype != dtype:  # already in it: untouched (its memory too,
                tensor.array = (np.empty(0, dtype) if isinstance(tensor, UninitializedTensorMixin)  # as PyTorch's)
                                else placeholder(tensor.shape, dtype) if is_placeholder(tensor.array)  # still 'meta'
                                else tensor.array.astype(dtype))
                if tensor.grad is not None:  # the gradient object is kept, as PyTorch's (grad.data = converted)
                    tensor.grad.array = tensor.grad.array.astype(dtype)
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def half(self) -> Module:
        return self.to(np.float16)

    def cpu(self) -> Module:
        """The module itself: its tensors already live on the CPU, glassgrad's only device."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Refused with one line: glassgrad has no GPU (``model.to(device)`` with a device chosen at run time works)."""
        from ..device import check_device

        check_device("cuda" if device is None or isinstance(device, int) else device)
        return self

    def share_memory(self) -> Module:
        """The module itself: PyTorch moves its tensors to shared memory for worker processes, and glassgrad's
        workers are this process (``DataLoader`` loads in it)."""
        return self

    # --- description ----------------------------------------------------------------------------

    def _get_name(self) -> str:
        """The class's name, as ``print(model)`` writes it (PyTorch's)."""
        return type(self).__name__

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (JSON-friendly); shown by ``repr``."""
        return {}

    def extra_repr(self) -> str:
        """The text inside this layer's parentheses in ``print(model)``: PyTorch's for a layer PyTorch has
        (:mod:`glassgrad.nn.layer_text`), else the ``config()`` settings as ``name=value``. Override it to show
        your own layer's settings; for several lines, put ``\\n`` between them."""
        shown = layer_text(self)
        if shown is not None:
            return shown
        return ", ".join(f"{key}={value!r}" for key, value in self.config().items())

    def _described_children(self) -> list[tuple[str, list[tuple[str, Any]]]]:
        """Each child's name in the repr and its lines (:meth:`_describe`)."""
        return [(name, child._describe() if child is not None else [("None", None)])
                for name, child in self._modules.items()]

    def _describe(self) -> list[tuple[str, Any]]:
        """The repr's lines, each with the module it opens (for its parameter count)."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        children = self._described_children()
        if not children and len(extra_lines) <= 1:
            return [(f"{type(self).__name__}({extra})", self)]
        lines = [(f"{type(self).__name__}(", self)]
        lines.extend((f"  {text}", None) for text in extra_lines)  # PyTorch's place for them: inside, at the top
        for name, child_lines in children:
            text, owner = child_lines[0]
            lines.append((f"  ({name}): {text}", owner))
            lines.extend((f"  {text}", owner) for text, owner in child_lines[1:])
        lines.append((")", None))
        return lines

    def __repr__(self) -> str:
        lines = self._describe()
        if self._modules:  # the total goes on the last line instead
            lines[0] = (lines[0][0], None)
        width = min(max(len(text) for text, _ in lines), REPR_COUNT_COLUMN)
        out = []
        for text, owner in lines:
            count = owner.num_parameters() if owner is not None else 0
            if count:
                frozen = count - owner.num_parameters(trainable_only=True)
                note = "" if not frozen else " (all frozen)" if frozen == count else f" ({frozen:,} frozen)"
                text = f"{text.ljust(width)}  # {counted(count, 'parameter')}{note}"
            out.append(text.rstrip())
        if self._modules:
            total = self.num_parameters()
            trainable = self.num_parameters(trainable_only=True)
            out.append(f"Total parameters: {total:,}" + ("" if trainable == total else f" (trainable: {trainable:,})"))
        return "\n".join(out)

    def _repr_html_(self) -> str:
        """Jupyter's view: the layers with their parameter counts (see :mod:`glassgrad.notebook_display`)."""
        from ..notebook_display import module_html

        return module_html(self)

