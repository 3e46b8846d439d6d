"""The step-through view: one sample through a small network, one press at a time.

The state is what the page sends (and keeps in its URL): the example, its seed, the learning
rate η and the list of *actions* taken so far, e.g. ``"f b b u f"``:

* ``f``: forward pass, ``Z_l = W_l·A_{l−1} + b_l``, ``A_l = f(Z_l)``, then the loss;
* ``b``: backward through one more layer, from the output down (gradients fill in layer by layer);
* ``u``: gradient-descent update ``W ← W − η·∂L/∂W`` (after a full backward);
* ``W1[0,2]=0.5``, ``b2[1]=-0.1``, ``x[3]=0``, ``y[0]=1``: edit a weight, bias, input or target;
* ``lr=0.5``: a new learning rate η for the updates that follow (earlier updates keep theirs).

The server replays the actions from the example's initial weights, so a URL reproduces exactly
what a student saw, Reset means "no actions" (the same initial weights), and Step back drops the
last action. All numbers come from glassgrad: ``F.linear`` per layer, ``retain_grad()`` on every
``Z`` and ``A``, one ``loss.backward()``, and the stand-in SGD optimizer for updates.

Vectors are shown as columns, as in the lessons: ``Z = W·X + b``. The engine computes the same
numbers with a row sample, ``Z = X·Wᵀ + b`` (``nn.Linear``'s reading).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

import glassgrad as gg
import glassgrad.nn.functional as F

from . import bridge
from .display import PRECISION_NOTE, matrix_json, shown, subscript
from .safety import ApiError, Fields, number_from_text

EXAMPLES = {
    "diagonal-flip": "Diagonal flip (4→3→4, ReLU, MSE)",
    "mlp3": "Three-layer MLP (softmax + cross-entropy)",
    "moons": "Moons classifier (2→4→2, tanh, one point)",
    "custom": "Custom layers",
}
ACTIVATION_NAMES = ("relu", "tanh", "sigmoid")
LOSSES = ("mse", "cross_entropy")
MAX_ACTIONS = 400
MAX_WIDTH = 8
MAX_LAYERS = 6
EDIT_LIMIT = 100.0
LR_RANGE = (1e-6, 100.0)
SEEDED = ("moons", "custom")  # the lessons' networks have fixed weights: a seed changes nothing there
ACTION = re.compile(r"^(?P<name>[A-Za-z]+)(?P<layer>\d*)\[(?P<index>\d+(?:,\d+)?)\]=(?P<value>\S+)$")


@dataclass
class Network:
    """The current numbers of a walkthrough (float32, as the engine keeps them)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activations: list[str]
    loss: str
    x: np.ndarray
    y: np.ndarray
    origins: dict[str, tuple] = field(default_factory=dict)  # cell → ("edit",) or ("update", old, grad, η, n)

    @property
    def depth(self) -> int:
        return len(self.weights)


@dataclass
class Pass:
    """Everything one forward and backward pass computed, as NumPy arrays (vectors are 1-D).

    ``Z[l]``, ``A[l]``, ``dZ[l]``, ``dW[l]``, ``db[l]`` for layers ``l = 1…L`` (index 0 unused for
    ``Z``), ``A[0] = X`` and ``dA[l] = ∂L/∂A_l`` for ``l = 0…L`` (``dA[L] = ∂L/∂ŷ`` under MSE).
    """

    Z: list
    A: list
    prediction: np.ndarray
    loss: float
    dZ: list
    dA: list
    dW: list
    db: list


def run_pass(network: Network) -> tuple[Pass, list[gg.Tensor]]:
    """Forward and backward with glassgrad; returns the numbers and the parameters (with ``.grad``)."""
    inputs = gg.tensor(network.x[None, :], requires_grad=True)
    parameters, Z, A = [], [None], [inputs]
    for weight, bias, activation in zip(network.weights, network.biases, network.activations):
        weight_t, bias_t = gg.tensor(weight, requires_grad=True), gg.tensor(bias, requires_grad=True)
        parameters += [weight_t, bias_t]
        z = F.linear(A[-1], weight_t, bias_t)
        z.retain_grad()
        a = z if activation == "identity" else bridge.ACTIVATIONS[activation](z)
        if a is not z:
            a.retain_grad()
        Z.append(z)
        A.append(a)
    if network.loss == "mse":
        loss = F.mse_loss(A[-1], gg.tensor(network.y[None, :]))
        prediction = A[-1].data[0]
    else:
        loss = F.cross_entropy(Z[-1], gg.tensor(network.y.astype(np.int64)))
        with gg.no_grad():
            prediction = F.softmax(Z[-1], dim=1).data[0]
    loss.backward()
    last = network.depth
    numbers = Pass(
        Z=[None] + [z.data[0] for z in Z[1:]],
        A=[a.data[0] for a in A],
        prediction=prediction,
        loss=float(loss.item()),
        dZ=[None] + [z.grad.data[0] for z in Z[1:]],
        dA=[inputs.grad.data[0]] + [a.grad.data[0] if a.grad is not None else None for a in A[1:]],
        dW=[None] + [p.grad.data for p in parameters[0::2]],
        db=[None] + [p.grad.data for p in parameters[1::2]],
    )
    if network.loss == "cross_entropy":
        numbers.dA[last] = None  # the fused softmax + cross-entropy goes straight to ∂L/∂Z
    return numbers, parameters


def example_network(example: str, fields: Fields) -> tuple[Network, str, str]:
    """The example's starting network, its title and its description."""
    seed = fields.integer("seed", 0, 0, 2**31 - 1)
    if example in ("diagonal-flip", "mlp3"):
        lesson = bridge.lesson_example(example)
        weights, biases = [w for w, _ in lesson.layers], [b for _, b in lesson.layers]
        network = Network(weights, biases, lesson.activations, lesson.loss, lesson.x, lesson.y)
        return _as_float32(network), lesson.title, " ".join([lesson.description, *lesson.notes])
    if example == "moons":
        sizes, activation, loss = [2, 4, 2], "tanh", "cross_entropy"
        points, labels = bridge.load_dataset("moons", n_samples=100, noise=0.1, seed=0)
        pick = seed % len(points)
        x, y = points[pick], labels[pick:pick + 1]
        about = f"Point {pick} of a 100-point moons set, class {int(y[0])}."
    else:
        sizes = fields.sizes("sizes", [2, 3, 2], MAX_LAYERS, MAX_WIDTH)
        if len(sizes) < 2:
            raise ApiError(422, "sizes: give at least an input and an output size, e.g. [2, 3, 2]")
        activation = fields.choice("activation", ACTIVATION_NAMES, "relu")
        loss = fields.choice("loss", LOSSES, "mse")
        if loss == "cross_entropy" and sizes[-1] < 2:
            raise ApiError(422, "sizes: cross-entropy needs at least 2 output classes")
        rng = np.random.default_rng(seed)
        x = np.round(rng.uniform(-1, 1, sizes[0]), 1)
        y = np.round(rng.uniform(0, 1, sizes[-1]), 1) if loss == "mse" else rng.integers(sizes[-1], size=1)
        about = "A random input and target."
    model = bridge.make_mlp(sizes, activation, seed)
    tensors = [p.data for _, p in model.named_parameters()]
    network = Network([np.round(w, 2) for w in tensors[0::2]], [np.round(b, 2) for b in tensors[1::2]],
                      [activation] * (len(sizes) - 2) + ["identity"], loss, np.asarray(x), np.asarray(y))
    description = (f"{about} Weights drawn with seed {seed} (PyTorch's nn.Linear rule) and rounded to 2 decimals "
                   "so the formulas stay readable.")
    return _as_float32(network), EXAMPLES[example], description


def _as_float32(network: Network) -> Network:
    network.weights = [np.array(w, dtype=np.float32) for w in network.weights]
    network.biases = [np.array(b, dtype=np.float32) for b in network.biases]
    network.x = np.array(network.x, dtype=np.float32)
    network.y = np.array(network.y, dtype=np.float32 if network.loss == "mse" else np.int64)
    return network


class Walkthrough:
    """A network after replaying ``actions``; ``stage`` 0 = weights only, 1 = forward, 1 + k = k layers back."""

    def __init__(self, fields: Fields) -> None:
        self.example = fields.choice("example", EXAMPLES, "diagonal-flip")
        self.lr = fields.number("lr", 0.1, *LR_RANGE)
        self.network, self.title, self.description = example_network(self.example, fields)
        actions = fields.text("actions", "", 8 * MAX_ACTIONS).split()
        if len(actions) > MAX_ACTIONS:
            raise ApiError(422, f"actions: {len(actions)} steps is too many to replay (at most {MAX_ACTIONS}); Reset")
        self.actions, self.stage, self.updates, self.numbers = [], 0, 0, None
        for action in actions:
            self._do(action)
            self.actions.append(action)
        if self.stage and self.numbers is None:
            self.numbers, _ = run_pass(self.network)

    @property
    def last_stage(self) -> int:
        return 1 + self.network.depth

    def _do(self, action: str) -> None:
        where = f"action {len(self.actions) + 1} ({action!r})"
        if action == "f":
            if self.stage != 0:
                raise ApiError(422, f"{where}: the forward pass is already done; press Backward")
            self.stage = 1
        elif action == "b":
            if not 1 <= self.stage < self.last_stage:
                hint = "press Forward first" if self.stage == 0 else "all gradients are in; press Update"
                raise ApiError(422, f"{where}: nothing left to backward ({hint})")
            self.stage += 1
        elif action == "u":
            if self.stage != self.last_stage:
                raise ApiError(422, f"{where}: Update needs every gradient; run Forward and Backward to the input")
            self._update()
        elif action.startswith("lr="):
            self.lr = _finite(action[3:], where, *LR_RANGE)
        else:
            self._edit(action, where)

    def _update(self) -> None:
        numbers, parameters = run_pass(self.network)
        old = [p.data.copy() for p in parameters]
        bridge.make_optimizer("sgd", parameters, self.lr).step()
        self.updates += 1
        for index, parameter in enumerate(parameters):
            layer, kind = index // 2 + 1, "W" if index % 2 == 0 else "b"
            grads = numbers.dW[layer] if kind == "W" else numbers.db[layer]
            for position in np.ndindex(parameter.shape):
                self.network.origins[_cell(kind, layer, position)] = (
                    "update", old[index][position], grads[position], self.lr, self.updates)
            (self.network.weights if kind == "W" else self.network.biases)[layer - 1] = parameter.data
        self.stage, self.numbers = 0, None

    def _edit(self, action: str, where: str) -> None:
        match = ACTION.match(action)
        if not match:
            raise ApiError(422, f"{where}: not an action; use f, b, u or an edit such as W1[0,2]=0.5")
        name, layer_text = match["name"], match["layer"]
        index = tuple(int(i) for i in match["index"].split(","))
        value = _finite(match["value"], where, -EDIT_LIMIT, EDIT_LIMIT)
        target = self._editable(name, layer_text, where)
        if len(index) != target.ndim or any(i >= n for i, n in zip(index, target.shape)):
            raise ApiError(422, f"{where}: index {list(index)} is outside {name}{layer_text} "
                                f"of shape {list(target.shape)}")
        if name == "y" and self.network.loss == "cross_entropy":
            if value != int(value) or not 0 <= value < self.network.weights[-1].shape[0]:
                raise ApiError(422, f"{where}: the target is a class index from 0 to "
                                    f"{self.network.weights[-1].shape[0] - 1}")
        target[index] = value
        self.network.origins[f"{name}{layer_text}[{','.join(map(str, index))}]"] = ("edit",)
        self.stage, self.numbers = 0, None

    def _editable(self, name: str, layer_text: str, where: str) -> np.ndarray:
        if name in ("x", "y") and not layer_text:
            return getattr(self.network, name)
        if name in ("W", "b") and layer_text and 1 <= int(layer_text) <= self.network.depth:
            return (self.network.weights if name == "W" else self.network.biases)[int(layer_text) - 1]
        raise ApiError(422, f"{where}: only W1…W{self.network.depth}, b1…b{self.network.depth}, x and y can be edited")

    # --- what the page shows -----------------------------------------------------------------

    def revealed(self, layer: int) -> bool:
        """True once backward has reached ``layer`` (the output layer first)."""
        return self.stage >= 1 + (self.network.depth - layer + 1)

    def view(self) -> dict:
        net, numbers, depth = self.network, self.numbers, self.network.depth
        forward = numbers is not None
        layers = []
        for layer in range(1, depth + 1):
            Z, A = (numbers.Z[layer], numbers.A[layer]) if forward else (None, None)
            back = forward and self.revealed(layer)
            dZ, dW, db, dA_in = ((numbers.dZ[layer], numbers.dW[layer], numbers.db[layer], numbers.dA[layer - 1])
                                 if back else (None, None, None, None))
            below = f"∂L/∂{subscript('A', layer - 1)}" if layer > 1 else "∂L/∂X"
            weight = net.weights[layer - 1]
            out, into = weight.shape[:1], weight.shape[1:]
            layers.append({
                "index": layer,
                "activation": net.activations[layer - 1],
                "W": matrix_json(f"W{layer}", subscript("W", layer), weight),
                "b": matrix_json(f"b{layer}", subscript("b", layer), net.biases[layer - 1]),
                "Z": matrix_json(f"Z{layer}", subscript("Z", layer), Z, out),
                "A": matrix_json(f"A{layer}", subscript("A", layer), A, out),
                "dZ": matrix_json(f"dZ{layer}", f"∂L/∂{subscript('Z', layer)}", dZ, out),
                "dW": matrix_json(f"dW{layer}", f"∂L/∂{subscript('W', layer)}", dW, weight.shape),
                "db": matrix_json(f"db{layer}", f"∂L/∂{subscript('b', layer)}", db, out),
                "dA_in": matrix_json(f"dA{layer - 1}", below, dA_in, into),
            })
        mse = net.loss == "mse"
        target = matrix_json("y", "y" if mse else "class y", net.y)
        if not mse:  # a class index is a whole number, not a measurement
            target["text"] = [str(int(label)) for label in net.y]
        return {
            "example": self.example, "title": self.title, "description": self.description,
            "actions": " ".join(self.actions), "stage": self.stage, "last_stage": self.last_stage,
            "updates": self.updates, "lr": self.lr, "loss_name": net.loss,
            "can": {"forward": self.stage == 0, "backward": 1 <= self.stage < self.last_stage,
                    "update": self.stage == self.last_stage, "step_back": bool(self.actions)},
            "input": matrix_json("x", "X", net.x),
            "target": target,
            "prediction": matrix_json("yhat", "ŷ" if mse else f"ŷ = softmax({subscript('Z', depth)})",
                                      numbers.prediction if forward else None, net.weights[-1].shape[:1]),
            "loss": {"value": numbers.loss, "text": shown(numbers.loss, signed=False)} if forward else None,
            # under cross-entropy the gradient goes from the loss straight to Z (fused): there is no ∂L/∂ŷ to show
            "dprediction": matrix_json("dA" + str(depth), "∂L/∂ŷ",
                                       numbers.dA[depth] if forward and self.revealed(depth) else None,
                                       net.weights[-1].shape[:1]) if mse else None,
            "layers": layers,
            "narration": self.narration(),
            "diagram_text": self.diagram_text(),
            "precision": PRECISION_NOTE,
        }

    def narration(self) -> str:
        depth, stage = self.network.depth, self.stage
        if stage == 0:
            if self.actions and self.actions[-1] == "u":
                return (f"Update {self.updates} done: every weight moved against its gradient, W ← W − η·∂L/∂W "
                        f"with η = {self.lr:g}. Press Forward to see the new loss.")
            return "Press Forward to push X through the network, layer by layer."
        if stage == 1:
            steps = ", ".join(f"{subscript('Z', l)} = {subscript('W', l)}·{subscript('A', l - 1)} + {subscript('b', l)}"
                              for l in range(1, depth + 1)).replace("A₀", "X")
            return (f"Forward: {steps}, each followed by its activation; loss L = {shown(self.numbers.loss, False)}. "
                    "Press Backward to send the gradient back from the loss.")
        layer = depth - (stage - 2)
        first = (f"∂L/∂{subscript('Z', layer)} = ŷ − onehot(y) (softmax + cross-entropy)"
                 if layer == depth and self.network.loss != "mse"
                 else f"∂L/∂{subscript('Z', layer)} = ∂L/∂{subscript('A', layer)} ⊙ f′({subscript('Z', layer)})")
        done = " All gradients are in: press Update." if stage == self.last_stage else " Press Backward again."
        previous = subscript("A", layer - 1).replace("A₀", "X")
        return (f"Backward through layer {layer}: {first}; ∂L/∂{subscript('W', layer)} = ∂L/∂{subscript('Z', layer)}"
                f"·{previous}ᵀ; ∂L/∂{subscript('b', layer)} = ∂L/∂{subscript('Z', layer)}; ∂L/∂{previous} = "
                f"{subscript('W', layer)}ᵀ·∂L/∂{subscript('Z', layer)}.{done}")

    def diagram_text(self) -> str:
        """The diagram in words, for screen readers."""
        net = self.network
        sizes = [net.x.size] + [w.shape[0] for w in net.weights]
        parts = [f"{sizes[0]} inputs"] + [
            f"{n} {'outputs' if i == net.depth else 'hidden neurons'} ({net.activations[i - 1]})"
            for i, n in enumerate(sizes[1:], 1)]
        text = "Network: " + " → ".join(parts) + ". Input X = [" + ", ".join(shown(v) for v in net.x) + "]."
        if self.numbers is not None:
            text += (" Prediction ŷ = [" + ", ".join(shown(v) for v in self.numbers.prediction) + "], loss "
                     f"{shown(self.numbers.loss, False)}.")
        filled = max(self.stage - 1, 0)
        return text + f" Gradients filled for {filled} of {net.depth} layers."


def _finite(text: str, where: str, low: float, high: float) -> float:
    """``text`` as a number from ``low`` to ``high``; 422 naming the action otherwise (NaN and ∞ included)."""
    try:
        value = number_from_text(text)
    except ValueError:
        raise ApiError(422, f"{where}: {text!r} is not a number") from None
    if not low <= value <= high:  # False for NaN as well
        raise ApiError(422, f"{where}: {text} is out of range: use a finite number from {low:g} to {high:g}")
    return value


def _cell(kind: str, layer: int, position: tuple) -> str:
    return f"{kind}{layer}[{','.join(str(i) for i in position)}]"
