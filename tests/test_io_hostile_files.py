"""`gg.load` against hostile headers, and `gg.save` killed half-way (issue 10, items 10 and 11)."""

from __future__ import annotations

import json
import math
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.io import STALE_AFTER_SECONDS, ModelFileError, remove_stale_temporaries

ROOT = Path(__file__).resolve().parents[1]


def framed(header: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + data


def refused(path: Path) -> str:
    with pytest.raises(ModelFileError) as caught:
        gg.load(path)
    message = str(caught.value)
    assert str(path) in message and len(message.splitlines()) == 1, message
    return message


# --- item 10: every refusal is a ModelFileError naming the file -------------------------------


def test_a_refusal_can_be_caught_as_gg_model_file_error(tmp_path):
    """Users catch what gg.load refuses without importing glassgrad.io (as a ValueError too)."""
    path = tmp_path / "notes.safetensors"
    path.write_bytes(b"these are notes, not a model")
    with pytest.raises(gg.ModelFileError, match="notes.safetensors"):
        gg.load(path)
    assert issubclass(gg.ModelFileError, ValueError) and "ModelFileError" in gg.__all__


def test_infinite_or_fractional_data_offsets_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "m.safetensors"
    for offsets in ("[0, Infinity]", "[0, NaN]", "[0, 4.0]", "[4, 0]", "[-4, 0]", "[0, true]", "[0]", "3"):
        header = f'{{"w": {{"dtype": "F32", "shape": [1], "data_offsets": {offsets}}}}}'.encode()
        path.write_bytes(framed(header, b"\0" * 4))
        message = refused(path)
        assert "header is corrupted" in message, (offsets, message)


def test_a_header_nested_100000_deep_is_refused_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.safetensors"
    path.write_bytes(framed(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
    assert "nested too deeply" in refused(path)


def test_deeply_nested_glassgrad_metadata_is_refused(tmp_path):
    import safetensors.numpy

    path = tmp_path / "deep.safetensors"
    layout = '{"list": [' * 5000 + '{"value": 1}' + "]}" * 5000
    description = '{"layout": ' + layout + ', "metadata": {"dict": []}}'
    path.write_bytes(safetensors.numpy.save({}, metadata={"format": "glassgrad", "glassgrad": description}))
    assert "glassgrad metadata is corrupted" in refused(path)


def test_the_existing_refusals_are_model_file_errors_too(tmp_path):
    path = tmp_path / "m.safetensors"
    for raw in (b"", b"\x80\x04pickle", b"PK\x03\x04zip", b"\xff" * 16, framed(b"[1, 2]"), framed(b"{not json")):
        path.write_bytes(raw)
        refused(path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
numbers = st.integers(-2, 2**65) | st.sampled_from([math.inf, -math.inf, math.nan, 4.0]) | st.floats()
entries = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F64", "I64", "U8", "BOOL", "BF16", "X9"]),
    "shape": st.lists(numbers, max_size=3),
    "data_offsets": st.tuples(numbers, numbers).map(list),
}) | st.fixed_dictionaries({}, optional={"dtype": json_values, "shape": json_values, "data_offsets": json_values})
headers = st.dictionaries(st.text(max_size=6), entries | json_values, max_size=4) | json_values


@given(header=headers, data=st.binary(max_size=64))
def test_fuzzed_headers_load_or_raise_model_file_error(tmp_path_factory, header, data):
    path = tmp_path_factory.mktemp("fuzz") / "m.safetensors"
    path.write_bytes(framed(json.dumps(header).encode(), data))
    try:
        gg.load(path)
    except ModelFileError as error:
        assert str(path) in str(error)


@given(raw=st.binary(max_size=200))
def test_fuzzed_bytes_load_or_raise_model_file_error(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "m.safetensors"
    path.write_bytes(raw)
    try:
        gg.load(path)
    except ModelFileError as error:
        assert str(path) in str(error)


def test_fuzzed_glassgrad_metadata_load_or_raise_model_file_error(tmp_path):
    import safetensors.numpy

    path = tmp_path / "m.safetensors"

    @given(description=json_values)
    def check(description):
        path.write_bytes(safetensors.numpy.save({}, metadata={"format": "glassgrad",
                                                              "glassgrad": json.dumps(description)}))
        try:
            gg.load(path)
        except ModelFileError as error:
            assert str(path) in str(error)

    check()


def test_a_link_to_a_device_is_not_a_regular_file(tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    link = tmp_path / "zero.safetensors"
    link.symlink_to("/dev/zero")
    message = refused(link)
    assert "is not a regular file" in message and "character device" in message


# --- item 11: temporary files of killed saves -------------------------------------------------

SAVER = """
import os, sys, time
import glassgrad as gg, glassgrad.io

def stall(descriptor):  # the bytes are written; hold here, as a slow disk would
    print("writing", flush=True)
    time.sleep(60)

glassgrad.io.os.fsync = stall
gg.save({"w": gg.ones(1000)}, sys.argv[1])
"""


def start_a_save_that_stalls(target: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", SAVER, str(target)], stdout=subprocess.PIPE, env=env, text=True)
    assert process.stdout.readline().strip() == "writing"
    return process


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture()
def target(tmp_path) -> Path:
    path = tmp_path / "model.safetensors"
    gg.save({"w": gg.zeros(3)}, path)
    return path


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")
def test_sigterm_during_save_removes_the_temporary_and_ends_the_process(target):
    process = start_a_save_that_stalls(target)
    assert len(temporaries(target.parent)) == 1
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == -signal.SIGTERM  # it still ends as SIGTERM says
    assert temporaries(target.parent) == []
    assert gg.load(target)["w"].array.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")
def test_the_next_save_removes_what_a_killed_save_left(target, tmp_path):
    process = start_a_save_that_stalls(target)
    process.kill()
    process.wait(timeout=30)
    left = temporaries(target.parent)
    assert len(left) == 1
    assert gg.load(target)["w"].array.tolist() == [0.0, 0.0, 0.0]  # the target is intact
    other = tmp_path / f".other.safetensors.{process.pid}.0123456789ab.tmp"  # another target's: not ours
    other.write_bytes(b"x")
    gg.save({"w": gg.ones(2)}, target)
    assert temporaries(target.parent) == [other.name]
    assert gg.load(target)["w"].array.tolist() == [1.0, 1.0]


def test_only_stale_temporaries_of_the_same_target_are_removed(target, tmp_path):
    folder = target.parent
    live = folder / f".{target.name}.{os.getpid()}.0123456789ab.tmp"  # this process is alive: a write in progress
    old = folder / f".{target.name}.0123456789ab.tmp"  # the older name without a pid
    fresh_old = folder / f".{target.name}.ba9876543210.tmp"
    lookalikes = [folder / f".{target.name}.123.xyz.tmp", folder / f"{target.name}.1.0123456789ab.tmp",
                  folder / f".{target.name}x.1.0123456789ab.tmp"]
    for path in [live, old, fresh_old, *lookalikes]:
        path.write_bytes(b"x")
    long_ago = time.time() - STALE_AFTER_SECONDS - 10
    os.utime(old, (long_ago, long_ago))
    assert remove_stale_temporaries(target) == [old]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in [target, live, fresh_old, *lookalikes])
    os.utime(live, (long_ago, long_ago))  # untouched for an hour: no write is that slow
    assert remove_stale_temporaries(target) == [live]
