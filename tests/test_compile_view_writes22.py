"""In-place writes through a view of a tensor in the graph inside a compiled step: ``m[1].mul_(v)``,
``x.reshape(-1, n)[mask] = v``, ``scores[:, :3] += bias``, ``m.view(-1)[3:7].sub_(v)``, ``m.t()[0].mul_(v)``,
``m.diagonal().add_(v)``, a row read again after its tensor changed.

Eager re-bases the tensor the view shares memory with (PyTorch's CopySlices: the base becomes ``setitem(old base,
view)``, or the view shaped back; the base's other views are read again). A capture took each of these re-bases for
something it could not follow and ran the step eagerly, the most common reason a random program did not replay.
Each is now one kernel of the program (:func:`glassgrad.compiler.capture.followed`): the values are in the memory
already, and the row runs for what its backward reads, as eager runs it. The oracle: the same step run eagerly, bit
for bit, over eight calls (the first two on the same batch), as a whole training step and as a compiled forward
whose ``backward()`` runs outside; and PyTorch's float64 gradients for a few. What still cannot be replayed (a write
through a view of an argument, a mask taking several values) runs eagerly, saying so.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

CALLS = 8
WEIGHTS = np.linspace(-1.0, 2.0, 12)


def _batch(call):
    return np.random.default_rng(max(call, 1)).standard_normal((3, 4))  # calls 0 and 1: the same batch


def _row_of_a_clone(x, w, b):
    m = (x * w).clone()
    m[1].mul_(x[0] + b)
    return m


def _column_of_a_clone(x, w, b):
    m = (x * w).clone()
    m[:, 2] = (x + w)[:, 1] * 2
    return m


def _masked_fill_of_a_reshape(x, w, b):
    t = x * w + b
    h = t.reshape(-1, 2)
    h[h > 0] = 0.5
    return t


def _slice_of_scores(x, w, b):
    scores = (x * w) @ (x + b).t()
    scores[:, :2] += w[:, :2]
    return scores.softmax(1)


def _select_and_narrow(x, w, b):
    m = (x * w).clone()
    m.select(1, 2).add_(b[:3])
    m.narrow(0, 1, 2).mul_(w[1:])
    return m


def _slice_of_a_flat_view(x, w, b):
    m = (x * w).clone()
    m.view(-1)[3:7].sub_(b * b)
    return m


def _row_of_a_transpose(x, w, b):
    m = x * w + 0
    m.t()[0].mul_(b[:3])
    return m


def _diagonal(x, w, b):
    m = (x[:, :3] * w[:, :3]).clone()
    m.diagonal().add_(b[:3])
    return m


def _row_read_again(x, w, b):
    m = (x * w).clone()
    row = m[0]
    m.mul_(b)
    return row * 2 + m


def _relu_of_rows_of_a_result(x, w, b):
    y = x * w + b
    y[1:].relu_()
    return y


def _setitem_on_a_row(x, w, b):
    m = (x * w).clone()
    m[1][1:3] = w[0, :2] * 3
    return m


def _unsqueezed_slice(x, w, b):
    m = (x * w).clone()
    m.unsqueeze(0)[:, 1:, 2:].mul_(b[2:])
    return m


def _rows_of_zeros(x, w, b):
    out = gg.zeros(3, 4, dtype=gg.float64)  # a plain tensor: a write of a value in the graph brings it in
    out[1] += x[0] * w[0]
    out.view(-1)[2:5] = b[:3]
    return out


def _two_views_written(x, w, b):
    m = (x * w).clone()
    first, rest = m[0], m[1:]
    first.add_(b)
    rest.mul_(w[1:])
    return m + first.sum()


def _transpose_of_a_slice_of_a_slice(x, w, b):
    m = (x * w).clone()
    m[1:][:, 2:].t().mul_(b[2:].unsqueeze(1))
    return m


def _the_view_returned(x, w, b):
    m = (x * w).clone()
    row = m[1]
    row.mul_(b)
    return row


BODIES = [_row_of_a_clone, _column_of_a_clone, _masked_fill_of_a_reshape, _slice_of_scores, _select_and_narrow,
          _slice_of_a_flat_view, _row_of_a_transpose, _diagonal, _row_read_again, _relu_of_rows_of_a_result,
          _setitem_on_a_row, _unsqueezed_slice, _rows_of_zeros, _two_views_written, _transpose_of_a_slice_of_a_slice,
          _the_view_returned]


def _state():
    w = gg.tensor(np.linspace(-0.5, 0.5, 12).reshape(3, 4), requires_grad=True)
    b = gg.tensor(np.linspace(-0.2, 0.3, 4), requires_grad=True)
    return w, b, gg.optim.SGD([w, b], lr=0.05, momentum=0.9)


def _loss(out):
    return (out * gg.tensor(WEIGHTS[:out.numel()].reshape(out.shape))).sum()


def _calls(body, compiled, whole_step):
    """Each call's loss, output, weights and gradients (or the error it raised), the compiled function and its
    warnings."""
    w, b, optimizer = _state()

    def step(x):
        optimizer.zero_grad()
        out = body(x, w, b)
        loss = _loss(out)
        loss.backward()
        optimizer.step()
        return loss.detach(), out.detach()

    def forward(x):
        out = body(x, w, b)
        return _loss(out), out

    run = gg.compile(step if whole_step else forward) if compiled else step if whole_step else forward
    seen = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call in range(CALLS):
            w.grad = b.grad = None
            try:
                loss, out = run(gg.tensor(_batch(call)))
                if not whole_step:
                    loss.backward()
            except RuntimeError as error:
                seen.append(("raised", type(error).__name__, str(error)[:60]))
                continue
            momenta = [optimizer.state[p]["momentum_buffer"] for p in (w, b) if p in optimizer.state]
            seen.append([None if t is None else t.numpy().tobytes() for t in (loss, out, w, b, w.grad, b.grad,
                                                                               *momenta)])
    return seen, run, [str(warning.message) for warning in caught]


def _replays(run):
    return sum(entry.replays for entry in run.entries.values())


def _same_as_eager(body, whole_step):
    eager, _, _ = _calls(body, False, whole_step)
    compiled, run, said = _calls(body, True, whole_step)
    for call, (mine, theirs) in enumerate(zip(compiled, eager, strict=True)):
        assert mine == theirs, f"call {call} differs from eager's"
    return run, said


@pytest.mark.parametrize("whole_step", [True, False], ids=["whole step", "forward"])
@pytest.mark.parametrize("body", BODIES, ids=lambda body: body.__name__.strip("_"))
def test_a_write_through_a_view_replays_with_eagers_numbers(body, whole_step):
    run, said = _same_as_eager(body, whole_step)
    assert said == []
    assert _replays(run) == CALLS - 2


TORCH_CASES = [_row_of_a_clone, _masked_fill_of_a_reshape, _slice_of_scores, _slice_of_a_flat_view,
               _row_of_a_transpose, _diagonal, _row_read_again]


@pytest.mark.parametrize("body", TORCH_CASES, ids=lambda body: body.__name__.strip("_"))
def test_the_gradients_through_the_rebased_tensor_are_pytorchs(body, torch):
    """The replayed forward's gradients (its backward outside) against PyTorch's in float64."""
    w, b, _ = _state()
    run = gg.compile(lambda x: _loss(body(x, w, b)))
    for call in range(4):
        w.grad = b.grad = None
        run(gg.tensor(_batch(call))).backward()
    assert _replays(run) == 2
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    tb = torch.tensor(b.detach().numpy(), requires_grad=True)
    out = body(torch.tensor(_batch(3)), tw, tb)
    (out * torch.tensor(WEIGHTS[:out.numel()].reshape(out.shape))).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12, atol=1e-14)


def _through_a_view_of_the_argument(x, w, b):
    x[0] += w[0]
    return x * b


def _several_values_by_mask(x, w, b):
    t = x * w
    h = t.reshape(-1, 2)
    h[h > 0] = (w * 3).reshape(-1, 2)[h > 0]
    return t


@pytest.mark.parametrize(("body", "named"), [
    (_through_a_view_of_the_argument, "changes the tensor it views"),
    (_several_values_by_mask, "with a boolean mask"),
])
def test_what_a_replay_cannot_follow_runs_eagerly_saying_why(body, named):
    run, said = _same_as_eager(body, True)
    assert _replays(run) == 0
    assert said and all(named in message for message in said)


def _saved_value_changed_through_a_view(x, w, b):
    m = (x * w).clone()
    y = m.sin()  # saves m
    m[0].mul_(2)
    return y + m


@pytest.mark.parametrize("whole_step", [True, False], ids=["whole step", "forward"])
def test_a_value_saved_for_backward_changed_through_a_view_raises_as_eager(whole_step):
    eager, _, _ = _calls(_saved_value_changed_through_a_view, False, whole_step)
    assert all(seen[0] == "raised" for seen in eager)
    _same_as_eager(_saved_value_changed_through_a_view, whole_step)


def test_the_program_writes_the_view_and_follows_it_with_one_kernel():
    """``m[1].mul_(v)``: the product written into the row's memory, then the clone re-based as setitem(old, row),
    run for what its backward reads."""
    w, b, _ = _state()
    run = gg.compile(lambda x: _loss(_row_of_a_clone(x, w, b)))
    for call in range(3):
        run(gg.tensor(_batch(call))).backward()
    (entry,) = run.entries.values()
    kinds = [kernel.op.name for kernel in entry.program.kernels if kernel.kind == "forward"]
    assert kinds.count("setitem") == 1 and "getitem" in kinds


@pytest.mark.parametrize("returned", ["a tensor and its row", "two rows of one tensor"])
def test_a_compiled_forward_returning_views_of_one_memory_runs_eagerly_as_eager_links_them(returned):
    """``m, r = forward(x); r.mul_(3)`` outside: eager re-bases m (its gradient follows the write, and m's other
    views are read again), which a replayed call's outputs, each its own node, did not: ∂L/∂w differed from the
    third call on, without a word."""
    def run(compiled):
        w = gg.tensor(np.linspace(-0.5, 0.5, 12).reshape(3, 4), requires_grad=True)

        def forward(x):
            m = x * w
            return (m, m[0]) if returned == "a tensor and its row" else (m[0], m[1:])

        call_it = gg.compile(forward) if compiled else forward
        seen = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for call in range(6):
                w.grad = None
                first, second = call_it(gg.tensor(_batch(call)))
                second.mul_(3)
                (_loss(first) + _loss(second)).backward()
                seen.append((first.numpy().tobytes(), w.grad.numpy().tobytes()))
        return seen, [str(warning.message) for warning in caught]

    (eager, _), (compiled, said) = run(False), run(True)
    assert compiled == eager
    assert said and "on one memory" in said[0]
