"""CSV and IDX files that are too big, lie about their size or are not what they say (issue 10, items 8, 12, 13)."""

from __future__ import annotations

import csv
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from memory_peak import traced_peak

from glassgrad.data import load_csv, load_csv_features, load_idx


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(text, encoding=encoding)
    return path


def one_line_error(call, *args) -> str:
    with pytest.raises(ValueError) as caught:
        call(*args)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    return message


# --- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [load_csv, load_csv_features])
def test_a_cell_beyond_the_csv_readers_limit_names_the_file_and_line(tmp_path, call):
    limit = csv.field_size_limit()
    path = write(tmp_path, "long.csv", "a,label\n1,0\n" + "2" * (limit + 1) + ",1\n")
    message = one_line_error(call, path)
    assert f"{path}, line 3: a cell is longer than {limit} characters" in message


@pytest.mark.parametrize("call", [load_csv, load_csv_features])
def test_a_latin1_file_is_refused_naming_the_file(tmp_path, call):
    path = write(tmp_path, "latin.csv", "a,label\n1,café\n", encoding="latin-1")
    message = one_line_error(call, path)
    assert str(path) in message and "not UTF-8 text (byte 0xe9" in message and "save it as UTF-8" in message


@pytest.mark.parametrize("label", ["1e300", "9007199254740993", "-1e300"])
def test_a_class_label_too_large_to_be_exact_is_refused_not_wrapped(tmp_path, label):
    path = write(tmp_path, "big.csv", f"a,label\n1,0\n2,{label}\n3,1\n")
    message = one_line_error(load_csv, path)
    assert f"{path}, line 3: the class label {label!r} is too large to be a class" in message
    assert "-9223372036854775808" not in message


def test_class_labels_below_2_to_the_53_are_used_exactly(tmp_path):
    path = write(tmp_path, "ok.csv", f"a,label\n1,0\n2,{2**53 - 1}\n")
    assert load_csv(path).tensors[1].array.tolist() == [0, 2**53 - 1]


def test_a_link_to_a_device_is_not_a_regular_file(tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    message = one_line_error(load_csv, link)
    assert "is not a regular file" in message and "does not exist" not in message


# --- IDX ------------------------------------------------------------------------------------


def idx_header(code: int, shape: tuple[int, ...]) -> bytes:
    return struct.pack(">BBBB", 0, 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def test_dimension_sizes_whose_product_overflows_int64_are_refused_by_size(tmp_path):
    path = tmp_path / "huge.idx"
    path.write_bytes(idx_header(0x08, (2**16, 2**16, 2**16, 2**16)))  # 2**64 bytes: wraps to 0 in int64
    message = one_line_error(load_idx, path)
    assert str(path) in message and f"needs {2**64} bytes of values" in message and "max_bytes=" in message


def test_a_declared_size_beyond_the_cap_is_refused_before_reading(tmp_path):
    path = tmp_path / "images.idx"
    path.write_bytes(idx_header(0x08, (10, 11)) + bytes(110))
    message = one_line_error(load_idx, path, 100)
    assert "needs 110 bytes of values, more than the 100 this reader accepts" in message
    assert "max_bytes=110" in message
    assert load_idx(path, 110).shape == (10, 11)


def test_a_small_gz_declaring_a_gigabyte_is_refused_before_decompressing(tmp_path):
    path = tmp_path / "bomb.idx.gz"
    path.write_bytes(gzip.compress(idx_header(0x08, (1000, 1000, 1000)) + bytes(1000)))
    with traced_peak() as peak:
        message = one_line_error(load_idx, path)
    assert "needs 1000000000 bytes of values, but a" in message and "gzip file expands to at most" in message
    assert peak.bytes < 1 << 20


def test_a_gz_with_megabytes_of_extra_data_is_read_only_as_far_as_declared(tmp_path):
    path = tmp_path / "padded.idx.gz"
    path.write_bytes(gzip.compress(idx_header(0x08, (2, 2)) + bytes(4) + bytes(40 << 20)))
    with traced_peak() as peak:
        message = one_line_error(load_idx, path)
    assert "IDX data has extra bytes" in message
    assert peak.bytes < 4 << 20  # the 40 MB behind the declared values are never held


def test_big_endian_values_are_swapped_in_place_bit_for_bit(tmp_path):
    values = np.arange(-6, 6, dtype=np.int32).reshape(3, 4) * 1000003
    path = tmp_path / "ints.idx.gz"
    path.write_bytes(gzip.compress(idx_header(0x0C, values.shape) + values.astype(">i4").tobytes()))
    loaded = load_idx(path)
    assert loaded.dtype.isnative and loaded.dtype == np.int32
    np.testing.assert_array_equal(loaded, values)
