"""Higher-order and unusual autograd inside ``gg.compile``d training steps, against the same steps run eagerly.

Each step is run eagerly and compiled from one seed over calls whose batches change; every returned value, weight and
``.grad`` is compared bit for bit after every call. The holes fixed here (each test named ``…_hole``):

* ``p.grad.data = p.grad.data * 0.5`` before ``opt.step()`` replayed the update with the unscaled gradient (a replay
  makes ``p.grad`` anew from the store, never rebinding its array): ``t.data = …`` inside a step now runs it eagerly,
  saying that it gives a tensor other memory, as ``set_`` did;
* ``loss.backward(scale)`` and ``autograd.grad(out, params, grad_outputs=w)`` copied the given tensor in Python, a
  constant to the replay: a loss scale or weights changed in place between calls were replayed with the captures'
  numbers; the copy is a kernel now (and a ∂L/∂out made from the batch, which ran the step eagerly, replays);
* ``checkpoint(trunk, x, use_reentrant=True)`` with an ``x`` that needs no gradient leaves the trunk without one in
  eager (PyTorch's warning), but ran it with gradients while captured: the compiled step trained the trunk.

Pinned: gradient penalties (WGAN-GP, R1) and MAML run eagerly saying ``create_graph=True``; first-order MAML, PGD
by ``autograd.grad``, SAM, PCGrad, GradNorm, DP-SGD's per-sample clipping by ``vmap(grad)``, batched gradients,
``autograd.functional.jacobian``, two backward calls with ``retain_graph``, accumulation without ``zero_grad``,
``.grad`` scaled, clamped, assigned and added to by hand replay; custom ``autograd.Function``s, ``retain_grad``,
``backward(inputs=…)``, ``detach_()``, a leaf made in the step given ``.grad`` by ``backward()`` and
``gg.autograd.backward([l1, l2])`` (whose message named only ``inputs=`` and ``create_graph``, now it too) run
eagerly, saying why.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_compile import _replays

import glassgrad as gg
import glassgrad.func as gf
from glassgrad.utils.checkpoint import checkpoint

CALLS = 9


def _mlp(seed=0):
    gg.manual_seed(seed)
    return gg.nn.Sequential(gg.nn.Linear(3, 5), gg.nn.Tanh(), gg.nn.Linear(5, 1)).double()


def _both(make, words=None, between=None, args=1):
    """``make()`` gives (step, state[, held]): run eagerly and compiled over changing batches, ``between(i, held)``
    after call i; every returned tensor and every tensor ``state()`` lists equal bit for bit after each call.
    ``words``: the compiled step's one warning says them (else it warns nothing). Gives the compiled step."""
    runs = []
    for wrap in (lambda step: step, gg.compile):
        step, state, *held = make()
        step = wrap(step)
        rng, seen = np.random.default_rng(7), []
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            for i in range(CALLS):
                out = step(*(gg.tensor(rng.standard_normal((4, 3))) for _ in range(args)))
                for t in (*(out if isinstance(out, tuple) else (out,)), *state()):
                    seen.append(None if t is None else np.array(t.detach().numpy(), copy=True))
                if between:
                    between(i, *held)
        runs.append((seen, [str(w.message) for w in said if "gg.compile" in str(w.message)], step))
    (eager, _, _), (compiled, said, step) = runs
    for mine, theirs in zip(compiled, eager, strict=True):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs)
    if words is None:
        assert said == [] and _replays(step) >= CALLS - 3  # a .grad None at the first call only: three captures
    else:
        assert len(said) == 1 and words in said[0] and _replays(step) == 0
    return step


def _sgd(model, **options):
    return gg.optim.SGD(model.parameters(), lr=1e-2, **options)


def _weights_and_grads(d):
    return lambda: [*d.parameters(), *(p.grad for p in d.parameters())]


def _with_model(momentum=0.0, adam=False):
    """A maker from ``body(d, opt, x)``: a fresh model and its optimizer at each make, the step ``body`` on them, the
    state their weights and ``.grad``."""
    def maker(body):
        def make():
            d = _mlp()
            opt = gg.optim.Adam(d.parameters(), lr=1e-2) if adam else _sgd(d, momentum=momentum)

            def step(x):
                return body(d, opt, x)

            return step, _weights_and_grads(d)
        return make
    return maker


# --- the holes --------------------------------------------------------------------------------------------------


@_with_model()
def _grad_data_halved(d, opt, x):
    opt.zero_grad()
    loss = d(x).pow(2).mean()
    loss.backward()
    for p in d.parameters():
        p.grad.data = p.grad.data * 0.5
    opt.step()
    return loss


def test_grad_data_assigned_before_the_update_runs_eagerly_hole():
    _both(_grad_data_halved, "t.data = … gives a tensor other memory")


@_with_model()
def _data_in_place(d, opt, x):
    for p in d.parameters():
        p.grad = None
    loss = d(x).pow(2).mean()
    loss.backward()
    for p in d.parameters():
        p.grad.data *= 0.5  # Python's p.grad.data = p.grad.data.__imul__(0.5): the same memory, assigned back
        p.data += -0.1 * p.grad  # makemore's update
    return loss


def test_data_changed_in_place_and_assigned_back_replays():
    _both(_data_in_place)


def _scaled_by_a_global():
    d = _mlp()
    opt = _sgd(d)
    scale = gg.tensor(64.0, dtype=gg.float64)

    def step(x):
        opt.zero_grad()
        loss = d(x).pow(2).mean()
        loss.backward(scale)
        for p in d.parameters():
            p.grad.div_(scale)
        opt.step()
        return loss

    return step, _weights_and_grads(d), scale


def _weighted_rows(dtype):
    def make():
        d = _mlp()
        w = gg.ones(4, 1, dtype=dtype)

        def step(x):
            out = d(x)
            grads = gg.autograd.grad(out, list(d.parameters()), grad_outputs=w)
            with gg.no_grad():
                for p, g in zip(d.parameters(), grads):
                    p -= 0.01 * g
            return out

        return step, lambda: list(d.parameters()), w

    return make


def _weighted_backward(dtype):
    def make():
        d = _mlp()
        opt = _sgd(d)
        w = gg.ones(4, 1, dtype=dtype)

        def step(x):
            opt.zero_grad()
            out = d(x)
            out.backward(gradient=w)
            opt.step()
            return out

        return step, _weights_and_grads(d), w

    return make


def _changed_in_place(i, held):
    if i in (4, 6):
        with gg.no_grad():
            held.mul_(0.5)


@pytest.mark.parametrize("make", [_scaled_by_a_global, _weighted_rows(gg.float64), _weighted_backward(gg.float64),
                                  _weighted_backward(gg.float32)],
                         ids=["backward(scale)", "grad(grad_outputs=w)", "backward(gradient=w)",
                              "backward(gradient=float32 w), cast"])
def test_a_given_gradient_changed_in_place_between_calls_is_read_at_each_replay_hole(make):
    _both(make, between=_changed_in_place)


def _weighted_by_the_batch(how):
    @_with_model()
    def make(d, opt, x):
        opt.zero_grad()
        out = d(x)
        if how == "grad":
            for p, g in zip(d.parameters(), gg.autograd.grad(out, list(d.parameters()), grad_outputs=x[:, :1])):
                p.grad = g
        elif how == "mask":  # a bool ∂L/∂out, cast to the output's dtype
            out.backward(gradient=x[:, :1] > 0)
        else:
            out.backward(gradient=gg.ones_like(out) * x[:, :1])
        opt.step()
        return out

    return make


@pytest.mark.parametrize("how", ["backward", "mask", "grad"],
                         ids=["backward(gradient=…)", "backward(gradient=a bool mask)", "grad(grad_outputs=…)"])
def test_a_given_gradient_made_from_the_batch_replays_hole(how):
    """It ran eagerly: 'an array … that no op of the call made held other numbers on the next call' (a conservative
    refusal, the copy being made outside the kernels)."""
    _both(_weighted_by_the_batch(how))


def _checkpointed_trunk():
    gg.manual_seed(0)
    trunk, head = gg.nn.Sequential(gg.nn.Linear(3, 5), gg.nn.Tanh()).double(), gg.nn.Linear(5, 1).double()
    opt = gg.optim.SGD([*trunk.parameters(), *head.parameters()], lr=1e-2)

    def step(x):
        opt.zero_grad()
        loss = head(checkpoint(trunk, x, use_reentrant=True)).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    return step, lambda: [*trunk.parameters(), *head.parameters(), trunk[0].weight.grad]


def test_reentrant_checkpoint_of_an_input_without_grad_leaves_the_trunk_untrained_hole():
    """PyTorch's trap: use_reentrant=True and no input requiring grad, so the segment gives no gradient (a warning
    says so); the compiled step trained the trunk, its capture running the segment with gradients."""
    _both(_checkpointed_trunk)


# --- pinned: what replays -----------------------------------------------------------------------------------------


@_with_model()
def _fomaml(d, opt, x):
    opt.zero_grad()
    params = dict(d.named_parameters())
    inner = gf.functional_call(d, params, (x,)).pow(2).mean()
    grads = gg.autograd.grad(inner, list(params.values()))
    fast = {k: v - 0.1 * g.detach() for (k, v), g in zip(params.items(), grads)}
    outer = gf.functional_call(d, fast, (x * 2,)).pow(2).mean()
    outer.backward()
    opt.step()
    return outer


@_with_model()
def _pgd(d, opt, x):
    x_adv = x.clone()
    for _ in range(3):
        x_adv.requires_grad_()
        (g,) = gg.autograd.grad(d(x_adv).pow(2).mean(), [x_adv])
        x_adv = (x_adv + 0.05 * g.sign()).detach()
        x_adv = gg.min(gg.max(x_adv, x - 0.1), x + 0.1)
    opt.zero_grad()
    loss = d(x_adv).pow(2).mean()
    loss.backward()
    opt.step()
    return loss, x_adv


@_with_model()
def _two_backwards(d, opt, x):
    opt.zero_grad()
    out = d(x)
    first, second = out.pow(2).mean(), out.abs().mean()
    first.backward(retain_graph=True)
    second.backward()
    opt.step()
    return first, second


def _accumulating():
    d = _mlp()

    def step(x):
        d(x).pow(2).mean().backward()
        return d[0].weight.grad.clone()

    return step, _weights_and_grads(d)


@_with_model(momentum=0.9)
def _grads_by_hand(d, opt, x):
    opt.zero_grad(set_to_none=False)
    loss = d(x).pow(2).mean()
    loss.backward()
    for p in d.parameters():
        p.grad = p.grad.clone() * 0.5
    d[0].weight.grad.mul_(2.0)
    d[0].bias.grad.data.clamp_(-0.01, 0.01)
    opt.step()
    return loss


@_with_model(adam=True)
def _summed_by_hand(d, opt, x):
    opt.zero_grad()
    for p in d.parameters():
        p.grad = gg.zeros_like(p)
    for part in (x[:2], x[2:]):
        for p, g in zip(d.parameters(), gg.autograd.grad(d(part).pow(2).mean(), list(d.parameters()))):
            p.grad += g
    opt.step()


def _universal_perturbation():
    d = _mlp()
    delta = gg.zeros(1, 3, dtype=gg.float64, requires_grad=True)

    def step(x):
        loss = d(x + delta).pow(2).mean()
        loss.backward()
        with gg.no_grad():
            delta.add_(0.01 * delta.grad.sign())
            delta.clamp_(-0.1, 0.1)
        delta.grad.zero_()
        return loss

    return step, lambda: [delta, delta.grad, *(p.grad for p in d.parameters())]


@_with_model()
def _frozen_for_one_loss(d, opt, x):
    opt.zero_grad()
    for p in d[0].parameters():
        p.requires_grad_(False)
    first = d(x).pow(2).mean()
    first.backward()
    for p in d[0].parameters():
        p.requires_grad_(True)
    second = d(x).abs().mean()
    second.backward()
    opt.step()
    return first, second


@_with_model(momentum=0.9)
def _sam(d, opt, x):
    opt.zero_grad()
    loss = d(x).pow(2).mean()
    loss.backward()
    params = list(d.parameters())
    norm = gg.stack([p.grad.norm(2) for p in params]).norm(2)
    steps = []
    with gg.no_grad():
        for p in params:
            e = p.grad * (0.05 / (norm + 1e-12))
            p.add_(e)
            steps.append(e)
    opt.zero_grad()
    sharp = d(x).pow(2).mean()
    sharp.backward()
    with gg.no_grad():
        for p, e in zip(params, steps):
            p.sub_(e)
    opt.step()
    return loss, sharp


@_with_model()
def _pcgrad(d, opt, x):
    out = d(x)
    first, second = out.pow(2).mean(), (out - 1).abs().mean()
    params = list(d.parameters())
    f1 = gg.cat([g.reshape(-1) for g in gg.autograd.grad(first, params, retain_graph=True)])
    f2 = gg.cat([g.reshape(-1) for g in gg.autograd.grad(second, params)])
    dot = (f1 * f2).sum()
    total = gg.where(dot < 0, f1 - dot / (f2 * f2).sum() * f2, f1) + f2
    start = 0
    for p in params:
        p.grad = total[start:start + p.numel()].reshape(p.shape).clone()
        start += p.numel()
    opt.step()
    return first, second, dot


def _gradnorm():
    d = _mlp()
    opt = gg.optim.Adam(d.parameters(), lr=1e-2)
    weights = gg.ones(2, dtype=gg.float64, requires_grad=True)
    wopt = gg.optim.Adam([weights], lr=1e-2)

    def step(x):
        out = d(x)
        losses = gg.stack([out.pow(2).mean(), (out - 1).abs().mean()])
        norms = gg.stack([gg.autograd.grad(weights[i] * losses[i], d[2].weight, retain_graph=True)[0].norm()
                          for i in range(2)])
        opt.zero_grad()
        wopt.zero_grad()
        (weights * losses.detach()).sum().backward(retain_graph=True)
        (weights.detach() * losses).sum().backward()
        opt.step()
        wopt.step()
        return norms

    return step, lambda: [*d.parameters(), weights, weights.grad]


@_with_model()
def _dp_sgd(d, opt, x):
    params = {k: v.detach() for k, v in d.named_parameters()}

    def loss_of(p, row):
        return gf.functional_call(d, p, (row[None],)).pow(2).sum()

    per_sample = gf.vmap(gf.grad(loss_of), in_dims=(None, 0))(params, x)
    norms = gg.stack([g.reshape(4, -1).norm(dim=1) for g in per_sample.values()]).norm(dim=0)
    factor = 1.0 / (norms / 0.5).clamp(min=1.0)
    opt.zero_grad()
    for k, p in d.named_parameters():
        g = per_sample[k]
        p.grad = (g * factor.reshape(-1, *([1] * (g.dim() - 1)))).sum(0)
    opt.step()
    return norms


def _jacobians():
    d = _mlp()

    def step(x):
        rows = gg.autograd.grad(d(x), d[0].weight, grad_outputs=gg.eye(4, dtype=gg.float64).reshape(4, 4, 1),
                                is_grads_batched=True)[0]
        return rows, gg.autograd.functional.jacobian(lambda z: d(z).sum(0), x)

    return step, lambda: list(d.parameters())


def _in_place_functional():
    d = _mlp()
    params = {k: v.detach() for k, v in d.named_parameters()}

    def step(x):
        grads, loss = gf.grad_and_value(lambda p, x: gf.functional_call(d, p, (x,)).pow(2).mean())(params, x)
        with gg.no_grad():
            for k in params:
                params[k].sub_(0.01 * grads[k])
        return loss

    return step, lambda: list(params.values())


REPLAYED = {"first-order MAML": _fomaml, "PGD by autograd.grad": _pgd, "two backwards, retain_graph": _two_backwards,
            "accumulating without zero_grad": _accumulating, ".grad scaled, mul_, data.clamp_": _grads_by_hand,
            "p.grad += g by hand": _summed_by_hand, "universal perturbation": _universal_perturbation,
            "requires_grad_(False) for one loss": _frozen_for_one_loss, "SAM": _sam, "PCGrad": _pcgrad,
            "GradNorm": _gradnorm, "DP-SGD vmap(grad)": _dp_sgd, "is_grads_batched, jacobian": _jacobians,
            "func.grad_and_value, in place": _in_place_functional}


@pytest.mark.parametrize("make", REPLAYED.values(), ids=REPLAYED.keys())
def test_replays_with_eagers_numbers(make):
    _both(make)


# --- pinned: what runs eagerly, saying why --------------------------------------------------------------------------


def _penalised(kind):
    def make():
        d = _mlp()
        opt = gg.optim.Adam(d.parameters(), lr=1e-2)

        def step(real, fake):
            opt.zero_grad()
            if kind == "wgan-gp":
                a = gg.rand(real.shape[0], 1, dtype=real.dtype)
                mixed = (a * real + (1 - a) * fake).requires_grad_()
                (g,) = gg.autograd.grad(d(mixed).sum(), mixed, create_graph=True)
                loss = d(fake).mean() - d(real).mean() + 10 * ((g.norm(2, dim=1) - 1) ** 2).mean()
            elif kind == "r1":
                real = real.detach().requires_grad_(True)
                out = d(real)
                (g,) = gg.autograd.grad(out.sum(), real, create_graph=True)
                loss = gg.nn.functional.softplus(-out).mean() + 5 * g.pow(2).sum(1).mean()
            else:  # MAML: fast weights through the inner gradient
                params = dict(d.named_parameters())
                grads = gg.autograd.grad(gf.functional_call(d, params, (real,)).pow(2).mean(), list(params.values()),
                                         create_graph=True)
                fast = {k: v - 0.1 * g for (k, v), g in zip(params.items(), grads)}
                loss = gf.functional_call(d, fast, (fake,)).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        return step, _weights_and_grads(d)

    return make


@pytest.mark.parametrize("kind", ["wgan-gp", "r1", "maml"])
def test_second_derivatives_run_eagerly(kind):
    _both(_penalised(kind), "create_graph=True", args=2)


class _ScaledByItsMax(gg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.scale = float(x.abs().max())
        return x / ctx.scale

    @staticmethod
    def backward(ctx, g):
        return g / ctx.scale


def _refused(kind):
    @_with_model()
    def make(d, opt, x):
        opt.zero_grad()
        if kind == "function":
            loss = _ScaledByItsMax.apply(d(x)).pow(2).mean()
            loss.backward()
        elif kind == "retain_grad":
            h = d[0](x)
            h.retain_grad()
            loss = d[2](d[1](h)).pow(2).mean()
            loss.backward()
            opt.step()
            return loss, h.grad
        elif kind == "inputs":
            loss = d(x).pow(2).mean()
            loss.backward(inputs=[d[2].weight])
        elif kind == "several":
            out = d(x)
            loss = out.pow(2).mean()
            gg.autograd.backward([loss, out.abs().mean()])
        elif kind == "detach_":
            x_adv = x.clone()
            for _ in range(2):
                x_adv.requires_grad_()
                d(x_adv).pow(2).mean().backward()
                x_adv = x_adv + 0.05 * x_adv.grad.sign()
                x_adv.detach_()
            opt.zero_grad()
            loss = d(x_adv).pow(2).mean()
            loss.backward()
        elif kind == "saliency":
            x = x.clone().requires_grad_()
            loss = d(x).sum()
            loss.backward()
            return loss, x.grad.abs()
        else:  # p.data = … (an update written by hand)
            loss = d(x).pow(2).mean()
            loss.backward()
            for p in d.parameters():
                p.data = p.data - 0.01 * p.grad
        opt.step()
        return loss

    return make


@pytest.mark.parametrize("kind, words", [
    ("function", "custom autograd.Function '_ScaledByItsMax'"), ("retain_grad", "retain_grad()"),
    ("inputs", "backward(inputs=…)"), ("several", "gg.autograd.backward of several tensors at once"),
    ("detach_", "detach_()"), ("saliency", "a leaf made inside the step"),
    ("data", "t.data = … gives a tensor other memory")])
def test_what_a_replay_cannot_repeat_runs_eagerly(kind, words):
    _both(_refused(kind), words)
