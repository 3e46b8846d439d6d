"""Programs written the way the pytorch/examples collection and the PyTorch tutorials' classic examples use
PyTorch (an MNIST CNN, a VAE, a DCGAN, the word language model, REINFORCE and actor-critic, time-sequence
prediction with LBFGS, super-resolution, fast neural style, a Siamese network and a GCN, a DQN step), each run
unchanged under PyTorch 2.13 and under glassgrad (``import torch`` giving glassgrad), with the same numbers:
rtol 1e-4 in float32, 1e-9 in float64. Weights, data and draws come from NumPy so both start alike.

The programs live in ``tests/learner_programs/examples/``; below them, what they once did wrong here."""

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

EXAMPLES = Path(__file__).parent / "learner_programs" / "examples"
PROGRAMS = sorted(EXAMPLES.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_an_examples_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)


def outcome(call, *args):
    """What ``call(*args)`` gives: its value as NumPy, or the type of the error it raises."""
    try:
        return np.asarray(call(*args).tolist())
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)


def same_outcome(ours, theirs) -> None:
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.torch
@given(rows=st.integers(1, 4), inner=st.integers(1, 4), cols=st.integers(1, 4), seed=st.integers(0, 2**16),
       how=st.sampled_from(["sparse.mm", "spmm", "sparse.addmm"]), bad=st.booleans())
def test_sparse_products_take_dense_matrices_as_pytorchs(rows, inner, cols, seed, how, bad, torch):
    """The GCN example multiplies its normalized adjacency with ``torch.sparse.mm(adj, support)`` or
    ``torch.spmm(adj, support)``; both take dense matrices in PyTorch too, so a graph network kept dense ran there,
    and glassgrad had neither (AttributeError). Values and gradients are PyTorch's; matrices that do not fit are
    refused with RuntimeError, as there."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(rows, inner)), rng.normal(size=(inner + bad, cols)), rng.normal(size=(rows, cols))

    def product_and_grads(library):
        x, y = library.tensor(a, requires_grad=True), library.tensor(b, requires_grad=True)
        if how == "sparse.addmm":
            product = library.sparse.addmm(library.tensor(c), x, y, beta=0.5, alpha=2.0)
        else:
            product = library.sparse.mm(x, y) if how == "sparse.mm" else library.spmm(x, y)
        (product * library.tensor(c)).sum().backward()
        return library.cat([product.detach().flatten(), x.grad.flatten(), y.grad.flatten()])

    same_outcome(outcome(product_and_grads, gg), outcome(product_and_grads, torch))


def test_sparse_mm_refuses_a_reduction_it_cannot_do():
    with pytest.raises(NotImplementedError, match=r"^sparse\.mm: reduce='sum' needs a sparse CSR matrix"):
        gg.sparse.mm(gg.eye(2), gg.ones(2, 1), reduce="sum")


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:input's size at dim")  # PyTorch's warning where no weights need the channels
@given(channels=st.integers(1, 4), given_channels=st.integers(1, 4), dims=st.sampled_from([1, 2, 3]),
       affine=st.booleans(), track=st.booleans(), batched=st.booleans(), extra_dim=st.booleans())
def test_instance_norm_refuses_wrong_inputs_with_pytorchs_error_types(channels, given_channels, dims, affine, track,
                                                                       batched, extra_dim, torch):
    """fast-neural-style's ``InstanceNorm2d(c, affine=True)`` given an image of other channels raises ValueError in
    PyTorch (RuntimeError where only running statistics are kept), as does an input of the wrong number of dims;
    glassgrad raised RuntimeError for each, so ``except ValueError`` missed it."""
    shape = (1,) * (dims + 3) if extra_dim else (2,) * batched + (given_channels,) + (3,) * dims

    def normalized(library):
        layer = getattr(library.nn, f"InstanceNorm{dims}d")(channels, affine=affine, track_running_stats=track)
        return layer(library.ones(shape))

    same_outcome(outcome(normalized, gg), outcome(normalized, torch))


@pytest.mark.torch
@given(dtype=st.sampled_from(["int64", "int32", "uint8", "bool", "float32"]),
       other=st.sampled_from(["int64", "bool", "float32", "int number", "float number"]),
       alpha=st.sampled_from([2, 1.0, 0.5, -1, True]), how=st.sampled_from(["add", "sub", "add_", "rsub"]))
def test_alpha_follows_pytorchs_rule_for_integer_results(dtype, other, alpha, how, torch):
    """``x.add(y, alpha=0.5)`` with integer x and y raises RuntimeError in PyTorch (``alpha·y`` would not be an
    integer); glassgrad gave a float32 tensor, and ``rsub`` raised TypeError. A bool alpha is taken only for a bool
    result. glassgrad also scaled y in its own dtype (a uint8 y times alpha=-1 wrapped around: ``rsub`` gave -251
    for 5), let ``int_x.sub(bool_y, alpha=2)`` through where PyTorch refuses to subtract bools (``x.sub_(mask)`` is
    taken, a difference the README lists), and turned a bool result to int64 for alpha=2. Where PyTorch computes,
    the values are the same."""

    def scaled_sum(library):
        x = library.tensor([3, 1]).to(getattr(library, dtype))
        y = {"int number": 2, "float number": 2.5}.get(other)
        y = library.tensor([2, 0]).to(getattr(library, other)) if y is None else y
        if how == "rsub":
            return library.rsub(x, y, alpha=alpha)
        return x.clone().add_(y, alpha=alpha) if how == "add_" else getattr(x, how)(y, alpha=alpha)

    ours, theirs = outcome(scaled_sum, gg), outcome(scaled_sum, torch)
    if theirs is RuntimeError or not isinstance(theirs, type):
        same_outcome(ours, theirs)
    else:  # bools subtracted: PyTorch refuses them whatever alpha is, with its own type
        assert isinstance(ours, type)


@pytest.mark.torch
@given(size=st.integers(1, 5), value_size=st.integers(1, 6), seed=st.integers(0, 2**16),
       how=st.sampled_from(["mask", "indices", "slice", "copy_"]), grad=st.booleans())
def test_a_value_that_does_not_fit_is_refused_as_by_pytorch(size, value_size, seed, how, grad, torch):
    """The DQN step writes ``next_state_values[non_final_mask] = target_net(...).max(1).values``: where the mask
    picks other places than the values it gets, PyTorch raises RuntimeError ("shape mismatch"); glassgrad let NumPy
    raise ValueError with NumPy's words. The same for slices, index lists and ``copy_``, recorded or not."""
    rng = np.random.default_rng(seed)
    mask, values = rng.random(size) < 0.5, rng.normal(size=value_size)

    def written(library):
        target = library.zeros(size, requires_grad=grad).clone()
        value = library.tensor(values, dtype=library.float32)
        if how == "copy_":
            return target.copy_(value).detach()
        where = {"mask": library.tensor(mask), "indices": library.tensor(np.flatnonzero(mask)),
                 "slice": slice(0, size - 1)}[how]
        target[where] = value
        return target.detach()

    same_outcome(outcome(written, gg), outcome(written, torch))


@pytest.mark.torch
@given(shape=st.lists(st.integers(0, 3), min_size=0, max_size=3), dtype=st.sampled_from(["float32", "int64"]),
       convert=st.sampled_from(["int", "float", "math.exp", "complex"]))
def test_python_numbers_of_a_tensor_fail_with_pytorchs_error_type(shape, dtype, convert, torch):
    """The examples log ``math.exp(val_loss)`` and ``float(loss)``: on a tensor of other than one element PyTorch
    raises ValueError ("only one element tensors can be converted to Python scalars"); glassgrad raised
    RuntimeError (item()'s type, which stays PyTorch's for ``.item()``). One element gives the same number."""
    values = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape) + 1
    to_number = {"int": int, "float": float, "math.exp": math.exp, "complex": complex}[convert]

    def number(library):
        try:
            return to_number(library.tensor(values))
        except Exception as error:  # noqa: BLE001 (the type is what is compared)
            return type(error)

    ours, theirs = number(gg), number(torch)
    assert ours == theirs if isinstance(theirs, type) else ours == pytest.approx(theirs)
    with pytest.raises(RuntimeError, match=r"^item\(\) needs a tensor with exactly one element"):
        gg.zeros(2).item()


@pytest.mark.torch
@given(logits=st.lists(st.floats(-200, 200, width=32), min_size=2, max_size=5), one_hot=st.booleans(),
       seed=st.integers(0, 2**16))
def test_a_policy_whose_softmax_underflows_makes_a_categorical_quietly(logits, one_hot, seed, torch):
    """REINFORCE builds ``Categorical(F.softmax(scores, dim=-1))`` each step; once a score leads by ~100 the float32
    softmax gives some classes p = 0 exactly, and glassgrad printed NumPy's "divide by zero encountered in log"
    (taking the logits), which PyTorch never shows. The log-probabilities and the entropy are PyTorch's (for p above
    float32's eps: PyTorch clamps p to [eps, 1 − eps] before the log, glassgrad takes ln p itself)."""
    scores = np.asarray(logits, dtype=np.float32)
    found = []
    for library in (gg, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            probs = library.nn.functional.softmax(library.tensor(scores), dim=-1)
            kind = library.distributions.OneHotCategorical if one_hot else library.distributions.Categorical
            m = kind(probs)
            drawable = np.flatnonzero(probs.numpy() > 1e-6)
            classes = library.tensor(drawable)
            value = library.nn.functional.one_hot(classes, len(scores)).float() if one_hot else classes
            found.append((m.log_prob(value).numpy(), m.entropy().item()))
    (ours, our_entropy), (theirs, their_entropy) = found
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    assert our_entropy == pytest.approx(their_entropy, rel=1e-4, abs=1e-5)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Sparse invariant checks")
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), entries=st.integers(0, 6), seed=st.integers(0, 2**16))
def test_a_sparse_adjacency_is_refused_with_the_dense_matrix_as_the_fix(rows, cols, entries, seed, torch):
    """A GCN written for sparse adjacencies builds them with ``torch.sparse_coo_tensor(indices, values, size)``;
    glassgrad raised AttributeError (no such name). Now one line says glassgrad has no sparse tensors and how to
    build the dense matrix, and that recipe gives PyTorch's ``to_dense()`` (repeated coordinates add up)."""
    rng = np.random.default_rng(seed)
    indices = np.stack([rng.integers(0, rows, entries), rng.integers(0, cols, entries)])
    values = rng.normal(size=entries)
    with pytest.raises(NotImplementedError, match=r"^sparse_coo_tensor: glassgrad has no sparse tensors; .*"
                                                  r"gg\.zeros\(size\)\.index_put_\(tuple\(indices\), values, "):
        gg.sparse_coo_tensor(gg.tensor(indices), gg.tensor(values), (rows, cols))
    theirs = torch.sparse_coo_tensor(torch.tensor(indices), torch.tensor(values), (rows, cols)).to_dense()
    ours = gg.zeros((rows, cols), dtype=gg.float64).index_put_(tuple(gg.tensor(indices)), gg.tensor(values),
                                                               accumulate=True)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def shared_dims(library, name: str, shape: tuple) -> tuple | type:
    """The dims along which ``F.<name>`` of ones keeps one draw (constant in each of 64 draws: two channels drawn
    apart agree in all of them with chance 2⁻⁶⁴, where 10 draws left 2⁻¹⁰), the number of UserWarnings of one
    call, or the type of the error it raises."""
    function = getattr(library.nn.functional, name)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            function(library.ones(shape), 0.5, training=True)
        draws = [function(library.ones(shape), 0.5, training=True).numpy() for _ in range(64)]
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)
    shared = tuple(dim for dim in range(len(shape))
                   if all((np.ptp(draw, axis=dim) == 0).all() for draw in draws))
    return shared, sum(issubclass(warning.category, UserWarning) for warning in caught)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::UserWarning")
@given(shape=st.lists(st.integers(2, 3), min_size=1, max_size=6),
       name=st.sampled_from(["dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"]))
def test_channel_dropout_reads_each_shape_as_pytorch(shape, name, torch):
    """MNIST's ``nn.Dropout2d`` given a 3-d (N, C, L) input drops per sample and channel in PyTorch 2.13 (with its
    warning); glassgrad dropped whole samples, reading it as one (C, H, W) image, silently. PyTorch also takes
    2-d, 5-d … inputs to dropout2d/dropout3d with a deprecation warning, which glassgrad refused (ValueError), and
    refuses other dims than 2 or 3 of dropout1d with RuntimeError (glassgrad: ValueError). feature_alpha_dropout
    of a 2-d (N, C) input draws per entry, as PyTorch's (glassgrad drew per sample), and refuses a 1-d input with
    RuntimeError (glassgrad: ValueError). Same draws' layout, same warnings, same error types."""
    assert shared_dims(gg, name, tuple(shape)) == shared_dims(torch, name, tuple(shape))


@pytest.mark.torch
@given(decorator=st.sampled_from(["no_grad()", "no_grad", "enable_grad()", "inference_mode()", "inference_mode(False)",
                                  "set_grad_enabled(False)"]),
       outer=st.booleans(), steps=st.integers(0, 3), throw=st.booleans())
def test_a_decorated_generator_runs_each_step_in_the_mode_as_pytorchs(decorator, outer, steps, throw, torch):
    """``@torch.no_grad()`` on a generator (predictions yielded batch by batch) switches recording off at each of
    its steps in PyTorch, and the caller's mode holds between them; glassgrad switched only while the generator
    was made, so every step recorded. Values sent in, an exception thrown in and the return value pass through."""

    def run(library):
        x = library.ones(2, requires_grad=True)
        kind, _, argument = decorator.partition("(")
        switch = getattr(library, kind)
        decorate = switch if not argument else switch(*([False] if argument.startswith("False") else []))

        @decorate
        def predictions():
            seen = []
            try:
                for _ in range(steps):
                    sent = yield (x * 2).requires_grad
                    seen.append(sent)
            except KeyError:
                seen.append("thrown")
            return seen, (x * 2).requires_grad

        found = []
        with library.set_grad_enabled(outer):
            generator = predictions()
            try:
                found.append(next(generator))
                for number in range(steps):
                    found.append(library.is_grad_enabled())
                    found.append(generator.throw(KeyError()) if throw else generator.send(number))
            except StopIteration as stop:
                found.append(stop.value)
        return found

    assert run(gg) == run(torch)
