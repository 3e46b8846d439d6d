"""``gg.compile``: arrays a glassgrad function worked out in Python from tensor values (or wrote in Python into a
tensor's memory) inside a compiled step, outside the kernels the capture records.

Each case feeds the SAME input at the first two calls (the captures, so that an array worked out in Python agrees
between them and is kept as a constant) and other inputs afterwards, and compares with the step run eagerly, bit for
bit. The holes found (each now one kernel of the step, :func:`glassgrad.autograd.recorded_call`): ``unravel_index``'s
coordinates, ``nonzero_static``'s rows, ``scatter(..., reduce='multiply')``'s product, ``nanmean``'s count of
numbers, a norm layer's ``reset_running_stats()``, ``module.weight = value`` on a parametrized layer (and
``weight_norm``'s g), and ``gg.tensor([a.sum(), b.max()])``: each gave the captures' numbers for every later call,
without a word. The rest pins what already held (a replay follows the values, or the step runs eagerly saying why).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from test_compile_dtypes_adversary12 import _run, _same

import glassgrad as gg

nn = gg.nn
F = gg.nn.functional
CALLS = 8
RNG = np.random.default_rng(13)


def _twice_then(make: Callable[[], Any], count: int = CALLS) -> list:
    """``count`` argument tuples: the first made twice over (the captures see one input), then new ones."""
    first = make()
    return [first, first] + [make() for _ in range(count - 2)]


def _step(function: Callable) -> Callable[[], tuple]:
    return lambda: (function, [])


def _agree(make: Callable[[], tuple], calls: list) -> tuple:
    """:func:`_same`, each run (eager, compiled) starting from one seed (the layers made, the steps that draw)."""
    def seeded() -> tuple:
        gg.manual_seed(0)
        return make()
    return _same(seeded, calls)



def _normal(*shape: int) -> gg.Tensor:
    return gg.tensor(RNG.normal(size=shape))


def _training(layer_of: Callable[[], Any], lr: float = 0.1) -> Callable[[], tuple]:
    """A make of an SGD step on ``layer_of()``'s Σ out², comparing the layer's state after the calls."""
    def make() -> tuple:
        layer = layer_of()
        optimizer = gg.optim.SGD(layer.parameters(), lr=lr)

        def step(x):
            optimizer.zero_grad()
            loss = layer(x).pow(2).sum()
            loss.backward()
            optimizer.step()
            return loss

        return step, list(layer.state_dict().values())
    return make


def _replayed(make: Callable[[], tuple], calls: list) -> None:
    """Eager and compiled agree bit for bit, and every call after the two captures was a replay, without a word."""
    (_, replays), seen = _agree(make, calls)
    assert replays == len(calls) - 2 and not seen, seen


# --- the holes -------------------------------------------------------------------------------------


def test_unravel_index_gives_each_calls_coordinates():
    """``unravel_index`` worked the coordinates out in Python: a replay gave the captures' for every later index."""
    calls = _twice_then(lambda: (gg.tensor(RNG.integers(0, 12, 5)),))
    _replayed(_step(lambda i: [c * 1 for c in gg.unravel_index(i, (3, 4))]), calls)


def test_unravel_index_of_an_argmax_picks_each_calls_entry():
    table = gg.tensor(np.arange(12.0).reshape(3, 4))

    def step(x):
        row, column = gg.unravel_index(x.reshape(-1).argmax(0, keepdim=True), (3, 4))
        return table[row, column] * 2

    _replayed(_step(step), _twice_then(lambda: (_normal(3, 4),)))


def test_unravel_index_out_of_range_after_the_captures_is_refused_as_eager_refuses_it():
    calls = [(gg.tensor([1]),)] * 2 + [(gg.tensor([2]),), (gg.tensor([4]),)]
    _agree(_step(lambda i: gg.unravel_index(i, (2, 2))), calls)
    assert "every index must be in" in _run(_step(lambda i: gg.unravel_index(i, (2, 2))), calls, True)[0][-1]


def test_nonzero_static_gives_each_calls_positions():
    calls = _twice_then(lambda: (gg.tensor(RNG.uniform(size=6) < 0.5),))
    _replayed(_step(lambda x: x.nonzero_static(size=3) * 1), calls)


def test_nonzero_static_positions_used_as_an_index():
    table = gg.tensor(np.arange(12.0))
    step = _step(lambda x: table[(x > 0).nonzero_static(size=3, fill_value=0).reshape(-1)])
    _replayed(step, _twice_then(lambda: (_normal(12),)))


def test_scatter_multiply_multiplies_each_calls_src():
    ones = gg.ones(3, dtype=gg.float64)
    step = _step(lambda s: ones.clone().scatter_(0, gg.tensor([0, 0, 1]), s, reduce="multiply") * 1)
    _replayed(step, _twice_then(lambda: (_normal(3),)))


def test_scatter_multiply_follows_each_calls_index_and_replays():
    """A number as src: the step ran eagerly before (a refusal); it replays now, following the index."""
    step = _step(lambda i: gg.ones(3, dtype=gg.float64).scatter(0, i, 2.0, reduce="multiply"))
    _replayed(step, _twice_then(lambda: (gg.tensor(RNG.integers(0, 3, 3)),)))


def test_nanmean_counts_each_calls_numbers():
    """``nanmean`` counted the numbers in Python: a replay divided by the captures' counts."""
    def draw():
        return (gg.tensor(np.where(RNG.uniform(size=(3, 4)) < 0.4, np.nan, RNG.normal(size=(3, 4)))),)

    _replayed(_step(lambda x: (x.nanmean(), x.nanmean(1), x.nanmean(0, keepdim=True))), _twice_then(draw))


def test_nanmean_float16_and_dtype():
    def draw():
        return (gg.tensor(np.where(RNG.uniform(size=5) < 0.4, np.nan, RNG.normal(size=5)), dtype=gg.float16),)

    _replayed(_step(lambda x: (x.nanmean(), x.nanmean(dtype=gg.float64))), _twice_then(draw))


def test_batch_norm_reset_running_stats_inside_the_step():
    """``reset_running_stats()`` wrote the buffers in Python: a replay never reset them, so they drifted."""
    def make():
        norm = nn.BatchNorm1d(3)

        def step(x):
            norm.reset_running_stats()
            return norm(x)

        return step, [norm.running_mean, norm.running_var, norm.num_batches_tracked]

    _replayed(make, _twice_then(lambda: (gg.tensor(RNG.normal(size=(4, 3)).astype(np.float32)),)))


def test_assigning_a_weight_norm_parametrized_weight_inside_the_step():
    """``module.weight = value`` wrote the originals (and worked out g) in Python: a replay left them as they were."""
    def make():
        layer = nn.utils.parametrizations.weight_norm(nn.Linear(3, 3))

        def step(x):
            with gg.no_grad():
                layer.weight = layer.weight * 0.9
            return layer(x)

        return step, list(layer.state_dict().values())

    _replayed(make, _twice_then(lambda: (gg.tensor(RNG.normal(size=(2, 3)).astype(np.float32)),)))


def test_assigning_a_plain_parametrized_weight_inside_the_step():
    class Doubled(nn.Module):
        def forward(self, x):
            return x * 2

        def right_inverse(self, x):
            return x / 2

    def make():
        layer = nn.Linear(3, 2)
        nn.utils.parametrize.register_parametrization(layer, "weight", Doubled())

        def step(x, scale):
            with gg.no_grad():
                layer.weight = layer.weight * scale
            return layer(x)

        return step, list(layer.state_dict().values())

    x = gg.tensor(np.ones((1, 3), dtype=np.float32))
    calls = _twice_then(lambda: (x, gg.tensor(RNG.uniform(0.5, 1.5, (2, 3)).astype(np.float32))))
    _replayed(make, calls)


def test_a_tensor_made_of_tensors_numbers_reads_each_calls_numbers():
    """``gg.tensor([a.sum(), b.max()])`` read the numbers in Python: a replay gave the captures' numbers."""
    _replayed(_step(lambda y: gg.tensor([y.sum(), y.max()]) * 2), _twice_then(lambda: (_normal(3),)))


def test_a_tensor_made_of_tensors_numbers_nested_mixed_dtype_and_int():
    step = _step(lambda y: (gg.tensor([[y.sum(), 1.0], [2, y.max()]]), gg.tensor([y.sum(), y.min()], dtype=gg.float16),
                            gg.tensor([y.argmax(), y.argmin()])))
    _replayed(step, _twice_then(lambda: (_normal(3),)))


def test_a_legacy_tensor_made_of_tensors_numbers():
    step = _step(lambda y: (gg.Tensor([y.sum(), y.min()]), gg.FloatTensor([y.max()])))
    _replayed(step, _twice_then(lambda: (gg.tensor(RNG.normal(size=3).astype(np.float32)),)))


def test_a_tensor_of_numbers_as_a_loss_log_in_a_training_step():
    def make():
        gg.manual_seed(1)
        layer = nn.Linear(3, 2)
        optimizer = gg.optim.SGD(layer.parameters(), lr=0.1)

        def step(x):
            optimizer.zero_grad()
            out = layer(x)
            loss = out.pow(2).mean()
            loss.backward()
            optimizer.step()
            return gg.tensor([loss.detach(), out.detach().abs().max()])

        return step, [layer.weight, layer.bias]

    _replayed(make, _twice_then(lambda: (gg.tensor(RNG.normal(size=(4, 3)).astype(np.float32)),)))


# --- pinned: what already held ----------------------------------------------------------------------


@pytest.mark.parametrize("name, function, draw", [
    ("one_hot", lambda i: F.one_hot(i, 5).float() * 2, lambda: (gg.tensor(RNG.integers(0, 5, 4)),)),
    ("isin", lambda v: gg.isin(v, gg.tensor([1, 2])), lambda: (gg.tensor(RNG.integers(0, 4, 5)),)),
    ("searchsorted", lambda v: gg.searchsorted(gg.tensor([0.0, 1, 2, 3]), v),
     lambda: (gg.tensor(RNG.uniform(0, 3, 4)),)),
    ("frexp", lambda x: gg.frexp(x)[0] * 1, lambda: (_normal(4),)),
    ("geqrf", lambda a: gg.geqrf(a), lambda: (_normal(3, 3),)),
    ("attention mask with dead rows", lambda m: F.scaled_dot_product_attention(*[gg.tensor(np.linspace(
        -1, 1, 24).reshape(2, 3, 4))] * 3, attn_mask=m), lambda: (gg.tensor(RNG.uniform(size=(3, 3)) < 0.5),)),
    ("embedding_bag max, 2-d", lambda i: F.embedding_bag(i, gg.tensor(np.arange(20.0).reshape(5, 4)), mode="max"),
     lambda: (gg.tensor(RNG.integers(0, 5, (2, 3))),)),
    ("masked_fill_ of a computed mask", lambda x: gg.zeros(4, dtype=gg.float64).masked_fill_(x > 0, 1.0) * 1,
     lambda: (_normal(4),)),
    ("Categorical.log_prob", lambda l, v: gg.distributions.Categorical(logits=l).log_prob(v),
     lambda: (_normal(3, 4), gg.tensor(RNG.integers(0, 4, 3)))),
    ("VonMises.sample", lambda c: gg.distributions.VonMises(gg.zeros(3, dtype=gg.float64), c).sample(),
     lambda: (gg.tensor(RNG.uniform(1, 2, 3)),)),
    ("gumbel_softmax hard", lambda x: F.gumbel_softmax(x, hard=True), lambda: (_normal(3, 4),)),
    ("alpha_dropout", lambda x: F.alpha_dropout(x, 0.5, training=True), lambda: (_normal(5),)),
    ("max_pool2d return_indices", lambda x: F.max_pool2d(x, 2, return_indices=True), lambda: (_normal(1, 1, 4, 4),)),
    ("grid_sample", lambda g: F.grid_sample(gg.tensor(np.linspace(0, 1, 36).reshape(1, 1, 6, 6)), g,
                                            align_corners=False),
     lambda: (gg.tensor(RNG.uniform(-1.2, 1.2, (1, 3, 3, 2))),)),
])
def test_pinned_values_worked_out_as_kernels(name, function, draw):
    _replayed(_step(function), _twice_then(draw))


@pytest.mark.parametrize("name, function, draw, reason", [
    ("antialiased shrink", lambda x: F.interpolate(x, size=(3, 3), mode="bilinear", antialias=True),
     lambda: (_normal(1, 1, 12, 12),), "antialiased"),
    ("kthvalue", lambda x: x.kthvalue(2, 1), lambda: (_normal(3, 4),), "worked out in Python"),
    ("ctc_loss", lambda lp: F.ctc_loss(lp, gg.tensor([[1, 2]]), [5], [2]),
     lambda: (_normal(5, 1, 3).log_softmax(2),), "ctc_loss"),
])
def test_pinned_steps_that_run_eagerly_saying_why(name, function, draw, reason):
    (_, replays), seen = _agree(_step(function), _twice_then(draw))
    assert replays == 0 and any(reason in message for message in seen), seen


def test_embedding_max_norm_training_step_replays_renormalising_as_eager_does():
    make = _training(lambda: nn.Embedding(6, 3, max_norm=1.0), lr=0.5)
    (_, replays), seen = _agree(make, _twice_then(lambda: (gg.tensor(RNG.integers(0, 6, 4)),)))
    assert replays > 0 and seen == []


def test_norm_layers_running_statistics_follow_each_batch():
    def make():
        batch = nn.BatchNorm1d(3, momentum=None)
        instance = nn.InstanceNorm1d(3, track_running_stats=True, affine=True)
        return (lambda x: (batch(x.reshape(4, 3)), instance(x.reshape(2, 3, 2))),
                [batch.running_mean, batch.running_var, batch.num_batches_tracked, instance.running_mean,
                 instance.running_var])

    _replayed(make, _twice_then(lambda: (gg.tensor(RNG.normal(size=12).astype(np.float32)),)))


def test_spectral_norm_parametrization_training_step():
    make = _training(lambda: nn.utils.parametrizations.spectral_norm(nn.Linear(3, 2)))
    _replayed(make, _twice_then(lambda: (gg.tensor(RNG.normal(size=(4, 3)).astype(np.float32)),)))


def test_support_checked_at_each_call():
    uniform = gg.distributions.Uniform(0.0, 1.0)
    calls = [(gg.tensor([0.5]),)] * 2 + [(gg.tensor([0.2]),), (gg.tensor([1.5]),)]
    _agree(_step(lambda v: uniform.log_prob(v)), calls)
    assert "support" in _run(_step(lambda v: uniform.log_prob(v)), calls, True)[0][-1]


def test_gaussian_nll_loss_of_a_predicted_variance_replays_and_checks_each_call():
    """Its check that no variance is negative read ``var`` with ``.numpy()``: a step predicting its variance ran
    eagerly (a refusal). The check is now a kernel: the step replays, and a negative variance later is refused."""
    mean = gg.tensor([0.5, 1.0, 2.0])
    step = _step(lambda v: F.gaussian_nll_loss(mean, gg.tensor([0.0, 1, 2]), v, full=True))
    _replayed(step, _twice_then(lambda: (gg.tensor(RNG.uniform(0.1, 2, 3)),)))
    calls = [(gg.tensor([1.0, 1, 1]),)] * 2 + [(gg.tensor([2.0, 1, 1]),), (gg.tensor([1.0, -1, 1]),)]
    _agree(step, calls)
    assert "negative" in _run(step, calls, True)[0][-1]


HALF_TWO_THREE = gg.tensor([0.5, 2, 3])
TOWARD = gg.tensor([1.0, 2, 3], requires_grad=True)


def _with_infinities() -> tuple:
    values = np.where(RNG.uniform(size=5) < 0.3, np.inf, RNG.normal(size=5))
    return (gg.tensor(np.where(RNG.uniform(size=5) < 0.3, -np.inf, values)),)


@pytest.mark.parametrize("name, function, draw", [
    ("signbit", lambda y: (gg.signbit(y) * 1, gg.signbit(y.sum())), lambda: (_normal(4),)),
    ("isposinf, isneginf", lambda y: (gg.isposinf(y), gg.isneginf(y) * 1), _with_infinities),
    ("heaviside", lambda y: gg.heaviside(y, HALF_TWO_THREE),
     lambda: (gg.tensor(RNG.integers(-1, 2, 3).astype(np.float32)),)),
    ("angle", lambda y: (gg.angle(y) * 2, gg.angle(y.long())), lambda: (_normal(4) * 3,)),
    ("renorm", lambda x: (x.renorm(2, 0, 1.0), x.half().renorm(1, 1, 1.5)), lambda: (_normal(3, 4),)),
    ("nextafter toward a tensor that requires grad",
     lambda y: gg.nextafter(y, TOWARD), lambda: (_normal(3),)),
])
def test_values_once_worked_out_in_python_now_replay(name, function, draw):
    """These worked their values out in Python (or marked a constant mask as worked out there), so a compiled step
    calling them always ran eagerly (a refusal); each is now a kernel (or ops) of the step, and replays."""
    _replayed(_step(function), _twice_then(draw))
