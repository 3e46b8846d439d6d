"""Round 96: the CSV and IDX files a learner brings, as spreadsheets and scripts write them.

The oracle is Python's ``csv`` module and NumPy, used here independently of glassgrad's reader:
a drawn table (a UTF-8 BOM, CRLF / lone CR / LF line ends, a missing final newline, blank lines,
quoted cells, spaces around values and names, numbers written ``1e-3``, ``.5``, ``+2``, ``3.0``;
the target first, last or in the middle, by name or by index, negative too; labels as text, as
whole numbers that skip values, or as fractions) must load to the oracle's arrays exactly.

Defects found and fixed (each test below failed on 03e12ab):

* a target cell ``inf`` became a class named 'inf' (``1, inf`` → two classes; ``1.5, inf`` →
  classification instead of regression), and ``1e300`` beside ``1.5`` turned the whole column
  into text classes; a target that reads as a number must be a finite one;
* a semicolon- or tab-separated file read with the default comma gave "the header has no column
  named 'label'; its columns are: a;b;label" (or "the only column is the target 'a;b;label'"):
  now it names the separator and the fix;
* ``delimiter=""``, ``"\\n"`` or ``'"'``: csv's own words, or the whole row read as one cell;
* a headerless file read with ``target=-1`` (or ``train --target -1``) lost its first row as the names;
* an unnamed header column (pandas' ``df.to_csv()`` writes its index so) became an input named '';
* a gzip'd CSV named .csv was called "not UTF-8 text (byte 0x8b…)", the fix offered being iconv;
* cells such as ``1,5`` (a decimal comma), ``1,234``, ``50%``, ``true`` were "not a number" with no
  way out named, and an empty cell gave no fix at all;
* positions counted columns from 0 ("column 'b' (column 1)" for the second column) where the
  README's "Counting positions" counts from 1: now "column 2 'b' (index 1 in code)";
* a quote left open (``1,"cat``) swallowed every row below it into one cell (one sample of
  class 'cat\\n2,dog\\n…'), and ``1, "2.5"`` (a space before a quoted cell) was not a number;
* ``predict --input`` with the training header ``x,2020`` read the header as data ("'x' is not a number");
* ``glassgrad train --target ²`` answered "invalid literal for int() with base 10: '²'";
* IDX: a header declaring 255 dimensions gave NumPy's "maximum supported dimension…" without the
  file; NaN, ±inf or 1e300 float images went into the dataset (and training) without a word, and
  negative labels (a signed-byte file's 255 read as -1) were kept as class -1.
"""

from __future__ import annotations

import csv
import gzip
import io
import struct
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgrad.cli import main
from glassgrad.data import load_csv, load_csv_features, load_idx, load_idx_dataset


def write(folder, name: str, content: str | bytes):
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            handle.write(content)
    return path


def one_line_error(call, *args, **kwargs) -> str:
    with pytest.raises(ValueError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def refused(capsys, *argv) -> str:
    assert main([str(part) for part in argv]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    return err


# --- the oracle: csv + NumPy, written here ---------------------------------------------------


def oracle(text: str, target) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (float32), labels as the spec says, and feature names, read with csv and NumPy alone."""
    if text.startswith("\ufeff"):
        text = text[1:]
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]
    rows = [row for row in rows if any(row)]
    names, body = rows[0], rows[1:]
    column = names.index(target) if isinstance(target, str) else target % len(names)
    features = [k for k in range(len(names)) if k != column]
    X = np.array([[float(row[k]) for k in features] for row in body], dtype=np.float64).astype(np.float32)
    labels = [row[column] for row in body]
    try:
        numbers = np.array([float(label) for label in labels])
    except ValueError:
        classes = sorted(set(labels))
        return X, np.array([classes.index(label) for label in labels]), [names[k] for k in features]
    if (numbers == np.round(numbers)).all() and (numbers >= 0).all():
        return X, numbers.astype(np.int64), [names[k] for k in features]
    return X, numbers.astype(np.float32).reshape(-1, 1), [names[k] for k in features]


NUMBER_STYLES = (
    lambda v: repr(v),
    lambda v: f"{v:.6e}",
    lambda v: f"{v:+g}",
    lambda v: f"{v:g}".replace("0.", ".", 1) if f"{v:g}".startswith("0.") else f"{v:g}",
    lambda v: f'"{v!r}"',
    lambda v: f"  {v!r} ",
)


@st.composite
def tables(draw):
    n_rows = draw(st.integers(1, 6))
    n_features = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["text", "whole", "fraction"]))
    values = draw(st.lists(st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=n_features,
                                    max_size=n_features), min_size=n_rows, max_size=n_rows))
    if kind == "text":
        labels = draw(st.lists(st.sampled_from(["cat", "dog", "Bird", "x y"]), min_size=n_rows, max_size=n_rows))
    elif kind == "whole":
        labels = [str(n) for n in draw(st.lists(st.sampled_from([0, 2, 5, 7]), min_size=n_rows, max_size=n_rows))]
        labels = [label + draw(st.sampled_from(["", ".0"])) for label in labels]
    else:
        labels = [repr(x + 0.5) for x in draw(st.lists(st.integers(-9, 9), min_size=n_rows, max_size=n_rows))]
    position = draw(st.integers(0, n_features))
    names = [f"f{k}" for k in range(n_features)]
    names.insert(position, "label")
    rows = []
    for row, label in zip(values, labels):
        cells = [draw(st.sampled_from(NUMBER_STYLES))(float(v)) for v in row]
        cells.insert(position, label)
        rows.append(",".join(cells))
    header = ",".join(draw(st.sampled_from(["{}", " {} ", '"{}"'])).format(name) for name in names)
    lines = [header, *rows]
    for _ in range(draw(st.integers(0, 2))):  # blank lines, anywhere after the header
        lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(["", "  "])))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = end.join(lines) + draw(st.sampled_from([end, ""]))
    if draw(st.booleans()):
        text = "\ufeff" + text
    target = draw(st.sampled_from(["label", position, position - n_features - 1]))
    return text, target, position, end


def check_against_oracle(folder, text: str, target) -> None:
    path = write(folder, "drawn.csv", text)
    data = load_csv(path, target=target)
    X, y = (t.array for t in data.tensors)
    want_X, want_y, want_names = oracle(text, target)
    np.testing.assert_array_equal(X, want_X)
    assert X.dtype == np.float32 and data.feature_names == want_names
    np.testing.assert_array_equal(y, want_y)
    assert y.dtype == want_y.dtype


@settings(max_examples=60, deadline=None)
@given(tables())
def test_drawn_spreadsheet_csvs_load_as_csv_and_numpy_read_them(tmp_path_factory, table):
    """Every drawn table loads to the oracle's X, y and names, bit for bit: no row dropped, no cell changed."""
    check_against_oracle(tmp_path_factory.mktemp("drawn"), *table[:2])


BAD_CELLS = ("", "NA", "nan", "abc", '"1,5"', "50%", "inf", "-inf", "1e39", "true")


@settings(max_examples=40, deadline=None)
@given(tables(), st.data())
def test_a_bad_cell_anywhere_is_named_by_its_line_and_column(tmp_path_factory, table, data):
    """One feature cell of a drawn table spoiled: the error names the line an editor shows and the column a
    spreadsheet shows (counting from 1, whatever the line ends, blank lines or BOM), never a NaN or a dropped row."""
    text, target, position, end = table
    lines = text.split(end)
    rows = [k for k, line in enumerate(lines) if line.strip() and k > 0]
    row = data.draw(st.sampled_from(rows))
    cells = lines[row].split(",")
    column = data.draw(st.sampled_from([k for k in range(len(cells)) if k != position]))
    cells[column] = data.draw(st.sampled_from(BAD_CELLS))
    lines[row] = ",".join(cells)
    path = write(tmp_path_factory.mktemp("bad"), "bad.csv", end.join(lines))
    message = one_line_error(load_csv, path, target=target)
    assert f"{path}, line {row + 1}, column {column + 1} 'f" in message and f"(index {column} in code): " in message


@pytest.mark.parametrize("text, target", [
    ("\ufeffa,label\r\n1,cat\r\n2,dog\r\n", "label"),
    ("label,a,b\r1.5,.5,+2\r2.5,1e-3,-3\r", 0),
    ("a, label ,b\n\n1,0,2\n\n3,2,4\n4,5,6\n\n\n", -2),
    ('"a","label"\n"1.5","1.0"\n"2","0.0"', "label"),
])
def test_pinned_spreadsheet_shapes_load_as_the_oracle_reads_them(tmp_path, text, target):
    check_against_oracle(tmp_path, text, target)


# --- targets that read as numbers ----------------------------------------------------------


@pytest.mark.parametrize("content, line", [
    ("a,label\n1,inf\n2,1\n", 2),
    ("a,label\n1,1.5\n2,-inf\n", 3),
    ("a,label\n1,0\n2,Infinity\n", 3),
])
def test_an_infinite_target_is_refused_not_made_a_class(tmp_path, content, line):
    """Before: 'inf' became a class name ('1', 'inf'), and beside 1.5 it made a regression target a classification."""
    path = write(tmp_path, "t.csv", content)
    message = one_line_error(load_csv, path)
    assert f"{path}, line {line}, target column 2 'label' (index 1 in code)" in message
    assert "not a finite number" in message and "write a finite number or remove the row" in message


def test_a_huge_fractional_target_is_refused_as_a_quantity_not_read_as_text(tmp_path):
    """Before: 1e300 beside 1.5 made the column text classes ['1.5', '1e300'] without a word."""
    path = write(tmp_path, "big.csv", "a,label\n1,1.5\n2,1e300\n")
    message = one_line_error(load_csv, path)
    assert f"{path}, line 3, column 2 'label' (index 1 in code): '1e300' is too large for float32" in message


def test_text_labels_whole_labels_that_skip_and_integer_looking_floats(tmp_path):
    text = load_csv(write(tmp_path, "t.csv", "a,label\n1,dog\n2,cat\n3,dog\n"))
    assert text.tensors[1].array.tolist() == [1, 0, 1] and text.class_names == ["cat", "dog"]
    skipping = load_csv(write(tmp_path, "s.csv", "a,label\n1,0\n2,2\n3,5\n"))
    assert skipping.tensors[1].array.tolist() == [0, 2, 5] and skipping.class_names is None
    floats = load_csv(write(tmp_path, "f.csv", "a,label\n1,1.0\n2,0.0\n3,2.0\n"))
    assert floats.tensors[1].dtype == np.int64 and floats.tensors[1].array.tolist() == [1, 0, 2]
    booleans = load_csv(write(tmp_path, "b.csv", "a,label\n1,true\n2,false\n"))
    assert booleans.tensors[1].array.tolist() == [1, 0] and booleans.class_names == ["false", "true"]


# --- the separator ----------------------------------------------------------------------------


@pytest.mark.parametrize("content, word, separator", [
    ("a;b;label\n1;2;0\n3;4;1\n", "semicolon", ";"),
    ("a;label\n1,5;0\n2;1\n", "semicolon", ";"),
    ("a\tb\tlabel\n1\t2\t0\n3\t4\t1\n", "tab", "\t"),
])
@pytest.mark.parametrize("target", ["label", -1])
def test_a_file_with_another_separator_names_it_and_the_fix(tmp_path, content, word, separator, target):
    """Before: "the header has no column named 'label'; its columns are: a;b;label" (or, by index, "the only
    column is the target 'a;b;label'"): nothing said the file uses another separator."""
    path = write(tmp_path, "s.csv", content)
    message = one_line_error(load_csv, path, target=target)
    assert f"{path}, line 1:" in message and f"the file looks {word}-separated" in message
    assert f"delimiter={separator!r}" in message and "save it comma-separated" in message


def test_semicolon_and_tab_files_read_with_their_delimiter(tmp_path):
    semi = load_csv(write(tmp_path, "s.csv", "a;b;label\n1.5;2;0\n3;4;1\n"), delimiter=";")
    assert semi.tensors[0].array.tolist() == [[1.5, 2], [3, 4]] and semi.feature_names == ["a", "b"]
    tab = load_csv(write(tmp_path, "t.csv", "a\tlabel\n1\tcat\n2\tdog\n"), delimiter="\t")
    assert tab.tensors[0].array.tolist() == [[1], [2]] and tab.class_names == ["cat", "dog"]
    comma = write(tmp_path, "c.csv", "a,label\n1,0\n")
    assert "looks comma-separated; read it with delimiter=','" in one_line_error(load_csv, comma, delimiter=";")


@pytest.mark.parametrize("delimiter", ["", ";;", "\n", '"', None])
def test_a_delimiter_that_cannot_separate_cells_is_refused_naming_good_ones(tmp_path, delimiter):
    """Before: csv's '"delimiter" must be a 1-character string', and '\\n' or '"' read the table as one column."""
    path = write(tmp_path, "c.csv", "a,label\n1,0\n")
    with pytest.raises(TypeError, match="delimiter must be one character other than a quote or a line break, such as"):
        load_csv(path, delimiter=delimiter)


def test_the_command_line_names_the_separator(capsys, tmp_path):
    path = write(tmp_path, "s.csv", "a;b;label\n" + "1;2;0\n3;4;1\n" * 5)
    err = refused(capsys, "train", "--data", path, "--epochs", "1")
    assert "looks semicolon-separated" in err and "save it comma-separated" in err


# --- cells a spreadsheet writes -----------------------------------------------------------------


@pytest.mark.parametrize("cell, fix", [
    ('"1,5"', "decimal point and no thousands separator"),
    ('"1,234"', "decimal point and no thousands separator"),
    ("50%", "write a percentage as a plain number (50% as 50 or 0.5)"),
    ("true", "write 'true' as 1 or 0"),
    ("", "missing value (empty cell); fill it in or remove the row"),
])
def test_a_spreadsheet_cell_that_is_not_a_number_names_the_fix(tmp_path, cell, fix):
    path = write(tmp_path, "c.csv", f"a,b,label\n1,2,0\n3,{cell},1\n")
    message = one_line_error(load_csv, path)
    assert f"{path}, line 3, column 2 'b' (index 1 in code):" in message and fix in message


def test_columns_count_from_1_with_and_without_a_header(tmp_path):
    """README "Counting positions": a learner's column 1 is the first; the code's index is shown beside it."""
    headed = write(tmp_path, "h.csv", "a,b,c,label\n1,2,x,0\n")
    assert "line 2, column 3 'c' (index 2 in code): 'x' is not a number" in one_line_error(load_csv, headed)
    bare = write(tmp_path, "n.csv", "1,2,0\n1,x,1\n")
    message = one_line_error(load_csv, bare, target=-1, header=False)
    assert "line 2, column 2 (index 1 in code): 'x' is not a number" in message
    features = write(tmp_path, "f.csv", "a,b\n1,2\n\n3,\n")
    assert "line 4, column 2 'b' (index 1 in code): missing value" in one_line_error(load_csv_features, features)


def test_line_numbers_count_lines_as_an_editor_does_whatever_the_line_ends(tmp_path):
    for end in ("\n", "\r\n", "\r"):
        path = write(tmp_path, "e.csv", end.join(["\ufeffa,label", "", "1,0", "", "x,1"]))
        assert "line 5, column 1 'a' (index 0 in code): 'x' is not a number" in one_line_error(load_csv, path)


def test_a_quote_left_open_is_refused_not_swallowing_the_rows_below(tmp_path):
    """Before: 1,"cat then three rows loaded as ONE sample of class 'cat\\n2,dog\\n3,cat\\n4,dog': rows lost."""
    path = write(tmp_path, "q.csv", 'a,label\n1,"cat\n2,dog\n3,cat\n4,dog\n')
    message = one_line_error(load_csv, path)
    assert f"{path}, line 2: a quoted cell runs on to line 5" in message and "close it where the cell ends" in message
    inner = write(tmp_path, "i.csv", 'a,label\n1,cat\n2,"dog\nhouse"\n3,cat\n')
    assert f"{inner}, line 3: a quoted cell runs on to line 4" in one_line_error(load_csv, inner)


def test_spaces_before_a_quoted_cell_are_skipped(tmp_path):
    """Before: 1, "2.5" was the cell ' "2.5"', refused as '"2.5"' is not a number."""
    data = load_csv(write(tmp_path, "s.csv", 'a, b ,label\n1, "2.5", "cat"\n2, "-1e-3" ,dog\n'))
    np.testing.assert_array_equal(data.tensors[0].array, np.float32([[1, 2.5], [2, -1e-3]]))
    assert data.class_names == ["cat", "dog"] and data.feature_names == ["a", "b"]


def test_a_header_with_a_number_like_name_is_a_header_for_the_models_inputs(tmp_path):
    """Before: trained on columns 'x, 2020', predict --input with that very header read it as data: "'x' is not a
    number" (a header was a row with no number in it)."""
    path = write(tmp_path, "p.csv", "2020,label,x\n2,0,1\n4,1,3\n")
    np.testing.assert_array_equal(load_csv_features(path, ["x", "2020"]), np.float32([[1, 2], [3, 4]]))
    bare = write(tmp_path, "b.csv", "1,2\n3,4\n")
    np.testing.assert_array_equal(load_csv_features(bare, ["x", "2020"]), np.float32([[1, 2], [3, 4]]))


def test_an_unnamed_column_such_as_pandas_index_is_refused_not_made_an_input(tmp_path):
    """Before: df.to_csv()'s header ',a,label' trained on the row number 0, 1, 2, … as an input named ''."""
    path = write(tmp_path, "pd.csv", ",a,label\n0,1.5,0\n1,2.5,1\n")
    message = one_line_error(load_csv, path)
    assert f"{path}: the header gives column 1 (index 0 in code) no name" in message and "index=False" in message


def test_a_first_row_of_numbers_is_not_taken_as_the_header(tmp_path, capsys):
    """Before: a file without a header, read with target=-1, lost its first row as the names '1', '2', '0'."""
    path = write(tmp_path, "bare.csv", "1,2,0\n3,4,1\n5,6,0\n")
    message = one_line_error(load_csv, path, target=-1)
    assert f"{path}: the first row, 1, 2, 0, is all numbers, so it is data, not a header" in message
    assert "header=False" in message
    assert len(load_csv(path, target=-1, header=False)) == 3
    err = refused(capsys, "train", "--data", path, "--target", "-1", "--epochs", "1")
    assert "is all numbers, so it is data" in err


# --- files that are not CSV text ------------------------------------------------------------------


def test_a_gzipped_csv_named_csv_is_named_as_compressed(tmp_path):
    """Before: "not UTF-8 text (byte 0x8b is not UTF-8); save it as UTF-8 … iconv": the wrong fix."""
    path = write(tmp_path, "data.csv", gzip.compress(b"a,label\n1,0\n2,1\n"))
    message = one_line_error(load_csv, path)
    assert f"{path}: the file is gzip-compressed" in message and "decompress it first" in message


@pytest.mark.parametrize("content, expected", [
    ("", "the file is empty"),
    ("\n\n  \n", "the file is empty"),
    ("a,label\n", "there is a header (line 1) but no data rows below it"),
    ("label\n1\n2\n", "the only column is the target 'label'; there are no inputs"),
    (b"a,label\n1,caf\xe9\n", "line 2: the file is not UTF-8 text (byte 0xe9"),
])
def test_empty_header_only_single_column_and_latin1_files(tmp_path, content, expected):
    path = write(tmp_path, "e.csv", content)
    assert expected in one_line_error(load_csv, path)


def test_a_folder_named_csv_is_refused_in_one_line(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(FileNotFoundError, match="is a folder, not a file"):
        load_csv(folder)


def test_train_target_that_is_not_an_ascii_number_is_a_column_name(capsys, tmp_path):
    """Before: --target ² passed str.isdigit and died in int(): "invalid literal for int() with base 10"."""
    path = write(tmp_path, "d.csv", "a,b,label\n" + "1,2,0\n3,4,1\n" * 5)
    err = refused(capsys, "train", "--data", path, "--target", "²", "--epochs", "1")
    assert "the header has no column named '²'" in err and "invalid literal" not in err


# --- size: linear time --------------------------------------------------------------------------


def test_wide_and_long_files_load_in_linear_time(tmp_path):
    """10,000 columns × 10 rows and 100,000 rows × 3 columns, each within a few seconds (quadratic would not)."""
    rng = np.random.default_rng(0)
    for n, m in ((10, 10_000), (100_000, 3)):
        X = rng.integers(-999, 999, size=(n, m)) / 8
        lines = [",".join(f"f{k}" for k in range(m)) + ",label"]
        lines += [",".join(map(str, row.tolist())) + f",{k % 3}" for k, row in enumerate(X)]
        path = write(tmp_path, f"{n}x{m}.csv", "\n".join(lines) + "\n")
        start = time.perf_counter()
        data = load_csv(path)
        assert time.perf_counter() - start < 10
        np.testing.assert_array_equal(data.tensors[0].array, X.astype(np.float32))
        assert data.tensors[1].array.tolist() == [k % 3 for k in range(n)]


# --- IDX ----------------------------------------------------------------------------------------


def idx(code: int, shape: tuple[int, ...], body: bytes) -> bytes:
    return struct.pack(">BBBB", 0, 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape) + body


def test_an_idx_header_with_too_many_dimensions_names_the_file(tmp_path):
    """Before: NumPy's "maximum supported dimension for an ndarray is currently 64, found 255", no file named."""
    path = write(tmp_path, "x.idx", idx(0x08, (1,) * 255, b"\x01"))
    message = one_line_error(load_idx, path)
    assert f"{path}: the IDX header declares 255 dimensions" in message and "not an IDX file" in message


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1e300])
def test_non_finite_float_images_are_refused_naming_the_image(tmp_path, value):
    """Before: NaN, inf (and 1e300, which float32 makes inf) reached the dataset and training without a word."""
    images = write(tmp_path, "img.idx", idx(0x0E, (3, 2), struct.pack(">6d", 0, 1, 2, 3, value, 5)))
    labels = write(tmp_path, "lab.idx", idx(0x08, (3,), bytes([0, 1, 2])))
    message = one_line_error(load_idx_dataset, images, labels)
    assert f"{images}: image 3 (index 2 in code) holds" in message and "not a finite float32 number" in message


def test_negative_labels_are_refused_naming_the_label(tmp_path):
    """Before: a signed-byte label 0xFF was kept as class -1 (cross-entropy would pick the last class)."""
    images = write(tmp_path, "img.idx", idx(0x08, (3, 2), bytes(6)))
    labels = write(tmp_path, "lab.idx", idx(0x09, (3,), bytes([0, 255, 1])))
    message = one_line_error(load_idx_dataset, images, labels)
    assert f"{labels}: label 2 (index 1 in code) is -1" in message and "renumber the classes from 0" in message


@pytest.mark.parametrize("content, expected", [
    (idx(0x08, (3, 2, 2), bytes(5)), "IDX data truncated"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
    (b"\x01\x00\x08\x01" + bytes(5), "not an IDX file (bad magic number"),
    (b"", "bad magic number missing"),
    (idx(0x07, (1,), b"\x00"), "unknown IDX type code 0x07"),
    (idx(0x08, (2**32 - 1,) * 4, b""), "more than the 1073741824 this reader accepts"),
])
def test_damaged_idx_files_are_one_line(tmp_path, content, expected):
    path = write(tmp_path, "d.idx", content)
    assert expected in one_line_error(load_idx, path)


def test_idx_images_and_labels_that_do_not_match_are_refused(tmp_path):
    images = write(tmp_path, "img.idx", idx(0x08, (3, 2), bytes(6)))
    labels = write(tmp_path, "lab.idx", idx(0x08, (2,), bytes(2)))
    assert "holds 3 images but" in one_line_error(load_idx_dataset, images, labels)
    good = load_idx_dataset(images, write(tmp_path, "ok.idx", idx(0x08, (3,), bytes([0, 2, 5]))))
    assert good.tensors[1].array.tolist() == [0, 2, 5] and good.tensors[0].shape == (3, 2)
