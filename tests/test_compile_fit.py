"""``gg.fit(..., compile=True)`` and ``glassgrad train --compile``: the same history and model as eager, bit for bit."""

from __future__ import annotations

import re

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.cli import main

nn = gg.nn


def _fit(compile, optimizer="adam", lr=0.01, clip=None, max_loss_growth=None, callbacks=(), epochs=3):
    data = gg.data.make_moons(n_samples=90, seed=0)  # batches of 16: the last one of each epoch has 10 samples
    model = gg.nn.mlp([2, 12, 12, 2], seed=0)
    make = {"adam": gg.optim.Adam, "sgd": lambda p, lr: gg.optim.SGD(p, lr=lr, momentum=0.9)}[optimizer]
    opt = make(model.parameters(), lr=lr)
    history = gg.fit(model, gg.nn.CrossEntropyLoss(), opt,
                     gg.data.DataLoader(data, batch_size=16, shuffle=True, seed=0), epochs=epochs,
                     val_loader=gg.data.DataLoader(data, batch_size=40), clip_grad_norm=clip, progress=False,
                     max_loss_growth=max_loss_growth, callbacks=callbacks, compile=compile)
    return history, model, opt


def _same(eager, compiled):
    (h1, m1, o1), (h2, m2, o2) = eager, compiled
    strip = [{key: value for key, value in record.items() if key != "seconds"} for record in h1.records]
    assert strip == [{key: value for key, value in record.items() if key != "seconds"} for record in h2.records]
    assert (h1.diverged is None) == (h2.diverged is None)
    if h1.diverged is not None:
        assert h1.diverged.message == h2.diverged.message
    for (name, p), q in zip(m1.named_parameters(), m2.parameters()):
        assert np.array_equal(p.array, q.array), name
        assert (p.grad is None and q.grad is None) or np.array_equal(p.grad.array, q.grad.array), name
    for key, entries in o1.state_dict()["state"].items():
        for name, value in entries.items():
            assert np.array_equal(np.asarray(value), np.asarray(o2.state_dict()["state"][key][name]))


@pytest.mark.parametrize("settings", [{}, {"optimizer": "sgd", "lr": 0.1, "clip": 0.5}],
                         ids=["adam", "sgd-momentum-clip"])
def test_fit_compiled_gives_eager_history_bit_for_bit(settings):
    _same(_fit(False, **settings), _fit(True, **settings))


@pytest.mark.parametrize("settings", [{"optimizer": "sgd", "lr": 1e8}, {"optimizer": "sgd", "lr": 2.0,
                                                                          "max_loss_growth": 3}],
                         ids=["nan-at-step-3", "growth-at-step-23"])  # both stop in a replayed step
def test_fit_compiled_stops_where_eager_stops_without_the_update(settings):
    eager, compiled = _fit(False, epochs=6, **settings), _fit(True, epochs=6, **settings)
    assert eager[0].diverged is not None
    _same(eager, compiled)  # the diverging step's update is not applied in either


def test_fit_compiled_with_an_after_backward_callback_trains_eagerly_and_says_so():
    class Peek(gg.training.Callback):
        def on_after_backward(self, state):
            self.norm = float((state.model.parameters().__next__().grad ** 2).sum().item())

    with pytest.warns(UserWarning, match="Peek.on_after_backward runs between backward and the update"):
        compiled = _fit(True, callbacks=[Peek()])
    _same(_fit(False, callbacks=[Peek()]), compiled)


def test_cli_train_compile_prints_and_saves_what_eager_does(tmp_path, capsys):
    outputs, models = [], []
    for flags in ([], ["--compile"]):
        folder = tmp_path / str(len(flags))
        folder.mkdir()
        path = folder / "model.safetensors"
        code = main(["train", "--data", "moons", "--layers", "2,8,2", "--epochs", "4", "--batch-size", "16",
                     "--optimizer", "momentum", "--clip", "1.0", "--save", str(path), *flags])
        assert code == 0
        text = capsys.readouterr().out.replace(str(folder), "FOLDER")
        text = re.sub(r"\([0-9.]+ s\)", "(time)", text)  # all but the clock (and the padding around it)
        outputs.append([" ".join(line.split()) for line in text.splitlines()])
        models.append(gg.load(path)["model"])
    assert outputs[0] == outputs[1]  # every epoch's line and the final table
    assert models[0].keys() == models[1].keys()
    for name, array in models[0].items():
        assert np.array_equal(np.asarray(array), np.asarray(models[1][name])), name
