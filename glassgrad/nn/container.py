"""Containers: ``Sequential`` (layers applied in order) and ``Residual`` (a skip connection).

>>> import glassgrad as gg
>>> model = gg.nn.Sequential(gg.nn.Linear(4, 3), gg.nn.ReLU(), gg.nn.Linear(3, 4))
>>> len(model), type(model[-1]).__name__, model.num_parameters()
(3, 'Linear', 31)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..arguments import shape_text
from ..tensor import Tensor
from .module import Module


class Sequential(Module):
    """Apply layers one after the other: ``Sequential(a, b, c)(x) = c(b(a(x)))``.

    Layers are named ``"0"``, ``"1"``, … (so parameters are ``"0.weight"``, …), or by the
    keys of one ordered mapping passed instead. Supports ``model[i]``, ``model[1:]`` (a new
    Sequential, of the subclass if ``model``'s is one, sharing the layers), ``model[i] = layer``,
    ``del model[i]``, ``len``, iteration, ``append``, ``extend``, ``insert`` and ``pop``. Deleting or inserting
    renumbers the layers ``"0"``, ``"1"``, … (names from a mapping included), as PyTorch does, so the state
    dict's keys change.
    """

    def __init__(self, *layers: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], Mapping):
            named = list(layers[0].items())
        else:
            named = [(str(position), layer) for position, layer in enumerate(layers)]
        for name, layer in named:
            self.add_module(name, _checked_layer(layer, name))

    def forward(self, input: Any) -> Any:
        for layer in self._modules.values():
            input = layer(input)
        return input

    def _position(self, index: int) -> int:
        count = len(self._modules)
        if not -count <= index < count:
            raise IndexError(f"index {index} is out of range for a Sequential of {count} layers")
        return index % count

    def __getitem__(self, index: int | slice) -> Module:
        """The layer at ``index``; a slice is a new module of this class (a subclass's ``forward`` included, as
        PyTorch's) holding those layers under their names."""
        items = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(dict(items[index]))
        return items[self._position(index)][1]

    def __setitem__(self, index: int, layer: Module) -> None:
        name = list(self._modules)[self._position(index)]
        self._modules[name] = _checked_layer(layer, name)
        object.__setattr__(self, name, layer)

    def __delitem__(self, index: int | slice) -> None:
        layers = list(self._modules.values())
        if isinstance(index, slice):
            del layers[index]
        else:
            del layers[self._position(index)]
        self._renumber(layers)

    def _renumber(self, layers: list[Module]) -> None:
        """Register ``layers`` again as ``"0"``, ``"1"``, … (after a deletion or an insertion)."""
        for name in list(self._modules):
            delattr(self, name)
        for position, layer in enumerate(layers):
            self.add_module(str(position), layer)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, layer: Module) -> Sequential:
        """Add ``layer`` at the end (named by its position); returns the Sequential."""
        self.add_module(str(len(self._modules)), _checked_layer(layer, str(len(self._modules))))
        return self

    def extend(self, layers: Iterable[Module]) -> Sequential:
        """Append every layer of ``layers`` (a list or another Sequential); returns the Sequential."""
        for layer in layers:
            self.append(layer)
        return self

    def insert(self, index: int, layer: Module) -> Sequential:
        """Put ``layer`` before position ``index`` (``len(model)`` appends); returns the Sequential."""
        count = len(self._modules)
        if not -count <= index <= count:
            raise IndexError(f"insert position {index} is out of range for a Sequential of {count} layers")
        layers = list(self._modules.values())
        layers.insert(index if index >= 0 else index + count, _checked_layer(layer, str(index)))
        self._renumber(layers)
        return self

    def pop(self, index: int = -1) -> Module:
        """Remove the layer at ``index`` and return it."""
        layer = self[index]
        del self[index]
        return layer

    def __add__(self, other: Sequential) -> Sequential:
        """``a + b``: a new Sequential of the layers of ``a`` then those of ``b`` (the same layer objects)."""
        return Sequential().extend(self).extend(_checked_sequential(other, "+"))

    def __iadd__(self, other: Sequential) -> Sequential:
        return self.extend(_checked_sequential(other, "+="))

    def __mul__(self, times: int) -> Sequential:
        """``model * 3``: a new Sequential holding the layers three times over (the same layer objects, so they
        share their parameters), as PyTorch's."""
        return Sequential().extend(list(self) * _checked_times(times))

    __rmul__ = __mul__

    def __imul__(self, times: int) -> Sequential:
        return self.extend(list(self) * (_checked_times(times) - 1))


def _checked_sequential(other: Any, operator: str) -> Sequential:
    if not isinstance(other, Sequential):
        raise ValueError(f"the {operator} operator of a Sequential takes another Sequential, but a "
                         f"{type(other).__name__} is given; use .append(layer) or .extend(layers)")
    return other


def _checked_times(times: Any) -> int:
    if isinstance(times, bool) or not isinstance(times, int):
        raise TypeError(f"a Sequential can be multiplied by an int, not a {type(times).__name__}")
    if times <= 0:
        raise ValueError(f"a Sequential can be multiplied by an int > 0, not {times}")
    return times


def _checked_layer(layer: Any, name: str) -> Module:
    if not isinstance(layer, Module):
        raise TypeError(
            f"Sequential: layer {name} is a {type(layer).__name__}, not a gg.nn.Module; use a layer "
            "object (e.g. gg.nn.ReLU() rather than gg.relu)"
        )
    return layer


class Residual(Module):
    """A skip connection around any module: ``out = x + block(x)``.

    The gradient reaches ``x`` along two paths and adds up: ``∂L/∂x = ∂L/∂out · (I + ∂block/∂x)``.
    The identity term keeps gradients from vanishing in deep networks. ``block(x)`` must
    have ``x``'s shape.
    """

    def __init__(self, block: Module) -> None:
        super().__init__()
        if not isinstance(block, Module):
            raise TypeError(f"Residual wraps a gg.nn.Module, got {type(block).__name__}")
        self.block = block

    def forward(self, input: Tensor) -> Tensor:
        output = self.block(input)
        if output.shape != input.shape:
            raise RuntimeError(
                f"Residual: the wrapped {type(self.block).__name__} turned shape {shape_text(input.shape)} into "
                f"{shape_text(output.shape)}, but a skip connection adds x to block(x), so both must have the "
                "same shape (e.g. wrap Linear(n, n), not Linear(n, m))"
            )
        return input + output
