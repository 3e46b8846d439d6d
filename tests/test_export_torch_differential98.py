"""Round 98: glassgrad → PyTorch and back, with PyTorch 2.13 as the oracle.

Drawn models (every activation, ``Residual``, dropout, BatchNorm1d / LayerNorm / RMSNorm /
GroupNorm, drawn widths and depths, float32 and float64, named or numbered layers) are trained a
few steps in glassgrad, saved as ``glassgrad train --save`` does, and exported with
``glassgrad export-torch``; the printed script runs unchanged in PyTorch and gives glassgrad's
state dict, outputs (eval and train mode), loss gradients for every parameter, one optimizer
step's weights and BatchNorm's running statistics. The reverse: weights PyTorch saved with
``safetensors.torch.save_file`` (or a dict of its numpy arrays) load strictly into glassgrad and
give PyTorch's outputs.

Two differences the fuzzer met are PyTorch's, not glassgrad's, and are not asserted here:
PyTorch's float64 ``hardsigmoid`` backward multiplies by 1/6 rounded to float32
(0.1666666716…), where glassgrad uses the float64 1/6; and Adam on a parameter whose gradient
is zero in exact arithmetic (a bias just before BatchNorm) turns rounding noise into a full
``lr`` step in either library, so Adam is compared with ``eps=1e-3``.
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_export_torch import _run_source  # exec of the printed source, the model it builds

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.cli import main
from glassgrad.torch_export import torch_source

ACTIVATIONS = ["ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "ELU", "LeakyReLU", "Softplus", "Mish", "Hardswish",
               "SELU", "CELU", "Softsign", "LogSigmoid", "Hardtanh", "ReLU6", "Tanhshrink", "Softshrink",
               "Hardshrink", "Hardsigmoid"]
NORMS = {"BatchNorm1d": lambda width: gg.nn.BatchNorm1d(width), "LayerNorm": lambda width: gg.nn.LayerNorm(width),
         "RMSNorm": lambda width: gg.nn.RMSNorm(width, eps=1e-3), "GroupNorm": lambda width: gg.nn.GroupNorm(1, width)}


def _save(tmp_path, model, name="model.safetensors"):
    path = tmp_path / name
    gg.save({"model": model.state_dict(), "architecture": gg.nn.architecture(model)}, path)
    return path


def _export(capsys, path, *flags):
    capsys.readouterr()
    assert main(["export-torch", str(path), *flags]) == 0
    return capsys.readouterr().out


def _named_model():
    return gg.nn.Sequential(collections.OrderedDict([
        ("é_couche", gg.nn.Linear(4, 5)),
        ("activación", gg.nn.Tanh()),
        ("残差", gg.nn.Residual(gg.nn.Sequential(collections.OrderedDict([
            ("fc", gg.nn.Linear(5, 5)), ("norm", gg.nn.LayerNorm(5)), ("act", gg.nn.GELU())])))),
        ("head", gg.nn.Linear(5, 2)),
    ]))


# ---- defect: a Sequential with its own layer names -------------------------------------------------------------


def test_a_named_sequential_keeps_its_names_in_its_architecture():
    """Before: architecture() dropped the names, so from_architecture refused the model's own weights
    ("missing '0.weight'") and every saved checkpoint of such a model was unusable."""
    model = _named_model()
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(model), model.state_dict())
    assert list(rebuilt.state_dict()) == list(model.state_dict())
    x = gg.randn(3, 4)
    np.testing.assert_array_equal(rebuilt(x).array, model(x).array)


@pytest.mark.torch
def test_a_named_sequential_exports_with_the_same_names(torch, tmp_path, capsys, monkeypatch):
    """Before: export-torch refused the checkpoint; now PyTorch's state dict has the same (unicode) names."""
    model = _named_model().eval()
    source = _export(capsys, _save(tmp_path, model))
    assert "nn.Sequential(OrderedDict([" in source and "('é_couche', nn.Linear(" in source
    theirs = _run_source(source, tmp_path, monkeypatch)
    assert list(theirs.state_dict()) == list(model.state_dict())
    x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    np.testing.assert_allclose(theirs(torch.tensor(x)).detach().numpy(), model(gg.tensor(x)).array,
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("names", [["a"], ["a", "a"], ["a.b", "c"], ["", "c"], "ab", [1, 2]])
def test_a_description_with_unusable_names_is_one_clear_error(names):
    description = {"model": {"type": "Sequential", "layers": [{"type": "ReLU"}, {"type": "Tanh"}], "names": names}}
    with pytest.raises(ValueError, match="one distinct name without a '.' per layer"):
        gg.nn.from_architecture(description)


def test_a_description_naming_a_layer_as_a_sequential_attribute_is_a_value_error():
    """A hand-edited 'names': ['training'] raised a raw KeyError from deep inside the build."""
    description = {"model": {"type": "Sequential", "layers": [{"type": "ReLU"}], "names": ["training"]}}
    with pytest.raises(ValueError, match="cannot name a layer of the Sequential at model so: attribute 'training'"):
        gg.nn.from_architecture(description)


# ---- property: drawn models, forwards, backwards and one optimizer step ----------------------------------------


@st.composite
def models(draw):
    inputs = width = draw(st.integers(2, 6))
    layers: list = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["linear", "residual", "norm", "dropout"]))
        if kind == "norm" and not (layers and "Norm" in type(layers[-1]).__name__):  # two norms: a zero gradient
            layers.append(NORMS[draw(st.sampled_from(sorted(NORMS)))](width))
        elif kind == "residual":
            block = [gg.nn.Linear(width, width)]
            if draw(st.booleans()):
                block.append(NORMS[draw(st.sampled_from(sorted(NORMS)))](width))
            block.append(getattr(gg.nn, draw(st.sampled_from(ACTIVATIONS)))())
            layers.append(gg.nn.Residual(gg.nn.Sequential(*block)))
        elif kind == "dropout":
            layers.append(gg.nn.Dropout(0.0))
        else:
            out = draw(st.integers(2, 6))
            layers += [gg.nn.Linear(width, out, bias=draw(st.booleans())),
                       getattr(gg.nn, draw(st.sampled_from(ACTIVATIONS)))()]
            width = out
    layers.append(gg.nn.Linear(width, 3))
    named = draw(st.booleans())
    model = gg.nn.Sequential(collections.OrderedDict((f"layer_{i}", layer) for i, layer in enumerate(layers))) \
        if named else gg.nn.Sequential(*layers)
    return model, inputs, draw(st.sampled_from(["float32", "float64"])), draw(st.integers(0, 2**16))


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(drawn=models(), optimizer=st.sampled_from(["SGD", "Adam", "AdamW"]), steps=st.integers(0, 3))
def test_a_drawn_trained_model_behaves_the_same_in_pytorch(torch, tmp_path_factory, drawn, optimizer, steps):
    model, inputs, dtype, seed = drawn
    if dtype == "float64":
        model = model.double()
        float64_hardsigmoid = any(isinstance(layer, gg.nn.Hardsigmoid) for layer in model.modules())
        tolerance = {"rtol": 1e-7 if float64_hardsigmoid else 1e-10, "atol": 1e-12}
    else:
        tolerance = {"rtol": 2e-5, "atol": 2e-6}
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, inputs)).astype(dtype)
    y = rng.integers(0, 3, size=8)
    adam = gg.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        adam.zero_grad()
        F.cross_entropy(model(gg.tensor(x)), gg.tensor(y)).backward()
        adam.step()
    folder = tmp_path_factory.mktemp("export")
    path = _save(folder, model)
    source = torch_source(gg.nn.architecture(model), str(path))
    assert source == torch_source(gg.nn.architecture(model), str(path))  # deterministic
    space: dict = {}
    exec(compile(source, "exported.py", "exec"), space)  # noqa: S102
    theirs = space["model"]
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), model.state_dict()[key].array, err_msg=key)
    model.eval()
    np.testing.assert_allclose(model(gg.tensor(x)).array, theirs(torch.tensor(x)).detach().numpy(), **tolerance)

    settings_ = {"lr": 0.05, "weight_decay": 0.01}
    settings_ |= {"momentum": 0.9} if optimizer == "SGD" else {"eps": 1e-3}
    ours_optimizer = getattr(gg.optim, optimizer)(model.parameters(), **settings_)
    their_optimizer = getattr(torch.optim, optimizer)(theirs.parameters(), **settings_)
    model.train()
    theirs.train()
    loose = {name: 10 * value for name, value in tolerance.items()}
    for _ in range(2):
        ours_optimizer.zero_grad()
        their_optimizer.zero_grad()
        ours = F.cross_entropy(model(gg.tensor(x)), gg.tensor(y))
        expected = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        np.testing.assert_allclose(ours.array, expected.detach().numpy(), **tolerance)
        ours.backward()
        expected.backward()
        their_parameters = dict(theirs.named_parameters())
        for name, parameter in model.named_parameters():
            np.testing.assert_allclose(parameter.grad.array, their_parameters[name].grad.numpy(), **loose,
                                       err_msg=f"gradient of {name}")
        ours_optimizer.step()
        their_optimizer.step()
    step_tolerance = loose if optimizer == "SGD" else {"rtol": 1e-3, "atol": 1e-3}
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name].array, value.numpy(), **step_tolerance, err_msg=name)


# ---- the reverse: PyTorch's weights into glassgrad -------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_weights_pytorch_saved_load_strictly_and_give_its_outputs(torch, tmp_path, dtype):
    from safetensors.torch import save_file
    model = gg.nn.mlp([5, 7, 7, 3], batch_norm=True, dropout=0.2, residual=True, activation="silu")
    if dtype == "float64":
        model = model.double()
    space: dict = {}
    exec(compile(torch_source(gg.nn.architecture(model), "unused").rsplit("weights = ", 1)[0], "e.py", "exec"),
         space)  # noqa: S102 (the architecture alone)
    theirs = space["model"]
    x = torch.tensor(np.random.default_rng(1).normal(size=(9, 5)).astype(dtype))
    theirs.train()
    theirs(x)  # running statistics that are not their initial values
    theirs.eval()
    save_file(dict(theirs.state_dict()), tmp_path / "torch.safetensors")
    from_file = gg.nn.from_architecture(gg.nn.architecture(model))
    from_file.load_state_dict(gg.load(tmp_path / "torch.safetensors"), strict=True)
    model.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()}, strict=True)
    tolerance = {"rtol": 1e-6, "atol": 1e-7} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}
    expected = theirs(x).detach().numpy()
    for loaded in (from_file.eval(), model.eval()):
        np.testing.assert_allclose(loaded(gg.tensor(x.numpy())).array, expected, **tolerance)
        assert loaded.state_dict()["1.running_mean"].array.dtype == np.dtype(dtype)


# ---- the script itself, and hostile inputs ---------------------------------------------------------------------


RUFF = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(RUFF is None, reason="ruff not installed")
def test_the_exported_script_is_ruff_clean(tmp_path, capsys):
    path = _save(tmp_path, _named_model().double())
    script = tmp_path / "exported.py"
    script.write_text(_export(capsys, path, "--weights", str(tmp_path / "w.safetensors")), encoding="utf-8")
    result = subprocess.run([RUFF, "check", "--isolated", "--preview", "--select", "E,F,W,I,B,UP",
                             "--line-length", "120", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_a_lazy_layer_before_its_first_call_names_the_fix():
    with pytest.raises(RuntimeError, match="call the lazy module on an example input"):
        gg.nn.architecture(gg.nn.Sequential(gg.nn.LazyLinear(3)))


def test_a_lazy_layer_after_its_first_call_exports_as_linear():
    model = gg.nn.Sequential(gg.nn.LazyLinear(3), gg.nn.ReLU())
    model(gg.randn(2, 5))
    assert "nn.Linear(in_features=5, out_features=3, bias=True)" in torch_source(gg.nn.architecture(model), "w")


def test_a_layer_the_exporter_cannot_write_is_one_clear_error():
    with pytest.raises(ValueError, match=r"cannot describe the model\[1\] of type Bilinear") as caught:
        gg.nn.architecture(gg.nn.Sequential(gg.nn.Linear(2, 2), gg.nn.Bilinear(2, 2, 2)))
    assert "Save model.state_dict() and rebuild the model in code instead" in str(caught.value)


@pytest.mark.parametrize("target", ["folder", "input", "input via ./"])
def test_a_weights_path_that_is_a_folder_or_the_input_is_refused(tmp_path, capsys, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    path = _save(tmp_path, gg.nn.Sequential(gg.nn.Linear(3, 2)))
    (tmp_path / "folder").mkdir()
    out = {"folder": "folder", "input": str(path), "input via ./": "./model.safetensors"}[target]
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["export-torch", str(path), "--weights", out]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and ("folder" in error or "the model file" in error)
    assert path.read_bytes() == before


@pytest.mark.torch
def test_a_minus_infinity_pad_exports_as_runnable_source(torch, tmp_path, capsys, monkeypatch):
    """Before: ``value=-inf`` in the script, a NameError in PyTorch (−∞ padding before max pooling)."""
    model = gg.nn.Sequential(gg.nn.ConstantPad1d(1, -float("inf")), gg.nn.MaxPool1d(2), gg.nn.Flatten(),
                             gg.nn.Linear(6, 2)).eval()
    source = _export(capsys, _save(tmp_path, model))
    assert "value=-float('inf')" in source
    theirs = _run_source(source, tmp_path, monkeypatch)
    x = -np.abs(np.random.default_rng(4).normal(size=(3, 2, 5))).astype(np.float32)
    np.testing.assert_allclose(theirs(torch.tensor(x)).detach().numpy(), model(gg.tensor(x)).array, rtol=1e-6)


def test_a_checkpoint_cannot_write_code_into_the_exported_source(tmp_path, capsys):
    """Before: a setting named ``a=print('INJECTED')) or nn.Identity(b`` (Identity takes any keyword) was
    printed as code, run by whoever ran the script; now export-torch refuses it in one line and writes nothing."""
    model = gg.nn.Sequential(gg.nn.Linear(2, 2))
    description = gg.nn.architecture(model)
    description["model"]["layers"].append({"type": "Identity", "a=print('INJECTED')) or nn.Identity(b": 1})
    path = tmp_path / "evil.safetensors"
    gg.save({"model": model.state_dict(), "architecture": description}, path)
    capsys.readouterr()
    assert main(["export-torch", str(path), "--weights", str(tmp_path / "w.safetensors")]) == 2
    captured = capsys.readouterr()
    assert "INJECTED" not in captured.out and not (tmp_path / "w.safetensors").exists()
    assert "is not a Python name" in captured.err and captured.err.strip().count("\n") == 0


@pytest.mark.torch
@pytest.mark.parametrize("spelling", ["float", "f8", "double", "float64"])
def test_the_dtype_is_written_in_pytorch_spelling(torch, tmp_path, capsys, monkeypatch, spelling):
    """Before: a description's dtype was copied as written: 'float' (float64 to glassgrad, as to NumPy) became
    torch.float, which is float32 (a silent 1e-7 difference), and 'f8' became torch.f8 (an AttributeError)."""
    model = gg.nn.Sequential(gg.nn.Linear(3, 2)).double()
    description = gg.nn.architecture(model) | {"dtype": spelling}
    path = tmp_path / "model.safetensors"
    gg.save({"model": model.state_dict(), "architecture": description}, path)
    theirs = _run_source(_export(capsys, path), tmp_path, monkeypatch)
    assert theirs[0].weight.dtype == torch.float64
