"""``gg.compile`` of a step that uses :mod:`glassgrad.distributions`: a VAE (``Normal``'s ``rsample``, ``log_prob``,
``entropy``, ``cdf``, ``icdf``, ``kl_divergence`` against ``Normal(0, 1)``, ``Independent``, ``MultivariateNormal``),
an actor-critic policy gradient (``Categorical`` from logits or probs: ``sample``, ``log_prob``, ``entropy``,
``kl_divergence``; ``OneHotCategorical``), a Bernoulli policy, the ``rsample`` of sixteen other families (the
gamma family's too), batched and of batch shape (), and REINFORCE on the ``sample`` of the counts (Poisson, Binomial,
NegativeBinomial, Geometric, Multinomial), of VonMises, and the ``log_prob`` of a support with tensor bounds (Uniform,
Pareto, Binomial). Their draws are kernels that pick glassgrad's stream at every call, and their value checks (a
scale > 0, probabilities in [0, 1], a value in the support) are kernels run at every call, so the step replays (it ran
eagerly: "glassgrad's Normal reads a tensor's value in Python (.numpy()) inside the step").

The oracle is eager glassgrad (the harness of tests/test_compile.py): the same model, optimizer and batches trained
eagerly and compiled (the whole step, or the model alone), glassgrad's stream re-seeded before call 7, must end with
equal arrays, bit for bit, with no warning, and calls 3–10 must be replays. A bad argument on a replayed call
raises eager's error, which is PyTorch's kind of error (ValueError).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_compile import _replays, _same_either_way
from test_compile_draws import raised_on_the_fifth_call_as_eager

import glassgrad as gg

nn, F, D = gg.nn, gg.nn.functional, gg.distributions
DTYPES = [gg.float32, gg.float64]
LATENT = 2


def _batches(dtype, count=10):
    rng = np.random.default_rng(0)
    return [(gg.tensor(rng.standard_normal((4, 5)), dtype=dtype), gg.tensor(rng.standard_normal((4, 3)), dtype=dtype))
            for _ in range(count)]


def _loss_of(net, x, y):
    return net(x, y)


def _reseed(number, model):
    if number == 6:
        gg.manual_seed(123)


class _Vae(nn.Module):
    """An encoder to a diagonal Gaussian q(z | x), a reparameterised draw z, a decoder's Gaussian p(x | z); the loss
    is the negative ELBO with the KL in closed form, plus q's log density, entropy, cdf and icdf of z."""

    def __init__(self, variant, dtype):
        super().__init__()
        self.variant = variant
        self.encoder = nn.Linear(5, 2 * LATENT, dtype=dtype, seed=1)
        self.decoder = nn.Linear(LATENT, 5, dtype=dtype, seed=2)
        self.log_noise = nn.Parameter(gg.zeros(5, dtype=dtype))

    def forward(self, x, y):
        h = self.encoder(x)
        mu, std = h[:, :LATENT], F.softplus(h[:, LATENT:]) + 0.1
        if self.variant == "multivariate one":  # a batch shape of (): 0-d tests in log_prob
            mu, std, x = mu[0], std[0], x[:1]
        if self.variant.startswith("multivariate"):
            q = D.MultivariateNormal(mu, scale_tril=gg.diag_embed(std))
            prior = D.MultivariateNormal(gg.zeros_like(mu), scale_tril=gg.diag_embed(gg.ones_like(std)))
            z = q.rsample()
            kl = D.kl_divergence(q, prior) + 0.1 * (q.log_prob(z) + q.entropy())
        else:
            q = D.Normal(mu, std)
            prior = D.Normal(0.0, 1.0) if self.variant == "numbers" else D.Normal(gg.zeros_like(mu), gg.ones_like(std))
            z = q.rsample((2,)).mean(0) if self.variant == "sample shape" else q.rsample()
            kl = D.kl_divergence(q, prior).sum(-1) + 0.1 * (q.log_prob(z) + q.entropy()).sum(-1)
            kl = kl + 0.1 * (q.cdf(z) * q.icdf(gg.full_like(z, 0.3))).sum(-1) + 0.01 * q.sample().sum(-1)
        likelihood = D.Independent(D.Normal(self.decoder(z), self.log_noise.exp()), 1)
        return (kl - likelihood.log_prob(x)).mean()


class _ActorCritic(nn.Module):
    """A policy over 3 actions and a value head; REINFORCE with the value as baseline, an entropy bonus and a KL to a
    sharper copy of the policy. The reward of action a is y[:, a]."""

    def __init__(self, variant, dtype):
        super().__init__()
        self.variant = variant
        self.policy, self.value = nn.Linear(5, 3, dtype=dtype, seed=1), nn.Linear(5, 1, dtype=dtype, seed=2)

    def forward(self, x, y):
        if self.variant.startswith("one state"):  # a batch shape of (): one draw, a 0-d class
            x, y = x[:1], y[:1]
            logits = self.policy(x[0])
        else:
            logits = self.policy(x)
        if self.variant == "one-hot":
            d = D.OneHotCategorical(logits=logits)
            action = d.sample()
            reward = (y * action).sum(-1)
        else:
            by_probs = self.variant in ("probs", "one state probs")
            d = D.Categorical(probs=logits.softmax(-1)) if by_probs else D.Categorical(logits=logits)
            action = d.sample()
            reward = y.gather(1, action.reshape(-1, 1)).squeeze(1)
        advantage = reward - self.value(x).squeeze(1)
        sharper = D.Categorical(logits=2 * logits.detach())
        kl = D.kl_divergence(D.Categorical(logits=logits), sharper)
        return (-(d.log_prob(action) * advantage.detach()) + advantage ** 2 - 0.01 * d.entropy() + 0.1 * kl).mean()


class _BernoulliPolicy(nn.Module):
    """Three on/off actions, each a Bernoulli of the policy's logit (or its sigmoid as probs); REINFORCE with the
    reward y·a, an entropy bonus and a KL to a flatter policy."""

    def __init__(self, variant, dtype):
        super().__init__()
        self.variant = variant
        self.policy = nn.Linear(5, 3, dtype=dtype, seed=1)

    def forward(self, x, y):
        logits = self.policy(x)[0, 0] if self.variant == "one unit" else self.policy(x)  # one unit: a 0-d draw
        d = D.Bernoulli(probs=logits.sigmoid()) if self.variant == "probs" else D.Bernoulli(logits=logits)
        action = d.sample()
        reward = (y * action).sum(-1, keepdim=True)
        kl = D.kl_divergence(d, D.Bernoulli(logits=0.5 * logits.detach()))
        return (-(d.log_prob(action) * reward) - 0.01 * d.entropy() + 0.1 * kl).mean()


def _bad_use(bad, value):
    """A distribution made or scored with ``value`` (the step works it out): a scale, probabilities, a class or 0/1
    outcome to score, a uniform's upper bound, a lower-triangular factor's diagonal."""
    if bad == "Normal scale":
        return D.Normal(value * 0, value).rsample()
    if bad == "Normal loc":
        return D.Normal(value.log(), 1.0).rsample()
    if bad == "Normal log_prob":
        return D.Normal(0.0, 1.0).log_prob(value.log())
    if bad == "Categorical probs":
        return D.Categorical(probs=value - 0.1).sample().float()
    if bad == "Categorical logits":
        return D.Categorical(logits=1 / (value + 0.5)).sample().float()  # +inf at -0.5
    if bad == "Categorical log_prob":
        return D.Categorical(logits=gg.zeros(3)).log_prob(value * 2)
    if bad == "Bernoulli probs":
        return D.Bernoulli(probs=value * 2).sample()
    if bad == "Bernoulli log_prob":
        return D.Bernoulli(logits=gg.zeros(3)).log_prob(value * 2)
    if bad == "OneHotCategorical log_prob":
        return D.OneHotCategorical(logits=gg.zeros(3)).log_prob(gg.eye(3)[:2] * value * 2)
    if bad == "Uniform high":
        return D.Uniform(value * 0, value).rsample()
    if bad == "Uniform log_prob":
        return D.Uniform(value * 3 - 1, value * 3 + 1).log_prob(value * 0 + 1)  # in [0.5, 2.5], not in [-2.5, -0.5]
    if bad == "Pareto log_prob":
        return D.Pareto(1.5 - value, 2.0).log_prob(value * 0 + 1.25)  # at least 1, not at least 2
    if bad == "Pareto log_prob of batch ()":  # the bound, a 0-d tensor, shown as its number
        return D.Pareto((1.5 - value)[0, 0], 2.0).log_prob(value[0, 0] * 0 + 1.25)
    if bad == "Poisson rate":
        return D.Poisson(value).sample()
    if bad == "Binomial total_count":
        return D.Binomial(value * 4, probs=0.5).sample()
    if bad == "Binomial log_prob":
        return D.Binomial(3 + 2 * value, probs=0.5).log_prob(value * 0 + 3)  # 3 successes in 4 trials, in 2
    if bad == "NegativeBinomial probs":
        return D.NegativeBinomial(3.0, probs=0.5 - value).sample()  # 1 is refused: the count would never end
    if bad == "Geometric probs":
        return D.Geometric(probs=value).sample()
    if bad == "Multinomial probs":
        return D.Multinomial(3, probs=value).sample().sum(-1)
    return D.MultivariateNormal(gg.zeros(3), scale_tril=gg.eye(3) * value[0]).rsample()


BAD = ["Normal scale", "Normal loc", "Normal log_prob", "Categorical probs", "Categorical logits",
       "Categorical log_prob", "Bernoulli probs", "Bernoulli log_prob", "OneHotCategorical log_prob",
       "Uniform high", "MultivariateNormal scale_tril", "Uniform log_prob", "Pareto log_prob",
       "Pareto log_prob of batch ()", "Poisson rate",
       "Binomial total_count", "Binomial log_prob", "NegativeBinomial probs", "Geometric probs", "Multinomial probs"]


@pytest.mark.parametrize("bad", BAD)
def test_a_bad_argument_on_a_replayed_call_raises_eagers_error(bad):
    """The first four calls get 0.5 (two captures, two replays), the fifth -0.5: a replay checks its values in a
    kernel and raises eager's ValueError then (a check in Python would have seen only the captures' values)."""
    lin = nn.Linear(3, 3, seed=1)

    def step(x, value):
        return _bad_use(bad, lin(x) * 0 + value).sum()  # the value, worked out in the step

    last = raised_on_the_fifth_call_as_eager(step, [0.5] * 4 + [-0.5], ValueError)
    assert isinstance(last, str) and last.startswith(bad.split()[0])


@pytest.mark.parametrize("given", ["probs 1.5", "probs -0.1", "logits NaN"])
def test_bernoulli_sample_of_an_unchecked_bad_chance_raises_as_pytorch(torch, given):
    """With ``validate_args=False`` nothing checks the chance when the distribution is made; its ``sample()`` draws in
    the kernel ``gg.bernoulli`` draws in, which refuses a probability outside [0, 1] or NaN with a RuntimeError, as
    PyTorch's ``Bernoulli.sample`` (``torch.bernoulli``) does (it drew 1s or 0s without a word)."""
    kind, number = given.split()
    for library in (torch, gg):
        value = library.tensor([0.5, float(number)])
        d = library.distributions.Bernoulli(validate_args=False, **{kind: value})
        with pytest.raises(RuntimeError):
            d.sample()


RSAMPLED = {
    # name: (h, a positive s of h's shape) → the distribution whose rsample the model adds
    "Laplace": lambda h, s: D.Laplace(h, s),
    "Cauchy": lambda h, s: D.Cauchy(h, s),
    "Gumbel": lambda h, s: D.Gumbel(h, s),
    "Uniform": lambda h, s: D.Uniform(h, h + s),
    "Exponential": lambda h, s: D.Exponential(s),
    "LogNormal": lambda h, s: D.LogNormal(h, s),
    "HalfNormal": lambda h, s: D.HalfNormal(s),
    "Weibull": lambda h, s: D.Weibull(s, s + 1),
    "Kumaraswamy": lambda h, s: D.Kumaraswamy(s + 1, s + 1),
    "RelaxedBernoulli": lambda h, s: D.RelaxedBernoulli(0.5, logits=h),
    "RelaxedOneHotCategorical": lambda h, s: D.RelaxedOneHotCategorical(0.5, logits=h),
    "Gamma": lambda h, s: D.Gamma(s, s + 1),
    "Beta": lambda h, s: D.Beta(s, 2 * s),
    "Dirichlet": lambda h, s: D.Dirichlet(s),
    "StudentT": lambda h, s: D.StudentT(s + 1, h, s),
    "Chi2": lambda h, s: D.Chi2(s),
    "Gamma of batch ()": lambda h, s: D.Gamma(s[0, 0], 2.0),
}


class _Reparameterised(nn.Module):
    """A linear layer's output h and softplus(h) + 0.1 as the parameters of one distribution; the loss reads a
    reparameterised draw, so its gradient goes through the noise drawn at that call."""

    def __init__(self, family, dtype):
        super().__init__()
        self.family, self.layer = RSAMPLED[family], nn.Linear(5, 3, dtype=dtype, seed=1)

    def forward(self, x, y):
        h = self.layer(x)
        return ((self.family(h, F.softplus(h) + 0.1).rsample() - y) ** 2).mean()


COUNTED = {
    # name: (h, a positive s of h's shape) → the distribution the model draws from and scores
    "Poisson": lambda h, s: D.Poisson(s),
    "Binomial": lambda h, s: D.Binomial(gg.tensor([2.0, 5.0, 3.0], dtype=h.dtype), probs=h.sigmoid()),
    "Binomial logits": lambda h, s: D.Binomial(4, logits=h),
    "NegativeBinomial": lambda h, s: D.NegativeBinomial(s + 1, logits=h),
    "Geometric": lambda h, s: D.Geometric(probs=h.sigmoid()),
    "Multinomial": lambda h, s: D.Multinomial(6, logits=h),
    "VonMises": lambda h, s: D.VonMises(h, s),
    "Poisson one": lambda h, s: D.Poisson(s[0, 0]),
    "Uniform log_prob": lambda h, s: D.Uniform(h - s, h + s),
    "Pareto log_prob": lambda h, s: D.Pareto(s, s + 1),
}


class _Counted(nn.Module):
    """A linear layer's output h and softplus(h) + 0.1 as the parameters of one distribution; REINFORCE with the
    reward −(draw − y)² of the second of two draws, so the loss reads the draw and its log density (a Binomial's,
    Uniform's or Pareto's support has tensor bounds)."""

    def __init__(self, family, dtype):
        super().__init__()
        self.family, self.layer = COUNTED[family], nn.Linear(5, 3, dtype=dtype, seed=1)

    def forward(self, x, y):
        h = self.layer(x)
        d = self.family(h, F.softplus(h) + 0.1)
        draw = d.sample((2,))[1]
        reward = -((draw - (y if draw.ndim else y[0, 0])) ** 2)
        return -(d.log_prob(draw) * (reward.sum(-1) if d.event_shape else reward)).mean()


STEPS = ([(_Vae, variant) for variant in ["tensors", "numbers", "sample shape", "multivariate", "multivariate one"]]
         + [(_ActorCritic, variant) for variant in ["logits", "probs", "one-hot", "one state", "one state probs"]]
         + [(_BernoulliPolicy, variant) for variant in ["logits", "probs", "one unit"]]
         + [(_Reparameterised, family) for family in sorted(RSAMPLED)]
         + [(_Counted, family) for family in COUNTED])
"""Each model (its forward is the whole loss) with each variant: which distributions, given how, of which shape."""


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize(("model_class", "variant"), STEPS, ids=[f"{m.__name__[1:]} {name}" for m, name in STEPS])
@pytest.mark.parametrize("whole_step", [True, False], ids=["step", "model"])
def test_a_step_with_distributions_replays_as_eager(model_class, variant, dtype, whole_step):
    """Ten Adam steps eagerly and compiled, glassgrad's stream re-seeded before call 7: every array equal, bit for bit,
    no warning, and calls 3–10 replays (each drew again, from the stream eager drew from)."""

    def make():
        gg.manual_seed(0)
        model = model_class(variant, dtype)
        return model, gg.optim.Adam(model.parameters(), lr=0.01)

    run = _same_either_way(make, _batches(dtype), _loss_of, whole_step, _reseed)
    assert _replays(run) == 8
