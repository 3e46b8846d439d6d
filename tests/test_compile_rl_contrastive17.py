"""Reinforcement-learning and representation-learning training steps inside ``gg.compile``: DQN (Q-values gathered
by actions, a target net under no_grad, ``done`` as a float or a bool tensor, epsilon-greedy by ``gg.where``,
prioritised replay), REINFORCE, A2C, PPO's minibatch epochs, SAC, GAE, SimCLR's NT-Xent, CLIP, Barlow Twins, triplet
losses with hardest negatives, knowledge distillation and a Siamese encoder, in a compiled step and through a compiled
model. Each is trained for several calls eagerly and compiled from one seed; the two captures meet the same batch, the
calls after them other batches of that shape (ties in the distances; an action out of range or a negative scale, which
must raise at the same call). Every returned value, weight, ``.grad``, buffer and optimizer state equals eager's bit
for bit; where a replay cannot follow (a temperature or epsilon read from a global changed between calls, an ``if`` on
a tensor, ``.data =`` in a momentum update, an in-place change of a diagonal view, a boolean-mask index, a compiled
actor returning a Distribution) the step runs eagerly saying why, and still equals eager. Nothing here failed on
ab6d670: these pin what already behaved.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from test_compile_vision16 import _flat

import glassgrad as gg

nn = gg.nn
F = nn.functional
CALLS = 9
N, S, A = 6, 4, 3
G = {"gamma": 0.9, "eps": 0.5, "T": 0.5}


def batches(ties: bool = False):
    """States, actions, rewards, next states, dones: the captures' two calls one batch, the later calls others."""
    rng = np.random.default_rng(3)

    def one(call):
        s = rng.standard_normal((N, S)).astype(np.float32)
        if ties and call >= 3:
            s[1], s[3] = s[0], s[2]
        if ties and call == 5:
            s[:] = 0
        return (
            gg.tensor(s),
            gg.tensor(rng.integers(0, A, N)),
            gg.tensor(rng.standard_normal(N).astype(np.float32)),
            gg.tensor(rng.standard_normal((N, S)).astype(np.float32)),
            gg.tensor((rng.random(N) < 0.3).astype(np.float32)),
        )

    first = one(0)
    return [first if call < 2 else one(call) for call in range(CALLS)]


def _run(make, data, compiled, before):
    G.update(gamma=0.9, eps=0.5, T=0.5)
    gg.manual_seed(0)
    step, state = make()
    run = gg.compile(step) if compiled else step
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen = []
        for call, batch in enumerate(data):
            if before:
                before(call)
            seen.append(_flat(run(*batch)))
    replays = sum(entry.replays for entry in run.entries.values()) if compiled else 0
    return seen, _flat(state()), replays, [str(w.message) for w in caught if "gg.compile" in str(w.message)]


def _agree(make, data=None, before=None):
    """Eager and compiled runs equal bit for bit (NaN where NaN); gives the compiled run's replays and warnings."""
    data = data or batches()
    eager, eager_state, _, _ = _run(make, data, False, before)
    compiled, compiled_state, replays, messages = _run(make, data, True, before)
    for call, (mine, theirs) in enumerate(zip(compiled, eager, strict=True)):
        assert len(mine) == len(theirs), call
        for a, b in zip(mine, theirs):
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), call
    assert len(compiled_state) == len(eager_state)
    for a, b in zip(compiled_state, eager_state):
        assert np.array_equal(a, b, equal_nan=True)
    return replays, messages


def _replayed(make, data=None, before=None):
    replays, messages = _agree(make, data, before)
    assert replays == CALLS - 2 and not messages, messages


def _refused(make, words, before=None):
    replays, messages = _agree(make, before=before)
    assert replays == 0 and any(words in message for message in messages), messages


def qnet():
    return nn.Sequential(nn.Linear(S, 8), nn.ReLU(), nn.Linear(8, A))


def state_of(*modules, opt):
    return lambda: (
        [list(m.parameters()) for m in modules],
        [[p.grad for p in m.parameters()] for m in modules],
        [list(m.buffers()) for m in modules],
        opt.state_dict(),
    )


def _trainer(*nets, optimizer=gg.optim.SGD, trained=1, **settings):
    """The ``make`` of a step: ``body(*modules, s, a, r, s2, d)`` gives the loss (and what else the step returns),
    which the step backpropagates before the optimizer (over the first ``trained`` modules) steps."""

    def wrap(body):
        def make():
            modules = [net() for net in nets]
            opt = optimizer([p for module in modules[:trained] for p in module.parameters()], **settings)

            def step(*batch):
                result = body(*modules, *batch)
                opt.zero_grad()
                (result[0] if isinstance(result, tuple) else result).backward()
                opt.step()
                return result

            return step, state_of(*modules, opt=opt)

        return make

    return wrap


@_trainer(qnet, lr=0.1)
def eps_greedy_where(q, s, a, r, s2, d):
    qs = q(s)
    act = gg.where(gg.rand(N) < G["eps"], gg.randint(0, A, (N,)), qs.argmax(1))
    return -(qs.gather(1, act[:, None]).squeeze(1) * r).mean(), act


@_trainer(qnet, lr=0.1)
def eps_greedy_python(q, s, a, r, s2, d):
    qs = q(s)
    act = gg.randint(0, A, (N,)) if gg.rand(()) < G["eps"] else qs.argmax(1)
    return -(qs.gather(1, act[:, None]).squeeze(1) * r).mean(), act


@_trainer(qnet, lr=0.1)
def eps_scalar_where(q, s, a, r, s2, d, eps):
    qs = q(s)
    act = gg.where(gg.rand(()) < eps, gg.randint(0, A, (N,)), qs.argmax(1))
    return -(qs.gather(1, act[:, None]).squeeze(1) * r).mean(), act


def reinforce(a2c=False):
    @_trainer(qnet, lambda: nn.Linear(S, 1), optimizer=gg.optim.Adam, trained=2 if a2c else 1, lr=0.01)
    def body(pol, v, s, a, r, s2, d):
        dist = gg.distributions.Categorical(logits=pol(s))
        act = dist.sample()
        lp, ent = dist.log_prob(act), dist.entropy().mean()
        if not a2c:
            ret = (r - r.mean()) / (r.std() + 1e-8)
            return -(lp * ret).sum() - 0.01 * ent, act, ent
        val = v(s).squeeze(-1)
        adv = r - val.detach()
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        return -(lp * adv).mean() + 0.5 * F.mse_loss(val, r) - 0.01 * ent, act, ent

    return body


def _pairs():
    """Each view's index of the other view: the positives of NT-Xent."""
    return gg.cat([gg.arange(N, 2 * N), gg.arange(0, N)])


@_trainer(lambda: nn.Sequential(nn.Linear(S, 8), nn.ReLU(), nn.Linear(8, 5)), lr=0.1, momentum=0.9)
def simclr(enc, s, a, r, s2, d):
    z = F.normalize(enc(gg.cat([s, s2])), dim=1)
    sim = (z @ z.T / G["T"]).masked_fill(gg.eye(2 * N, dtype=gg.bool), float("-inf"))
    return F.cross_entropy(sim, _pairs()), sim


@_trainer(lambda: nn.Sequential(nn.Linear(S, 8), nn.Tanh(), nn.Linear(8, 5)), optimizer=gg.optim.AdamW, lr=0.01)
def simclr_cos(enc, s, a, r, s2, d):
    z = enc(gg.cat([s, s2]))
    sim = F.cosine_similarity(z[:, None, :], z[None, :, :], dim=-1) / G["T"]
    sim = sim.masked_fill(gg.eye(2 * N, dtype=bool), -float("inf"))
    return -sim.log_softmax(1)[gg.arange(2 * N), _pairs()].mean()


def triplet(kind="argmax"):
    @_trainer(lambda: nn.Sequential(nn.Linear(S, 8), nn.ReLU(), nn.Linear(8, 4)), optimizer=gg.optim.Adam, lr=0.01)
    def body(enc, s, a, r, s2, d):
        e = enc(s)
        dist = gg.cdist(e, e)
        same = a[:, None] == a[None, :]
        pos_d = dist.masked_fill(~same, float("-inf")).max(1).values
        neg_i = (-dist).masked_fill(same, float("-inf")).argmax(1)
        if kind == "argmax":
            neg_d = dist.gather(1, neg_i[:, None]).squeeze(1)
            neg_d = gg.where(same.all(1), gg.full_like(neg_d, 10.0), neg_d)
            return F.relu(pos_d - neg_d + 0.3).mean(), dist
        if kind == "topk":
            neg_d, _ = dist.masked_fill(same, float("inf")).topk(2, dim=1, largest=False)
            neg_d = gg.where(gg.isinf(neg_d), gg.full_like(neg_d, 10.0), neg_d)
            return F.relu(pos_d[:, None] - neg_d + 0.3).mean(), dist
        return F.triplet_margin_loss(e, e[dist.masked_fill(~same, -1).argmax(1)], e[neg_i], margin=0.3), dist

    return body


def _teacher():
    return nn.Sequential(nn.Linear(S, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, A)).eval()


@_trainer(lambda: nn.Sequential(nn.Linear(S, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, A)), _teacher, lr=0.1)
def kd(student, teacher, s, a, r, s2, d):
    with gg.no_grad():
        t = teacher(s)
    o = student(s)
    T = G["T"] * 4
    loss = F.kl_div(F.log_softmax(o / T, dim=1), F.softmax(t / T, dim=1), reduction="batchmean") * T * T
    return 0.7 * loss + 0.3 * F.cross_entropy(o, a)


@_trainer(
    lambda: nn.Sequential(nn.Linear(S, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4)),
    optimizer=gg.optim.Adam,
    lr=0.01,
)
def siamese(enc, s, a, r, s2, d):
    e1, e2 = enc(s), enc(s2)
    dist = F.pairwise_distance(e1, e2)
    contrastive = (d * dist.pow(2) + (1 - d) * F.relu(1.0 - dist).pow(2)).mean()
    cosine = F.cosine_embedding_loss(e1, e2, 2 * d - 1)
    return contrastive + cosine, contrastive, cosine


@_trainer(qnet, lr=0.1)
def bool_done(q, s, a, r, s2, d):
    done = d.bool()
    with gg.no_grad():
        t = r + 0.9 * q(s2).max(1)[0] * (~done)
        t2 = r + 0.9 * q(s2).amax(1) * done.logical_not().float()
    qa = q(s).gather(1, a[:, None]).squeeze(1)
    return F.huber_loss(qa, t) + F.mse_loss(qa, t2)


@_trainer(lambda: nn.Sequential(nn.Linear(S, 6), nn.BatchNorm1d(6)), lr=0.05)
def barlow(enc, s, a, r, s2, d):
    c = enc(s).T @ enc(s2) / N
    off = c.flatten()[:-1].view(5, 7)[:, 1:].flatten()
    return gg.diagonal(c).add(-1).pow(2).sum() + 0.005 * off.pow(2).sum(), c


@_trainer(lambda: nn.Linear(S, 6), lr=0.05)
def barlow_inplace(enc, s, a, r, s2, d):
    c = enc(s).T @ enc(s2) / N
    return gg.diagonal(c).add_(-1).pow_(2).sum() + 0.005 * c.pow(2).sum(), c


@_trainer(lambda: nn.Linear(S, 1), lr=0.1)
def gae(v, s, a, r, s2, d):
    val = v(s).squeeze(-1)
    delta = r + 0.99 * v(s2).squeeze(-1).detach() * (1 - d) - val.detach()
    advs, g = [], gg.zeros(())
    for t in reversed(range(N)):
        g = delta[t] + 0.99 * 0.95 * (1 - d[t]) * g
        advs.append(g)
    adv = gg.stack(advs[::-1])
    return F.mse_loss(val, adv + val.detach()), adv


@_trainer(qnet, optimizer=gg.optim.Adam, lr=0.01)
def masked_cat(pol, s, a, r, s2, d):
    mask = gg.stack([d > 0.5, gg.zeros(N, dtype=gg.bool), d <= 0.5], 1)
    dist = gg.distributions.Categorical(logits=pol(s).masked_fill(mask, float("-inf")))
    act = dist.sample()
    return -(dist.log_prob(act) * r).mean() - 0.01 * dist.entropy().mean(), act


@_trainer(qnet, optimizer=gg.optim.Adam, lr=0.01)
def probs_cat(pol, s, a, r, s2, d):
    p = F.softmax(pol(s), -1)
    dist = gg.distributions.Categorical(probs=p)
    act = dist.sample((2,))
    act2 = gg.multinomial(p, 1).squeeze(1)
    return -(dist.log_prob(act) * r).mean() - (p.gather(1, act2[:, None]).log().squeeze(1) * r).mean(), act, act2


@_trainer(qnet, qnet, optimizer=gg.optim.Adam, lr=0.01)
def dqn_mask(q, tq, s, a, r, s2, d):
    nf = d == 0
    nxt = gg.zeros(N)
    with gg.no_grad():
        nxt[nf] = tq(s2[nf]).max(1).values
    return F.smooth_l1_loss(q(s).gather(1, a[:, None]), (r + 0.9 * nxt).unsqueeze(1))


@_trainer(lambda: nn.Linear(S, 4), lr=0.1)
def sort_neg(enc, s, a, r, s2, d):
    e = enc(s)
    dist = gg.cdist(e, e)
    order = dist.argsort(1, descending=False)
    sv, si = dist.sort(1, stable=True)
    loss = F.relu(dist.gather(1, order[:, 1:2]).squeeze(1) - sv[:, 2] + 1).mean() + (e[si[:, -1]] - e).pow(2).mean()
    return loss, order, si


def dqn(loss="smooth", done_bool=False, target_update=False):
    def make():
        q = qnet()
        tq = copy.deepcopy(q)
        opt = gg.optim.Adam(q.parameters(), lr=0.01)
        count = [0]

        def step(s, a, r, s2, d):
            if done_bool:
                d = d > 0.5
            qa = q(s).gather(1, a[:, None]).squeeze(1)
            with gg.no_grad():
                nxt = tq(s2).max(1).values
                if done_bool:
                    target = r + G["gamma"] * gg.where(d, gg.zeros_like(nxt), nxt)
                else:
                    target = r + G["gamma"] * nxt * (1 - d)
            l = F.smooth_l1_loss(qa, target) if loss == "smooth" else F.huber_loss(qa, target, delta=0.5)
            opt.zero_grad()
            l.backward()
            opt.step()
            if target_update:
                count[0] += 1
                if count[0] % 3 == 0:
                    tq.load_state_dict(q.state_dict())
            return l, qa

        return step, state_of(q, tq, opt=opt)

    return make


def dqn_double():
    def make():
        q = qnet()
        tq = qnet()
        tq.load_state_dict(q.state_dict())
        opt = gg.optim.RMSprop(q.parameters(), lr=0.01)

        def step(s, a, r, s2, d):
            qa = q(s).gather(1, a.unsqueeze(1)).squeeze(1)
            with gg.no_grad():
                a2 = q(s2).argmax(1, keepdim=True)
                nxt = tq(s2).gather(1, a2).squeeze(1)
                target = r + G["gamma"] * nxt * (1 - d)
            l = F.mse_loss(qa, target)
            opt.zero_grad()
            l.backward()
            nn.utils.clip_grad_norm_(q.parameters(), 1.0)
            opt.step()
            # soft update
            with gg.no_grad():
                for p, tp in zip(q.parameters(), tq.parameters()):
                    tp.mul_(0.9).add_(p, alpha=0.1)
            return l

        return step, state_of(q, tq, opt=opt)

    return make


def ppo(epochs=3, mb=2):
    def make():
        pol = qnet()
        v = nn.Linear(S, 1)
        opt = gg.optim.Adam(list(pol.parameters()) + list(v.parameters()), lr=0.01)

        def step(s, a, r, s2, d):
            with gg.no_grad():
                old = gg.distributions.Categorical(logits=pol(s)).log_prob(a)
                oldv = v(s).squeeze(-1)
                adv = r - oldv
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            losses = []
            size = N // mb
            for _epoch in range(epochs):
                perm = gg.randperm(N)
                for k in range(mb):
                    i = perm[k * size : (k + 1) * size]
                    dist = gg.distributions.Categorical(logits=pol(s[i]))
                    ratio = (dist.log_prob(a[i]) - old[i]).exp()
                    A_ = adv[i]
                    surr = gg.min(ratio * A_, gg.clamp(ratio, 1 - 0.2, 1 + 0.2) * A_)
                    val = v(s[i]).squeeze(-1)
                    vclip = oldv[i] + (val - oldv[i]).clamp(-0.2, 0.2)
                    vl = gg.max((val - r[i]) ** 2, (vclip - r[i]) ** 2).mean()
                    l = -surr.mean() + 0.5 * vl - 0.01 * dist.entropy().mean()
                    opt.zero_grad()
                    l.backward()
                    nn.utils.clip_grad_norm_(list(pol.parameters()) + list(v.parameters()), 0.5)
                    opt.step()
                    losses.append(l.detach())
            return gg.stack(losses)

        return step, state_of(pol, v, opt=opt)

    return make


def clip_scale():
    def make():
        ei = nn.Linear(S, 5)
        et = nn.Linear(S, 5)
        scale = nn.Parameter(gg.tensor(2.0))
        opt = gg.optim.AdamW(list(ei.parameters()) + list(et.parameters()) + [scale], lr=0.5)

        def step(s, a, r, s2, d):
            x = F.normalize(ei(s), dim=-1)
            y = F.normalize(et(s2), dim=-1)
            logits = scale.exp() * x @ y.t()
            lab = gg.arange(len(s))
            l = (F.cross_entropy(logits, lab) + F.cross_entropy(logits.t(), lab)) / 2
            opt.zero_grad()
            l.backward()
            opt.step()
            scale.data.clamp_(0, 2.1)
            return l, scale

        return step, lambda: ([list(ei.parameters()), list(et.parameters()), scale], opt.state_dict())

    return make


def byol():
    def make():
        on = nn.Sequential(nn.Linear(S, 8), nn.ReLU(), nn.Linear(8, 4))
        pred = nn.Linear(4, 4)
        tg = copy.deepcopy(on)
        for p in tg.parameters():
            p.requires_grad_(False)
        opt = gg.optim.SGD(list(on.parameters()) + list(pred.parameters()), lr=0.1)

        def step(s, a, r, s2, d):
            p1, p2 = pred(on(s)), pred(on(s2))
            with gg.no_grad():
                z1, z2 = tg(s), tg(s2)
            l = (2 - 2 * F.cosine_similarity(p1, z2, dim=-1)).mean() + (
                2 - 2 * F.cosine_similarity(p2, z1, dim=-1)
            ).mean()
            opt.zero_grad()
            l.backward()
            opt.step()
            for po, pt in zip(on.parameters(), tg.parameters()):
                pt.data = 0.9 * pt.data + 0.1 * po.data
            return l

        return step, state_of(on, tg, pred, opt=opt)

    return make


def sac():
    def make():
        pol = nn.Linear(S, 4)
        qn = nn.Linear(S + 2, 1)
        log_alpha = gg.zeros(1, requires_grad=True)
        opt = gg.optim.Adam(list(pol.parameters()) + list(qn.parameters()), lr=0.01)
        aopt = gg.optim.Adam([log_alpha], lr=0.01)

        def step(s, a, r, s2, d):
            mu, ls = pol(s).chunk(2, -1)
            dist = gg.distributions.Normal(mu, ls.clamp(-5, 2).exp())
            u = dist.rsample()
            act = gg.tanh(u)
            lp = (dist.log_prob(u) - gg.log(1 - act.pow(2) + 1e-6)).sum(-1)
            alpha = log_alpha.exp().detach()
            l = (alpha * lp - qn(gg.cat([s, act], -1)).squeeze(-1)).mean()
            opt.zero_grad()
            l.backward()
            opt.step()
            al = -(log_alpha * (lp + -2.0).detach()).mean()
            aopt.zero_grad()
            al.backward()
            aopt.step()
            return l, al, act

        return step, lambda: (
            [list(pol.parameters()), list(qn.parameters()), log_alpha],
            opt.state_dict(),
            aopt.state_dict(),
        )

    return make


def ppo_kl_stop():
    def make():
        pol = qnet()
        opt = gg.optim.Adam(pol.parameters(), lr=0.05)

        def step(s, a, r, s2, d):
            with gg.no_grad():
                old = gg.distributions.Categorical(logits=pol(s)).log_prob(a)
            for _epoch in range(4):
                lp = gg.distributions.Categorical(logits=pol(s)).log_prob(a)
                ratio = (lp - old).exp()
                l = -gg.min(ratio * r, ratio.clamp(0.8, 1.2) * r).mean()
                opt.zero_grad()
                l.backward()
                opt.step()
                kl = (old - lp).mean()
                if kl > 0.01:
                    break
            return l

        return step, state_of(pol, opt=opt)

    return make


def compiled_model():
    def make():
        q = qnet()
        tq = copy.deepcopy(q)
        cq = gg.compile(q)
        ctq = gg.compile(tq)
        opt = gg.optim.Adam(q.parameters(), lr=0.01)

        def step(s, a, r, s2, d):
            qa = cq(s).gather(1, a[:, None]).squeeze(1)
            with gg.no_grad():
                t = r + 0.9 * ctq(s2).max(1).values * (1 - d)
            l = F.smooth_l1_loss(qa, t)
            opt.zero_grad()
            l.backward()
            opt.step()
            return l

        return step, state_of(q, tq, opt=opt)

    return make


def load_every():
    def make():
        q = qnet()
        tq = qnet()
        opt = gg.optim.Adam(q.parameters(), lr=0.01)

        def step(s, a, r, s2, d):
            with gg.no_grad():
                t = r + 0.9 * tq(s2).max(1).values * (1 - d)
            qa = q(s).gather(1, a[:, None]).squeeze(1)
            l = F.smooth_l1_loss(qa, t)
            opt.zero_grad()
            l.backward()
            opt.step()
            tq.load_state_dict(q.state_dict())
            return l

        return step, state_of(q, tq, opt=opt)

    return make


def kd_modes():
    def make():
        teacher = nn.Sequential(nn.Linear(S, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, A))
        student = nn.Sequential(nn.Linear(S, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, A))
        opt = gg.optim.SGD(student.parameters(), lr=0.1)

        def step(s, a, r, s2, d):
            teacher.eval()
            student.train()
            with gg.no_grad():
                t = teacher(s)
            o = student(s)
            T = 4.0
            l = (
                F.kl_div(
                    F.log_softmax(o / T, dim=1), F.log_softmax(t / T, dim=1), reduction="batchmean", log_target=True
                )
                * T
                * T
            )
            student.eval()
            with gg.no_grad():
                acc = (student(s).argmax(1) == a).float().mean()
            student.train()
            opt.zero_grad()
            l.backward()
            opt.step()
            return l, acc

        return step, lambda: (
            [list(student.parameters()), list(student.buffers()), list(teacher.buffers())],
            opt.state_dict(),
        )

    return make


def compiled_policy():
    def make():
        pol = qnet()
        cpol = gg.compile(pol)
        opt = gg.optim.Adam(pol.parameters(), lr=0.01)
        lossf = gg.compile(lambda lp, r: -(lp * r).mean())

        def step(s, a, r, s2, d):
            with gg.no_grad():
                act = gg.distributions.Categorical(logits=cpol(s)).sample()
            lp = gg.distributions.Categorical(logits=cpol(s)).log_prob(act)
            l = lossf(lp, r)
            opt.zero_grad()
            l.backward()
            opt.step()
            return l, act

        return step, state_of(pol, opt=opt)

    return make


def change_T(c):
    G["T"] = 0.5 if c < 3 else 0.1 + 0.05 * c


def change_eps(c):
    G["eps"] = 0.5 if c < 3 else (0.0 if c % 2 else 1.0)


def change_gamma(c):
    G["gamma"] = 0.9 if c < 3 else 0.99


@pytest.mark.parametrize(
    "make",
    [dqn("huber"), dqn(done_bool=True), dqn_double(), bool_done, load_every()],
    ids=["huber", "done-bool-where", "double-soft-update", "not-done", "target-loaded-each-call"],
)
def test_dqn_replays(make):
    """Q(s, a) by gather, the target net's max under no_grad, (1 - done) or ~done: replays equal eager."""
    _replayed(make)


def test_dqn_counting_target_update_runs_eagerly():
    """A Python counter deciding when to copy the target net: each call is captured, saying so, equal to eager."""
    replays, messages = _agree(dqn(target_update=True), before=change_gamma)
    assert replays == 0 and any("'count'" in message for message in messages)


def test_epsilon_greedy_by_where_replays():
    _replayed(eps_greedy_where)
    data = [batch + (gg.tensor(0.5 if call < 3 else float(call % 2)),) for call, batch in enumerate(batches())]
    _replayed(eps_scalar_where, data)


def test_epsilon_changed_in_a_global_runs_eagerly():
    replays, messages = _agree(eps_greedy_where, before=change_eps)
    assert any("'G'" in message for message in messages)


def test_epsilon_read_in_python_runs_eagerly():
    _refused(eps_greedy_python, "bool(tensor)", before=change_eps)


@pytest.mark.parametrize(
    "make",
    [reinforce(), reinforce(True), ppo(), sac(), gae, masked_cat, probs_cat],
    ids=[
        "reinforce",
        "a2c",
        "ppo-minibatch-epochs",
        "sac",
        "gae",
        "masked-categorical",
        "categorical-probs-multinomial",
    ],
)
def test_policy_gradients_replay(make):
    _replayed(make)


def test_ppo_kl_early_stop_runs_eagerly():
    _refused(ppo_kl_stop(), "bool(tensor)")


@pytest.mark.parametrize("make", [simclr, simclr_cos, kd], ids=["nt-xent", "nt-xent-cosine", "distillation"])
def test_temperature_changed_between_calls(make):
    """A temperature in a global changed after the captures: equal to eager, saying the global changes."""
    _, messages = _agree(make, before=change_T)
    assert any("'G'" in message for message in messages)


@pytest.mark.parametrize(
    "make",
    [simclr, simclr_cos, kd, kd_modes(), clip_scale(), siamese, barlow, barlow_inplace, compiled_model(),
     compiled_policy()],
    ids=[
        "nt-xent",
        "nt-xent-cosine",
        "distillation",
        "distillation-modes",
        "clip",
        "siamese",
        "barlow",
        "barlow-diagonal-add_",  # a write through a view: the matrix it views follows, in the replay too
        "compiled-q-nets",
        "compiled-policy",
    ],
)
def test_representation_and_compiled_models_replay(make):
    _replayed(make)


@pytest.mark.parametrize(
    "make",
    [triplet("argmax"), triplet("topk"), triplet("builtin"), sort_neg],
    ids=["argmax", "topk", "triplet_margin_loss", "argsort"],
)
@pytest.mark.parametrize("ties", [False, True])
def test_hardest_negatives_replay(make, ties):
    _replayed(make, batches(ties))


@pytest.mark.parametrize(
    ("make", "words"),
    [(byol(), "gives a tensor other memory"), (dqn_mask, "boolean mask")],
    ids=["byol-data-assigned", "dqn-non-final-mask"],
)
def test_conservative_refusals(make, words):
    """Run eagerly, saying why, where a replay might follow (left as they are)."""
    _refused(make, words)


def _prioritised(kind):
    """Prioritised replay: indices drawn from the priorities (multinomial, or a sum tree's searchsorted), importance
    weights, and the priorities written back at the drawn indices (repeats among them)."""

    def make():
        q = qnet()
        opt = gg.optim.Adam(q.parameters(), lr=0.01)
        store, rewards, prio = gg.randn(12, S), gg.randn(12), gg.rand(12) + 0.1

        def step(s, a, r, s2, d):
            if kind == "multinomial":
                probs = prio**0.6 / (prio**0.6).sum()
                idx = gg.multinomial(probs, N, replacement=True)
                w = (12 * probs[idx]) ** -0.4
                w = w / w.max()
            else:
                c = prio.cumsum(0)
                idx = gg.searchsorted(c, (gg.arange(N) + gg.rand(N)) * (c[-1] / N)).clamp_max(11)
                w = gg.ones(N)
            qa = q(store[idx]).max(1).values
            loss = (w * F.smooth_l1_loss(qa, rewards[idx], reduction="none")).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            prio[idx] = (qa - rewards[idx]).abs().detach() + 1e-6
            return loss, idx, w

        return step, lambda: (state_of(q, opt=opt)(), prio)

    return make


@pytest.mark.parametrize("kind", ["multinomial", "searchsorted"])
def test_prioritised_replay_replays(kind):
    _replayed(_prioritised(kind))


def _spoilt(kind):
    """The batches, one of the calls after the captures holding a value eager refuses."""
    data = []
    for call, (s, a, r, s2, d) in enumerate(batches()):
        r = gg.tensor(np.abs(r.numpy()) + 0.1)
        if call == 5:
            a, r = (gg.tensor(np.where(np.arange(N) == 2, A, a.numpy())), r) if kind == "action" else (a, -r)
        data.append((s, a, r, s2, d))
    return data


_CHECKED = {
    "categorical-support": (lambda q, s, a, r: -gg.distributions.Categorical(logits=q(s)).log_prob(a).mean(), "action"),
    "gather-index": (lambda q, s, a, r: q(s).gather(1, a[:, None]).mean(), "action"),
    "cross-entropy-target": (lambda q, s, a, r: F.cross_entropy(q(s), a), "action"),
    "normal-scale": (lambda q, s, a, r: -gg.distributions.Normal(q(s)[:, 0], r).log_prob(s[:, 1]).mean(), "scale"),
    "clip-grad-nonfinite": (lambda q, s, a, r: q(s).sum() * r.log().sum(), "scale"),
}


@pytest.mark.parametrize("name", list(_CHECKED))
def test_value_checks_raise_at_the_same_call(name):
    """An action out of range or a negative scale on a call after the captures raises there, replayed as eager."""
    body, kind = _CHECKED[name]

    def make():
        q = qnet()
        opt = gg.optim.SGD(q.parameters(), lr=0.01)

        def step(s, a, r, s2, d):
            loss = body(q, s, a, r)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(q.parameters(), 1.0, error_if_nonfinite=True)
            opt.step()
            return loss

        return step, state_of(q, opt=opt)

    outcomes = []
    for compiled in (False, True):
        gg.manual_seed(0)
        step, state = make()
        run = gg.compile(step) if compiled else step
        seen = []
        for batch in _spoilt(kind):
            try:
                seen.append(run(*batch).numpy().copy())
            except (ValueError, IndexError, RuntimeError) as error:
                seen.append(type(error).__name__)
        outcomes.append((seen, _flat(state())))
        if compiled:
            assert sum(entry.replays for entry in run.entries.values()) == CALLS - 2
    (eager, eager_state), (mine, my_state) = outcomes
    assert isinstance(eager[5], str) and mine[5] == eager[5]
    for a, b in zip([*mine[:5], *mine[6:], *my_state], [*eager[:5], *eager[6:], *eager_state], strict=True):
        assert np.array_equal(a, b, equal_nan=True)


def _outside(build, loss_of):
    """Trains ``build()`` through ``gg.compile(model)`` outside any compiled step (``loss_of(model, batch)`` gives the
    loss and what else to compare) and bare, from one seed: every value, weight, grad and buffer equal; gives the
    compiled model's replays and warnings."""
    runs = []
    for compiled in (False, True):
        gg.manual_seed(0)
        base = build()
        model = gg.compile(base) if compiled else base
        opt = gg.optim.Adam(base.parameters(), lr=0.02)
        seen = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for batch in batches():
                result = loss_of(model, *batch)
                opt.zero_grad()
                result[0].backward()
                opt.step()
                seen.append(result)
        parts = [seen, list(base.parameters()), [p.grad for p in base.parameters()], list(base.buffers())]
        replays = sum(entry.replays for entry in model._compiled.entries.values()) if compiled else 0
        runs.append((_flat(parts), replays, [str(w.message) for w in caught if "gg.compile" in str(w.message)]))
    (eager, _, _), (mine, replays, messages) = runs
    for a, b in zip(mine, eager, strict=True):
        assert np.array_equal(a, b)
    return replays, messages


@pytest.mark.parametrize("kind", ["siamese", "triplet", "simclr"])
def test_compiled_encoder_called_several_times_before_backward(kind):
    """gg.compile(encoder) (batch norm, dropout) called on two or three views, one backward() through them all,
    outside a compiled step: each call a replayed node of the graph, weights, grads and buffers equal to eager."""

    def loss_of(enc, s, a, r, s2, d):
        if kind == "siamese":
            dist = F.pairwise_distance(enc(s), enc(s2))
            return ((d * dist.pow(2) + (1 - d) * F.relu(1 - dist).pow(2)).mean(),)
        if kind == "triplet":
            return (F.triplet_margin_loss(enc(s), enc(s + 0.1 * s2), enc(s2)),)
        z = F.normalize(gg.cat([enc(s), enc(s2)]), dim=1)
        sim = (z @ z.T / 0.3).masked_fill(gg.eye(2 * N, dtype=gg.bool), float("-inf"))
        return (F.cross_entropy(sim, _pairs()),)

    replays, _ = _outside(
        lambda: nn.Sequential(nn.Linear(S, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 4)), loss_of
    )
    assert replays >= 2 * (CALLS - 2)


class _Actor(nn.Module):
    """An actor-critic whose forward gives a distribution and a value, as RL code often writes it."""

    def __init__(self):
        super().__init__()
        self.body, self.head, self.value = nn.Linear(S, 8), nn.Linear(8, A), nn.Linear(8, 1)

    def forward(self, s):
        h = self.body(s).tanh()
        return gg.distributions.Categorical(logits=self.head(h)), self.value(h).squeeze(-1)


def test_compiled_actor_returning_a_distribution_runs_eagerly():
    """A conservative refusal, left: a compiled model returning a Distribution (a new object at each call, not a
    tensor) runs eagerly; the rollout and the PPO update equal eager's. Its warning said "the step does different work
    on each call: it returned something different" (on ab6d670); it now names the Categorical and what to return."""

    def loss_of(actor, s, a, r, s2, d):
        with gg.no_grad():
            dist, _ = actor(s)
            act = dist.sample()
            old = dist.log_prob(act)
        dist, v = actor(s)
        ratio = (dist.log_prob(act) - old).exp()
        adv = r - v.detach()
        return -gg.min(ratio * adv, ratio.clamp(0.8, 1.2) * adv).mean() + F.mse_loss(v, r), act

    _, messages = _outside(_Actor, loss_of)
    assert any("returns a Categorical made at each call" in message for message in messages), messages
