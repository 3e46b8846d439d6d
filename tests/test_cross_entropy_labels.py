"""Cross-entropy's class labels out of range: refused by the row itself, so a compiled step's replay refuses them too.

``F.cross_entropy`` checks the labels before it records; a compiled replay runs the row alone (the
functional's Python is not replayed), so the row must check them too. The oracle is eager glassgrad:
the same error, and the same numbers where a label is ``ignore_index`` (also one past the classes,
such as 255).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import ops

CLASSES = 3


def _training_step(loss_fn):
    """A model and its training step (not compiled)."""
    model = gg.nn.Linear(4, CLASSES, seed=0)
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return model, step


LOSSES = {  # the fused row, and the paths made of ops (picking by label: a replayed −1 read the last class)
    "fused": gg.nn.CrossEntropyLoss(),
    "class_weights": gg.nn.CrossEntropyLoss(weight=gg.tensor([1.0, 2.0, 0.5])),
    "label_smoothing": gg.nn.CrossEntropyLoss(label_smoothing=0.1),
    "nll_loss": lambda scores, labels: gg.nn.functional.nll_loss(gg.nn.functional.log_softmax(scores, 1), labels),
}


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("label", [CLASSES, CLASSES + 4, -1])
def test_a_replayed_step_refuses_a_label_out_of_range_as_eager_does(label, loss):
    model, step = _training_step(LOSSES[loss])
    step = gg.compile(step, fullgraph=True)
    x = gg.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4))
    for _ in range(3):  # captured twice, then replayed
        step(x, gg.tensor([0, 1, 2, 0, 1]))
    before = [p.array.copy() for p in model.parameters()]
    with pytest.raises(IndexError, match=f"target label {label} is out of range"):
        step(x, gg.tensor([0, label, 2, 0, 1]))  # a row that is not the last: its position is another row's score
    for param, old in zip(model.parameters(), before):
        np.testing.assert_array_equal(param.array, old)  # refused before the update


def test_a_replayed_step_with_ignore_index_past_the_classes_gives_eager_numbers():
    loss_fn = gg.nn.CrossEntropyLoss(ignore_index=255)
    compiled_model, step = _training_step(loss_fn)
    step = gg.compile(step, fullgraph=True)
    eager_model, eager_step = _training_step(loss_fn)
    rng = np.random.default_rng(0)
    for _ in range(6):
        x = gg.tensor(rng.standard_normal((5, 4)).astype(np.float32))
        labels = rng.integers(0, CLASSES, 5)
        labels[rng.random(5) < 0.4] = 255
        y = gg.tensor(labels)
        assert np.array_equal(step(x, y).array, eager_step(x, y).array)
    for a, b in zip(compiled_model.parameters(), eager_model.parameters()):
        assert np.array_equal(a.array, b.array)


@settings(deadline=None, max_examples=60)
@given(labels=st.lists(st.integers(-3, 6), min_size=0, max_size=8), ignore_index=st.sampled_from([-100, -1, 1, 5]),
       dtype=st.sampled_from([np.int64, np.int32, np.int8, np.uint8, np.uint64]))
def test_the_row_refuses_exactly_the_labels_outside_the_classes_that_are_not_ignored(labels, ignore_index, dtype):
    target = np.array(labels).astype(dtype)
    logits = np.linspace(-2, 2, len(labels) * CLASSES).reshape(len(labels), CLASSES)
    wrong = [label for label in target.tolist() if not 0 <= label < CLASSES and label != ignore_index]
    if wrong:
        with pytest.raises(IndexError, match=f"target label {wrong[0]} is out of range"):
            ops._cross_entropy(logits, target, "none", ignore_index)
        return
    per_item, _ = ops._cross_entropy(logits, target, "none", ignore_index)
    shifted = logits - logits.max(axis=1, keepdims=True)  # independent: the whole log-softmax table, then pick
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = [0.0 if label == ignore_index else -log_softmax[row, label] for row, label in enumerate(target.tolist())]
    np.testing.assert_allclose(per_item, expected, rtol=1e-12, atol=1e-15)
