"""Programs written the way decoder-only GPT code is written today (nanoGPT's model, training loop and sampling; the
"build a large language model from scratch" GPT with a hand-written LayerNorm and GELU, saved and resumed) and the
way classic word vectors are trained (skip-gram with negative sampling), each run unchanged under PyTorch 2.13 and
under glassgrad (``import torch`` giving glassgrad), with the same numbers: rtol 1e-4 in float32, 1e-9 in float64.
Weights and data come from NumPy so both start alike; random draws (multinomial sampling, dropout) are compared only
by shape, as the libraries draw differently by design.

The programs live in ``tests/learner_programs/gpt/``; below them, what they once did wrong here."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

GPT_PROGRAMS = Path(__file__).parent / "learner_programs" / "gpt"
PROGRAMS = sorted(GPT_PROGRAMS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_gpt_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)


def _loss_outcome(library, name, scores_shape, target_shape, probabilities):
    scores = library.zeros(scores_shape, dtype=library.float64)
    target = (library.full(target_shape, 0.25, dtype=library.float64) if probabilities
              else library.zeros(target_shape, dtype=library.long))
    try:
        return getattr(library.nn.functional, name)(scores, target).item()
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)


@pytest.mark.torch
@given(scores_shape=st.lists(st.integers(1, 3), min_size=2, max_size=4),
       target_shape=st.lists(st.integers(1, 3), min_size=0, max_size=4),
       name=st.sampled_from(["cross_entropy", "nll_loss"]), probabilities=st.booleans())
def test_a_target_of_the_wrong_shape_fails_with_pytorchs_error_type(scores_shape, target_shape, name, probabilities,
                                                                    torch):
    """A GPT's ``F.cross_entropy(logits, targets)`` with (B, T, V) logits and (B, T) targets (the ``.view(-1, V)``
    forgotten) raises RuntimeError in PyTorch ("Expected target size [B, V], got [B, T]"); glassgrad raised
    ValueError. PyTorch raises ValueError only where the batch sizes differ (or a 1-d input gets more than one
    label). Where PyTorch computes, the loss is the same."""
    if probabilities and name == "nll_loss":
        return
    ours, theirs = (_loss_outcome(library, name, tuple(scores_shape), tuple(target_shape), probabilities)
                    for library in (gg, torch))
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        assert ours == pytest.approx(theirs)


@pytest.mark.torch
def test_nanogpts_choice_of_dtype_runs_as_on_a_machine_without_cuda(torch):
    """nanoGPT picks ``'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float16'``,
    and other scripts ask ``torch.cuda.is_bf16_supported()`` alone: PyTorch without a GPU says False; glassgrad had
    no such name (AttributeError)."""
    for library in (gg, torch):
        assert library.cuda.is_bf16_supported() is False
        assert library.cuda.is_bf16_supported(including_emulation=False) is False


@pytest.mark.torch
@given(spelling=st.sampled_from(["torch.cuda.amp.GradScaler", "torch.cuda.amp.autocast", "torch.amp.GradScaler",
                                 "torch.amp.autocast"]),
       enabled=st.booleans(), init_scale=st.sampled_from([2.0 ** 16, 8.0]))
def test_the_older_amp_spellings_warn_as_pytorchs(spelling, enabled, init_scale, torch):
    """nanoGPT builds ``torch.cuda.amp.GradScaler(enabled=(dtype == 'float16'))``; PyTorch 2.13 warns (FutureWarning)
    that ``torch.amp.GradScaler('cuda', ...)`` is the spelling now, and so for ``torch.cuda.amp.autocast``; glassgrad
    was silent. The same FutureWarnings as PyTorch's. (Without CUDA both also turn a 'cuda' scaler off, with a
    UserWarning: tests/test_runtime_names.py.)"""

    def made(library):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if spelling.endswith("GradScaler"):
                kind = library.cuda.amp.GradScaler if "cuda" in spelling else library.amp.GradScaler
                args = () if "cuda" in spelling else ("cuda",)
                kind(*args, init_scale=init_scale, enabled=enabled)
            else:
                if "cuda" in spelling:
                    block = library.cuda.amp.autocast(enabled=False)
                else:
                    block = library.amp.autocast("cuda", enabled=False)
                with block:
                    pass
        return [str(warning.message) for warning in caught if warning.category is FutureWarning]

    assert made(gg) == made(torch)


@pytest.mark.torch
@given(shape=st.lists(st.integers(0, 3), max_size=3), dtype=st.sampled_from(["float32", "float64", "int64"]),
       how=st.sampled_from(["tensor", "new_tensor", "as_tensor", "tensor of a list", "tensor of an array",
                            "asarray copy", "new"]),
       grad=st.booleans())
def test_copying_a_tensor_with_torch_tensor_warns_as_pytorch(shape, dtype, how, grad, torch):
    """Weight-loading code of the "LLM from scratch" kind writes ``torch.nn.Parameter(torch.tensor(w))``; given a
    tensor ``w``, PyTorch warns that ``w.detach().clone()`` is the way to copy it (``x.new_tensor(w)`` too), and
    glassgrad was silent. ``as_tensor``, ``asarray(t, copy=True)``, ``x.new(t)`` and a list of numbers or tensors copy
    without a word in both. The copies are
    PyTorch's: same numbers and dtype; ``as_tensor(t, dtype=other)`` is ``t.to(other)``, in the graph (glassgrad made a
    new leaf, so the gradient silently stopped there)."""
    values = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)

    def copy(library):
        source = library.tensor(values, requires_grad=grad and dtype != "int64")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            made = {"tensor": lambda: library.tensor(source, dtype=library.float64),
                    "new_tensor": lambda: source.new_tensor(source),
                    "as_tensor": lambda: library.as_tensor(source, dtype=library.float64),
                    "tensor of a list": lambda: library.tensor([source.detach().sum(), source.detach().sum()]),
                    "tensor of an array": lambda: library.tensor(values),
                    "asarray copy": lambda: library.asarray(source.detach(), copy=True),
                    "new": lambda: source.new(source.detach())}[how]()
        messages = [str(warning.message) for warning in caught if warning.category is UserWarning]
        if made.requires_grad:  # as_tensor of another dtype is a cast in the graph: its gradient reaches the source
            (made * library.arange(made.numel()).reshape(made.shape)).sum().backward()
        gradient = None if source.grad is None else source.grad.tolist()
        return made.tolist(), str(made.dtype).removeprefix("torch."), made.requires_grad, messages, gradient

    assert copy(gg) == copy(torch)


@pytest.mark.parametrize("name", ["polar", "view_as_complex", "view_as_real", "complex"])
def test_rotary_embeddings_by_complex_numbers_are_refused_with_the_real_recipe(name):
    """Llama-style code rotates queries and keys by ``torch.polar`` and ``torch.view_as_complex``; glassgrad, which
    has no complex dtype, raised AttributeError (no such name). One line now says so and gives the real-number
    recipe, which the test checks against the complex rotation worked out with NumPy."""
    with pytest.raises(NotImplementedError, match=rf"^torch\.{name}: glassgrad has no complex numbers; rotary .* "
                                                  r"rotate_half\(x\) = torch\.cat\(\(-x2, x1\), dim=-1\)$"):
        getattr(gg, name)(gg.ones(2, 2), gg.ones(2, 2))
    rng = np.random.default_rng(0)
    x, angles = rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    x1, x2 = gg.tensor(x).chunk(2, dim=-1)
    cos, sin = gg.tensor(np.cos(angles)).repeat(1, 2), gg.tensor(np.sin(angles)).repeat(1, 2)
    rotated = gg.tensor(x) * cos + gg.cat((-x2, x1), dim=-1) * sin
    by_complex = (x[:, :2] + 1j * x[:, 2:]) * np.exp(1j * angles)
    np.testing.assert_allclose(rotated.numpy(), np.concatenate([by_complex.real, by_complex.imag], axis=1), rtol=1e-12)
