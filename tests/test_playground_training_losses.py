"""The playground trainer's loss: the config's name picks the function and its target once.

Each loss the trainer offers is checked against the formula written out in NumPy on the same
model outputs; and ``training.py`` decides no math by comparing the loss's name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.playground import bridge, training


def _by_hand(name: str, logits: np.ndarray, labels: np.ndarray) -> float:
    """The loss written out (the test's own oracle, float64)."""
    if name == "cross_entropy":
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-log_probabilities[np.arange(len(labels)), labels].mean())
    onehot = np.eye(logits.shape[1])[labels]
    return float(((logits - onehot) ** 2).mean())


@pytest.mark.parametrize("name", sorted(training.TARGETS))
def test_each_loss_the_trainer_offers_is_the_formula(name):
    job = training.TrainingJob(training.TrainingConfig(dataset="xor", samples=40, loss=name, seed=3))
    with gg.no_grad():
        logits = job.model(job.inputs).array.astype(np.float64)
    assert job.full_loss() == pytest.approx(_by_hand(name, logits, job.labels), rel=1e-5)
    job.advance(30)
    assert job.losses[-1] < job.losses[0]  # and it trains


def test_every_loss_the_trainer_offers_is_a_loss_of_the_bridge():
    assert set(training.TARGETS) <= set(bridge.LOSSES)


def test_the_trainer_does_not_branch_on_the_loss_name():
    source = Path(training.__file__).read_text(encoding="utf-8")
    names = set(training.TARGETS)
    found = [ast.unparse(node) for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Compare)
             and any(isinstance(side, ast.Constant) and side.value in names for side in (node.left, *node.comparators))]
    assert found == []
