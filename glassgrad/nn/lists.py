"""Holders of sub-modules and parameters: ``ModuleList``, ``ModuleDict``, ``ParameterList``, ``ParameterDict``.

A plain Python list of layers assigned to a module is invisible to it: its parameters are not
in ``model.parameters()``, so the optimizer never trains them, and they are not saved. These
holders register what they hold, as PyTorch's do: a ``ModuleList`` of two ``Linear`` layers
stored as ``self.layers`` gives the parameters ``layers.0.weight``, ``layers.0.bias``,
``layers.1.weight``, … in order. They have no ``forward``: the owning module's ``forward``
decides how to use them (``for layer in self.layers: x = layer(x)``).

>>> import glassgrad as gg
>>> class Stack(gg.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.layers = gg.nn.ModuleList([gg.nn.Linear(2, 2) for _ in range(2)])
...     def forward(self, x):
...         for layer in self.layers:
...             x = layer(x)
...         return x
>>> list(Stack().state_dict())
['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def _module(value: Any, holder: str, where: Any) -> Module | None:
    """A Module as held; None is held as an empty slot, as PyTorch's holders take it (``add_module(name, None)``),
    which ``children()``, ``parameters()`` and ``state_dict()`` skip."""
    if value is not None and not isinstance(value, Module):
        raise TypeError(f"{holder}: entry {where!r} is a {type(value).__name__}, not a gg.nn.Module; "
                        "hold layer objects (e.g. gg.nn.Linear(2, 3))")
    return value


def _parameter(value: Any, holder: str, where: Any) -> Parameter | None:
    """A Parameter as held: a plain tensor becomes one (sharing memory), as in PyTorch; None is held as an empty slot
    (as a disabled bias), which ``parameters()`` and ``state_dict()`` skip, as PyTorch's."""
    if value is None or isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{holder}: entry {where!r} is a {type(value).__name__}, not a Tensor or gg.nn.Parameter")


def _position(index: Any, count: int, holder: str) -> int:
    if not hasattr(index, "__index__"):  # an int, a NumPy int, a 0-d int tensor, a bool (True is 1), as PyTorch's
        raise TypeError(f"{holder} indices must be integers or slices, not {type(index).__name__}")
    index = index.__index__()
    if not -count <= index < count:
        raise IndexError(f"index {index} is out of range for a {holder} of {count} entries")
    return index % count


def _replace(holder: Module, registry: dict[str, Any], name: str, value: Any) -> None:
    """Put ``value`` under an existing ``name`` keeping its place in the order (as PyTorch does)."""
    registry[name] = value
    object.__setattr__(holder, name, value)


class _NotCalled:
    """What ParameterList and ParameterDict share: they hold parameters and are no layer, so calling one raises
    PyTorch's RuntimeError (a ModuleList or ModuleDict, as any module without a ``forward``, raises
    NotImplementedError, as PyTorch's)."""

    _kind = ""

    def forward(self, *inputs: Any) -> Any:
        raise RuntimeError(f"{self._kind} should not be called.")


class _Listed(Module):
    """What ModuleList and ParameterList share: entries named ``"0"``, ``"1"``, … kept in order."""

    _kind = ""

    def _registry(self) -> dict[str, Any]:
        raise NotImplementedError

    def _checked(self, value: Any, where: Any) -> Any:
        raise NotImplementedError

    def _put(self, name: str, value: Any) -> None:
        raise NotImplementedError

    def _entries(self) -> list[Any]:
        return list(self._registry().values())

    def _renumber(self, entries: list[Any]) -> None:
        """Register ``entries`` again as ``"0"``, ``"1"``, … (after an insertion or a deletion)."""
        for name in list(self._registry()):
            delattr(self, name)
        for position, value in enumerate(entries):
            self._put(str(position), value)

    def __len__(self) -> int:
        return len(self._registry())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._entries())

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(self._entries()[index])
        return self._entries()[_position(index, len(self), self._kind)]

    def __setitem__(self, index: int, value: Any) -> None:
        position = _position(index, len(self), self._kind)
        _replace(self, self._registry(), str(position), self._checked(value, position))

    def __delitem__(self, index: int | slice) -> None:
        entries = self._entries()
        if isinstance(index, slice):
            del entries[index]
        else:
            del entries[_position(index, len(entries), self._kind)]
        self._renumber(entries)

    def append(self, value: Any) -> _Listed:
        """Add ``value`` at the end (named by its position); returns the list."""
        self._put(str(len(self)), self._checked(value, len(self)))
        return self

    def extend(self, values: Iterable[Any]) -> _Listed:
        """Append every entry of ``values``; returns the list."""
        if isinstance(values, Tensor) or not isinstance(values, Iterable):  # another list, a Sequential: taken
            raise TypeError(f"{self._kind}.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values: Iterable[Any]) -> _Listed:
        return self.extend(values)

    def __add__(self, other: Iterable[Any]) -> _Listed:
        return type(self)([*self._entries(), *other])


class ModuleList(_Listed):
    """A list of sub-modules, registered as ``"0"``, ``"1"``, …: indexing, ``append``, ``extend``,
    ``insert``, ``pop``, slicing (a new ModuleList holding the same layers) and iteration."""

    _kind = "ModuleList"

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _registry(self) -> dict[str, Any]:
        return self._modules

    def _checked(self, value: Any, where: Any) -> Module:
        return _module(value, self._kind, where)

    def _put(self, name: str, value: Any) -> None:
        self.add_module(name, value)

    def _described_children(self) -> list[tuple[str, list[tuple[str, Any]]]]:
        """As PyTorch prints a ModuleList: a run of layers that print alike is one entry, ``(0-2): 3 x Linear(…)``,
        whose parameter count is the whole run's (the lines inside it are the first layer's)."""
        runs: list[tuple[list[str], list[Module], list[tuple[str, Any]]]] = []  # names, layers, first one's lines
        for (name, lines), layer in zip(super()._described_children(), self._modules.values()):
            if runs and [text for text, _ in runs[-1][2]] == [text for text, _ in lines]:
                runs[-1][0].append(name)
                runs[-1][1].append(layer)
            else:
                runs.append(([name], [layer], lines))
        described = []
        for names, layers, lines in runs:
            if len(layers) == 1:
                described.append((names[0], lines))
                continue
            (text, _), *inner = lines
            described.append((f"{names[0]}-{names[-1]}", [(f"{len(layers)} x {text}", ModuleList(layers)), *inner]))
        return described

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (the later ones are renumbered)."""
        entries = self._entries()
        entries.insert(index, self._checked(module, index))
        self._renumber(entries)

    def pop(self, index: int = -1) -> Module:
        """Remove the module at ``index`` and return it."""
        module = self[index]
        del self[index]
        return module


class ParameterList(_NotCalled, _Listed):
    """A list of parameters, registered as ``"0"``, ``"1"``, …; a plain tensor put in becomes a Parameter."""

    _kind = "ParameterList"

    def __init__(self, values: Iterable[Tensor] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _registry(self) -> dict[str, Any]:
        return self._parameters

    def _checked(self, value: Any, where: Any) -> Parameter | None:
        return _parameter(value, self._kind, where)

    def _put(self, name: str, value: Any) -> None:
        self.register_parameter(name, value)


class _Keyed(Module):
    """What ModuleDict and ParameterDict share: entries by string key, kept in insertion order."""

    _kind = ""

    def _registry(self) -> dict[str, Any]:
        raise NotImplementedError

    def _put(self, key: str, value: Any) -> None:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        if key not in self._registry():
            raise KeyError(f"{self._kind} has no entry {key!r}; it holds {list(self._registry())}")
        return self._registry()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(key, str) and key not in self._registry() and hasattr(self, key):
            raise KeyError(f"attribute '{key}' already exists: {self._kind} has a method or attribute of that name "
                           "(an entry under it would hide it, as PyTorch refuses too); rename the entry")
        self._put(key, value)

    def __delitem__(self, key: str) -> None:
        self[key]  # a missing key: the one-line KeyError above
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._registry())

    def __iter__(self) -> Iterator[str]:
        """The keys in order, read live, as PyTorch's: adding or removing an entry while looping over them raises
        ``RuntimeError: dictionary changed size during iteration`` (loop over ``list(d)`` to edit), as :meth:`keys`."""
        return iter(self.keys())

    def __contains__(self, key: object) -> bool:
        return key in self._registry()

    def keys(self) -> KeysView[str]:
        """The keys in order, a live view of the registry (``dict_keys([...])``), as PyTorch's ModuleDict returns
        them: it follows later edits, and changing the dict while looping over it raises, as a dict's does. (The
        registry is an OrderedDict kept in insertion order; ``dict``'s own views show it as PyTorch's plain dict.)"""
        return dict.keys(self._registry())

    def values(self) -> ValuesView[Any]:
        return dict.values(self._registry())

    def items(self) -> ItemsView[str, Any]:
        return dict.items(self._registry())

    def clear(self) -> None:
        for key in list(self._registry()):
            del self[key]

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def update(self, entries: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace entries from a mapping (another ModuleDict or ParameterDict too) or from (key, value)
        pairs, in their order."""
        if not isinstance(entries, Iterable):
            raise TypeError(f"{self._kind}.update should be called with an iterable of key/value pairs, but got "
                            f"{type(entries).__name__}")
        pairs = entries.items() if isinstance(entries, (Mapping, _Keyed)) else entries
        for position, pair in enumerate(pairs):
            if not isinstance(pair, Iterable) or isinstance(pair, str):
                raise TypeError(f"{self._kind} update sequence element #{position} should be a (key, value) pair, "
                                f"but got {type(pair).__name__}")
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(f"{self._kind} update sequence element #{position} has length {len(pair)}; "
                                 "2 is required")
            self[pair[0]] = pair[1]


class ModuleDict(_Keyed):
    """Sub-modules by name (``self.heads = ModuleDict({"class": Linear(8, 3), "box": Linear(8, 4)})``)."""

    _kind = "ModuleDict"

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _registry(self) -> dict[str, Any]:
        return self._modules

    def _put(self, key: str, value: Any) -> None:
        value = _module(value, self._kind, key)
        if key in self._modules:
            _replace(self, self._modules, key, value)
        else:
            self.add_module(key, value)


class ParameterDict(_NotCalled, _Keyed):
    """Parameters by name; a plain tensor put in becomes a Parameter."""

    _kind = "ParameterDict"

    def __init__(self, parameters: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def _registry(self) -> dict[str, Any]:
        return self._parameters

    def _put(self, key: str, value: Any) -> None:
        value = _parameter(value, self._kind, key)
        if key in self._parameters:
            _replace(self, self._parameters, key, value)
        else:
            self.register_parameter(key, value)

    def update(self, entries: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """As :meth:`ModuleDict.update`, but a plain dict's entries go in sorted by key, as PyTorch's ParameterDict
        puts them (an OrderedDict, another ParameterDict and (key, value) pairs keep their order), so the
        parameters come in PyTorch's order (an optimizer's state dict numbers them in that order)."""
        if isinstance(entries, Mapping) and not isinstance(entries, OrderedDict):
            entries = sorted(entries.items())
        super().update(entries)

    def get(self, key: str, default: Any = None) -> Any:
        return self._parameters.get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """The entry ``key``, put in first (as a Parameter) if it is not there."""
        if key not in self:
            self[key] = default
        return self[key]

    def popitem(self) -> tuple[str, Parameter]:
        """Remove the entry put in last and return ``(key, parameter)``."""
        if not self._parameters:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._parameters))
        return key, self.pop(key)

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (not copies of them)."""
        return ParameterDict(self.items())

    def fromkeys(self, keys: Iterable[str], default: Tensor | None = None) -> ParameterDict:
        """A new ParameterDict with ``default`` (None: empty slots) under every key of ``keys`` (called on one, as in
        PyTorch)."""
        return ParameterDict((key, default) for key in keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._parameters))

    def __or__(self, other: ParameterDict) -> ParameterDict:
        """``a | b``: a new ParameterDict of the entries of ``a``, then those of ``b`` (which win)."""
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: ParameterDict) -> ParameterDict:
        merged = ParameterDict(other)
        merged.update(self)
        return merged

    def __ior__(self, other: ParameterDict) -> ParameterDict:
        self.update(other)
        return self
