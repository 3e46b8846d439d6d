"""The diagnostics callback: gradient norms, update-to-weight ratios and dead ReLUs, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.data import DataLoader, TensorDataset
from glassgrad.lessons.diagnostics import Diagnostics


def one_batch_run(torch=None):
    x = np.linspace(-1, 1, 24).reshape(8, 3).astype(np.float32)
    y = (x.sum(axis=1) > 0).astype(np.int64)
    model = gg.nn.mlp([3, 5, 2], seed=0)
    with gg.no_grad():
        model[0].bias.array[4] = -100.0  # unit 5 of the hidden layer can never fire: it is dead
    start = {name: p.array.copy() for name, p in model.named_parameters()}
    diagnostics = Diagnostics()
    lr = 0.1
    gg.fit(model, gg.nn.CrossEntropyLoss(), gg.optim.SGD(model.parameters(), lr=lr),
           DataLoader(TensorDataset(x, y), batch_size=8), epochs=1, callbacks=[diagnostics], progress=False)
    return diagnostics, start, lr, x, y


def test_gradient_norms_and_update_ratios_match_pytorch(torch):
    diagnostics, start, lr, x, y = one_batch_run()
    params = {name: torch.tensor(values, requires_grad=True) for name, values in start.items()}
    hidden = torch.relu(torch.tensor(x) @ params["0.weight"].T + params["0.bias"])
    loss = torch.nn.functional.cross_entropy(hidden @ params["2.weight"].T + params["2.bias"], torch.tensor(y))
    loss.backward()
    assert diagnostics.loss == [pytest.approx(loss.item(), rel=1e-6)]
    for layer in ("0", "2"):
        grad = params[f"{layer}.weight"].grad.numpy().astype(np.float64)
        assert diagnostics.grad_norms[layer] == [pytest.approx(np.linalg.norm(grad), rel=1e-5)]
        # plain SGD: ΔW = −η·∂L/∂W, so ‖ΔW‖/‖W‖ = η‖∂L/∂W‖/‖W‖
        expected = lr * np.linalg.norm(grad) / np.linalg.norm(start[f"{layer}.weight"].astype(np.float64))
        assert diagnostics.update_ratios[layer] == [pytest.approx(expected, rel=1e-4)]


def test_dead_relu_fraction_counts_units_silent_for_the_whole_batch():
    diagnostics, *_ = one_batch_run()
    (fractions,) = diagnostics.dead_fraction.values()
    assert fractions[0] >= 1 / 5  # the forced unit; others may be silent on this batch too
    assert fractions[0] * 5 == pytest.approx(round(fractions[0] * 5))


def test_table_and_plot():
    diagnostics, *_ = one_batch_run()
    table = diagnostics.table()
    assert [row[0] for row in table["rows"]] == ["0 (weights)", "1 (ReLU)", "2 (weights)"]  # in the model's order
    figure = diagnostics.plot()
    assert len(figure.axes) == 3


def test_every_must_be_positive():
    with pytest.raises(ValueError, match="positive integer"):
        Diagnostics(every=0)


def test_a_run_that_raised_leaves_no_extra_hook_for_the_next_run():
    x = np.linspace(-1, 1, 16).reshape(8, 2).astype(np.float32)
    y = (x.sum(axis=1) > 0).astype(np.int64)
    model = gg.nn.mlp([2, 4, 2], seed=0)
    relu = model[1]
    diagnostics = Diagnostics()

    def broken_loss(output, target):
        raise RuntimeError("the loss function failed")

    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match="failed"):
        gg.fit(model, broken_loss, optimizer, loader, epochs=1, callbacks=[diagnostics], progress=False)

    class CountHooks(gg.training.Callback):
        def on_batch_end(self, state):
            counts.append(len(relu._forward_hooks))

    counts = []
    gg.fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=2, callbacks=[diagnostics, CountHooks()],
           progress=False)
    assert counts == [1, 1] and len(relu._forward_hooks) == 0  # one hook while training, none after
    assert len(diagnostics.dead_fraction["1"]) == len(diagnostics.steps) == 2
