"""``glassgrad.utils.checkpoint`` (PyTorch's ``torch.utils.checkpoint``): a segment recomputed in backward.

Oracles: the same network without checkpointing in glassgrad (gradients bit for bit: the second run
is the first one again), PyTorch 2.13's checkpoint (float64, to 1e-12), and the garbage collector
(the segment's intermediates are really gone between forward and backward).
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.utils.checkpoint import checkpoint


def _network(lib, seed: int, width: int, blocks: int):
    rng = np.random.default_rng(seed)
    weights = [lib.tensor(rng.normal(size=(width, width)) / width ** 0.5, requires_grad=True) for _ in range(blocks)]
    x = lib.tensor(rng.normal(size=(3, width)), requires_grad=True)
    return weights, x


def _block(weight):
    return lambda h: h + (h @ weight).tanh() * (h @ weight).sigmoid()


def _gradients(lib, ck, seed, width, blocks, reentrant):
    weights, x = _network(lib, seed, width, blocks)
    h = x
    for weight in weights:
        h = ck(_block(weight), h, use_reentrant=reentrant) if ck is not None else _block(weight)(h)
    (h.square().sum() + h.sum()).backward()
    return [t.grad.numpy() for t in (*weights, x)]


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), width=st.integers(1, 5), blocks=st.integers(1, 4), reentrant=st.booleans())
def test_gradients_equal_pytorchs_and_the_unchecked_networks_bit_for_bit(torch, seed, width, blocks, reentrant):
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    mine = _gradients(gg, checkpoint, seed, width, blocks, reentrant)
    plain = _gradients(gg, None, seed, width, blocks, reentrant)
    theirs = _gradients(torch, torch_checkpoint, seed, width, blocks, reentrant)
    for mine_grad, plain_grad, their_grad in zip(mine, plain, theirs):
        np.testing.assert_array_equal(mine_grad, plain_grad)
        np.testing.assert_allclose(mine_grad, their_grad, rtol=1e-12, atol=1e-12)


def test_the_segments_intermediates_are_not_kept_until_backward():
    weight = gg.tensor(np.eye(3) * 0.5, requires_grad=True)
    kept = []

    def segment(h):
        inner = (h @ weight).tanh()
        kept.append(weakref.ref(inner))
        return inner * 2

    x = gg.ones(2, 3, dtype=gg.float64, requires_grad=True)
    plain = segment(x)
    y = checkpoint(segment, x, use_reentrant=False)
    gc.collect()
    assert kept[0]() is not None  # without checkpointing the graph holds the intermediate until backward
    assert kept[1]() is None  # checkpointed: gone after the forward
    y.sum().backward()
    plain.sum().backward()
    assert len(kept) == 3  # the backward ran the segment a second time


def test_dropout_inside_draws_the_same_mask_again_and_the_stream_goes_on_as_without_checkpointing():
    def run(checkpointed):
        gg.manual_seed(7)
        weight = gg.tensor(np.linspace(-1, 1, 16).reshape(4, 4), requires_grad=True)
        segment = lambda h: gg.nn.functional.dropout((h @ weight).relu(), 0.5, training=True)  # noqa: E731
        x = gg.ones(5, 4, dtype=gg.float64)
        y = checkpoint(segment, x, use_reentrant=False) if checkpointed else segment(x)
        y.square().sum().backward()
        return weight.grad.numpy(), gg.rand(3).numpy()  # the next draw after backward

    (grad, after), (plain_grad, plain_after) = run(True), run(False)
    np.testing.assert_array_equal(grad, plain_grad)
    np.testing.assert_array_equal(after, plain_after)


def test_a_second_run_with_other_numbers_is_refused_not_differentiated():
    gg.manual_seed(0)
    weight = gg.tensor(np.ones((4, 4)), requires_grad=True)
    y = checkpoint(lambda h: gg.nn.functional.dropout(h @ weight, 0.5), gg.ones(3, 4, dtype=gg.float64),
                   use_reentrant=False, preserve_rng_state=False)
    with pytest.raises(RuntimeError, match="^checkpoint: running the segment again in backward gave other numbers"):
        y.sum().backward()

    x = gg.ones(2, 4, dtype=gg.float64)  # an input that needs no gradient, changed in place before backward
    y = checkpoint(lambda h: h @ weight, x, use_reentrant=False)
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="gave other numbers than its forward"):
        y.sum().backward()

    y = checkpoint(lambda h: h @ weight, gg.ones(2, 4, dtype=gg.float64), use_reentrant=False)
    with gg.no_grad():
        weight.mul_(2.0)  # a parameter the segment reads, changed in place: refused as for any saved tensor
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.torch
def test_autograd_grad_and_a_second_derivative_through_a_segment_as_pytorch(torch):
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    results = []
    for lib, ck in ((gg, checkpoint), (torch, torch_checkpoint)):
        weights, x = _network(lib, 3, 4, 2)
        h = x
        for weight in weights:
            h = ck(_block(weight), h, use_reentrant=False)
        (first,) = lib.autograd.grad(h.square().sum(), x, create_graph=True)
        (second,) = lib.autograd.grad(first.sum(), weights[0])
        results.append((first.detach().numpy(), second.numpy(), weights[0].grad))
    (mine_first, mine_second, mine_stored), (their_first, their_second, _) = results
    np.testing.assert_allclose(mine_first, their_first, rtol=1e-12)
    np.testing.assert_allclose(mine_second, their_second, rtol=1e-10, atol=1e-12)
    assert mine_stored is None  # autograd.grad leaves .grad alone


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_reentrant_with_no_input_needing_grad_gives_the_segment_no_gradient_as_pytorch(torch):
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    for lib, ck in ((gg, checkpoint), (torch, torch_checkpoint)):
        weight = lib.tensor(np.ones((2, 2)), requires_grad=True)
        bias = lib.tensor(np.ones(2), requires_grad=True)
        y = ck(lambda h, weight=weight: h @ weight, lib.ones(1, 2, dtype=lib.float64), use_reentrant=True)
        assert not y.requires_grad
        (y + bias).sum().backward()
        assert weight.grad is None and bias.grad is not None
    with pytest.warns(UserWarning, match=r"None of the inputs have requires_grad=True\. .*pass use_reentrant=False"):
        checkpoint(lambda h: h * 2, gg.ones(2, dtype=gg.float64), use_reentrant=True)


def test_a_trace_sees_the_segments_own_ops_and_a_compiled_step_runs_eagerly():
    weight = gg.tensor(np.eye(2), requires_grad=True)
    with gg.trace() as tape:
        checkpoint(lambda h: (h @ weight).tanh(), gg.ones(1, 2, dtype=gg.float64), use_reentrant=False).sum().backward()
    assert [record.op.name for record in tape.forward] == ["matmul", "tanh", "sum"]

    def train(compiled):
        w = gg.tensor(np.linspace(0.1, 0.4, 4).reshape(2, 2), requires_grad=True)
        optimizer = gg.optim.SGD([w], lr=0.1)

        def step(x):
            optimizer.zero_grad()
            loss = checkpoint(lambda h: (h @ w).tanh(), x, use_reentrant=False).square().sum()
            loss.backward()
            optimizer.step()
            return loss

        run = gg.compile(step) if compiled else step
        return [run(gg.tensor([[1.0, float(k)]], dtype=gg.float64)).item() for k in range(4)], w.numpy().copy()

    with pytest.warns(UserWarning, match="checkpoint runs its segment again in backward; running it eagerly"):
        compiled = train(True)
    eager = train(False)
    assert compiled[0] == eager[0]
    np.testing.assert_array_equal(compiled[1], eager[1])


@pytest.mark.parametrize("call, message", [
    (lambda: checkpoint(lambda h, scale: h * scale, gg.ones(2, dtype=gg.float64), scale=2.0, use_reentrant=True),
     "keyword arguments for the function"),
    (lambda: checkpoint(lambda h: h, gg.ones(2, dtype=gg.float64), use_reentrant=False, context_fn=lambda: None),
     "context_fn must return a pair of context managers"),
    (lambda: checkpoint(lambda h: h, gg.ones(2, dtype=gg.float64), use_reentrant=False, determinism_check="always"),
     "determinism_check must be"),
])
def test_bad_arguments_raise_one_line_naming_the_fix(call, message):
    with pytest.raises((ValueError, TypeError), match=message) as error:
        call()
    assert "\n" not in str(error.value)


def test_keyword_arguments_and_several_outputs():
    weight = gg.tensor(np.array([[2.0, 0.0], [0.0, 3.0]]), requires_grad=True)
    first, second = checkpoint(lambda h, scale=1.0: (h @ weight * scale, (h @ weight).exp()),
                               gg.ones(1, 2, dtype=gg.float64), scale=0.5, use_reentrant=False)
    (first.sum() + second.sum()).backward()
    np.testing.assert_allclose(weight.grad.numpy(), [[0.5 + np.exp(2.0), 0.5 + np.exp(3.0)]] * 2)  # h[i]·(…)


@pytest.mark.torch
@pytest.mark.parametrize("reentrant", [False, True])
def test_a_segment_with_several_outputs_runs_again_once_per_backward_as_pytorchs(torch, reentrant):
    """Two outputs of a segment holding a BatchNorm, both in the loss: the segment ran again once per output, so
    its running statistics moved one extra time per backward (num_batches_tracked 6 where PyTorch's is 4, and
    another running mean). Counted by hand too: the forward once and backward once, per step."""
    calls = []
    found = []
    for lib in (gg, torch):
        norm = lib.nn.BatchNorm1d(3).double()
        x = lib.tensor([[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]], dtype=lib.float64, requires_grad=True)

        def segment(a, norm=norm, lib=lib):
            calls.append(lib)
            h = norm(a)
            return h.tanh(), h.exp()

        for _ in range(2):
            first, second = checkpoint(segment, x, use_reentrant=reentrant) if lib is gg else \
                torch.utils.checkpoint.checkpoint(segment, x, use_reentrant=reentrant)
            (first.sum() + second.sum()).backward()
        found.append((int(norm.num_batches_tracked), norm.running_mean.detach().numpy(),
                      norm.running_var.detach().numpy(), x.grad.numpy()))
    assert calls.count(gg) == calls.count(torch) == 4
    assert found[0][0] == found[1][0] == 4
    for mine, theirs in zip(found[0][1:], found[1][1:]):  # (x's gradient sums terms that nearly cancel)
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-13)
