"""One traced pass of the step-through's network, read from the tape's step documents.

:func:`run_pass` runs the real ``nn.Module`` on one sample under a tape (``gg.trace``): the
forward pass, ``loss.backward()`` and, for an update, the SGD optimizer's ``step()``. A
:class:`Pass` reads ``tape.describe()``: every tensor's values and gradient by its symbol, the
step that made each, and the view's layers: each step whose op row is ``affine`` (a linear
layer, ``Z = W·X + b``) with the step of kind ``activation`` that follows it (``A = f(Z)``),
then the loss. Nothing here computes a number or knows an op by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import glassgrad as gg
from glassgrad.ops import RULES
from glassgrad.trace.explain import sample_values

from . import bridge
from .safety import ApiError


@dataclass
class Layer:
    """One layer of the view, by the symbols of the step document: ``z = weight·source + bias``, ``a = f(z)``."""

    title: str
    weight: str
    bias: str | None
    source: str
    z: str
    a: str
    activation: str = "identity"


class Pass:
    """One traced pass (forward, backward, maybe an update), read from the tape's document.

    ``values[symbol]`` and ``gradients[symbol]`` are the engine's arrays (one sample as a vector);
    ``forward[symbol]`` is the step that made a tensor, ``backward[symbol]`` the step that made its
    gradient; ``layers`` the view's layers and ``loss_step`` the loss.
    """

    def __init__(self, document: dict, parameter_names: list[str]) -> None:
        self.document, self.updates = document, document["updates"]
        self.parameters = frozenset(document["symbols"][name] for name in parameter_names)
        self.values: dict[str, np.ndarray] = {}
        self.forward: dict[str, dict] = {}
        self.backward: dict[str, dict] = {}
        self.gradients: dict[str, np.ndarray] = {}
        self.layers: list[Layer] = []
        self.loss_step: dict | None = None
        for step in document["forward"]:
            for item in [*step["inputs"], step["output"]]:
                self.values.setdefault(item["symbol"], self.sample(item))
            self.forward[step["output"]["symbol"]] = step
            self._place(step)
        for step in document["backward"]:
            of = step["output"]["of"]
            self.backward[of] = step
            self.gradients[of] = self.sample(step["output"])
        if self.loss_step is None or not self.layers:
            raise ApiError(422, "the step-through needs a network of linear layers that ends in a loss")

    def sample(self, item: dict) -> np.ndarray:
        """An item's numbers, one sample read as a vector (a parameter kept whole)."""
        return sample_values(item["values"], item.get("of", item["symbol"]) in self.parameters)

    def _place(self, step: dict) -> None:
        row = RULES.get(step.get("op") or "")
        kind, out = (row.kind if row is not None else step["kind"]), step["output"]["symbol"]
        if kind == "affine":
            roles = {item.get("role"): item["symbol"] for item in step["inputs"]}
            self.layers.append(Layer(step["layer"], roles["weight"], roles.get("bias"), roles["input"], out, out))
        elif kind == "activation" and self.layers and step["inputs"][0]["symbol"] == self.layers[-1].z:
            self.layers[-1].a = out
            self.layers[-1].activation = step["op"] or step["layer"]  # the row's key names it: relu, tanh …
        elif kind == "loss":
            if step.get("reduction") == "none":
                raise ApiError(422, "the step-through follows one loss number back through the network; this loss "
                                    "keeps one per item (reduction='none'): reduce it with .mean() or .sum() inside "
                                    "the loss call (reduction='mean')")
            self.loss_step = step
        else:
            raise ApiError(422, f"the step-through shows linear layers, activations and a loss; "
                                f"{step['layer']} ({kind}) is none of these: build the model from nn.Linear "
                                "layers and activations")

    @property
    def loss(self) -> float:
        return float(self.document["loss"]["value"])

    @property
    def prediction(self) -> dict:
        """What the loss compares with the target: the item computed inside the loss (softmax), or its first input."""
        inputs = self.loss_step["inputs"]
        return next((item for item in inputs if "formula" in item), inputs[0])

    def layer_steps(self, number: int) -> list[dict]:
        """The backward steps of layer ``number`` (from 1), in the order backward runs them."""
        layer, last = self.layers[number - 1], number == len(self.layers)
        symbols = ([layer.a] if last and layer.a != layer.z else []) + [layer.z, layer.weight, layer.bias,
                                                                          layer.source]
        return [self.backward[s] for s in symbols if s in self.backward]


def run_pass(model: gg.nn.Module, loss: str, x: np.ndarray, y: np.ndarray, lr: float | None = None) -> Pass:
    """Forward and backward of the real model on one sample under a tape (and an SGD step with ``lr``).

    ``loss`` is a key of ``bridge.LOSSES``; ``y`` holds values (float) or a class index (int).
    """
    with gg.trace(model) as tape:
        inputs = gg.tensor(x[None, :], requires_grad=True)  # requires grad: the page shows ∂L/∂X
        target = gg.tensor(y[None, :] if y.dtype.kind == "f" else y)
        model.zero_grad()
        bridge.LOSSES[loss](model(inputs), target).backward()
        if lr is not None:
            bridge.make_optimizer("sgd", list(model.parameters()), lr).step()
    return Pass(tape.describe(), [name for name, _ in model.named_parameters()])
