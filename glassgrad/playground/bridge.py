"""The playground's integration points: everything it takes from glassgrad's other packages.

The views (:mod:`.stepper`, :mod:`.traced`, :mod:`.training`, :mod:`.app`) call only the functions
here, so changing where a lesson, a data set, a model, an optimizer or a practice problem comes
from means editing this one module. (What the step-through shows comes from the glass box
itself: ``gg.trace``'s step documents, and :mod:`glassgrad.trace.explain` for one entry.)

====================================  =========================================================
here                                  from
====================================  =========================================================
:func:`lesson_example`                ``glassgrad.lessons.diagonal_flip`` / ``.mlp3`` (model, x, y)
:data:`LOSSES`                        ``gg.nn.functional.mse_loss`` / ``cross_entropy``
:func:`load_dataset`                  ``gg.data.load_dataset`` (seeded, offline)
:func:`make_mlp`                      ``gg.nn.mlp(sizes, activation=..., seed=...)``
:func:`make_optimizer`                ``gg.optim.SGD`` (with or without momentum) / ``gg.optim.Adam``
:func:`clip_grad_norm_`               ``gg.nn.utils.clip_grad_norm_``
:func:`save_model`                    ``gg.save`` + ``gg.nn.architecture`` (safetensors, atomic, no pickle)
``practice_*``                        ``glassgrad.practice`` (generate, check, worked solution)
====================================  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.trace import counting

ACTIVATIONS = ("relu", "tanh", "sigmoid")  # gg.nn.mlp's names for its activation modules
LOSSES = {"mse": F.mse_loss, "cross_entropy": F.cross_entropy}
CLASS_TARGETS = ("cross_entropy",)  # the losses whose target is a class index (the others: one value per output)
MOONS = ([2, 4, 2], "tanh", "cross_entropy")  # the moons example's network: sizes, activation, loss
DATASETS = ("moons", "circles", "xor", "spirals", "digits")
GENERATED = ("moons", "circles", "xor", "spirals")  # take n_samples and noise; digits is fixed
OPTIMIZERS = ("sgd", "momentum", "adam")


# --- lessons (step-through examples) ----------------------------------------------------------


@dataclass
class LessonExample:
    """A lesson's network (the real ``nn.Module``, float32), one input and its target: what a lesson steps through."""

    title: str
    description: str
    model: gg.nn.Module
    loss: str  # a key of LOSSES
    x: np.ndarray
    y: np.ndarray  # targets for MSE; a one-element class index for cross-entropy
    notes: list[str] = field(default_factory=list)


def lesson_example(name: str) -> LessonExample:
    """The lessons ``diagonal-flip`` (4→3→4, ReLU, MSE) and ``mlp3`` (4→4→4→3, softmax + cross-entropy)."""
    if name == "diagonal-flip":
        from glassgrad.lessons import diagonal_flip as lesson

        return LessonExample(
            title="Diagonal flip (4→3→4)",
            description="The 2×2 image [1, 0, 1, 1] should become its diagonal flip [1, 1, 0, 1], starting from "
                        "the lesson's initial weights: press Forward to see what they predict.",
            model=lesson.lesson_model().float(),
            loss="mse",
            x=np.array(lesson.INPUT),
            y=np.array(lesson.TARGET),
            notes=[f"Hidden {counting.ordinal_with_code('neuron', lesson.OFF_UNIT)} is off "
                   f"({counting.entry('Z₁', (lesson.OFF_UNIT,))} < 0), so ReLU passes no gradient through it."],
        )
    if name == "mlp3":
        from glassgrad.lessons import mlp3 as lesson

        return LessonExample(
            title="Three-layer MLP (4→4→4→3, softmax + cross-entropy)",
            description="The lesson's 3-layer MLP with its weights: two ReLU layers, then softmax with cross-entropy, "
                        "whose gradient is simply ŷ − y. Its softmax rounds to the lesson's ŷ = [0.5, 0.5, 0] "
                        f"against y = [0, 1, 0] ({counting.ordinal('class', lesson.TARGET_CLASS)}).",
            model=lesson.lesson_model().float(),
            loss="cross_entropy",
            x=np.array(lesson.INPUT),
            y=np.array([lesson.TARGET_CLASS]),
        )
    raise KeyError(name)


# --- data, models, optimizers, files --------------------------------------------------------------


def load_dataset(name: str, n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, labels)``: float32 (n, features) and int64 (n,), seeded, no download (digits: fixed, 1,797)."""
    from glassgrad.data import load_dataset as load

    options = {"n_samples": n_samples, "noise": noise} if name in GENERATED else {}
    inputs, labels = load(name, seed=seed, **options).tensors
    return inputs.array, labels.array


def make_mlp(sizes: list[int], activation: str, seed: int) -> gg.nn.Module:
    """``gg.nn.mlp``: Linear layers with ``activation`` between them; the same seed, the same weights."""
    return gg.nn.mlp(list(sizes), activation=activation, seed=seed)


def make_optimizer(name: str, params: list[gg.Tensor], lr: float, momentum: float = 0.9) -> gg.optim.Optimizer:
    """``sgd``, ``momentum`` (SGD with momentum μ) or ``adam``, as ``gg.optim`` defines them."""
    if name == "adam":
        return gg.optim.Adam(params, lr=lr)
    return gg.optim.SGD(params, lr=lr, momentum=momentum if name == "momentum" else 0.0)


def update_formula(optimizer: gg.optim.Optimizer) -> str:
    """The optimizer's update rule with only the options it uses, on one line."""
    return "; ".join(optimizer.formula_for(optimizer.param_groups[0]).splitlines())


def optimizer_formulas() -> dict[str, str]:
    """Each optimizer's update rule, as :func:`update_formula` writes it."""
    probe = [gg.zeros(1, requires_grad=True)]
    return {name: update_formula(make_optimizer(name, probe, 0.1)) for name in OPTIMIZERS}


def clip_grad_norm_(params: list[gg.Tensor], max_norm: float) -> float:
    """Scale the gradients so their joint norm is at most ``max_norm``; returns the norm before clipping."""
    from glassgrad.nn.utils import clip_grad_norm_ as clip

    return float(clip(params, max_norm).item())


def save_model(model: gg.nn.Module, path: Path, metadata: dict) -> list[str]:
    """Write the weights and the architecture with ``gg.save`` (safetensors, atomic, never pickle).

    ``gg.load(path)["model"]`` is the state dict; ``gg.nn.from_architecture(…["architecture"])``
    rebuilds the network to load it into. Returns the parameter names saved.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    gg.save({"model": state, "architecture": gg.nn.architecture(model)}, path, metadata=metadata)
    return sorted(state)


# --- practice problems -------------------------------------------------------------------------


def practice_kinds() -> dict[str, str]:
    """Problem kind → what it drills."""
    from glassgrad.practice import KINDS

    return {name: kind.summary for name, kind in KINDS.items()}


def counting_note() -> str:
    """How every front end counts positions (from 1, as the lessons do), in one sentence."""
    from glassgrad.trace.counting import CONVENTION

    return CONVENTION


def practice_problem(kind: str, seed: int) -> dict:
    """The problem as JSON (tensors with ``None`` at the blank, ``answer``, ``solution``), plus display text.

    ``text`` holds every tensor's entries as the practice module writes them (``?`` at the blank).
    """
    from glassgrad.practice import generate, number_text

    problem = generate(kind, seed=seed)
    text = {name: np.vectorize(number_text, otypes=[object])(values).tolist() if np.ndim(values)
            else number_text(values[()]) for name, values in problem.tensors.items()}
    return {**problem.to_dict(), "text": text, "blank_label": problem.blank_label}


def practice_check(kind: str, seed: int, answer: str, reveal: bool = True) -> dict:
    """Grade a typed answer with the engine; ``ValueError`` (an ``AnswerError``) for text that is no number.

    A wrong answer with ``reveal`` false gets a hint and no answer or solution, so the learner can try again.
    """
    from glassgrad.practice import generate, number_text, parse_answer

    problem = generate(kind, seed=seed)
    verdict = problem.check(answer)
    if verdict.correct or reveal:
        return {"correct": bool(verdict.correct), "feedback": verdict.feedback, "solution": list(problem.solution)}
    return {"correct": False, "feedback": f"Not yet: {number_text(parse_answer(answer))} is not it. Try again.",
            "hint": problem.hint, "solution": []}
