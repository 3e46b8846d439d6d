"""The training view: a small classifier trained step by step, with everything a learner watches.

Each step takes the next mini-batch (a seeded shuffle per epoch), computes the loss, runs
``backward()``, measures the gradient of every layer, optionally clips the joint norm
(``g ← g·c/‖g‖`` when ``‖g‖ > c``), and lets the optimizer update the weights. After the step
the loss over the whole data set is recorded, so the curve is smooth and comparable.

The same configuration (with its seed) always gives the same weights, batches and curve:
a URL with ``step=N`` replays exactly what a student saw, and "compare learning rates" trains
several copies from one start. No request trains for longer than :data:`TIME_BUDGET_SECONDS`:
a job stops at the step it reached and the page asks for the rest, so a large network or a long
replay never freezes the page (the steps, and so the numbers, are the same however they are split).

Losses: cross-entropy on the logits, or MSE between the outputs and one-hot targets.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

import numpy as np

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.trace import counting
from glassgrad.trace.numbers import rounded_text

from . import bridge
from .display import json_number, shown, subscript
from .safety import LR_RANGE, ApiError, Fields

MAX_HIDDEN_LAYERS = 4
MAX_HIDDEN_WIDTH = 32
MAX_STEPS_PER_REQUEST = 200
MAX_TOTAL_STEPS = 20_000
TIME_BUDGET_SECONDS = 2.0  # per request; the page asks again for the steps that remain
COMPARE_SECONDS = 6.0  # comparing learning rates: all runs together
BOUNDARY_RESOLUTION = 40
TWO_D = bridge.GENERATED  # the generated data sets are points in the plane: they get a decision boundary
UNSTABLE_WINDOW = 10  # steps: a climb within this window keeps the warning up while the loss oscillates
VANISHED = 1e-6  # a gradient norm below this counts as zero in the explanations


def _class_indices(labels: np.ndarray, classes: int) -> gg.Tensor:
    return gg.tensor(labels)


def _onehot_rows(labels: np.ndarray, classes: int) -> gg.Tensor:
    return gg.tensor(np.eye(classes, dtype=np.float32)[labels])


TARGETS = {"cross_entropy": _class_indices, "mse": _onehot_rows}
"""What each loss of :data:`bridge.LOSSES` the trainer offers compares the outputs with: the class
indices (cross-entropy) or one-hot rows (MSE). The config's loss name picks both, once."""


@dataclass(frozen=True)
class TrainingConfig:
    dataset: str = "moons"
    samples: int = 200
    noise: float = 0.15
    hidden: tuple = (8, 8)
    activation: str = "tanh"
    loss: str = "cross_entropy"
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    batch_size: int = 32
    clip: float = 0.0  # 0 = no clipping
    seed: int = 0


def overshoot(lr: float) -> str:
    """Why a loss grows under gradient descent, in words (the Train view and the step-through both say it)."""
    return (f"With η = {lr:g} each update overshoots the valley and lands higher up the other side, where the "
            "slope is steeper, so the next step is larger still.")


def read_config(fields: Fields) -> TrainingConfig:
    """A validated :class:`TrainingConfig` from a JSON object (422 with the field's name otherwise)."""
    default = TrainingConfig()
    samples = fields.integer("samples", default.samples, 20, 1000)
    config = TrainingConfig(
        dataset=fields.choice("dataset", bridge.DATASETS, default.dataset),
        samples=samples,
        noise=fields.number("noise", default.noise, 0.0, 1.0),
        hidden=tuple(fields.sizes("hidden", list(default.hidden), MAX_HIDDEN_LAYERS, MAX_HIDDEN_WIDTH)),
        activation=fields.choice("activation", bridge.ACTIVATIONS, default.activation),
        loss=fields.choice("loss", tuple(TARGETS), default.loss),
        optimizer=fields.choice("optimizer", bridge.OPTIMIZERS, default.optimizer),
        lr=fields.number("lr", default.lr, *LR_RANGE),
        momentum=fields.number("momentum", default.momentum, 0.0, 0.999),
        batch_size=fields.integer("batch_size", default.batch_size, 1, 2000),
        clip=fields.number("clip", default.clip, 0.0, 100.0),
        seed=fields.integer("seed", default.seed, 0, 2**31 - 1),
    )
    fields.finish()
    return config


class TrainingJob:
    """One model, its optimizer and its data; :meth:`advance` trains, :meth:`snapshot` reports.

    Requests for one job must take turns: hold :attr:`lock` around them. ``start``: a model to train
    instead of a new one (the Code view's), whose shape ``config`` describes.
    """

    def __init__(self, config: TrainingConfig, start: gg.nn.Module | None = None) -> None:
        self.config = config
        self.lock = threading.Lock()
        points, labels = bridge.load_dataset(config.dataset, config.samples, config.noise, config.seed)
        self.points, self.labels = points, labels
        self.classes = int(labels.max()) + 1
        self.inputs = gg.tensor(points)
        self.loss_function = bridge.LOSSES[config.loss]
        self.targets = TARGETS[config.loss](labels, self.classes)
        sizes = [points.shape[1], *config.hidden, self.classes]
        self.model = bridge.make_mlp(sizes, config.activation, config.seed) if start is None else start
        if start is not None:
            weights = [parameter for parameter in start.parameters() if parameter.ndim == 2]
            given = (weights[0].shape[1], weights[-1].shape[0])
            if given != (sizes[0], sizes[-1]):
                raise ApiError(422, f"from_code: your model takes {given[0]} inputs and gives {given[1]} outputs, but "
                                    f"{config.dataset} has {sizes[0]} inputs and {sizes[-1]} classes: change its first "
                                    "and last Linear layers")
        self.parameters = list(self.model.parameters())
        self.optimizer = bridge.make_optimizer(config.optimizer, self.parameters, config.lr, config.momentum)
        self.batches = np.random.default_rng(config.seed + 1)
        self.queue: list[int] = []
        self.step = 0
        self.losses = [self.full_loss()]
        self.grad_norms: list[tuple[str, float]] = []
        self.clipped_from: float | None = None
        self.update_size = 0.0
        self.status, self.message = "ok", ""

    def loss_of(self, outputs: gg.Tensor, rows: np.ndarray | None = None) -> gg.Tensor:
        return self.loss_function(outputs, self.targets if rows is None else self.targets[rows])

    @gg.no_grad()
    def full_loss(self) -> float:
        return float(self.loss_of(self.model(self.inputs)).item())

    def _next_batch(self) -> np.ndarray:
        size = min(self.config.batch_size, len(self.points))
        if len(self.queue) < size:
            self.queue += self.batches.permutation(len(self.points)).tolist()
        rows, self.queue = self.queue[:size], self.queue[size:]
        return np.array(rows)

    def advance(self, steps: int, seconds: float | None = None) -> None:
        """Train up to ``steps`` more steps: fewer when the loss stops being a finite number, or when
        ``seconds`` (default :data:`TIME_BUDGET_SECONDS`) have passed; at least one step is always
        taken, and :attr:`step` says how far it got."""
        if self.step + steps > MAX_TOTAL_STEPS:
            raise ApiError(422, f"a job trains at most {MAX_TOTAL_STEPS} steps; press Reset to start again")
        seconds = TIME_BUDGET_SECONDS if seconds is None else seconds
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is caught and explained in words below
            self._train(steps, time.monotonic() + seconds)

    def _train(self, steps: int, deadline: float) -> None:
        parameters = self.parameters
        for done in range(steps):
            if self.status == "diverged" or (done and time.monotonic() > deadline):
                return
            rows = self._next_batch()
            loss = self.loss_of(self.model(self.inputs[rows]), rows)
            self.optimizer.zero_grad()
            loss.backward()
            self.grad_norms = [(name, float(np.linalg.norm(p.grad.array))) for name, p in self.model.named_parameters()]
            self.clipped_from = None
            if self.config.clip > 0:
                total = bridge.clip_grad_norm_(parameters, self.config.clip)
                self.clipped_from = total if total > self.config.clip else None
            before = [p.array.copy() for p in parameters]
            self.optimizer.step()
            self.update_size = float(np.sqrt(sum(np.sum((p.array - old) ** 2) for p, old in zip(parameters, before))))
            self.step += 1
            self.losses.append(self.full_loss())
            self._watch_for_divergence()

    def _watch_for_divergence(self) -> None:
        """Name the problem in words when the loss blows up or climbs far above its best."""
        config, loss, first = self.config, self.losses[-1], self.losses[0]
        weight_norm = float(np.sqrt(sum(np.sum(p.array.astype(np.float64) ** 2) for p in self.parameters)))
        advice = [f"a learning rate about 10× smaller (η = {config.lr / 10:g})"]
        if config.clip == 0:
            advice.append("gradient clipping (e.g. 1.0)")
        if config.optimizer != "adam":
            advice.append("Adam, which scales each step by the gradient's recent size")
        tries = "Try " + ", or ".join(advice) + "."
        largest = max(self.grad_norms, key=lambda item: item[1] if np.isfinite(item[1]) else np.inf)
        steps = (f"At step {self.step} the gradient of {layer_label(largest[0])} had norm {shown(largest[1], False)}, "
                 f"and the update moved the weights by ‖Δθ‖ = {shown(self.update_size, False)} "
                 f"(the weights' own norm is ‖θ‖ = {shown(weight_norm, False)}).")
        if not np.isfinite(loss) or not np.isfinite(weight_norm):
            self.status = "diverged"
            self.message = (f"Training diverged: the loss went from {shown(first, False)} to {shown(loss, False)} in "
                            f"{self.step} steps. {overshoot(config.lr)} {steps}{self._stalled_layers()} {tries}")
            return
        best = int(np.argmin(self.losses))
        recent = self.losses[-UNSTABLE_WINDOW:]
        # a climb: a loss above 2·(the lowest loss before it) + 0.1; a fast fall from a high start is none
        lowest_before = np.minimum.accumulate(self.losses)[:-1]
        climbs = np.asarray(self.losses[1:]) > 2 * lowest_before + 0.1
        if self.step >= 5 and climbs[-UNSTABLE_WINDOW:].any():
            self.status = "unstable"
            self.message = (f"The loss is climbing: {shown(loss, False)} now (up to {shown(max(recent), False)} in the "
                            f"last {len(recent)} steps) against its best {shown(self.losses[best], False)} at step "
                            f"{best}. The steps are too large for this valley (η = {config.lr:g}). "
                            f"{steps}{self._stalled_layers()} {tries}")
        else:
            self.status, self.message = "ok", ""

    def _stalled_layers(self) -> str:
        """A sentence naming the weight matrices whose gradient vanished while others still learn."""
        norms = [(name, norm) for name, norm in self.grad_norms if name.endswith("weight")]
        stalled = [layer_label(name) for name, norm in norms if norm < VANISHED]
        if not stalled or len(stalled) == len(norms):
            return ""
        return (f" The gradients of {', '.join(stalled)} are (almost) zero: the large steps pushed those layers' "
                "units to where the activation is flat (tanh and sigmoid saturate for large |Z|, ReLU outputs 0 "
                "for Z < 0), so f′ ≈ 0 and those layers have stopped learning.")

    @gg.no_grad()
    def accuracy(self) -> float:
        predicted = self.model(self.inputs).array.argmax(axis=1)
        return float((predicted == self.labels).mean())

    @gg.no_grad()
    def boundary(self) -> dict | None:
        """The predicted class and its softmax probability on a grid over the data (2-D data only)."""
        if self.config.dataset not in TWO_D:
            return None
        low, high = self.points.min(axis=0) - 0.3, self.points.max(axis=0) + 0.3
        xs = np.linspace(low[0], high[0], BOUNDARY_RESOLUTION, dtype=np.float32)
        ys = np.linspace(high[1], low[1], BOUNDARY_RESOLUTION, dtype=np.float32)  # top row first
        grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
        probabilities = F.softmax(self.model(gg.tensor(grid)), dim=1).array
        probabilities = np.nan_to_num(probabilities, nan=1.0 / self.classes)
        return {"x_range": [float(low[0]), float(high[0])], "y_range": [float(low[1]), float(high[1])],
                "resolution": BOUNDARY_RESOLUTION, "classes": probabilities.argmax(axis=1).tolist(),
                "confidence": np.round(probabilities.max(axis=1), 3).tolist()}

    def snapshot(self, since: int = 0) -> dict:
        since = min(max(since, 0), len(self.losses))
        loss, accuracy = self.losses[-1], self.accuracy()
        data = {
            "step": self.step,
            "config": {**asdict(self.config), "hidden": list(self.config.hidden)},
            "losses": {"start": since, "values": [json_number(v) for v in self.losses[since:]]},
            "loss": _number(loss),
            "curve_max": _number(max((v for v in self.losses if np.isfinite(v)), default=0.0)),
            "accuracy": {"value": accuracy, "text": rounded_text(accuracy, 1, "%")},
            "grad_norms": [{"name": name, "label": f"‖∂L/∂{layer_label(name)}‖", "value": json_number(norm),
                            "text": shown(norm, signed=False)} for name, norm in self.grad_norms],
            "clipped": (f"Gradient clipped: its norm {shown(self.clipped_from, False)} was scaled down to "
                        f"{self.config.clip:g}.") if self.clipped_from is not None else "",
            "formula": bridge.update_formula(self.optimizer),
            "status": self.status,
            "message": self.message,
            "boundary": self.boundary(),
        }
        if since == 0 and self.config.dataset in TWO_D:
            data["points"] = {"xy": np.round(self.points, 4).tolist(), "labels": self.labels.tolist()}
        return data


def layer_label(parameter_name: str) -> str:
    """``"2.weight"`` → ``"W₂"``: the layer's number counts Linear layers from 1 (activations sit between)."""
    position, kind = parameter_name.split(".")
    return subscript("W" if kind == "weight" else "b", counting.number(int(position) // 2))


def _number(value: float) -> dict:
    return {"value": json_number(value), "text": shown(value, signed=False)}


def compare_learning_rates(config: TrainingConfig, rates: list[float], steps: int) -> dict:
    """Train one copy per learning rate from the same start (same seed: same weights and batches).

    The copies advance together, one step each in turn, so that when :data:`COMPARE_SECONDS` run
    out they all stop at the same step (``steps`` in the answer; ``note`` says why it is short).
    ``y_max`` scales the overlay: the largest finite loss, but at most 3× the common starting loss,
    so one exploding run does not flatten the others (its curve leaves through the top). A run's
    ``step`` is where it stopped: before ``steps`` when it diverged there.
    """
    jobs = [TrainingJob(TrainingConfig(**{**asdict(config), "lr": rate})) for rate in rates]
    deadline, done = time.monotonic() + COMPARE_SECONDS, 0
    while done < steps and (done == 0 or time.monotonic() < deadline):
        for job in jobs:
            job.advance(1)  # a diverged run stays where it stopped
        done += 1
    runs = [{"lr": job.config.lr, "step": job.step, "losses": [json_number(v) for v in job.losses],
             "status": job.status, "final": _number(job.losses[-1]), "message": job.message} for job in jobs]
    highest = max(v for job in jobs for v in job.losses if np.isfinite(v))
    note = "" if done == steps else (f"Stopped at step {done} of {steps} after {COMPARE_SECONDS:g} s, so the page "
                                     "stays responsive: this network and data set train slowly. Ask for fewer steps.")
    return {"steps": done, "runs": runs, "note": note, "y_max": _number(min(highest, 3 * jobs[0].losses[0]))}
