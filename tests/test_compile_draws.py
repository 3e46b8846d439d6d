"""``gg.compile`` of a step that draws random numbers: ``gg.normal``, ``gg.bernoulli``, ``gg.poisson``,
``gg.multinomial``, ``gg.binomial``, ``gg.randperm``, the in-place fills (``x.uniform_()``, ``x.normal_()``,
``x.bernoulli_()``, …), ``nn.init``'s random fills, ``F.rrelu`` and ``F.gumbel_softmax`` draw in a kernel that picks
its stream at every call, so a replay draws what eager draws.

The oracle is eager glassgrad itself (PyTorch's generators give other numbers): the same model, optimizer and batches
trained twice, once eagerly and once compiled (the whole step, or the model alone), after ``gg.manual_seed`` or with a
generator of the model's own, must end with equal arrays (``np.array_equal``, every bit) for every loss, parameter
and buffer, with no warning, and the compiled calls after the two captures must be replays (they ran eagerly before:
'a random draw … would repeat the capture's numbers'). Each model draws from its stream between a dropout mask and a
``randn_like``, so a replay that drew them in another order would give other numbers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_compile import _replays, _same_either_way

import glassgrad as gg

nn, F = gg.nn, gg.nn.functional
DTYPES = [gg.float32, gg.float64]


def _categories(h, replacement, **stream):
    """``h`` plus the mean of entries of each row picked by ``multinomial`` with the row's softmax as weights."""
    picks = gg.multinomial(h.softmax(-1), 8 if replacement else 3, replacement=replacement, **stream)
    return h + h.gather(1, picks).mean(1, keepdim=True)


STREAMS = ["glassgrad's", "gg.Generator", "numpy Generator", "seed"]
SEEDLESS = STREAMS[:3]
DRAWS = {
    # name: (h → h with a draw in it, given the stream's keyword), and which streams it takes (SEEDLESS: no seed=);
    # bernoulli(·, p=number) and binomial have no derivative (PyTorch's backward refuses them): detached parameters
    "normal numbers": (lambda h, **s: h * gg.normal(1.0, 0.1, size=tuple(h.shape), dtype=h.dtype, **s), STREAMS),
    "normal tensors": (lambda h, **s: h + 0.1 * gg.normal(h, h.abs() + 0.1, **s), STREAMS),
    "bernoulli": (lambda h, **s: h * gg.bernoulli(h.sigmoid(), **s), STREAMS),
    "bernoulli p": (lambda h, **s: h * gg.bernoulli(h.detach(), p=0.7, **s), STREAMS),
    "bernoulli 0-d": (lambda h, **s: h * gg.bernoulli(h.mean().sigmoid(), **s), STREAMS),
    "normal 0-d": (lambda h, **s: h + 0.1 * gg.normal(h.mean(), h.std(), **s), STREAMS),
    "binomial 0-d": (lambda h, **s: h * gg.binomial(gg.tensor(3.0, dtype=h.dtype), h.mean().sigmoid().detach(), **s),
                     SEEDLESS),
    "poisson": (lambda h, **s: h * gg.poisson(h.abs() * 3, **s), STREAMS),
    "multinomial": (lambda h, **s: _categories(h, True, **s), STREAMS),
    "multinomial without replacement": (lambda h, **s: _categories(h, False, **s), STREAMS),
    "uniform_": (lambda h, **s: h * gg.empty_like(h).uniform_(0.5, 1.5, **s), SEEDLESS),
    "normal_": (lambda h, **s: h * gg.empty_like(h).normal_(1.0, 0.1, **s), SEEDLESS),
    "bernoulli_": (lambda h, **s: h * gg.empty_like(h).bernoulli_(0.7, **s), SEEDLESS),
    "exponential_": (lambda h, **s: h * gg.empty_like(h).exponential_(2.0, **s), SEEDLESS),
    "cauchy_": (lambda h, **s: h * gg.empty_like(h).cauchy_(0.0, 0.5, **s).tanh(), SEEDLESS),
    "log_normal_": (lambda h, **s: h * gg.empty_like(h).log_normal_(0.0, 0.2, **s), SEEDLESS),
    "geometric_": (lambda h, **s: h / gg.empty_like(h).geometric_(0.5, **s), SEEDLESS),
    "random_": (lambda h, **s: h * gg.empty_like(h).random_(1, 4, **s), SEEDLESS),
    "binomial": (lambda h, **s: h * gg.binomial(gg.full_like(h, 3.0), h.sigmoid().detach(), **s), SEEDLESS),
    "init.uniform_": (lambda h, **s: h * nn.init.uniform_(gg.empty_like(h), 0.5, 1.5, **s), STREAMS),
    "init.kaiming_normal_": (lambda h, **s: h + nn.init.kaiming_normal_(gg.empty_like(h), **s), STREAMS),
    "init.trunc_normal_": (lambda h, **s: h * nn.init.trunc_normal_(gg.empty_like(h), 1.0, 0.2, 0.5, 1.5, **s),
                           STREAMS),
    "init.orthogonal_": (lambda h, **s: h + nn.init.orthogonal_(gg.empty_like(h), **s), STREAMS),
    "init.sparse_": (lambda h, **s: h + nn.init.sparse_(gg.empty_like(h), 0.5, std=0.1, **s), STREAMS),
    "randperm": (lambda h, **s: h[gg.randperm(h.shape[0], **s)], STREAMS),
    "F.rrelu": (lambda h: F.rrelu(h - 0.5, training=True), ["glassgrad's"]),
    "F.gumbel_softmax": (lambda h, **s: h * F.gumbel_softmax(h, tau=0.5, **s), SEEDLESS),
    "F.gumbel_softmax hard": (lambda h, **s: h * F.gumbel_softmax(h, hard=True, **s), SEEDLESS),
}


class _Noisy(nn.Module):
    """Linear, ReLU, dropout, then ``draw`` and a little ``randn_like`` noise, then linear: three draws in a row."""

    def __init__(self, draw, stream, dtype):
        super().__init__()
        self.first, self.second = nn.Linear(5, 8, dtype=dtype, seed=1), nn.Linear(8, 3, dtype=dtype, seed=2)
        self.drop, self.draw = nn.Dropout(0.2), DRAWS[draw][0]
        self.stream = {"glassgrad's": {}, "gg.Generator": {"generator": gg.Generator().manual_seed(5)},
                       "numpy Generator": {"generator": np.random.default_rng(5)}, "seed": {"seed": 7}}[stream]

    def forward(self, x):
        h = self.draw(self.drop(self.first(x).relu()), **self.stream)
        return self.second(h + 0.01 * gg.randn_like(h))


def _mse_of(net, x, y):
    return F.mse_loss(net(x), y)


def _batches(dtype, count=10):
    rng = np.random.default_rng(0)
    return [(gg.tensor(rng.standard_normal((4, 5)), dtype=dtype), gg.tensor(rng.standard_normal((4, 3)), dtype=dtype))
            for _ in range(count)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize(("draw", "stream"), [(draw, stream) for draw in sorted(DRAWS) for stream in DRAWS[draw][1]])
@pytest.mark.parametrize("whole_step", [True, False], ids=["step", "model"])
def test_a_draw_inside_a_compiled_step_replays_drawing_what_eager_draws(draw, stream, dtype, whole_step):
    """Ten steps eagerly and ten compiled: every array equal, bit for bit, no warning, and calls 3–10 replays,
    glassgrad's stream re-seeded before call 7 (a replay asks for it at each call: no new capture)."""

    def make():
        gg.manual_seed(0)
        model = _Noisy(draw, stream, dtype)
        return model, gg.optim.Adam(model.parameters(), lr=0.01)

    def reseed(number, model):
        if number == 6:
            gg.manual_seed(123)

    run = _same_either_way(make, _batches(dtype), _mse_of, whole_step, reseed)
    assert _replays(run) == 8


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_every_draw_in_one_compiled_step_keeps_eager_order_on_one_stream(dtype):
    """Every draw, one after another in one step, all from glassgrad's stream: a replay draws each in eager's order,
    so twelve steps end with eager's arrays, bit for bit."""
    draws = [DRAWS[name][0] for name in sorted(DRAWS)]

    class Chain(nn.Module):
        def __init__(self):
            super().__init__()
            self.first, self.second = nn.Linear(5, 8, dtype=dtype, seed=1), nn.Linear(8, 3, dtype=dtype, seed=2)

        def forward(self, x):
            h = self.first(x).tanh()
            for draw in draws:
                h = draw(h).tanh()
            return self.second(h)

    def make():
        gg.manual_seed(0)
        model = Chain()
        return model, gg.optim.SGD(model.parameters(), lr=0.05)

    run = _same_either_way(make, _batches(dtype, 12), _mse_of, True)
    assert _replays(run) == 10


@pytest.mark.parametrize("bad", ["bernoulli", "normal", "poisson", "multinomial"])
def test_a_draws_check_of_values_runs_at_each_replay(bad):
    """The values a draw checks (probabilities in [0, 1], std and rates ≥ 0, weights ≥ 0) are read at each replay,
    inside the draw's kernels: a bad value on the fifth call, the third replay, raises eager's error then (a check in
    Python would only see the captures' values)."""
    lin = nn.Linear(3, 3, seed=1)

    def step(x, value):
        v = lin(x) * 0 + value  # the value given, worked out in the step
        if bad == "bernoulli":
            return gg.bernoulli(v).sum()
        if bad == "normal":
            return gg.normal(0.0, v).sum()
        if bad == "poisson":
            return gg.poisson(v).sum()
        return gg.multinomial(v, 2, replacement=True).sum()

    last = raised_on_the_fifth_call_as_eager(step, [0.5] * 4 + [1.5 if bad == "bernoulli" else -1.0], RuntimeError)
    assert isinstance(last, str) and last.startswith(bad)


def raised_on_the_fifth_call_as_eager(step, values, error):
    """``step(gg.ones(2, 3), gg.tensor(value))`` for each of the five ``values``, eagerly and compiled, with no
    warning: the outputs (the message of an ``error`` raised) are equal, the first four are numbers, and calls 3–5
    are replays. Gives the fifth call's output."""

    def run(function):
        gg.manual_seed(0)
        outputs = []
        for value in values:
            try:
                outputs.append(function(gg.ones(2, 3), gg.tensor(value)).array.tolist())
            except error as raised:
                outputs.append(str(raised))
        return outputs

    compiled = gg.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eager_outputs, compiled_outputs = run(step), run(compiled)
    assert all(isinstance(output, (int, float)) for output in eager_outputs[:4])
    assert eager_outputs == compiled_outputs
    assert _replays(compiled) == 3
    return eager_outputs[-1]


@pytest.mark.parametrize("p", [1.5, -0.1, float("nan"), [0.2, 1.5, 0.3]])
def test_bernoulli_fill_refuses_a_probability_outside_0_1_as_pytorch(torch, p):
    """``x.bernoulli_(p)`` checks ``p`` in the kernel it shares with ``gg.bernoulli`` (so a replay checks it too):
    outside [0, 1], or NaN, it raises RuntimeError as PyTorch's does (it filled ones or zeros without a word)."""
    with pytest.raises(RuntimeError):
        torch.zeros(3).bernoulli_(torch.tensor(p) if isinstance(p, list) else p)
    with pytest.raises(RuntimeError, match=r"bernoulli_: probabilities must be in \[0, 1\]"):
        gg.zeros(3).bernoulli_(gg.tensor(p) if isinstance(p, list) else p)
