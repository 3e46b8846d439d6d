"""``gg.compile(model)`` of a forward that returns several tensors in the graph, ``backward()`` outside it.

nanoGPT's ``logits, loss = model(idx, targets)`` then ``loss.backward()``: the oracle is eager glassgrad, the same
model, optimizer and batches trained twice (once with the model compiled), which must end with equal arrays
(``np.array_equal``, every bit, and ``.grad`` None in the same places) whichever outputs ``backward()`` reaches.
"""

from __future__ import annotations

import collections
import dataclasses
import warnings

import numpy as np
import pytest

import glassgrad as gg

nn, F = gg.nn, gg.nn.functional
VOCAB, WIDTH, BLOCK = 11, 8, 5


class _CausalAttention(nn.Module):
    """nanoGPT's attention, written out: q, k, v split from one layer, heads by view/transpose, the causal mask a
    buffer, masked_fill with −∞, softmax, dropout."""

    def __init__(self, heads: int = 2):
        super().__init__()
        self.heads, self.qkv, self.out = heads, nn.Linear(WIDTH, 3 * WIDTH), nn.Linear(WIDTH, WIDTH)
        self.drop = nn.Dropout(0.1)
        self.register_buffer("bias", gg.tril(gg.ones(BLOCK, BLOCK)).view(1, 1, BLOCK, BLOCK))

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.qkv(x).split(WIDTH, dim=2)
        q, k, v = (part.view(b, t, self.heads, c // self.heads).transpose(1, 2) for part in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / (c // self.heads) ** 0.5)
        scores = scores.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        y = self.drop(F.softmax(scores, dim=-1)) @ v
        return self.out(y.transpose(1, 2).contiguous().view(b, t, c))


class _TinyGPT(nn.Module):
    """nanoGPT's shape, small: token and position embeddings, the token table tied to the head, a pre-LayerNorm
    block (causal attention, a GELU MLP, dropout); returns ``(logits, loss)`` (``loss`` None without targets, and
    targets −1 ignored, as nanoGPT's), and with ``aux`` a third output from a head only it reaches."""

    def __init__(self, aux: bool = False, form: type = tuple):
        super().__init__()
        self.embed, self.position = nn.Embedding(VOCAB, WIDTH), nn.Embedding(BLOCK, WIDTH)
        self.norm1, self.attention, self.norm2 = nn.LayerNorm(WIDTH), _CausalAttention(), nn.LayerNorm(WIDTH)
        self.block = nn.Sequential(nn.Linear(WIDTH, 16), nn.GELU(), nn.Linear(16, WIDTH), nn.Dropout(0.1))
        self.head = nn.Linear(WIDTH, VOCAB, bias=False)
        self.head.weight = self.embed.weight
        self.aux = nn.Linear(WIDTH, 1) if aux else None
        self.form = form

    def forward(self, idx, targets=None):
        h = self.embed(idx) + self.position(gg.arange(0, idx.size(1), dtype=gg.long))
        h = h + self.attention(self.norm1(h))
        h = h + self.block(self.norm2(h))
        logits = self.head(h)
        loss = None if targets is None else F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1), ignore_index=-1)
        if self.form is not tuple:  # a dict, a namedtuple, a dataclass (a library's output record)
            return self.form(logits=logits, loss=loss)
        if self.aux is not None:
            return logits, loss, self.aux(h).squeeze(-1)
        return logits, loss


_Record = collections.namedtuple("_Record", "logits loss")


@dataclasses.dataclass
class _Output:
    logits: gg.Tensor
    loss: gg.Tensor | None = None


class _ModelOutput(collections.OrderedDict):
    """A dict whose entries are also attributes, as a library's model output record."""

    def __getattr__(self, name):
        return self[name]


def _part(outputs, name, place):
    if isinstance(outputs, dict):
        return outputs[name]
    return getattr(outputs, name) if hasattr(outputs, name) else outputs[place]


def _loss(outputs):
    return _part(outputs, "loss", 1)


def _logits(outputs):
    return _part(outputs, "logits", 0)


BACKWARD_OF = {  # which outputs backward() reaches, at step n
    "loss": lambda out, n: _loss(out),
    "logits": lambda out, n: _logits(out).logsumexp(-1).mean(),
    "both": lambda out, n: _loss(out) + _logits(out).pow(2).mean(),
    "in-turn": lambda out, n: [_loss(out), _logits(out).logsumexp(-1).mean(),
                               _loss(out) + _logits(out).pow(2).mean()][n % 3],
    "aux": lambda out, n: out[2].pow(2).mean(),
    "aux-and-loss": lambda out, n: out[1] + out[2].mean(),
    "every-set": lambda out, n: sum(part.pow(2).mean() for part, used in zip(out, [n % 7 + 1 & 1, n % 7 + 1 & 2,
                                                                                 n % 7 + 1 & 4]) if used),
}


def _run(compiled, backward_of, aux=False, form=tuple, dtype=gg.float32, steps=21, evaluate=gg.no_grad):
    gg.manual_seed(0)
    model = _TinyGPT(aux, form).to(dtype)
    net = gg.compile(model) if compiled else model
    optimizer = gg.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1)
    rng = np.random.default_rng(5)
    records, grad_fns = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(steps):
            idx, targets = gg.tensor(rng.integers(0, VOCAB, (3, 5))), gg.tensor(rng.integers(-1, VOCAB, (3, 5)))
            if step % 5 == 4:  # nanoGPT's estimate_loss: eval mode, no_grad, then back to training
                model.eval()
                with evaluate():
                    records.append([_loss(net(idx, targets)).array.copy()])
                model.train()
            optimizer.zero_grad()
            outputs = net(idx, targets)
            grad_fns.append(getattr(_loss(outputs).grad_fn, "name", None))
            BACKWARD_OF[backward_of](outputs, step).backward()
            records.append([_loss(outputs).array.copy(), _logits(outputs).array.copy()]
                           + [None if p.grad is None else p.grad.array.copy() for p in model.parameters()])
            optimizer.step()
    records.append([p.array.copy() for p in model.parameters()])
    return records, grad_fns, [str(w.message) for w in caught]


def _same(eager, compiled):
    return all((a is None and b is None) or (a is not None and b is not None and a.dtype == b.dtype
                                             and np.array_equal(a, b))
               for one, two in zip(eager, compiled, strict=True) for a, b in zip(one, two, strict=True))


@pytest.mark.parametrize("dtype", [gg.float32, gg.float64])
@pytest.mark.parametrize("backward_of", ["loss", "logits", "both", "in-turn"])
def test_logits_and_loss_replay_bit_for_bit_whichever_backward_reaches(backward_of, dtype):
    eager, _, _ = _run(False, backward_of, dtype=dtype)
    compiled, grad_fns, messages = _run(True, backward_of, dtype=dtype)
    assert messages == []
    assert _same(eager, compiled)
    assert "compiled forward" not in grad_fns[:2] and grad_fns[2:] == ["compiled forward"] * 19  # captures, then


def test_evaluating_in_eval_mode_without_no_grad_keeps_a_program_for_each_mode():
    """A validation loss computed in eval mode with grad mode on (no ``no_grad``): the same key as training, so the
    key's programs are one per set of layer modes; training keeps replaying."""
    eager, _, _ = _run(False, "loss", evaluate=gg.enable_grad)
    compiled, grad_fns, messages = _run(True, "loss", evaluate=gg.enable_grad)
    assert messages == [] and _same(eager, compiled)
    assert grad_fns[2:] == ["compiled forward"] * 19


@pytest.mark.parametrize("backward_of", ["loss", "aux", "aux-and-loss", "every-set"])
def test_a_parameter_only_another_output_reaches_keeps_its_grad_none_as_in_eager(backward_of):
    eager, _, _ = _run(False, backward_of, aux=True)
    compiled, grad_fns, messages = _run(True, backward_of, aux=True)
    assert messages == []
    assert _same(eager, compiled)
    assert grad_fns[2:] == ["compiled forward"] * 19
    if backward_of == "loss":  # AdamW skips a parameter without .grad: its weight decay too, as eager
        assert all(grad is None for grad in eager[-2][-2:]) and all(grad is None for grad in compiled[-2][-2:])


@pytest.mark.parametrize("form", [dict, _Record, _Output, _ModelOutput])
def test_outputs_in_a_dict_or_a_record_replay_bit_for_bit_as_that_class(form):
    eager, _, _ = _run(False, "both", form=form)
    compiled, grad_fns, messages = _run(True, "both", form=form)
    assert messages == [] and _same(eager, compiled) and grad_fns[2:] == ["compiled forward"] * 19
    gg.manual_seed(0)
    model = _TinyGPT(form=form)
    net = gg.compile(model)
    idx = gg.tensor(np.arange(15).reshape(3, 5) % VOCAB)
    for _ in range(3):
        out = net(idx, idx)
    assert type(out) is form and _loss(out).grad_fn.name == "compiled forward"


def test_without_targets_the_loss_is_none_and_the_logits_one_node():
    gg.manual_seed(0)
    model = _TinyGPT().eval()  # no dropout: the eager call below draws no other mask
    net = gg.compile(model)
    idx = gg.tensor(np.arange(10).reshape(2, 5) % VOCAB)
    for _ in range(3):
        logits, loss = net(idx)
    assert loss is None and logits.grad_fn.name == "compiled forward"
    logits.sum().backward()
    got = [p.grad.array.copy() for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    model(idx)[0].sum().backward()
    assert all(np.array_equal(a, p.grad.array) for a, p in zip(got, model.parameters(), strict=True))


def test_the_joint_node_gives_autograd_grad_eager_s_gradients():
    gg.manual_seed(0)
    model = _TinyGPT().eval()
    net = gg.compile(model)
    idx, targets = gg.tensor(np.arange(15).reshape(3, 5) % VOCAB), gg.tensor(np.arange(15).reshape(3, 5) % 7)
    for _ in range(3):
        net(idx, targets)
    logits, loss = net(idx, targets)
    assert loss.grad_fn.name == "compiled forward"
    compiled = gg.autograd.grad(loss + logits.mean(), list(model.parameters()))
    logits, loss = model(idx, targets)
    eager = gg.autograd.grad(loss + logits.mean(), list(model.parameters()))
    assert all(np.array_equal(a.array, b.array) for a, b in zip(eager, compiled, strict=True))


def test_the_joint_node_refuses_a_kept_value_changed_in_place_as_eager_does():
    for compiled in (False, True):
        gg.manual_seed(0)
        model = _TinyGPT()
        net = gg.compile(model) if compiled else model
        idx, targets = gg.tensor(np.arange(15).reshape(3, 5) % VOCAB), gg.tensor(np.arange(15).reshape(3, 5) % 7)
        for _ in range(3):
            net(idx, targets)
        logits, loss = net(idx, targets)
        with gg.no_grad():
            model.block[2].weight.mul_(2.0)  # the block's last layer's input gradient reads it
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (loss + logits.mean()).backward()


def test_an_output_changed_in_place_before_backward_is_refused_only_where_eager_refuses_it():
    """The node keeps what its backward reads, not the outputs: the loss scaled in place under no_grad before its
    backward() is no value cross-entropy's rule reads, in eager or compiled."""
    grads = []
    for compiled in (False, True):
        gg.manual_seed(0)
        model = _TinyGPT().eval()
        net = gg.compile(model) if compiled else model
        idx = gg.tensor(np.arange(15).reshape(3, 5) % VOCAB)
        for _ in range(3):
            logits, loss = net(idx, idx)
        with gg.no_grad():
            loss.mul_(1.0)
        loss.backward()
        grads.append([p.grad.array.copy() for p in model.parameters()])
    assert all(np.array_equal(a, b) for a, b in zip(*grads, strict=True))


class _Many(nn.Module):
    def __init__(self, outputs):
        super().__init__()
        self.layer, self.outputs = nn.Linear(4, 4), outputs

    def forward(self, x):
        h = self.layer(x)
        return tuple(h * (k + 1) for k in range(self.outputs)) if self.outputs else (h, h)


@pytest.mark.parametrize("outputs, reason", [(4, "it returns 4 tensors in the graph"),
                                             (0, "it returns 2 tensors in the graph")])
def test_too_many_outputs_or_one_twice_run_eagerly_saying_why(outputs, reason):
    def run(compiled):
        gg.manual_seed(0)
        model = _Many(outputs)
        net = gg.compile(model) if compiled else model
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for step in range(4):
                model.zero_grad()
                out = net(gg.tensor(np.linspace(-1, 1, 8).reshape(2, 4) * (step + 1), dtype=gg.float32))
                sum(part.sum() for part in out).backward()
        return [p.grad.array.copy() for p in model.parameters()], [str(w.message) for w in caught]

    (eager, _), (compiled, messages) = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))
    assert len(messages) == 1 and reason in messages[0] and "running it eagerly" in messages[0]


def test_the_captures_walks_leave_every_grad_as_it_was():
    gg.manual_seed(0)
    model = _TinyGPT(aux=True)
    net = gg.compile(model)
    idx, targets = gg.tensor(np.arange(15).reshape(3, 5) % VOCAB), gg.tensor(np.arange(15).reshape(3, 5) % 7)
    model.embed.weight.grad = gg.ones_like(model.embed.weight)
    for _ in range(2):  # the two captures: seven walks each
        net(idx, targets)
    assert np.array_equal(model.embed.weight.grad.array, np.ones((VOCAB, WIDTH), np.float32))
    assert all(p.grad is None for name, p in model.named_parameters() if name != "embed.weight")


@dataclasses.dataclass
class _WithDerived:
    value: gg.Tensor
    twice: gg.Tensor = dataclasses.field(init=False)

    def __post_init__(self):
        self.twice = self.value * 2


class _Sub(list):
    pass


@pytest.mark.parametrize("make", [lambda a, b: _Record(a, b), lambda a, b: _Output(a, b),
                                  lambda a, b: _ModelOutput(logits=a, loss=b), lambda a, b: _Sub([a, b]),
                                  lambda a, b: {"pair": (a, [b]), 3: b}])
def test_a_compiled_function_returns_what_eager_returns_in_its_class(make):
    def step(x):
        return make(x * 2, (x + 1).sum())

    compiled = gg.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call in range(6):
            x = gg.tensor(np.linspace(-1, 1, 4) * (call + 1))
            got, expected = compiled(x), step(x)
            assert type(got) is type(expected) and repr(got) == repr(expected)
    assert caught == [] and sum(entry.replays for entry in compiled.entries.values()) == 4


def test_a_dataclass_with_fields_its_init_does_not_take_runs_eagerly_saying_why():
    compiled = gg.compile(lambda x: _WithDerived(x + 1))
    with pytest.warns(UserWarning, match="a dataclass with fields its __init__ does not take"):
        for call in range(3):
            got = compiled(gg.tensor([float(call)]))
    assert got.twice.tolist() == [6.0]


class _PassesItsInputOn(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3, 3)

    def forward(self, x):
        return self.layer(x), x


def test_an_argument_returned_as_it_is_is_the_call_s_own_tensor():
    """A replay gave back a new tensor around the argument's numbers, without requires_grad: the gradient through
    the returned argument was lost without a word (x.grad missed the 2 of ``(b * 2).sum()``)."""
    for make in (_PassesItsInputOn, nn.Identity):
        gradients = []
        for compiled in (False, True):
            gg.manual_seed(0)
            model = make()
            net = gg.compile(model) if compiled else model
            rng = np.random.default_rng(0)
            for _ in range(4):
                x = gg.tensor(rng.standard_normal((2, 3)), dtype=gg.float32, requires_grad=True)
                out = net(x)
                a, b = out if isinstance(out, tuple) else (out * 3, out)
                assert b is x
                (a.sum() + (b * 2).sum()).backward()
                gradients.append(x.grad.array.copy())
        assert all(np.array_equal(e, c) for e, c in zip(gradients[:4], gradients[4:], strict=True))


def test_a_compiled_step_returning_its_argument_gives_it_back():
    step = gg.compile(lambda x, y: ((x * y).sum(), y))
    for call in range(4):
        x, y = gg.tensor([1.0, float(call)]), gg.tensor([2.0, 3.0])
        total, same = step(x, y)
        assert same is y and total.item() == 2.0 + 3.0 * call
    assert sum(entry.replays for entry in step.entries.values()) == 2
