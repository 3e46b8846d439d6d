"""Round 152: ten programs written the way the popular courses write them -- a makemore-style character MLP with
multinomial sampling from a Generator, batch norm by hand with retain_grad statistics, the manual backprop exercise
(cmp with allclose), linear and softmax regression from scratch and concise, an RNN/GRU language model with state
detaching, clipping and perplexity, a GRU seq2seq with teacher forcing and a masked cross-entropy, a LeNet on a
shuffled DataLoader, a tiny GPT block with a causal-mask buffer and estimate_loss, and optimizer comparisons with
StepLR and state_dict checkpoints -- each run unchanged under PyTorch 2.13 and under glassgrad (``import torch``
giving glassgrad), with the same numbers (rtol 1e-9 in float64, 1e-4 in float32), warnings and printed lines (less
the README's documented differences: no ``torch.`` before dtypes and sizes, glassgrad's op names in ``grad_fn``, its
parameter counts in ``print(model)``). Weights and data come from NumPy; random draws are compared by range, shape
and membership only.

The programs live in ``tests/learner_programs/courses152/``; below them, what glassgrad did differently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

COURSES = Path(__file__).parent / "learner_programs" / "courses152"
PROGRAMS = sorted(COURSES.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_course_program_gives_pytorchs_numbers_warnings_and_printout(program, torch):
    assert_pytorchs_numbers(program, same_warnings=True, same_printout=True)


def _outcome(call):
    try:
        return call()
    except Exception as error:  # noqa: BLE001 (the class is what is compared)
        return type(error)


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from(["int64", "int32", "int16", "uint8", "bool", "float32", "float64"]),
       rows=st.sampled_from([(), (1,), (3,)]), categories=st.integers(1, 5), replacement=st.booleans(),
       seed=st.integers(0, 2**16))
def test_multinomial_refuses_counts_that_are_not_floats_as_pytorch(dtype, rows, categories, replacement, seed,
                                                                  torch):
    """The bigram lesson's slip: drawing from the integer count row ``N[ix]`` before ``.float()``. PyTorch raises
    RuntimeError ("only supports floating-point dtypes"); glassgrad drew from the counts (**silent**). Float weights
    still draw: int64 indices of the weights' shape with ``num_samples`` last, each a category of positive weight."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 4, size=rows + (categories,)).astype(dtype)

    def draw(library):
        return library.multinomial(library.tensor(weights), 1, replacement=replacement)

    theirs, ours = _outcome(lambda: draw(torch)), _outcome(lambda: draw(gg))
    if isinstance(theirs, type):
        assert ours is theirs is RuntimeError
        with pytest.raises(RuntimeError, match="multinomial: needs a floating tensor of weights, got .*; convert it "
                                               r"with x.float\(\)"):
            gg.tensor(weights).multinomial(1)
    else:
        assert ours.dtype == gg.int64 and tuple(ours.shape) == tuple(theirs.shape) == rows + (1,)
        assert ((ours.array >= 0) & (ours.array < categories)).all()


@pytest.mark.torch
def test_multinomial_refuses_a_numpy_array_as_pytorch(torch):
    """PyTorch's argument parser takes only a tensor (TypeError); glassgrad drew from a NumPy array."""
    weights = np.array([0.2, 0.8])
    assert _outcome(lambda: torch.multinomial(weights, 1)) is TypeError
    with pytest.raises(TypeError, match=r"multinomial: input must be a tensor, got ndarray; pass torch.tensor"):
        gg.multinomial(weights, 1)


OPTIMIZERS = {
    "SGD": lambda L, params, number: L.optim.SGD(params, lr=number, momentum=number / 2, weight_decay=number),
    "SGD defaults": lambda L, params, number: L.optim.SGD(params, lr=number),
    "Adam": lambda L, params, number: L.optim.Adam(params, lr=number, weight_decay=number),
    "Adam defaults": lambda L, params, number: L.optim.Adam(params),
    "AdamW": lambda L, params, number: L.optim.AdamW(params, lr=number, weight_decay=0),
    "RMSprop": lambda L, params, number: L.optim.RMSprop(params, lr=number, momentum=number / 2, alpha=0.5),
    "Adagrad": lambda L, params, number: L.optim.Adagrad(params, lr=number, lr_decay=0, weight_decay=number),
}


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(OPTIMIZERS)), number=st.sampled_from([0, 1, 2, 0.5, 0.25, 1.0]),
       groups=st.integers(1, 3), steps=st.integers(0, 2))
def test_print_optimizer_shows_the_options_as_pytorch(name, number, groups, steps, torch):
    """``print(optimizer)`` and ``param_groups`` show each option as it was given, as PyTorch keeps it: SGD's default
    ``momentum: 0``, ``dampening: 0``, ``weight_decay: 0``, and ``lr: 1`` for ``lr=1``; glassgrad turned every one
    into a float (``weight_decay: 0.0``). Groups are parted by a blank line, as PyTorch's; glassgrad ran them
    together. Stepped with an unscaled lr, every option is still the one given, in group order."""
    def made(library):
        params = [{"params": [library.nn.Parameter(library.ones(2))]} for _ in range(groups)]
        optimizer = OPTIMIZERS[name](library, params[:1], number)
        for group in params[1:]:
            optimizer.add_param_group(group | {"lr": number})
        for _ in range(steps):
            for group in optimizer.param_groups:
                group["params"][0].grad = library.ones(2)
            optimizer.step()
        return optimizer

    theirs, ours = made(torch), made(gg)
    assert str(ours) == str(theirs)
    for mine, reference in zip(ours.param_groups, theirs.param_groups, strict=True):
        kept = {key: (type(value), value) for key, value in reference.items() if key != "params"}
        assert {key: (type(value), value) for key, value in mine.items() if key != "params"} == kept


@pytest.mark.torch
@pytest.mark.parametrize("betas", [(0, 0.99), (0.5, 1 - 1), ("tensor", 0.9), (0.9, "tensor")])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_refuses_betas_that_mix_kinds_as_pytorch(name, betas, torch):
    """PyTorch's Adam and AdamW take betas that are both floats or both tensors; ``betas=(0, 0.99)`` (a WGAN lesson's
    int 0) raises ValueError there. glassgrad took it."""
    def made(library):
        pair = tuple(library.tensor(0.5) if beta == "tensor" else beta for beta in betas)
        return getattr(library.optim, name)([library.nn.Parameter(library.ones(1))], betas=pair)

    assert _outcome(lambda: made(torch)) is ValueError
    with pytest.raises(ValueError, match=r"betas must be either both floats or both Tensors, got .*; write them as "
                                         r"floats, e.g. betas=\(0.0, 0.99\)"):
        made(gg)


@pytest.mark.torch
@pytest.mark.parametrize("betas", [(0.0, 0.99), [0.8, 0.9], (np.float64(0.5), 0.9)])
def test_adam_takes_betas_of_one_kind_as_pytorch(betas, torch):
    """Floats (a NumPy float64 is one) or a list of floats: PyTorch steps with them, so does glassgrad, to the same
    weights."""
    def stepped(library):
        weight = library.nn.Parameter(library.tensor([1.0, -2.0], dtype=library.float64))
        optimizer = library.optim.Adam([weight], lr=0.1, betas=betas)
        for _ in range(3):
            optimizer.zero_grad()
            (weight ** 2).sum().backward()
            optimizer.step()
        return weight.detach().numpy()

    np.testing.assert_allclose(stepped(gg), stepped(torch), rtol=1e-12)


@pytest.mark.torch
def test_a_dtype_prints_as_the_readme_says(torch):
    """Documented difference (README, the dtypes row): glassgrad's dtypes are NumPy's, so ``print(x.dtype)`` shows
    PyTorch's text less ``torch.``, and a dtype shown by ``repr`` (in a printed tuple) shows NumPy's ``dtype('…')``."""
    for name in ("float32", "float64", "int64", "bool"):
        assert str(getattr(gg, name)) == str(getattr(torch, name)).removeprefix("torch.") == name
        assert repr((gg.ones(1, dtype=getattr(gg, name)).dtype,)) == f"(dtype('{name}'),)"


PAIRS = {  # name: a call giving one of PyTorch's torch.return_types results
    "max": lambda x: x.max(1), "min": lambda x: x.min(dim=-1, keepdim=True), "sort": lambda x: x.sort(0),
    "topk": lambda x: x.topk(1), "kthvalue": lambda x: x.kthvalue(1, 1), "median": lambda x: x.median(1),
    "nanmedian": lambda x: x.nanmedian(0), "mode": lambda x: x.mode(1), "cummax": lambda x: x.cummax(1),
    "cummin": lambda x: x.cummin(0), "aminmax": lambda x: x.aminmax(dim=1),
}


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(PAIRS)), rows=st.integers(1, 3), columns=st.integers(1, 4),
       seed=st.integers(0, 2**16), scale=st.sampled_from([1.0, 0.01, 1000.0]))
def test_print_of_a_values_indices_pair_is_pytorchs(name, rows, columns, seed, scale, torch):
    """``print(torch.max(outputs, 1))`` in the tutorials shows ``torch.return_types.max(`` and a line per field;
    glassgrad showed ``MinMax(values=…, indices=…)`` (``Sorted(…)`` for sort, topk, median, mode, kthvalue, cummax).
    Now PyTorch's text less ``torch.``, with the result's type named as PyTorch's, still a named tuple."""
    values = np.random.default_rng(seed).permutation(rows * columns).reshape(rows, columns) * scale
    theirs, ours = (PAIRS[name](library.tensor(values.astype(np.float32))) for library in (torch, gg))
    assert repr(ours) == str(ours) == repr(theirs).replace("torch.", "")
    assert type(ours).__name__ == type(theirs).__name__ == name and len(ours) == len(theirs) == 2
    assert all(hasattr(theirs, field) for field in ours._fields)
    first, second = ours
    assert first is ours[0] and second is ours[1]
