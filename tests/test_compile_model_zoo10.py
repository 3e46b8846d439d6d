"""The models learners write in courses (Karpathy's makemore and nanoGPT, PyTorch's tutorials, d2l, fast.ai), each
trained for several calls eagerly and compiled (``gg.compile`` of the whole step) from one seed, with batches that
change between calls: every returned value, weight, ``.grad``, buffer and optimizer state equal, bit for bit, or the
step runs eagerly saying why.

The holes fixed here (failed on d1aed90):

* makemore's hand-written layers (plain classes with ``__call__``, not ``nn.Module``), kept in a list (or a dict, a
  list of lists) and called as ``for layer in layers: x = layer(x)``, each binding ``self.out`` (plotted after
  training): the ``__call__`` of an object in a container was not read for names, so a replay left ``layer.out`` at
  the second capture's activations, without a word; now it is read as a method of that object, and the step runs
  eagerly, naming ``layers[0].out``. So was a callable object held by a layer (``self.act = Act()``).
* ``x[t]`` with a 0-d integer tensor ``t`` (makemore's ``dC[ix] += demb[k, j]``) read t's number in Python without
  telling the capture, so a replay kept the captures' rows where they agreed; it now runs eagerly, saying why.
* a step setting ``model.train()`` at its top, after a validation pass in ``eval()`` before every call, was captured
  at every call and never replayed, without a word; it now runs eagerly after :data:`MAX_REBOUND` such calls, saying
  why (a conservative refusal, but no longer a silent one).
* a loss module built inside the step (``nn.HuberLoss(delta=0.7)(out, y)``): each capture called layers of its
  own, so none was ever confirmed, and every call was captured and kept (memory growing at each call), without a
  word; now the key runs eagerly, saying why, once the captures awaiting a second are :data:`MAX_MODES`.
* a step returning a tensor made of what its own backward freed (the attention weights of a seq2seq step, not
  detached; nanoGPT's ``loss * grad_accum``) ran eagerly, saying its graph was still needed (a conservative
  refusal): eager's backward from it raises, so it is now returned as a value.
* d2l's ``-gg.log(y_hat[range(len(y_hat)), y])``: a ``range`` in an index was a new Python value at each call, so
  the step ran eagerly (a conservative refusal); it is now the array of its numbers, as NumPy reads it, and replays.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_compile_guards_adversary2 import _assert_same
from test_compile_guards_adversary3 import _plain

import glassgrad as gg
from glassgrad.compiler.compiled import MAX_MODES

nn = gg.nn
F = nn.functional
CALLS = 10

Make = Callable[[], tuple[Callable, Callable[[], Any], Callable[[int], tuple]]]
"""Builds one run's state: the step, a function giving what the run leaves, and the call's arguments by number."""


def _run(make: Make, compiled: bool, calls: int) -> tuple[Any, Any, list[str], Any]:
    gg.manual_seed(0)
    step, state, arguments = make()
    run = gg.compile(step) if compiled else step
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [_plain(run(*arguments(number))) for number in range(calls)]
    return results, _plain(state()), [str(w.message) for w in caught if str(w.message).startswith("gg.compile")], run


def _same_as_eager(make: Make, calls: int = CALLS) -> tuple[list[str], int]:
    """Eager and compiled runs equal, bit for bit; the compiler's warnings and the replays."""
    eager, eager_state, _, _ = _run(make, False, calls)
    results, state, messages, run = _run(make, True, calls)
    _assert_same(eager, results, "results")
    _assert_same(eager_state, state, "state")
    return messages, sum(entry.replays for entry in run.entries.values())


def _replayed(make: Make, calls: int = CALLS) -> None:
    messages, replays = _same_as_eager(make, calls)
    assert messages == [] and replays > 0, (messages, replays)


def _eager_saying(make: Make, *named: str, calls: int = CALLS) -> None:
    messages, replays = _same_as_eager(make, calls)
    assert replays == 0 and messages and all(name in messages[0] for name in named), messages


def _model_compiled(make_of: Callable[[Callable], Make], calls: int = CALLS) -> None:
    """``make_of(compile)`` builds a run whose model is passed through ``compile`` (``gg.compile``, or nothing): the
    eager and compiled runs equal, bit for bit, with no warning, and the model replayed."""
    compiled: list = []

    def compiling(model: nn.Module) -> Any:
        compiled.append(gg.compile(model))
        return compiled[-1]
    eager, eager_state, _, _ = _run(make_of(lambda model: model), False, calls)
    results, state, messages, _ = _run(make_of(compiling), False, calls)
    _assert_same(eager, results, "results")
    _assert_same(eager_state, state, "state")
    assert messages == []
    assert sum(entry.replays for entry in compiled[0]._compiled.entries.values()) > 0


def _squares_step(model: nn.Module) -> Callable:
    """A step of SGD on the mean square of the model's output."""
    opt = gg.optim.SGD(model.parameters(), lr=0.1)

    def step(x: gg.Tensor) -> gg.Tensor:
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


def _tokens(rng: np.random.Generator, shape: tuple, high: int) -> gg.Tensor:
    return gg.tensor(rng.integers(0, high, shape))


def _floats(rng: np.random.Generator, *shape: int) -> gg.Tensor:
    return gg.tensor(rng.standard_normal(shape).astype(np.float32))


# --- makemore ----------------------------------------------------------------------------------------------------


class _Linear:
    """makemore part 3's layers: plain classes, each keeping its output in ``self.out`` (plotted after training)."""

    def __init__(self, fan_in: int, fan_out: int, generator: gg.Generator, bias: bool = True) -> None:
        self.weight = gg.randn((fan_in, fan_out), generator=generator) / fan_in ** 0.5
        self.bias = gg.zeros(fan_out) if bias else None

    def __call__(self, x: gg.Tensor) -> gg.Tensor:
        self.out = x @ self.weight
        if self.bias is not None:
            self.out = self.out + self.bias
        return self.out

    def parameters(self) -> list:
        return [self.weight] + ([] if self.bias is None else [self.bias])


class _Tanh:
    def __call__(self, x: gg.Tensor) -> gg.Tensor:
        self.out = gg.tanh(x)
        return self.out

    def parameters(self) -> list:
        return []


class _Sequential:
    """makemore part 4's container, plain too."""

    def __init__(self, layers: list) -> None:
        self.layers = layers

    def __call__(self, x: gg.Tensor) -> gg.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list:
        return [p for layer in self.layers for p in layer.parameters()]


def _makemore_layers(depth: int, form: str) -> Make:
    def make() -> tuple:
        g = gg.Generator().manual_seed(2147483647)
        vocab, n_embd, block, hidden = 11, 3, 3, 8
        table = gg.randn((vocab, n_embd), generator=g)
        layers = [_Linear(n_embd * block, hidden, g), _Tanh()]
        layers += [layer for _ in range(depth) for layer in (_Linear(hidden, hidden, g), _Tanh())]
        layers.append(_Linear(hidden, vocab, g))
        model = _Sequential(layers)
        held = {"list": layers, "dict": {f"layer{place}": layer for place, layer in enumerate(layers)},
                "nested": [layers[:2], layers[2:]]}.get(form)
        parameters = [table, *model.parameters()]
        for p in parameters:
            p.requires_grad = True
        rng = np.random.default_rng(0)

        def step(xb: gg.Tensor, yb: gg.Tensor) -> gg.Tensor:
            emb = table[xb]
            x = emb.view(emb.shape[0], -1)
            if form == "sequential":
                x = model(x)
            elif form == "list":
                for layer in held:
                    x = layer(x)
            elif form == "dict":
                for layer in held.values():
                    x = layer(x)
            else:
                for part in held:
                    for layer in part:
                        x = layer(x)
            loss = F.cross_entropy(x, yb)
            for p in parameters:
                p.grad = None
            loss.backward()
            for p in parameters:
                p.data += -0.1 * p.grad
            return loss

        data = [(_tokens(rng, (6, block), vocab), _tokens(rng, (6,), vocab)) for _ in range(CALLS)]
        return step, lambda: [parameters, [layer.out for layer in layers]], lambda number: data[number]
    return make


@pytest.mark.parametrize(("depth", "form", "named"), [
    (0, "list", "held[0].out"), (5, "list", "held[0].out"), (1, "sequential", "layers[0].out"),
    (1, "dict", "held['layer0'].out"), (1, "nested", "held[0][0].out")])
def test_makemore_layers_binding_self_out_run_eagerly_naming_it(depth: int, form: str, named: str) -> None:
    """Each layer's ``out`` after training is the last call's, as eager leaves it: layers in a list (longer than 8
    too), in makemore's plain ``Sequential``, in a dict, in a list of lists."""
    _eager_saying(_makemore_layers(depth, form), named)


class _Act:
    def __call__(self, x: gg.Tensor) -> gg.Tensor:
        self.out = gg.tanh(x)
        return self.out


class _WithAct(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc, self.act, self.head = nn.Linear(3, 4), _Act(), nn.Linear(4, 2)

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        return self.head(self.act(self.fc(x)))


@pytest.mark.parametrize("holder", ["layer", "settings"])
def test_a_callable_object_binding_self_out_held_by_a_layer_or_object_runs_eagerly_naming_it(holder: str) -> None:
    """``self.act = Act()`` in a layer (``Net.act.out`` was left at the second capture's, without a word), or in a
    plain object the step names (``h.act(x)``)."""
    def make() -> tuple:
        net = _WithAct()
        holding = types.SimpleNamespace(act=_Act(), net=net)
        opt = gg.optim.SGD(net.parameters(), lr=0.1)
        rng = np.random.default_rng(0)

        def step(x: gg.Tensor) -> gg.Tensor:
            out = net(x) if holder == "layer" else holding.net.head(holding.act(holding.net.fc(x)))
            loss = out.pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step, lambda: [dict(net.state_dict()), net.act.__dict__.get("out"), holding.act.__dict__.get("out")], \
            lambda _: (_floats(rng, 2, 3),)
    _eager_saying(make, "_WithAct.act.out" if holder == "layer" else "holding.act.out")


SCALE = [1.0]


class _Dropout:
    """A dropout written by hand, as a plain class with a ``training`` flag (makemore's style)."""

    def __init__(self, p: float) -> None:
        self.p, self.training = p, True

    def __call__(self, x: gg.Tensor) -> gg.Tensor:
        return x * (gg.rand(x.shape) > self.p).float() / (1 - self.p) if self.training else x


class _Scaler:
    def __init__(self) -> None:
        self.scale = 1.0

    def apply(self, x: gg.Tensor) -> gg.Tensor:
        return x * self.scale


@pytest.mark.parametrize("form", ["functions", "method", "flag"])
def test_functions_and_flags_in_a_list_of_layers_are_read_at_each_call(form: str) -> None:
    """``acts = [lambda x: x * SCALE[0], gg.tanh]`` with the global changed between calls (a replay kept the captures'
    scale, without a word), ``[scaler.apply, gg.tanh]`` with ``scaler.scale`` changed, and a hand-written dropout
    turned off (``drop.training = False``): each captured again."""
    def make() -> tuple:
        SCALE[0] = 1.0
        w = gg.randn(4, 3, requires_grad=True)
        scaler = _Scaler()
        layers = {"functions": [lambda x: x * SCALE[0], gg.tanh], "method": [scaler.apply, gg.tanh],
                  "flag": [_Dropout(0.5)]}[form]
        rng = np.random.default_rng(0)

        def step(x: gg.Tensor) -> gg.Tensor:
            h = x @ w
            for layer in layers:
                h = layer(h)
            loss = h.pow(2).mean()
            w.grad = None
            loss.backward()
            with gg.no_grad():
                w.sub_(0.1 * w.grad)
            return loss

        def arguments(number: int) -> tuple:
            if number == 5:
                SCALE[0] = 2.0
                scaler.scale = 2.0
                if form == "flag":
                    layers[0].training = False
            return (_floats(rng, 2, 4),)
        return step, lambda: [w], arguments
    _replayed(make)


def _scaled_tanh(x: gg.Tensor) -> gg.Tensor:
    return gg.tanh(x) * SCALE[0]


class _WithFunction(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc, self.act = nn.Linear(3, 2), _scaled_tanh

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        return self.act(self.fc(x))


def test_a_function_held_by_a_layer_is_read_at_each_call():
    """``self.act = my_act``, reading a global changed between calls: replayed with the captures' value, without a
    word; now the change is read by a new capture."""
    def make() -> tuple:
        SCALE[0] = 1.0
        net = _WithFunction()
        rng = np.random.default_rng(0)

        def arguments(number: int) -> tuple:
            if number == 5:
                SCALE[0] = 3.0
            return (_floats(rng, 2, 3),)
        return _squares_step(net), lambda: [dict(net.state_dict())], arguments
    _replayed(make)


def _makemore_mlp(running: str) -> Make:
    """makemore part 2/3's MLP: ``C[X]``, ``emb.view``, a hand-written BatchNorm, tanh, ``p.data += -lr * p.grad``."""
    def make() -> tuple:
        g = gg.Generator().manual_seed(42)
        vocab, n_embd, block, hidden = 11, 3, 3, 8
        table = gg.randn((vocab, n_embd), generator=g)
        w1 = gg.randn((n_embd * block, hidden), generator=g) * 0.2
        w2 = gg.randn((hidden, vocab), generator=g) * 0.1
        b2 = gg.zeros(vocab)
        gain, shift = gg.ones((1, hidden)), gg.zeros((1, hidden))
        parameters = [table, w1, w2, b2, gain, shift]
        for p in parameters:
            p.requires_grad = True
        stats = {"mean": gg.zeros((1, hidden)), "std": gg.ones((1, hidden))}
        rng = np.random.default_rng(0)

        def step(xb: gg.Tensor, yb: gg.Tensor) -> tuple:
            emb = table[xb]
            hpre = emb.view(emb.shape[0], -1) @ w1
            mean, std = hpre.mean(0, keepdim=True), hpre.std(0, keepdim=True)
            hpre = gain * (hpre - mean) / std + shift
            with gg.no_grad():
                if running == "in place":
                    stats["mean"].mul_(0.999).add_(0.001 * mean)
                    stats["std"].mul_(0.999).add_(0.001 * std)
                elif running == "bound anew":  # bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
                    stats["mean"] = 0.999 * stats["mean"] + 0.001 * mean
                    stats["std"] = 0.999 * stats["std"] + 0.001 * std
            logits = gg.tanh(hpre) @ w2 + b2
            loss = F.cross_entropy(logits, yb)
            for p in parameters:
                p.grad = None
            loss.backward()
            for p in parameters:
                p.data += -LR[0] * p.grad
            return loss, logits.argmax(1)

        data = [(_tokens(rng, (6, block), vocab), _tokens(rng, (6,), vocab)) for _ in range(CALLS)]

        def arguments(number: int) -> tuple:
            LR[0] = 0.1 if number < 5 else 0.01  # the schedule, a global read by the step
            return data[number]
        return step, lambda: [parameters, [p.grad for p in parameters], dict(stats)], arguments
    return make


LR = [0.1]


@pytest.mark.parametrize("running", ["none", "in place"])
def test_makemore_mlp_with_hand_written_batchnorm_replays(running: str) -> None:
    _replayed(_makemore_mlp(running))


def test_makemore_running_stats_bound_anew_at_each_call_run_eagerly_saying_why():
    _eager_saying(_makemore_mlp("bound anew"), "does different work")


def _backprop_ninja(scatter: str) -> Make:
    """makemore's "becoming a backprop ninja": the gradients worked out by hand under ``no_grad``, ``dlogits[range(n),
    Yb] -= 1``, then ``dC`` by a loop over the batch (``ix = Xb[k, j]; dC[ix] += demb[k, j]``) or ``index_add_``. The
    first two batches are the same (a step repeated on one batch before the data loop starts)."""
    def make() -> tuple:
        g = gg.Generator().manual_seed(1)
        table, w, b = gg.randn((9, 2), generator=g), gg.randn((4, 9), generator=g) * 0.3, gg.zeros(9)
        parameters = [table, w, b]
        rng = np.random.default_rng(0)
        first = (_tokens(rng, (5, 2), 9), _tokens(rng, (5,), 9))

        def step(xb: gg.Tensor, yb: gg.Tensor) -> gg.Tensor:
            n = xb.shape[0]
            with gg.no_grad():
                emb = table[xb]
                embcat = emb.view(n, -1)
                logits = embcat @ w + b
                loss = F.cross_entropy(logits, yb)
                dlogits = F.softmax(logits, 1)
                dlogits[range(n), yb] -= 1
                dlogits /= n
                demb = (dlogits @ w.T).view(emb.shape)
                if scatter == "loop":
                    d_table = gg.zeros_like(table)
                    for k in range(xb.shape[0]):
                        for j in range(xb.shape[1]):
                            ix = xb[k, j]
                            d_table[ix] += demb[k, j]
                else:
                    d_table = gg.zeros_like(table).index_add_(0, xb.view(-1), demb.view(-1, 2))
                for p, grad in zip(parameters, [d_table, embcat.T @ dlogits, dlogits.sum(0)]):
                    p.data += -0.1 * grad
            return loss
        return step, lambda: parameters, lambda number: first if number < 2 else (
            _tokens(rng, (5, 2), 9), _tokens(rng, (5,), 9))
    return make


def test_backprop_ninja_with_index_add_replays():
    _replayed(_backprop_ninja("index_add"))


def test_backprop_ninja_with_a_loop_over_the_batch_runs_eagerly_saying_why():
    """``dC[ix]`` with ``ix = Xb[k, j]`` reads ix's number in Python (a view, as in PyTorch)."""
    _eager_saying(_backprop_ninja("loop"), "0-d integer tensor")


def test_indexing_with_a_0d_integer_tensor_runs_eagerly_saying_why():
    """A replay kept the captures' row for every later call, without a word, where the two captures saw one row."""
    def make() -> tuple:
        table = gg.randn(7, 3, requires_grad=True)
        opt = gg.optim.SGD([table], lr=0.1)
        rows = [2, 2, 5, 1, 3, 6, 0, 4, 2, 1]

        def step(row: gg.Tensor) -> gg.Tensor:
            loss = (table[row] ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step, lambda: [table, table.grad], lambda number: (gg.tensor(rows[number]),)
    _eager_saying(make, "0-d integer tensor")


# --- nanoGPT -----------------------------------------------------------------------------------------------------


class _Attention(nn.Module):
    def __init__(self, width: int, heads: int, block: int, p: float) -> None:
        super().__init__()
        self.c_attn, self.c_proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.n_head, self.n_embd = heads, width
        self.attn_dropout, self.resid_dropout = nn.Dropout(p), nn.Dropout(p)
        self.register_buffer("bias", gg.tril(gg.ones(block, block)).view(1, 1, block, block))

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        b, t, c = x.size()
        q, k, v = (part.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
                   for part in self.c_attn(x).split(self.n_embd, dim=2))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.resid_dropout(self.c_proj(y))


class _Block(nn.Module):
    def __init__(self, width: int, heads: int, block: int, p: float) -> None:
        super().__init__()
        self.ln_1, self.attn, self.ln_2 = nn.LayerNorm(width), _Attention(width, heads, block, p), nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width), nn.Dropout(p))

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class _GPT(nn.Module):
    def __init__(self, vocab: int = 13, block: int = 8, p: float = 0.1) -> None:
        super().__init__()
        self.block_size = block
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, 8), wpe=nn.Embedding(block, 8), drop=nn.Dropout(p),
            h=nn.ModuleList([_Block(8, 2, block, p) for _ in range(2)]), ln_f=nn.LayerNorm(8)))
        self.lm_head = nn.Linear(8, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying

    def forward(self, idx: gg.Tensor, targets: gg.Tensor | None = None) -> tuple:
        pos = gg.arange(0, idx.size(1), dtype=gg.long)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is None:
            return self.lm_head(x[:, [-1], :]), None
        logits = self.lm_head(x)
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    @gg.no_grad()
    def generate(self, idx: gg.Tensor, count: int) -> gg.Tensor:
        for _ in range(count):
            logits, _ = self(idx[:, -self.block_size:])
            v, _ = gg.topk(logits[:, -1, :], 3)
            logits = logits[:, -1, :].clone()
            logits[logits < v[:, [-1]]] = -float("inf")
            idx = gg.cat((idx, gg.multinomial(F.softmax(logits, dim=-1), num_samples=1)), dim=1)
        return idx


def _nanogpt(accumulate: bool = False) -> Make:
    """nanoGPT's step: AdamW with decay and no-decay groups, clipping, batches with targets ignored (two of them
    wholly: eager's loss is NaN), a shorter batch every fourth call, ``generate()`` in eval between calls."""
    def make() -> tuple:
        model = _GPT()
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = gg.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=1e-2, betas=(0.9, 0.95))
        rng = np.random.default_rng(1)
        samples = []

        def step(x: gg.Tensor, y: gg.Tensor) -> gg.Tensor:
            if accumulate:
                for micro in range(2):
                    _, loss = model(x[micro], y[micro])
                    (loss / 2).backward()
            else:
                _, loss = model(x, y)
                loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss * 2 if accumulate else loss  # made of the freed loss: a value (it ran eagerly, saying so)

        def arguments(number: int) -> tuple:
            shape = (2, 3, 8) if accumulate else (3, 5 if number % 4 == 3 else 8)
            x, y = rng.integers(0, 13, shape), rng.integers(0, 13, shape)
            y[..., :2] = -1
            if number in (4, 7):
                y[:] = -1
            for group in opt.param_groups:  # a cosine schedule set outside the step
                group["lr"] = 1e-2 * 0.5 * (1 + math.cos(math.pi * number / CALLS))
            if number % 3 == 2:
                model.eval()
                samples.append(model.generate(gg.zeros((1, 1), dtype=gg.long), 3))
                model.train()
            return gg.tensor(x), gg.tensor(y)
        return step, lambda: [dict(model.state_dict()), opt.state_dict(), samples], arguments
    return make


@pytest.mark.parametrize("accumulate", [False, True])
def test_nanogpt_training_replays_bit_for_bit(accumulate: bool) -> None:
    _replayed(_nanogpt(accumulate))


def test_nanogpt_compiled_model_with_generate_between_steps_replays():
    def make_of(compiling: Callable) -> Make:
        def make() -> tuple:
            model = _GPT(p=0.0)
            net = compiling(model)
            opt = gg.optim.AdamW(model.parameters(), lr=1e-2)
            rng = np.random.default_rng(1)

            def step(x: gg.Tensor, y: gg.Tensor) -> tuple:
                logits, loss = net(x, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                model.eval()
                with gg.no_grad():
                    idx = gg.zeros((1, 1), dtype=gg.long)
                    for _ in range(3):
                        last, _ = net(idx)
                        idx = gg.cat((idx, gg.multinomial(F.softmax(last[:, -1, :], dim=-1), 1)), 1)
                model.train()
                return logits, loss, idx
            return step, lambda: [dict(model.state_dict()), opt.state_dict()], lambda _: (
                _tokens(rng, (3, 8), 13), _tokens(rng, (3, 8), 13))
        return make
    _model_compiled(make_of)


# --- recurrent char-models: truncated BPTT -----------------------------------------------------------------------


def _char_rnn(kind: str, compiled: bool) -> tuple[list, Any, list[str], Any]:
    """A char-model trained by truncated BPTT: the hidden state returned ``.detach()``ed, passed back next call."""
    gg.manual_seed(0)
    vocab, hidden = 7, 5
    emb = nn.Embedding(vocab, 4)
    rnn = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind](4, hidden, batch_first=True)
    head = nn.Linear(hidden, vocab)
    model = nn.ModuleList([emb, rnn, head])
    opt = gg.optim.Adam(model.parameters(), lr=0.01)

    def step(x: gg.Tensor, y: gg.Tensor, h: Any) -> tuple:
        out, h = rnn(emb(x), h)
        loss = F.cross_entropy(head(out).reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        return loss, tuple(part.detach() for part in h) if kind == "LSTM" else h.detach()
    run = gg.compile(step) if compiled else step
    rng = np.random.default_rng(2)
    h = (gg.zeros(1, 2, hidden),) * 2 if kind == "LSTM" else gg.zeros(1, 2, hidden)
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(CALLS):
            loss, h = run(_tokens(rng, (2, 6), vocab), _tokens(rng, (2, 6), vocab), h)
            results.append(_plain([loss, h]))
    return results, _plain([dict(model.state_dict()), opt.state_dict()]), [str(w.message) for w in caught], run


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_hidden_state_passed_back_as_an_argument_replays(kind: str) -> None:
    eager, eager_state, _, _ = _char_rnn(kind, False)
    results, state, messages, run = _char_rnn(kind, True)
    _assert_same(eager, results)
    _assert_same(eager_state, state)
    assert messages == [] and sum(entry.replays for entry in run.entries.values()) > 0


def test_a_hidden_state_kept_by_the_step_runs_eagerly_saying_why():
    """``h = h.detach()`` kept by the step itself, in a dict it names: each call's is new, so it runs eagerly."""
    def make() -> tuple:
        rnn, head = nn.GRU(3, 4, batch_first=True), nn.Linear(4, 2)
        opt = gg.optim.SGD([*rnn.parameters(), *head.parameters()], lr=0.1)
        held = {"h": None}
        rng = np.random.default_rng(2)

        def step(x: gg.Tensor, y: gg.Tensor) -> gg.Tensor:
            out, h = rnn(x, held["h"])
            loss = F.cross_entropy(head(out[:, -1]), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            held["h"] = h.detach()
            return loss
        return step, lambda: [dict(rnn.state_dict()), held["h"]], lambda _: (_floats(rng, 2, 5, 3),
                                                                             _tokens(rng, (2,), 2))
    _eager_saying(make, "held")


def test_the_name_classification_tutorial_s_rnn_replays():
    """PyTorch's "NLP from scratch": an RNN cell of Linear layers, a loop over the name's letters (its length in the
    key), ``p.data.add_(p.grad.data, alpha=-lr)``."""
    class CellRNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.i2h, self.i2o, self.softmax = nn.Linear(11, 6), nn.Linear(11, 3), nn.LogSoftmax(dim=1)

        def forward(self, letter: gg.Tensor, hidden: gg.Tensor) -> tuple:
            combined = gg.cat((letter, hidden), 1)
            return self.softmax(self.i2o(combined)), self.i2h(combined)

    def make() -> tuple:
        rnn, criterion = CellRNN(), nn.NLLLoss()
        rng = np.random.default_rng(0)

        def train(category: gg.Tensor, line: gg.Tensor) -> tuple:
            hidden = gg.zeros(1, 6)
            rnn.zero_grad()
            for i in range(line.size()[0]):
                output, hidden = rnn(line[i], hidden)
            loss = criterion(output, category)
            loss.backward()
            for p in rnn.parameters():
                p.data.add_(p.grad.data, alpha=-0.005)
            return output, loss

        def arguments(number: int) -> tuple:
            length = (3, 4)[number % 2]
            line = np.zeros((length, 1, 5), np.float32)
            line[np.arange(length), 0, rng.integers(0, 5, length)] = 1
            return _tokens(rng, (1,), 3), gg.tensor(line)
        return train, lambda: [dict(rnn.state_dict()), [p.grad for p in rnn.parameters()]], arguments
    _replayed(make)


class _Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding, self.gru, self.dropout = nn.Embedding(9, 6), nn.GRU(6, 6, batch_first=True), nn.Dropout(0.1)

    def forward(self, x: gg.Tensor) -> tuple:
        return self.gru(self.dropout(self.embedding(x)))


class _AttentionDecoder(nn.Module):
    """PyTorch's seq2seq tutorial's decoder: Bahdanau attention, teacher forcing, a loop over the target's length."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding, self.dropout = nn.Embedding(9, 6), nn.Dropout(0.1)
        self.wa, self.ua, self.va = nn.Linear(6, 6), nn.Linear(6, 6), nn.Linear(6, 1)
        self.gru, self.out = nn.GRU(12, 6, batch_first=True), nn.Linear(6, 9)

    def forward(self, keys: gg.Tensor, h: gg.Tensor, target: gg.Tensor) -> tuple:
        step_input, outputs, attentions = gg.zeros(keys.size(0), 1, dtype=gg.long), [], []
        for i in range(target.size(1)):
            query = h.permute(1, 0, 2)
            scores = self.va(gg.tanh(self.wa(query) + self.ua(keys))).squeeze(2).unsqueeze(1)
            weights = F.softmax(scores, dim=-1)
            out, h = self.gru(gg.cat((self.dropout(self.embedding(step_input)), gg.bmm(weights, keys)), dim=2), h)
            outputs.append(self.out(out))
            attentions.append(weights)
            step_input = target[:, i].unsqueeze(1)
        return F.log_softmax(gg.cat(outputs, dim=1), dim=-1), gg.cat(attentions, dim=1)


def test_a_seq2seq_step_returning_its_attention_weights_replays():
    """The attention weights returned for a plot, not detached: their graph was walked by the step's backward (eager's
    own backward from them raises), so they are a value; the step ran eagerly, saying the graph was still needed."""
    def make() -> tuple:
        encoder, decoder = _Encoder(), _AttentionDecoder()
        encoder_opt, decoder_opt = gg.optim.Adam(encoder.parameters(), lr=1e-2), gg.optim.Adam(decoder.parameters())
        rng = np.random.default_rng(0)

        def step(x: gg.Tensor, target: gg.Tensor) -> tuple:
            encoder_opt.zero_grad()
            decoder_opt.zero_grad()
            keys, h = encoder(x)
            out, attention = decoder(keys, h, target)
            loss = F.nll_loss(out.view(-1, out.size(-1)), target.view(-1))
            loss.backward()
            encoder_opt.step()
            decoder_opt.step()
            return loss, attention
        return step, lambda: [dict(encoder.state_dict()), dict(decoder.state_dict())], lambda number: (
            _tokens(rng, (2, 4), 9), _tokens(rng, (2, 3 if number % 3 else 4), 9))
    _replayed(make)


def test_a_returned_tensor_cut_by_the_step_s_backward_refuses_backward_as_eager_does():
    """Eager's backward from such a tensor raises (the graph was freed); the replay's is a value, with no graph."""
    w = gg.randn(3, requires_grad=True)

    @gg.compile
    def step(x: gg.Tensor) -> gg.Tensor:
        s = F.softmax(w * x, 0)
        (s * gg.arange(3.0)).sum().backward()
        return gg.cat([s, s])
    for _ in range(4):
        out = step(gg.randn(3))
    assert sum(entry.replays for entry in step.entries.values()) == 2
    with pytest.raises(RuntimeError):
        out.sum().backward()


# --- CNN on 8x8 digits, train() and eval() alternated ------------------------------------------------------------


def _digits_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Dropout2d(0.25), nn.Conv2d(4, 6, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Dropout(0.3), nn.Linear(6, 10))


def _digits(compiling: Callable) -> Make:
    def make() -> tuple:
        model = _digits_cnn()
        net = compiling(model)
        opt = gg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
        sched = gg.optim.lr_scheduler.StepLR(opt, 3, 0.5)
        rng = np.random.default_rng(3)
        validated = []

        def step(x: gg.Tensor, y: gg.Tensor) -> tuple:
            model.train()
            out = net(x)
            loss = F.cross_entropy(out, y, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            return loss, (out.argmax(1) == y).float().mean()

        def arguments(number: int) -> tuple:
            if number % 2:
                model.eval()
                with gg.no_grad():
                    validated.append(net(_floats(rng, 3, 1, 8, 8)))
            size = 3 if number % 5 == 4 else 4
            return _floats(rng, size, 1, 8, 8), _tokens(rng, (size,), 10)
        return step, lambda: [dict(model.state_dict()), opt.state_dict(), validated], arguments
    return make


def test_a_digits_cnn_validated_in_eval_between_steps_replays():
    _replayed(_digits(lambda model: model), 12)


def test_a_compiled_digits_cnn_validated_in_eval_between_steps_replays():
    _model_compiled(_digits, 12)


def test_a_step_setting_train_mode_after_validation_before_every_call_runs_eagerly_saying_why():
    """``model.train()`` at the step's top, a validation pass in ``eval()`` before every call: each call found the
    model in another mode than its programs ran it in, so each was captured and none replayed, without a word."""
    def make() -> tuple:
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))
        opt = gg.optim.SGD(model.parameters(), lr=0.1)
        rng = np.random.default_rng(0)
        validated = []

        def step(x: gg.Tensor, y: gg.Tensor) -> gg.Tensor:
            model.train()
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def arguments(number: int) -> tuple:
            model.eval()
            with gg.no_grad():
                validated.append(model(_floats(rng, 2, 4)))
            return _floats(rng, 4, 4), _tokens(rng, (4,), 2)
        return step, lambda: [dict(model.state_dict()), validated], arguments
    _eager_saying(make, "Sequential.training", "model.train() at its top", calls=12)


# --- d2l from scratch --------------------------------------------------------------------------------------------


def _d2l_softmax(pick: str) -> Make:
    """d2l's softmax regression: softmax by hand, ``-log(y_hat[range(n), y])``, ``param -= lr * param.grad /
    batch_size; param.grad.zero_()`` under ``no_grad``, the count of right answers returned."""
    def make() -> tuple:
        w = gg.normal(0, 0.01, size=(16, 5), requires_grad=True)
        b = gg.zeros(5, requires_grad=True)
        rng = np.random.default_rng(4)

        def step(x: gg.Tensor, y: gg.Tensor) -> tuple:
            exp = gg.exp(x.reshape((-1, w.shape[0])) @ w + b)
            y_hat = exp / exp.sum(1, keepdim=True)
            rows = {"range": range(len(y_hat)), "list": list(range(len(y_hat))),
                    "arange": gg.arange(len(y_hat))}[pick]
            loss = -gg.log(y_hat[rows, y])
            loss.sum().backward()
            with gg.no_grad():
                for param in (w, b):
                    param -= 0.1 * param.grad / x.shape[0]
                    param.grad.zero_()
            right = y_hat.argmax(axis=1).type(y.dtype) == y
            return loss.detach().mean(), right.type(y.dtype).sum()

        def arguments(number: int) -> tuple:
            size = 4 if number % 4 == 3 else 6
            return _floats(rng, size, 4, 4), _tokens(rng, (size,), 5)
        return step, lambda: [w, b, w.grad, b.grad], arguments
    return make


@pytest.mark.parametrize("pick", ["range", "list", "arange"])
def test_d2l_softmax_regression_replays(pick: str) -> None:
    """A ``range`` in the index replays as a list does (it ran eagerly: a new Python value at each call)."""
    _replayed(_d2l_softmax(pick), 12)


@pytest.mark.parametrize("index", [range(2), range(0, 3, 2), (range(3), [0, 1, 3]), (slice(None), range(1, 3)),
                                   range(0), (range(2), range(2)), (Ellipsis, range(3, 0, -1))])
def test_a_range_in_an_index_picks_and_differentiates_as_a_list_does(index: Any) -> None:
    listed = tuple(list(part) if isinstance(part, range) else part for part in index) \
        if isinstance(index, tuple) else list(index)
    grads = []
    for form in (index, listed):
        x = gg.arange(12.0).reshape(3, 4).requires_grad_()
        picked = x[form]
        (picked * gg.arange(float(picked.numel())).reshape(picked.shape)).sum().backward()
        grads.append((picked.detach().numpy(), x.grad.numpy()))
    _assert_same(_plain(grads[0]), _plain(grads[1]))


RATE = [0.1]


def test_d2l_s_updater_passed_as_an_argument_is_read_at_each_call():
    """d2l's ``train_epoch_ch3(net, train_iter, loss, updater)`` with ``updater = lambda n: sgd([W, b], lr, n)``: the
    global rate it reads, changed between calls, was replayed as the captures', without a word."""
    def sgd(params: list, lr: float, batch_size: int) -> None:
        with gg.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    def make() -> tuple:
        RATE[0] = 0.1
        w = gg.normal(0, 0.01, size=(4, 3), requires_grad=True)
        b = gg.zeros(3, requires_grad=True)

        def updater(batch_size: int) -> None:
            sgd([w, b], RATE[0], batch_size)
        rng = np.random.default_rng(0)

        def train_step(x: gg.Tensor, y: gg.Tensor, update: Callable) -> gg.Tensor:
            y_hat = F.softmax(x @ w + b, 1)
            loss = -gg.log(y_hat[gg.arange(len(y_hat)), y])
            loss.sum().backward()
            update(x.shape[0])
            return loss.detach().sum()

        def arguments(number: int) -> tuple:
            if number == 5:
                RATE[0] = 0.5
            return _floats(rng, 5, 4), _tokens(rng, (5,), 3), updater
        return train_step, lambda: [w, b], arguments
    _replayed(make)


def test_the_polynomial_tutorial_with_manual_updates_replays():
    """PyTorch's "Learning PyTorch with Examples": ``a + b x + c x² + d x³`` fitted to sin, updated by hand."""
    def make() -> tuple:
        x = gg.linspace(-math.pi, math.pi, 50)
        coefficients = [gg.randn((), requires_grad=True) for _ in range(4)]

        def step() -> gg.Tensor:
            a, b, c, d = coefficients
            loss = (a + b * x + c * x ** 2 + d * x ** 3 - gg.sin(x)).pow(2).sum()
            loss.backward()
            with gg.no_grad():
                for p in coefficients:
                    p -= 1e-4 * p.grad
                    p.grad = None
            return loss
        return step, lambda: coefficients, lambda _: ()
    _replayed(make)


# --- generative models -------------------------------------------------------------------------------------------


def test_a_vae_with_the_reparameterization_trick_replays():
    def make() -> tuple:
        enc, mu, logvar_of = nn.Linear(6, 8), nn.Linear(8, 2), nn.Linear(8, 2)
        dec = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 6), nn.Sigmoid())
        model = nn.ModuleList([enc, mu, logvar_of, dec])
        opt = gg.optim.Adam(model.parameters(), lr=1e-2)
        rng = np.random.default_rng(5)

        def step(x: gg.Tensor) -> tuple:
            h = F.relu(enc(x))
            m, logvar = mu(h), logvar_of(h)
            std = gg.exp(0.5 * logvar)
            z = m + gg.randn_like(std) * std
            kld = -0.5 * gg.sum(1 + logvar - m.pow(2) - logvar.exp())
            loss = F.binary_cross_entropy(dec(z), x, reduction="sum") + kld
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, z
        return step, lambda: [dict(model.state_dict()), opt.state_dict()], lambda _: (
            gg.tensor(rng.random((4, 6)).astype(np.float32)),)
    _replayed(make)


def _gan(split: bool, compiled: bool) -> tuple[list, Any, list[str], list]:
    """A GAN: the critic's step on ``fake.detach()``, then the generator's; in one compiled step or two."""
    gg.manual_seed(0)
    gen = nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 4), nn.Tanh())
    critic = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Dropout(0.2), nn.Linear(8, 1))
    opt_d = gg.optim.Adam(critic.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_g = gg.optim.Adam(gen.parameters(), lr=2e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()

    def d_step(real: gg.Tensor) -> gg.Tensor:
        fake = gen(gg.randn(real.shape[0], 3))
        opt_d.zero_grad()
        loss = bce(critic(real), gg.ones(real.shape[0], 1)) + bce(critic(fake.detach()), gg.zeros(real.shape[0], 1))
        loss.backward()
        opt_d.step()
        return loss

    def g_step(size: int) -> gg.Tensor:
        opt_g.zero_grad()
        loss = bce(critic(gen(gg.randn(size, 3))), gg.ones(size, 1))
        loss.backward()
        opt_g.step()
        return loss

    def both(real: gg.Tensor) -> tuple:
        return d_step(real), g_step(real.shape[0])
    steps = [gg.compile(f) if compiled else f for f in ((d_step, g_step) if split else (both,))]
    rng = np.random.default_rng(6)
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number in range(CALLS):
            real = _floats(rng, 4 if number % 3 == 0 else 5, 4)
            results.append(_plain([steps[0](real), steps[1](real.shape[0])] if split else steps[0](real)))
    state = _plain([dict(gen.state_dict()), dict(critic.state_dict()), opt_d.state_dict(), opt_g.state_dict()])
    return results, state, [str(w.message) for w in caught], steps


@pytest.mark.parametrize("split", [False, True])
def test_a_gan_s_two_optimizers_replay(split: bool) -> None:
    eager, eager_state, _, _ = _gan(split, False)
    results, state, messages, steps = _gan(split, True)
    _assert_same(eager, results)
    _assert_same(eager_state, state)
    assert messages == []
    assert all(sum(entry.replays for entry in step.entries.values()) > 0 for step in steps)


# --- losses ------------------------------------------------------------------------------------------------------

WEIGHT = gg.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
LOSSES: dict[str, Callable] = {
    "label smoothing": lambda: lambda o, y, t: F.cross_entropy(o, y, label_smoothing=0.2),
    "class weights": lambda: (lambda loss: lambda o, y, t: loss(o, y))(
        nn.CrossEntropyLoss(weight=WEIGHT, label_smoothing=0.1)),
    "weights, sum": lambda: lambda o, y, t: F.cross_entropy(o, y, weight=WEIGHT, reduction="sum",
                                                            label_smoothing=0.1),
    "soft targets": lambda: lambda o, y, t: F.cross_entropy(o, F.softmax(t, 1), label_smoothing=0.1),
    "nll, weights": lambda: lambda o, y, t: F.nll_loss(F.log_softmax(o, 1), y, weight=WEIGHT),
    "kl, log target": lambda: (lambda kl: lambda o, y, t: kl(F.log_softmax(o, 1), F.log_softmax(t, 1)))(
        nn.KLDivLoss(reduction="batchmean", log_target=True)),
    "smooth l1": lambda: (lambda loss: lambda o, y, t: loss(o, t))(nn.SmoothL1Loss(beta=0.5)),
    "smooth l1, beta 0": lambda: lambda o, y, t: F.smooth_l1_loss(o, t, beta=0.0),
    "huber": lambda: (lambda loss: lambda o, y, t: loss(o, t))(nn.HuberLoss(delta=0.7, reduction="sum")),
    "pos_weight": lambda: (lambda loss: lambda o, y, t: loss(o, (t > 0).float()))(
        nn.BCEWithLogitsLoss(pos_weight=gg.tensor([1.0, 2.0, 3.0, 1.0, 0.5]))),
}


def _classifier(loss_of: Callable[[], Callable]) -> Make:
    """A small classifier under the loss; labels ignored (-100) now and then, wholly in two batches."""
    def make() -> tuple:
        model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 5))
        opt = gg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loss_fn = loss_of()
        rng = np.random.default_rng(7)

        def step(x: gg.Tensor, y: gg.Tensor, t: gg.Tensor) -> gg.Tensor:
            loss = loss_fn(model(x), y, t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def arguments(number: int) -> tuple:
            size = 3 if number % 4 == 3 else 6
            y = rng.integers(0, 5, size)
            y[: size if number in (5, 8) else number % 2] = -100
            return _floats(rng, size, 4), gg.tensor(y), _floats(rng, size, 5)
        return step, lambda: [dict(model.state_dict()), opt.state_dict()], arguments
    return make


@pytest.mark.parametrize("name", LOSSES)
def test_course_losses_replay_bit_for_bit(name: str) -> None:
    _replayed(_classifier(LOSSES[name]), 12)


def test_a_loss_module_built_inside_the_step_runs_eagerly_saying_why():
    """Each call's layer is new, so no two captures agree: the key runs eagerly, saying why, and keeps no capture
    (it kept every call's, none ever replayed, without a word)."""
    def make() -> tuple:
        model = nn.Linear(4, 5)
        opt = gg.optim.SGD(model.parameters(), lr=0.1)
        rng = np.random.default_rng(8)

        def step(x: gg.Tensor, t: gg.Tensor) -> gg.Tensor:
            loss = nn.HuberLoss(delta=0.7)(model(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step, lambda: [dict(model.state_dict())], lambda _: (_floats(rng, 3, 4), _floats(rng, 3, 5))
    _eager_saying(make, "new objects at each call", "inside the step", calls=3 * MAX_MODES)
    _, _, _, run = _run(make, True, 3 * MAX_MODES)
    assert all(not entry.pending for entry in run.entries.values())
    assert sum(entry.captures for entry in run.entries.values()) == MAX_MODES + 1


def test_a_model_switched_among_more_sets_of_modes_than_kept_stays_right():
    """Five sets of modes met in turn: the captures awaiting a second are bounded (the oldest goes), no warning."""
    def make() -> tuple:
        model = nn.Sequential(*[nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.2)) for _ in range(3)])
        rng = np.random.default_rng(9)

        def arguments(number: int) -> tuple:
            pattern = number % (MAX_MODES + 1)
            for place, layer in enumerate(model):
                layer.train(bool((pattern >> place) & 1) or pattern == 0)
            return (_floats(rng, 2, 3),)
        return _squares_step(model), lambda: [dict(model.state_dict())], arguments
    messages, _ = _same_as_eager(make, 4 * (MAX_MODES + 1))
    assert messages == []
