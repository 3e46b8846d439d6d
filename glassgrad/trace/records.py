"""What a tape records: one dataclass per kind of event (forward op, backward node, update, module call).

Tensors are named by their keys (:meth:`glassgrad.trace.Tape.key`); every value is a copy taken
when the event happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ops import Op


@dataclass
class ForwardRecord:
    """One op of a forward pass: ``output = op(inputs)``; tensors are named by their keys."""

    index: int
    pass_index: int
    op: Op
    inputs: tuple[int, ...]
    input_values: tuple[np.ndarray, ...]
    output: int
    output_value: np.ndarray
    settings: tuple[Any, ...]
    with_grad: bool
    module: int | None = None
    """Position in ``Tape.modules`` of the module call that made this op, if any."""
    shown: tuple[tuple[str, np.ndarray], ...] = ()
    """The op's :attr:`~glassgrad.ops.Op.shown` arguments, each ``(symbol, values)``: ``where``'s condition."""

    @property
    def reduction(self) -> str | None:
        """A loss's reduction ("mean", "sum" or "none"), if the op took one (its row names the setting)."""
        return dict(zip(self.op.settings, self.settings)).get("reduction")


@dataclass
class BackwardRecord:
    """One node of a backward pass: ``∂L/∂input = ∂L/∂out · ∂out/∂input`` for each input.

    ``contributions[i]`` is already summed to input ``i``'s shape (un-broadcast, as the engine
    does next) or ``None`` where that input needs no gradient; ``accumulated[i]`` is True when
    the input had already received a contribution in this pass, so this one is *added* to it;
    ``earlier_grad[i]`` is True when the input is a leaf whose ``.grad`` still holds a (nonzero)
    gradient of an earlier ``backward()`` (nobody called ``zero_grad()``), so this pass adds to it.
    """

    index: int
    pass_index: int
    op: Op
    node: int
    inputs: tuple[int, ...]
    upstream: np.ndarray
    contributions: tuple[np.ndarray | None, ...]
    accumulated: tuple[bool, ...]
    earlier_grad: tuple[bool, ...]
    outputs: tuple[tuple[int, np.ndarray | None], ...] = ()
    """For one call with several outputs (a custom Function returning a tuple: one ``backward`` for all), each
    output's key and the upstream gradient it passed to that call (None: it got none); else empty."""


@dataclass
class UpdateRecord:
    """One parameter update made by an optimizer: ``new = rule(old, gradient, lr)``."""

    index: int
    pass_index: int
    optimizer: str
    formula: str
    parameter: int
    old: np.ndarray
    gradient: np.ndarray
    lr: float
    new: np.ndarray
    state: dict = field(default_factory=dict)
    """The optimizer's state by the rule's letter: ``{"b": ("momentum_buffer", before, after)}`` (before: None on
    the parameter's first step)."""


@dataclass
class ModuleCall:
    """The ops one module's forward made (those no submodule took), found when its forward hook fired."""

    name: str
    kind: str
    records: list[int]
    inputs: tuple[int, ...]
    output: int
