"""Programs written the way a university vision course's PyTorch assignments are written (numerical gradient checks
of a two-layer net, naive loop layers against the built-ins, saliency maps, fooling images and class visualization,
Grad-CAM with hooks and guided backpropagation, style transfer, GAN losses, RNN captioning with masked attention,
the three levels of the PyTorch API with checkpoints, contrastive self-supervised losses), each run unchanged under
PyTorch 2.13 and under glassgrad (``import torch`` giving glassgrad), with the same numbers: rtol 1e-4 in float32,
1e-9 in float64. Weights and data come from NumPy so both start alike; random draws are compared only by shape.

The programs live in ``tests/learner_programs/cs231n/``; below them, what glassgrad once did differently."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

CS231N_PROGRAMS = Path(__file__).parent / "learner_programs" / "cs231n"
PROGRAMS = sorted(CS231N_PROGRAMS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_vision_course_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)


def _made_by_an_op(library, how):
    weights = library.ones(3, 4, requires_grad=True)
    return {"scaled": lambda: weights * 0.1, "viewed": lambda: weights.view(12),
            "indexed": lambda: weights[0], "summed": lambda: weights.sum()}[how]()


def _requires_grad_outcome(library, how, value, spelling):
    made = _made_by_an_op(library, how)
    try:
        if spelling == "attribute":
            made.requires_grad = value
        else:
            made.requires_grad_(value)
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)
    return made.requires_grad, made.is_leaf


@pytest.mark.torch
@given(how=st.sampled_from(["scaled", "viewed", "indexed", "summed"]), value=st.booleans(),
       spelling=st.sampled_from(["attribute", "method"]))
def test_requires_grad_of_a_tensor_made_by_an_op_changes_as_in_pytorch(how, value, spelling, torch):
    """``w = torch.randn(D, H, requires_grad=True) * scale`` and then ``w.requires_grad = True`` (the flag meant for
    the leaf, set on the scaled copy) raises RuntimeError in PyTorch ("you can only change requires_grad flags of
    leaf variables"): the optimizer would update a tensor whose ``.grad`` stays None. glassgrad accepted it silently
    (it refused only ``False``). ``requires_grad_()`` (True) on such a tensor is allowed in both, and changes
    nothing."""
    ours = _requires_grad_outcome(gg, how, value, spelling)
    theirs = _requires_grad_outcome(torch, how, value, spelling)
    assert ours == theirs
    if theirs is RuntimeError:
        with pytest.raises(RuntimeError, match="leaf variables; use t.detach()"):
            _made_by_an_op(gg, how).requires_grad = value


def _pad_outcome(library, shape, amounts, mode):
    x = library.arange(float(np.prod(shape))).reshape(shape)
    try:
        return tuple(library.nn.functional.pad(x, amounts, mode=mode).shape)
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)


@pytest.mark.torch
@given(shape=st.lists(st.integers(2, 3), min_size=1, max_size=6), pairs=st.integers(1, 3),
       mode=st.sampled_from(["reflect", "replicate", "circular"]))
def test_padding_by_copying_takes_the_inputs_pytorch_takes(shape, pairs, mode, torch):
    """``F.pad(x, (1, 1), mode='reflect')`` of an image batch (N, C, H, W) -- the padding meant for (pad, pad, pad,
    pad) -- raises NotImplementedError in PyTorch ("Padding size 2 is not supported for 4D input tensor"): a
    non-constant mode pads the last k dims of an input with k + 1 or k + 2 dims. glassgrad padded the last dim alone;
    now it raises the same error, saying which amounts fit. Where PyTorch pads, the shapes agree."""
    amounts = (1,) * (2 * pairs)
    ours = _pad_outcome(gg, tuple(shape), amounts, mode)
    assert ours == _pad_outcome(torch, tuple(shape), amounts, mode)


def _integer_outcome(library, name, dtype, dim):
    x = library.tensor([[1, 0, 2], [3, 5, 4]], dtype=getattr(library, dtype))
    functional = library.nn.functional
    call = {"softmax": lambda: functional.softmax(x, dim=dim), "log_softmax": lambda: functional.log_softmax(x, dim),
            "Tensor.softmax": lambda: x.softmax(dim), "layer_norm": lambda: functional.layer_norm(x, (3,))}[name]
    try:
        return call().tolist(), None
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error), str(error)


@pytest.mark.torch
@given(name=st.sampled_from(["softmax", "log_softmax", "Tensor.softmax", "layer_norm"]),
       dtype=st.sampled_from(["int64", "int32", "uint8", "bool"]), dim=st.sampled_from([0, 1, -1]))
def test_softmax_of_integer_scores_fails_with_pytorchs_error_type(name, dtype, dim, torch):
    """Scores left as integers (``F.softmax(torch.tensor([[1, 2]]), dim=1)``, the tensor built from a list of ints)
    raise NotImplementedError in PyTorch (no integer kernel: "softmax_lastdim_kernel_impl
    not implemented for 'Long'"), and so does layer_norm; glassgrad raised RuntimeError (NotImplementedError's base,
    so ``except RuntimeError`` catches both). Now the same type, the message still naming the fix (``.float()``)."""
    (ours, message), (theirs, _) = (_integer_outcome(library, name, dtype, dim) for library in (gg, torch))
    assert ours == theirs
    assert message is None or "needs a floating tensor, got" in message


SCALAR_SPELLINGS = {"float(t)": float, "'%.3f' % t": lambda t: "%.3f" % t,  # noqa: UP031 (the learner's spelling)
                    "'%d' % t": lambda t: "%d" % t,  # noqa: UP031
                    "math.sqrt(t)": math.sqrt, "int(t)": int, "t.item()": lambda t: t.item(),
                    "f'{t:.3f}'": lambda t: f"{t:.3f}"}


def _warns_converting(library, spelling, requires_grad, made_by_an_op, under_no_grad):
    weights = library.tensor([1.5, 2.0], requires_grad=requires_grad)
    loss = (weights * weights).sum() if made_by_an_op else weights[0].detach().requires_grad_(requires_grad)
    with warnings.catch_warnings(record=True) as caught, library.set_grad_enabled(not under_no_grad):
        warnings.simplefilter("always")
        number = SCALAR_SPELLINGS[spelling](loss)
    return number, [warning.category for warning in caught if "Converting a tensor with requires_grad" in
                    str(warning.message)]


@pytest.mark.torch
@given(spelling=st.sampled_from(sorted(SCALAR_SPELLINGS)), requires_grad=st.booleans(), made_by_an_op=st.booleans(),
       under_no_grad=st.booleans())
def test_float_of_a_tensor_that_requires_grad_warns_as_pytorch(spelling, requires_grad, made_by_an_op, under_no_grad,
                                                               torch):
    """``print('loss = %.4f' % loss)`` or ``float(loss)`` on a loss that requires grad warns in PyTorch 2.13
    ("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior"; once per process,
    every time with ``set_warn_always(True)``); ``loss.item()`` and ``int(loss)`` do not, nor does anything under
    ``no_grad``. glassgrad was silent; now the same UserWarning for the same spellings, whose showing Python's warning
    filters decide."""
    settings = (spelling, requires_grad, made_by_an_op, under_no_grad)
    found = []
    for library in (torch, gg):  # each in its warn-always mode: the warning is once in a process otherwise
        library.set_warn_always(True)
        try:
            found.append(_warns_converting(library, *settings))
        finally:
            library.set_warn_always(False)
    assert found[1] == found[0]


LIST_SPELLINGS = {
    "tensor([a, b])": lambda library, a, b: library.tensor([a, b]),
    "tensor([[a], [b]])": lambda library, a, b: library.tensor([[a], [b]]),
    "tensor((a, b))": lambda library, a, b: library.tensor((a, b)),
    "as_tensor([a])": lambda library, a, b: library.as_tensor([a]),
    "Tensor([a, b])": lambda library, a, b: library.Tensor([a, b]),
    "FloatTensor([a])": lambda library, a, b: library.FloatTensor([a]),
    "a.new_tensor([a, b])": lambda library, a, b: a.new_tensor([a, b]),
    "tensor(a)": lambda library, a, b: library.tensor(a),
}


def _list_warnings(library, spelling, requires_grad):
    weights = library.tensor([1.5, -2.0], requires_grad=requires_grad)
    first, second = weights * 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = LIST_SPELLINGS[spelling](library, first, second)
    return made.tolist(), sorted({str(warning.message)[:30] for warning in caught}), {warning.filename
                                                                                      for warning in caught}


@pytest.mark.torch
@given(spelling=st.sampled_from(sorted(LIST_SPELLINGS)), requires_grad=st.booleans())
def test_a_list_of_tensors_that_require_grad_warns_at_the_learners_line(spelling, requires_grad, torch):
    """``torch.tensor([loss_real, loss_fake])`` (a GAN's two losses collected for a plot, or summed that way by
    mistake) warns in PyTorch that each number leaves the graph, as ``float(t)`` does; glassgrad was silent. Now the
    same UserWarning, pointing at the learner's line, as does ``torch.tensor(t)``'s copy warning (it pointed into
    glassgrad's keyword wrapper)."""
    found = []
    for library in (torch, gg):  # each in its warn-always mode: the warning is once in a process otherwise
        library.set_warn_always(True)
        try:
            found.append(_list_warnings(library, spelling, requires_grad))
        finally:
            library.set_warn_always(False)
    theirs, ours = found
    assert ours[:2] == theirs[:2]
    assert ours[2] <= {__file__}
