"""Round 140: programs written the way technique tutorials write them -- knowledge distillation with KLDivLoss,
mixup/CutMix with a Beta distribution and soft-target cross entropy, a toy CTC speech model, an nn.Transformer toy
translation with masks and greedy decoding, pruning and weight/spectral norm (old and parametrization forms), metric
learning with triplet and cosine-embedding losses, a SegNet-style MaxPool2d/MaxUnpool2d net, Poisson and Gaussian
likelihood regression, CPU autocast with a GradScaler, gradient accumulation with clipping and OneCycleLR -- each run
unchanged under PyTorch 2.13 and under glassgrad (``import torch`` giving glassgrad), with the same numbers (rtol
1e-9 in float64, 1e-4 in float32), exception classes and warnings. Weights and data come from NumPy; random draws
are compared by range, shape and membership only.

The programs live in ``tests/learner_programs/techniques/``; below them, what glassgrad did differently.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

TECHNIQUES = Path(__file__).parent / "learner_programs" / "techniques"
PROGRAMS = sorted(TECHNIQUES.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_technique_program_gives_pytorchs_numbers_classes_and_warnings(program, torch):
    assert_pytorchs_numbers(program, same_warnings=True)


def _outcome(call):
    try:
        value = call()
    except Exception as error:  # noqa: BLE001 (the class is what is compared)
        return type(error)
    return np.asarray(value.detach().numpy() if hasattr(value, "detach") else value, dtype=np.float64)


def _same(ours, theirs, rtol=1e-9):
    if isinstance(theirs, type):
        assert ours is theirs, (ours, theirs)
    else:
        assert not isinstance(ours, type), ours
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * 1e-3)


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from(["int64", "int32", "uint8", "bool", "float32", "float64"]), log_target=st.booleans(),
       reduction=st.sampled_from(["batchmean", "sum", "none"]), seed=st.integers(0, 2**16))
def test_kl_div_refuses_an_integer_target_as_pytorch(dtype, log_target, reduction, seed, torch):
    """A distillation target of class ids or a 0/1 mask (int or bool) is not a distribution: PyTorch raises
    RuntimeError ("Integral inputs not supported"); glassgrad read it as the probabilities 0 and 1 and gave a
    number (**silent**). Float targets still give PyTorch's loss."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(3, 4))
    target = rng.integers(0, 2, size=(3, 4)).astype(dtype) if dtype[0] in "iub" else rng.random((3, 4)).astype(dtype)

    def loss(library):
        log_probs = library.log_softmax(library.tensor(scores), 1)
        return library.nn.functional.kl_div(log_probs, library.tensor(target), reduction=reduction,
                                            log_target=log_target)

    _same(_outcome(lambda: loss(gg)), _outcome(lambda: loss(torch)), 1e-6 if dtype == "float32" else 1e-9)
    if dtype[0] in "iub":
        with pytest.raises(RuntimeError, match=r"kl_div: needs a floating tensor, got .*; convert it with x.float\(\)"):
            loss(gg)


@pytest.mark.torch
@pytest.mark.parametrize("how", ["float", "shape"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_refuses_wrong_indices_with_pytorchs_class(how, dims, torch):
    """Indices of another dtype or shape than the pooled input's: PyTorch raises RuntimeError; glassgrad raised
    ValueError (its message unchanged)."""
    def unpool(library):
        F = library.nn.functional
        x = library.arange(2.0 * 4 ** dims).reshape((1, 2) + (4,) * dims)
        pooled, indices = getattr(F, f"max_pool{dims}d")(x, 2, return_indices=True)
        indices = indices.double() if how == "float" else indices[:, :1]
        return getattr(F, f"max_unpool{dims}d")(pooled, indices, 2)

    assert _outcome(lambda: unpool(torch)) is RuntimeError
    with pytest.raises(RuntimeError, match="indices must be integers of the input's shape"):
        unpool(gg)


def _ctc(library, targets, input_lengths, target_lengths, log_probs=None):
    rng = np.random.default_rng(140)
    scores = library.tensor(rng.normal(size=(6, 2, 5)))
    log_probs = scores.log_softmax(2) if log_probs is None else log_probs(library, scores)
    return library.nn.functional.ctc_loss(log_probs, targets(library), input_lengths(library),
                                          target_lengths(library), reduction="none")


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(labels=st.lists(st.lists(st.floats(1.0, 4.99), min_size=3, max_size=3), min_size=2, max_size=2),
       dtype=st.sampled_from(["float32", "float64"]))
def test_ctc_loss_reads_float_targets_as_pytorch(labels, dtype, torch):
    """Targets built as floats (``torch.zeros(N, S)`` filled with label ids) are cut to int64 by PyTorch, which
    gives the loss; glassgrad refused them with a TypeError."""
    def targets(library):
        return library.tensor(np.array(labels, dtype=dtype))

    def counts(values):
        return lambda library: library.tensor(values)

    _same(_outcome(lambda: _ctc(gg, targets, counts([6, 5]), counts([3, 2]))),
          _outcome(lambda: _ctc(torch, targets, counts([6, 5]), counts([3, 2]))))


@pytest.mark.torch
@pytest.mark.parametrize("case", ["float tensor lengths", "float list lengths", "int64 log_probs", "bool log_probs"])
def test_ctc_loss_refuses_bad_arguments_with_pytorchs_class(case, torch):
    """Float lengths in a tensor reach PyTorch's kernel (RuntimeError "input_lengths must be integral"), in a list
    its argument parser (TypeError); integer log-probabilities have no kernel (NotImplementedError). glassgrad
    raised TypeError, TypeError and RuntimeError."""
    def targets(library):
        return library.tensor([[1, 2, 2], [3, 0, 0]])

    lengths = {"float tensor lengths": lambda library: library.tensor([6.0, 5.0]),
               "float list lengths": lambda library: [6.0, 5.0]}.get(case, lambda library: library.tensor([6, 5]))
    log_probs = {"int64 log_probs": lambda library, scores: scores.long(),
                 "bool log_probs": lambda library, scores: scores > 0}.get(case)
    theirs = _outcome(lambda: _ctc(torch, targets, lengths, lambda library: library.tensor([3, 1]), log_probs))
    ours = _outcome(lambda: _ctc(gg, targets, lengths, lambda library: library.tensor([3, 1]), log_probs))
    assert isinstance(theirs, type) and ours is theirs
    with pytest.raises(theirs, match="ctc_loss: .* must .*; (pass e.g. torch.tensor|convert it with x.float)"):
        _ctc(gg, targets, lengths, lambda library: library.tensor([3, 1]), log_probs)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64"])
def test_autocast_exit_returns_false_as_pytorch(dtype, torch):
    """``autocast.__exit__`` returns False in PyTorch (an exception in the block goes on); glassgrad's gave None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float64: both warn that CPU autocast turns itself off
        theirs = torch.autocast("cpu", dtype=getattr(torch, dtype))
        ours = gg.autocast("cpu", dtype=getattr(gg, dtype))
    for block in (theirs, ours):
        block.__enter__()
    assert ours.__exit__(None, None, None) is theirs.__exit__(None, None, None) is False
    with pytest.raises(ZeroDivisionError), gg.autocast("cpu"):
        _ = 1 / 0


NESTED_ENCODER = """
import warnings
import numpy as np
{install}
import torch
import torch.nn as nn
layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=True).eval()
x = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 3, 8)).astype(np.float32))
masks = {{"not left-aligned": [[False, True, False], [False, False, False]], "none padded": [[False] * 3] * 2,
         "trailing": [[False, False, True], [False, False, False]]}}
for name in {order}:
    for call in range(2):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with torch.no_grad():
                encoder(x, src_key_padding_mask=torch.tensor(masks[name]))
        print(name, call, [str(w.message).split(".")[0] for w in seen])
"""


@pytest.mark.torch
@pytest.mark.parametrize("order", [["not left-aligned", "trailing", "none padded"], ["none padded", "trailing"]])
def test_the_nested_tensor_path_warns_once_as_pytorch(order, torch):
    """A TransformerEncoder in evaluation with a padding mask runs on nested tensors in PyTorch, which warns once per
    process that their API is a prototype (every nn.Transformer translation tutorial shows it at its greedy
    decode); glassgrad follows that path (the padding comes out 0) but did not warn. A mask padded before a kept
    position leaves the path, and no warning comes."""
    def shown(install):
        program = NESTED_ENCODER.format(install=install, order=order)
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                              cwd=Path(__file__).parent)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    theirs = shown("")
    assert "prototype stage" in theirs
    assert shown("from glassgrad import torch_names; torch_names.install()") == theirs
