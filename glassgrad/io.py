"""Saving and loading models: ``gg.save`` / ``gg.load`` in the safetensors format, never pickle.

>>> import glassgrad as gg
>>> model_state = {"weight": gg.tensor([[0.5, -1.0]]), "bias": gg.tensor([0.25])}
>>> checkpoint = {"model": model_state, "architecture": {"layers": [2, 1]}, "epoch": 3}
>>> gg.save(checkpoint, "model.safetensors")                 # doctest: +SKIP
>>> gg.load("model.safetensors")["architecture"]             # doctest: +SKIP
{'layers': [2, 1]}

What a file holds:

* every array (tensors of a state dict, an optimizer's buffers) as a safetensors tensor; a
  nested dict is flattened to dotted names, ``{"model": {"0.weight": W}}`` → ``model.0.weight``,
  so any safetensors reader sees a flat state dict;
* every other value (numbers, strings, lists, dicts such as the architecture or an
  optimizer's hyper-parameters) in the header's ``__metadata__``, which maps strings to
  strings: ``"format": "glassgrad"``, ``"glassgrad_version"``, and ``"glassgrad"``, one JSON
  string with the nested layout (so ``load`` rebuilds the same structure, int keys,
  tuples, shapes (``gg.Size``) and OrderedDicts included: a state dict loads as an OrderedDict with its
  ``_metadata``, the layout versions ``load_state_dict`` hands its hooks, as from ``torch.load``; the paths of the
  OrderedDicts are noted beside the layout, which earlier versions read as plain dicts), each tensor's dtype and
  the ``metadata=`` you passed;
* which saved tensors share memory (tied weights, a tensor and its view), so that ``load`` gives tensors that
  share it again, as ``torch.load`` does: a change through one shows in the other. Each tensor still keeps
  its own bytes under its own name (any safetensors reader sees every name); the note says which tensor's
  memory to read it from instead (see :func:`shared_memory`).

Why not pickle: unpickling runs whatever code the file names, so a downloaded pickle can
do anything. safetensors holds only numbers and a JSON header. Writes are atomic: the
bytes go to a temporary file in the same folder, are flushed to disk (``fsync``), then
renamed over the target, so a crash leaves the old file or the new one, never half of one.
A process killed mid-write (SIGKILL, a power cut) leaves its temporary file behind; the next
write to the same target removes it (see :func:`remove_stale_temporaries`).

Every file that ``load`` refuses raises :class:`ModelFileError` (a ``ValueError``) whose
message names the file, what is wrong and what the file should be.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import signal
import stat
import struct
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .arguments import Size
from .autograd import _memory_owner, note_unreplayable
from .device import check_device, device
from .nn.parameter import Parameter
from .tensor import Tensor

FORMAT = "glassgrad"
RESERVED_METADATA = ("format", "glassgrad_version", "dtypes")
SAFETENSORS_DTYPES = {
    "BOOL": "bool", "U8": "uint8", "I8": "int8", "U16": "uint16", "I16": "int16", "U32": "uint32", "I32": "int32",
    "U64": "uint64", "I64": "int64", "F16": "float16", "F32": "float32", "F64": "float64",
}
"""safetensors' dtype codes that glassgrad saves and loads, with the NumPy dtype of each. Others that safetensors
has (``BF16``, ``C64``, ``F8_E4M3``, …) are refused when loading: NumPy has no bfloat16 or 8-bit floats, and
glassgrad's tensors hold no complex numbers."""
SAVABLE_DTYPES = {np.dtype(name) for name in SAFETENSORS_DTYPES.values()}
MAX_HEADER_BYTES = 100_000_000
"""safetensors refuses headers longer than this; a bigger length means the first 8 bytes are not one."""
PICKLE_PROTOCOLS = (b"\x02", b"\x03", b"\x04", b"\x05")
"""A pickle of protocol 2 or later starts with the byte 0x80 and then its protocol number."""
WHAT_IT_SHOULD_BE = "a .safetensors file written by gg.save (or by safetensors' save_file)"
STALE_AFTER_SECONDS = 3600
"""A temporary file untouched this long belongs to no write in progress (see :func:`remove_stale_temporaries`)."""


class ModelFileError(ValueError):
    """``gg.load`` refuses a file: the message names the file, the problem and what it should be."""


def existing_file(path: str | os.PathLike, what: str, hint: str = "",
                  refusal: type[ValueError] = ValueError) -> Path:
    """``path`` as a Path if it is a regular file (or a link to one).

    Missing, or a folder: FileNotFoundError. Something else (a device such as /dev/zero, a
    pipe, a socket): ``refusal``, since reading it would never end or would not be a file's bytes.
    """
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir() or not path.exists():
        problem = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"{what} {str(path)!r} {problem} (looked at {path.resolve()}){hint}")
    kind = ("a character device" if path.is_char_device() else "a block device" if path.is_block_device()
            else "a pipe (FIFO)" if path.is_fifo() else "a socket" if path.is_socket() else "not a file")
    raise refusal(f"{what} {str(path)!r} is not a regular file: {path.resolve()} is {kind}; "
                  f"give the path of a file{hint}")


# --- atomic writes --------------------------------------------------------------------------


class MissingFolderError(RuntimeError, FileNotFoundError):
    """A file to write into a folder that does not exist: a RuntimeError, as ``torch.save`` raises, and still a
    FileNotFoundError (an OSError), as the code that catches failed writes expects."""


class FolderTargetError(RuntimeError, IsADirectoryError):
    """A file to write whose name is a folder's: a RuntimeError, as ``torch.save`` raises, and an IsADirectoryError."""


class UnwritableTargetError(RuntimeError, PermissionError):
    """A file to write that is read-only: a RuntimeError, as ``torch.save`` raises, and a PermissionError with
    ``errno`` EACCES and ``strerror`` "Permission denied", as ``open`` raises (what the callers that name the file
    themselves print)."""

    __str__ = RuntimeError.__str__  # the message, not OSError's "[Errno 13] Permission denied"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.errno, self.strerror = errno.EACCES, os.strerror(errno.EACCES)


def file_in_the_way(folder: str | os.PathLike) -> Path | None:
    """The file that stands where ``folder`` or a folder above it should be (``notes.txt`` for the folder
    ``notes.txt/out``), else None: nothing can be made or written under a file, and "does not exist; create it"
    would be advice that fails (``mkdir`` refuses a name a file has)."""
    folder = Path(folder)
    for part in (folder, *folder.parents):
        if part.exists():  # through links; False for a name under a file (NotADirectoryError)
            return None if part.is_dir() else part
    return None


def missing_folder_problem(folder: str | os.PathLike) -> str:
    """Why a file cannot be written into ``folder``, which is not a folder, as the end of a one-line error: a file
    in the way (:func:`file_in_the_way`), or a folder that does not exist."""
    blocker = file_in_the_way(folder)
    if blocker is not None:
        return f"{blocker} is a file, not a folder; give a path in a folder"
    return f"the folder {folder} does not exist; create it first"


def write_atomically(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a part.

    Steps: write a temporary file ``.<name>.<pid>.<random hex>.tmp`` beside the target,
    ``flush`` + ``fsync`` it, ``os.replace`` it onto the target, ``fsync`` the folder (so the
    rename itself survives a power cut). On any error, Ctrl-C (SIGINT) or SIGTERM the temporary
    file is removed and an existing target is left untouched; a SIGTERM then ends the process
    as it would have. Stale temporary files of the same target, left by killed writers, are
    removed first. Text is written as UTF-8. Returns the path written.

    A read-only target is refused (:class:`UnwritableTargetError`), as ``open(path, "w")`` refuses it: the rename
    alone would replace it, since it needs only the folder's write permission. A symbolic link stays a link: the
    file it points to is the one replaced. A target that is neither a file nor a folder (a pipe, a device such as
    ``/dev/stdout`` or ``/dev/full``) is written straight into, as ``open`` writes: a replace would put a plain file
    in its place, and a full device's error would go unseen.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = os.stat(path).st_mode  # through links: /dev/stdout is a link to a pipe, a terminal or a file
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        with open(path, "wb") as handle:  # the name as given: a link's target may be no name at all (pipe:[N])
            handle.write(payload)
        return path
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    folder = path.parent
    if not folder.is_dir():
        raise MissingFolderError(f"cannot write {path}: {missing_folder_problem(folder)}")
    if path.is_dir():
        raise FolderTargetError(f"cannot write {path}: it is a folder; give a file name inside it")
    if mode is not None and not os.access(path, os.W_OK):  # the rename would replace a file open() may not write
        raise UnwritableTargetError(f"cannot write {path}: the file is read-only; make it writable "
                                    "(chmod u+w) or save under another name")
    remove_stale_temporaries(path)
    temporary = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    with _sigterm_unwinds():
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_folder(folder)
    return path


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed writes to ``path`` left behind; return them.

    Only names of the exact form :func:`write_atomically` gives ``path``'s temporaries are
    considered, ``.<name>.<pid>.<12 hex digits>.tmp`` (and ``.<name>.<12 hex>.tmp``, the form
    without a pid that earlier versions wrote). One is stale when the process that wrote it is
    gone (checked on POSIX by its pid; a live writer, this process included, keeps its file),
    or when nobody has touched it for :data:`STALE_AFTER_SECONDS` (what decides on Windows,
    for old names, and if the pid was reused). Files that cannot be removed are left as they are.
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:(\d+)\.)?[0-9a-f]{{12}}\.tmp")
    removed = []
    with contextlib.suppress(OSError):
        for candidate in path.parent.iterdir():
            match = pattern.fullmatch(candidate.name)
            if match is None:
                continue
            with contextlib.suppress(OSError):
                untouched = time.time() - candidate.lstat().st_mtime
                if untouched > STALE_AFTER_SECONDS or _writer_is_gone(match.group(1)):
                    candidate.unlink()
                    removed.append(candidate)
    return removed


def _writer_is_gone(pid_text: str | None) -> bool:
    """True when the process ``pid_text`` named no longer runs (POSIX only: elsewhere, unknown → False)."""
    if pid_text is None or os.name != "posix" or int(pid_text) < 1:
        return False
    try:
        os.kill(int(pid_text), 0)  # signal 0: nothing is sent, only the process's existence is checked
    except (ProcessLookupError, OverflowError):
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


class _Terminated(BaseException):
    """SIGTERM arrived during a write: unwind like Ctrl-C (removing the temporary file) before ending."""


@contextlib.contextmanager
def _sigterm_unwinds():
    """While the block runs, SIGTERM unwinds it like SIGINT; afterwards the process ends by SIGTERM.

    Only where SIGTERM would otherwise kill the process on the spot (its default action) and in
    the main thread (the only one that may set signal handlers); a program with its own SIGTERM
    handler keeps it.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def unwind(signum, frame):
        raise _Terminated

    signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)  # ends the process, as the signal would have without us
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":  # Windows cannot open a folder to fsync it; its rename is already durable
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- from a nested object to (tensors, layout) and back ---------------------------------------


def _unique_name(name: str, taken: dict) -> str:
    """``name``, or ``name#1``, ``name#2``, … when a saved tensor has it already, or when it is ``__metadata__``,
    the header's own entry in a safetensors file (a tensor under that name made a file no reader could load)."""
    candidate, number = name, 1
    while candidate in taken or candidate == "__metadata__":
        candidate, number = f"{name}#{number}", number + 1
    return candidate


def _encode(value: Any, where: list, tensors: dict[str, np.ndarray] | None,
            originals: dict[str, np.ndarray] | None = None, ordered: list | None = None) -> dict:
    """``value`` as a JSON layout node; arrays go into ``tensors`` (None: arrays are not allowed here), each
    array as it sits in memory into ``originals`` (for :func:`shared_memory`), and each OrderedDict's path with its
    ``_metadata`` node (or None) into ``ordered`` (None: saved as plain dicts)."""
    if isinstance(value, (Tensor, np.ndarray)):
        array = value.array if isinstance(value, Tensor) else value
        name = ".".join(str(part) for part in where) or "tensor"  # a tensor saved on its own: "tensor"
        if tensors is None:
            raise TypeError(f"metadata[{name!r}] is an array; metadata holds JSON values only: put arrays in obj")
        if array.dtype not in SAVABLE_DTYPES:
            raise TypeError(f"{name!r} has dtype {array.dtype}, which safetensors cannot store; convert it to "
                            "float32, float64, an integer type or bool")
        name = _unique_name(name, tensors)
        tensors[name] = array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)  # 0-d stays 0-d
        originals[name] = array
        node: dict[str, Any] = {"tensor": name}
        if isinstance(value, Tensor) and value.requires_grad:  # kept, as torch.save keeps it (a leaf when loaded)
            node["requires_grad"] = True
        if isinstance(value, Parameter):  # loaded as a Parameter again, as by torch.load
            node["parameter"] = True
        return node
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    if isinstance(value, dict):
        entries = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"key {key!r} at {'.'.join(map(str, where)) or 'the top level'} is a "
                                f"{type(key).__name__}; saved dicts need str or int keys")
            entries.append([key, _encode(item, [*where, key], tensors, originals, ordered)])
        if isinstance(value, OrderedDict) and ordered is not None:  # a state dict's layout versions are its _metadata
            layouts = getattr(value, "_metadata", None)
            ordered.append([where, None if layouts is None else _encode(layouts, [*where, "_metadata"], None)])
        return {"dict": entries}
    if isinstance(value, Size):
        return {"size": list(value)}
    if isinstance(value, (list, tuple)):
        items = [_encode(item, [*where, position], tensors, originals, ordered) for position, item in enumerate(value)]
        return {"tuple" if isinstance(value, tuple) else "list": items}
    hint = "; save module.state_dict() instead" if hasattr(value, "state_dict") else ""
    raise TypeError(f"cannot save {'.'.join(map(str, where)) or 'the object'}: its type {type(value).__name__} is "
                    f"neither a tensor/array nor a JSON value (number, string, bool, None, list, dict){hint}")


def _decode(node: dict, tensors: dict[str, np.ndarray], ordered: dict[tuple, dict | None] | None = None,
            where: tuple = ()) -> Any:
    """The inverse of :func:`_encode`: a layout node back to values, with arrays as Tensors, and the dict at each path
    ``where`` that ``ordered`` holds as an OrderedDict, with the ``_metadata`` noted there."""
    if "tensor" in node:
        return _decode_tensor(node, tensors)
    (kind, content), = node.items()
    if kind not in ("value", "dict", "list", "tuple", "size"):
        raise ValueError(f"unknown layout entry {kind!r}")
    if kind == "value":
        return content
    if kind == "size":
        return Size(content)
    if kind == "dict":
        mapping = {key: _decode(item, tensors, ordered, (*where, key)) for key, item in content}
        if not ordered or where not in ordered:
            return mapping
        mapping = OrderedDict(mapping)
        if ordered[where] is not None:
            mapping._metadata = OrderedDict(_decode(ordered[where], {}))
        return mapping
    items = [_decode(item, tensors, ordered, (*where, position)) for position, item in enumerate(content)]
    return tuple(items) if kind == "tuple" else items


def _decode_tensor(node: dict, tensors: dict[str, np.ndarray]) -> Tensor:
    """A ``{"tensor": name}`` node as the tensor it was saved from: a Parameter if it was one, requiring grad if it
    did (``requires_grad`` and ``parameter`` are left out of the node when false)."""
    unknown = set(node) - {"tensor", "requires_grad", "parameter"}
    if unknown:
        raise ValueError(f"unknown entries {sorted(unknown)} in a tensor's layout")
    array = tensors[node["tensor"]]
    requires_grad = node.get("requires_grad") is True
    if requires_grad and array.dtype.kind != "f":
        raise ValueError(f"tensor {node['tensor']!r} of dtype {array.dtype} is marked as requiring grad, which only "
                         "a floating-point tensor can")
    tensor = Tensor._wrap(array, requires_grad)
    if node.get("parameter") is True:
        return Parameter(tensor, requires_grad=tensor.requires_grad)
    return tensor


# --- memory that saved tensors share ------------------------------------------------------------


def _byte_span(array: np.ndarray) -> tuple[int, int]:
    """The addresses of the first and one past the last byte ``array``'s entries occupy (a non-empty array)."""
    start = array.__array_interface__["data"][0]
    reach = [(size - 1) * stride for size, stride in zip(array.shape, array.strides)]
    return start + sum(step for step in reach if step < 0), start + sum(step for step in reach if step > 0) + \
        array.itemsize


def shared_memory(arrays: dict[str, np.ndarray]) -> dict[str, dict]:
    """Which of the arrays to save share memory, as notes ``load`` rebuilds the sharing from.

    Arrays of one dtype over one memory are grouped. In a group, a row-major array that no larger one
    contains is a *root*; another array whose entries all lie in a root's memory is noted as
    ``{"view_of": root, "offset": k, "strides": [s₀, s₁, …]}``: its entry ``(i₀, i₁, …)`` is the root's
    flat entry ``k + Σⱼ iⱼ·sⱼ`` (a tied weight: ``k = 0`` and the root's strides). An array with the very
    entries (same start, shape and strides) of an earlier one that is in no root (two transposes of one
    matrix) is noted ``{"same": earlier}``. Arrays left unnoted (overlapping slices with no saved root) load
    with memory of their own.
    """
    groups: dict[tuple[int, np.dtype], list[str]] = {}
    for name, array in arrays.items():
        if array.size:
            groups.setdefault((id(_memory_owner(array)), array.dtype), []).append(name)
    notes: dict[str, dict] = {}
    for names in groups.values():
        if len(names) > 1:
            notes.update(_group_notes({name: arrays[name] for name in names}))
    return {name: notes[name] for name in arrays if name in notes}  # in the save order


def _group_notes(arrays: dict[str, np.ndarray]) -> dict[str, dict]:
    """:func:`shared_memory`'s notes for arrays that share one memory and dtype."""
    spans = {name: _byte_span(array) for name, array in arrays.items()}
    row_major = sorted((name for name, array in arrays.items() if array.flags.c_contiguous),
                       key=lambda name: spans[name][0] - spans[name][1])  # largest first; ties keep the save order
    roots: list[str] = []
    for name in row_major:
        if not any(_inside(spans[name], spans[root]) for root in roots):
            roots.append(name)
    notes: dict[str, dict] = {}
    seen: dict[tuple, str] = {}
    for name, array in arrays.items():
        itemsize = array.itemsize
        start = array.__array_interface__["data"][0]
        for root in roots:
            root_start = spans[root][0]
            if root != name and _inside(spans[name], spans[root]) and (start - root_start) % itemsize == 0 \
                    and all(stride % itemsize == 0 for stride in array.strides):
                notes[name] = {"view_of": root, "offset": (start - root_start) // itemsize,
                               "strides": [stride // itemsize for stride in array.strides]}
                break
        else:
            geometry = (start, array.shape, array.strides)
            if geometry in seen:
                notes[name] = {"same": seen[geometry]}
            seen.setdefault(geometry, name)
    return notes


def _inside(span: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= span[0] and span[1] <= outer[1]


def _share_memory(shared: Any, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``arrays`` with each tensor that :func:`shared_memory` noted read from the memory it shared when saved.

    Every note is checked against the file's own arrays (names, dtype, and each entry inside the root) before
    any memory is read, so a damaged note is refused, never a read outside an array.
    """
    if not isinstance(shared, dict):
        raise ValueError("'shared' is not a map of names to notes")
    rebuilt = dict(arrays)
    for name, note in shared.items():
        target = arrays.get(name)
        source = arrays.get(note.get("view_of", note.get("same")) if isinstance(note, dict) else None)
        if target is None or source is None or source.dtype != target.dtype:
            raise ValueError(f"the shared-memory note of {name!r} names no saved tensor of the same dtype")
        if "same" in note:
            if set(note) != {"same"} or source.shape != target.shape:
                raise ValueError(f"the shared-memory note of {name!r} names a tensor of another shape")
            rebuilt[name] = rebuilt[note["same"]]
            continue
        offset, strides = note.get("offset"), note.get("strides")
        if set(note) != {"view_of", "offset", "strides"} or type(offset) is not int or not isinstance(strides, list) \
                or len(strides) != target.ndim or not all(type(step) is int for step in strides):
            raise ValueError(f"the shared-memory note of {name!r} needs an offset and one whole-number stride per dim")
        reach = [(size - 1) * step for size, step in zip(target.shape, strides)]
        first, last = offset + sum(min(step, 0) for step in reach), offset + sum(max(step, 0) for step in reach)
        if not source.flags.c_contiguous or first < 0 or last >= source.size:
            raise ValueError(f"the shared-memory note of {name!r} reads entries outside {note['view_of']!r}")
        rebuilt[name] = np.lib.stride_tricks.as_strided(
            source.reshape(-1)[offset:], target.shape, [step * source.itemsize for step in strides])
    return rebuilt


# --- save -------------------------------------------------------------------------------------


def save(obj: Any, f: str | os.PathLike | BinaryIO, pickle_module: Any = None, pickle_protocol: int | None = None,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False, *,
         metadata: dict | None = None) -> Path | BinaryIO:
    """Save a state dict, or a nested dict of them plus JSON values, to the file ``f`` (safetensors, atomic).

    ``obj`` is e.g. ``model.state_dict()`` or ``{"model": model.state_dict(), "optimizer":
    optimizer.state_dict(), "architecture": {...}}``; also, as ``torch.save`` takes them, one tensor or a
    list of tensors (``load`` gives back the same). Values may be tensors, NumPy arrays,
    numbers, strings, bools, None, and lists/tuples/dicts of these (dict keys: str or int).
    ``metadata`` is an extra dict of JSON values, returned by ``load(path, return_metadata=True)``.
    Values are saved as they are (NaN and inf included). ``f`` (``torch.save``'s name) is a path or an open
    binary file (``io.BytesIO()``, ``open(name, "wb")``), as ``torch.save`` takes; the bytes are written at its
    position, without the atomic rename. Returns the path (or file) written.

    ``pickle_module``, ``pickle_protocol`` and the two ``_``-options are ``torch.save``'s, in its order, taken so
    that its calls run unchanged (``torch.save(state, path, _use_new_zipfile_serialization=False)``, written for
    old PyTorch versions); they change nothing, as nothing is pickled. ``metadata`` is glassgrad's own, so it is
    keyword-only.

    Inside a ``gg.compile``d step it makes the step run eagerly, saying why: a replay would not write the file (the
    file kept the second capture's weights while training went on, without a word).
    """
    import safetensors.numpy

    from .version import __version__

    note_unreplayable("gg.save writes a file, which a replay would not do (the file would keep the captures' "
                      "numbers); save outside the compiled step")

    if hasattr(obj, "state_dict") and not isinstance(obj, (dict, Tensor)):
        raise TypeError(f"gg.save expects a dict of tensors (and JSON values), not {type(obj).__name__}: glassgrad "
                        "saves numbers, never code (a pickled layer); pass module.state_dict()")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict of JSON values, not a {type(metadata).__name__}")
    clashes = [key for key in metadata or {} if key in RESERVED_METADATA]
    if clashes:
        raise ValueError(f"metadata keys {clashes} are reserved for glassgrad's own entries; rename them")
    tensors: dict[str, np.ndarray] = {}
    originals: dict[str, np.ndarray] = {}
    ordered: list = []
    description = {
        "version": __version__,
        "layout": _encode(obj, [], tensors, originals, ordered),
        "dtypes": {name: array.dtype.name for name, array in tensors.items()},
        "metadata": _encode(metadata or {}, [], None),
    }
    shared = shared_memory(originals)
    if shared:  # left out when nothing is shared: such files are as before
        description["shared"] = shared
    if ordered:  # beside the layout, which stays as before, so that earlier glassgrad versions read the file
        description["ordered_dicts"] = ordered
    header = {"format": FORMAT, "glassgrad_version": __version__, FORMAT: json.dumps(description)}
    data = safetensors.numpy.save(tensors, metadata=header)
    if hasattr(f, "write"):
        f.write(data)
        return f
    return write_atomically(f, data)


# --- load -------------------------------------------------------------------------------------


def _refuse(path: Path | str, problem: str) -> ModelFileError:
    return ModelFileError(f"cannot load {path}: {problem}; it should be {WHAT_IT_SHOULD_BE}")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _read_header(path: Path | str, raw: bytes) -> dict:
    """Check the file's framing and return its JSON header, or raise a ModelFileError saying what is wrong.

    A safetensors file is: 8 bytes (little-endian length N), N bytes of JSON, then the data.
    Each tensor's entry is checked (``data_offsets``: two whole numbers, begin ≤ end) before
    any number in it is used, and its dtype is one of :data:`SAFETENSORS_DTYPES` (a bfloat16 or complex file from
    another tool is refused naming the tensor and the fix, not called corrupted, nor loaded as a tensor that fails
    later).
    """
    framed = raw[8:9] == b"{"  # a real header length can start with any byte, pickle's 0x80 included
    if not framed and raw[:4] == b"PK\x03\x04":
        raise _refuse(path, "it is a ZIP archive, the format of torch.save, which holds a pickle; glassgrad "
                            "never unpickles (that can run arbitrary code). Re-save the weights with safetensors")
    if not framed and raw[:1] == b"\x80" and raw[1:2] in PICKLE_PROTOCOLS:
        raise _refuse(path, "it is a Python pickle (e.g. from pickle.dump or torch.save), and glassgrad never "
                            "unpickles (that can run arbitrary code)")
    if len(raw) <= 8:
        raise _refuse(path, f"it has only {len(raw)} bytes, too few for a header length and a header: it is truncated")
    (header_size,) = struct.unpack("<Q", raw[:8])
    if header_size > MAX_HEADER_BYTES:
        raise _refuse(path, f"it has a wrong header: the first 8 bytes should give the JSON header's length, but "
                            f"they read as {header_size}, more than any safetensors header")
    if not framed:
        raise _refuse(path, "it has a wrong header: a JSON header starting with '{' should follow the first 8 bytes")
    if 8 + header_size > len(raw):
        raise _refuse(path, f"it is truncated: the header says it is {header_size} bytes long but the file ends "
                            f"{len(raw) - 8} bytes after the length")
    try:
        header = json.loads(raw[8:8 + header_size], parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise _refuse(path, f"its header is corrupted (not valid JSON: {error})") from None
    except RecursionError:
        raise _refuse(path, "its header is corrupted (JSON nested too deeply to be a safetensors header)") from None
    if not isinstance(header, dict):
        raise _refuse(path, "its header is corrupted (not a JSON object)")
    data_size = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(n) is int for n in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            raise _refuse(path, f"its header is corrupted (tensor {name[:40]!r} lacks valid data_offsets: two whole "
                                "numbers, begin <= end)")
        dtype = entry.get("dtype")
        if dtype not in SAFETENSORS_DTYPES:
            raise ModelFileError(
                f"cannot load {path}: tensor {name[:40]!r} has dtype {str(dtype)[:20]!r}, which glassgrad's tensors "
                f"cannot hold (they hold {', '.join(SAFETENSORS_DTYPES)}; NumPy has no bfloat16 or 8-bit floats); "
                "convert the tensors to float32 where the file was written (in PyTorch: {k: v.float() for k, v in "
                "state.items()}) and save it again")
        data_size = max(data_size, offsets[1])
    found = len(raw) - 8 - header_size
    if found < data_size:
        raise _refuse(path, f"it is truncated: the header promises {data_size} bytes of tensor data but only "
                            f"{found} follow")
    return header


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None, return_metadata: bool = False) -> Any:
    """Load what :func:`save` wrote: the same nested structure, with arrays as Tensors.

    Also reads plain safetensors files (from other tools): they load as a flat dict
    ``name → Tensor``. With ``return_metadata=True`` returns ``(obj, metadata)``, where
    ``metadata`` is the dict passed to ``save`` plus ``format``, ``glassgrad_version`` and
    ``dtypes`` (tensor name → dtype name). Nothing is half-loaded: any problem (missing,
    truncated or corrupted file, a pickle) raises :class:`ModelFileError` before anything is
    returned; only a missing file (or a folder) raises ``FileNotFoundError``. ``f`` may also be an open
    binary file (``io.BytesIO`` after ``seek(0)``), read from its position to its end.

    The other arguments are ``torch.load``'s, in its order, taken so that its calls run unchanged
    (``torch.load(f, weights_only=True)``, ``torch.load(f, 'cpu')``, ``map_location=device``): every tensor loads
    on the CPU, the only device (a map to another device is refused in one line); a file only ever gives numbers,
    never code, whatever ``weights_only`` and ``pickle_module`` say; ``mmap`` changes nothing (the file is read
    whole). ``return_metadata`` is glassgrad's own, so it is keyword-only: PyTorch's second argument is the map.
    """
    import safetensors.numpy

    if isinstance(map_location, (str, device)):
        check_device(map_location)
    if hasattr(f, "read"):
        raw = f.read()
        if not isinstance(raw, bytes):
            raise TypeError(f"gg.load reads bytes, but this file gave {type(raw).__name__}: open it in binary mode "
                            "(open(name, 'rb'))")
        path = getattr(f, "name", None) or f"<{type(f).__name__}>"
    else:
        path = existing_file(f, "model file", f"; it should be {WHAT_IT_SHOULD_BE}", refusal=ModelFileError)
        raw = path.read_bytes()
    header = _read_header(path, raw)
    try:
        arrays = safetensors.numpy.load(raw)
    except Exception as error:  # safetensors raises its own SafetensorError for any malformed file
        raise _refuse(path, f"it is corrupted ({error})") from None
    stored = header.get("__metadata__") or {}  # safetensors has checked: a map of strings to strings
    dtypes = {name: array.dtype.name for name, array in arrays.items()}
    if stored.get("format") != FORMAT:
        obj = {name: Tensor._wrap(arrays[name]) for name in header if name != "__metadata__"}
        return (obj, {**stored, "dtypes": dtypes}) if return_metadata else obj
    try:
        description = json.loads(stored[FORMAT])
        ordered = {tuple(where): layouts for where, layouts in description.get("ordered_dicts", [])}
        obj = _decode(description["layout"], _share_memory(description.get("shared", {}), arrays), ordered)
        extra = _decode(description["metadata"], {})
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise _refuse(path, f"its glassgrad metadata is corrupted ({type(error).__name__}: {error})") from None
    except RecursionError:
        raise _refuse(path, "its glassgrad metadata is corrupted (nested too deeply)") from None
    if not return_metadata:
        return obj
    return obj, {**extra, "format": FORMAT, "glassgrad_version": stored.get("glassgrad_version"), "dtypes": dtypes}
