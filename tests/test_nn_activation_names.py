"""Every activation layer is an activation name of ``gg.nn.mlp`` and of ``glassgrad train --activation``.

The names come from the layer classes of :mod:`glassgrad.nn.activation` (no list to extend):
GELU and SiLU are accepted, an mlp of either trains, and its trace gives a worksheet whose
every step the row recomputes.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.cli import main
from glassgrad.nn import activation as activation_module
from glassgrad.nn.architecture import ACTIVATIONS
from glassgrad.practice import trace_worksheet
from glassgrad.practice.trace_steps import steps_from_trace

EXPECTED = {"relu": gg.nn.ReLU, "leaky_relu": gg.nn.LeakyReLU, "sigmoid": gg.nn.Sigmoid, "tanh": gg.nn.Tanh,
            "gelu": gg.nn.GELU, "silu": gg.nn.SiLU, "softmax": gg.nn.Softmax, "log_softmax": gg.nn.LogSoftmax,
            "elu": gg.nn.ELU, "softplus": gg.nn.Softplus, "hardtanh": gg.nn.Hardtanh, "relu6": gg.nn.ReLU6,
            "hardsigmoid": gg.nn.Hardsigmoid, "hardswish": gg.nn.Hardswish, "mish": gg.nn.Mish, "selu": gg.nn.SELU,
            "celu": gg.nn.CELU, "softsign": gg.nn.Softsign, "log_sigmoid": gg.nn.LogSigmoid,
            "tanhshrink": gg.nn.Tanhshrink, "softshrink": gg.nn.Softshrink, "hardshrink": gg.nn.Hardshrink,
            "threshold": gg.nn.Threshold, "softmin": gg.nn.Softmin, "rrelu": gg.nn.RReLU, "prelu": gg.nn.PReLU}
"""The names a learner types, written out by hand (the oracle for the names derived from the classes)."""


def test_every_activation_layer_has_its_name():
    layers = {cls for name, cls in inspect.getmembers(activation_module, inspect.isclass)
              if cls.__module__ == activation_module.__name__ and not name.startswith("_")}
    assert layers - {gg.nn.GLU, gg.nn.Softmax2d} == set(EXPECTED.values())  # a new layer must be in EXPECTED too
    assert "glu" not in ACTIVATIONS and "softmax2d" not in ACTIVATIONS  # no activations of an mlp
    for name, layer in EXPECTED.items():
        assert ACTIVATIONS[name] is layer
    assert ACTIVATIONS["identity"] is gg.nn.Identity


@pytest.mark.parametrize("name", ["gelu", "silu", "GELU", "SiLU"])
def test_mlp_takes_gelu_and_silu(name):
    model = gg.nn.mlp([2, 4, 3], activation=name, seed=0)
    assert isinstance(model[1], EXPECTED[name.lower()])


def test_an_unknown_activation_lists_every_name():
    with pytest.raises(ValueError, match="choose one of relu, leaky_relu, sigmoid, tanh, gelu, silu"):
        gg.nn.mlp([2, 3], activation="swish")


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "selu", "hardswish", "prelu", "celu"])
def test_an_mlp_of_gelu_or_silu_trains(name):
    x, y = gg.data.make_moons(120, noise=0.1, seed=0).tensors
    model = gg.nn.mlp([2, 16, 2], activation=name, seed=0)
    optimizer = gg.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = gg.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses[::10]


@pytest.mark.parametrize("name", ["gelu", "silu"])
def test_the_trace_of_a_gelu_or_silu_mlp_gives_a_worksheet_the_rows_recompute(name):
    model = gg.nn.mlp([2, 3, 2], activation=name, seed=1)
    sample = gg.tensor([[0.5, -1.5]])
    with gg.trace(model) as tape:
        tape.name(sample, "x")
        gg.nn.functional.mse_loss(model(sample), gg.tensor([[1.0, -1.0]])).backward()
    steps = steps_from_trace(tape.describe())
    assert "A₁" in {step.name for step in steps} and "∂L/∂Z₁" in {step.name for step in steps}
    for step in steps:
        assert step.recompute is not None, step.formula
        np.testing.assert_allclose(step.recompute(*step.inputs.values()), step.output, rtol=1e-5, atol=1e-6,
                                   err_msg=step.formula)  # float32 engine numbers, recomputed in float64
    worksheet = trace_worksheet(steps, 8, 0)
    assert len(worksheet.blanks) == 8
    for blank in worksheet.blanks:
        assert blank.check(str(float(blank.answer))).correct


def test_train_accepts_gelu_and_its_help_lists_every_activation(capsys):
    assert main(["train", "--data", "xor", "--layers", "2,8,2", "--activation", "gelu", "--epochs", "2"]) == 0
    assert "gelu" in capsys.readouterr().out
    assert main(["train", "--activation", "swish"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "gelu" in err and "silu" in err
    assert main(["train", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert all(name in shown for name in EXPECTED)
