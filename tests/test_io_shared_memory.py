"""Tensors that share memory (tied weights, a tensor and its views) share it again after gg.save / gg.load, as
after torch.save / torch.load: a change through one shows in the others. The oracle is PyTorch 2.13."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

VIEWS = {  # name → how to take that view of a 2-D tensor (the same spelling in glassgrad and PyTorch)
    "itself": lambda x: x,
    "rows": lambda x: x[1:],
    "transposed": lambda x: x.t(),
    "flat": lambda x: x.reshape(-1),
    "column": lambda x: x[:, 0],
    "row of transposed": lambda x: x.t()[-1],
}


def round_trip(save, load, obj):
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    return load(buffer)


@given(rows=st.integers(2, 4), columns=st.integers(1, 4),
       views=st.lists(st.sampled_from(sorted(VIEWS)), min_size=1, max_size=4),
       base_at=st.integers(0, 4))
def test_views_and_their_base_share_memory_after_loading_as_in_torch(torch, rows, columns, views, base_at):
    values = np.arange(rows * columns, dtype=np.float64).reshape(rows, columns)
    results = []
    for library, base in ((gg, gg.tensor(values)), (torch, torch.tensor(values))):
        entries = [(f"v{i}", VIEWS[view](base)) for i, view in enumerate(views)]
        entries.insert(min(base_at, len(entries)), ("base", base))
        loaded = round_trip(library.save, library.load, dict(entries))
        for step, name in enumerate(loaded):  # a change through each one, seen by all that share its memory
            loaded[name].add_(10.0 ** step)
        results.append({name: np.asarray(tensor.tolist()) for name, tensor in loaded.items()})
    for name, expected in results[1].items():
        np.testing.assert_array_equal(results[0][name], expected, err_msg=name)


def tied_model(library, seed):
    """Linear(3→3), tanh, Linear(3→3) whose weight is the first one's (tied weights)."""
    nn = library.nn
    model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 3))
    model[2].weight = model[0].weight
    generator = np.random.default_rng(seed)
    with library.no_grad():
        for value in model.state_dict().values():
            value.copy_(library.tensor(generator.normal(size=tuple(value.shape))))
    return model.double()


def test_a_tied_model_saved_loaded_and_trained_gives_torchs_numbers(torch):
    losses, weights = [], []
    for library in (gg, torch):
        state = round_trip(library.save, library.load, tied_model(library, seed=0).state_dict())
        assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
        state["0.weight"][0, 0] = 5.0  # the loaded dict's tied entries share memory
        assert state["2.weight"][0, 0].item() == 5.0
        model = tied_model(library, seed=1)
        model.load_state_dict(state)
        assert model[2].weight is model[0].weight  # the tie is kept
        optimizer = library.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = library.tensor(np.linspace(-1, 1, 12).reshape(4, 3))
        for _ in range(3):
            optimizer.zero_grad()
            loss = ((model(x) - x) ** 2).mean()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        weights.append([np.asarray(value.tolist()) for value in model.state_dict().values()])
    np.testing.assert_allclose(losses[:3], losses[3:], rtol=1e-12)
    for mine, theirs in zip(*weights):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_every_name_keeps_its_own_bytes_for_other_safetensors_readers(tmp_path):
    base = gg.arange(6.0).reshape(2, 3)
    path = gg.save({"base": base, "transposed": base.t(), "tied": base}, tmp_path / "m.safetensors")
    arrays = safetensors.numpy.load_file(path)
    np.testing.assert_array_equal(arrays["transposed"], base.t().numpy())
    np.testing.assert_array_equal(arrays["tied"], base.numpy())


def rewrite_shared_note(path, name, note):
    """The file at ``path`` with the shared-memory note of ``name`` replaced by ``note``."""
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    description = json.loads(header["__metadata__"]["glassgrad"])
    description["shared"][name] = note
    header["__metadata__"]["glassgrad"] = json.dumps(description)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + length:])


@pytest.mark.parametrize("note, problem", [
    ({"view_of": "base", "offset": 4, "strides": [1]}, "reads entries outside 'base'"),
    ({"view_of": "base", "offset": 0, "strides": [-1]}, "reads entries outside 'base'"),
    ({"view_of": "base", "offset": 0}, "needs an offset and one whole-number stride per dim"),
    ({"view_of": "nothing", "offset": 0, "strides": [1]}, "names no saved tensor of the same dtype"),
    ({"same": "base"}, "names a tensor of another shape"),
])
def test_a_damaged_shared_memory_note_is_refused_without_reading_outside(tmp_path, note, problem):
    base = gg.arange(6.0)
    path = gg.save({"base": base, "rows": base[1:4]}, tmp_path / "m.safetensors")
    rewrite_shared_note(path, "rows", note)
    with pytest.raises(gg.io.ModelFileError, match=problem):
        gg.load(path)
