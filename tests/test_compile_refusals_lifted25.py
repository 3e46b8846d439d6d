"""Two refusals the random training programs met most often, lifted: ``nn.Embedding(max_norm=…)`` and glassgrad's own
forward pre-hooks (the old-style ``spectral_norm``, ``prune``).

``max_norm`` rescales, in place, the rows a batch reads whose norm exceeds it: which rows, and whether the table
changes at all (and its version counts a change), depends on the values. It ran every compiled step eagerly; it is now
one kernel of the step, worked out again at every call. The oracle is eager: each step run on two identical copies of
its state, one eagerly, one compiled, with batches that change from the third call on (the first two are one batch);
every result, parameter, ``.grad`` and optimizer state must be eager's bit for bit, and the compiled run must replay.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn
from glassgrad.nn import functional as F

CALLS = 9


def _snap(value):
    """Everything a value holds, as bytes (tensors, arrays, dicts, lists)."""
    if isinstance(value, gg.Tensor):
        value = value.detach().numpy()
    if isinstance(value, np.ndarray):
        return value.dtype.str, value.shape, value.tobytes()
    if isinstance(value, dict):
        return tuple((repr(key), _snap(part)) for key, part in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_snap(part) for part in value)
    return repr(value)


def _state(model, opt):
    return (_snap([p for p in model.parameters()]), _snap([p.grad for p in model.parameters()]),
            _snap(list(model.buffers())), _snap(opt.state_dict()["state"]))


def _run(build, batch, compiled, whole, optimizer, mode, dtype, calls=CALLS):
    """Each call's results and state; the number of replays (0 eagerly)."""
    gg.manual_seed(0)
    model = build().to(dtype)
    getattr(model, mode)()
    opt = (gg.optim.SGD(model.parameters(), lr=0.5, momentum=0.9) if optimizer == "sgd"
           else gg.optim.Adam(model.parameters(), lr=0.3))
    forward = gg.compile(model) if compiled and not whole else model

    def step(x):
        opt.zero_grad()
        out = forward(x)
        loss = (out.to(dtype) ** 2).mean()
        loss.backward()
        opt.step()
        return loss, out

    run = gg.compile(step) if compiled and whole else step
    seen = []
    for call in range(calls):
        loss, out = run(batch(max(call - 1, 0), dtype))
        seen.append((_snap(loss), _snap(out), _state(model, opt)))
    counted = run if compiled and whole else forward if compiled else None
    replays = 0 if counted is None else sum(
        entry.replays for entry in getattr(counted, "_compiled", counted).entries.values())
    return seen, replays


def _agrees(build, batch, whole, optimizer, mode, dtype):
    eager, _ = _run(build, batch, False, whole, optimizer, mode, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a refusal (its warning) fails
        compiled, replays = _run(build, batch, True, whole, optimizer, mode, dtype)
    for call, (mine, theirs) in enumerate(zip(compiled, eager, strict=True)):
        assert mine == theirs, f"call {call} differs from eager's"
    assert replays >= CALLS - 3
    return replays


def _tokens(call, dtype):
    return gg.tensor(np.random.default_rng(call).integers(0, 12, size=(3, 4)))


class _Bag(nn.Module):
    """Tokens embedded with max_norm (scaled up first, so that rows exceed it), then a linear read-out."""

    def __init__(self, **settings):
        super().__init__()
        self.emb = nn.Embedding(12, 5, max_norm=1.5, **settings)
        self.emb.weight.data.mul_(2.0)
        self.out = nn.Linear(5, 3)

    def forward(self, x):
        return self.out(self.emb(x).tanh()).sum(1)


class _Functional(nn.Module):
    """``F.embedding(…, max_norm=…)`` on a parameter table, p = 1."""

    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(gg.randn(12, 4) * 2)
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        return self.out(F.embedding(x, self.table, max_norm=2.0, norm_type=1.0)).mean(1)


EMBEDDINGS = {"nn.Embedding": _Bag, "padding_idx, scale_grad_by_freq": lambda: _Bag(
    padding_idx=0, scale_grad_by_freq=True), "F.embedding, norm_type=1": _Functional}


@pytest.mark.parametrize("dtype", [gg.float32, gg.float64])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("whole", [True, False], ids=["step", "model"])
@pytest.mark.parametrize("name", list(EMBEDDINGS))
def test_embedding_max_norm_replays_renormalising_as_eager_does(name, whole, optimizer, dtype):
    _agrees(EMBEDDINGS[name], _tokens, whole, optimizer, "train", dtype)


def test_embedding_max_norm_in_eval_replays_too():
    _agrees(_Bag, _tokens, True, "adam", "eval", gg.float64)


class _TiedLM(nn.Module):
    """A language model whose read-out is the embedding table itself (tied weights): the lookup rescales the table
    before the read-out uses it, as in eager."""

    def __init__(self, loop=1):
        super().__init__()
        self.emb = nn.Embedding(12, 5, max_norm=1.0)
        self.emb.weight.data.mul_(2.0)
        self.mix = nn.Linear(5, 5)
        self.loop = loop

    def forward(self, x):
        out = 0
        for t in range(self.loop):  # loop > 1: the next lookup rescales a table the read-out before saved
            out = out + self.mix(self.emb(x[:, t])).tanh() @ self.emb.weight.T
        return out


@pytest.mark.parametrize("whole", [True, False], ids=["step", "model"])
def test_a_tied_language_model_with_max_norm_replays(whole):
    _agrees(_TiedLM, _tokens, whole, "adam", "train", gg.float32)


def test_a_second_lookup_rescaling_a_table_the_read_out_saved_runs_eagerly_as_eager_raises_or_not():
    """Where a later lookup rescales the table the read-out saved, eager's backward refuses the read-out (PyTorch's
    error), depending on the values; a replay's rules check no versions, so such a step runs eagerly, saying why
    (rows within max_norm: eager's numbers; a row beyond it: eager's error)."""
    def outcome(compiled, scale):
        def build():
            model = _TiedLM(loop=2)
            model.emb.weight.data.mul_(scale)
            return model
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            try:
                seen = _run(build, _tokens, compiled, True, "sgd", "train", gg.float32, calls=4)[0]
            except RuntimeError as error:
                seen = str(error)
        return seen, [str(w.message) for w in said]

    for scale, raises in ((0.05, False), (1.0, True)):
        eager, _ = outcome(False, scale)
        compiled, said = outcome(True, scale)
        assert compiled == eager and isinstance(eager, str) == raises
    assert any("tied layer" in message for message in outcome(True, 0.05)[1])
