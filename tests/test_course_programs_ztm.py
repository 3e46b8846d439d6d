"""Programs written the way the "Zero to Mastery: Learn PyTorch for Deep Learning" course's notebooks teach
PyTorch (00 fundamentals, 01 workflow, 02 classification, 03 computer vision, 04/05 custom datasets and going
modular, 08 replicating ViT), each run unchanged under PyTorch 2.13 and under glassgrad (``import torch`` giving
glassgrad), with the same numbers: rtol 1e-4 in float32, 1e-9 in float64.

The programs live in ``tests/learner_programs/ztm/``; below them, what they once did wrong here."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

ZTM = Path(__file__).parent / "learner_programs" / "ztm"
PROGRAMS = sorted(ZTM.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_zero_to_mastery_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=3), seed=st.integers(0, 2**16),
       to_file=st.booleans())
def test_save_and_load_take_pytorchs_keyword_names(shape, seed, to_file, torch):
    """The course saves with ``torch.save(obj=model.state_dict(), f=MODEL_SAVE_PATH)`` and loads with
    ``model.load_state_dict(torch.load(f=MODEL_SAVE_PATH))``: glassgrad named the file ``path``, so both raised
    TypeError (unexpected keyword argument 'f')."""
    weights = np.random.default_rng(seed).normal(size=shape)
    found = []
    for library in (gg, torch):
        model_state = {"weights": library.tensor(weights), "bias": library.tensor([0.5])}
        with tempfile.TemporaryDirectory() as folder:
            f = Path(folder) / "model.pth" if to_file else io.BytesIO()
            library.save(obj=model_state, f=f)
            if not to_file:
                f.seek(0)
            loaded = library.load(f=f)
        found.append({name: value.numpy() for name, value in loaded.items()})
    ours, theirs = found
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name])
        assert ours[name].dtype == theirs[name].dtype


BINARY_LOSSES = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]


def assert_refused_as_by_pytorch(loss: str, inputs: tuple, message: str, torch) -> None:
    """``F.<loss>(*inputs)`` (``inputs`` a function of the library) raises RuntimeError in glassgrad, with ``message``,
    exactly where it does in PyTorch; otherwise the two give the same number."""
    found = []
    for library in (gg, torch):
        try:
            found.append(getattr(library.nn.functional, loss)(*inputs(library)).item())
        except RuntimeError as error:
            found.append(str(error) if library is gg else "RuntimeError")
    ours, theirs = found
    if theirs == "RuntimeError":
        assert re.match(message, str(ours)), ours
    else:
        assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-6)  # float32 sums of numbers near 1 (a mean may be ~0)


@pytest.mark.torch
@given(labels=st.lists(st.integers(0, 1), min_size=1, max_size=6), loss=st.sampled_from(BINARY_LOSSES),
       dtype=st.sampled_from(["int64", "int32", "uint8", "bool", "float32"]), weighted=st.booleans())
def test_binary_cross_entropy_refuses_integer_labels_as_pytorch(labels, loss, dtype, weighted, torch):
    """The course's circles notebook turns its labels to floats, ``torch.from_numpy(y).type(torch.float)``, because
    ``nn.BCEWithLogitsLoss()(logits, y)`` with int64 labels raises RuntimeError in PyTorch; glassgrad converted
    them and trained, so a program that fails on PyTorch ran here. Floating labels give PyTorch's number."""
    scores = np.linspace(0.1, 0.9, len(labels), dtype=np.float32)
    weight = np.linspace(0.5, 1.5, len(labels), dtype=np.float32) if weighted else None

    def inputs(library):
        return (library.tensor(scores), library.tensor(labels).to(getattr(library, dtype)),
                None if weight is None else library.tensor(weight))

    assert_refused_as_by_pytorch(loss, inputs, rf"^{loss}: the target must be floating .* y\.float\(\)$", torch)


@pytest.mark.torch
@given(labels=st.lists(st.integers(0, 3), min_size=1, max_size=6), loss=st.sampled_from(["cross_entropy", "nll_loss"]),
       dtype=st.sampled_from(["int64", "uint8", "int32", "int16", "int8", "bool"]))
@example(labels=[0, 0, 2, 1, 3, 3], loss="nll_loss", dtype="int64")  # a mean of ~0: PyTorch 9.9e-9, glassgrad 0.0
def test_class_index_targets_are_int64_or_uint8_as_in_pytorch(labels, loss, dtype, torch):
    """PyTorch's cross-entropy and NLL loss take class indices as int64 or uint8 only ("expected target dtype to
    be Long or Byte"); glassgrad took int32, int16 and int8 too, so labels made as int32 trained here and not
    there."""
    logits = np.linspace(-1, 1, 4 * len(labels), dtype=np.float32).reshape(len(labels), 4)

    def inputs(library):
        return library.tensor(logits), library.tensor(labels).to(getattr(library, dtype))

    assert_refused_as_by_pytorch(loss, inputs, rf"^{loss}: targets must be class indices \(int64, or uint8\).*y\.long",
                                 torch)


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), name=st.sampled_from(["softmax", "log_softmax"]),
       form=st.sampled_from(["function", "method"]))
def test_softmax_needs_its_dim_as_in_pytorch(shape, name, form, torch):
    """``torch.softmax(logits)`` and ``logits.softmax()`` raise TypeError in PyTorch (``dim`` is required; only
    ``F.softmax`` still picks one, with a warning); glassgrad took the last dim silently, so a program left
    without ``dim=1`` ran here and not there. Given a dim, the numbers are PyTorch's."""
    logits = np.random.default_rng(len(shape)).normal(size=shape)
    for library in (gg, torch):
        x = library.tensor(logits)
        call = getattr(library, name) if form == "function" else getattr(x, name)
        with pytest.raises(TypeError, match="dim"):
            call(x) if form == "function" else call()
    dim = len(shape) - 1
    ours, theirs = (getattr(library, name)(library.tensor(logits), dim=dim).numpy() for library in (gg, torch))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.torch
@given(values=st.lists(st.floats(-5, 5, width=32), min_size=1, max_size=4),
       shape=st.sampled_from([(), (1,), (1, 1)]), dtype=st.sampled_from(["float32", "float64", "int32"]),
       nested=st.booleans())
def test_tensors_inside_a_list_are_read_as_their_numbers_as_pytorch(values, shape, dtype, nested, torch):
    """A learner collects each epoch's loss and writes ``torch.tensor(loss_values)``: PyTorch reads a tensor inside a
    list as the one number it holds, so losses of shape (1,) give a 1-d tensor; glassgrad let NumPy read them as
    lists and gave shape (n, 1) (and stacked tensors of more numbers, which PyTorch refuses)."""
    found = []
    for library in (gg, torch):
        entries = [library.tensor(value).to(getattr(library, dtype)).reshape(shape) for value in values]
        data = [[entry] for entry in entries] if nested else entries
        made, legacy = library.tensor(data), library.DoubleTensor(data)  # also torch.DoubleTensor([...])
        found.append((made.numpy(), tuple(made.shape), str(made.dtype).replace("torch.", ""), legacy.numpy()))
    (ours, our_shape, our_dtype, our_legacy), (theirs, their_shape, their_dtype, their_legacy) = found
    assert (our_shape, our_dtype) == (their_shape, their_dtype)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(our_legacy, their_legacy)
    assert our_legacy.shape == their_legacy.shape
    with pytest.raises(ValueError, match="only one element tensors"):
        torch.tensor([torch.zeros(2)] * len(values))
    with pytest.raises(ValueError, match=r"^tensor\(\): a tensor inside a list is read as one number.*gg\.stack"):
        gg.tensor([gg.zeros(2)] * len(values))


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Length of split")  # PyTorch warns of an empty part
@given(total=st.integers(1, 12), cut=st.floats(0, 1), seed=st.integers(0, 2**16))
def test_random_split_takes_pytorchs_keyword_names(total, cut, seed, torch):
    """``random_split(dataset=data, lengths=[train_size, test_size], generator=...)``, PyTorch's names, raised
    TypeError here (glassgrad called the sizes ``lengths_or_fractions``). The libraries draw different orders;
    the sizes and that each sample lands in one part are the same."""
    train_size = int(cut * total)
    found = []
    for library in (gg, torch):
        data = library.utils.data.TensorDataset(library.arange(total))
        parts = library.utils.data.random_split(dataset=data, lengths=[train_size, total - train_size],
                                                generator=library.Generator().manual_seed(seed))
        found.append(([len(part) for part in parts], sorted(index for part in parts for index in part.indices)))
    assert found[0] == found[1] == ([train_size, total - train_size], list(range(total)))
