"""The step-through view: one sample through a real network, one press at a time.

The state is what the page sends (and keeps in its URL): the example, its seed, the learning
rate η and the list of *actions* taken so far, e.g. ``"f b b u f"``:

* ``f``: forward pass, layer by layer, then the loss;
* ``b``: backward through one more layer, from the output down (gradients fill in layer by layer);
* ``u``: gradient-descent update ``W ← W − η·∂L/∂W`` (after a full backward);
* ``W1[0,2]=0.5``, ``b2[1]=-0.1``, ``x[3]=0``, ``y[0]=1``: edit a weight, bias, input or target;
* ``lr=0.5``: a new learning rate η for the updates that follow (earlier updates keep theirs).

The server replays the actions from the example's initial weights, so a URL reproduces exactly
what a student saw, Reset means "no actions" (the same initial weights), and Step back drops the
last action.

Nothing here computes or re-derives a number: each pass runs the example's real ``nn.Module``
(forward, ``loss.backward()`` and, for ``u``, the SGD optimizer's ``step()``) under a tape
(``gg.trace``), and the view is read from the tape's step documents (:mod:`.traced`):
every value, gradient, update, symbol and formula shown is the glass box's own. The page's
layers are the document's steps whose op row is ``affine`` (a linear layer), each with the step
of kind ``activation`` that follows it, so any stack of traced linear layers and activations
steps through the same way.

Vectors are shown as columns, as in the lessons: ``Z = W·X + b``. The engine computes the same
numbers with a row sample, ``Z = X·Wᵀ + b`` (``nn.Linear``'s reading).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

import glassgrad as gg
from glassgrad.trace import counting

from . import bridge
from .display import matrix_json, precision_note, shown, subscript
from .safety import LR_RANGE, ApiError, Fields, field_label, number_from_text, out_of_range
from .traced import Pass, run_pass
from .training import overshoot

EXAMPLES = {
    "diagonal-flip": "Diagonal flip (4→3→4, ReLU, MSE)",
    "mlp3": "Three-layer MLP (softmax + cross-entropy)",
    "moons": "Moons classifier (2→4→2, tanh, one point)",
    "custom": "Custom layers",
}
MAX_ACTIONS = 400
MAX_WIDTH = 8
MAX_LAYERS = 6
EDIT_LIMIT = 100.0
SEEDED = ("moons", "custom")  # the lessons' networks have fixed weights: a seed changes nothing there
GIVEN_SYMBOLS = {"x": "X", "y": "y"}
"""The symbols the page gives the input and the target (a weight or bias is its layer's, ``W₁``, ``b₂``)."""
ACTION = re.compile(r"^(?P<name>[A-Za-z]+)(?P<layer>\d*)\[(?P<index>\d+(?:,\d+)?)\]=(?P<value>\S+)$")


@dataclass
class Network:
    """The example's real model (float32), its sample, and where each edited or updated number came from."""

    model: gg.nn.Module
    loss: str  # a key of bridge.LOSSES
    x: np.ndarray
    y: np.ndarray
    origins: dict[str, tuple] = field(default_factory=dict)  # cell → ("edit",) or ("update", old, grad, η, n, rule)

    @property
    def layers(self) -> list[list[gg.Tensor]]:
        """The parameters by layer: each weight matrix followed by its bias (``W1``, ``b1``, ``W2`` …)."""
        found: list[list[gg.Tensor]] = []
        for parameter in self.model.parameters():
            if parameter.ndim == 2 or not found:
                found.append([parameter])
            else:
                found[-1].append(parameter)
        return found

    @property
    def dtype(self) -> np.dtype:
        """The model's dtype: float32 on the page, float64 for a float64 model stepped through in a notebook."""
        return self.layers[0][0].array.dtype

    @property
    def depth(self) -> int:
        return len(self.layers)

    def run(self, lr: float | None = None) -> Pass:
        """One traced pass of the model on the sample (and an SGD step with ``lr``)."""
        return run_pass(self.model, self.loss, self.x, self.y, lr)


def example_network(example: str, fields: Fields) -> tuple[Network, str, str, tuple[str, ...]]:
    """The example's starting network, its title, its description and notes about its first forward pass."""
    seed = fields.integer("seed", 0, 0, 2**31 - 1)
    if example in ("diagonal-flip", "mlp3"):
        lesson = bridge.lesson_example(example)
        network = Network(lesson.model, lesson.loss, lesson.x, lesson.y)
        return _as_float32(network), lesson.title, lesson.description, tuple(lesson.notes)
    if example == "moons":
        sizes, activation, loss = bridge.MOONS
        points, labels = bridge.load_dataset("moons", n_samples=100, noise=0.1, seed=0)
        pick = seed % len(points)
        x, y = points[pick], labels[pick:pick + 1]
        about = f"{counting.ordinal_with_code('Point', pick)} of a 100-point moons set, class label {int(y[0])}."
    else:
        sizes = fields.sizes("sizes", [2, 3, 2], MAX_LAYERS, MAX_WIDTH)
        if len(sizes) < 2:
            raise ApiError(422, f"{field_label('sizes')}: give at least an input and an output size, e.g. [2, 3, 2]")
        activation = fields.choice("activation", bridge.ACTIVATIONS, "relu")
        loss = fields.choice("loss", bridge.LOSSES, "mse")
        if loss in bridge.CLASS_TARGETS and sizes[-1] < 2:
            raise ApiError(422, f"{field_label('sizes')}: cross-entropy needs at least 2 output classes")
        rng = np.random.default_rng(seed)
        x = np.round(rng.uniform(-1, 1, sizes[0]), 1)
        classes = loss in bridge.CLASS_TARGETS
        y = rng.integers(sizes[-1], size=1) if classes else np.round(rng.uniform(0, 1, sizes[-1]), 1)
        about = "A random input and target."
    model = bridge.make_mlp(sizes, activation, seed)
    with gg.no_grad():
        for parameter in model.parameters():  # rounded, so the formulas stay readable
            parameter.array[...] = np.round(parameter.array, 2)
    description = (f"{about} Weights drawn with seed {seed} (PyTorch's nn.Linear rule) and rounded to 2 decimals "
                   "so the formulas stay readable.")
    return _as_float32(Network(model, loss, np.asarray(x), np.asarray(y))), EXAMPLES[example], description, ()


def _as_float32(network: Network) -> Network:
    network.model = network.model.float()
    network.x = np.array(network.x, dtype=np.float32)
    network.y = np.array(network.y, dtype=np.int64 if network.loss in bridge.CLASS_TARGETS else np.float32)
    return network


class Walkthrough:
    """A network after replaying ``actions``; ``stage`` 0 = weights only, 1 = forward, 1 + k = k layers back."""

    def __init__(self, fields: Fields) -> None:
        example = fields.choice("example", EXAMPLES, "diagonal-flip")
        lr, actions = replay_settings(fields)
        network, title, description, self.notes = example_network(example, fields)
        self._replay(example, network, title, description, lr, actions)

    @classmethod
    def of(cls, network: Network, actions: str = "", lr: float = 0.1, title: str = "Your network",
           example: str = "custom", description: str = "") -> Walkthrough:
        """A walkthrough of any network (``network.model``: linear layers and activations, any traced ones)."""
        walk = cls.__new__(cls)
        walk.notes = ()
        walk._replay(example, network, title, description, lr, actions.split())
        return walk

    def _replay(self, example: str, network: Network, title: str, description: str, lr: float,
                actions: list[str]) -> None:
        self.example, self.network, self.title, self.description, self.lr = example, network, title, description, lr
        self.actions, self.stage, self.updates, self.numbers = [], 0, 0, None
        self.losses: list[float] = []  # the loss before each update
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging walk overflows: the page says so in words
            for action in actions:
                self._do(action)
                self.actions.append(action)
            self.traced = self.network.run()  # the layers' symbols and kinds, even before Forward shows numbers
        self._check_layers()
        self.numbers = self.traced if self.stage else None

    def _check_layers(self) -> None:
        """The view pairs the model's parameters, as registered (:attr:`Network.layers`), with the traced
        layers, as forward used them: they must be the same layers in the same order."""
        symbols = self.traced.document["symbols"]
        names = {id(parameter): name for name, parameter in self.network.model.named_parameters()}
        registered = [symbols.get(names[id(layer[0])]) for layer in self.network.layers]
        if registered != [layer.weight for layer in self.traced.layers]:
            raise ApiError(422, "the step-through needs each linear layer used once, in the order the model "
                                "defines them; this model's forward uses its layers in another order, skips or "
                                "repeats one")

    @property
    def last_stage(self) -> int:
        return 1 + self.network.depth

    def _where(self, action: str, about: str = "") -> str:
        """How a refusal names ``action``: its number among the actions, counting from 1, and its text (and
        ``about`` it)."""
        return f"{counting.ordinal('action', len(self.actions))} ({action!r}{about})"

    def _do(self, action: str) -> None:
        where = self._where(action)
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
            self.lr = _finite(action[3:], where, *LR_RANGE, name="lr")
        else:
            self._edit(action, where)

    def _update(self) -> None:
        """One traced SGD step of the real model; each entry remembers the update record that set it."""
        done = self.network.run(self.lr)
        self.losses.append(float(done.loss))
        self.updates += 1
        cells = {id(parameter): (kind, number) for number, layer in enumerate(self.network.layers, 1)
                 for kind, parameter in zip("Wb", layer)}
        names = dict(self.network.model.named_parameters())
        for record in done.updates:
            kind, number = cells[id(names[record["parameter"]])]
            for position in np.ndindex(record["old"].shape):
                self.network.origins[_cell(kind, number, position)] = (
                    "update", record["old"][position], record["gradient"][position], record["lr"], self.updates,
                    record["rule"])
        self.stage, self.numbers = 0, None

    def _edit(self, action: str, where: str) -> None:
        match = ACTION.match(action)
        if not match:
            raise ApiError(422, f"{where}: not an action; use f, b, u or an edit such as W1[0,2]=0.5")
        name, layer_text = match["name"], match["layer"]
        index = tuple(int(i) for i in match["index"].split(","))
        target = self._editable(name, layer_text, where)
        # the action writes the code's 0-based index (the page's cell id); the page labels the entry from 1
        symbol = GIVEN_SYMBOLS.get(name) or subscript(name, int(layer_text))
        where = self._where(action, f": the page's {counting.entry(symbol, index)}, counting from {counting.FIRST}")
        value = _finite(match["value"], where, -EDIT_LIMIT, EDIT_LIMIT)
        if len(index) != target.ndim or any(i >= n for i, n in zip(index, target.shape)):
            raise ApiError(422, f"{where}: the entry is outside {name}{layer_text} of shape "
                                f"{list(target.shape)}")
        classes = self.network.layers[-1][0].shape[0]
        if name == "y" and self.network.y.dtype.kind != "f":
            if value != int(value) or not 0 <= value < classes:
                raise ApiError(422, f"{where}: the target is a class index, a whole number from 0 to {classes - 1} "
                                    f"({counting.ordinal('class', 0)} to {counting.ordinal('class', classes - 1)} "
                                    "as the page counts)")
        target[index] = value
        self.network.origins[f"{name}{layer_text}[{','.join(map(str, index))}]"] = ("edit",)
        self.stage, self.numbers = 0, None

    def _editable(self, name: str, layer_text: str, where: str) -> np.ndarray:
        if name in ("x", "y") and not layer_text:
            return getattr(self.network, name)
        layers = self.network.layers
        if name in ("W", "b") and layer_text and 1 <= int(layer_text) <= len(layers):
            found = layers[int(layer_text) - 1]
            if name == "W" or len(found) > 1:
                return found[0 if name == "W" else 1].array
        raise ApiError(422, f"{where}: only W1…W{len(layers)}, b1…b{len(layers)}, x and y can be edited")

    # --- what the page shows -----------------------------------------------------------------

    def revealed(self, layer: int) -> bool:
        """True once backward has reached ``layer`` (the output layer first)."""
        return self.stage >= 1 + (self.network.depth - layer + 1)

    def view(self) -> dict:
        net, numbers = self.network, self.numbers
        forward = numbers is not None
        layers = [self._layer_view(number, parameters) for number, parameters in enumerate(net.layers, 1)]
        outputs = net.layers[-1][0].shape[:1]
        classes = net.y.dtype.kind != "f"
        target = matrix_json("y", "class y" if classes else "y", net.y)  # a class index as the whole number it is
        prediction = numbers.prediction if forward else None
        label = (prediction.get("formula") or prediction["symbol"]) if forward else "ŷ"
        # a loss that computes ŷ itself (softmax + cross-entropy) sends its gradient straight to the logits:
        # there is no ∂L/∂ŷ to show then
        gradient = numbers.gradients.get(prediction["symbol"]) if forward else None
        dprediction = None
        if not forward or gradient is not None:
            revealed = forward and self.revealed(net.depth)
            dprediction = matrix_json(f"dA{net.depth}", "∂L/∂ŷ", gradient if revealed else None, outputs)
        return {
            "example": self.example, "title": self.title, "description": self.description,
            "actions": " ".join(self.actions), "stage": self.stage, "last_stage": self.last_stage,
            "updates": self.updates, "lr": self.lr, "loss_name": net.loss,
            "can": {"forward": self.stage == 0, "backward": 1 <= self.stage < self.last_stage,
                    "update": self.stage == self.last_stage, "step_back": bool(self.actions)},
            "input": matrix_json("x", GIVEN_SYMBOLS["x"], net.x),
            "target": target,
            "prediction": matrix_json("yhat", label, numbers.sample(prediction) if forward else None, outputs),
            "loss": {"value": numbers.loss, "text": shown(numbers.loss, signed=False)} if forward else None,
            "dprediction": dprediction,
            "layers": layers,
            "narration": self.narration(),
            "warning": self.warning(),
            "diagram_text": self.diagram_text(),
            "precision": precision_note(net.dtype),
        }

    def _layer_view(self, number: int, parameters: list[gg.Tensor]) -> dict:
        """Layer ``number``'s matrices: its parameters now, and what the pass computed (``None``: not yet)."""
        numbers, layer, weight = self.numbers, self.traced.layers[number - 1], parameters[0].array
        bias = parameters[1].array if len(parameters) > 1 else np.zeros(weight.shape[0], dtype=weight.dtype)
        out, into = weight.shape[:1], weight.shape[1:]
        values: dict[str, np.ndarray | None] = dict.fromkeys(("Z", "A", "dZ", "dW", "db", "dA_in"))
        if numbers is not None:
            values.update(Z=numbers.values[layer.z], A=numbers.values[layer.a])
            if self.revealed(number):
                gradients = numbers.gradients
                values.update(dZ=gradients.get(layer.z), dW=gradients.get(layer.weight),
                              db=gradients.get(layer.bias), dA_in=gradients.get(layer.source))
        bias_symbol = layer.bias or subscript("b", number)
        return {
            "index": number,
            "title": layer.title,
            "activation": layer.activation,
            "W": matrix_json(f"W{number}", layer.weight, weight),
            "b": matrix_json(f"b{number}", bias_symbol, bias),
            "Z": matrix_json(f"Z{number}", layer.z, values["Z"], out),
            "A": matrix_json(f"A{number}", layer.a, values["A"], out),
            "dZ": matrix_json(f"dZ{number}", f"∂L/∂{layer.z}", values["dZ"], out),
            "dW": matrix_json(f"dW{number}", f"∂L/∂{layer.weight}", values["dW"], weight.shape),
            "db": matrix_json(f"db{number}", f"∂L/∂{bias_symbol}", values["db"], out),
            "dA_in": matrix_json(f"dA{number - 1}", f"∂L/∂{layer.source}", values["dA_in"], into),
        }

    def narration(self) -> str:
        stage, numbers = self.stage, self.numbers
        if stage == 0:
            if self.actions and self.actions[-1] == "u":
                return (f"Update {self.updates} done: every weight moved against its gradient, W ← W − η·∂L/∂W "
                        f"with η = {self.lr:g}. Press Forward to see the new loss.")
            return "Press Forward to push X through the network, layer by layer."
        if stage == 1:
            steps = ", ".join(step["formula"] for step in numbers.document["forward"] if step is not numbers.loss_step)
            return (f"Forward: {steps}; loss L = {shown(numbers.loss, False)}. "
                    f"Press Backward to send the gradient back from the loss. {self._lesson_notes()}").strip()
        layer = self.network.depth - (stage - 2)
        formulas = "; ".join(step["formula"] for step in numbers.layer_steps(layer))
        done = " All gradients are in: press Update." if stage == self.last_stage else " Press Backward again."
        return f"Backward through layer {layer}: {formulas}.{done} {self._lesson_notes()}".strip()

    def _lesson_notes(self) -> str:
        """The lesson's notes on its own numbers ("Hidden neuron 1 is off"): said once they are computed, and
        only while the weights are still the lesson's (no update, no edit)."""
        return "" if any(action not in ("f", "b") for action in self.actions) else " ".join(self.notes)

    def warning(self) -> str:
        """When updates made the loss grow (more than doubled, or overflowed), why, as the Train view says it."""
        if self.numbers is None or not self.losses:
            return ""
        first, now = self.losses[0], float(self.numbers.loss)
        if np.isfinite(now) and now <= 2 * first:
            return ""
        return (f"The loss grew from {shown(first, False)} to {shown(now, False)} in {self.updates} "
                f"update{'s' if self.updates != 1 else ''}. {overshoot(self.lr)} Try a smaller learning rate, "
                f"e.g. η = {self.lr / 10:g}, and Reset.")

    def diagram_text(self) -> str:
        """The diagram in words, for screen readers."""
        net, numbers = self.network, self.numbers
        sizes = [net.x.size] + [layer[0].shape[0] for layer in net.layers]
        activations = [layer.activation for layer in self.traced.layers]
        parts = [f"{sizes[0]} inputs"] + [
            f"{n} {'outputs' if i == net.depth else 'hidden neurons'} ({activations[i - 1]})"
            for i, n in enumerate(sizes[1:], 1)]
        text = "Network: " + " → ".join(parts) + ". Input X = [" + ", ".join(shown(v) for v in net.x) + "]."
        if numbers is not None:
            prediction = numbers.sample(numbers.prediction)
            text += (" Prediction ŷ = [" + ", ".join(shown(v) for v in prediction) + "], loss "
                     f"{shown(numbers.loss, False)}.")
        filled = max(self.stage - 1, 0)
        return text + f" Gradients filled for {filled} of {net.depth} layers."


def replay_settings(fields: Fields) -> tuple[float, list[str]]:
    """The request's learning rate η and its actions (at most :data:`MAX_ACTIONS`)."""
    lr = fields.number("lr", 0.1, *LR_RANGE)
    actions = fields.text("actions", "", 8 * MAX_ACTIONS).split()
    if len(actions) > MAX_ACTIONS:
        raise ApiError(422, f"actions: {len(actions)} steps is too many to replay (at most {MAX_ACTIONS}); Reset")
    return lr, actions


def _finite(text: str, where: str, low: float, high: float, name: str | None = None) -> float:
    """``text`` as a number from ``low`` to ``high``; 422 naming the action otherwise (NaN and ∞ included), and the
    field ``name`` sets as the page labels it (:func:`safety.out_of_range`)."""
    try:
        value = number_from_text(text)
    except ValueError:
        raise ApiError(422, f"{where}: {text!r} is not a number") from None
    if not low <= value <= high:  # False for NaN as well
        if name is not None:
            raise ApiError(422, f"{where}: {out_of_range(field_label(name), text, low, high)}")
        raise ApiError(422, f"{where}: {text} is out of range: use a finite number from {low:g} to {high:g}")
    return value


def _cell(kind: str, layer: int, position: tuple) -> str:
    return f"{kind}{layer}[{','.join(str(i) for i in position)}]"
