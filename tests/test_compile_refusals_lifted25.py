"""Two refusals the random training programs met most often, lifted: ``nn.Embedding(max_norm=…)`` and glassgrad's own
forward pre-hooks (the old-style ``spectral_norm``, ``prune``, ``weight_norm``).

``max_norm`` rescales, in place, the rows a batch reads whose norm exceeds it: which rows, and whether the table
changes at all (and its version counts a change), depends on the values. It ran every compiled step eagerly; it is now
one kernel of the step, worked out again at every call. The oracle is eager: each step run on two identical copies of
its state, one eagerly, one compiled, with batches that change from the third call on (the first two are one batch);
every result, parameter, ``.grad`` and optimizer state must be eager's bit for bit, and the compiled run must replay.

The hooks ran every step calling such a layer eagerly ("has a forward hook"). Their work is ops, recorded as the
forward's are; spectral norm's power iteration (Python on the values) is one kernel, and the weight each binds to
``layer.weight`` is bound by a kernel too, so that it holds that call's numbers after a replay. A user's own hook still
refuses, and so does a hook registered after the captures; the hooks themselves, their settings, the mask and the
vectors u, v are guarded.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_compile_random_models23 import _snap

import glassgrad as gg
from glassgrad import nn
from glassgrad.nn import functional as F

CALLS = 9


def _state(model, opt):
    weights = [vars(layer)["weight"] for layer in model.modules() if "weight" in vars(layer)]  # a hook's, bound
    return (_snap([p for p in model.parameters()]), _snap([p.grad for p in model.parameters()]),  # at each call too
            _snap(list(model.buffers())), _snap(opt.state_dict()["state"]), _snap(weights))


def _run(build, batch, compiled, whole, optimizer, mode, dtype, calls=CALLS, between=None):
    """Each call's results and state; the number of replays (0 eagerly). ``between(call, model)``: done before each
    call, outside it."""
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
        if between is not None:
            between(call, model)
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
def test_embedding_max_norm_replays_renormalising_as_eager_does(whole, optimizer, dtype):
    _agrees(_Bag, _tokens, whole, optimizer, "train", dtype)


@pytest.mark.parametrize("optimizer, dtype", [("sgd", gg.float32), ("adam", gg.float64)])
@pytest.mark.parametrize("whole", [True, False], ids=["step", "model"])
@pytest.mark.parametrize("name", ["padding_idx, scale_grad_by_freq", "F.embedding, norm_type=1"])
def test_embedding_max_norm_variants_replay_too(name, whole, optimizer, dtype):
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


# --- glassgrad's own forward pre-hooks -----------------------------------------------------------------------------

def _features(call, dtype):
    return gg.tensor(np.random.default_rng(call).standard_normal((5, 4)), dtype=dtype)


def _mlp(wrap):
    def build():
        model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
        wrap(model[0])
        return model
    return build


def _weight_norm(layer):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(layer)


HOOKED = {
    "spectral_norm": lambda layer: nn.utils.spectral_norm(layer),
    "spectral_norm, 3 power iterations": lambda layer: nn.utils.spectral_norm(layer, n_power_iterations=3),
    "l1_unstructured": lambda layer: nn.utils.prune.l1_unstructured(layer, "weight", amount=0.4),
    "ln_structured then random_unstructured": lambda layer: (
        nn.utils.prune.ln_structured(layer, "weight", amount=1, n=2, dim=0),
        nn.utils.prune.random_unstructured(layer, "weight", amount=0.3)),
    "weight_norm": _weight_norm,
}


@pytest.mark.parametrize("dtype", [gg.float32, gg.float64])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("whole", [True, False], ids=["step", "model"])
@pytest.mark.parametrize("name", ["spectral_norm", "l1_unstructured"])
def test_a_layer_with_a_library_pre_hook_replays_as_eager_runs(name, whole, optimizer, dtype):
    _agrees(_mlp(HOOKED[name]), _features, whole, optimizer, "train", dtype)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", list(HOOKED))
def test_each_library_pre_hook_replays_in_train_and_eval(name, mode):
    _agrees(_mlp(HOOKED[name]), _features, True, "adam", mode, gg.float64)


def _outcome(build, between, optimizer="sgd", calls=CALLS):
    """Eager's and the compiled run's calls compared; the compiled run's replays and warnings."""
    eager, _ = _run(build, _features, False, True, optimizer, "train", gg.float32, calls, between)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        compiled, replays = _run(build, _features, True, True, optimizer, "train", gg.float32, calls, between)
    for call, (mine, theirs) in enumerate(zip(compiled, eager, strict=True)):
        assert mine == theirs, f"call {call} differs from eager's"
    return replays, [str(w.message) for w in said]


def test_a_users_own_pre_hook_still_runs_the_step_eagerly():
    def build():
        model = _mlp(HOOKED["spectral_norm"])()
        model[0].register_forward_pre_hook(lambda layer, inputs: (inputs[0] * 2,))
        return model
    replays, said = _outcome(build, None)
    assert replays == 0 and any("has a forward hook" in message for message in said), said


def test_a_hook_registered_after_the_captures_ends_the_replays():
    seen = []

    def between(call, model):
        if call == 5:
            model[0].register_forward_pre_hook(lambda layer, inputs: seen.append(call))
    replays, said = _outcome(_mlp(HOOKED["spectral_norm"]), between)
    assert replays == 3 and any("has a forward hook" in message for message in said), said
    assert len(seen) == 2 * (CALLS - 5)  # at each call from then on, eager's and the compiled run's


@pytest.mark.parametrize("change", ["n_power_iterations", "eps", "prune.remove", "pruned again", "new mask"])
def test_a_hooks_setting_or_mask_changed_between_calls_is_followed(change):
    wrap = HOOKED["spectral_norm" if change in ("n_power_iterations", "eps") else "l1_unstructured"]

    def between(call, model):
        if call != 5:
            return
        layer = model[0]
        if change in ("n_power_iterations", "eps"):
            hook = next(iter(layer._forward_pre_hooks.values()))
            setattr(hook, change, 4 if change == "n_power_iterations" else 0.5)
        elif change == "prune.remove":
            nn.utils.prune.remove(layer, "weight")
        elif change == "pruned again":
            nn.utils.prune.l1_unstructured(layer, "weight", amount=0.3)
        else:
            layer.weight_mask.zero_()
    replays, said = _outcome(_mlp(wrap), between)
    assert said == [] and replays >= 4


class _ByHand(nn.utils.prune.BasePruningMethod):
    """A pruning method of the user's own: its mask (worked out once, outside the step) is applied by the library's
    hook, which replays; one that applies it itself runs its own Python."""

    def compute_mask(self, t, default_mask):
        return default_mask * (t.abs() > 0.2)


class _AppliedByHand(_ByHand):
    def apply_mask(self, module):
        return module.weight_orig * module.weight_mask * 0.5


@pytest.mark.parametrize("method, replays", [(_ByHand, True), (_AppliedByHand, False)])
def test_a_users_pruning_method_replays_unless_it_applies_the_mask_itself(method, replays):
    replayed, said = _outcome(_mlp(lambda layer: method.apply(layer, "weight")), None)
    assert (replayed > 0 and said == []) if replays else (replayed == 0 and any("forward hook" in m for m in said))


def test_a_gan_discriminator_with_spectral_norm_on_its_convs_trains_with_a_compiled_step():
    """A DCGAN-like pair: the discriminator's convolutions and read-out spectral-normed, one compiled step training
    both (hinge loss), against eager bit for bit."""
    def run(compiled):
        gg.manual_seed(0)
        sn = nn.utils.spectral_norm
        critic = nn.Sequential(sn(nn.Conv2d(1, 4, 3, stride=2, padding=1)), nn.LeakyReLU(0.2),
                               sn(nn.Conv2d(4, 8, 3, stride=2, padding=1)), nn.LeakyReLU(0.2), nn.Flatten(),
                               sn(nn.Linear(32, 1)))
        maker = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Unflatten(1, (1, 8, 8)), nn.Tanh())
        d_opt = gg.optim.Adam(critic.parameters(), lr=2e-3, betas=(0.0, 0.9))
        g_opt = gg.optim.Adam(maker.parameters(), lr=2e-3, betas=(0.0, 0.9))

        def step(real, z):
            d_opt.zero_grad()
            fake = maker(z)
            d_loss = F.relu(1 - critic(real)).mean() + F.relu(1 + critic(fake.detach())).mean()
            d_loss.backward()
            d_opt.step()
            g_opt.zero_grad()
            g_loss = -critic(maker(z)).mean()
            g_loss.backward()
            g_opt.step()
            return d_loss, g_loss

        run = gg.compile(step) if compiled else step
        seen = []
        for call in range(CALLS):
            numbers = np.random.default_rng(max(call - 1, 0))
            losses = run(gg.tensor(numbers.standard_normal((4, 1, 8, 8)), dtype=gg.float32),
                         gg.tensor(numbers.standard_normal((4, 3)), dtype=gg.float32))
            seen.append((_snap(losses), _state(critic, d_opt), _state(maker, g_opt)))
        return seen, sum(entry.replays for entry in run.entries.values()) if compiled else 0

    eager, _ = run(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled, replays = run(True)
    assert compiled == eager and replays == CALLS - 2
