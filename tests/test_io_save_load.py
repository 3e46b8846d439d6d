"""gg.save / gg.load: bit-for-bit round trips, interoperability, refusing bad files, atomic writes."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg
import glassgrad.io


def same_bits(a, b) -> bool:
    a = a.array if isinstance(a, gg.Tensor) else a
    b = b.array if isinstance(b, gg.Tensor) else b
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@given(array=hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.bool_, np.float16, np.uint8]),
                        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
def test_any_array_round_trips_bit_for_bit(tmp_path_factory, array):
    path = tmp_path_factory.mktemp("io") / "a.safetensors"
    gg.save({"x": gg.Tensor._wrap(array), "raw": array}, path)
    loaded = gg.load(path)
    assert list(loaded) == ["x", "raw"]
    assert all(isinstance(value, gg.Tensor) and same_bits(value, array) for value in loaded.values())


@given(array=hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64]),
                        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
def test_one_tensor_or_a_list_of_them_round_trips_as_torch_save_takes_them(tmp_path_factory, array):
    """``torch.save(x, f)`` and ``torch.save([x, y], f)`` (d2l.ai's file chapter): gg.save refused all but a dict."""
    folder = tmp_path_factory.mktemp("io")
    x = gg.Tensor._wrap(array)
    loaded = gg.load(gg.save(x, folder / "x.safetensors"))
    assert isinstance(loaded, gg.Tensor) and same_bits(loaded, array)
    pair = gg.load(gg.save([x, gg.zeros(4)], folder / "pair.safetensors"))
    assert type(pair) is list and same_bits(pair[0], array) and same_bits(pair[1], gg.zeros(4))
    assert gg.load(gg.save((x, 3), folder / "t.safetensors"))[1] == 3


def test_checkpoint_with_optimizer_state_and_metadata_round_trips(tmp_path):
    weight, bias = gg.randn(3, 2, seed=0), gg.randn(3, dtype=gg.float64, seed=1)
    checkpoint = {
        "model": {"0.weight": weight, "0.bias": bias},
        "optimizer": {
            "state": {0: {"momentum_buffer": np.full((3, 2), 0.5, np.float32), "step": 7}, 1: {}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "params": [0, 1], "eps": 1e-8}],
        },
        "architecture": {"layers": [{"type": "Linear", "in": 2, "out": 3}], "activation": None},
        "epoch": np.int64(12),
        "best_loss": float("inf"),
    }
    path = gg.save(checkpoint, str(tmp_path / "ckpt.safetensors"), metadata={"note": "après 12 epochs", 3: (1, 2)})
    assert path == tmp_path / "ckpt.safetensors"
    loaded, metadata = gg.load(path, return_metadata=True)
    assert same_bits(loaded["model"]["0.weight"], weight) and same_bits(loaded["model"]["0.bias"], bias)
    assert same_bits(loaded["optimizer"]["state"][0]["momentum_buffer"], checkpoint["optimizer"]["state"][0][
        "momentum_buffer"])
    assert loaded["optimizer"]["state"][0]["step"] == 7 and loaded["optimizer"]["state"][1] == {}
    assert loaded["optimizer"]["param_groups"] == checkpoint["optimizer"]["param_groups"]  # tuple stays a tuple
    assert loaded["architecture"] == checkpoint["architecture"]
    assert loaded["epoch"] == 12 and loaded["best_loss"] == float("inf")
    assert list(loaded) == list(checkpoint)
    assert metadata["note"] == "après 12 epochs" and metadata[3] == (1, 2)
    assert metadata["format"] == "glassgrad" and metadata["glassgrad_version"] == gg.__version__
    assert metadata["dtypes"] == {"model.0.weight": "float32", "model.0.bias": "float64",
                                  "optimizer.state.0.momentum_buffer": "float32"}


def test_loaded_weights_give_the_same_predictions_bit_for_bit(tmp_path):
    state = {"weight": gg.randn(10, 64, seed=2), "bias": gg.randn(10, seed=3)}
    X = gg.data.load_digits().tensors[0]
    before = gg.nn.functional.linear(X, state["weight"], state["bias"]).relu()
    gg.save(state, tmp_path / "m.safetensors")
    loaded = gg.load(str(tmp_path / "m.safetensors"))  # a str or a pathlib.Path
    after = gg.nn.functional.linear(X, loaded["weight"], loaded["bias"]).relu()
    assert same_bits(before, after)
    loaded["weight"].array[0, 0] += 1.0  # loaded arrays are ordinary, writable and the file's own copy
    assert gg.load(tmp_path / "m.safetensors")["weight"].array[0, 0] == state["weight"].array[0, 0]


def test_files_are_plain_safetensors_for_other_tools(tmp_path, torch):
    from safetensors.torch import load_file as torch_load_file

    state = {"layer.weight": gg.randn(2, 3, seed=0), "layer.bias": gg.zeros(2)}
    gg.save({"model": state, "epochs": 3}, tmp_path / "m.safetensors")
    seen_by_torch = torch_load_file(str(tmp_path / "m.safetensors"))
    assert set(seen_by_torch) == {"model.layer.weight", "model.layer.bias"}
    np.testing.assert_array_equal(seen_by_torch["model.layer.weight"].numpy(), state["layer.weight"].array)
    from safetensors.torch import save_file as torch_save_file

    torch_save_file({"w": torch.arange(6, dtype=torch.float64).reshape(2, 3)}, str(tmp_path / "t.safetensors"),
                    metadata={"format": "pt"})
    loaded, metadata = gg.load(tmp_path / "t.safetensors", return_metadata=True)
    assert list(loaded) == ["w"] and same_bits(loaded["w"], np.arange(6, dtype=np.float64).reshape(2, 3))
    assert metadata == {"format": "pt", "dtypes": {"w": "float64"}}


def test_nested_names_that_flatten_to_the_same_key_stay_apart(tmp_path):
    obj = {"a.b": gg.tensor([1.0]), "a": {"b": gg.tensor([2.0])}}
    gg.save(obj, tmp_path / "c.safetensors")
    loaded = gg.load(tmp_path / "c.safetensors")
    assert loaded["a.b"].item() == 1.0 and loaded["a"]["b"].item() == 2.0


# --- refusing bad input --------------------------------------------------------------------


@pytest.fixture()
def saved(tmp_path) -> Path:
    path = tmp_path / "good.safetensors"
    gg.save({"model": {"w": gg.randn(4, 4, seed=0)}, "architecture": {"layers": [4, 4]}}, path)
    return path


def refusal(path: Path) -> str:
    with pytest.raises(ValueError) as caught:
        gg.load(path)
    message = str(caught.value)
    assert str(path) in message and "it should be a .safetensors file written by gg.save" in message
    return message


def test_truncated_files_are_refused_at_every_cut(saved, tmp_path):
    raw = saved.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for length in [0, 5, 8, 9, 40, len(raw) // 2, len(raw) - 1]:
        cut.write_bytes(raw[:length])
        message = refusal(cut)
        assert "truncated" in message, (length, message)
    cut.write_bytes(raw[:-1])
    assert "promises 64 bytes of tensor data but only 63 follow" in refusal(cut)


def test_a_wrong_or_corrupted_header_is_refused(saved, tmp_path):
    raw = saved.read_bytes()
    (header_size,) = struct.unpack("<Q", raw[:8])
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\xff" * 8 + raw[8:])
    assert "wrong header: the first 8 bytes should give the JSON header's length" in refusal(bad)
    bad.write_bytes(raw[:8] + b"<" + raw[9:])
    assert "wrong header: a JSON header starting with '{' should follow" in refusal(bad)
    bad.write_bytes(raw[:8] + raw[8:8 + header_size].replace(b'"', b"'", 3) + raw[8 + header_size:])
    assert "header is corrupted (not valid JSON" in refusal(bad)
    bad.write_bytes(b"just some text, not a model at all")
    assert "wrong header" in refusal(bad)


def test_damaged_glassgrad_metadata_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(safetensors.numpy.save({"w": np.ones(2)}, metadata={"format": "glassgrad", "glassgrad": "{"}))
    assert "glassgrad metadata is corrupted" in refusal(path)


def test_pickles_are_refused_without_being_unpickled(tmp_path, monkeypatch):
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("load must never unpickle"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("load must never unpickle"))
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps({"weight": np.ones(3)}))
    assert "it is a Python pickle" in refusal(path) and "never unpickles" in refusal(path)


def test_a_header_length_that_starts_like_a_pickle_still_loads(tmp_path):
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).ljust(0x280).encode()
    path = tmp_path / "m.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + struct.pack("<f", 2.5))
    assert path.read_bytes()[:2] == b"\x80\x02"  # the opening bytes of a protocol-2 pickle
    assert gg.load(path)["w"].array.tolist() == [2.5]


def test_torch_save_output_renamed_is_refused(tmp_path, torch):
    path = tmp_path / "model.safetensors"
    torch.save({"weight": torch.ones(3)}, str(path))
    assert "ZIP archive, the format of torch.save" in refusal(path)
    torch.save({"weight": torch.ones(3)}, str(path), _use_new_zipfile_serialization=False)
    assert "Python pickle" in refusal(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file '.*nothing.safetensors' does not exist .*; it should be a"):
        gg.load(tmp_path / "nothing.safetensors")
    with pytest.raises(FileNotFoundError, match="is a folder, not a file"):
        gg.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="the folder .*no_such_folder does not exist; create it first"):
        gg.save({"w": gg.zeros(1)}, tmp_path / "no_such_folder" / "m.safetensors")


class FakeModule:
    def state_dict(self) -> dict:
        return {}


@pytest.mark.parametrize("obj, error, message", [
    ({"w": object()}, TypeError, "cannot save w: its type object is neither a tensor/array nor a JSON value"),
    ({"model": FakeModule()}, TypeError, "save module.state_dict\\(\\) instead"),
    (FakeModule(), TypeError, "gg.save expects a dict .* pass module.state_dict\\(\\)"),
    ([gg.zeros(1), object()], TypeError, "cannot save 1: its type object is neither"),
    ({"w": np.array(["text"])}, TypeError, "'w' has dtype <U4, which safetensors cannot store"),
    ({"w": np.zeros(2, np.complex64)}, TypeError, "'w' has dtype complex64"),
    ({(1, 2): gg.zeros(1)}, TypeError, "key \\(1, 2\\) at the top level is a tuple; saved dicts need str or int"),
])
def test_unsavable_objects_are_refused(tmp_path, obj, error, message):
    with pytest.raises(error, match=message):
        gg.save(obj, tmp_path / "x.safetensors")
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


def test_bad_metadata_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"metadata keys \['format'\] are reserved"):
        gg.save({}, tmp_path / "x.safetensors", metadata={"format": "mine"})
    with pytest.raises(TypeError, match="metadata holds JSON values only"):
        gg.save({}, tmp_path / "x.safetensors", metadata={"w": np.ones(2)})
    with pytest.raises(TypeError, match="metadata must be a dict"):
        gg.save({}, tmp_path / "x.safetensors", metadata="v1")


# --- atomic writes --------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["fsync", "replace", "write"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(saved, monkeypatch, failing):
    original = saved.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(f"simulated failure in {failing}")

    if failing == "write":
        monkeypatch.setattr(glassgrad.io.os, "fdopen", lambda fd, mode: FailingFile(fd))
    else:
        monkeypatch.setattr(glassgrad.io.os, failing, fail)
    with pytest.raises(OSError, match="simulated failure"):
        gg.save({"model": {"w": gg.zeros(4, 4)}}, saved)
    monkeypatch.undo()
    assert saved.read_bytes() == original
    assert sorted(p.name for p in saved.parent.iterdir()) == ["good.safetensors"]
    assert same_bits(gg.load(saved)["model"]["w"], gg.randn(4, 4, seed=0))


class FailingFile:
    """A file whose write dies half-way, after some bytes reached the disk."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        os.close(self.descriptor)

    def write(self, payload: bytes) -> None:
        os.write(self.descriptor, payload[: len(payload) // 2])
        raise OSError("simulated failure in write (disk full)")


def test_save_replaces_an_existing_file_and_respects_the_umask(saved):
    gg.save({"w": gg.ones(2)}, saved)
    assert list(gg.load(saved)) == ["w"]
    assert sorted(p.name for p in saved.parent.iterdir()) == ["good.safetensors"]
    umask = os.umask(0)
    os.umask(umask)
    assert saved.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_atomically_writes_text_and_bytes(tmp_path):
    glassgrad.io.write_atomically(tmp_path / "page.html", "<p>∂L/∂W</p>")
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == "<p>∂L/∂W</p>"
    glassgrad.io.write_atomically(str(tmp_path / "blob.bin"), b"\x00\x01")
    assert (tmp_path / "blob.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        glassgrad.io.write_atomically(tmp_path, b"")


def test_write_atomically_keeps_a_link_a_link_and_writes_the_file_it_points_to(tmp_path):
    """A symbolic link was replaced by a plain file (the file it pointed to kept its old text)."""
    (tmp_path / "real.txt").write_text("old")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    glassgrad.io.write_atomically(tmp_path / "link.txt", "new")
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "real.txt").read_text() == "new"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_write_atomically_writes_into_a_pipe_and_leaves_it_a_pipe(tmp_path):
    """A pipe (as a device such as /dev/stdout) was replaced by a plain file: its reader got nothing, and the
    name was no longer a pipe."""
    import stat
    import threading

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    glassgrad.io.write_atomically(pipe, b"weights")
    reader.join(timeout=10)
    assert received == [b"weights"]
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)


def test_write_atomically_writes_through_a_link_to_a_pipe(tmp_path):
    """A link to ``/proc/self/fd/1`` (what /dev/stdout is) when stdout is a pipe: the link's target resolves to
    ``pipe:[N]``, no name at all, and the write failed with FileNotFoundError naming a temporary file there."""
    import subprocess
    import sys

    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    done = subprocess.run([sys.executable, "-c", f"import glassgrad.io; glassgrad.io.write_atomically({str(link)!r}, "
                           "b'weights')"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b"weights"
    assert link.is_symlink()


def test_torch_loads_keywords_are_taken(tmp_path):
    """``torch.load(f, weights_only=True)`` (PyTorch's quickstart) and ``map_location='cpu'`` raised TypeError."""
    state = {"w": gg.randn(2, 3, seed=0)}
    path = gg.save(state, tmp_path / "m.pth")
    for keywords in ({"weights_only": True}, {"weights_only": False}, {"map_location": "cpu"},
                     {"map_location": gg.device("cpu"), "weights_only": True}, {"map_location": {"cuda:0": "cpu"}}):
        assert same_bits(gg.load(path, **keywords)["w"], state["w"])
    with pytest.raises(RuntimeError, match="device 'cuda:0' is not available: glassgrad runs on the CPU only"):
        gg.load(path, map_location="cuda:0")


@pytest.mark.torch
@given(shape=st.lists(st.integers(0, 3), max_size=3), dtype=st.sampled_from(["float32", "float64", "int64", "bool"]),
       where=st.sampled_from(["cpu", "device", "dict", "function"]))
def test_torch_loads_arguments_in_its_order_are_taken(torch, tmp_path_factory, shape, dtype, where):
    """``torch.load(path, 'cpu')``: PyTorch's second argument is map_location. glassgrad's was return_metadata, so
    the call returned a (state, metadata) tuple and ``model.load_state_dict(torch.load(path, device))`` failed;
    ``mmap=True`` and ``pickle_module`` raised TypeError. The state comes back as PyTorch's does."""
    values = np.arange(np.prod(shape, dtype=int)).reshape(shape) % 3
    folder = tmp_path_factory.mktemp("load")
    loaded = []
    for lib, name in ((gg, "m.safetensors"), (torch, "m.pt")):
        state = {"w": lib.tensor(values.astype(dtype))}
        lib.save(state, folder / name)
        place = {"cpu": "cpu", "device": lib.device("cpu"), "dict": {"cuda:0": "cpu"},
                 "function": lambda storage, location: storage}[where]
        loaded.append(lib.load(folder / name, place, None, weights_only=True, mmap=True))
    mine, theirs = loaded
    assert isinstance(mine, dict) and list(mine) == list(theirs) == ["w"]
    assert str(mine["w"].dtype) == str(theirs["w"].dtype).removeprefix("torch.")
    np.testing.assert_array_equal(mine["w"].numpy(), theirs["w"].numpy())
    with pytest.raises(TypeError):
        gg.load(folder / "m.safetensors", "cpu", None, True)  # return_metadata is keyword-only


@pytest.mark.torch
@given(shape=st.lists(st.integers(0, 3), max_size=3), dtype=st.sampled_from(["float32", "float64", "int64"]),
       positional=st.booleans())
def test_torch_saves_arguments_are_taken(torch, tmp_path_factory, shape, dtype, positional):
    """``torch.save(state, path, _use_new_zipfile_serialization=False)`` (code written for PyTorch < 1.6) and
    ``pickle_protocol=4`` raised TypeError (unexpected keyword); the file loads back as PyTorch's does."""
    import pickle as pickle_module

    values = np.arange(np.prod(shape, dtype=int)).reshape(shape) - 2
    folder = tmp_path_factory.mktemp("save")
    loaded = []
    for lib, name in ((gg, "m.safetensors"), (torch, "m.pt")):
        state = {"w": lib.tensor(values.astype(dtype)), "epoch": 3}
        if positional:
            lib.save(state, folder / name, pickle_module, 4, False)
        else:
            lib.save(state, folder / name, pickle_protocol=4, _use_new_zipfile_serialization=False)
        loaded.append(lib.load(folder / name, weights_only=False))  # PyTorch's old format: its own file
    mine, theirs = loaded
    assert mine["epoch"] == theirs["epoch"] == 3
    assert str(mine["w"].dtype) == str(theirs["w"].dtype).removeprefix("torch.")
    np.testing.assert_array_equal(mine["w"].numpy(), theirs["w"].numpy())


def test_an_in_memory_file_round_trips_a_checkpoint_as_torch_save_does():
    model = gg.nn.Sequential(gg.nn.Linear(3, 2), gg.nn.BatchNorm1d(2))
    buffer = io.BytesIO()
    assert gg.save({"epoch": 3, "model_state_dict": model.state_dict()}, buffer) is buffer
    buffer.seek(0)
    loaded = gg.load(buffer, weights_only=True)
    assert loaded["epoch"] == 3
    assert list(loaded["model_state_dict"]) == list(model.state_dict())
    assert all(same_bits(loaded["model_state_dict"][name], value) for name, value in model.state_dict().items())


def test_an_open_file_is_read_from_its_position_and_bad_bytes_name_it(tmp_path):
    path = tmp_path / "w.safetensors"
    with open(path, "wb") as handle:
        gg.save({"w": gg.ones(2)}, handle)
    with open(path, "rb") as handle:
        assert same_bits(gg.load(handle)["w"], np.ones(2, np.float32))
    with pytest.raises(glassgrad.io.ModelFileError, match="cannot load <BytesIO>: it has only 3 bytes"):
        gg.load(io.BytesIO(b"abc"))
    with open(path, encoding="latin-1") as text, pytest.raises(TypeError, match="open it in binary mode"):
        gg.load(text)
