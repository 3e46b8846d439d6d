"""Embeddings: a learned table whose rows are looked up by index.

``embedding(input, weight)`` picks row ``input[p]`` of ``weight`` (num_embeddings, embedding_dim)
for every position ``p``: ``E[p, :] = W[input[p], :]``, the same as ``W[input]`` or a one-hot row
times ``W``. Its gradient adds each position's upstream row into the row it read, so an index
that occurs several times collects the sum::

    ∂L/∂W[r, :] = Σ_{p : input[p] = r} ∂L/∂E[p, :]

``padding_idx``'s row gets no gradient (it stays what it is: zeros, from ``nn.Embedding``);
``scale_grad_by_freq`` divides each position's share by how often its index occurs in the batch.
``max_norm``: before the lookup, each row the batch reads whose ``norm_type``-norm exceeds it is
scaled down in place, outside the graph, as PyTorch does::

    W[r, :] ← W[r, :] · max_norm / (‖W[r, :]‖ₚ + 1e-7)    where ‖W[r, :]‖ₚ > max_norm

>>> import glassgrad as gg
>>> table = gg.nn.Embedding(5, 2, seed=0)
>>> table(gg.tensor([[0, 4, 4]])).shape
Size([1, 3, 2])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..arguments import float_argument, shape_text
from ..autograd import bump_version, call_recorder, note_unreplayable, recorded_call
from ..creation import as_tensor, pick_generator, tensor_argument
from ..device import check_device
from ..functions import stack
from ..tensor import Tensor, apply
from . import init
from .linear import check_size, float_dtype
from .module import Module
from .parameter import Parameter


def _padding_index(padding_idx: int | None, rows: int, owner: str) -> int | None:
    """``padding_idx`` as a row in ``0 … rows − 1`` (a negative one counts from the end), or None."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):  # TypeError, as PyTorch's
        raise TypeError(f"{owner}: padding_idx must be a whole number within num_embeddings ({rows}), got "
                        f"{padding_idx!r}")
    if not -rows <= padding_idx < rows:  # AssertionError, as PyTorch's (an assert there)
        raise AssertionError(f"{owner}: padding_idx must be within num_embeddings ({rows}), got {padding_idx}")
    return int(padding_idx) % rows


def _check_indices(indices: np.ndarray, rows: int, owner: str = "embedding",
                   error: type[Exception] = IndexError) -> None:
    """Refuse an index of ``owner`` outside ``0 … rows − 1``, with PyTorch's class: ``embedding``'s IndexError,
    ``embedding_bag``'s RuntimeError.

    Run through :func:`~glassgrad.autograd.recorded_call`: a compiled step used to check only the indices its
    captures met, so a later batch's index -1 read the last row without a word and one of ``rows`` raised NumPy's
    raw IndexError (eager refuses both in one line); the check is now one of the step's kernels, run at every call.
    """
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        bad = indices[(indices < 0) | (indices >= rows)].flat[0]
        raise error(f"{owner}: index {bad} is out of range: the table has {rows} rows (0 … {rows - 1})")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer indices ``input`` (any shape): output ``input.shape + (dim,)``."""
    return _lookup(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, "embedding")


def _lookup(input: Tensor, weight: Tensor, padding_idx: int | None, max_norm: float | None, norm_type: float,
            scale_grad_by_freq: bool, sparse: bool, owner: str) -> Tensor:
    """:func:`embedding` for ``owner``: an index out of range raises ``embedding``'s IndexError or
    ``embedding_bag``'s RuntimeError, as PyTorch's."""
    if sparse:
        raise ValueError("embedding: sparse=True (sparse gradients) is not supported in glassgrad; leave it False "
                         "(the gradient is a dense table)")
    indices = as_tensor(input)
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: indices must be integers (int64), got {indices.dtype}; "
                           "convert them with .long()")
    if tensor_argument(weight, "embedding", "weight", 2).ndim != 2:  # RuntimeError, as PyTorch's ('must be 2-D')
        raise RuntimeError(f"embedding: weight must be a table (num_embeddings, embedding_dim), got "
                           f"{shape_text(weight.shape)}")
    rows = weight.shape[0]
    # a kernel of a compiled step: the indices are read at each call
    recorded_call(_check_indices, indices.array, rows, owner, IndexError if owner == "embedding" else RuntimeError)
    padding_idx = _padding_index(padding_idx, rows, "embedding")
    if max_norm is not None:
        _renormalise_rows(weight, indices.array, max_norm, norm_type)
    return apply(ops.EMBEDDING, (indices, weight), indices.array, weight.array, padding_idx, bool(scale_grad_by_freq))


def _table_shape(embeddings: Any, owner: str) -> tuple[int, int]:
    """``(num_embeddings, embedding_dim)`` of a table given to ``from_pretrained``, checked."""
    if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:  # AssertionError, as PyTorch's (an assert there)
        raise AssertionError(f"{owner}: embeddings must be a 2-D tensor (num_embeddings, embedding_dim), got "
                             f"{getattr(embeddings, 'shape', type(embeddings).__name__)}")
    if embeddings.dtype.kind != "f":
        raise TypeError(f"{owner}: embeddings must be floating point, got {embeddings.dtype}; convert them with "
                        ".float()")
    return embeddings.shape[0], embeddings.shape[1]


def _renormalise_rows(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale each row of ``weight`` that ``indices`` read and whose ``norm_type``-norm exceeds ``max_norm`` down to
    about ``max_norm``, in place and outside the graph (PyTorch's ``embedding_renorm_``).

    The change is one kernel of a compiled step (:func:`~glassgrad.autograd.recorded_call`): which rows it scales,
    and whether it changes the table at all (and counts a change of its version), depends on the values, so a replay
    works it out again at every call, as eager does. A table an op of the step read before in the forward (a tied
    output layer, ``h @ emb.weight.T``, then a second lookup) or one the step made runs the step eagerly: where the
    rescale changes it, eager's backward refuses the op that saved it, which a replay's rules, checking no versions,
    would not."""
    for name, value in (("max_norm", max_norm), ("norm_type", norm_type)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"embedding: {name} must be a positive number, got {value!r}")
    recorder = call_recorder()
    if recorder is not None and getattr(recorder, "read_in_forward", None) is not None and recorder.read_in_forward(
            weight.array, ops.EMBEDDING):
        note_unreplayable("embedding with max_norm rescales in place rows of a table the step made or an op of its "
                          "forward read before (a tied layer): where it changes them, eager's backward refuses that "
                          "op, which a replay would not")
    recorded_call(_renorm_in_place, weight.array, indices, max_norm, norm_type)


def _renorm_in_place(table: np.ndarray, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """:func:`_renormalise_rows` on the arrays: the rows of ``table`` read by ``indices`` whose norm exceeds
    ``max_norm`` scaled down, and the change counted (only where a row was scaled, as PyTorch's renorm counts)."""
    rows = np.unique(indices)
    picked = table[rows]
    # the p-norm of each row, in float64: a float16 row's |x|ᵖ overflow past 65504 (‖(300, 400)‖ = 500 read as ∞
    # scaled the row to 0) or vanish (‖(1e-4, 1e-4)‖ read as 0), and a float32 row's squares overflow past 1.8e19
    sizes = np.abs(picked.astype(np.float64))
    norms = sizes.max(axis=1) if norm_type == np.inf else np.sum(sizes ** norm_type, axis=1) ** (1 / norm_type)
    over = norms > max_norm  # p = ∞: the largest |entry| (Σ|x|^∞ read as 1 for every row)
    if over.any():
        scale = max_norm / (norms[over] + 1e-7)
        table[rows[over]] = picked[over] * scale[:, None]  # in float64, rounded once into the table's dtype
        bump_version(table)  # an in-place change, counted as PyTorch's renorm is


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of size ``embedding_dim``: ``Embedding(27, 10)(X)`` looks
    up one row per index of ``X``. Initialised ``N(0, 1)`` as in PyTorch, the ``padding_idx`` row zero.

    ``Embedding.from_pretrained(vectors)`` makes one from a table you have (frozen unless ``freeze=False``).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Tensor | None = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None, seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__()
        owner = type(self).__name__
        if sparse:
            raise ValueError(f"{owner}: sparse=True (sparse gradients) is not supported in glassgrad; leave it "
                             "False (the gradient is a dense table)")
        # an empty table (0 rows, or rows of 0 numbers) is allowed, as PyTorch's
        self.num_embeddings = check_size(num_embeddings, "num_embeddings", owner, smallest=0)
        self.embedding_dim = check_size(embedding_dim, "embedding_dim", owner, smallest=0, leads=False)
        self.padding_idx = _padding_index(padding_idx, self.num_embeddings, owner)
        self.max_norm, self.norm_type = max_norm, float_argument(norm_type, type(self).__name__, "norm_type")
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), False  # sparse: refused above
        if _weight is None:
            dtype = float_dtype(dtype, owner)
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters(pick_generator(seed, generator))
            return
        if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):  # AssertionError, as PyTorch's
            raise AssertionError(f"{owner}: _weight has shape {shape_text(_weight.shape)}, expected "
                                 f"({self.num_embeddings}, {self.embedding_dim}) (num_embeddings, embedding_dim)")
        self.weight = Parameter(_weight, requires_grad=not _freeze)  # the given table itself (no copy), as PyTorch

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An embedding whose table is ``embeddings`` (2-D, shared, not copied), learned only if ``freeze=False``.

        As in PyTorch the ``padding_idx`` row is left as given (it gets no gradient).
        """
        rows, dim = _table_shape(embeddings, "Embedding.from_pretrained")
        return cls(rows, dim, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=embeddings, _freeze=freeze)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """``W ~ N(0, 1)``; the ``padding_idx`` row zeros."""
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         scale_grad_by_freq=self.scale_grad_by_freq)

    def config(self) -> dict[str, Any]:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx, "max_norm": self.max_norm, "norm_type": self.norm_type,
                "scale_grad_by_freq": self.scale_grad_by_freq}


# --- bags: the rows of each bag of indices, summed, averaged or maxed ---------------------------------------

BAG_MODES = ("sum", "mean", "max")


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """One row per bag: the sum, mean or maximum of the table rows its indices pick (``embedding`` followed by a
    reduction per bag, without the (positions, dim) tensor in between being returned).

    Bags are the rows of a 2-D ``input`` (B, N), or slices of a 1-D ``input`` starting at ``offsets``
    (B,) (with ``include_last_offset``: B + 1, the last the end; a 2-D input ignores it, as PyTorch's; an empty
    input with no starts gives no bags). ``per_sample_weights`` (``mode='sum'``)
    scales each row first: ``out[b] = Σ_{p ∈ bag b} w[p]·W[input[p]]``. Positions holding
    ``padding_idx`` are left out (a mean divides by the others); an empty bag gives zeros. A maximum's gradient
    goes to the bag's first row that holds it, where rows tie, as PyTorch's (``max(0)``, not ``amax``'s share).
    """
    if mode not in BAG_MODES:
        raise ValueError(f"embedding_bag: mode must be one of {', '.join(map(repr, BAG_MODES))}, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":  # NotImplementedError, as PyTorch's
        raise NotImplementedError(f"embedding_bag: per_sample_weights is only supported for mode='sum', got "
                                  f"mode={mode!r}")
    if scale_grad_by_freq and mode == "max":  # a bag's maximum row has no share to scale, as PyTorch refuses
        raise ValueError("embedding_bag: mode='max' does not support scale_grad_by_freq=True (the gradient goes to "
                         "each bag's maximum row); leave it False or use mode='sum' or 'mean'")
    if tensor_argument(weight, "embedding_bag", "weight", 2).ndim != 2:  # ValueError here, as PyTorch's
        raise ValueError(f"embedding_bag: weight must be a table (num_embeddings, embedding_dim), got "
                         f"{shape_text(weight.shape)}")
    indices = as_tensor(input)
    include_last_offset = bool(include_last_offset) and indices.ndim != 2  # a 2-D input's rows are its bags
    flat, marks = _bags(indices, offsets, include_last_offset)
    rows = _lookup(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, "embedding_bag")
    if per_sample_weights is not None:
        weights = as_tensor(per_sample_weights)
        if weights.shape != indices.shape:
            raise ValueError(f"embedding_bag: per_sample_weights must have the input's shape "
                             f"{shape_text(indices.shape)}, got {shape_text(weights.shape)}")
        rows = rows * weights.reshape(-1, 1)
    padding = _padding_index(padding_idx, weight.shape[0], "embedding_bag")
    if (isinstance(offsets, Tensor) and mode == "max") or padding is not None:
        note_unreplayable("embedding_bag picks each bag's rows in Python from the offsets' or the indices' values "
                          "(mode='max', padding_idx), which a replay would take as they were")
    bag_of, counts = recorded_call(_bag_numbers, marks, flat.shape[0], include_last_offset, weight.dtype)
    kept = np.arange(flat.shape[0]) if padding is None else np.flatnonzero(flat.array != padding)
    zeros = weight.new_zeros((len(counts), weight.shape[1]))
    if mode == "max":  # each bag that has rows gets their maximum; the others stay zeros (still in the graph)
        starts, ends = _bounds(marks.reshape(-1), flat.shape[0], include_last_offset)
        bags = [np.intersect1d(kept, np.arange(start, end)) for start, end in zip(starts, ends)]
        filled = [number for number, bag in enumerate(bags) if bag.size]
        maxima = [rows.index_select(0, Tensor._wrap(np.array(bags[number]))).max(0).values for number in filled]
        return zeros.index_add(0, Tensor._wrap(np.array(filled, dtype=np.int64)), stack(maxima) if maxima else rows[:0])
    if padding is not None:
        bag_of, counts = bag_of[kept], _bag_counts(bag_of[kept], len(counts), weight.dtype)
    total = zeros.index_add(0, Tensor._wrap(bag_of), rows.index_select(0, Tensor._wrap(kept)))
    return total if mode == "sum" else total / Tensor._wrap(counts)


def _bag_numbers(marks: np.ndarray, length: int, include_last_offset: bool,
                 dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Each of the ``length`` positions' bag, and each bag's count of positions (a column, at least 1: a mean's
    divisor), from the bags' starts ``marks``: a kernel of a compiled step, so that a replay follows the offsets."""
    starts, ends = _bounds(marks.reshape(-1), length, include_last_offset)
    bag_of = np.repeat(np.arange(len(starts)), ends - starts)
    return bag_of, _bag_counts(bag_of, len(starts), dtype)


def _bag_counts(bag_of: np.ndarray, bags: int, dtype: np.dtype) -> np.ndarray:
    """How many positions each of ``bags`` bags holds, as a column of ``dtype``, at least 1 (an empty bag's mean
    is its zeros)."""
    return np.maximum(np.bincount(bag_of, minlength=bags), 1).astype(dtype).reshape(-1, 1)


def _bounds(marks: np.ndarray, length: int, include_last_offset: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each bag's first and past-the-end position, from the bags' starts ``marks`` (the last one the end with
    ``include_last_offset``) over ``length`` positions."""
    if include_last_offset:
        return marks[:-1], marks[1:]
    return marks, np.append(marks[1:], length)[:marks.size]  # no starts (an empty batch): no bags


def _bags(indices: Tensor, offsets: Any, include_last_offset: bool) -> tuple[Tensor, np.ndarray]:
    """The flat indices, and each bag's start in them (a 2-D input: each row's; else the offsets' array, checked)."""
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None for a 2-D input (each row is a bag); give a 1-D "
                             "input with offsets, or leave offsets out")
        bags, size = indices.shape
        return indices.reshape(-1), np.arange(bags) * size
    if indices.ndim != 1 or offsets is None:
        given = "None" if offsets is None else "given"
        raise ValueError(f"embedding_bag: the input must be 2-D (bags as rows), or 1-D with offsets (each bag's "
                         f"start), got {shape_text(indices.shape)} with offsets {given}")
    given = as_tensor(offsets).array
    if given.ndim != 1:
        raise ValueError(f"embedding_bag: offsets must be 1-D (each bag's start), got {shape_text(given.shape)}")
    recorded_call(_check_offsets, given, indices.shape[0], include_last_offset)  # a kernel: read at each call
    return indices, given


def _check_offsets(given: np.ndarray, length: int, include_last_offset: bool) -> None:
    """Refuse offsets that are not bags' starts in an input of ``length`` (RuntimeError, as PyTorch's; an
    ``include_last_offset`` end short of the input, which PyTorch takes, ValueError). Run through
    :func:`~glassgrad.autograd.recorded_call`: a compiled step checked only its captures' offsets, and a later
    call's past the end met NumPy's ``repeats may not contain negative values``; now refused at every call."""
    marks = np.asarray(given).reshape(-1)
    if length == 0 and marks.size == include_last_offset and marks.dtype.kind in "iu" and not marks.any():
        return  # an empty batch without bags (offsets [], or [0] the end): no rows, as PyTorch's
    if marks.dtype.kind not in "iu" or marks.size < 1 + include_last_offset or marks[0] != 0 or \
            (np.diff(marks) < 0).any() or marks[-1] > length:  # RuntimeError, as PyTorch's
        raise RuntimeError(f"embedding_bag: offsets must be integers from 0, not decreasing, within the input's "
                           f"length {length}{' (the last one the end)' if include_last_offset else ''}, got "
                           f"{marks.tolist()}")
    if include_last_offset and marks[-1] != length:  # PyTorch's CPU kernels disagree (sum leaves them out)
        raise ValueError(f"embedding_bag: with include_last_offset=True the last offset is the end of the last "
                         f"bag, the input's length {length}; got {int(marks[-1])} (append "
                         f"{length} to the offsets, or put the indices after {int(marks[-1])} in a bag)")


class EmbeddingBag(Embedding):
    """A table looked up by bags of indices, one summed, averaged or maxed row per bag (``mode``): the text
    classifier's way to turn a variable-length document into one vector (:func:`embedding_bag`)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight: Tensor | None = None, include_last_offset: bool = False, padding_idx: int | None = None,
                 device: Any = None, dtype: Any = None, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        check_device(device)
        if mode not in BAG_MODES:
            raise ValueError(f"EmbeddingBag: mode must be one of {', '.join(map(repr, BAG_MODES))}, got {mode!r}")
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                         sparse, _weight, dtype=dtype, seed=seed, generator=generator)
        self.mode, self.include_last_offset = mode, bool(include_last_offset)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """A bag embedding whose table is ``embeddings`` (shared, not copied), learned only if ``freeze=False``."""
        rows, dim = _table_shape(embeddings, "EmbeddingBag.from_pretrained")
        bag = cls(rows, dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings, include_last_offset,
                  padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, False, per_sample_weights, self.include_last_offset, self.padding_idx)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "mode": self.mode, "include_last_offset": self.include_last_offset}
