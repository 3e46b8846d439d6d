"""Parametrizations: a layer's tensor made, on every read, by a small module from the numbers it learns.

``register_parametrization(layer, "weight", P())`` keeps the learned numbers in
``layer.parametrizations.weight.original`` and makes ``layer.weight`` a computed value::

    layer.weight = P(original)                       (read: computed afresh each time)
    layer.weight = P₂(P₁(original))                  (two registered on one tensor, applied in order)
    original    ← P.right_inverse(value)             (on ``layer.weight = value``, and at registration)

The gradient flows through ``P`` into ``original``: ``∂L/∂original = (∂P/∂original)ᵀ · ∂L/∂weight``. A
``right_inverse`` may return a tuple: the originals are then ``original0``, ``original1``, … and the first
parametrization's forward takes them all (weight normalisation learns ``g`` and ``v`` that way).

How ``layer.weight`` becomes computed (as PyTorch does it): glassgrad's ``Module`` keeps each parameter as a
plain instance attribute, which a *class* property overrides. So the layer's class is swapped for a subclass,
``Parametrized<Name>``, that has one property per parametrized tensor (made once per class and set of names,
then shared); removing the last parametrization gives the layer its own class back. The layer's methods,
``isinstance`` and ``forward``'s ``self.weight`` keep working unchanged.

In a ``gg.compile``d step the parametrization's ops are recorded like any other, so the step replays.
``with cached():`` computes each parametrized tensor once for the block (e.g. a recurrent layer that reads
its weight at every time step).

>>> import glassgrad as gg
>>> class Symmetric(gg.nn.Module):
...     def forward(self, x):
...         return x.triu() + x.triu(1).mT
>>> layer = gg.nn.Linear(3, 3)
>>> _ = gg.nn.utils.parametrize.register_parametrization(layer, "weight", Symmetric())
>>> bool((layer.weight == layer.weight.mT).all()), type(layer).__name__
(True, 'ParametrizedLinear')
>>> [name for name, _ in layer.named_parameters()]
['bias', 'parametrizations.weight.original']
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ...autograd import copy_counted, no_grad, recorded_call
from ...tensor import Tensor
from ..lists import ModuleDict, ModuleList
from ..module import Module
from ..parameter import Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]

_CACHE: dict[tuple[int, str], Tensor] = {}
_CACHE_DEPTH = [0]  # how many ``cached()`` blocks are open


@contextmanager
def cached() -> Iterator[None]:
    """Inside the block, each parametrized tensor is computed at its first read and reused after."""
    _CACHE_DEPTH[0] += 1
    try:
        yield
    finally:
        _CACHE_DEPTH[0] -= 1
        if not _CACHE_DEPTH[0]:
            _CACHE.clear()


def _put(module: Module, name: str, value: Tensor) -> None:
    """Register ``value`` on ``module`` as it was before: a parameter stays a parameter, a plain tensor a buffer."""
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _kept_dtype(value: Tensor, original: Tensor) -> Tensor:
    """``value`` if it has the dtype of the ``original`` it is for: an original keeps the dtype it was created
    with, ``unsafe`` or not (as in PyTorch), so assigning a float32 tensor cannot turn a float64 layer float32."""
    if value.dtype != original.dtype:
        raise ValueError(f"right_inverse may not change the tensor's dtype: {original.dtype} became {value.dtype}; "
                         f"the original keeps its dtype (assign a {original.dtype} tensor, or have right_inverse "
                         "return one)")
    return value


def _returned_tensor(value: Any, what: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise ValueError(f"{what} must return a tensor, got {type(value).__name__}")
    return value


def _checked_tensor(value: Any, like: Tensor, what: str, unsafe: bool,
                    shape: Sequence[int] | None = None) -> Tensor:
    """``value``, a tensor of ``like``'s dtype and shape (``shape`` when given: the one ``like`` had) unless
    ``unsafe``."""
    value, shape = _returned_tensor(value, what), like.shape if shape is None else shape
    if not unsafe and (value.dtype != like.dtype or value.shape != shape):
        raise ValueError(f"{what} may not change the tensor's shape or dtype unless unsafe=True: "
                         f"{tuple(shape)} {like.dtype} became {tuple(value.shape)} {value.dtype}")
    return value


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and the learned tensor(s) ``original`` (or ``original0``, …).

    Calling it applies them all: ``P_k(… P₂(P₁(original)))``.
    """

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        if not modules:
            raise ValueError("ParametrizationList needs at least one parametrization")
        super().__init__(modules)
        self.unsafe = unsafe
        shape = original.shape  # a right_inverse returning one tensor may change the original's shape, not the value's
        with no_grad():
            value = self._inverted(original, registering=True)
        self.is_tensor = isinstance(value, Tensor)
        if self.is_tensor:
            self._overwrite(original, _kept_dtype(value, original))
            _put(self, "original", original)
        else:
            if not isinstance(value, Sequence) or not all(isinstance(part, Tensor) for part in value):
                raise ValueError(f"right_inverse must return a tensor or a sequence of tensors, got "
                                 f"{type(value).__name__}")
            self.ntensors = len(value)
            for number, part in enumerate(value):
                if isinstance(original, Parameter):
                    part = Parameter(part.detach(), requires_grad=original.requires_grad)
                _put(self, f"original{number}", part)
        if not unsafe:
            _checked_tensor(self(), original, "registering a parametrization", unsafe, shape)

    def _inverted(self, value: Any, registering: bool = False) -> Any:
        """``value`` taken back through every ``right_inverse``, last parametrization first.

        Without one, or (at registration only) when it raises ``NotImplementedError``, the identity.
        """
        for position in range(len(self) - 1, -1, -1):
            inverse = getattr(self[position], "right_inverse", None)
            if inverse is None:
                continue
            try:
                value = inverse(value)
            except NotImplementedError:
                if not registering:
                    raise
            if position and not isinstance(value, Tensor):
                raise ValueError(f"right_inverse of {type(self[position]).__name__} (not the first parametrization) "
                                 f"must return one tensor, got {type(value).__name__}")
        return value

    @staticmethod
    def _overwrite(original: Tensor, value: Tensor) -> None:
        """Put ``value``'s numbers into ``original`` (its own memory when the shape and dtype are kept)."""
        if value is original:
            return
        if value.shape == original.shape and value.dtype == original.dtype:
            recorded_call(copy_counted, original.array, value.array)  # a kernel: written in Python, a replay did not
        else:
            original.array = value.array.copy()

    def right_inverse(self, value: Tensor) -> None:
        """``module.<name> = value``: set the original(s) so that the parametrization gives ``value`` back.

        As in PyTorch, only the dtype is checked: an original may take another shape (``unsafe`` or not)."""
        missing = [type(p).__name__ for p in self if getattr(p, "right_inverse", None) is None]
        if missing:
            raise RuntimeError(f"cannot assign to a parametrized tensor: parametrization {missing[0]} does not "
                               "implement right_inverse (add one, or assign to parametrizations.<name>.original)")
        with no_grad():
            value = self._inverted(value)
            if self.is_tensor:
                self._overwrite(self.original, _kept_dtype(_returned_tensor(value, "right_inverse"), self.original))
                return
            if not isinstance(value, Sequence) or len(value) != self.ntensors:
                raise ValueError(f"right_inverse must return {self.ntensors} tensors, as at registration")
            for number, part in enumerate(value):
                original = getattr(self, f"original{number}")
                self._overwrite(original, _kept_dtype(_returned_tensor(part, "right_inverse"), original))

    def forward(self) -> Tensor:
        if self.is_tensor:
            value = self[0](self.original)
        else:
            value = self[0](*(getattr(self, f"original{number}") for number in range(self.ntensors)))
        for parametrization in list(self)[1:]:
            value = parametrization(value)
        return value


# --- the generated class -----------------------------------------------------------------------

class _Parametrized:
    """Mixed into ``Parametrized<Name>``: assignment to a parametrized name goes to its ``right_inverse``."""

    _parametrized_names: frozenset = frozenset()
    _unparametrized_class: type

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._parametrized_names:
            self.parametrizations[name].right_inverse(value)
        else:
            super().__setattr__(name, value)

    def __getstate__(self) -> Any:
        raise RuntimeError("a parametrized module is saved through its state_dict() (gg.save(model.state_dict(), "
                           "path)), not pickled whole")

    def __deepcopy__(self, memo: dict) -> Any:
        duplicate = object.__new__(type(self))
        memo[id(self)] = duplicate
        duplicate.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return duplicate


def _read(module: Module, name: str) -> Tensor:
    if not _CACHE_DEPTH[0]:
        return module.parametrizations[name]()
    key = (id(module), name)
    value = _CACHE.get(key)
    if value is None:
        value = _CACHE[key] = module.parametrizations[name]()
    return value


def _computed(name: str) -> property:
    def assign(module: Module, value: Any) -> None:
        module.parametrizations[name].right_inverse(value)

    return property(lambda module: _read(module, name), assign,
                    doc=f"``{name}``, computed by ``parametrizations.{name}`` on every read")


_CLASSES: dict[tuple[type, frozenset], type] = {}


def _reclass(module: Module) -> None:
    """Give ``module`` the class that has a property for each of its parametrized names (its own class for none)."""
    base = type_before_parametrizations(module)
    names = frozenset(module.parametrizations) if is_parametrized(module) else frozenset()
    if not names:
        module.__class__ = base
        return
    made = _CLASSES.get((base, names))
    if made is None:
        members: dict[str, Any] = {name: _computed(name) for name in sorted(names)}
        members.update(_parametrized_names=names, _unparametrized_class=base, __module__=base.__module__)
        made = _CLASSES[(base, names)] = type(f"Parametrized{base.__name__}", (_Parametrized, base), members)
    module.__class__ = made


# --- the public functions ----------------------------------------------------------------------

def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` be ``parametrization(original)`` from now on (see the module docstring).

    ``unsafe=True`` lets the parametrization change the tensor's shape or dtype (it is not checked then).
    A second call on the same name stacks the new parametrization after the first.
    """
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be a gg.nn.Module whose forward maps "
                        f"the original to the tensor used, got {type(parametrization).__name__}")
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            current = getattr(module, tensor_name)  # P and its right_inverse must each keep its shape and dtype:
            value = _checked_tensor(parametrization(current), current, "registering a parametrization", unsafe)
            with no_grad():  # right_inverse is given P's output, a value P can give, as in PyTorch
                _checked_tensor(ParametrizationList._inverted([parametrization], value, registering=True),
                                current, "right_inverse", unsafe)
        parametrizations = module.parametrizations[tensor_name]
        parametrizations.append(parametrization)
        parametrizations.unsafe |= unsafe
        return module
    if module._parameters.get(tensor_name) is None and module._buffers.get(tensor_name) is None:
        # (a parameter or buffer registered as None, such as Linear(bias=False)'s bias, has nothing to parametrize)
        held = [name for name, value in [*module._parameters.items(), *module._buffers.items()] if value is not None]
        raise ValueError(f"register_parametrization: {type(module).__name__} has no parameter, buffer or "
                         f"parametrized tensor {tensor_name!r}"
                         f"{' (it is None)' if hasattr(module, tensor_name) else ''}; it has "
                         f"{', '.join(held) or 'none'}")
    original = getattr(module, tensor_name)
    parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = parametrizations
    _reclass(module)
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, when given)."""
    parametrizations = module.__dict__.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Make ``module.<tensor_name>`` a plain tensor again.

    ``leave_parametrized=True``: it keeps the value the parametrizations give now (in the original
    parameter object, so an optimizer holding it goes on working); ``False``: it becomes ``original``.
    A tensor made from several originals keeps its value in a new parameter when that value requires grad (the
    originals do and grad mode is on), else in a buffer, as in PyTorch.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {type(module).__name__} has no parametrization on "
                         f"{tensor_name!r}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                ParametrizationList._overwrite(original, parametrizations())
    else:
        if not leave_parametrized:
            raise ValueError("remove_parametrizations: a tensor made from several originals cannot go back to "
                             "them (leave_parametrized=False); keep leave_parametrized=True")
        value = parametrizations()  # with grad mode as it is: PyTorch's test of whether the result is learned
        original = Parameter(value.detach()) if value.requires_grad else value
    del module.parametrizations[tensor_name]
    if not module.parametrizations:
        delattr(module, "parametrizations")
    _reclass(module)
    _put(module, tensor_name, original)
    return module


def type_before_parametrizations(module: Module) -> type:
    """The class ``module`` had before any parametrization (``Linear`` for a ``ParametrizedLinear``)."""
    return getattr(type(module), "_unparametrized_class", type(module))
