"""Round 41: the random-sampling API against PyTorch 2.13, differentially.

The two libraries' streams differ (glassgrad draws with NumPy's PCG64), so drawn values are never compared; what is
compared is everything else: shape, dtype, requires_grad, whether a call works in place (returns the tensor, bumps its
version), the exception class of a refusal, and the distribution itself, by statistical tests at a fixed seed with a
threshold (p < 1e-6, moments within many standard errors) that never flakes.

The regressions glassgrad had:

* ``x.random_(0, 300)`` on uint8, ``random_(-5, 5)`` on uint8 or bool, ``random_(0, 2**32)`` on int32 wrapped the
  draws silently (PyTorch refuses a bound the dtype cannot hold); ``random_(0)`` filled the whole range (PyTorch:
  from=0 >= to=0 is refused); ``random_(3, None)`` drew from [0, 3) where PyTorch draws from 3 up to the top.
* ``uniform_(0, 1e5)`` on float16 wrote inf; ``uniform_(0, inf)`` / NaN bounds raised NumPy's OverflowError.
* ``normal_(0, nan)`` filled NaN silently (PyTorch refuses the std).
* ``randperm(300, dtype=int8)`` wrapped to repeated numbers, ``randperm(3000, dtype=float16)`` rounded numbers onto each
  other, ``randperm(n, requires_grad=True)`` was a TypeError.
* ``multinomial`` of 0 rows raised NumPy's "need at least one array to stack" (PyTorch: a (0, k) result); a float
  ``num_samples`` was a RuntimeError (PyTorch: TypeError), a one-entry integer tensor was refused.
* ``bernoulli_(p)`` with a ``p`` that does not broadcast, ``normal(mean, std)`` of unbroadcastable tensors and
  ``distributions.Normal`` of them raised NumPy's ValueError (PyTorch: RuntimeError); a negative sample shape too.
* ``nn.init.uniform_(w, 0, 1e5)`` on float16 wrote inf too, ``nn.init.normal_(w, 0, nan)`` filled NaN; its refusals
  were ValueError / TypeError (PyTorch: RuntimeError for the bounds and std, NotImplementedError for an int tensor).
* ``Generator().manual_seed(1.5)`` was a ValueError (PyTorch: RuntimeError); ``Generator.clone_state`` was missing
  (an AttributeError naming NumPy's generator); ``randint(gg.tensor(5), (3,))`` was refused.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_creation_differential35 import _outcome  # ("ok", result) or ("error", class name)

import glassgrad as gg

scipy_stats = pytest.importorskip("scipy.stats", reason="SciPy not installed: pip install scipy")

STRICT = 1e-6  # a p-value below this at a fixed seed means the distribution is wrong, never bad luck
DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _both_ok(their_calls: list, our_calls: list) -> list:
    """The (index, theirs, ours) results of the calls that work on both sides, after checking that the same ones
    work and the others raise the same exception class."""
    pairs = []
    for index, (their_call, our_call) in enumerate(zip(their_calls, our_calls, strict=True)):
        theirs, ours = _outcome(their_call), _outcome(our_call)
        assert theirs[0] == ours[0] and (theirs[0] == "ok" or theirs[1] == ours[1]), (index, theirs, ours)
        if ours[0] == "ok":
            pairs.append((index, theirs[1], ours[1]))
    return pairs


def _numbers(tensor) -> np.ndarray:
    return np.asarray(tensor.double().reshape(-1).tolist(), dtype=np.float64)


# --- random_: the bounds by dtype ----------------------------------------------------------------------

RANDOM_BOUNDS = [(), (0,), (1,), (5,), (300,), (3, None), (-3, None), (-5, 5), (0, 256), (0, 257), (0, 2**31),
                 (0, 2**32 + 1), (0, 2049), (0, 2**24 + 1), (0, 70000), (5, 3)]


def _random_fill(library, dtype: str, bounds: tuple):
    x = library.zeros(4000, dtype=getattr(library, dtype))
    version = x._version
    result = x.random_(*bounds)
    return result is x, x._version > version, x


def _check_random_fill(torch, dtype: str, bounds: tuple) -> None:
    theirs = _outcome(lambda: _random_fill(torch, dtype, bounds))
    ours = _outcome(lambda: _random_fill(gg, dtype, bounds))
    assert theirs[0] == ours[0], (dtype, bounds, theirs, ours)
    if theirs[0] == "error":
        assert ours[1] == theirs[1], (dtype, bounds, ours)
        return
    assert ours[1][:2] == (True, True)
    their_values, values = _numbers(theirs[1][2]), _numbers(ours[1][2])
    assert str(ours[1][2].dtype) == str(theirs[1][2].dtype).replace("torch.", "")
    assert np.all(values == np.round(values))
    # the same range: each side's draws lie inside the other's observed [min, max] widened by a tenth of the span
    span = max(their_values.max() - their_values.min(), 1)
    assert their_values.min() - span / 10 <= values.min() and values.max() <= their_values.max() + span / 10, \
        (dtype, bounds, values.min(), values.max(), their_values.min(), their_values.max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_fill_bounds_by_dtype_match_pytorch(torch, dtype):
    for bounds in RANDOM_BOUNDS:
        _check_random_fill(torch, dtype, bounds)


def test_random_fill_from_to_none_goes_to_the_top():
    x = gg.zeros(2000, dtype=gg.int16).random_(3, None)
    assert x.min().item() >= 3 and x.max().item() > 30000
    y = gg.zeros(2000).random_(-3, None)
    assert y.min().item() >= -3 and y.max().item() > 2**23


def test_random_fill_of_an_empty_range_or_wrapped_bound_is_refused():
    with pytest.raises(RuntimeError, match=r"^random_: expects from < to, got from=0, to=0"):
        gg.zeros(3).random_(0)
    with pytest.raises(RuntimeError, match=r"^random_: to - 1 is out of bounds for uint8: 299 is not in \[0, 255\]"):
        gg.zeros(3, dtype=gg.uint8).random_(0, 300)
    with pytest.raises(TypeError, match="random_: from must be a whole number"):
        gg.zeros(3).random_(0.5, 3)


@given(dtype=st.sampled_from(DTYPES), low=st.integers(-300, 300), width=st.integers(-2, 70000),
       one_bound=st.booleans())
def test_property_random_fill_and_randint_agree_with_pytorch(torch, dtype, low, width, one_bound):
    bounds = (low + width,) if one_bound else (low, low + width)
    _check_random_fill(torch, dtype, bounds)
    theirs = _outcome(lambda: torch.randint(low, low + width, (50,), dtype=getattr(torch, dtype)))
    ours = _outcome(lambda: gg.randint(low, low + width, (50,), dtype=getattr(gg, dtype)))
    assert theirs[0] == ours[0] and (theirs[0] == "ok" or theirs[1] == ours[1]), (dtype, low, width, theirs, ours)
    if ours[0] == "ok":
        values = _numbers(ours[1])
        assert values.min() >= low and values.max() <= low + width - 1


# --- uniform_ / normal_ bounds ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_uniform_fill_bounds_match_pytorch(torch, dtype):
    for bounds in [(0, 1e5), (-7e4, 0.0), (-3e38, 3e38), (-1e308, 1e308), (0, math.inf), (math.nan, 1),
                   (0, math.nan), (2, 2), (3, 2)]:
        theirs = _outcome(lambda bounds=bounds: torch.zeros(500, dtype=getattr(torch, dtype)).uniform_(*bounds))
        ours = _outcome(lambda bounds=bounds: gg.zeros(500, dtype=getattr(gg, dtype)).uniform_(*bounds))
        assert theirs[0] == ours[0] and (theirs[0] == "ok" or ours[1] == theirs[1]), (bounds, theirs, ours)
        if ours[0] == "ok":
            assert np.all(np.isfinite(_numbers(ours[1])))


def test_uniform_fill_that_would_overflow_float16_is_refused_in_one_line():
    with pytest.raises(RuntimeError, match=r"^uniform_: to is out of bounds for float16") as error:
        gg.zeros(3, dtype=gg.float16).uniform_(0, 1e5)
    assert "\n" not in str(error.value)


def test_normal_fill_refuses_a_nan_std(torch):
    with pytest.raises(RuntimeError):
        torch.zeros(3).normal_(0, math.nan)
    with pytest.raises(RuntimeError, match="normal_: std must be >= 0, got nan"):
        gg.zeros(3).normal_(0, math.nan)


# --- randperm ------------------------------------------------------------------------------------------

def test_randperm_dtype_limits_match_pytorch(torch):
    for n, dtype in [(0, "int64"), (5, "int64"), (128, "int8"), (129, "int8"), (256, "uint8"), (257, "uint8"),
                     (2049, "float16"), (2050, "float16"), (5, "float32"), (2, "bool"), (40000, "int16")]:
        theirs = _outcome(lambda n=n, dtype=dtype: torch.randperm(n, dtype=getattr(torch, dtype)))
        ours = _outcome(lambda n=n, dtype=dtype: gg.randperm(n, dtype=getattr(gg, dtype)))
        assert theirs[0] == ours[0] and (theirs[0] == "ok" or ours[1] == theirs[1]), (n, dtype, theirs, ours)
        if ours[0] == "ok":
            assert ours[1].shape == (n,) and str(ours[1].dtype) == dtype
            assert sorted(_numbers(ours[1]).tolist()) == list(range(n))


def test_randperm_takes_requires_grad_as_pytorch(torch):
    ours = gg.randperm(4, dtype=gg.float32, requires_grad=True)
    theirs = torch.randperm(4, dtype=torch.float32, requires_grad=True)
    assert ours.requires_grad and theirs.requires_grad and ours.is_leaf
    assert sorted(ours.tolist()) == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(RuntimeError):
        torch.randperm(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        gg.randperm(3, requires_grad=True)


# --- multinomial / bernoulli / normal / poisson: shapes and refusals -------------------------------

def _multinomial_cases(library):
    t = library.tensor
    return [
        lambda: library.multinomial(library.zeros(0, 3), 2),
        lambda: library.multinomial(library.zeros(0, 3), 2, True),
        lambda: library.multinomial(t([0.2, 0.8]), 3, True),
        lambda: library.multinomial(t([[0.2, 0.8, 0.1], [1.0, 1.0, 1.0]]), 3),
        lambda: library.multinomial(t([0.2, 0.8]), 3),
        lambda: library.multinomial(t([-0.2, 0.8]), 1),
        lambda: library.multinomial(t([math.inf, 0.8]), 1),
        lambda: library.multinomial(t([math.nan, 0.8]), 1),
        lambda: library.multinomial(t([[0.0, 0.0], [1.0, 1.0]]), 1),
        lambda: library.multinomial(t([0.2, 0.8]), 0),
        lambda: library.multinomial(t([0.2, 0.8]), 1.0),
        lambda: library.multinomial(t([0.2, 0.8]), t(3), True),
        lambda: library.multinomial(library.ones(2, 2, 2), 1),
        lambda: library.multinomial(library.zeros(2, 0), 1),
        lambda: t([1.0, 2.0], dtype=library.float64).multinomial(2),
        lambda: library.multinomial(t([1.0, 2.0], requires_grad=True), 1, generator=library.Generator()),
    ]


def test_multinomial_shapes_and_refusals_match_pytorch(torch):
    for index, theirs, ours in _both_ok(_multinomial_cases(torch), _multinomial_cases(gg)):
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == "int64", index
        assert not ours.requires_grad


def _sampler_cases(library):
    t, full, zeros, ones = library.tensor, library.full, library.zeros, library.ones
    return [
        lambda: library.bernoulli(full((3,), 0.5)),
        lambda: library.bernoulli(zeros(3, dtype=library.float64), 0.3),
        lambda: library.bernoulli(full((3,), 1.3)),
        lambda: library.bernoulli(full((3,), math.nan)),
        lambda: library.bernoulli(full((3,), 0.5, requires_grad=True)),
        lambda: library.bernoulli(zeros(0, 2), generator=library.Generator()),
        lambda: zeros(4, 3).bernoulli_(full((3,), 0.3)),
        lambda: zeros(4, 3).bernoulli_(full((2,), 0.3)),
        lambda: zeros(4, 3, dtype=library.int64).bernoulli_(0.5),
        lambda: zeros(3).bernoulli_(1.5),
        lambda: library.poisson(full((2, 3), 2.0, dtype=library.float64)),
        lambda: library.poisson(full((3,), -2.0)),
        lambda: library.poisson(full((3,), 2.0, requires_grad=True), generator=library.Generator()),
        lambda: library.normal(zeros(2, 1), ones(3)),
        lambda: library.normal(zeros(2), ones(3)),
        lambda: library.normal(zeros(2, 3, dtype=library.float64), 2.0),
        lambda: library.normal(1.0, ones(2, 3)),
        lambda: library.normal(1.0, 2.0, size=(2, 3), dtype=library.float64, requires_grad=True),
        lambda: library.normal(1.0, 2.0),
        lambda: library.normal(0.0, -1.0, (2,)),
        lambda: library.normal(zeros(2), -ones(2)),
        lambda: library.normal(zeros(2, requires_grad=True), ones(2), generator=library.Generator()),
        lambda: library.normal(t(0.0), 1.0),
        lambda: library.distributions.Normal(zeros(2), ones(3)),
        lambda: library.distributions.Normal(0.0, 1.0).sample((-1,)),
    ]


def test_samplers_shapes_and_refusals_match_pytorch(torch):
    for index, theirs, ours in _both_ok(_sampler_cases(torch), _sampler_cases(gg)):
        assert tuple(ours.shape) == tuple(theirs.shape), index
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), index
        assert ours.requires_grad == theirs.requires_grad, index


def test_unbroadcastable_parameters_are_one_line_runtime_errors():
    with pytest.raises(RuntimeError, match=r"^bernoulli_: the probabilities' shape \(2,\) does not broadcast"):
        gg.zeros(4, 3).bernoulli_(gg.full((2,), 0.3))
    with pytest.raises(RuntimeError, match=r"^normal: shapes \(2,\) and \(3,\) cannot be broadcast"):
        gg.normal(gg.zeros(2), gg.ones(3))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        gg.distributions.Normal(gg.zeros(2), gg.ones(3))


# --- in-place samplers: returns self, version, autograd --------------------------------------------

FILLS = [("uniform_", (-2.0, 3.0)), ("normal_", (1.0, 2.0)), ("bernoulli_", (0.3,)), ("exponential_", (2.0,)),
         ("geometric_", (0.3,)), ("cauchy_", ()), ("log_normal_", ()), ("random_", (5,))]


@pytest.mark.parametrize("name, args", FILLS)
def test_in_place_fills_behave_as_pytorch_in_and_out_of_autograd(torch, name, args):
    for library in (torch, gg):
        x = library.zeros(3, 2, dtype=library.float64)
        version = x._version
        assert getattr(x, name)(*args, generator=library.Generator().manual_seed(1)) is x and x._version > version
        leaf = library.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            getattr(leaf, name)(*args)
        with library.no_grad():
            assert getattr(leaf, name)(*args) is leaf
        weight = library.ones(3, requires_grad=True)
        middle = weight * 2
        getattr(middle, name)(*args)
        middle.sum().backward()
        assert weight.grad.tolist() == [0.0, 0.0, 0.0]  # the fill overwrote what depended on weight


def test_factories_take_requires_grad_for_floats_only(torch):
    for library in (torch, gg):
        assert library.rand(2, requires_grad=True).requires_grad
        assert library.randn_like(library.zeros(2), requires_grad=True).is_leaf
        with pytest.raises(RuntimeError):
            library.randint(0, 2, (3,), requires_grad=True)
        with pytest.raises(NotImplementedError):
            library.randn_like(library.zeros(2, dtype=library.int64))
        with pytest.raises(NotImplementedError):
            library.rand(2, dtype=library.int64)


# --- seeds, generators, states --------------------------------------------------------------------

def test_generator_manual_seed_refusals_have_pytorch_classes(torch):
    for bad, error in ((1.5, RuntimeError), ("3", RuntimeError), (gg.tensor(3), RuntimeError), (2**64, ValueError)):
        with pytest.raises(error):
            torch.Generator().manual_seed(bad if not isinstance(bad, gg.Tensor) else torch.tensor(3))
        with pytest.raises(error, match="^manual_seed: the seed must be a whole number"):
            gg.Generator().manual_seed(bad)
    assert gg.manual_seed(1.5).initial_seed() == torch.manual_seed(1.5).initial_seed() == 1
    assert gg.Generator().manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()


def test_generator_clone_state_and_state_round_trips():
    g = gg.Generator().manual_seed(7)
    gg.rand(3, generator=g)
    twin = g.clone_state()
    assert isinstance(twin, gg.Generator) and twin.initial_seed() == 7
    assert gg.randn(5, generator=g).tolist() == gg.randn(5, generator=twin).tolist()
    state = g.get_state()
    first = gg.randint(0, 100, (6,), generator=g)
    assert g.set_state(state) is g
    assert gg.randint(0, 100, (6,), generator=g).tolist() == first.tolist()
    with pytest.raises(AttributeError, match="'Generator' object has no attribute 'graphsafe_nothing'"):
        g.graphsafe_nothing  # noqa: B018


def test_a_generator_is_taken_by_every_sampler_and_repeats_it():
    def draws(generator):
        x = gg.zeros(4)
        return [gg.rand(2, generator=generator), gg.randn(2, generator=generator),
                gg.randint(3, (2,), generator=generator), gg.randperm(4, generator=generator),
                gg.rand_like(x, generator=generator), gg.randn_like(x, generator=generator),
                gg.randint_like(x, 9, generator=generator), gg.normal(gg.zeros(2), 1.0, generator=generator),
                gg.multinomial(gg.ones(3), 2, generator=generator),
                gg.bernoulli(gg.full((3,), 0.5), generator=generator),
                gg.poisson(gg.ones(3), generator=generator)] + [
            getattr(gg.zeros(3), name)(*args, generator=generator) for name, args in FILLS]
    gg.manual_seed(0)
    default_before = gg.rand(3).tolist()
    gg.manual_seed(0)
    first = [d.tolist() for d in draws(gg.Generator().manual_seed(11))]
    assert gg.rand(3).tolist() == default_before  # a generator of one's own leaves the default stream alone
    assert first == [d.tolist() for d in draws(gg.Generator().manual_seed(11))]


def test_rng_state_round_trip_and_fork_rng():
    gg.manual_seed(5)
    state = gg.get_rng_state()
    first = gg.rand(4).tolist()
    gg.set_rng_state(state)
    assert gg.rand(4).tolist() == first
    gg.manual_seed(5)
    with gg.random.fork_rng():
        gg.rand(10)
    assert gg.rand(4).tolist() == first
    assert gg.initial_seed() == 5 and isinstance(gg.seed(), int)


def test_randint_takes_a_one_entry_integer_tensor_bound(torch):
    for library in (torch, gg):
        values = library.randint(library.tensor(5), (40,))
        assert 0 <= values.min().item() and values.max().item() <= 4
        assert library.randint(0, library.tensor([3]), (4,)).shape == (4,)
        with pytest.raises(TypeError):
            library.randint(library.tensor(5.0), (3,))


# --- the distributions themselves -----------------------------------------------------------------

def _ks(values, cdf) -> float:
    return scipy_stats.kstest(values, cdf).pvalue


def test_continuous_samplers_follow_their_distributions():
    g = gg.Generator().manual_seed(41)
    n = 20000
    checks = [
        (gg.rand(n, generator=g, dtype=gg.float64), scipy_stats.uniform().cdf),
        (gg.randn(n, generator=g, dtype=gg.float64), scipy_stats.norm().cdf),
        (gg.normal(1.5, 2.0, (n,), generator=g, dtype=gg.float64), scipy_stats.norm(1.5, 2.0).cdf),
        (gg.normal(gg.full((n,), -1.0, dtype=gg.float64), 0.5, generator=g), scipy_stats.norm(-1.0, 0.5).cdf),
        (gg.zeros(n, dtype=gg.float64).uniform_(-2, 3, generator=g), scipy_stats.uniform(-2, 5).cdf),
        (gg.zeros(n, dtype=gg.float64).normal_(1, 3, generator=g), scipy_stats.norm(1, 3).cdf),
        (gg.zeros(n, dtype=gg.float64).exponential_(2.0, generator=g), scipy_stats.expon(scale=0.5).cdf),
        (gg.zeros(n, dtype=gg.float64).cauchy_(1.0, 2.0, generator=g), scipy_stats.cauchy(1.0, 2.0).cdf),
        (gg.zeros(n, dtype=gg.float64).log_normal_(0.5, 0.75, generator=g),
         scipy_stats.lognorm(s=0.75, scale=math.exp(0.5)).cdf),
    ]
    for sample, cdf in checks:
        assert _ks(_numbers(sample), cdf) > STRICT


def _chi_square(counts: np.ndarray, probabilities: np.ndarray) -> float:
    expected = probabilities / probabilities.sum() * counts.sum()
    return scipy_stats.chisquare(counts, expected).pvalue


def test_discrete_samplers_follow_their_distributions():
    g = gg.Generator().manual_seed(41)
    n = 20000
    weights = np.array([0.1, 0.0, 0.5, 0.4])
    picks = _numbers(gg.multinomial(gg.tensor(weights.tolist()), n, replacement=True, generator=g)).astype(int)
    counts = np.bincount(picks, minlength=4)
    assert counts[1] == 0 and _chi_square(counts[[0, 2, 3]], weights[[0, 2, 3]]) > STRICT
    firsts = _numbers(gg.multinomial(gg.tensor([[1.0, 2.0, 3.0]]).expand(n, 3), 2, generator=g)[:, 0]).astype(int)
    assert _chi_square(np.bincount(firsts, minlength=3), np.array([1.0, 2.0, 3.0])) > STRICT
    rows = _numbers(gg.multinomial(gg.ones(300, 5), 5, generator=g).sort(dim=1).values.reshape(-1)).reshape(300, 5)
    assert (rows == np.arange(5)).all()  # without replacement: every category once
    trials = _numbers(gg.zeros(n, dtype=gg.float64).geometric_(0.3, generator=g)).astype(int)
    assert trials.min() >= 1
    geometric = scipy_stats.geom(0.3)
    observed = np.array([np.sum(trials == k) for k in range(1, 12)] + [np.sum(trials >= 12)])
    assert _chi_square(observed, np.append(geometric.pmf(np.arange(1, 12)), geometric.sf(11))) > STRICT
    for p in (0.2, 0.7):
        mean = _numbers(gg.bernoulli(gg.full((n,), p), generator=g)).mean()
        assert abs(mean - p) < 6 * math.sqrt(p * (1 - p) / n)
        assert abs(_numbers(gg.zeros(n).bernoulli_(p, generator=g)).mean() - p) < 6 * math.sqrt(p * (1 - p) / n)
    counts = np.bincount(_numbers(gg.poisson(gg.full((n,), 3.0), generator=g)).astype(int))
    poisson = scipy_stats.poisson(3.0)
    observed = np.append(counts[:10], counts[10:].sum())
    assert _chi_square(observed, np.append(poisson.pmf(np.arange(10)), poisson.sf(9))) > STRICT
    whole = np.bincount(_numbers(gg.zeros(n, dtype=gg.int64).random_(-3, 4, generator=g)).astype(int) + 3)
    assert len(whole) == 7 and _chi_square(whole, np.ones(7)) > STRICT
    assert _chi_square(np.bincount(_numbers(gg.randint(2, 9, (n,), generator=g)).astype(int) - 2), np.ones(7)) > STRICT


# --- gg.distributions: sample shapes --------------------------------------------------------------

def _families(library):
    d, zeros, ones, eye, full = library.distributions, library.zeros, library.ones, library.eye, library.full
    return [
        lambda: d.Normal(zeros(2, 1), ones(3)),
        lambda: d.Normal(0.0, 1.0),
        lambda: d.Categorical(probs=full((2, 4), 0.25)),
        lambda: d.Categorical(logits=zeros(4)),
        lambda: d.Bernoulli(logits=zeros(2, 3)),
        lambda: d.Bernoulli(0.3),
        lambda: d.Uniform(zeros(3), ones(3)),
        lambda: d.MultivariateNormal(zeros(2, 3), scale_tril=eye(3)),
        lambda: d.MultivariateNormal(zeros(3), precision_matrix=eye(3) * 2),
    ]


@pytest.mark.parametrize("index", range(9))
def test_distribution_sample_shapes_match_pytorch(torch, index):
    theirs, ours = _families(torch)[index](), _families(gg)[index]()
    for shape in [(), (5,), (2, 4)]:
        for method in ("sample", "rsample"):
            their = _outcome(lambda method=method, shape=shape: getattr(theirs, method)(torch.Size(shape)))
            our = _outcome(lambda method=method, shape=shape: getattr(ours, method)(gg.Size(shape)))
            assert their[0] == our[0] and (their[0] == "ok" or their[1] == our[1]), (method, shape, their, our)
            if our[0] == "ok":
                assert tuple(our[1].shape) == tuple(their[1].shape)
                assert str(our[1].dtype) == str(their[1].dtype).replace("torch.", "")


def test_validate_args_refusals_match_pytorch(torch):
    for index, make in enumerate([
        lambda d, L: d.Normal(0.0, -1.0), lambda d, L: d.Normal(L.zeros(2), -L.ones(2)),
        lambda d, L: d.Categorical(probs=L.tensor([-0.1, 1.1])), lambda d, L: d.Categorical(),
        lambda d, L: d.Bernoulli(probs=L.tensor([1.5])), lambda d, L: d.Bernoulli(),
        lambda d, L: d.Uniform(1.0, 0.0), lambda d, L: d.Uniform(0.0, 1.0).log_prob(L.tensor(2.0)),
        lambda d, L: d.MultivariateNormal(L.zeros(2), L.tensor([[1.0, 2.0], [2.0, 1.0]])),
        lambda d, L: d.MultivariateNormal(L.zeros(2)),
    ]):
        theirs = _outcome(lambda make=make: make(torch.distributions, torch))
        ours = _outcome(lambda make=make: make(gg.distributions, gg))
        assert theirs[0] == ours[0] == "error" and theirs[1] == ours[1], (index, theirs, ours)


# --- nn.init --------------------------------------------------------------------------------------

def test_init_fills_have_their_distributions_and_gains():
    init, g = gg.nn.init, gg.Generator().manual_seed(41)
    w = gg.empty(400, 300, dtype=gg.float64)
    for mode, fan in (("fan_in", 300), ("fan_out", 400)):
        for nonlinearity, a in (("relu", 0), ("leaky_relu", 0.2), ("tanh", 0), ("linear", 0)):
            gain = init.calculate_gain(nonlinearity, a)
            init.kaiming_uniform_(w, a=a, mode=mode, nonlinearity=nonlinearity, generator=g)
            bound = math.sqrt(3) * gain / math.sqrt(fan)
            assert _ks(_numbers(w), scipy_stats.uniform(-bound, 2 * bound).cdf) > STRICT
            init.kaiming_normal_(w, a=a, mode=mode, nonlinearity=nonlinearity, generator=g)
            assert _ks(_numbers(w), scipy_stats.norm(0, gain / math.sqrt(fan)).cdf) > STRICT
    init.xavier_uniform_(w, gain=2.0, generator=g)
    bound = 2.0 * math.sqrt(6 / 700)
    assert _ks(_numbers(w), scipy_stats.uniform(-bound, 2 * bound).cdf) > STRICT
    init.xavier_normal_(w, generator=g)
    assert _ks(_numbers(w), scipy_stats.norm(0, math.sqrt(2 / 700)).cdf) > STRICT
    init.trunc_normal_(w, mean=1.0, std=2.0, a=0.0, b=1.5, generator=g)
    values = _numbers(w)
    assert 0.0 <= values.min() and values.max() <= 1.5
    assert _ks(values, scipy_stats.truncnorm(-0.5, 0.25, loc=1.0, scale=2.0).cdf) > STRICT
    for shape in [(30, 50), (50, 30), (6, 4, 3, 3)]:
        q = init.orthogonal_(gg.empty(*shape, dtype=gg.float64), gain=1.5, generator=g).reshape(shape[0], -1)
        small = min(q.shape)
        product = (q @ q.T if q.shape[0] == small else q.T @ q).numpy()
        np.testing.assert_allclose(product, 2.25 * np.eye(small), atol=1e-12)
    sparse = _numbers(init.sparse_(gg.empty(10, 40, dtype=gg.float64), 0.3, std=0.5, generator=g)).reshape(10, 40)
    assert ((sparse == 0).sum(axis=0) == 3).all()


def test_init_shapes_and_refusals_match_pytorch(torch):
    for index, call in enumerate([
        lambda init, L: init.eye_(L.empty(3, 5)), lambda init, L: init.eye_(L.empty(3)),
        lambda init, L: init.dirac_(L.empty(4, 2, 3, 3)), lambda init, L: init.dirac_(L.empty(6, 2, 3), groups=3),
        lambda init, L: init.dirac_(L.empty(3, 3)), lambda init, L: init.dirac_(L.empty(5, 2, 3), groups=2),
        lambda init, L: init.kaiming_uniform_(L.empty(5)),
        lambda init, L: init.kaiming_uniform_(L.empty(2, 2), mode="x"),
        lambda init, L: init.calculate_gain("gelu"), lambda init, L: init.sparse_(L.empty(3, 3, 3), 0.5),
        lambda init, L: init.orthogonal_(L.empty(4)),
        lambda init, L: init.uniform_(L.empty(3, dtype=L.int64)), lambda init, L: init.uniform_(L.empty(3), 2.0, 1.0),
        lambda init, L: init.normal_(L.empty(3), 0.0, math.nan),
        lambda init, L: init.uniform_(L.empty(3, dtype=L.float16), 0.0, 1e5),
        lambda init, L: init.xavier_normal_(L.empty(3, 3, dtype=L.int64)),
    ]):
        theirs = _outcome(lambda call=call: call(torch.nn.init, torch))
        ours = _outcome(lambda call=call: call(gg.nn.init, gg))
        assert theirs[0] == ours[0] and (theirs[0] == "ok" or theirs[1] == ours[1]), (index, theirs, ours)
        if ours[0] == "ok" and isinstance(theirs[1], torch.Tensor):
            np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())  # eye_ and dirac_: deterministic


def test_distribution_samples_follow_their_laws():
    d, n = gg.distributions, 40000
    gg.manual_seed(41)
    assert _ks(_numbers(d.Normal(2.0, 3.0).rsample((n,))), scipy_stats.norm(2, 3).cdf) > STRICT
    assert _ks(_numbers(d.Uniform(-1.0, 3.0).rsample((n,))), scipy_stats.uniform(-1, 4).cdf) > STRICT
    counts = np.bincount(_numbers(d.Categorical(probs=gg.tensor([0.1, 0.6, 0.3])).sample((n,))).astype(int))
    assert _chi_square(counts, np.array([0.1, 0.6, 0.3])) > STRICT
    p = 1 / (1 + math.exp(-1.0))
    assert abs(_numbers(d.Bernoulli(logits=gg.tensor(1.0)).sample((n,))).mean() - p) < 6 * math.sqrt(p * (1 - p) / n)
    covariance = np.array([[2.0, 0.6], [0.6, 1.0]])
    cov = gg.tensor(covariance.tolist(), dtype=gg.float64)
    for spelled in (dict(covariance_matrix=cov), dict(scale_tril=gg.linalg.cholesky(cov)),
                    dict(precision_matrix=gg.linalg.inv(cov))):
        draws = d.MultivariateNormal(gg.tensor([1.0, -1.0], dtype=gg.float64), **spelled).rsample((n,)).numpy()
        np.testing.assert_allclose(draws.mean(axis=0), [1.0, -1.0], atol=6 * math.sqrt(2 / n))
        np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.1)
