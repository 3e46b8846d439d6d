"""Programs written the way "from scratch" courses teach deep learning: backpropagation through a character-level
MLP by hand (each intermediate's gradient written out and checked against autograd), layers written as plain classes,
and the "dive into" style of building linear and softmax regression, MLPs, dropout, batch norm, LeNet, modern CNN
blocks, RNN/GRU/LSTM cells, seq2seq, attention, positional encodings, anchor boxes and optimizers out of tensor ops
before using the library's layers. Each runs unchanged under PyTorch 2.13 and under glassgrad (``import torch``
giving glassgrad), with the same numbers (rtol 1e-4 in float32, 1e-9 in float64) and the same warnings. Weights and
data come from NumPy so both start alike; random draws (``torch.normal``, dropout masks) are compared only by shape
or by what every draw satisfies.

The programs live in ``tests/learner_programs/scratch/``; below them, what they once did wrong here."""

from __future__ import annotations

import math
import operator
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

SCRATCH = Path(__file__).parent / "learner_programs" / "scratch"
PROGRAMS = sorted(SCRATCH.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_from_scratch_program_gives_pytorchs_numbers_and_warnings(program, torch):
    assert_pytorchs_numbers(program, same_warnings=True)


CONVERSIONS = {"float": float, "int": int, "bool": bool, "item": lambda t: t.item(), "math.exp": math.exp,
               "complex": complex, "format": lambda t: f"{t:.3f}"}


def _conversion_warnings(library, conversion: str, kind: str, grad_mode: bool) -> list[str]:
    """The first lines of the warnings one conversion of a one-number tensor gives, every warning shown."""
    leaf = library.tensor(0.5, requires_grad=kind != "plain")
    value = leaf * 3 if kind == "computed" else leaf
    library.set_warn_always(True)  # PyTorch shows this warning once in a process otherwise
    try:
        with warnings.catch_warnings(record=True) as caught, library.set_grad_enabled(grad_mode):
            warnings.simplefilter("always")
            CONVERSIONS[conversion](value)
    finally:
        library.set_warn_always(False)
    return [str(warning.message).split(" (Triggered internally")[0] for warning in caught
            if warning.category is UserWarning]


@pytest.mark.torch
@given(conversion=st.sampled_from(sorted(CONVERSIONS)), kind=st.sampled_from(["leaf", "computed", "plain"]),
       grad_mode=st.booleans())
def test_float_of_a_tensor_in_the_graph_warns_as_pytorch(conversion, kind, grad_mode, torch):
    """The "dive into" training loop sums ``metric.add(float(l.sum()), ...)`` with ``l`` still in the graph:
    PyTorch 2.13 warns (UserWarning) that converting a tensor with requires_grad=True to a scalar may lead to
    unexpected behaviour, and glassgrad was silent. ``float`` (and what calls it: ``math.exp``, ``complex``) warns
    where grad mode is on; ``int``, ``bool``, ``item()`` and formatting stay silent, as in PyTorch."""
    assert _conversion_warnings(gg, conversion, kind, grad_mode) == _conversion_warnings(torch, conversion, kind,
                                                                                          grad_mode)


ONCE = """
import sys, warnings
if sys.argv[1] == "glassgrad":
    from glassgrad import torch_names
    torch_names.install()
import torch
w = torch.tensor([2.0], requires_grad=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(3):
        float(w * 2)
    float(w)
print(len(caught), caught[0].lineno, caught[0].filename)
"""


@pytest.mark.torch
def test_float_of_a_tensor_in_the_graph_warns_once_per_process(torch):
    """PyTorch gives that warning once in a process (even where a filter asks for every one), pointing at the
    learner's line: an epoch loop of ``float(l.sum())`` shows it once."""
    shown = [subprocess.run([sys.executable, "-c", ONCE, library], capture_output=True, text=True, timeout=300)
             for library in ("glassgrad", "torch")]
    assert all(done.returncode == 0 for done in shown), [done.stderr[-2000:] for done in shown]
    assert shown[0].stdout == shown[1].stdout == "1 11 <string>\n"


def test_lbfgs_gives_no_conversion_warning():
    """LBFGS converts the closure's loss to a number inside ``step``; PyTorch does it with grad mode off, so the
    learner sees no warning."""
    weight = gg.tensor([1.0, -1.0], requires_grad=True)
    optimizer = gg.optim.LBFGS([weight], max_iter=3)

    def closure():
        optimizer.zero_grad()
        loss = (weight ** 2).sum()
        loss.backward()
        return loss

    gg.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            optimizer.step(closure)
    finally:
        gg.set_warn_always(False)
    assert [str(warning.message) for warning in caught] == []


def _transposed(library, ndim: int) -> tuple[list[int], list[str]]:
    value = library.ones((2, 3, 1, 4)[:ndim])
    library.set_warn_always(True)  # PyTorch shows these warnings once in a process otherwise
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shape = list(value.T.shape)
    finally:
        library.set_warn_always(False)
    return shape, [str(warning.message).split(" (Triggered internally")[0] for warning in caught]


@pytest.mark.torch
@given(ndim=st.integers(0, 4))
def test_x_T_off_two_dims_warns_as_pytorch(ndim, torch):
    """From-scratch code writes ``w.T`` for a 1-d weight vector and ``X.T`` on a batch of sequences (the one-hot
    RNN input): PyTorch 2.13 deprecates ``.T`` on other than 2 dims and warns (once in a process), pointing to
    ``x.mT``; glassgrad reversed the dims silently. Same shapes, same warnings now; a matrix's ``.T`` is silent."""
    assert _transposed(gg, ndim) == _transposed(torch, ndim)


def _assert_same_outcome(ours, theirs) -> None:
    """The same exception type, or numbers equal to float32 rounding."""
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        assert not isinstance(ours, type), ours
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def _power_outcome(library, dtype: str, exponent: int | float, spelling: str):
    base = library.tensor([0, 1, 2, 3], dtype=getattr(library, dtype))
    try:
        powered = {"**": lambda: base ** exponent, "pow": lambda: base.pow(exponent),
                   "torch.pow": lambda: library.pow(base, exponent), "pow_": lambda: base.clone().pow_(exponent),
                   "**=": lambda: base.clone().__ipow__(exponent)}[spelling]()
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)
    return powered.tolist(), str(powered.dtype).removeprefix("torch.")


@pytest.mark.torch
@given(dtype=st.sampled_from(["int64", "int32", "int16", "uint8", "bool"]),
       exponent=st.sampled_from([-3, -2, -1, 0, 1, 2, -1.0, -0.5, 2.0]),
       spelling=st.sampled_from(["**", "pow", "torch.pow", "pow_", "**="]))
def test_an_integer_tensor_to_a_negative_power_fails_as_in_pytorch(dtype, exponent, spelling, torch):
    """A hand-written cross-entropy's ``counts_sum**-1`` on counts still in int64 (``N.sum(1, keepdim=True)`` of a
    bigram count table) raises RuntimeError in PyTorch ("Integers to negative integer powers are not allowed");
    glassgrad raised NumPy's ValueError (OverflowError for uint8). A float power, or a power >= 0, computes in
    both, with the same numbers and dtype."""
    ours, theirs = (_power_outcome(library, dtype, exponent, spelling) for library in (gg, torch))
    if not isinstance(theirs, type) and not isinstance(ours, type):
        assert ours[1] == theirs[1]
        ours, theirs = ours[0], theirs[0]
    _assert_same_outcome(ours, theirs)


def _caught(library, make):
    """What ``make(library)`` gives (its tolist(s), or the exception's type) and its warnings' categories and first
    clauses, every warning shown."""
    library.set_warn_always(True)  # PyTorch shows some warnings once in a process otherwise
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                made = make(library)
                made = [part.tolist() for part in made] if isinstance(made, tuple) else made.tolist()
            except Exception as error:  # noqa: BLE001 (the type is what is compared)
                made = type(error)
    finally:
        library.set_warn_always(False)
    return made, [(warning.category, re.split(r"[,.:] ", str(warning.message))[0]) for warning in caught]


@pytest.mark.torch
@given(sizes=st.lists(st.integers(1, 3), min_size=0, max_size=3), as_list=st.booleans(),
       indexing=st.sampled_from([None, "ij", "xy"]))
def test_meshgrid_without_indexing_warns_as_pytorch(sizes, as_list, indexing, torch):
    """Anchor-box code builds its centres with ``torch.meshgrid(center_h, center_w)``: PyTorch 2.13 warns (once in
    a process) that the indexing argument will be required, and uses 'ij'; glassgrad was silent. With no vectors
    PyTorch raises RuntimeError; glassgrad gave an empty tuple."""

    def grids(library):
        vectors = [library.arange(size) for size in sizes]
        keywords = {} if indexing is None else {"indexing": indexing}
        return library.meshgrid(vectors, **keywords) if as_list else library.meshgrid(*vectors, **keywords)

    assert _caught(gg, grids) == _caught(torch, grids)


@pytest.mark.torch
@given(how=st.sampled_from(["from_numpy", "as_tensor"]), read_only=st.sampled_from(["no", "flag", "broadcast_to"]),
       dtype=st.sampled_from(["float32", "int64"]))
def test_a_tensor_of_a_read_only_array_warns_as_pytorch(how, read_only, dtype, torch):
    """``torch.from_numpy(df.to_numpy())`` may get a read-only array (pandas' copy-on-write; ``np.broadcast_to``
    always gives one): PyTorch warns, once in a process, that the array is not writable; glassgrad was silent.
    The warning's words differ after its first clause, as the behaviour does: PyTorch's tensor writes anyway
    (undefined behaviour), glassgrad's refuses an in-place change."""
    array = np.arange(6, dtype=dtype).reshape(2, 3)
    if read_only == "flag":
        array.setflags(write=False)
    elif read_only == "broadcast_to":
        array = np.broadcast_to(array[0], (2, 3))
    assert _caught(gg, lambda library: getattr(library, how)(array)) == _caught(
        torch, lambda library: getattr(library, how)(array))


@pytest.mark.torch
@given(name=st.sampled_from(["upsample", "upsample_nearest", "upsample_bilinear", "interpolate", "Upsample"]))
def test_the_deprecated_upsampling_names_warn_as_pytorch(name, torch):
    """``F.upsample(x, scale_factor=2)``, from older FCN code, warns in PyTorch that it is deprecated for
    ``F.interpolate``; glassgrad was silent (its ``upsample_nearest``/``upsample_bilinear`` already warned).
    ``F.interpolate`` and ``nn.Upsample`` are silent in both."""

    def upsampled(library):
        image = library.arange(4.0).reshape(1, 1, 2, 2)
        if name == "Upsample":
            return library.nn.Upsample(scale_factor=2)(image)
        return getattr(library.nn.functional, name)(image, scale_factor=2)

    ours, theirs = _caught(gg, upsampled), _caught(torch, upsampled)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    assert [category for category, _ in ours[1]] == [category for category, _ in theirs[1]]


def _messages(make) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    return [str(warning.message) for warning in caught if warning.category is UserWarning]


@pytest.mark.torch
@given(heads=st.sampled_from([1, 2, 4]), batch_first=st.booleans(), norm_first=st.booleans(), bias=st.booleans(),
       activation=st.sampled_from(["relu", "gelu", "nn.GELU", "F.relu", "F.silu"]), nested=st.booleans(),
       whole=st.booleans())
def test_a_transformer_encoder_warns_about_nested_tensors_as_pytorch(heads, batch_first, norm_first, bias,
                                                                     activation, nested, whole, torch):
    """Course transformers build ``nn.TransformerEncoder(nn.TransformerEncoderLayer(d, h), n)`` with the default
    (L, N, E) layout: PyTorch warns that it will not use nested tensors, and why (the first of its reasons);
    glassgrad, which has none, was silent. Same warning, or none, for each layer it is given; ``nn.Transformer``
    builds one too."""

    def built(library):
        act = {"relu": "relu", "gelu": "gelu", "nn.GELU": library.nn.GELU(), "F.relu": library.nn.functional.relu,
               "F.silu": library.nn.functional.silu}[activation]
        if whole:
            return lambda: library.nn.Transformer(4, heads, 1, 1, 8, activation=act, batch_first=batch_first,
                                                  norm_first=norm_first, bias=bias)
        layer = library.nn.TransformerEncoderLayer(4, heads, 8, activation=act, batch_first=batch_first,
                                                   norm_first=norm_first, bias=bias)
        return lambda: library.nn.TransformerEncoder(layer, 2, enable_nested_tensor=nested)

    assert _messages(built(gg)) == _messages(built(torch))


@pytest.mark.torch
@given(pin_memory=st.booleans(), batch_size=st.sampled_from([None, 1, 4]), epochs=st.integers(0, 2),
       shuffle=st.booleans())
def test_a_dataloader_with_pinned_memory_warns_as_pytorch_without_a_gpu(pin_memory, batch_size, epochs, shuffle,
                                                                        torch):
    """The "dive into" and Zero to Mastery loaders pass ``pin_memory=True``: PyTorch on a machine without a GPU
    warns at each epoch's start that pinned memory won't be used; glassgrad was silent. The batches are the same
    (unshuffled), and ``loader.pin_memory`` says what was asked."""

    def epochs_of(library):
        loader = library.utils.data.DataLoader(library.utils.data.TensorDataset(library.arange(6.0)),
                                               batch_size=batch_size, pin_memory=pin_memory,
                                               shuffle=shuffle and batch_size is not None)
        seen = []
        shown = _messages(lambda: [seen.append(len(batch[0].reshape(-1))) for _ in range(epochs) for batch in loader])
        return loader.pin_memory, seen, shown

    assert epochs_of(gg) == epochs_of(torch)


@pytest.mark.torch
@given(shapes=st.lists(st.lists(st.integers(1, 3), max_size=3), min_size=2, max_size=2),
       name=st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "eq", "logical_and", "logical_or", "logical_xor",
                             "&", "|", "^", "bitwise_and"]))
def test_comparing_tensors_of_shapes_that_do_not_broadcast_fails_as_in_pytorch(shapes, name, torch):
    """An accuracy written by hand, ``(y_hat.argmax(1) == y)``, with ``y`` of the wrong length raises RuntimeError
    in PyTorch ("The size of tensor a (2) must match the size of tensor b (3)"); glassgrad let NumPy's ValueError
    through for comparisons and the logical and bitwise operations (arithmetic already raised RuntimeError).
    Where the shapes broadcast, the same answers."""

    def compared(library):
        a = library.tensor(np.arange(np.prod(shapes[0])).reshape(shapes[0]) % 2)
        b = library.tensor(np.arange(np.prod(shapes[1])).reshape(shapes[1]) % 3 // 2)
        symbol = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "&": "and_", "|": "or_",
                  "^": "xor"}
        try:
            if name in symbol:
                return getattr(operator, symbol[name])(a, b).tolist()
            return getattr(library, name)(a, b).tolist()
        except Exception as error:  # noqa: BLE001 (the type is what is compared)
            return type(error)

    assert compared(gg) == compared(torch)


@pytest.mark.torch
@given(dim=st.sampled_from([1.0, 0.5, True, "a", 1, -1, 2]),
       call=st.sampled_from(["sum", "softmax", "argmax", "max", "cumsum", "squeeze", "transpose", "cat"]))
def test_a_dim_that_is_no_whole_number_fails_as_in_pytorch(dim, call, torch):
    """``torch.max(X, 0.0)`` (a learner's relu, meant as ``torch.max(X, torch.tensor(0.0))``) and ``x.sum(1.0)``
    raise TypeError in PyTorch; glassgrad raised IndexError ("dim 0.0 is out of range"), or took True as dim 1.
    An int dim out of range stays IndexError in both."""

    def outcome(library):
        x = library.arange(6.0).reshape(2, 3)
        try:
            return {"sum": lambda: x.sum(dim), "softmax": lambda: x.softmax(dim), "argmax": lambda: x.argmax(dim),
                    "max": lambda: library.max(x, dim)[0], "cumsum": lambda: x.cumsum(dim),
                    "squeeze": lambda: x.squeeze(dim), "transpose": lambda: x.transpose(dim, 0),
                    "cat": lambda: library.cat([x, x], dim)}[call]().tolist()
        except Exception as error:  # noqa: BLE001 (the type is what is compared)
            return type(error)

    _assert_same_outcome(outcome(gg), outcome(torch))


@pytest.mark.torch
@given(function=st.sampled_from(["arange", "range"]), start=st.integers(-3, 3), end=st.integers(-3, 3),
       step=st.sampled_from([0, 0.0, 1, -1, 2, 0.5]))
def test_a_range_that_never_arrives_fails_as_in_pytorch(function, start, end, step, torch):
    """``torch.arange(0, n, 0)`` raises RuntimeError in PyTorch ("step must be nonzero"), and so does
    ``torch.range`` going the wrong way; glassgrad raised ValueError. Where PyTorch counts, the same numbers."""

    def outcome(library):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.range is deprecated (a warning in both)
            try:
                return getattr(library, function)(start, end, step).tolist()
            except Exception as error:  # noqa: BLE001 (the type is what is compared)
                return type(error)

    _assert_same_outcome(outcome(gg), outcome(torch))


@pytest.mark.torch
@given(classes=st.integers(1, 4), target_shape=st.lists(st.integers(1, 4), max_size=2),
       name=st.sampled_from(["cross_entropy", "nll_loss"]), probabilities=st.booleans())
def test_one_samples_scores_with_a_target_of_the_wrong_shape_fail_as_in_pytorch(classes, target_shape, name,
                                                                                probabilities, torch):
    """Scores of one sample, shape (C,), take one class index (shape () or (1,)) or C probabilities. A
    hand-written classifier that forgot its batch dim, ``F.cross_entropy(net(x), y)`` with ``y`` of two labels,
    raises ValueError in PyTorch; glassgrad raised RuntimeError from a reshape, and computed a loss for a (1, 1)
    target where PyTorch refuses one of more dims (RuntimeError)."""
    if probabilities and name == "nll_loss":
        return

    def loss(library):
        scores = library.arange(float(classes), dtype=library.float64) / 3
        target = (library.full(tuple(target_shape), 1.0 / classes, dtype=library.float64) if probabilities
                  else library.zeros(tuple(target_shape), dtype=library.long))
        try:
            return getattr(library.nn.functional, name)(scores, target).item()
        except Exception as error:  # noqa: BLE001 (the type is what is compared)
            return type(error)

    _assert_same_outcome(loss(gg), loss(torch))
