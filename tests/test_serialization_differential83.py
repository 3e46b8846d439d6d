"""Saving and loading, differential against PyTorch 2.13 (``torch.save`` / ``torch.load(weights_only=True)``).

A drawn checkpoint (nested dicts, OrderedDicts, lists, tuples, JSON scalars, ``Size``, tensors of every dtype,
Parameters, tensors requiring grad, views of each other) goes through ``gg.save``/``gg.load`` and through
``torch.save``/``torch.load``: the same structure, types, values (bit for bit) and sharing come back. Then the
PyTorch spellings of saving a model, the files other tools write, and the targets a save must refuse.

Left as glassgrad's documented choices, not tested as differences: only JSON values and arrays are saved (a
``torch.dtype``, a set, bytes or a float dict key are refused with a TypeError naming the value), and a saved view
whose base is not saved loads with memory of its own, row-major (``torch.load`` keeps its strides).
"""

from __future__ import annotations

import collections
import io
import json
import math
import os
import pathlib
import struct
import tempfile

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.io import ModelFileError

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [0, 1, -1, 2**70, -2**63, 3.5, math.inf, -math.inf, math.nan, -0.0, 1e308, 5e-324, True, False, None, "",
           "é", "a.b", "x\x00y"]
KEYS = ["a", "b", "0", "w.x", 0, 1, 7, "", "tensor", "__metadata__", "a.b#1"]
VIEWS = {
    "transposed": lambda x: x.transpose(0, 1) if x.dim() >= 2 else x,
    "every other row": lambda x: x[::2] if x.dim() >= 1 else x,
    "columns from 1": lambda x: x[..., 1:] if x.dim() >= 1 else x,
    "first row": lambda x: x[0] if x.dim() >= 1 and x.shape[0] else x,
    "itself": lambda x: x,
}


def round_trip(library, obj):
    buffer = io.BytesIO()
    library.save(obj, buffer)
    buffer.seek(0)
    return library.load(buffer, weights_only=True)


# --- (a) drawn checkpoints: recipes built the same way in both libraries -------------------------------------------

tensor_recipes = st.tuples(
    st.just("tensor"), st.sampled_from(DTYPES), st.lists(st.integers(0, 3), max_size=3).map(tuple),
    st.integers(0, 2**16), st.sampled_from(["plain", "plain", "parameter", "frozen parameter", "requires grad"]),
    st.sampled_from([None, math.inf, -math.inf, math.nan, -0.0]))
view_recipes = st.tuples(st.just("view"), st.integers(0, 7), st.lists(st.sampled_from(sorted(VIEWS)), max_size=3))
leaf_recipes = st.one_of(tensor_recipes, view_recipes, st.tuples(st.just("scalar"), st.sampled_from(SCALARS)),
                         st.tuples(st.just("size"), st.lists(st.integers(0, 5), max_size=3).map(tuple)))
recipes = st.recursive(leaf_recipes, lambda inner: st.one_of(
    st.tuples(st.sampled_from(["dict", "ordered dict"]), st.lists(st.tuples(st.sampled_from(KEYS), inner), max_size=4)),
    st.tuples(st.sampled_from(["list", "tuple"]), st.lists(inner, max_size=4))), max_leaves=10)


def build(library, recipe, tensors: list):
    """The object ``recipe`` describes, in ``library``; every tensor made goes into ``tensors`` (views draw on it)."""
    kind = recipe[0]
    if kind == "scalar":
        return recipe[1]
    if kind == "size":
        return library.Size(recipe[1])
    if kind == "tensor":
        _, dtype, shape, seed, role, special = recipe
        values = np.random.default_rng(seed).standard_normal(shape) * 100
        values = (values > 0) if dtype == "bool" else values.astype(dtype)
        if special is not None and dtype.startswith("float") and values.size:
            values.flat[0] = special
        tensor = library.tensor(values)
        if dtype.startswith("float") and role != "plain":
            tensor = (library.nn.Parameter(tensor, requires_grad=role == "parameter") if "parameter" in role
                      else tensor.requires_grad_())
        tensors.append(tensor)
        return tensor
    if kind == "view":
        if not tensors:
            return None
        tensor = tensors[recipe[1] % len(tensors)]
        for name in recipe[2]:
            tensor = VIEWS[name](tensor)
        tensors.append(tensor)
        return tensor
    if kind in ("dict", "ordered dict"):
        mapping = collections.OrderedDict() if kind == "ordered dict" else {}
        for key, item in recipe[1]:
            mapping[key] = build(library, item, tensors)
        return mapping
    items = [build(library, item, tensors) for item in recipe[1]]
    return tuple(items) if kind == "tuple" else items


def describe(obj, torch, tensors: list):
    """``obj`` as comparable data: container types and keys, scalars (NaN and −0.0 told apart), each tensor's class,
    requires_grad, dtype, shape and bytes. The tensors go into ``tensors`` in order (to compare their sharing)."""
    if isinstance(obj, (gg.Tensor, torch.Tensor)):
        tensors.append(obj)
        array = obj.detach().numpy()
        parameter = isinstance(obj, (gg.nn.Parameter, torch.nn.Parameter))
        return ("tensor", parameter, obj.requires_grad, str(array.dtype), array.shape, array.tobytes())
    if isinstance(obj, (gg.Size, torch.Size)):
        return ("Size", tuple(obj))
    if isinstance(obj, dict):
        return (type(obj).__name__, [(key, describe(item, torch, tensors)) for key, item in obj.items()])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [describe(item, torch, tensors) for item in obj])
    if isinstance(obj, float):
        return ("float", "nan" if math.isnan(obj) else obj, math.copysign(1.0, obj))
    return (type(obj).__name__, obj)


def sharing(library, tensors: list) -> list[tuple[int, ...]]:
    """For each tensor, which of the others change when its first entry is written (then put back)."""
    before = [tensor.detach().numpy().copy() for tensor in tensors]
    pattern = []
    for index, tensor in enumerate(tensors):
        if tensor.numel() == 0 or tensor.dtype == library.bool:
            pattern.append(())
            continue
        first = (0,) * tensor.dim()
        with library.no_grad():
            old = tensor[first].clone()
            tensor[first] = 77
            pattern.append(tuple(other for other, tensor_ in enumerate(tensors) if other != index
                                 and tensor_.detach().numpy().tobytes() != before[other].tobytes()))
            tensor[first] = old
    return pattern


@given(recipe=recipes)
def test_drawn_checkpoints_come_back_as_from_torch_load(torch, recipe):
    """Structure (OrderedDict, tuple, list, Size, int and str keys, "__metadata__" as a key), every scalar (NaN, ±inf,
    −0.0, 2**70), every tensor's class, requires_grad, dtype, shape and bits, and which tensors share memory."""
    theirs_tensors, mine_tensors = [], []
    theirs = describe(round_trip(torch, build(torch, recipe, [])), torch, theirs_tensors)
    mine = describe(round_trip(gg, build(gg, recipe, [])), torch, mine_tensors)
    assert mine == theirs
    assert sharing(gg, mine_tensors) == sharing(torch, theirs_tensors)


# --- defects fixed in this round ---------------------------------------------------------------------------------


def test_a_state_dict_loads_as_an_ordered_dict_with_its_metadata(torch):
    """torch.load gives model.state_dict() back as an OrderedDict with its _metadata (each module's layout
    version); gg.load gave a plain dict without it."""
    for library in (torch, gg):
        model = library.nn.Sequential(library.nn.Linear(2, 3), library.nn.BatchNorm1d(3))
        state = model.state_dict()
        loaded = round_trip(library, {"model": state, "plain": {"a": 1}})
        assert type(loaded["model"]) is collections.OrderedDict
        assert type(loaded["plain"]) is dict
        assert loaded["model"]._metadata == state._metadata == collections.OrderedDict(
            [("", {"version": 1}), ("0", {"version": 1}), ("1", {"version": 2})])
        assert list(loaded["model"]) == list(state)


@pytest.mark.parametrize("library_name", ["torch", "glassgrad"])
def test_a_batchnorm_state_dict_missing_num_batches_tracked_is_refused_after_a_file(torch, library_name):
    """The _metadata saved with a state dict says BatchNorm's layout is version 2, so a missing num_batches_tracked
    is a missing key (PyTorch); without it glassgrad took the state dict for version 1 and loaded it silently."""
    library = torch if library_name == "torch" else gg
    state = library.nn.BatchNorm1d(2).state_dict()
    del state["num_batches_tracked"]
    with pytest.raises(RuntimeError, match='Missing key.*"num_batches_tracked"'):
        library.nn.BatchNorm1d(2).load_state_dict(round_trip(library, state))


@pytest.mark.parametrize("note", [5, [[1]], [[["model"], {"bogus": 1}]], [[[["model"]], None]],
                                  [[["model"], {"value": 5}]], [[["model"], {"tensor": "model.weight"}]]])
def test_a_damaged_ordered_dict_note_is_refused(tmp_path, note):
    """The OrderedDicts' paths are noted beside the layout (so that earlier glassgrad versions, which read only the
    layout, still load the file, as plain dicts); a damaged note is refused like any damaged metadata."""
    path = gg.save({"model": gg.nn.Linear(1, 1).state_dict()}, tmp_path / "m.safetensors")
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    description = json.loads(header["__metadata__"]["glassgrad"])
    assert description["ordered_dicts"] == [[["model"], {"dict": [["", {"dict": [["version", {"value": 1}]]}]]}]]
    assert description["layout"]["dict"][0][1]["dict"][0][0] == "weight"  # a plain dict node, as before
    description["ordered_dicts"] = note
    header["__metadata__"]["glassgrad"] = json.dumps(description)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + length:])
    with pytest.raises(ModelFileError, match="its glassgrad metadata is corrupted"):
        gg.load(path)


def test_a_tensor_saved_under_the_name___metadata___loads(torch, tmp_path):
    """safetensors keeps its header's map under "__metadata__": a tensor of that name made gg.save write a file
    that nothing could load (a duplicate field). torch.save keeps the key; so does gg now."""
    checkpoint = {"__metadata__": gg.arange(3.0), "inner": {"__metadata__": gg.ones(1)}}
    gg.save(checkpoint, tmp_path / "m.safetensors")
    loaded = gg.load(tmp_path / "m.safetensors")
    assert list(loaded) == ["__metadata__", "inner"]
    assert loaded["__metadata__"].tolist() == [0.0, 1.0, 2.0] and loaded["inner"]["__metadata__"].tolist() == [1.0]
    assert set(safetensors.numpy.load_file(str(tmp_path / "m.safetensors"))) == {"__metadata__#1", "inner.__metadata__"}
    assert list(round_trip(torch, {"__metadata__": torch.arange(3.0)})) == ["__metadata__"]


def test_a_bfloat16_safetensors_file_is_refused_naming_the_dtype_and_the_fix(torch, tmp_path):
    """A bfloat16 checkpoint (how many downloaded models come) was refused as "corrupted ('BF16')"."""
    from safetensors.torch import save_file

    save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, str(tmp_path / "bf16.safetensors"))
    with pytest.raises(ModelFileError) as refusal:
        gg.load(tmp_path / "bf16.safetensors")
    message = str(refusal.value)
    assert "'w' has dtype 'BF16'" in message and "float32" in message and "corrupted" not in message
    assert "\n" not in message


def test_a_complex_safetensors_file_is_refused_not_loaded_as_a_broken_tensor(tmp_path):
    """A complex64 file loaded as a tensor glassgrad cannot hold: printing it raised a raw TypeError from int()."""
    safetensors.numpy.save_file({"z": np.ones(2, np.complex64), "w": np.ones(2, np.float32)},
                                str(tmp_path / "complex.safetensors"))
    with pytest.raises(ModelFileError, match=r"tensor 'z' has dtype 'C64', which glassgrad's tensors cannot hold"):
        gg.load(tmp_path / "complex.safetensors")


def test_a_read_only_file_is_refused_and_kept_as_open_would(tmp_path, monkeypatch):
    """os.replace needs only the folder's write permission, so gg.save replaced a file its owner had made
    read-only, where torch.save (open for writing) raises. os.access is made to say "read-only" for the target,
    as it does for a user who is not root (a root user may write any file, and so may open and gg.save)."""
    target = tmp_path / "kept.safetensors"
    target.write_bytes(b"precious")
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kwargs: False if str(path) == str(target)
                        else access(path, mode, **kwargs))
    with pytest.raises(RuntimeError, match="the file is read-only; make it writable") as refusal:
        gg.save({"w": gg.ones(2)}, target)
    assert isinstance(refusal.value, PermissionError) and refusal.value.strerror == "Permission denied"
    assert target.read_bytes() == b"precious" and os.listdir(tmp_path) == ["kept.safetensors"]


def _as_a_user(action) -> None:
    """Run ``action()`` as the user who runs the tests or, for root (who may write any file), in a forked child that
    has dropped to ``nobody`` first: the child's exception comes back here as a RuntimeError if it was one (its
    class named in the message), else as an AssertionError."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        action()
        return
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: drop root, act, report through the pipe, and never return into pytest
        outcome = None
        try:
            os.setgid(65534)
            os.setuid(65534)
            action()
        except BaseException as error:  # noqa: BLE001 (reported to the parent, which raises it)
            outcome = [isinstance(error, RuntimeError), f"{type(error).__name__}: {error}"]
        os.write(write, json.dumps(outcome).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        outcome = json.loads(pipe.read())
    os.waitpid(child, 0)
    if outcome is not None:
        raise (RuntimeError if outcome[0] else AssertionError)(outcome[1])


def test_a_read_only_file_is_refused_for_a_user_as_by_torch_save(torch):
    """A file made read-only (0444) in a folder its user may write: torch.save's open() refuses it, and so must
    gg.save, whose rename onto the file needs only the folder's permission; the file keeps its bytes. Run as a user
    who is not root (root may write any file)."""
    with tempfile.TemporaryDirectory() as name:  # under /tmp, where any user may reach a folder made 0777
        folder = pathlib.Path(name)
        folder.chmod(0o777)
        for library in (torch, gg):
            target = folder / f"{library.__name__}.pt"
            target.write_bytes(b"precious")
            target.chmod(0o444)

            def save(library=library, target=target):
                assert os.access(target, os.R_OK), "the user cannot reach the file: the test would prove nothing"
                library.save({"w": library.ones(2)}, target)

            with pytest.raises(RuntimeError, match="read-only|Permission denied"):
                _as_a_user(save)
            assert target.read_bytes() == b"precious"


def test_saving_onto_a_folder_or_into_a_missing_one_raises_torch_saves_runtime_error(torch, tmp_path):
    for library in (torch, gg):
        with pytest.raises(RuntimeError):
            library.save({"w": library.ones(1)}, tmp_path)
        with pytest.raises(RuntimeError):
            library.save({"w": library.ones(1)}, tmp_path / "missing" / "m.pt")
    with pytest.raises(IsADirectoryError, match="it is a folder; give a file name inside it"):
        gg.save({"w": gg.ones(1)}, tmp_path)
    assert os.listdir(tmp_path) == []


# --- (b) PyTorch's spellings of saving and loading a model ---------------------------------------------------------


def mlp(library):
    library.manual_seed(0)
    return library.nn.Sequential(library.nn.Linear(3, 4), library.nn.Tanh(), library.nn.Linear(4, 2))


@pytest.mark.parametrize("where", ["str", "pathlib", "handles", "bytesio"])
@pytest.mark.parametrize("map_location", ["none", "cpu", "device", "dict", "callable"])
def test_pytorch_code_saving_and_loading_a_state_dict_runs_unchanged(tmp_path, where, map_location):
    model, target = mlp(gg), tmp_path / "model.pt"
    location = {"none": None, "cpu": "cpu", "device": gg.device("cpu"), "dict": {"cuda:0": "cpu"},
                "callable": lambda storage, location: storage}[map_location]
    if where == "handles":
        with open(target, "wb") as handle:
            gg.save(model.state_dict(), handle)
        with open(target, "rb") as handle:
            state = gg.load(handle, map_location=location, weights_only=True)
    elif where == "bytesio":
        buffer = io.BytesIO()
        gg.save(model.state_dict(), buffer, pickle_protocol=2)
        buffer.seek(0)
        state = gg.load(buffer, location, weights_only=True)
    else:
        path = str(target) if where == "str" else target
        gg.save(model.state_dict(), path, _use_new_zipfile_serialization=False)
        state = gg.load(path, map_location=location, weights_only=True, mmap=True)
    other = gg.nn.Sequential(gg.nn.Linear(3, 4), gg.nn.Tanh(), gg.nn.Linear(4, 2))
    assert str(other.load_state_dict(state)) == "<All keys matched successfully>"
    x = gg.randn(5, 3)
    assert np.array_equal(other(x).detach().numpy(), model(x).detach().numpy())


def train_through_a_file(library, path) -> tuple[list[float], list[np.ndarray]]:
    """Adam (amsgrad) and OneCycleLR: 3 steps, saved to ``path``, loaded into fresh objects, 4 more steps; the
    learning rates of those and the parameters at the end."""
    model = mlp(library)
    with library.no_grad():  # the same starting numbers in both
        for index, parameter in enumerate(model.parameters()):
            parameter.copy_(library.tensor(np.sin(np.arange(parameter.numel()) + index).astype(np.float32))
                            .reshape(parameter.shape))
    x = library.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))

    def fresh():
        optimizer = library.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
        return optimizer, library.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=20)

    def step(optimizer, scheduler):
        optimizer.zero_grad()
        model(x).pow(2).sum().backward()
        optimizer.step()
        scheduler.step()

    optimizer, scheduler = fresh()
    for _ in range(3):
        step(optimizer, scheduler)
    library.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, path)
    checkpoint = library.load(path, weights_only=True)
    optimizer, scheduler = fresh()
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    rates = []
    for _ in range(4):
        step(optimizer, scheduler)
        rates.append(optimizer.param_groups[0]["lr"])
    return rates, [parameter.detach().numpy().copy() for parameter in model.parameters()]


def test_optimizer_and_scheduler_state_through_a_file_continue_as_torchs(torch, tmp_path):
    """PyTorch's learning rates, and its parameters within float32 rounding."""
    their_rates, theirs = train_through_a_file(torch, tmp_path / "torch.pt")
    my_rates, mine = train_through_a_file(gg, tmp_path / "gg.safetensors")
    np.testing.assert_allclose(my_rates, their_rates, rtol=1e-12)
    for my_parameter, their_parameter in zip(mine, theirs):
        np.testing.assert_allclose(my_parameter, their_parameter, rtol=1e-5, atol=1e-6)


def test_save_checkpoint_writes_into_new_folders_and_loads_into_the_model(tmp_path):
    model = mlp(gg)
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    path = gg.training.save_checkpoint(model, optimizer, tmp_path / "a" / "b" / "last.safetensors", epoch=4)
    checkpoint = gg.load(path)
    assert type(checkpoint["model"]) is collections.OrderedDict and checkpoint["epoch"] == 4
    other = gg.nn.Sequential(gg.nn.Linear(3, 4), gg.nn.Tanh(), gg.nn.Linear(4, 2))
    other.load_state_dict(checkpoint["model"])
    gg.optim.SGD(other.parameters(), lr=0.1, momentum=0.9).load_state_dict(checkpoint["optimizer"])
    assert all(np.array_equal(a.detach().numpy(), b.detach().numpy())
               for a, b in zip(model.parameters(), other.parameters()))


def test_jit_save_is_refused_pointing_at_the_state_dict():
    with pytest.raises(RuntimeError, match=r"torch.jit.save: .*torch.save\(model.state_dict\(\), path\)"):
        gg.jit.save(gg.jit.script(mlp(gg)), io.BytesIO())


# --- (c) files from other tools, and damaged ones ------------------------------------------------------------------


@pytest.mark.parametrize("written_by", ["zip", "legacy"])
def test_a_torch_save_file_is_refused_in_one_line_naming_pickle(torch, tmp_path, written_by):
    path = tmp_path / "model.pt"
    torch.save(mlp(torch).state_dict(), path, _use_new_zipfile_serialization=written_by == "zip")
    with pytest.raises(ModelFileError) as refusal:
        gg.load(path, map_location="cpu", weights_only=True)
    message = str(refusal.value)
    assert "\n" not in message and "never unpickles" in message and str(path) in message


def test_a_safetensors_library_file_of_every_dtype_loads_bit_for_bit(tmp_path):
    arrays = {dtype: (np.arange(-3, 3) % 2 == 0 if dtype == "bool" else np.arange(-3, 3)).astype(dtype).reshape(2, 3)
              for dtype in DTYPES + ["uint16", "uint32", "uint64"]}
    arrays["scalar"], arrays["empty"] = np.array(-0.0), np.zeros((0, 4), np.float32)
    safetensors.numpy.save_file(arrays, str(tmp_path / "other.safetensors"), metadata={"source": "numpy"})
    loaded, metadata = gg.load(tmp_path / "other.safetensors", return_metadata=True)
    assert metadata["source"] == "numpy"
    for name, array in arrays.items():
        mine = loaded[name].numpy()
        assert mine.dtype == array.dtype and mine.shape == array.shape and mine.tobytes() == array.tobytes(), name


SAVED = io.BytesIO()
gg.save({"model": mlp(gg).state_dict(), "step": 3, "tied": gg.ones(2, 2), "shape": gg.Size([2])}, SAVED)


@given(position=st.integers(0, len(SAVED.getvalue()) - 1), byte=st.integers(0, 255))
def test_a_flipped_byte_loads_or_is_refused_never_a_raw_error(position, byte):
    """A changed data byte changes a number (safetensors has no checksum, so that loads); anything else
    loads the same values or raises ModelFileError."""
    damaged = bytearray(SAVED.getvalue())
    damaged[position] = byte
    try:
        gg.load(io.BytesIO(bytes(damaged)))
    except ModelFileError as refusal:
        assert "\n" not in str(refusal)


@pytest.mark.parametrize("header_length", [0, 7, 1 << 40, struct.unpack("<Q", b'{"a":1}\x00')[0]])
def test_a_wrong_header_length_is_refused(header_length):
    raw = bytearray(SAVED.getvalue())
    raw[:8] = struct.pack("<Q", header_length)
    with pytest.raises(ModelFileError, match="cannot load <BytesIO>"):
        gg.load(io.BytesIO(bytes(raw)))
