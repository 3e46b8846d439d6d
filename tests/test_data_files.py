"""CSV and IDX loaders on small files written here: values, dtypes, class names, and every error message."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from glassgrad.data import load_csv, load_idx, load_idx_dataset


def write(folder, name: str, text: str):
    path = folder / name
    path.write_text(text)
    return path


# --- CSV ------------------------------------------------------------------------------------


def test_csv_with_text_labels_maps_them_to_sorted_class_ids(tmp_path):
    path = write(tmp_path, "pets.csv", "weight,height,label\n4.5,30,cat\n30,60,dog\n5,25,cat\n0.1,5,bird\n")
    data = load_csv(path)
    X, y = data.tensors
    assert X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X.array, np.array([[4.5, 30], [30, 60], [5, 25], [0.1, 5]], dtype=np.float32))
    assert data.class_names == ["bird", "cat", "dog"]
    assert [data.class_names[i] for i in y.array] == ["cat", "dog", "cat", "bird"]
    assert data.feature_names == ["weight", "height"]


def test_csv_target_by_name_or_index_in_any_position(tmp_path):
    path = write(tmp_path, "d.csv", "y,a,b\n1,0.5,2\n0,1.5,3\n")
    by_name, by_index, by_negative = load_csv(path, target="y"), load_csv(path, target=0), load_csv(path, target=-3)
    for data in (by_name, by_index, by_negative):
        assert data.tensors[1].array.tolist() == [1, 0]
        np.testing.assert_array_equal(data.tensors[0].array, [[0.5, 2], [1.5, 3]])
        assert data.class_names is None  # whole numbers >= 0 are the class ids themselves


def test_csv_without_header_semicolons_and_blank_lines(tmp_path):
    path = write(tmp_path, "raw.csv", "1;2;3\n\n4;5;6\n")
    data = load_csv(path, target=-1, header=False, delimiter=";")
    np.testing.assert_array_equal(data.tensors[0].array, [[1, 2], [4, 5]])
    assert data.tensors[1].array.tolist() == [3, 6] and data.feature_names is None


def test_csv_cells_may_have_spaces_around_them(tmp_path):
    data = load_csv(write(tmp_path, "s.csv", " a , b ,label\n 1 , 2.5 , cat \n3,4,dog\n"))
    np.testing.assert_array_equal(data.tensors[0].array, [[1, 2.5], [3, 4]])
    assert data.feature_names == ["a", "b"] and data.class_names == ["cat", "dog"]
    with pytest.raises(ValueError, match=r"line 2, column 2 'b' \(index 1 in code\): missing value \(empty cell\)"):
        load_csv(write(tmp_path, "m.csv", "a,b,label\n1,   ,0\n"))


def test_csv_regression_targets_and_negative_class_labels(tmp_path):
    path = write(tmp_path, "r.csv", "x,label\n1,0.5\n2,1.25\n")
    y = load_csv(path).tensors[1]
    assert y.dtype == np.float32 and y.shape == (2, 1) and y.array[:, 0].tolist() == [0.5, 1.25]
    whole = load_csv(write(tmp_path, "w.csv", "x,label\n1,3\n2,5\n"), task="regression").tensors[1]
    assert whole.dtype == np.float32 and whole.array[:, 0].tolist() == [3.0, 5.0]
    signs = load_csv(write(tmp_path, "s.csv", "x,label\n1,-1\n2,1\n3,-1\n"))
    assert signs.tensors[1].array.tolist() == [0, 1, 0] and signs.class_names == ["-1", "1"]
    with pytest.raises(ValueError, match="task='classification' but the target column 'label' holds fractional"):
        load_csv(path, task="classification")


@given(values=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                         elements=st.floats(-1e6, 1e6, width=32)))
def test_csv_round_trips_float32_tables(tmp_path_factory, values):
    labels = np.arange(len(values)) % 3
    lines = [",".join([*(f"c{k}" for k in range(values.shape[1])), "label"])]
    lines += [",".join([*(repr(float(v)) for v in row), str(label)]) for row, label in zip(values, labels)]
    path = write(tmp_path_factory.mktemp("csv"), "t.csv", "\n".join(lines) + "\n")
    X, y = load_csv(path).tensors
    np.testing.assert_array_equal(X.array, values)
    np.testing.assert_array_equal(y.array, labels)


@pytest.mark.parametrize("text, message", [
    ("a,b,label\n1,2,0\n3,,1\n", r"line 3, column 2 'b' \(index 1 in code\): missing value \(empty cell\)"),
    ("a,b,label\n1,2,0\n3,NA,1\n", r"line 3, column 2 'b' \(index 1 in code\): missing value \('NA'\)"),
    ("a,b,label\n1,2,0\n3,4,\n", r"line 3, target column 3 'label' \(index 2 in code\): missing value"),
    ("a,b,label\n1,2,0\n3,abc,1\n", r"line 3, column 2 'b' \(index 1 in code\): 'abc' is not a number"),
    ("a,b,label\n1,nan,0\n", r"line 2, column 2 'b' \(index 1 in code\): missing value \('nan'\)"),
    ("a,b,label\n1,inf,0\n", r"line 2, column 2 'b' \(index 1 in code\): 'inf' is not a finite number"),
    ("a,b,label\n1,2,0\n3,4\n", r"line 3: 2 cells, but the header \(line 1\) has 3; every row needs the same"),
    ("a,b,label\n1,2,0\n3,4,5,6\n", r"line 3: 4 cells, but the header \(line 1\) has 3"),
    ("a,b,c\n1,2,0\n", r"the header has no column named 'label'; its columns are: a, b, c; pass target="),
    ("", r"the file is empty"),
    ("\n\n", r"the file is empty"),
    ("a,b,label\n", r"there is a header \(line 1\) but no data rows"),
    ("label\n1\n", r"the only column is the target 'label'; there are no inputs"),
])
def test_csv_errors_name_the_file_line_and_column(tmp_path, text, message):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(ValueError, match=message) as caught:
        load_csv(path)
    assert str(path) in str(caught.value)


def test_csv_target_and_path_mistakes(tmp_path):
    path = write(tmp_path, "d.csv", "a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"target column index 5 is out of range; the file has 2 columns"):
        load_csv(path, target=5)
    with pytest.raises(ValueError, match="header=False means the columns have no names; give the target as a column"):
        load_csv(path, target="b", header=False)
    with pytest.raises(ValueError, match="task must be one of auto, classification, regression"):
        load_csv(path, target="b", task="clustering")
    with pytest.raises(FileNotFoundError, match=r"CSV file '.*nope.csv' does not exist \(looked at"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError, match="is a folder, not a file"):
        load_csv(tmp_path)


# --- IDX ------------------------------------------------------------------------------------

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding, written independently of the loader: magic, sizes, big-endian values."""
    header = struct.pack(">BBBB", 0, 0, IDX_CODES[array.dtype.type], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@given(array=hnp.arrays(st.sampled_from(list(IDX_CODES)), hnp.array_shapes(min_dims=1, max_dims=3, max_side=5)),
       compressed=st.booleans())
def test_idx_round_trip_every_type(tmp_path_factory, array, compressed):
    folder = tmp_path_factory.mktemp("idx")
    path = folder / ("a.idx.gz" if compressed else "a.idx")
    raw = idx_bytes(array)
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    loaded = load_idx(path)
    assert loaded.shape == array.shape and loaded.dtype == array.dtype and loaded.dtype.isnative
    assert loaded.tobytes() == array.tobytes()  # bit for bit, NaNs included


def test_idx_dataset_flattens_and_scales_images(tmp_path):
    images = np.arange(3 * 2 * 2, dtype=np.uint8).reshape(3, 2, 2) * 20
    labels = np.array([7, 0, 3], dtype=np.uint8)
    (tmp_path / "images.idx").write_bytes(idx_bytes(images))
    (tmp_path / "labels.idx.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    X, y = load_idx_dataset(tmp_path / "images.idx", tmp_path / "labels.idx.gz").tensors
    assert X.shape == (3, 4) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X.array, images.reshape(3, 4) / 255.0, rtol=1e-6)
    assert y.array.tolist() == [7, 0, 3]
    (tmp_path / "two.idx").write_bytes(idx_bytes(labels[:2]))
    with pytest.raises(ValueError, match="holds 3 images but .*two.idx holds 2 labels; they must match"):
        load_idx_dataset(tmp_path / "images.idx", tmp_path / "two.idx")
    with pytest.raises(ValueError, match=r"labels must be one number per image \(1 dimension\)"):
        load_idx_dataset(tmp_path / "images.idx", tmp_path / "images.idx")


@pytest.mark.parametrize("raw, message", [
    (b"\x01\x02\x08\x01\x00\x00\x00\x01\x05", "not an IDX file \\(bad magic number 01020801\\)"),
    (b"PK", "not an IDX file"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown IDX type code 0x07; known codes are 0x08, 0x09"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x02", "truncated IDX header: 2 dimension sizes need 8 bytes .* only 4"),
    (idx_bytes(np.zeros((2, 3), np.uint8))[:-1], r"IDX data truncated: shape \(2, 3\) of uint8 needs 6 bytes .* 5"),
    (idx_bytes(np.zeros(2, np.float32)) + b"\x00", "IDX data has extra bytes"),
])
def test_idx_errors(tmp_path, raw, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=message):
        load_idx(path)


def test_idx_bad_gzip_and_missing_file(tmp_path):
    truncated = tmp_path / "cut.idx.gz"
    truncated.write_bytes(gzip.compress(idx_bytes(np.zeros(100, np.uint8)))[:-10])
    with pytest.raises(ValueError, match="not a readable gzip file .* should be a gzip-compressed IDX file"):
        load_idx(truncated)
    plain = tmp_path / "plain.idx.gz"
    plain.write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(ValueError, match="not a readable gzip file"):
        load_idx(plain)
    with pytest.raises(FileNotFoundError, match="IDX file .* does not exist"):
        load_idx(tmp_path / "missing.idx")


def test_csv_features_for_prediction_with_or_without_a_header(tmp_path):
    from glassgrad.data import load_csv_features

    plain = load_csv_features(write(tmp_path, "p.csv", "1,2\n3,4\n"), feature_names=["a", "b"])
    np.testing.assert_array_equal(plain, [[1, 2], [3, 4]])  # no header: every column, in order
    assert plain.dtype == np.float32
    named = write(tmp_path, "n.csv", "label,b,a\ncat,2,1\ndog,4,3\n")
    np.testing.assert_array_equal(load_csv_features(named, feature_names=["a", "b"]), [[1, 2], [3, 4]])
    other = write(tmp_path, "o.csv", "x,y\n1,2\n")
    np.testing.assert_array_equal(load_csv_features(other, feature_names=["a", "b"]), [[1, 2]])
    with pytest.raises(ValueError, match=r"the header has no column named 'b', which the model takes as input"):
        load_csv_features(write(tmp_path, "m.csv", "a,c\n1,2\n"), feature_names=["a", "b"])
    with pytest.raises(ValueError, match=r"line 2, column 2 \(index 1 in code\): 'x' is not a number"):
        load_csv_features(write(tmp_path, "x.csv", "1,2\n3,x\n"))


def test_values_beyond_float32_are_refused_not_turned_into_inf(tmp_path):
    with pytest.raises(ValueError, match=r"line 2, column 2 'b' \(index 1 in code\): '1e39' is too large for float32"):
        load_csv(write(tmp_path, "big.csv", "a,b,label\n1,1e39,0\n"))
