"""Your own data from files: CSV tables and MNIST-style IDX files, checked cell by cell.

>>> import glassgrad as gg
>>> data = gg.data.load_csv("iris.csv", target="species")        # doctest: +SKIP
>>> data.class_names                                               # doctest: +SKIP
['setosa', 'versicolor', 'virginica']
>>> gg.data.load_idx_dataset("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")  # doctest: +SKIP
TensorDataset(60000 samples: (60000, 784) float32, (60000,) int64)

Every problem is reported with the file, the line and the column, so it can be fixed in
the file; nothing is silently turned into NaN. Sizes an IDX file declares are checked
against the file and a cap before anything is read.
"""

from __future__ import annotations

import csv
import gzip
import math
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..io import existing_file
from ..trace.counting import ordinal_with_code
from .dataset import TensorDataset

MISSING_MARKERS = {"", "na", "n/a", "nan", "null", "none", "?"}
"""Cells read as "no value here" (case-insensitive, after stripping spaces)."""
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
"""Separators a spreadsheet or script writes: a row with none of ``delimiter`` but one of these is refused."""
BOOLEANS = {"true", "false", "yes", "no"}
GZIP_MAGIC = b"\x1f\x8b"

TASKS = ("auto", "classification", "regression")
FLOAT32_MAX = float(np.finfo(np.float32).max)
"""Values are stored as float32: a cell beyond ±3.4e38 would silently become inf."""
EXACT_LABEL_LIMIT = 2**53
"""From here on a float64 no longer holds every whole number: 2**53 + 1 reads as 2**53. Class labels stay below."""


# --- CSV -----------------------------------------------------------------------------------


def _first_undecodable(path: Path) -> tuple[int, int]:
    """The line (counting from 1) and the value of the first byte of ``path`` that is not UTF-8."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return raw.count(b"\n", 0, error.start) + 1, raw[error.start]
    return 1, 0  # not reached: called only after a decoding error


def _read_rows(path: Path, header: bool | None, delimiter: str,
               known_names: Sequence[str] = ()) -> tuple[list[str], list[list[str]], list[int], bool]:
    """Column names, the data rows, their line numbers and whether there was a header row.

    Blank lines are skipped and ragged rows refused, as is a data row running over several lines
    (a quoted cell with a line break: a quote left open swallows the rows below it). A row's line
    is the one it starts on. Spaces before a quoted cell are skipped (``1, "2.5"``).
    ``header=None`` decides from the first row: it is a header when none of its cells is a number,
    or when it holds every one of ``known_names`` (a model's inputs, which may be named ``2020``).
    """
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise TypeError(f"delimiter must be one character other than a quote or a line break, such as ',', ';' "
                        f"or '\\t', got {delimiter!r}")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter, skipinitialspace=True)
        numbered: list[tuple[int, list[str]]] = []
        last_lines: dict[int, int] = {}  # first line → last line, for the rows that run over several
        start = 1
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    numbered.append((start, row))
                    if reader.line_num > start:
                        last_lines[start] = reader.line_num
                start = reader.line_num + 1
        except UnicodeDecodeError:
            with open(path, "rb") as raw:
                if raw.read(2) == GZIP_MAGIC:
                    raise ValueError(f"{path}: the file is gzip-compressed, not CSV text; decompress it first "
                                     "(gunzip, or open it in a spreadsheet and save as CSV)") from None
            line, byte = _first_undecodable(path)  # the reader decodes in blocks: its line_num lags behind
            raise ValueError(
                f"{path}, line {line}: the file is not UTF-8 text (byte 0x{byte:02x} is not UTF-8); save it as "
                "UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet, or iconv -f latin1 -t utf-8)") from None
        except csv.Error as error:
            line = reader.line_num
            if "field larger than field limit" in str(error):
                raise ValueError(f"{path}, line {line}: a cell is longer than {csv.field_size_limit()} characters "
                                 "(the CSV reader's limit); a table of numbers has no such cell: check that this "
                                 "is the right file and its quotes are balanced") from None
            raise ValueError(f"{path}, line {line}: not a readable CSV table ({error})") from None
    if not numbered:
        raise ValueError(f"{path}: the file is empty; expected {'a header row and ' if header else ''}rows of numbers")
    first_line, first = numbered[0]
    if len(first) == 1:
        _refuse_other_separator(path, first_line, first[0], delimiter)
    if header is None:
        header = all(_cell_problem(cell) is not None for cell in first) or (
            bool(known_names) and set(known_names) <= {cell.strip() for cell in first})
    names = [name.strip() for name in first] if header else [""] * len(first)  # no names: columns by number
    rows = numbered[1:] if header else numbered
    if not rows:
        raise ValueError(f"{path}: there is a header (line {first_line}) but no data rows below it")
    for line, row in rows:
        if line in last_lines:
            raise ValueError(
                f"{path}, line {line}: a quoted cell runs on to line {last_lines[line]}; a table's cells hold no "
                "line break, so a quote is left open here: close it where the cell ends (or remove it)")
        if len(row) != len(names):
            raise ValueError(
                f"{path}, line {line}: {len(row)} cells, but {'the header' if header else 'the first row'} "
                f"(line {first_line}) has {len(names)}; every row needs the same number of cells "
                f"(check for a missing or extra {delimiter!r})"
            )
    return names, [row for _, row in rows], [line for line, _ in rows], header


def _refuse_other_separator(path: Path, line: int, cell: str, delimiter: str) -> None:
    """Refuse a row that is one cell holding another separator: a semicolon- or tab-separated file read with commas."""
    for separator, word in SEPARATORS.items():
        if separator != delimiter and separator in cell:
            shown = cell if len(cell) <= 40 else cell[:40] + "…"
            raise ValueError(
                f"{path}, line {line}: the row {shown!r} has no {delimiter!r} between its values but "
                f"{cell.count(separator)} {word}(s): the file looks {word}-separated; read it with "
                f"delimiter={separator!r}" + (" or save it comma-separated (what glassgrad's commands read)"
                                             if separator != "," else ""))


def _column(k: int, names: list[str]) -> str:
    """Column ``k`` as a learner reads it, counting from 1 with its header name: ``column 2 'b' (index 1 in code)``."""
    return ordinal_with_code("column", k, names[k])


def _target_position(path: Path, names: list[str], target: str | int, header: bool) -> int:
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -len(names) <= target < len(names):
            raise ValueError(
                f"{path}: target column index {target} is out of range; the file has {len(names)} columns "
                f"(0 to {len(names) - 1}, or -1 for the last)"
            )
        return int(target) % len(names)
    if not header:
        raise ValueError(
            f"{path}: target={target!r} names a column, but header=False means the columns have no names; "
            "give the target as a column index, e.g. target=-1 for the last column"
        )
    matches = [k for k, name in enumerate(names) if name == target]
    if len(matches) != 1:
        problem = "has no column" if not matches else f"has {len(matches)} columns"
        raise ValueError(
            f"{path}: the header {problem} named {target!r}; its columns are: {', '.join(names)}; "
            "pass target=<column name> or a column index"
        )
    return matches[0]


def _cell_problem(cell: str) -> str | None:
    """Why ``cell`` is not a usable number, or None if it is one."""
    cell = cell.strip()
    if cell.lower() in MISSING_MARKERS:
        return f"missing value ({repr(cell) if cell else 'empty cell'}); fill it in or remove the row"
    value = _as_float(cell)
    if value is None:
        return f"{cell!r} is not a number{_number_hint(cell)}"
    if not np.isfinite(value):
        return f"{cell!r} is not a finite number; write a finite number or remove the row"
    return None if abs(value) <= FLOAT32_MAX else f"{cell!r} is too large for float32 (at most ±{FLOAT32_MAX:.3g})"


def _number_hint(cell: str) -> str:
    """How to write ``cell`` (not a number as written) as one, where a spreadsheet's format explains it."""
    if "," in cell:
        return ("; write numbers with a decimal point and no thousands separator (1234.5, not 1,234.5 or 1234,5), "
                "e.g. by saving with an English number format")
    if cell.endswith("%"):
        return "; write a percentage as a plain number (50% as 50 or 0.5)"
    if cell.lower() in BOOLEANS:
        return f"; write {cell!r} as 1 or 0"
    return ""


def _as_float(cell: str) -> float | None:
    """``cell`` as ``float`` reads it, finite or not (``inf``, ``1e999``), or None when it is text."""
    try:
        return float(cell)
    except ValueError:
        return None


def _numbers(path: Path, rows: list[list[str]], lines: list[int], columns: list[int], names: list[str]) -> np.ndarray:
    """The chosen columns as float64 (every value within float32's range), or a ValueError naming the first bad cell."""
    cells = [[row[k] for k in columns] for row in rows]
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        values = None  # some cell is not a number: find it below, to name it
    if values is None or not (np.abs(values) <= FLOAT32_MAX).all():  # NaN fails the test too
        for line, row in zip(lines, cells):
            for k, cell in zip(columns, row):
                problem = _cell_problem(cell)
                if problem:
                    raise ValueError(f"{path}, line {line}, {_column(k, names)}: {problem}")
        values = np.array([[float(cell) for cell in row] for row in cells])
    return values.reshape(len(rows), len(columns))


def _refuse_mixed_labels(path: Path, labels: list[str], values: list[float | None], lines: list[int],
                         column: str) -> None:
    """Refuse a target column of numbers and text mixed (``3, 1, x, 2``), naming the first cell of the fewer kind:
    read as text classes, every number would silently become a class name ('1', '3') and lose its id."""
    text = [k for k, value in enumerate(values) if value is None]
    if not text or len(text) == len(values):
        return
    numbers = len(values) - len(text)
    stray = text[0] if len(text) <= numbers else next(k for k, value in enumerate(values) if value is not None)
    kind, others = ("text", "numbers") if values[stray] is None else ("a number", "text")
    raise ValueError(f"{path}, line {lines[stray]}, target {column}: {labels[stray]!r} is {kind}, but "
                     f"{max(numbers, len(text))} of the {len(values)} labels are {others}; class labels must be all "
                     f"numbers or all text: correct this cell (or remove its row)")


def _class_ids(path: Path, labels: list[str], lines: list[int]) -> tuple[np.ndarray, list[str] | None]:
    """Class labels as int64 ids: whole numbers >= 0 stay as they are, anything else is numbered in sorted order."""
    try:
        numbers = np.array(labels, dtype=np.float64)
    except ValueError:
        numbers = None
    if numbers is None or not (np.isfinite(numbers) & (numbers == np.round(numbers))).all():
        names, ids = np.unique(np.array(labels), return_inverse=True)
        return ids.astype(np.int64), [str(name) for name in names]
    huge = np.flatnonzero(np.abs(numbers) >= EXACT_LABEL_LIMIT)
    if huge.size:
        first = int(huge[0])
        raise ValueError(f"{path}, line {lines[first]}: the class label {labels[first]!r} is too large to be a class "
                         f"(whole-number labels must be smaller than 2**53 in size); number the classes 0, 1, 2, … or "
                         "use task='regression' if it is a quantity to predict")
    if (numbers >= 0).all():
        return numbers.astype(np.int64), None
    values, ids = np.unique(numbers, return_inverse=True)
    return ids.astype(np.int64), [f"{value:g}" for value in values]


def load_csv(path: str | os.PathLike, target: str | int = "label", header: bool = True, delimiter: str = ",",
             task: str = "auto") -> TensorDataset:
    """A CSV table as a :class:`TensorDataset` ``(X, y)``: ``target`` picks the column to predict.

    * ``X``: every other column, float32 of shape (rows, columns − 1); ``feature_names``
      holds their header names.
    * ``y``: with ``task="classification"``, int64 class ids: text labels (``cat``, ``dog``)
      become 0, 1, … in sorted order, with the names kept in ``class_names``; whole numbers
      ≥ 0 are used as the ids themselves. With ``task="regression"``, float32 of shape
      (rows, 1). ``task="auto"`` chooses classification for text or whole-number targets and
      regression when some target has a fractional part.

    Every column needs a name in the header: an unnamed one is refused (pandas' ``to_csv``
    writes its row index as one, which would become an input), as is a first row of numbers
    only (data, which would be lost as column names). Blank lines are skipped. An empty cell
    (or NA, NaN, null, ?) is a missing value and is refused, as are text in a feature column
    (a decimal comma, a thousands separator, a percentage or true/false are named with the way
    to write them), a target that reads as a number but is not a finite float32 (``inf``,
    ``1e999``: no class name either), rows with the wrong number of cells, a file whose rows
    are one cell holding another separator (a semicolon- or tab-separated file read with
    ``delimiter=","``) and targets that name no column; each error says the file, the line
    and the column, both counting from 1 as a text editor and a spreadsheet do (``line 3,
    column 2 'b' (index 1 in code)``).
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    path = existing_file(path, "CSV file")
    names, rows, lines, _ = _read_rows(path, header, delimiter)
    if header and all(_cell_problem(name) is None for name in names):  # its first row would be lost as names
        raise ValueError(f"{path}: the first row, {', '.join(names[:4])}{', …' if len(names) > 4 else ''}, is all "
                         "numbers, so it is data, not a header naming the columns; add a header row (e.g. x1,x2,label)"
                         " or pass load_csv(..., header=False) with target as a column index")
    if header and "" in names:  # pandas' index (df.to_csv()) or a spreadsheet's row numbers would become an input
        raise ValueError(f"{path}: the header gives {_column(names.index(''), names)} no name; name it, or remove "
                         "the column if it only numbers the rows (pandas: df.to_csv(..., index=False))")
    target_column = _target_position(path, names, target, header)
    features = [k for k in range(len(names)) if k != target_column]
    if not features:
        raise ValueError(f"{path}: the only column is the target {names[target_column]!r}; there are no inputs: "
                         "add input columns, or check the delimiter")
    X = _numbers(path, rows, lines, features, names).astype(np.float32)
    labels = [row[target_column].strip() for row in rows]
    values = [_as_float(label) for label in labels]
    for line, label, value in zip(lines, labels, values):
        if label.lower() in MISSING_MARKERS or (value is not None and not math.isfinite(value)):  # inf: no class
            raise ValueError(f"{path}, line {line}, target {_column(target_column, names)}: {_cell_problem(label)}")
    if task != "regression":  # a regression target's text cell is named by _numbers, below
        _refuse_mixed_labels(path, labels, values, lines, _column(target_column, names))
    numeric = all(value is not None for value in values)  # 1e300 too: refused below, as a class or a quantity
    fractional = numeric and not all(value.is_integer() for value in values)
    if task == "regression" or (task == "auto" and fractional):
        y, class_names = _numbers(path, rows, lines, [target_column], names).astype(np.float32), None
    elif fractional:
        raise ValueError(f"{path}: task='classification' but the target column {names[target_column]!r} "
                         "holds fractional numbers; class labels must be whole numbers or text")
    else:
        y, class_names = _class_ids(path, labels, lines)
    return TensorDataset(X, y, feature_names=[names[k] for k in features] if header else None,
                         class_names=class_names)


def load_csv_features(path: str | os.PathLike, feature_names: Sequence[str] | None = None,
                      delimiter: str = ",") -> np.ndarray:
    """Input rows for a trained model from a CSV file, with or without a header row: float32 (rows, columns).

    The first row is a header when none of its cells is a number, or when it names every one of
    ``feature_names`` (a header such as ``x,2020``). When the header holds
    ``feature_names`` (the model's inputs, as :func:`load_csv` named them in training), those
    columns are taken in that order, so the file may also hold the target or other columns,
    in any order; otherwise every column is taken as it stands. Cells are checked as in
    :func:`load_csv`: a missing or non-numeric cell is refused with its line and column.
    """
    path = existing_file(path, "CSV file")
    names, rows, lines, has_header = _read_rows(path, None, delimiter, feature_names or ())
    columns = list(range(len(names)))
    if has_header and feature_names:
        missing = [name for name in feature_names if name not in names]
        if len(missing) < len(feature_names):  # the header names the inputs: pick them by name
            if missing:
                raise ValueError(f"{path}: the header has no column named {', '.join(map(repr, missing))}, "
                                 f"which the model takes as input; its columns are: {', '.join(names)}")
            columns = columns_by_name(path, names, feature_names)
    return _numbers(path, rows, lines, columns, names).astype(np.float32)


def columns_by_name(source: str | os.PathLike, names: Sequence[str], wanted: Sequence[str]) -> list[int]:
    """The positions in ``names`` (a file's header) of the columns ``wanted`` (a model's inputs), in that order.

    The same header as ``wanted`` gives every column as it stands. Otherwise a wanted name that the header
    repeats is refused (ValueError naming ``source``): picking its first copy twice would feed the model the
    wrong numbers without a word.
    """
    names, wanted = list(names), list(wanted)
    if names == wanted:
        return list(range(len(names)))
    repeated = sorted({name for name in wanted if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{source}: the header names {', '.join(map(repr, repeated))} more than once, so the "
                         "model's inputs cannot be picked by name; give each column its own name")
    return [names.index(name) for name in wanted]


# --- IDX (the MNIST file format) -------------------------------------------------------------

IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type codes: unsigned byte, signed byte, short, int, float, double (all big-endian)."""


MAX_IDX_BYTES = 2**30
"""``load_idx`` refuses files that declare more bytes of values than this (1 GiB) unless given ``max_bytes=``."""
MAX_DEFLATE_RATIO = 1032
"""Deflate (gzip's compression) turns one byte into at most 1032: a bound on what a .gz file can expand to."""
READ_CHUNK = 1 << 20
MAX_IDX_DIMS = 32
"""The most dimensions an IDX header may declare: NumPy's arrays hold at most 32 (64 from NumPy 2 on)."""


def _idx_problem(path: Path, problem: str) -> ValueError:
    return ValueError(f"{path}: {problem}")


def _read_into(handle, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``handle`` chunk by chunk; return how many bytes arrived (fewer at the end of the file)."""
    filled = 0
    while filled < len(buffer):
        count = handle.readinto(buffer[filled:filled + READ_CHUNK])
        if not count:
            break
        filled += count
    return filled


def _read_idx(path: Path, handle, compressed: bool, max_bytes: int) -> np.ndarray:
    """The values of an open IDX file, read after its header's sizes are checked (never more than they declare)."""
    magic = handle.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
        raise _idx_problem(path, f"not an IDX file (bad magic number {magic.hex() or 'missing'}); an IDX file "
                                 "starts with two zero bytes, a type code and the number of dimensions")
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{k:02X}" for k in IDX_DTYPES)
        raise _idx_problem(path, f"unknown IDX type code 0x{code:02X}; known codes are {known}")
    if ndim > MAX_IDX_DIMS:
        raise _idx_problem(path, f"the IDX header declares {ndim} dimensions, more than the {MAX_IDX_DIMS} an array "
                                 "can have: the file is damaged or not an IDX file (MNIST's images have 3, labels 1)")
    sizes = handle.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise _idx_problem(path, f"truncated IDX header: {ndim} dimension sizes need {4 * ndim} bytes after the "
                                 f"magic number, but only {len(sizes)} are there")
    shape = tuple(int(n) for n in np.frombuffer(sizes, dtype=">u4"))
    dtype = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # a Python int: no overflow, however large the sizes
    declared = f"shape {shape} of {dtype.name} needs {expected} bytes of values"
    if expected > max_bytes:
        raise _idx_problem(path, f"IDX header declares {declared}, more than the {max_bytes} this reader accepts; "
                                 f"if the file is right, pass load_idx(..., max_bytes={expected})")
    stored = path.stat().st_size
    if compressed and expected > MAX_DEFLATE_RATIO * stored:
        raise _idx_problem(path, f"IDX header declares {declared}, but a {stored}-byte gzip file expands to at "
                                 f"most {MAX_DEFLATE_RATIO * stored}: the file is truncated or corrupted")
    if not compressed and stored - 4 - 4 * ndim != expected:
        found = stored - 4 - 4 * ndim
        problem = "truncated" if found < expected else "has extra bytes"
        raise _idx_problem(path, f"IDX data {problem}: {declared} but the file holds {found}")
    values = np.empty(expected, dtype=np.uint8)
    found = _read_into(handle, memoryview(values))
    if found < expected:
        raise _idx_problem(path, f"IDX data truncated: {declared} but the file holds {found}")
    if handle.read(1):
        raise _idx_problem(path, f"IDX data has extra bytes: {declared} and more follow")
    return values.view(dtype).reshape(shape)


def load_idx(path: str | os.PathLike, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """The array stored in an IDX file (MNIST's format); gzip-compressed when the name ends in ``.gz``.

    Layout: two zero bytes, a type code (0x08 unsigned byte … 0x0E double), the number of
    dimensions d, then d sizes as big-endian 32-bit integers, then the values, big-endian,
    row by row. Returns an array in the machine's byte order with shape (size₁, …, size_d).

    The declared size (size₁ × … × size_d × bytes per value) is checked before reading: at
    most ``max_bytes`` (1 GiB by default), exactly the file's size, or for a ``.gz`` file no
    more than it can expand to; the values are then read into one array, chunk by chunk.
    """
    path = existing_file(path, "IDX file")
    if not path.name.endswith(".gz"):
        with open(path, "rb") as handle:
            values = _read_idx(path, handle, False, max_bytes)
    else:
        try:
            with gzip.open(path, "rb") as handle:
                values = _read_idx(path, handle, True, max_bytes)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{path}: not a readable gzip file ({error}); the name ends in .gz, "
                             "so it should be a gzip-compressed IDX file") from None
    if not values.dtype.isnative:  # swapped in place: no second copy of a large file
        values = values.byteswap(inplace=True).view(values.dtype.newbyteorder("="))
    return values


def load_idx_dataset(images_path: str | os.PathLike, labels_path: str | os.PathLike) -> TensorDataset:
    """MNIST-style images and labels as a :class:`TensorDataset` ``(X, y)``.

    Each image is flattened to one row (28×28 → 784); unsigned-byte pixels are scaled to
    [0, 1] (pixel / 255), other types are converted to float32 as they are. Labels become int64.
    Refused, naming the image or label (counting from 1): a negative label, and a float value
    that is NaN, ±inf or beyond float32's range.
    """
    images = load_idx(images_path)
    labels = load_idx(labels_path)
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: labels must be one number per image (1 dimension), got shape {labels.shape}")
    if images.ndim < 1 or len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images) if images.ndim else 0} images but {labels_path} holds "
                         f"{len(labels)} labels; they must match one to one")
    if labels.dtype.kind == "f":
        raise ValueError(f"{labels_path}: labels must be whole numbers, but the file stores {labels.dtype.name}")
    negative = np.flatnonzero(labels < 0)
    if negative.size:
        first = int(negative[0])
        raise ValueError(f"{labels_path}: {ordinal_with_code('label', first)} is {labels[first]}; class labels are "
                         "numbers 0, 1, 2, … (a negative one picks no class): renumber the classes from 0")
    X = images.reshape(len(images), -1)
    if X.dtype.kind == "f":  # NaN, ±inf or beyond float32 would reach training without a word
        bad = np.flatnonzero(~(np.abs(X) <= FLOAT32_MAX).all(axis=1))
        if bad.size:
            first = int(bad[0])
            value = X[first][~(np.abs(X[first]) <= FLOAT32_MAX)][0]
            raise ValueError(f"{images_path}: {ordinal_with_code('image', first)} holds {value}, not a finite "
                             f"float32 number (at most ±{FLOAT32_MAX:.3g}); fix or remove that image")
    X = X.astype(np.float32)
    if images.dtype == np.uint8:
        X /= 255.0
    return TensorDataset(X, labels.astype(np.int64))
