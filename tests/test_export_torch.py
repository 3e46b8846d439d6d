"""Graduating to PyTorch: saved glassgrad weights load into PyTorch modules, and ``glassgrad export-torch``
prints source that rebuilds the model; PyTorch's predictions then equal glassgrad's (rtol 1e-6, float32)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.cli import main


def _trained(model, inputs, outputs, steps=5):
    """A few Adam steps (so BatchNorm's running statistics and every weight are not their initial values)."""
    optimizer = gg.optim.Adam(model.parameters(), lr=0.01)
    x = gg.tensor(np.random.default_rng(0).normal(size=(16, inputs)).astype(np.float32))
    y = gg.tensor(np.random.default_rng(1).integers(0, outputs, size=16))
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model.eval()


def _exported(tmp_path, capsys, model, *flags):
    path = tmp_path / "model.safetensors"
    gg.save({"model": model.state_dict(), "architecture": gg.nn.architecture(model), "epoch": 3}, path)
    capsys.readouterr()
    assert main(["export-torch", str(path), *flags]) == 0
    return capsys.readouterr().out


def _run_source(source, folder, monkeypatch):
    monkeypatch.chdir(folder)
    space: dict = {}
    exec(compile(source, "exported.py", "exec"), space)  # noqa: S102 (the source we just printed)
    return space["model"]


MODELS = {
    "mlp with batch norm, dropout and a skip connection":
        lambda: gg.nn.mlp([6, 8, 8, 3], batch_norm=True, dropout=0.25, residual=True, seed=0),
    "the new layers": lambda: gg.nn.Sequential(
        gg.nn.Linear(6, 8), gg.nn.ELU(0.3), gg.nn.LayerNorm(8), gg.nn.Softplus(2.0, 5.0), gg.nn.Linear(8, 8),
        gg.nn.GELU("tanh"), gg.nn.Dropout(0.1), gg.nn.Linear(8, 8), gg.nn.SiLU(), gg.nn.LeakyReLU(0.2),
        gg.nn.Linear(8, 3), gg.nn.LogSoftmax(dim=1)),
}


@pytest.mark.torch
@pytest.mark.parametrize("weights_alone", [False, True], ids=["from the checkpoint", "with --weights"])
@pytest.mark.parametrize("name", list(MODELS))
def test_exported_source_gives_the_same_predictions_in_pytorch(torch, tmp_path, capsys, monkeypatch, name,
                                                               weights_alone):
    model = _trained(MODELS[name](), 6, 3)
    flags = ["--weights", str(tmp_path / "for_torch.safetensors")] if weights_alone else []
    source = _exported(tmp_path, capsys, model, *flags)
    theirs = _run_source(source, tmp_path, monkeypatch)
    assert isinstance(theirs, torch.nn.Sequential) and not theirs.training
    x = np.random.default_rng(2).normal(size=(10, 6)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(model(gg.tensor(x)).array, expected, rtol=1e-6, atol=1e-7)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), model.state_dict()[key].array, err_msg=key)


@pytest.mark.torch
def test_a_float64_model_is_exported_as_float64(torch, tmp_path, capsys, monkeypatch):
    model = gg.nn.mlp([4, 5, 2], activation="tanh", seed=1).double()
    source = _exported(tmp_path, capsys, model)
    assert "model = model.to(torch.float64)" in source
    theirs = _run_source(source, tmp_path, monkeypatch)
    x = np.random.default_rng(3).normal(size=(3, 4))
    np.testing.assert_allclose(model(gg.tensor(x)).array, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)


@pytest.mark.torch
def test_a_saved_state_dict_loads_into_pytorch_as_it_is(torch, tmp_path):
    from safetensors.torch import load_file

    model = _trained(gg.nn.mlp([6, 8, 3], batch_norm=True, seed=2), 6, 3)
    path = tmp_path / "weights.safetensors"
    gg.save(model.state_dict(), path)
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 3))
    result = theirs.load_state_dict(load_file(path))
    assert not result.missing_keys and not result.unexpected_keys
    assert theirs[1].num_batches_tracked.dtype == torch.int64 and theirs[1].num_batches_tracked.item() == 5
    theirs.eval()
    x = np.random.default_rng(4).normal(size=(7, 6)).astype(np.float32)
    np.testing.assert_allclose(model(gg.tensor(x)).array, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6,
                               atol=1e-7)
    assert set(gg.load(path)) == set(model.state_dict())  # and glassgrad still reads its own file


@pytest.mark.torch
def test_attention_and_module_lists_load_into_the_same_pytorch_model(torch, tmp_path):
    from safetensors.torch import load_file

    def build(library):
        class Block(library.nn.Module):
            def __init__(self):
                super().__init__()
                self.attention = library.nn.MultiheadAttention(8, 2, batch_first=True)
                self.layers = library.nn.ModuleList([library.nn.Linear(8, 8), library.nn.Linear(8, 4)])

            def forward(self, x):
                x = self.attention(x, x, x, need_weights=False)[0]
                for layer in self.layers:
                    x = layer(x).tanh()
                return x

        return Block()

    ours, theirs = build(gg), build(torch)
    path = tmp_path / "block.safetensors"
    gg.save(ours.state_dict(), path)
    theirs.load_state_dict(load_file(path))
    x = np.random.default_rng(5).normal(size=(2, 5, 8)).astype(np.float32)
    np.testing.assert_allclose(ours(gg.tensor(x)).array, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_a_file_without_an_architecture_is_a_one_line_error(tmp_path, capsys):
    path = tmp_path / "weights.safetensors"
    gg.save(gg.nn.Linear(2, 1).state_dict(), path)
    assert main(["export-torch", str(path)]) == 2
    error = capsys.readouterr().err.strip()
    assert "holds no architecture next to its weights" in error and "\n" not in error


def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path, capsys):
    model = gg.nn.mlp([3, 4, 2], seed=0)
    state = model.state_dict()
    state["0.weight"] = gg.zeros(4, 5)
    path = tmp_path / "bad.safetensors"
    gg.save({"model": state, "architecture": gg.nn.architecture(model)}, path)
    assert main(["export-torch", str(path)]) == 2
    error = capsys.readouterr().err.strip()
    assert "size mismatch for '0.weight'" in error and "\n" not in error


def test_an_unwritable_weights_path_names_it_not_the_temporary_file(tmp_path, capsys, refuse_new_files):
    model = gg.nn.mlp([3, 4, 2], seed=0)
    path, weights = tmp_path / "model.safetensors", tmp_path / "w.safetensors"
    gg.save({"model": model.state_dict(), "architecture": gg.nn.architecture(model)}, path)
    refuse_new_files()
    assert main(["export-torch", str(path), "--weights", str(weights)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"glassgrad: error: cannot write {weights}: Operation not permitted; give --weights a path you "
                     "can write to")
