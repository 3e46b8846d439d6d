"""``gg.compile``: a compiled step gives eager's results bit for bit, and refuses what it cannot replay.

The oracle is eager glassgrad itself: the same model, optimizer and batches trained twice, once
eagerly and once through ``gg.compile``, must end with equal arrays (``np.array_equal``, every
bit) for every parameter, ``.grad``, optimizer state entry and buffer, and every step's loss.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.compiler import CompileRefused

nn, F = gg.nn, gg.nn.functional
DTYPES = [gg.float32, gg.float64]


# --- the configurations of issue 15, item 2 --------------------------------------------------

def _mlp(dtype, middle=(), activation=nn.ReLU, widths=(4, 8, 3)):
    return nn.Sequential(nn.Linear(widths[0], widths[1], dtype=dtype, seed=1), *middle, activation(),
                         nn.Linear(widths[1], widths[2], dtype=dtype, seed=2))


def _classes(rng, dtype, batch=6):
    return gg.tensor(rng.standard_normal((batch, 4)), dtype=dtype), gg.tensor(rng.integers(0, 3, batch))


def _values(rng, dtype, batch=6):
    return gg.tensor(rng.standard_normal((batch, 4)), dtype=dtype), gg.tensor(rng.standard_normal((batch, 3)),
                                                                               dtype=dtype)


def _labels(rng, dtype, batch=6):
    return (gg.tensor(rng.standard_normal((batch, 4)), dtype=dtype),
            gg.tensor(rng.integers(0, 2, (batch, 3)).astype(float), dtype=dtype))


def _images(rng, dtype, batch=4):
    return gg.tensor(rng.standard_normal((batch, 1, 6, 6)), dtype=dtype), gg.tensor(rng.integers(0, 3, batch))


def _volumes(rng, dtype, batch=3):
    return gg.tensor(rng.standard_normal((batch, 1, 4, 5, 4)), dtype=dtype), gg.tensor(rng.integers(0, 3, batch))


def _tokens(rng, dtype, batch=5):
    return gg.tensor(rng.integers(0, 10, (batch, 3))), gg.tensor(rng.integers(0, 3, batch))


class _LearnedClamp(nn.Module):
    """``clamp(x, low, high)`` with bounds that are parameters."""

    def __init__(self, width, dtype):
        super().__init__()
        self.low = nn.Parameter(gg.full((width,), -0.2, dtype=dtype))
        self.high = nn.Parameter(gg.full((width,), 0.3, dtype=dtype))

    def forward(self, x):
        return gg.clamp(x, min=self.low, max=self.high)


def _sgd(params):
    return gg.optim.SGD(params, lr=0.1)


def _training_step(model, optimizer=None, loss_fn=F.cross_entropy, clip=None):
    """One training step of ``model`` (not compiled): the loss (default cross-entropy), backward, the
    gradient clipped to norm ``clip`` if given, the optimizer's step (default SGD with η = 0.1)."""
    optimizer = _sgd(model.parameters()) if optimizer is None else optimizer

    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return loss

    return step


CONFIGS = {
    # name: (model(dtype), optimizer(params), loss, batch(rng, dtype), clip)
    "sgd": (lambda d: _mlp(d), _sgd, nn.CrossEntropyLoss(), _classes, None),
    "sgd-momentum": (lambda d: _mlp(d), lambda p: gg.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
                     nn.CrossEntropyLoss(), _classes, None),
    "sgd-nesterov": (lambda d: _mlp(d), lambda p: gg.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                     nn.CrossEntropyLoss(), _classes, None),
    "adam": (lambda d: _mlp(d), lambda p: gg.optim.Adam(p, lr=0.01), nn.CrossEntropyLoss(), _classes, None),
    "adamw": (lambda d: _mlp(d), lambda p: gg.optim.AdamW(p, lr=0.01, weight_decay=0.1), nn.MSELoss(), _values,
              None),
    "rmsprop": (lambda d: _mlp(d, activation=nn.Tanh),
                lambda p: gg.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True), nn.MSELoss(), _values, None),
    "clip": (lambda d: _mlp(d), _sgd, nn.CrossEntropyLoss(), _classes, 0.05),
    "batchnorm": (lambda d: _mlp(d, middle=(nn.BatchNorm1d(8, dtype=d),)), _sgd, nn.CrossEntropyLoss(), _classes,
                  None),
    "dropout": (lambda d: _mlp(d, middle=(nn.Dropout(0.3, seed=7),)), _sgd, nn.CrossEntropyLoss(), _classes, None),
    "bce": (lambda d: nn.Sequential(*_mlp(d, activation=nn.Sigmoid), nn.Sigmoid()), _sgd, nn.BCELoss(), _labels,
            None),
    "bce-logits": (lambda d: _mlp(d), _sgd, nn.BCEWithLogitsLoss(), _labels, None),
    "gelu-mse": (lambda d: _mlp(d, activation=nn.GELU), _sgd, nn.MSELoss(), _values, None),
    "residual": (lambda d: nn.Sequential(nn.Linear(4, 8, dtype=d, seed=1),
                                         nn.Residual(nn.Sequential(nn.Linear(8, 8, dtype=d, seed=3), nn.ReLU())),
                                         nn.Linear(8, 3, dtype=d, seed=2)),
                 lambda p: gg.optim.Adam(p, lr=0.01), nn.CrossEntropyLoss(), _classes, None),
    "cnn": (lambda d: nn.Sequential(nn.Conv2d(1, 2, 3, dtype=d, seed=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                    nn.Linear(8, 3, dtype=d, seed=2)),
            _sgd, nn.CrossEntropyLoss(), _images, None),
    "cnn3d": (lambda d: nn.Sequential(nn.Conv3d(1, 2, 2, padding=1, dtype=d, seed=1), nn.BatchNorm3d(2, dtype=d),
                                      nn.ReLU(), nn.MaxPool3d(2, ceil_mode=True), nn.AvgPool3d(2, 1),
                                      nn.AdaptiveAvgPool3d((1, 2, 1)), nn.Flatten(), nn.Linear(4, 3, dtype=d, seed=2)),
              lambda p: gg.optim.Adam(p, lr=0.01), nn.CrossEntropyLoss(), _volumes, None),
    "embedding": (lambda d: nn.Sequential(nn.Embedding(10, 4, dtype=d, seed=1), nn.Flatten(),
                                          nn.Linear(12, 3, dtype=d, seed=2)),
                  lambda p: gg.optim.Adam(p, lr=0.01), nn.CrossEntropyLoss(), _tokens, None),
    # lazy layers: their first call's random weights are the layers' construction, not a step of the replay
    "lazy": (lambda d: nn.Sequential(nn.LazyLinear(8, dtype=d), nn.Tanh(), nn.LazyLinear(3, dtype=d)),
             lambda p: gg.optim.SGD(p, lr=0.05, momentum=0.9), nn.CrossEntropyLoss(), _classes, None),
    # bounds that learn: the clamp's picks read them afresh on every replay
    "learned-clamp": (lambda d: nn.Sequential(nn.Linear(4, 3, dtype=d, seed=1), _LearnedClamp(3, d)), _sgd,
                      nn.MSELoss(), _values, None),
    "muon": (lambda d: nn.Sequential(nn.Linear(4, 8, bias=False, dtype=d, seed=1), nn.ReLU(),
                                     nn.Linear(8, 3, bias=False, dtype=d, seed=2)),
             lambda p: gg.optim.Muon(p, lr=0.05), nn.CrossEntropyLoss(), _classes, None),
}


def _state(model, optimizer):
    """Every array the step leaves behind: parameters, gradients, buffers, optimizer state."""
    arrays = {}
    for name, param in model.named_parameters():
        arrays[name] = param.array.copy()
        arrays[name + ".grad"] = None if param.grad is None else param.grad.array.copy()
    for name, buffer in model.named_buffers():
        arrays["buffer " + name] = buffer.array.copy()
    for index, entries in optimizer.state_dict()["state"].items():
        for key, value in entries.items():
            arrays[f"state {index} {key}"] = np.array(value)
    return arrays


def _train(config, dtype, compiled, steps=100, every_step=None, batches=None):
    build, make_optimizer, loss_fn, batch, clip = CONFIGS[config]
    gg.manual_seed(0)
    model = build(dtype)
    optimizer = make_optimizer(model.parameters())
    step = _training_step(model, optimizer, loss_fn, clip)
    run = gg.compile(step, fullgraph=True) if compiled else step
    rng = np.random.default_rng(3)
    losses = []
    for number in range(steps):
        if every_step is not None:
            every_step(number, model, optimizer)
        size = batches[number % len(batches)] if batches else None
        x, y = batch(rng, dtype) if size is None else batch(rng, dtype, size)
        loss = run(x, y)
        losses.append(loss.array.copy())
    return losses, _state(model, optimizer), run


def _assert_identical(eager, compiled):
    eager_losses, eager_state = eager[:2]
    compiled_losses, compiled_state = compiled[:2]
    assert len(eager_losses) == len(compiled_losses)
    for number, (a, b) in enumerate(zip(eager_losses, compiled_losses)):
        assert a.dtype == b.dtype and np.array_equal(a, b), f"loss of step {number + 1}: {a} != {b}"
    assert eager_state.keys() == compiled_state.keys()
    for name, value in eager_state.items():
        other = compiled_state[name]
        if value is None:
            assert other is None, name
            continue
        assert value.dtype == other.dtype and np.array_equal(value, other), name


def _replays(compiled) -> int:
    compiled = getattr(compiled, "_compiled", compiled)  # gg.compile(model) is a module holding the compiled call
    return sum(entry.replays for entry in compiled.entries.values())


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_compiled_training_is_bit_identical_to_eager(config, dtype):
    eager = _train(config, dtype, compiled=False)
    compiled = _train(config, dtype, compiled=True)
    _assert_identical(eager, compiled)
    assert _replays(compiled[2]) == 98  # two captures, then every call a replay


def _batchnorm_eval_after(number, model, optimizer):
    if number == 60:
        model.eval()


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_batchnorm_switched_to_eval_recaptures_and_stays_identical(dtype):
    eager = _train("batchnorm", dtype, compiled=False, every_step=_batchnorm_eval_after)
    compiled = _train("batchnorm", dtype, compiled=True, every_step=_batchnorm_eval_after)
    _assert_identical(eager, compiled)
    assert _replays(compiled[2]) == 96  # the switch to eval captures twice more


def _train_either_way(make, batches, loss_of, compiled, whole_step, before=lambda number, model: None):
    """Train ``make()`` (its model and optimizer) on ``batches``: eagerly, or with the whole step compiled
    (``whole_step``), or with the model alone compiled, its backward and update outside; ``before(n, model)`` runs
    before call n. Gives every loss, then every parameter and buffer; the warnings; the compiled function."""
    model, optimizer = make()
    net = gg.compile(model) if compiled and not whole_step else model

    def step(*batch):
        optimizer.zero_grad()
        loss = loss_of(net, *batch)
        loss.backward()
        optimizer.step()
        return loss.detach()

    run_step = gg.compile(step) if compiled and whole_step else step
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen = []
        for number, batch in enumerate(batches):
            before(number, model)
            seen.append(run_step(*batch).array.copy())
    return (seen + [t.array.copy() for t in (*model.parameters(), *model.buffers())], [str(w.message) for w in caught],
            run_step if whole_step else net)


def _same_either_way(make, batches, loss_of, whole_step, before=lambda number, model: None):
    """:func:`_train_either_way` eagerly and compiled: every array equal, bit for bit, and no warning; gives the
    compiled function."""
    eager, _, _ = _train_either_way(make, batches, loss_of, False, whole_step, before)
    compiled, messages, run = _train_either_way(make, batches, loss_of, True, whole_step, before)
    assert messages == []
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))
    return run


def _cross_entropy_of(net, x, y):
    return F.cross_entropy(net(x), y)


@pytest.mark.parametrize("whole_step", [True, False])
def test_batchnorm_with_momentum_none_replays_its_cumulative_average(whole_step):
    """``momentum=None``: the running statistics are the average over every batch so far, factor 1/(batches + 1),
    worked out from ``num_batches_tracked`` inside the update's kernel (it was a Python number read from the count
    on each call, so the captures never agreed and the step ran eagerly)."""
    def make():
        gg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 6, seed=1), nn.BatchNorm1d(6, momentum=None), nn.ReLU(),
                              nn.Linear(6, 3, seed=2))
        return model, gg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    rng = np.random.default_rng(2)
    batches = [_classes(rng, gg.float32) for _ in range(12)]
    _same_either_way(make, [batches[0], *batches], _cross_entropy_of, whole_step)  # the captures see one batch


@pytest.mark.parametrize("setting", ["dropout.p", "bn.momentum", "bn.eps", "loss reduction", "leaky slope"])
@pytest.mark.parametrize("whole_step", [True, False])
def test_a_layer_setting_changed_between_calls_is_read_by_a_new_capture(setting, whole_step):
    """A layer's settings are Python values its kernels were captured with: one changed between calls (dropout's p
    raised mid-training, BatchNorm's momentum) makes the program's guard fail, and the calls after it are captured
    with the new value, as eager reads it (a replay went on with the old one, without a word)."""
    loss_fn = nn.CrossEntropyLoss()

    def make():
        gg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 6, seed=1), nn.BatchNorm1d(6), nn.LeakyReLU(0.1), nn.Linear(6, 6, seed=2),
                              nn.Dropout(0.2), nn.Linear(6, 3, seed=3))
        loss_fn.reduction = "mean"
        return model, gg.optim.SGD(model.parameters(), lr=0.1)

    def change(number, model):
        if number != 5:
            return
        if setting == "dropout.p":
            model[4].p = 0.6
        elif setting == "bn.momentum":
            model[1].momentum = 0.5
        elif setting == "bn.eps":
            model[1].eps = 0.1
        elif setting == "loss reduction":
            loss_fn.reduction = "sum"
        else:
            model[2].negative_slope = 0.3

    rng = np.random.default_rng(6)
    batches = [_classes(rng, gg.float32) for _ in range(10)]
    run = _same_either_way(make, batches, lambda net, x, y: loss_fn(net(x), y), whole_step, change)
    outside = setting == "loss reduction" and not whole_step  # the loss is outside the compiled model
    assert _replays(run) == (8 if outside else 6)  # calls 3–5, then 8–10: the change made calls 6, 7 capture


class _ScaledByAList(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer, self.scales = nn.Linear(3, 3, seed=1), [1.0, 2.0]

    def forward(self, x):
        return self.layer(x) * self.scales[1]


def test_a_list_setting_changed_in_place_between_calls_is_read_by_a_new_capture():
    """A layer's own list of numbers, one entry changed in place: the guard compares a copy taken at capture."""
    outputs = []
    for compiled in (False, True):
        model = _ScaledByAList()
        net = gg.compile(model) if compiled else model
        for number in range(6):
            if number == 4:
                model.scales[1] = 5.0
            outputs.append(net(gg.ones(2, 3)).array.copy())
    assert all(np.array_equal(a, b) for a, b in zip(outputs[:6], outputs[6:], strict=True))
    assert not np.array_equal(outputs[3], outputs[4])


class _Reparameterized(nn.Module):
    """A VAE's encoder, sampling z = μ + σ·ε with ε = randn_like(σ) (the reparameterisation trick), and a decoder;
    ``draw`` picks how ε is drawn (glassgrad's stream, a generator of the model's own, a fixed seed, or uniform and
    integer draws too)."""

    def __init__(self, draw):
        super().__init__()
        self.encoder, self.mean = nn.Linear(6, 8, seed=1), nn.Linear(8, 2, seed=2)
        self.log_var, self.decoder, self.draw = nn.Linear(8, 2, seed=3), nn.Linear(2, 6, seed=4), draw
        self.stream = gg.Generator().manual_seed(5)

    def forward(self, x):
        h = self.encoder(x).relu()
        mean, log_var = self.mean(h), self.log_var(h)
        std = (0.5 * log_var).exp()
        if self.draw == "randn_like":
            noise = gg.randn_like(std)
        elif self.draw == "generator":
            noise = gg.randn(std.shape, generator=self.stream)
        elif self.draw == "seed":
            noise = gg.randn(*std.shape, seed=7)
        else:  # uniform and integer draws: a random sign and scale
            noise = (gg.rand_like(std) + 0.5) * (gg.randint_like(std, 0, 2) * 2 - 1)
        return self.decoder(mean + std * noise), mean, log_var


def _elbo_of(net, x):
    recon, mean, log_var = net(x)
    return F.mse_loss(recon, x, reduction="sum") - 0.5 * (1 + log_var - mean ** 2 - log_var.exp()).sum()


@pytest.mark.parametrize("draw", ["randn_like", "generator", "seed", "rand and randint"])
@pytest.mark.parametrize("whole_step", [True, False])
def test_random_draws_inside_a_compiled_step_are_drawn_again_at_each_replay(draw, whole_step):
    """``randn``/``rand``/``randint`` (and their ``_like`` forms) draw in one kernel that picks its stream at each
    call, as dropout's mask does: a replay draws what eager draws, from the same stream, after ``gg.manual_seed``
    too (they ran eagerly before, 'a random draw … would repeat the capture's numbers')."""
    def make():
        gg.manual_seed(0)
        model = _Reparameterized(draw)
        return model, gg.optim.Adam(model.parameters(), lr=0.01)

    def reseed(number, model):
        if number == 6:
            gg.manual_seed(123)  # a new stream for glassgrad's own draws: no new capture needed

    rng = np.random.default_rng(0)
    batches = [(gg.tensor(rng.standard_normal((4, 6)), dtype=gg.float32),) for _ in range(10)]
    assert _replays(_same_either_way(make, batches, _elbo_of, whole_step, reseed)) == 8


def test_dropout_with_glassgrad_generator_reseeded_between_calls():
    def run(compiled):
        gg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 6, seed=1), nn.Dropout(0.5), nn.Linear(6, 2, seed=2))
        step = _training_step(model)
        run = gg.compile(step) if compiled else step
        x, y = gg.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)), gg.tensor([0, 1, 1])
        losses = []
        for number in range(10):
            if number == 6:
                gg.manual_seed(42)  # a new global generator object: the replay draws from it too
            losses.append(run(x, y).array.copy())
        return losses, run

    (eager, _), (compiled, run) = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled))
    assert _replays(run) == 8  # the draw asks for glassgrad's generator each time: re-seeding needs no new capture


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_shapes_changing_mid_epoch_capture_a_program_each(dtype):
    batches = [6, 6, 6, 4]  # the last, short batch of each epoch
    eager = _train("adam", dtype, compiled=False, steps=40, batches=batches)
    compiled = _train("adam", dtype, compiled=True, steps=40, batches=batches)
    _assert_identical(eager, compiled)
    assert len(compiled[2].entries) == 2
    assert _replays(compiled[2]) == 40 - 4


def test_shapes_changing_at_every_call_stop_the_captures_with_one_warning():
    """Each new batch size is a new key, captured and never replayed: after 8 keys dropped unused, calls with new
    shapes run eagerly from then on (PyTorch's compile gives up after 8 recompilations too), saying why once; the
    training batch's shape, which has its program, goes on replaying."""
    def run(compiled):
        model = _mlp(gg.float32)
        step = _training_step(model)
        step = gg.compile(step) if compiled else step
        rng = np.random.default_rng(4)
        sizes = [6, 6, 6, *range(7, 30), 6, 6, 31]  # the training batch, then a size per call (a growing sequence)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            losses = [step(*_classes(rng, gg.float32, batch=size)).array.copy() for size in sizes]
        return losses + [p.array.copy() for p in model.parameters()], [str(w.message) for w in caught], step

    (eager, _, _), (compiled, messages, step) = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))
    assert len(messages) == 1 and "keep changing (8 keys dropped before they were called twice)" in messages[0]
    assert "calls with new shapes run eagerly from now on" in messages[0]
    assert _replays(step) == 3 and "runs eagerly for these shapes, because its arguments'" in step.explain()


def test_learning_rate_scheduler_between_calls_is_followed():
    def change_lr(number, model, optimizer):
        for group in optimizer.param_groups:
            group["lr"] = 0.1 / (1 + number)

    eager = _train("sgd-momentum", gg.float64, compiled=False, steps=30, every_step=change_lr)
    compiled = _train("sgd-momentum", gg.float64, compiled=True, steps=30, every_step=change_lr)
    _assert_identical(eager, compiled)


def test_in_place_edits_between_calls_are_seen():
    def edit(number, model, optimizer):
        if number % 7 == 3:
            with gg.no_grad():
                model[0].weight.mul_(0.5)  # an edit from outside: the replay reads the same memory
            model[0].bias.numpy()[:] = 0.25

    eager = _train("sgd", gg.float32, compiled=False, steps=30, every_step=edit)
    compiled = _train("sgd", gg.float32, compiled=True, steps=30, every_step=edit)
    _assert_identical(eager, compiled)
    assert _replays(compiled[2]) == 28


def test_a_parameter_replaced_between_calls_is_captured_again():
    def replace(number, model, optimizer):
        if number == 10:
            model[0].weight.data = gg.tensor(np.full((8, 4), 0.1, dtype=np.float32))

    eager = _train("sgd", gg.float32, compiled=False, steps=20, every_step=replace)
    compiled = _train("sgd", gg.float32, compiled=True, steps=20, every_step=replace)
    _assert_identical(eager, compiled)
    assert _replays(compiled[2]) == 16


@given(batch=st.integers(2, 7), hidden=st.integers(1, 9), features=st.integers(1, 5),
       dtype=st.sampled_from(DTYPES))
def test_any_shape_is_bit_identical(batch, hidden, features, dtype):
    def run(compiled):
        model = nn.Sequential(nn.Linear(features, hidden, dtype=dtype, seed=1), nn.Tanh(),
                              nn.Linear(hidden, 2, dtype=dtype, seed=2))
        step = _training_step(model, gg.optim.Adam(model.parameters(), lr=0.05), F.mse_loss)
        run = gg.compile(step, fullgraph=True) if compiled else step
        rng = np.random.default_rng(batch * 100 + hidden)
        losses = [run(gg.tensor(rng.standard_normal((batch, features)), dtype=dtype),
                      gg.tensor(rng.standard_normal((batch, 2)), dtype=dtype)).array.copy() for _ in range(6)]
        return losses, [p.array.copy() for p in model.parameters()]

    eager, compiled = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager[0], compiled[0]))
    assert all(np.array_equal(a, b) for a, b in zip(eager[1], compiled[1]))


# --- the bench's steps: manual updates, no arguments -------------------------------------------

def test_manual_update_and_grad_reset_replay():
    def run(compiled):
        w = gg.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
        b = gg.tensor(np.zeros(3, np.float32), requires_grad=True)
        x = gg.tensor([[1.0, 0.0, 1.0, 1.0]])
        y = gg.tensor([[1.0, 0.0, 1.0]])

        def step():
            loss = F.mse_loss(F.linear(x, w, b).relu(), y)
            loss.backward()
            with gg.no_grad():
                for p in (w, b):
                    p -= 0.1 * p.grad
                    p.grad = None
            return loss

        run = gg.compile(step, fullgraph=True) if compiled else step
        losses = [run().array.copy() for _ in range(20)]
        return losses, w.array.copy(), b.array.copy(), w._version

    eager, compiled = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager[0], compiled[0]))
    assert np.array_equal(eager[1], compiled[1]) and np.array_equal(eager[2], compiled[2])
    assert eager[3] == compiled[3] == 20  # every update counted as an in-place change, as in eager


@pytest.mark.parametrize("compiled", [False, True])
def test_a_graph_made_before_an_update_sees_the_update(compiled):
    """A replay's ``p -= lr * p.grad`` counts as a change, at its place on the clock: a graph that saved ``p``
    before the step refuses to run backward after it, as in eager."""
    w = gg.tensor(np.linspace(-1, 1, 4), requires_grad=True)

    def step():
        ((w * 2.0).sum() - 1).square().backward()
        with gg.no_grad():
            for p in (w,):
                p -= 0.1 * p.grad
                p.grad = None

    run = gg.compile(step, fullgraph=True) if compiled else step
    for _ in range(3):  # captured twice, then replayed
        run()
    saved_before = (w * w).sum()  # saves w
    unrelated = (w.detach().clone().requires_grad_() * 3.0).sum()
    run()
    unrelated.backward()  # a graph that does not read w is not affected
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        saved_before.backward()


def test_grads_are_fresh_arrays_each_step_as_in_eager():
    model = _mlp(gg.float32)
    step = gg.compile(_training_step(model))

    rng = np.random.default_rng(0)
    kept = []
    for _ in range(5):
        step(*_classes(rng, gg.float32))
        kept.append(model[0].weight.grad)
    copies = [grad.array.copy() for grad in kept]
    step(*_classes(rng, gg.float32))
    assert all(np.array_equal(grad.array, copy) for grad, copy in zip(kept, copies))  # old gradients untouched
    assert len({id(grad.array) for grad in kept}) == 5


def _manual_step(w, b, clip=None):
    x = gg.tensor([[1.0, 0.0, 1.0, 1.0]])
    y = gg.tensor([[1.0, 0.0, 1.0]])

    def step():
        loss = F.mse_loss(F.linear(x, w, b).tanh(), y)
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_([w, b], clip)  # reads each .grad the backward stored
        with gg.no_grad():
            for p in (w, b):
                p -= 0.1 * p.grad
                p.grad = None
        return loss

    return step


def _manual_parameters():
    return (gg.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), requires_grad=True),
            gg.tensor(np.zeros(3, np.float32), requires_grad=True))


@pytest.mark.filterwarnings("ignore:gg.compile")  # it may run eagerly after recapturing: the numbers are the test
def test_a_grad_set_between_calls_is_added_to_as_in_eager():
    """The step reads ``p.grad`` after backward: a ``.grad`` set from outside is part of what it reads."""
    results = []
    for compiled in (False, True):
        w, b = _manual_parameters()
        step = _manual_step(w, b)
        run = gg.compile(step) if compiled else step
        for number in range(8):
            if number == 5:
                w.grad, b.grad = gg.ones(3, 4), gg.full((3,), 2.0)  # accumulated into by the next backward
            run()
        results.append((w.array.copy(), b.array.copy(), w.grad, b.grad))
    (w_eager, b_eager, *grads_eager), (w_compiled, b_compiled, *grads_compiled) = results
    assert np.array_equal(w_eager, w_compiled) and np.array_equal(b_eager, b_compiled)
    assert grads_eager == grads_compiled == [None, None]


def _accumulate_two_calls(compiled):
    w, b = _manual_parameters()
    x, y = gg.tensor([[1.0, 0.0, 1.0, 1.0]]), gg.tensor([[1.0, 0.0, 1.0]])

    def half_step():
        F.mse_loss(F.linear(x, w, b).tanh(), y).backward()

    run = gg.compile(half_step, fullgraph=True) if compiled else half_step
    sums = []
    w.grad, b.grad = gg.zeros(3, 4), gg.zeros(3)  # a first call that adds to a .grad, the next one that starts it
    for number in range(20):
        run()
        if number % 2 == 0:
            sums += [w.grad.array.copy(), b.grad.array.copy()]
            with gg.no_grad():
                w -= 0.1 * w.grad
            w.grad = b.grad = None
    return sums, w.array.copy(), run


def test_gradient_accumulation_across_calls_keeps_replaying():
    """A step that only runs backward (``.grad`` summed over two calls, reset outside) needs no guard on ``.grad``:
    it replays every call after the captures (whether ``.grad`` was empty or not when they ran), sums as eager."""
    eager_sums, w_eager, _ = _accumulate_two_calls(False)
    compiled_sums, w_compiled, run = _accumulate_two_calls(True)
    assert all(np.array_equal(e, c) for e, c in zip(eager_sums, compiled_sums))
    assert np.array_equal(w_eager, w_compiled)
    assert run.entries[run.last_key].replays >= 20 - 4


@pytest.mark.parametrize("clip", [None, 0.05])
def test_a_gradient_dropped_before_anyone_reads_it_is_not_stored(clip):
    """``p -= lr * p.grad; p.grad = None`` reads the gradient's array, never ``.grad``: the replay skips the store
    (eager's end state has no ``.grad`` either), unless something in between reads ``.grad`` (clipping)."""
    runs = []
    for compiled in (False, True):
        w, b = _manual_parameters()
        step = _manual_step(w, b, clip)
        run = gg.compile(step, fullgraph=True) if compiled else step
        losses = [run().array.copy() for _ in range(30)]
        runs.append((losses, w.array.copy(), b.array.copy(), w.grad, b.grad, w._version, run))
    eager, compiled = runs
    assert all(np.array_equal(a, b) for a, b in zip(eager[0], compiled[0]))
    assert np.array_equal(eager[1], compiled[1]) and np.array_equal(eager[2], compiled[2])
    assert eager[3:6] == compiled[3:6] == (None, None, 30)
    source = compiled[6].explain(source=True).split("def replay")[1]
    assert ("_store_grads(" in source) == (clip is not None)
    skipped = compiled[6].entries[compiled[6].last_key].program.skipped  # the store and both resets, or nothing
    assert len(skipped) == (0 if clip is not None else 3)
    assert ("left out of the replay" in compiled[6].explain()) == (clip is None)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_a_loss_the_step_does_not_return_is_replayed_as_what_its_backward_needs(dtype, reduction):
    """Nothing reads the loss of a step that returns nothing: the replay computes only ``ŷ − y`` (the row's
    ``saved_alone``), and every parameter ends bit for bit where eager leaves it; a step that returns the
    loss still computes it."""
    def run(compiled, returns):
        gg.manual_seed(0)
        model = _mlp(dtype)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y, reduction=reduction)
            loss.backward()
            optimizer.step()
            return loss if returns else None

        go = gg.compile(step, fullgraph=True) if compiled else step
        rng = np.random.default_rng(5)
        results = [go(*_values(rng, dtype)) for _ in range(60)]
        assert all((r is None) != returns for r in results)
        return [r.array.copy() for r in results if r is not None], _state(model, optimizer), go

    for returns in (False, True):
        eager, compiled = run(False, returns), run(True, returns)
        _assert_identical(eager, compiled)
        assert all(np.isfinite(value).all() for value in compiled[1].values() if value is not None)
        program = compiled[2].entries[compiled[2].last_key].program
        assert len(program.unread_outputs) == (0 if returns else 1)
        assert ("_mse_saved" in repr(program.names.values())) == (not returns)
        assert ("nothing reads the output" in compiled[2].explain()) == (not returns)
        assert _replays(compiled[2]) >= 60 - 2


def test_values_live_only_while_the_step_needs_them():
    """A long chain keeps only what backward still needs: variables are reused as values die; bit for bit."""
    def run(compiled):
        x = gg.tensor(np.linspace(-1, 1, 8, dtype=np.float32), requires_grad=True)
        a = gg.tensor(np.full(8, 0.9, dtype=np.float32), requires_grad=True)

        def chain():
            y = x
            for _ in range(50):
                y = (y * a + 0.1).tanh()
            y.sum().backward()
            return y

        step = gg.compile(chain, fullgraph=True) if compiled else chain
        results = []
        for _ in range(5):
            y = step()
            results.append((y, (x.grad.array, a.grad.array)))
            x.grad = a.grad = None
        return results, step

    eager, (compiled, step) = run(False)[0], run(True)
    for (y_eager, grads_eager), (y_compiled, grads_compiled) in zip(eager, compiled):
        assert np.array_equal(y_eager.array, y_compiled.array)
        assert all(np.array_equal(e, c) for e, c in zip(grads_eager, grads_compiled))
    program = step.entries[step.last_key].program
    assert len(program.register) > 500  # values the step makes
    assert program.buffers <= 3 * 50 + 8  # what the forward saves for backward, and a few more


# --- refusals: each says why, and the result is eager's ------------------------------------------

def _refusal_case(kind):
    """A step doing something a replay cannot repeat, with its model (fresh each time)."""
    model = _mlp(gg.float32)
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
    extra = {}
    # computed with NumPy from the values, a constant to a capture; outside step, whose code then names no .array
    numpy_math = (lambda x: np.float32(np.abs(x.array).sum())) if kind == "numpy-math" else None

    def step(x, y):
        optimizer.zero_grad()
        out = model(x)
        if kind == "hook":
            pass
        loss = F.cross_entropy(out, y)
        if kind == "item" and loss.item() > 100:
            return loss
        if kind == "bool" and loss > 100:
            return loss
        if kind == "numpy":
            extra["seen"] = loss.numpy().copy()
        if kind == "print":
            extra["text"] = repr(loss)
        if kind == "trace":
            with gg.trace():
                loss = loss * 1
        if kind == "new-layer":  # its weights drawn outside a kernel (randn, x.uniform_()… draw in one: they replay)
            loss = loss + 0 * nn.Linear(3, 1)(out).sum()
        if kind == "rebase":
            hidden = out * 1
            doubled = hidden * 2
            hidden.detach_()  # a node no longer: a change of what it is, not of its numbers
            loss = loss + 0 * (doubled + hidden).sum()
        if kind == "mask":
            loss = loss + 0 * out[out.detach() > 0].sum()
        if kind == "grad":  # a second derivative's first half (plain gg.autograd.grad replays: its own tests)
            gg.autograd.grad(loss, [model[0].weight], retain_graph=True, create_graph=True)
        if kind == "numpy-math":
            loss = loss * gg.tensor(numpy_math(x))
        if kind == "live":  # a graph kept for a backward outside, after one inside
            loss.backward(retain_graph=True)
            optimizer.step()
            return out
        if kind == "new-leaf":  # FGSM: the input's gradient, through a leaf made afresh on each call
            x_leaf = x.clone().requires_grad_()
            F.cross_entropy(model(x_leaf), y).backward()
            loss = loss + 0 * x_leaf.grad.sign().sum()
        if kind == "closure":
            loss.backward()
            optimizer.step(lambda: loss)
            return loss
        loss.backward()
        optimizer.step()
        return loss

    if kind == "hook":
        model[0].register_forward_hook(lambda module, inputs, output: None)
    if kind == "tensor-hook":  # it doubles the weight's gradient: the eager result must show it
        model[0].weight.register_hook(lambda grad: grad * 2)
    return model, step


REFUSALS = {
    "item": ".item() reads a tensor's value inside the step",
    "bool": "bool(tensor)",
    "numpy": ".numpy() reads a tensor's value",
    "print": "printing a tensor",
    "new-layer": "a random draw outside a kernel (a layer built inside the step",
    "rebase": "an in-place change of a tensor in the graph",
    "mask": "boolean mask",
    "grad": "gg.autograd.grad(…, create_graph=True) inside the step",
    "hook": "forward hook",
    "tensor-hook": "a tensor hook (register_hook) ran in the step",
    "trace": "gg.trace() inside the step",
    "numpy-math": "a tensor's NumPy array (.array) itself",
    "live": "graph is still needed",
    "new-leaf": "gives a gradient to a leaf made inside the step (x.clone().requires_grad_())",
    "closure": "optimizer.step(closure)",
}


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_each_refusal_warns_why_and_gives_eager_results(kind):
    def run(compiled):
        model, step = _refusal_case(kind)
        run = gg.compile(step) if compiled else step
        rng = np.random.default_rng(5)
        gg.manual_seed(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outputs = [run(*_classes(rng, gg.float32)).array.copy() for _ in range(6)]
        return outputs, [p.array.copy() for p in model.parameters()], [str(w.message) for w in caught], run

    eager, compiled = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager[0], compiled[0]))
    assert all(np.array_equal(a, b) for a, b in zip(eager[1], compiled[1]))
    messages = compiled[2]
    assert len(messages) == 1, messages  # one warning, once
    assert REFUSALS[kind] in messages[0] and messages[0].startswith("gg.compile(step): ")
    assert "running it eagerly" in messages[0] and "\n" not in messages[0]
    assert _replays(compiled[3]) == 0
    assert REFUSALS[kind] in compiled[3].explain()


@pytest.mark.parametrize("kind", ["item", "rebase", "hook", "tensor-hook", "numpy-math"])
def test_fullgraph_raises_instead(kind):
    model, step = _refusal_case(kind)
    run = gg.compile(step, fullgraph=True)
    rng = np.random.default_rng(5)
    with pytest.raises(CompileRefused, match=REFUSALS[kind].replace("(", r"\(").replace(")", r"\)").replace(
            ".", r"\.")):
        for _ in range(6):
            run(*_classes(rng, gg.float32))


def test_a_model_switched_between_train_and_eval_on_every_call_keeps_a_program_for_each_mode():
    """The two modes' captures never agree (dropout draws in one, not in the other): each mode gets its program,
    and the calls alternate between them, bit for bit eager's."""
    def run(compiled):
        gg.manual_seed(0)
        model = gg.nn.Sequential(gg.nn.Linear(4, 6), gg.nn.Dropout(0.5), gg.nn.Linear(6, 3))
        step = _training_step(model)
        step = gg.compile(step) if compiled else step
        rng = np.random.default_rng(1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            losses = []
            for call in range(12):
                model.train(call % 2 == 0)
                x = gg.tensor(rng.standard_normal((5, 4)), dtype=gg.float32)
                losses.append(step(x, gg.tensor(rng.integers(0, 3, 5))).array.copy())
        return losses, [p.array.copy() for p in model.parameters()], [str(w.message) for w in caught], step

    eager, compiled = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager[0] + eager[1], compiled[0] + compiled[1], strict=True))
    assert compiled[2] == [] and _replays(compiled[3]) == 12 - 4  # two captures of each mode, then replays
    assert len(next(iter(compiled[3].entries.values())).programs) == 2


def test_an_active_tape_runs_eagerly_and_sees_every_step():
    model = _mlp(gg.float32)
    step = gg.compile(_training_step(model))

    rng = np.random.default_rng(0)
    for _ in range(3):
        step(*_classes(rng, gg.float32))
    with pytest.warns(UserWarning, match=r"^gg.compile\(step\): a tape is recording \(gg.trace\)"):
        with gg.trace() as tape:
            step(*_classes(rng, gg.float32))
    assert len(tape.forward) >= 4 and tape.backward and tape.updates
    step(*_classes(rng, gg.float32))  # the tape has stopped: a replay again
    assert _replays(step) == 2


def test_custom_function_is_refused():
    class Double(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    w = gg.tensor([1.0, 2.0], requires_grad=True)

    @gg.compile
    def step():
        loss = Double.apply(w).sum()
        loss.backward()
        return loss

    with pytest.warns(UserWarning, match="custom autograd.Function"):
        step()
    assert np.array_equal(w.grad.array, [2.0, 2.0])


def test_a_module_forward_under_no_grad_compiles():
    model = _mlp(gg.float32)
    forward = gg.compile(model)
    rng = np.random.default_rng(0)
    with gg.no_grad():
        for _ in range(4):
            x = gg.tensor(rng.standard_normal((5, 4)), dtype=gg.float32)
            assert np.array_equal(forward(x).array, model(x).array)
    assert _replays(forward) == 2


def test_compile_as_decorator_with_options_and_bad_argument():
    @gg.compile(fullgraph=True)
    def double(x):
        return x * 2

    for value in (1.0, 2.0, 3.0):
        assert double(gg.tensor([value])).item() == 2 * value
    assert _replays(double) == 1
    with pytest.raises(TypeError, match="needs a function or a module"):
        gg.compile(3)


# --- explain() -------------------------------------------------------------------------------------

def test_explain_lists_kernels_by_pass_and_layer_with_row_formulas():
    model = _mlp(gg.float32)
    optimizer = gg.optim.Adam(model.parameters(), lr=0.01)
    step = gg.compile(_training_step(model, optimizer))
    assert "nothing captured yet" in step.explain()
    rng = np.random.default_rng(0)
    step(*_classes(rng, gg.float32))
    assert "call it again" in step.explain()
    step(*_classes(rng, gg.float32))
    text = step.explain()
    lines = text.splitlines()
    program = step.entries[step.last_key].program
    assert lines[0].startswith(f"step: {len(program.kernels)} kernels")
    numbered = [line for line in lines if line.startswith("    ")]
    assert [int(line.split()[0]) for line in numbered] == list(range(1, len(program.kernels) + 1))
    passes = [line for line in lines if line in ("forward", "backward", "update")]
    assert passes == ["forward", "backward", "update"]
    linear = gg.RULES["linear"]
    forward_linear = [line for line in numbered if "forward linear" in line]
    assert len(forward_linear) == 2 and all(linear.formula in line for line in forward_linear)
    assert all("(6, 8) float32 192 B" in forward_linear[0] for _ in [0])  # batch 6 × 8 outputs × 4 bytes
    backward_linear = [line for line in numbered if "backward linear" in line]
    assert all(linear.derivative_lines()[1] in line for line in backward_linear)
    assert "0 (Linear)" in text and "2 (Linear)" in text and "1 (ReLU)" in text
    step_line = next(line for line in numbered if f"{type(optimizer).__name__}.step" in line)  # SGD.step
    assert optimizer.formula_for(optimizer.param_groups[0]).splitlines()[0] in step_line
    with_source = step.explain(source=True)
    assert with_source.startswith(text) and "\ndef replay(v0, v1):\n" in with_source
    assert with_source.count("_store_grads({") == 1  # one backward: one store


def test_the_programs_source_has_no_line_that_does_nothing():
    """An add's backward hands ∂L/∂out on as it is: where that stays in its variable, no ``v7 = v7`` line is written."""
    a = gg.tensor([0.5, -1.0], requires_grad=True)
    b = gg.tensor([0.1, 0.2])

    def step(x):
        y = x
        for _ in range(3):
            y = ((y * a + b).tanh()).sigmoid()
        y.sum().backward()
        a.grad = None
        return y.detach()

    run = gg.compile(step)
    for _ in range(3):
        run(gg.ones(2))
    lines = run.explain(source=True).split("def replay")[1].splitlines()
    assert not [line for line in lines if " = " in line and line.split(" = ")[0].strip() == line.split(" = ")[1]]


def test_at_most_eight_programs_the_oldest_capture_dropped():
    @gg.compile
    def double(x):
        return x * 2

    for size in range(1, 11):
        for _ in range(3):
            assert np.array_equal(double(gg.ones(size)).array, np.full(size, 2, np.float32))
    assert len(double.entries) == 8
    assert [key[1][0] for key in double.entries] == [(size,) for size in range(3, 11)]


def test_masks_and_argmax_made_inside_the_step_follow_the_data():
    def run(compiled):
        model = _mlp(gg.float64)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            optimizer.zero_grad()
            out = model(x)
            hinge = out * (out > 0)  # a mask from the values: replayed from the new values
            picked = out.argmax(dim=1)
            loss = F.cross_entropy(hinge, y) + F.cross_entropy(out, picked)
            loss.backward()
            optimizer.step()
            return loss

        run = gg.compile(step, fullgraph=True) if compiled else step
        rng = np.random.default_rng(9)
        return [run(*_classes(rng, gg.float64)).array.copy() for _ in range(12)], run

    (eager, _), (compiled, run) = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled))
    assert _replays(run) == 10


def test_a_compiled_function_inside_a_compiled_step_is_part_of_its_program():
    model = _mlp(gg.float64)
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
    loss_of = gg.compile(lambda x, y: F.cross_entropy(model(x), y))  # alone it would refuse: its graph is needed

    @gg.compile(fullgraph=True)
    def step(x, y):
        optimizer.zero_grad()
        loss = loss_of(x, y)
        loss.backward()
        optimizer.step()
        return loss

    rng = np.random.default_rng(2)
    reference = _mlp(gg.float64)
    reference_optimizer = gg.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(6):
        x, y = _classes(rng, gg.float64)
        reference_optimizer.zero_grad()
        expected = F.cross_entropy(reference(x), y)
        expected.backward()
        reference_optimizer.step()
        assert np.array_equal(step(x, y).array, expected.array)
    assert _replays(step) == 4 and not loss_of.entries


# --- random graphs: broadcasting, reuse, every route of a gradient ---------------------------------

_UNARY = [lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: t.relu(), lambda t: t * t, lambda t: (t * 0.5).exp(),
          lambda t: F.gelu(t)]


@given(plan=st.lists(st.tuples(st.integers(0, 10), st.integers(0, 5), st.integers(0, 99)), min_size=1, max_size=12),
       batch=st.integers(1, 4), width=st.integers(1, 4), dtype=st.sampled_from(DTYPES), alone=st.booleans())
def test_random_graphs_replay_bit_identical(plan, batch, width, dtype, alone):
    """Each plan step picks an op: a unary function, a broadcast bias (shape (width,) or (1, width)), a scale
    (shape (batch, 1)), a product with a parameter matrix, a sum with an earlier value (two uses of it), or a write
    into a new tensor in place (``relu_()``, its first column from an earlier value times a bias, ``+=`` and ``-=``).
    ``alone``: the forward compiled alone, the loss (with a part for a parameter from outside it), ``backward()``
    and the step eager, the way ``model = torch.compile(model)`` is used; else the whole step compiled."""
    def run(compiled):
        rng = np.random.default_rng(batch * 10 + width)
        params = [gg.tensor(rng.standard_normal(shape) * 0.5, dtype=dtype, requires_grad=True)
                  for shape in ((width,), (1, width), (batch, 1), (width, width))]
        optimizer = gg.optim.SGD(params, lr=0.05, momentum=0.5)

        def forward(x):
            values = [x]
            for kind, unary, earlier in plan:
                h = values[-1]
                if kind < 3:
                    h = _UNARY[unary](h)
                elif kind == 3:
                    h = h + params[0]
                elif kind == 4:
                    h = h * params[1]
                elif kind == 5:
                    h = h - params[2]
                elif kind == 6:
                    h = h @ params[3]
                elif kind == 7:
                    h = h + values[earlier % len(values)]
                elif kind == 8:
                    h = h * 1.0
                    h.relu_()
                elif kind == 9:
                    h = h * 1.0
                    h[:, :1] = values[earlier % len(values)][:, :1] * params[1][:, :1]
                else:
                    h = h * 1.0
                    h += values[earlier % len(values)]
                    h -= params[0]
                values.append(h)
            return values[-1]

        forward = gg.compile(forward, fullgraph=True) if compiled and alone else forward

        def step(x):
            optimizer.zero_grad()
            out = forward(x)
            loss = (out * out).mean() + params[3].sum() * 0
            loss.backward()
            optimizer.step()
            return loss

        run = gg.compile(step, fullgraph=True) if compiled and not alone else step
        data = np.random.default_rng(7)
        losses = [run(gg.tensor(data.standard_normal((batch, width)), dtype=dtype)).array.copy() for _ in range(5)]
        grads = [np.array([]) if p.grad is None else p.grad.array.copy() for p in params]  # unused: no gradient
        return losses, [p.array.copy() for p in params], grads

    with np.errstate(all="ignore"):  # long chains of squares and exponentials overflow: the same way in both
        eager, compiled = run(False), run(True)
    for mine, theirs in zip(eager, compiled):
        assert all(a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True) for a, b in zip(mine, theirs))


def test_a_compiled_module_is_used_as_the_module():
    """``model = torch.compile(model)`` then ``model.parameters()``, ``.state_dict()``, ``.eval()``, attributes:
    AttributeError: 'Compiled' object has no attribute 'parameters'."""
    model = _mlp(gg.float32)
    compiled = gg.compile(model)
    assert list(compiled.parameters()) == list(model.parameters()) and compiled._orig_mod is model
    assert list(compiled.state_dict()) == [f"_orig_mod.{name}" for name in model.state_dict()]  # PyTorch's names
    compiled.eval()
    assert not model.training
    optimizer = gg.optim.SGD(compiled.parameters(), lr=0.1)
    x = gg.tensor(np.random.default_rng(1).standard_normal((5, 4)), dtype=gg.float32)
    with gg.no_grad():
        assert np.array_equal(compiled(x).array, model(x).array)
    assert optimizer.param_groups[0]["params"][0] is next(iter(model.parameters()))
    with pytest.raises(AttributeError, match="'Sequential' object has no attribute 'no_such_thing'"):
        getattr(compiled, "no_such_thing")  # noqa: B009 (the attribute lookup is what is tested)
    with pytest.raises(AttributeError, match="has no attribute 'parameters'"):
        gg.compile(lambda x: x).parameters()


# --- values a replay must not freeze (each gave other numbers than eager, without a word) -----------------------

def _eager_and_compiled(run):
    return run(lambda step: step), run(gg.compile)


def _masked_mean_run(wrap, threshold):
    """Cross-entropy averaged over the tokens that are not padding (``valid.long().sum()`` counts them), and
    ``(loss > threshold).float()``, a 0-d comparison, returned too."""
    w = gg.tensor(np.linspace(-1, 1, 12).reshape(4, 3).astype(np.float32), requires_grad=True)

    def step(x, y):
        valid = y != 0
        loss = (F.cross_entropy(x @ w, y, reduction="none") * valid).sum() / valid.long().sum()
        loss.backward()
        return loss, (loss > threshold).float()

    step = wrap(step)
    x = gg.tensor(np.arange(16.0, dtype=np.float32).reshape(4, 4) / 8)
    found = []
    for y in ([1, 2, 1, 2], [2, 1, 1, 1], [1, 1, 2, 2], [1, 2, 0, 0]):  # the last batch: 2 padding tokens
        w.grad = None
        loss, high = step(x, gg.tensor(y))
        found.append((loss.item(), high.item(), w.grad.numpy().copy()))
    return found


@pytest.mark.parametrize("threshold", [0.0, 0.8])
def test_a_count_of_a_mask_and_a_0d_comparison_are_computed_at_each_call(threshold):
    """``valid.long().sum()`` (the integer cast was no kernel of the program) and ``(loss > t).float()`` (NumPy's
    0-d comparison is a scalar, kept in no buffer) were frozen at the captured calls' values when those agreed:
    the padded batch's loss came out halved, the comparison stuck. Now both are kernels, every call eager's."""
    eager, compiled = (_masked_mean_run(wrap, threshold) for wrap in (lambda step: step, gg.compile))
    for (loss, high, grad), (loss_c, high_c, grad_c) in zip(eager, compiled):
        assert (loss, high) == (loss_c, high_c)
        np.testing.assert_array_equal(grad, grad_c)
    if threshold:  # the captured calls are above 0.8, the third below: the comparison must change
        assert [high for _, high, _ in eager] == [1.0, 1.0, 0.0, 1.0]


def _aliased_run(wrap):
    w = gg.tensor([[1.0, 0.5], [0.0, 2.0]], requires_grad=True)

    def step(x, target):  # an autoencoder: the input is also the target
        loss = ((x @ w - target) ** 2).mean()
        loss.backward()
        return loss

    step = wrap(step)
    a, b = gg.tensor([[1.0, 2.0]]), gg.tensor([[0.5, -1.0]])
    found = []
    for x, target in ((a, a), (a, a), (a, b), (b, b), (b, a)):
        w.grad = None
        found.append((step(x, target).item(), w.grad.numpy().copy()))
    return found


def test_one_tensor_passed_twice_and_two_tensors_get_programs_of_their_own():
    """A step captured as ``step(a, a)`` read its second argument from the first one's buffer, so ``step(a, b)``
    replayed ``step(a, a)``. Now which arguments are the same tensor is part of the program's key."""
    eager, compiled = _eager_and_compiled(_aliased_run)
    for (loss, grad), (loss_c, grad_c) in zip(eager, compiled):
        assert loss == loss_c
        np.testing.assert_array_equal(grad, grad_c)


def _accumulating_run(wrap):
    """A manual update that reads ``w.grad`` after a mask's comparison and a BatchNorm-free forward; ``.grad`` is
    reset outside for the first two calls only, then accumulates."""
    w = gg.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        (w * x * (x > 0)).sum().backward()
        with gg.no_grad():
            w.sub_(0.1 * w.grad)

    step = wrap(step)
    x = gg.tensor([3.0, -1.0])
    for number in range(5):
        if number < 2:
            w.grad = None
        step(x)
    return w.detach().numpy().copy(), w.grad.numpy().copy()


def test_a_grad_read_after_backward_is_the_accumulated_one_when_a_call_came_first():
    """With a comparison (any recorded call) before ``backward``, the capture took ``.grad`` for fresh and replayed
    reading the bare contribution where ``.grad`` had accumulated: w came out [-0.2, 2] where eager gives
    [-1.1, 2]. Now only a store or ``p.grad = …`` counts as having set ``.grad``."""
    eager, compiled = _eager_and_compiled(_accumulating_run)
    for mine, theirs in zip(compiled, eager):
        np.testing.assert_array_equal(mine, theirs)


def _one_hot_step(num_classes=3):
    model = _mlp(gg.float64)
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), F.one_hot(y, num_classes).to(gg.float64))  # targets made inside the step
        loss.backward()
        optimizer.step()
        return loss

    return step


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_one_hot_targets_made_inside_the_step_replay_and_check_each_batch(compiled):
    def run(make):
        step = make(_one_hot_step())
        rng = np.random.default_rng(4)
        return [step(*_classes(rng, gg.float64)).array.copy() for _ in range(12)], step

    (eager, _), (replayed, step) = run(lambda step: step), run(lambda step: gg.compile(step, fullgraph=True))
    assert all(np.array_equal(a, b) for a, b in zip(eager, replayed))
    assert _replays(step) == 10  # a kernel of the program (it was an array of other numbers each call: eager)
    x = gg.tensor(np.zeros((6, 4)))
    run_once = step if compiled else _one_hot_step()
    for bad, message in (([0, 1, 2, 0, 1, -1], r"class indices must be >= 0, got -1"),
                         ([0, 1, 2, 0, 1, 3], r"class index 3 is not smaller than num_classes \(3\)")):
        with pytest.raises(RuntimeError, match=message):  # checked on a replay too (NumPy would wrap −1 around)
            run_once(x, gg.tensor(bad))


def test_one_hot_with_inferred_classes_is_refused_saying_why():
    with pytest.raises(CompileRefused, match="one_hot with num_classes=-1 .* pass num_classes"):
        gg.compile(_one_hot_step(-1), fullgraph=True)(*_classes(np.random.default_rng(0), gg.float64))


def _halve_by_assignment(p):
    p.grad = p.grad * 0.5


def _halve_in_place(p):
    p.grad /= 2  # Python's p.grad = p.grad.__itruediv__(2): the tensor changed in place, then assigned


@pytest.mark.parametrize("scale", [_halve_by_assignment, _halve_in_place], ids=["p.grad = p.grad * 0.5", "p.grad /= 2"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_a_grad_set_to_a_tensor_the_step_made_replays(scale, dtype):
    def run(compile_it):
        model = _mlp(dtype)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            for p in model.parameters():
                scale(p)
            optimizer.step()
            return loss

        step = gg.compile(step, fullgraph=True) if compile_it else step
        rng = np.random.default_rng(5)
        seen = []
        for _ in range(12):
            loss = step(*_classes(rng, dtype))
            seen.append([loss.array.copy()] + [a for p in model.parameters() for a in (p.array.copy(), p.grad.array)])
        return seen, step

    (eager, _), (replayed, step) = run(False), run(True)
    assert all(np.array_equal(a, b) for call_a, call_b in zip(eager, replayed) for a, b in zip(call_a, call_b))
    assert _replays(step) == 10  # the tensor assigned to .grad is the program's (it was the capture's own: eager)


def test_a_grad_set_between_calls_is_added_to_when_the_step_cleared_another_one():
    """``a.grad = None`` in the step says nothing of ``b.grad``: one set between calls is added to, as eager does."""
    def run(compile_it):
        a = gg.tensor([1.0, -2.0], dtype=gg.float64, requires_grad=True)
        b = gg.tensor([0.5, 3.0], dtype=gg.float64, requires_grad=True)

        def step(x):
            a.grad = None
            ((a * x).sum() * (b * x).sum()).backward()
            with gg.no_grad():
                b.sub_(0.1 * b.grad)  # reads b's gradient: the contribution itself only while b.grad was None
            b.grad = None
            return b.detach().clone()

        step = gg.compile(step) if compile_it else step
        seen = []
        for call in range(8):
            if call >= 4:
                b.grad = gg.ones(2, dtype=gg.float64)  # set between calls, after the program is made
            seen.append(step(gg.tensor([1.0, float(call)], dtype=gg.float64)).array)
        return seen

    assert all(np.array_equal(e, c) for e, c in zip(run(False), run(True)))


class _InPlace(nn.Module):
    """A small CNN whose middle writes into a tensor of the graph in one of PyTorch's in-place spellings."""

    def __init__(self, how, dtype):
        super().__init__()
        self.how = how
        self.conv = nn.Conv2d(1, 3, 3, padding=1, dtype=dtype)
        self.norm = nn.BatchNorm2d(3, dtype=dtype)
        self.drop = nn.Dropout(0.3, inplace=True, generator=gg.Generator().manual_seed(3))
        self.act = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(3, 3, 3, padding=1, dtype=dtype)
        self.scale = nn.Parameter(gg.tensor(1.5, dtype=dtype))
        self.head = nn.Linear(27, 3, dtype=dtype)

    def forward(self, x):
        h = self.norm(self.conv(x))
        if self.how == "relu layer":
            h = self.act(h)
        elif self.how == "leaky_relu":
            h = F.leaky_relu(h, 0.1, inplace=True)
        elif self.how == "methods":
            h.relu_().clamp_(max=1.0)
        elif self.how == "partial write":
            h[:, 0] = x[:, 0] * self.scale  # a value that requires grad, written into part of h
            h[:, 2, 0] = 0.5
        elif self.how == "copy_":
            h.copy_(h.tanh() * self.scale)
        elif self.how == "dropout":
            h = self.drop(h)
        elif self.how == "gate *=":  # a gate that requires grad: mul's and div's rules read h's old value back
            h *= self.scale.sigmoid()
            h /= self.scale
            h.mul_(self.scale * 2)
        elif self.how == "residual +=":  # torchvision's BasicBlock: out += identity, then an in-place ReLU
            identity = h
            h = self.act(self.conv2(h))
            h += identity
            h -= self.scale
            h = self.act(h)
        return self.head(F.max_pool2d(h, 2).flatten(1))


@pytest.mark.parametrize("how", ["relu layer", "leaky_relu", "methods", "partial write", "copy_", "dropout",
                                 "gate *=", "residual +="])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_writes_into_a_tensor_of_the_graph_replay_bit_identical(how, dtype):
    """``nn.ReLU(inplace=True)``, ``x.relu_()``, ``x[i] = v``, ``x.copy_(v)``, ``h *= gate``: each write into a tensor
    the step made is a kernel of the program (``h *= gate`` computes from the old h's copy, a kernel too, which mul's
    rule reads back), and the ops recorded before it lead to its old value, as in eager."""
    def run(compile_it):
        gg.manual_seed(0)
        model = _InPlace(how, dtype)
        step = _training_step(model, gg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
        step = gg.compile(step, fullgraph=True) if compile_it else step
        rng = np.random.default_rng(2)
        seen = [[step(*_images(rng, dtype)).array.copy(), *(p.array.copy() for p in model.parameters()),
                 *(p.grad.array.copy() for p in model.parameters() if p.grad is not None)] for _ in range(12)]
        return seen, step

    (eager, _), (replayed, step) = run(False), run(True)
    if how == "residual +=":  # the glass box says where the sum goes
        assert "forward add " in step.explain() and "out = a + b, written into a's memory" in step.explain()
    assert [len(call) for call in eager] == [len(call) for call in replayed]
    assert all(np.array_equal(a, b) for call_a, call_b in zip(eager, replayed) for a, b in zip(call_a, call_b))
    assert _replays(step) == 10


@pytest.mark.parametrize("change", ["detach_", "another dtype"])
def test_other_in_place_changes_of_a_graph_tensor_still_run_eagerly_saying_why(change):
    w = gg.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)

    def step(x):
        h = w * x
        if change == "detach_":
            g = h * 2
            h.detach_()
            h = g + h
        else:  # a float64 operand: the product is computed from h cast, not from h's memory
            h *= w.double()
        loss = (h * h).sum()
        loss.backward()
        return loss.detach()

    with pytest.raises(CompileRefused, match=r"an in-place change of a tensor in the graph that changes what it is"):
        gg.compile(step, fullgraph=True)(gg.ones(2, 2))


def test_a_write_over_a_value_backward_needs_is_refused_as_in_eager():
    w = gg.tensor([1.0, -2.0], requires_grad=True)

    def step(x):
        y = (w * x).exp()
        y.relu_()  # exp's backward reads its output, which the write changed
        y.sum().backward()

    for run in (step, gg.compile(step, fullgraph=True)):
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            run(gg.ones(2))


@pytest.mark.parametrize("made", ["factory", "argument", "constant", "factory cloned", "constant cloned"])
def test_a_write_into_a_tensor_the_step_did_not_make_with_an_op_is_refused_unless_cloned(made):
    """A factory's tensor (``gg.zeros``) and a copy of a NumPy array (``gg.tensor(np.zeros(…))``) are made by a kernel
    of the step, a new array at each replay: a hand-written RNN writes its outputs into one. An argument is not."""
    w = gg.tensor([1.0, -2.0], dtype=gg.float64, requires_grad=True)

    def step(x):
        rows = {"factory": gg.zeros(3, 2, dtype=gg.float64), "argument": x,
                "constant": gg.tensor(np.zeros((3, 2))), "constant cloned": gg.tensor(np.zeros((3, 2))).clone(),
                "factory cloned": gg.zeros(3, 2, dtype=gg.float64).clone()}[made]
        for t in range(3):
            rows[t] = w * (t + 1)  # the loop of an RNN written by hand: a row of the output per step
        loss = (rows * rows).sum()
        loss.backward()
        w.grad = None
        return loss.detach()

    run = gg.compile(step, fullgraph=True)
    if made == "argument":
        with pytest.raises(CompileRefused, match=r"that the step did not make with an op .* clone\(\) it in the step"):
            run(gg.zeros(3, 2, dtype=gg.float64))
        return
    eager = [step(gg.zeros(3, 2, dtype=gg.float64)).item() for _ in range(4)]
    assert [run(gg.zeros(3, 2, dtype=gg.float64)).item() for _ in range(4)] == eager == [70.0] * 4
    assert _replays(run) == 2


class _HandWrittenRNN(nn.Module):
    """The loop of an RNN written by hand: a factory's tensor holds each step's hidden state (``outputs[t] = h``)."""

    def __init__(self, factory):
        super().__init__()
        self.cell, self.head, self.factory = nn.RNNCell(4, 6), nn.Linear(6, 3), factory

    def forward(self, x):
        steps, batch, _ = x.shape
        outputs, h = self.factory(x, steps, batch), gg.zeros(batch, 6)
        for t in range(steps):
            h = self.cell(x[t], h)
            outputs[t] = h
        return self.head(outputs).mean(0)


FACTORIES = {"zeros": lambda x, steps, batch: gg.zeros(steps, batch, 6),
             "empty": lambda x, steps, batch: gg.empty(steps, batch, 6),
             "full": lambda x, steps, batch: gg.full((steps, batch, 6), 0.5),
             "new_zeros": lambda x, steps, batch: x.new_zeros(steps, batch, 6),
             "zeros_like": lambda x, steps, batch: gg.zeros_like(x[..., :1].expand(steps, batch, 6))}


@pytest.mark.parametrize("factory", sorted(FACTORIES))
def test_a_compiled_rnn_writing_its_outputs_into_a_factory_tensor_replays_bit_for_bit(factory):
    def run(compiled):
        gg.manual_seed(0)
        model = _HandWrittenRNN(FACTORIES[factory])
        net = gg.compile(model) if compiled else model
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        rng, losses, grad_fns = np.random.default_rng(0), [], []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(8):
                x = gg.tensor(rng.standard_normal((5, 2, 4)), dtype=gg.float32)
                out = net(x)
                grad_fns.append(out.grad_fn.name)
                loss = F.cross_entropy(out, gg.tensor(rng.integers(0, 3, 2)))
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                losses.append(loss.array.copy())
        return losses + [p.array.copy() for p in model.parameters()], grad_fns, [str(w.message) for w in caught]

    (eager, _, _), (compiled, grad_fns, messages) = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))
    assert messages == [] and grad_fns[2:] == ["compiled forward"] * 6


def test_a_step_with_an_enabled_grad_scaler_runs_eagerly_saying_why():
    """The scaler decides in Python whether to step and how to change its scale: a replay froze both (the scale
    stopped growing, and a batch with an inf gradient would have been stepped with)."""
    def run(compile_it):
        model = nn.Linear(4, 3, seed=1)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        scaler = gg.amp.GradScaler("cpu", init_scale=2.0 ** 16, growth_interval=2)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            return loss

        step = gg.compile(step) if compile_it else step
        rng = np.random.default_rng(6)
        seen = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for call in range(9):
                x = rng.standard_normal((6, 4)) * (1e38 if call == 6 else 1)  # an overflowing batch: step skipped
                step(gg.tensor(x, dtype=gg.float32), gg.tensor(rng.integers(0, 3, 6)))
                seen.append([scaler.get_scale(), *(p.array.copy() for p in model.parameters())])
        return seen, [str(w.message) for w in caught if str(w.message).startswith("gg.compile")]

    (eager, _), (compiled, messages) = run(False), run(True)
    assert [call[0] for call in eager] == [call[0] for call in compiled] == [
        65536.0, 131072.0, 131072.0, 262144.0, 262144.0, 524288.0, 262144.0, 262144.0, 524288.0]
    assert all(np.array_equal(a, b) for e, c in zip(eager, compiled) for a, b in zip(e[1:], c[1:]))
    assert len(messages) == 1 and "GradScaler decides in Python" in messages[0] and "running it eagerly" in messages[0]


# --- a compiled forward whose backward() runs outside it (model = gg.compile(model)) ----------------

class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.norm, self.head = nn.Linear(6, 6), nn.Linear(6, 6), nn.LayerNorm(6), nn.Linear(6, 3)

    def forward(self, x):
        return self.head(self.norm(x + self.b(F.gelu(self.a(x)))))


class _Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.table, self.head = nn.Embedding(10, 6), nn.Linear(6, 3)

    def forward(self, tokens):
        return self.head(self.table(tokens).mean(1))


class _Twice(nn.Module):  # one layer called twice: its weight gets two parts in the walk
    def __init__(self):
        super().__init__()
        self.layer, self.head = nn.Linear(6, 6), nn.Linear(6, 3)

    def forward(self, x):
        return self.head(self.layer(self.layer(x).tanh()))


class _Recurrent(nn.Module):  # a weight used at every time step
    def __init__(self):
        super().__init__()
        self.lstm, self.gru = nn.LSTM(3, 5, batch_first=True), nn.GRU(5, 4, batch_first=True)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        out, _ = self.lstm(x.reshape(len(x), 2, 3))
        out, _ = self.gru(out)
        return self.head(out[:, -1])


class _TiedAttention(nn.Module):  # GPT's tied embedding and output weights, self-attention between
    def __init__(self):
        super().__init__()
        self.table, self.attention = nn.Embedding(10, 8), nn.MultiheadAttention(8, 2, batch_first=True)
        self.norm, self.head = nn.LayerNorm(8), nn.Linear(8, 10, bias=False)
        self.head.weight = self.table.weight

    def forward(self, tokens):
        h = self.table(tokens)
        attended, _ = self.attention(h, h, h, need_weights=False)
        return self.head(self.norm(h + attended)).mean(1)[:, :3]


def _frozen():
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    model[0].weight.requires_grad_(False)
    return model


def _vectors(rng, dtype):
    return gg.tensor(rng.standard_normal((8, 6)), dtype=dtype), gg.tensor(rng.integers(0, 3, 8))


def _one_hot_mse(out, y):
    return F.mse_loss(out, F.one_hot(y, 3).to(out.dtype))


OUTSIDE = {
    # name: (model(), batch(rng, dtype), optimizer(params), loss(out, y), dtype, two calls per loss)
    "mlp-sgd": (lambda: _mlp(gg.float32, widths=(6, 16, 3)), _vectors, _sgd, F.cross_entropy, gg.float32, False),
    "mlp-dropout-adam-float64": (lambda: _mlp(gg.float64, middle=(nn.Dropout(0.2),), activation=nn.Tanh,
                                              widths=(6, 16, 3)),
                                 _vectors, lambda p: gg.optim.Adam(p, lr=0.01), F.cross_entropy, gg.float64, False),
    "cnn-batchnorm-dropout": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4),
                                                    nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Dropout(0.3),
                                                    nn.Flatten(), nn.Linear(36, 3)),
                              _images, lambda p: gg.optim.SGD(p, lr=0.05, momentum=0.9), F.cross_entropy, gg.float32,
                              False),
    "residual-layernorm-gelu": (_Residual, _vectors, lambda p: gg.optim.AdamW(p, lr=0.01), F.cross_entropy,
                                gg.float32, False),
    "embedding": (_Bag, _tokens, _sgd, F.cross_entropy, gg.float32, False),
    "layer-called-twice": (_Twice, _vectors, _sgd, F.cross_entropy, gg.float32, False),
    "lstm-gru": (_Recurrent, _vectors, lambda p: gg.optim.RMSprop(p, lr=0.01), F.cross_entropy, gg.float32, False),
    "tied-weights-attention": (_TiedAttention, _tokens, lambda p: gg.optim.AdamW(p, lr=0.01), F.cross_entropy,
                               gg.float32, False),
    "frozen-weight": (_frozen, _vectors, _sgd, F.cross_entropy, gg.float32, False),
    "sigmoid-output-mse": (lambda: nn.Sequential(nn.Linear(6, 3), nn.Sigmoid()), _vectors, _sgd, _one_hot_mse,
                           gg.float32, False),
    "two-calls-per-loss": (lambda: _mlp(gg.float32, widths=(6, 16, 3)), _vectors, _sgd, F.cross_entropy,
                           gg.float32, True),
}


def _outside_run(name, compiled, steps=20):
    """``steps`` training steps of OUTSIDE[name] with only the model compiled: the loss, an L2 penalty on every
    parameter (a second part of each gradient, from outside the model), ``backward()`` and the step outside."""
    make, batch, optimizer, loss_fn, dtype, twice = OUTSIDE[name]
    gg.manual_seed(0)
    model = make().to(dtype)
    net = gg.compile(model) if compiled else model
    optimizer = optimizer(model.parameters())
    rng = np.random.default_rng(3)
    records, grad_fns = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            x, y = batch(rng, dtype)
            optimizer.zero_grad()
            out = net(x)
            grad_fns.append(getattr(out.grad_fn, "name", None))
            loss = loss_fn(out, y)
            if twice:  # a Siamese pair: the second call's node is walked first
                loss = loss + (out - net(x * 0.5)).pow(2).mean()
            loss = loss + 1e-3 * sum((p ** 2).sum() for p in model.parameters() if p.requires_grad)
            loss.backward()
            records.append([loss.array.copy()] + [p.grad.array.copy() for p in model.parameters() if p.requires_grad])
            optimizer.step()
    records.append([p.array.copy() for p in model.parameters()])
    return records, grad_fns, [str(w.message) for w in caught]


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_a_compiled_forward_with_backward_outside_replays_as_one_node_bit_for_bit(name):
    eager, _, _ = _outside_run(name, False)
    compiled, grad_fns, messages = _outside_run(name, True)
    assert messages == []
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for one, two in zip(eager, compiled)
               for a, b in zip(one, two))
    assert grad_fns[:2] != ["compiled forward"] * 2 and grad_fns[2:] == ["compiled forward"] * 18  # captures, then


def test_a_hook_keeps_a_compiled_forward_eager_and_runs_once_per_backward():
    model = _mlp(gg.float32, widths=(6, 16, 3))
    net = gg.compile(model)
    seen = []
    model[0].weight.register_hook(lambda grad: seen.append(1))
    x = gg.randn(8, 6)
    with pytest.warns(UserWarning, match="a tensor in the returned tensor's graph has a hook"):
        for _ in range(4):
            net(x).sum().backward()
    assert len(seen) == 4


def _compiled_mlp_after_captures():
    gg.manual_seed(0)
    model = _mlp(gg.float32, widths=(6, 16, 3))
    net, x, y = gg.compile(model), gg.randn(8, 6), gg.tensor(np.arange(8) % 3)
    for _ in range(3):
        F.cross_entropy(net(x), y).backward()
    model.zero_grad()
    return model, net, x, y


@pytest.mark.parametrize("changed, refused", [("input", True), ("weight", True), ("bias", False)])
def test_the_node_refuses_a_kept_value_changed_in_place_as_eager_does(changed, refused):
    for compiled in (False, True):
        model, net, x, y = _compiled_mlp_after_captures()
        x = x.clone()
        loss = F.cross_entropy((net if compiled else model)(x), y)
        with gg.no_grad():
            {"input": x, "weight": model[2].weight, "bias": model[2].bias}[changed].mul_(2.0)
        if refused:  # the second layer's input-gradient reads its weight; the first's weight-gradient reads x
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                loss.backward()
        else:
            loss.backward()


def test_the_node_gives_autograd_grad_and_backward_inputs_eagers_numbers_and_refuses_double_backward():
    model, net, x, y = _compiled_mlp_after_captures()
    out = net(x)
    assert out.grad_fn.name() == "compiled forward"
    listing = net.explain()
    assert "backward (one node, 'compiled forward', replays it when backward() reaches the output; its gradients go " \
           "to 4 parameters)" in listing and listing.count("backward linear") == 2
    params = list(model.parameters())
    compiled_grads = gg.autograd.grad(F.cross_entropy(out, y), params)
    eager_grads = gg.autograd.grad(F.cross_entropy(model(x), y), params)
    assert all(np.array_equal(a.array, b.array) for a, b in zip(compiled_grads, eager_grads))
    F.cross_entropy(net(x), y).backward(inputs=[params[0]])
    assert np.array_equal(params[0].grad.array, eager_grads[0].array) and params[2].grad is None
    graphed = gg.autograd.grad(F.cross_entropy(net(x), y), params, create_graph=True)  # as PyTorch: given, then
    assert all(np.array_equal(a.array, b.array) and a.requires_grad for a, b in zip(graphed, eager_grads))
    with pytest.raises(RuntimeError, match="does not currently support double backward"):  # refused once more
        graphed[0].sum().backward()


class _Retains(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer, self.head = nn.Linear(6, 6), nn.Linear(6, 3)

    def forward(self, x):
        self.hidden = self.layer(x).tanh()
        self.hidden.retain_grad()
        return self.head(self.hidden)


@pytest.mark.parametrize("case, reason", [("retain-grad", "retains its gradient (retain_grad())")])
def test_a_compiled_forward_whose_graph_reaches_outside_runs_eagerly_and_changes_no_gradient(case, reason):
    """An intermediate that retains its gradient: the forward runs eagerly, and the capture's walk touches no
    ``.grad``."""
    def run(compiled):
        gg.manual_seed(0)
        encoder = nn.Linear(6, 6)
        model = _Retains() if case == "retain-grad" else _mlp(gg.float32, widths=(6, 16, 3))
        net = gg.compile(model) if compiled else model
        rng = np.random.default_rng(0)
        seen = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(4):
                x = _vectors(rng, gg.float32)[0]
                out = net(encoder(x) if case == "encoder-outside" else x)
                out.sum().backward()
                seen.append([t.grad.array.copy() for t in (*encoder.parameters(), *model.parameters())
                             if t.grad is not None])
                if case == "retain-grad":
                    seen.append([model.hidden.grad.array.copy()])
        return seen, [str(w.message) for w in caught]

    (eager, _), (compiled, messages) = run(False), run(True)
    assert all(len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b)) for a, b in zip(eager, compiled))
    assert len(messages) == 1 and reason in messages[0]


class _GeneratorAndCritic(nn.Module):
    """A GAN's two networks, each compiled on its own: the critic is fed the generator's output (an argument made
    by ops outside its call, which requires grad) and, for its own step, that output detached and real data."""

    def __init__(self):
        super().__init__()
        self.generator = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4))
        self.critic = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))


@pytest.mark.parametrize("case", ["encoder-decoder", "gan"])
def test_a_compiled_forward_fed_by_ops_outside_it_hands_that_argument_its_gradient(case):
    """The walk of a compiled forward stops at an argument made by ops outside the call (an encoder's output given
    to a compiled decoder; a generator's output given to a compiled critic): the argument is a parent of the node,
    and the engine carries its gradient on into the graph outside, bit for bit eager's (it ran eagerly before)."""
    def run(compiled):
        gg.manual_seed(0)
        encoder, decoder = nn.Linear(6, 6), _mlp(gg.float32, widths=(6, 16, 3))
        gan = _GeneratorAndCritic()
        wrap = gg.compile if compiled else (lambda model: model)
        net, generator, critic = wrap(decoder), wrap(gan.generator), wrap(gan.critic)
        models = [encoder, decoder] if case == "encoder-decoder" else [gan]
        optimizers = [gg.optim.Adam(model.parameters(), lr=0.01) for model in (gan.generator, gan.critic)]
        rng, seen, grad_fns = np.random.default_rng(0), [], []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(8):
                x = gg.tensor(rng.standard_normal((6, 6 if case == "encoder-decoder" else 3)), dtype=gg.float32)
                if case == "encoder-decoder":
                    out = net(encoder(x).tanh())
                    out.sum().backward()
                else:
                    real, fake = gg.tensor(rng.standard_normal((6, 4)), dtype=gg.float32), generator(x)
                    for optimizer in optimizers:
                        optimizer.zero_grad()
                    F.binary_cross_entropy_with_logits(critic(real), gg.ones(6, 1)).add(
                        F.binary_cross_entropy_with_logits(critic(fake.detach()), gg.zeros(6, 1))).backward()
                    optimizers[1].step()
                    optimizers[0].zero_grad()
                    out = critic(fake)
                    F.binary_cross_entropy_with_logits(out, gg.ones(6, 1)).backward()
                    optimizers[0].step()
                grad_fns.append(out.grad_fn.name())
                seen.append([t.array.copy() for model in models for t in model.parameters()]
                            + [t.grad.array.copy() for model in models for t in model.parameters()])
        return seen, [str(w.message) for w in caught], grad_fns

    (eager, _, _), (compiled, messages, grad_fns) = run(False), run(True)
    assert messages == [] and grad_fns[2:] == ["compiled forward"] * 6
    assert all(np.array_equal(u, v) for a, b in zip(eager, compiled, strict=True) for u, v in zip(a, b, strict=True))


def test_a_compiled_forward_gives_an_argument_that_requires_grad_its_gradient():
    """FGSM with a compiled model: the input's gradient (a parent of the node, the call's own tensor), then a
    training step on the perturbed batch (another key: its input needs no gradient); bit for bit eager's."""
    def run(compiled):
        gg.manual_seed(0)
        model = _mlp(gg.float32, widths=(6, 16, 3))
        net, optimizer = (gg.compile(model) if compiled else model), gg.optim.SGD(model.parameters(), lr=0.1)
        rng = np.random.default_rng(0)
        seen, grad_fns = [], []
        for _ in range(6):
            batch, y = _vectors(rng, gg.float32)
            x = batch.clone().requires_grad_()
            out = net(x)
            grad_fns.append(getattr(out.grad_fn, "name", None))
            F.cross_entropy(out, y).backward()
            adversarial = (x + 0.1 * x.grad.sign()).detach()
            optimizer.zero_grad()
            F.cross_entropy(net(adversarial), y).backward()
            optimizer.step()
            seen += [x.grad.array.copy()] + [p.array.copy() for p in model.parameters()]
        return seen, grad_fns

    (eager, _), (compiled, grad_fns) = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled))
    assert grad_fns[2:] == ["compiled forward"] * 4


@pytest.mark.parametrize("grad_mode", [True, False])
def test_a_compiled_model_inside_a_dual_level_runs_eagerly_and_carries_the_tangent(grad_mode):
    """Forward mode's tangents ride on every op (also under no_grad): a replay would drop them (a None tangent
    under no_grad, a refused create_graph through the node otherwise), so the calls run eagerly, saying why once."""
    forward_ad = gg.autograd.forward_ad
    model = _mlp(gg.float64, activation=nn.Tanh, widths=(3, 4, 2))
    compiled = gg.compile(model)
    x, v = gg.randn(5, 3, dtype=gg.float64), gg.randn(5, 3, dtype=gg.float64)
    with gg.no_grad():
        for _ in range(3):  # a program for this key first: captured under no_grad, no level open
            compiled(x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            with forward_ad.dual_level(), gg.set_grad_enabled(grad_mode):
                dual = forward_ad.make_dual(x, v)
                tangent = forward_ad.unpack_dual(compiled(dual)).tangent
                expected = forward_ad.unpack_dual(model(dual)).tangent
            assert tangent is not None and np.array_equal(tangent.array, expected.array)
    assert [str(w.message) for w in caught] == [
        "gg.compile(Sequential): a forward-mode dual level is open, so that every op carries its tangent; running it "
        "eagerly meanwhile"]


# --- values worked out from the step's tensors: kernels, or eager; never a stale constant ------------------

WORKED_OUT = {
    # name: (h -> out, replays: a kernel at each call; else the step runs eagerly, saying why)
    "sort": (lambda h: h.sort(dim=1).values, True),
    "argsort": (lambda h: h.gather(1, h.argsort(dim=1, descending=True)), True),
    "topk": (lambda h: h.topk(2, dim=1).values, True),
    "msort": (lambda h: h.msort(), True),
    "invert": (lambda h: h.masked_fill(~(h > 0), 0.0), True),
    "logical_not": (lambda h: h.masked_fill((h > 0).logical_not(), 0.0), True),
    "and": (lambda h: h.masked_fill((h > 0) & (h < 0.5), 0.0), True),
    "any": (lambda h: h * (h > 0.5).any(dim=1, keepdim=True), True),
    "isnan": (lambda h: h.masked_fill((h - 0.3).sqrt().isnan(), 0.0), True),
    "searchsorted": (lambda h: h * gg.searchsorted(gg.tensor([-0.5, 0.0, 0.5]), h.detach()), True),
    "count_nonzero": (lambda h: h * gg.count_nonzero(h > 0, dim=1).unsqueeze(1), True),
    "median": (lambda h: h.median(dim=1).values, False),
    "mode": (lambda h: h.mode(dim=1).values, False),
    "quantile": (lambda h: h.quantile(0.3, dim=1), False),
    "cummax": (lambda h: h.cummax(dim=1).values, False),
    "signbit": (lambda h: h.masked_fill(gg.signbit(h), 0.0), True),  # a kernel (it ran eagerly before 4849c6a)
    "copysign": (lambda h: gg.copysign(h, h - 0.3), True),  # the signs: a kernel, in b's graph with slope 0
    "copysign by a constant": (lambda h: gg.copysign(h, (h - 0.3).detach()) + h, True),  # squared: signs count
    "frexp": (lambda h: gg.frexp(h)[0], True),
    "bilinear resize": (lambda h: F.interpolate(h[None, None], scale_factor=2, mode="bilinear")[0, 0], True),
    "local_response_norm": (lambda h: F.local_response_norm(h[None], 2)[0], True),
    "take_along_dim": (lambda h: h.take_along_dim(h.argmax(1, keepdim=True), 1), True),  # its indices: a kernel
    "nonzero": (lambda h: h * len(gg.where(h > 0)[0]), False),
    "unique": (lambda h: h * len(gg.unique(h > 0)), False),
}


@pytest.mark.parametrize("name", sorted(WORKED_OUT))
def test_a_value_worked_out_from_the_tensors_is_a_kernel_or_the_step_runs_eagerly(name):
    """The first two calls see the same batch, the later ones others: an order, a mask, a median's pick worked
    out from the values must follow them (a kernel at each call) or the step must run eagerly; before, the sorts,
    masks and picks were kept as the capture's constants, and later calls gave other numbers, without a word."""
    function, replays = WORKED_OUT[name]
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((4, 5)).astype(np.float32) for _ in range(5)]

    def run(compiled):
        w = gg.tensor(np.linspace(-1, 1, 5, dtype=np.float32), requires_grad=True)

        def step(x):
            out = function(x * w)
            loss = (out * out).sum()
            loss.backward()
            gradient = w.grad.clone()
            w.grad = None
            return loss, gradient

        step = gg.compile(step) if compiled else step
        with warnings.catch_warnings(record=True) as caught, np.errstate(invalid="ignore"):
            warnings.simplefilter("always")
            results = [[t.array.copy() for t in step(gg.tensor(batch))] for batch in [batches[0], *batches]]
        return results, [str(w.message) for w in caught if "gg.compile" in str(w.message)], step

    (eager, _, _), (compiled, messages, step) = run(False), run(True)
    assert all(np.array_equal(a, b, equal_nan=True) for one, two in zip(eager, compiled) for a, b in zip(one, two))
    if replays:
        assert messages == [] and _replays(step) == 4
    else:
        assert len(messages) == 1 and "running it eagerly" in messages[0] and _replays(step) == 0


def test_a_gradient_the_step_returns_after_resetting_grad_is_stored_in_the_replay():
    """``g = w.grad; w.grad = None; return loss, g``: the store is read by the step's result, so it stays in the
    program (it was left out as read by nobody, and building the program raised KeyError on the returned slot)."""
    def run(compiled):
        w = gg.tensor(np.linspace(-1, 1, 5, dtype=np.float32), requires_grad=True)

        def step(x):
            loss = ((x * w * 2) ** 2).sum()
            loss.backward()
            gradient = w.grad
            w.grad = None
            return loss, gradient

        step = gg.compile(step, fullgraph=True) if compiled else step
        rng = np.random.default_rng(0)
        return [step(gg.tensor(rng.standard_normal((4, 5)), dtype=gg.float32))[1].array.copy() for _ in range(4)], step

    (eager, _), (compiled, step) = run(False), run(True)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled)) and _replays(step) == 2


def test_a_compiled_forward_whose_backward_raises_runs_eagerly_and_raises_only_in_backward():
    """LU of a singular matrix: its gradient needs U⁻¹. The capture's walk of the graph meets the error; the forward
    must still return eager's result (it raised there) and the error come from backward(), as in eager."""
    w = gg.tensor([1.0, 1.0], requires_grad=True)
    forward = gg.compile(lambda x: gg.linalg.lu_factor_ex(x * w)[0].sum(0))
    singular = gg.tensor([[1.0, 2.0], [2.0, 4.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            out = forward(singular)
            assert np.array_equal(out.array, gg.linalg.lu_factor_ex(singular * w)[0].sum(0).array)
            with pytest.raises(RuntimeError, match="the gradient needs U⁻¹"):
                out.sum().backward()
    assert [str(w.message) for w in caught] == [
        "gg.compile(<lambda>): walking the returned tensor's graph raised RuntimeError: "
        f"{_lu_error()}; running it eagerly"]


def _lu_error() -> str:
    with pytest.raises(RuntimeError) as raised:
        w = gg.tensor([1.0, 1.0], requires_grad=True)
        gg.linalg.lu_factor_ex(gg.tensor([[1.0, 2.0], [2.0, 4.0]]) * w)[0].sum().backward()
    return str(raised.value)


@pytest.mark.parametrize("layer", ["multihead", "encoder", "sdpa"])
def test_attention_with_a_padding_mask_that_changes_later_replays_each_calls_mask(layer):
    """The first two batches have one padding mask, the later ones others, one with a row whose every key is
    masked: the −∞ scores and the dead rows are worked out from each call's mask (they were the captures'
    constants, so later batches were attended with the first one's padding, without a word)."""
    rng = np.random.default_rng(2)
    batches = [(rng.standard_normal((2, 4, 8)).astype(np.float32), rng.random((2, 4)) > 0.6) for _ in range(4)]
    batches[3][1][1] = True  # a sample whose every position is padding
    batches = [batches[0], *batches]

    def run(compiled):
        gg.manual_seed(0)
        if layer == "multihead":
            model = nn.MultiheadAttention(8, 2, batch_first=True)
            forward = lambda x, pad: model(x, x, x, key_padding_mask=pad, need_weights=False)[0]  # noqa: E731
        elif layer == "encoder":
            model = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
            forward = lambda x, pad: model(x, src_key_padding_mask=pad)  # noqa: E731
        else:
            model = nn.Linear(8, 8)
            forward = lambda x, pad: F.scaled_dot_product_attention(  # noqa: E731
                model(x), model(x), x, attn_mask=~pad[:, None, :])
        optimizer = gg.optim.SGD(model.parameters(), lr=0.05)

        def step(x, pad):
            optimizer.zero_grad()
            out = forward(x, pad)
            loss = (out * out).mean()
            loss.backward()
            optimizer.step()
            return loss

        step = gg.compile(step, fullgraph=True) if compiled else step
        with np.errstate(invalid="ignore"):
            losses = [step(gg.tensor(x), gg.tensor(pad)).array.copy() for x, pad in batches]
        return losses + [p.array.copy() for p in model.parameters()], step

    (eager, _), (compiled, step) = run(False), run(True)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(eager, compiled)) and _replays(step) == 3


def test_a_bool_tensor_sliced_or_reshaped_in_a_step_replays():
    """``mask[:, None]``, ``mask.reshape(…)``: a bool tensor indexed by slices is no boolean-mask indexing (its
    shape does not depend on the values); the step was refused as if it were ('getitem' with a boolean mask)."""
    w = gg.tensor(np.linspace(-1, 1, 5, dtype=np.float32), requires_grad=True)

    def step(x):
        h = x * w
        mask = (h > 0)[:, None, :].reshape(4, 5)
        loss = h.masked_fill(mask, 0.0).pow(2).sum()
        loss.backward()
        gradient = w.grad.clone()
        w.grad = None
        return gradient

    compiled = gg.compile(step, fullgraph=True)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = gg.tensor(rng.standard_normal((4, 5)), dtype=gg.float32)
        assert np.array_equal(compiled(x).array, step(x).array)
    assert _replays(compiled) == 2


def test_a_library_call_that_gives_a_numpy_number_is_worked_out_again_at_each_replay():
    """A kernel of a 0-d computation may hand back a NumPy number instead of an array: the capture makes it a 0-d
    array, a value of the step, so a replay calls the kernel again (it was a constant of the program: two captures
    that happened to get the same number made every replay reuse it, without a word)."""
    from glassgrad.autograd import recorded_call

    calls = gg.zeros(1)  # a tensor: a NumPy array read by name is guarded by its numbers, which count changes

    def count(held):  # 1, 1, 2, 3, …: the same number on the two captures, then others
        with gg.no_grad():
            held.add_(1)
        return np.float32(max(1.0, held.numpy()[0] - 1))

    w = gg.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        return (x * w * gg.as_tensor(recorded_call(count, calls))).sum()

    run = gg.compile(step)
    assert [run(gg.ones(2)).item() for _ in range(6)] == [3.0, 3.0, 6.0, 9.0, 12.0, 15.0]
    assert _replays(run) == 4
