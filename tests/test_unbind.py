"""``unbind``: its pieces and their gradients against PyTorch 2.13, and the one shared gradient buffer.

The pieces meet in one buffer in backward (:mod:`glassgrad.ops_pieces`): these tests check the gradient
for every dim and any subset of the pieces used (some twice, some never), across two backward passes of a
retained graph, through ``gg.autograd.grad`` and ``create_graph=True``, after a pass broken off half-way,
in a compiled step (bit for bit against eager), and in the recurrent layers that read their steps this way.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.ops import RULES


def _weighted_loss(lib, pieces, uses, rng_seed):
    """Σ over the used pieces of (piece · w)², each piece used as often as ``uses`` says."""
    rng = np.random.default_rng(rng_seed)
    total = None
    for piece, count in zip(pieces, uses):
        for _ in range(count):
            weight = lib.tensor(rng.normal(size=tuple(piece.shape)), dtype=lib.float64)
            term = ((piece * weight) ** 2).sum()
            total = term if total is None else total + term
    return total


@st.composite
def cases(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    uses = draw(st.lists(st.integers(0, 2), min_size=shape[dim], max_size=shape[dim]))
    if not any(uses):
        uses[0] = 1
    return shape, dim, uses, draw(st.integers(0, 2**16))


@pytest.mark.torch
@given(case=cases())
def test_pieces_and_gradients_match_pytorch(torch, case):
    shape, dim, uses, seed = case
    values = np.random.default_rng(seed).normal(size=shape)
    grads = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        pieces = lib.unbind(x, dim) if lib is gg else torch.unbind(x, dim)
        assert len(pieces) == shape[dim]
        loss = _weighted_loss(lib, pieces, uses, seed)
        loss.backward(retain_graph=True)
        loss.backward()  # a second pass over the retained graph adds the same again
        grads.append((x.grad.numpy(), [p.detach().numpy() for p in pieces]))
    (mine, my_pieces), (theirs, their_pieces) = grads
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)
    for ours, reference in zip(my_pieces, their_pieces):
        np.testing.assert_array_equal(ours, reference)


@pytest.mark.torch
@given(case=cases())
def test_autograd_grad_and_second_derivatives_match_pytorch(torch, case):
    shape, dim, uses, seed = case
    values = np.random.default_rng(seed).normal(size=shape)
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        loss = _weighted_loss(lib, x.unbind(dim), uses, seed)
        first, = lib.autograd.grad(loss, x, create_graph=True)
        second, = lib.autograd.grad((first * first).sum(), x)
        x2 = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        plain, = lib.autograd.grad(_weighted_loss(lib, x2.unbind(dim), uses, seed), x2)
        found.append([first.detach().numpy(), second.numpy(), plain.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)


def test_pieces_are_views_and_gg_unbind_is_the_method():
    x = gg.arange(6.0).reshape(2, 3)
    first, second = gg.unbind(x)
    assert first.tolist() == [0.0, 1.0, 2.0] and second.tolist() == [3.0, 4.0, 5.0]
    assert [p.tolist() for p in x.unbind(1)] == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert np.shares_memory(first.array, x.array)
    assert not first.requires_grad  # nothing to record


def test_a_bad_dim_is_a_one_line_error():
    with pytest.raises(IndexError) as error:
        gg.ones(2, 3).unbind(2)
    assert "unbind" in str(error.value) and "\n" not in str(error.value)


def test_a_pass_broken_off_leaves_no_buffer_a_later_pass_uses():
    values = np.arange(12.0).reshape(4, 3)
    x = gg.tensor(values, requires_grad=True)
    pieces = x.unbind(0)
    loss = sum(((k + 1) * piece).sum() for k, piece in enumerate(pieces))
    # a pass that reached piece 2, then stopped (an error, an interrupt) while holding its buffer
    held = RULES["piece"].backward(np.full(3, 100.0), pieces[2]._ctx)[0]
    loss.backward()
    expected = np.repeat(np.arange(1.0, 5.0)[:, None], 3, axis=1)
    np.testing.assert_array_equal(x.grad.array, expected)
    assert held[2].tolist() == [100.0, 100.0, 100.0]  # the broken pass's buffer kept its own rows only


def test_the_backward_is_one_buffer_written_once_per_piece():
    x = gg.tensor(np.ones((50, 2, 3)), requires_grad=True)
    pieces = x.unbind(0)
    handed = []
    loss = sum(p.sum() for p in pieces)
    original = RULES["piece"].backward

    def watched(up, saved):
        contributions = original(up, saved)
        handed.append(contributions[0])
        return contributions

    object.__setattr__(RULES["piece"], "backward", watched)
    try:
        loss.backward()
    finally:
        object.__setattr__(RULES["piece"], "backward", original)
    handed_on = [c for c in handed if c is not None]
    assert len(handed) == 50 and len(handed_on) == 1  # one full-size array for 50 pieces
    np.testing.assert_array_equal(x.grad.array, np.ones((50, 2, 3)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_compiled_lstm_step_replays_bit_for_bit(dtype):
    def run(compiled):
        lstm = gg.nn.LSTM(3, 4, num_layers=2, bidirectional=True, seed=0, dtype=dtype)
        optimizer = gg.optim.SGD(lstm.parameters(), lr=0.1)
        x = gg.tensor(np.sin(np.arange(5 * 2 * 3)).reshape(5, 2, 3), dtype=dtype)

        def step(x):
            optimizer.zero_grad()
            out, _ = lstm(x)
            loss = (out * out).sum()
            loss.backward()
            optimizer.step()
            return loss

        call = gg.compile(step, fullgraph=True) if compiled else step
        losses = [call(x).item() for _ in range(6)]
        return losses, [p.array.copy() for p in lstm.parameters()]

    (eager_losses, eager_params), (replayed_losses, replayed_params) = run(False), run(True)
    assert eager_losses == replayed_losses
    assert all(np.array_equal(a, b) for a, b in zip(eager_params, replayed_params))


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_read_their_steps_with_unbind_and_match_pytorch(torch, kind):
    torch_layer = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64)
    layer = getattr(gg.nn, kind)(3, 4, num_layers=2, bidirectional=True, dtype="float64")
    layer.load_state_dict({name: gg.tensor(value.detach().numpy()) for name, value in torch_layer.state_dict().items()})
    values = np.sin(np.arange(7 * 2 * 3)).reshape(7, 2, 3)
    found = []
    for lib, module in ((gg, layer), (torch, torch_layer)):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = module(x)[0]
        (out * lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))).sum().backward()
        found.append([out.detach().numpy(), x.grad.numpy(),
                      *(p.grad.numpy() for p in module.parameters())])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    with gg.trace() as tape:
        layer(gg.tensor(values[:2]))[0].sum().backward()
    walked = [record.op.name for record in tape.backward]
    assert walked.count("pieces") >= 2 * 2 and "piece" in walked  # one unbind per layer and direction at least
    assert "pieces" in tape.render()
