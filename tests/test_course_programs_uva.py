"""What the University of Amsterdam deep-learning tutorials (attention, flows, energy-based models, custom
optimizers) do that once went wrong here, each checked against PyTorch 2.13."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

INTEGER_DTYPES = ["int64", "int32", "uint8", "bool"]

DRAWS = {
    "rand_like": lambda lib, x: lib.rand_like(x),
    "randn_like": lambda lib, x: lib.randn_like(x),
    "rand": lambda lib, x: lib.rand(x.shape, dtype=x.dtype),
    "randn": lambda lib, x: lib.randn(x.shape, dtype=x.dtype),
    "uniform_": lambda lib, x: x.uniform_(),
    "normal_": lambda lib, x: x.normal_(),
    "log_normal_": lambda lib, x: x.log_normal_(),
    "exponential_": lambda lib, x: x.exponential_(),
    "cauchy_": lambda lib, x: x.cauchy_(),
    "bernoulli of counts": lambda lib, x: lib.bernoulli(x),
    "poisson of counts": lambda lib, x: lib.poisson(x),
    "hann_window": lambda lib, x: lib.hann_window(4, dtype=x.dtype),
}


def _outcome(call):
    try:
        return call()
    except Exception as error:  # noqa: BLE001 -- the exception's type is what is compared
        return error


@pytest.mark.torch
@given(draw=st.sampled_from(sorted(DRAWS)), dtype=st.sampled_from(INTEGER_DTYPES),
       shape=st.lists(st.integers(1, 3), min_size=1, max_size=3))
def test_real_valued_draws_refuse_an_integer_dtype_with_pytorchs_exception(draw, dtype, shape, torch):
    """``torch.rand_like(imgs)`` of integer pixels (dequantization written without ``.float()`` first) raises
    NotImplementedError in PyTorch; here it silently gave float32 noise. The other real-valued draws refused an
    integer dtype with TypeError where PyTorch raises NotImplementedError (or RuntimeError: exponential_,
    cauchy_, the windows)."""
    theirs = _outcome(lambda: DRAWS[draw](torch, torch.zeros(shape, dtype=getattr(torch, dtype))))
    ours = _outcome(lambda: DRAWS[draw](gg, gg.zeros(shape, dtype=getattr(gg, dtype if dtype != "bool" else "bool_"))))
    assert isinstance(theirs, Exception), f"PyTorch accepted {draw} of {dtype}"
    assert type(ours) is type(theirs), f"{draw} of {dtype}: {ours!r} where PyTorch raises {type(theirs).__name__}"
    assert "\n" not in str(ours)


@pytest.mark.torch
@given(dtype=st.sampled_from(INTEGER_DTYPES + ["float64"]), p=st.sampled_from([0.0, 1.0]),
       shape=st.lists(st.integers(1, 3), min_size=1, max_size=3))
def test_bernoulli_fills_an_integer_or_bool_tensor_with_zeros_and_ones_as_pytorch(dtype, p, shape, torch):
    """``mask.bernoulli_(p)`` on an int or bool tensor fills it with 0/1 in its own dtype in PyTorch; it was
    refused here as if its samples were real numbers."""
    name = dtype if dtype != "bool" else "bool_"
    theirs = torch.zeros(shape, dtype=getattr(torch, dtype)).bernoulli_(p)
    ours = gg.zeros(shape, dtype=getattr(gg, name)).bernoulli_(p)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
def test_rand_like_of_integers_with_a_float_dtype_still_draws_as_pytorch(torch):
    ours = gg.rand_like(gg.zeros(2, 3, dtype=gg.int64), dtype=gg.float64)
    theirs = torch.rand_like(torch.zeros(2, 3, dtype=torch.int64), dtype=torch.float64)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.") and ours.shape == tuple(theirs.shape)
    assert ((ours.numpy() >= 0) & (ours.numpy() < 1)).all()


GAINS = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
         "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.torch
@pytest.mark.parametrize("nonlinearity", GAINS)
def test_calculate_gain_gives_pytorchs_number_and_type(nonlinearity, torch):
    """A tutorial printing ``nn.init.calculate_gain("linear")`` shows ``1`` in PyTorch, which returns the int;
    it showed ``1.0`` here."""
    ours, theirs = gg.nn.init.calculate_gain(nonlinearity), torch.nn.init.calculate_gain(nonlinearity)
    assert type(ours) is type(theirs) and ours == pytest.approx(theirs, rel=1e-15)


@pytest.mark.torch
def test_calculate_gain_refuses_identity_as_pytorch(torch):
    """PyTorch 2.13 has no ``"identity"`` gain (ValueError); it was accepted here, so the program ran on
    glassgrad and not on PyTorch."""
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        torch.nn.init.calculate_gain("identity")
    with pytest.raises(ValueError, match="Unsupported nonlinearity 'identity'"):
        gg.nn.init.calculate_gain("identity")


def _momentum_optimizer(library):
    """A learner's SGD with momentum, its state kept as tensors (the UvA tutorial's hand-written optimizers)."""

    class Momentum(library.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.9):
            super().__init__(params, {"lr": lr, "momentum": momentum})

        @library.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["buf"] = library.zeros_like(p.data)
                    state["step"] += 1
                    state["buf"].mul_(group["momentum"]).add_(p.grad.data)
                    p.data.add_(state["buf"], alpha=-group["lr"])

    return Momentum


@pytest.mark.torch
@given(weights=st.lists(st.floats(-2, 2), min_size=3, max_size=3), steps=st.integers(1, 3),
       dtype=st.sampled_from(["float64", "float32"]))
def test_a_learners_optimizer_resumes_from_its_state_dict_with_tensors_as_pytorch(weights, steps, dtype, torch):
    """``opt.load_state_dict(checkpoint["opt"])`` of a learner's ``optim.Optimizer`` subclass gave its state
    back as NumPy arrays, so the next ``state["buf"].mul_(...)`` raised AttributeError; PyTorch gives the
    tensors back and training resumes where it stopped."""
    results = {}
    for library in (gg, torch):
        x = library.tensor([[1.0, 2.0, -1.0], [3.0, -1.0, 0.5]], dtype=library.float64)
        w = library.tensor(weights, dtype=library.float64).requires_grad_()
        optimizer = _momentum_optimizer(library)([w])
        for _ in range(steps):
            w.grad = None
            (x @ w).pow(2).sum().backward()
            optimizer.step()
        saved = optimizer.state_dict()
        resumed_w = library.tensor(w.detach().numpy(), dtype=getattr(library, dtype)).requires_grad_()
        resumed = _momentum_optimizer(library)([resumed_w])
        resumed.load_state_dict(saved)
        state = resumed.state[resumed_w]
        resumed_w.grad = (x.to(resumed_w.dtype) @ resumed_w).pow(2).sum().detach() * library.ones_like(resumed_w)
        resumed.step()
        results[library.__name__] = (state["step"], str(state["buf"].dtype).removeprefix("torch."),
                                     resumed_w.detach().numpy().astype(np.float64))
    ours, theirs = results["glassgrad"], results["torch"]
    assert ours[:2] == theirs[:2]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.torch
def test_each_distribution_is_reachable_by_pytorchs_module_path(torch):
    """The flow tutorial's ``torch.distributions.normal.Normal(loc=0.0, scale=1.0)`` raised AttributeError:
    glassgrad had no ``distributions.normal``. Every class of each of PyTorch's distribution modules that glassgrad
    has is now found under the same module name."""
    missing = []
    for name in gg.distributions.TORCH_MODULES:
        theirs = importlib.import_module(f"torch.distributions.{name}")
        ours = getattr(gg.distributions, name)
        for cls in theirs.__all__:
            if hasattr(gg.distributions, cls) and getattr(ours, cls, None) is not getattr(gg.distributions, cls):
                missing.append(f"{name}.{cls}")
    assert not missing
    assert gg.distributions.normal.Normal is gg.distributions.Normal


def test_distribution_modules_import_under_the_shim():
    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch\nfrom torch.distributions.categorical import Categorical\n"
               "import torch.distributions.multivariate_normal as mvn\n"
               "prior = torch.distributions.normal.Normal(loc=0.0, scale=1.0)\n"
               "assert Categorical is torch.distributions.Categorical\n"
               "assert mvn.MultivariateNormal is torch.distributions.MultivariateNormal\n"
               "print(round(prior.log_prob(torch.zeros(2)).sum().item(), 6))")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.strip() == str(round(-np.log(2 * np.pi), 6))  # 2·(−½ ln 2π)


KEYWORD_FORMS = {  # PyTorch's keyword for the sizes or dims a method otherwise takes one by one
    "flip": lambda lib, x, order: lib.flip(x, dims=tuple(order[:2])),
    "Tensor.flip": lambda lib, x, order: x.flip(dims=list(order[:1])),
    "permute": lambda lib, x, order: lib.permute(x, dims=tuple(order)),
    "Tensor.permute": lambda lib, x, order: x.permute(dims=order),
    "reshape": lambda lib, x, order: lib.reshape(x, shape=(-1,)),
    "Tensor.reshape": lambda lib, x, order: x.reshape(shape=tuple(x.shape[i] for i in order)),
    "Tensor.view": lambda lib, x, order: x.view(size=(x.numel(),)),
    "Tensor.expand": lambda lib, x, order: x[None].expand(size=(2, *x.shape)),
    "Tensor.repeat": lambda lib, x, order: x.repeat(repeats=tuple(i + 1 for i in order)),
    "tile": lambda lib, x, order: lib.tile(x, dims=(2,)),
    "Tensor.tile": lambda lib, x, order: x.tile(dims=tuple(order)),
}


@pytest.mark.torch
@given(form=st.sampled_from(sorted(KEYWORD_FORMS)), shape=st.lists(st.integers(1, 3), min_size=2, max_size=3),
       data=st.data())
def test_sizes_and_dims_given_by_keyword_work_as_in_pytorch(form, shape, data, torch):
    """The transformer tutorial's ``torch.flip(inp_data, dims=(0,))`` raised TypeError here (an unexpected
    keyword): flip, permute, reshape, view, expand, repeat and tile took their sizes or dims only one by one or
    as one tuple, not by PyTorch's keyword."""
    order = data.draw(st.permutations(range(len(shape))))
    values = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    ours = KEYWORD_FORMS[form](gg, gg.tensor(values), order)
    theirs = KEYWORD_FORMS[form](torch, torch.tensor(values), order)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_sizes_given_both_ways_are_one_clear_error():
    with pytest.raises(TypeError, match="reshape: give the sizes once"):
        gg.ones(2, 3).reshape(3, 2, shape=(6,))


PRINTED = st.lists(st.one_of(st.floats(-1e4, 1e4, allow_nan=False), st.integers(-50, 50).map(float),
                             st.sampled_from([0.0, float("nan"), float("inf"), -float("inf"), 1e-6, 3e9])),
                   min_size=1, max_size=4)


@pytest.mark.torch
@given(values=PRINTED, rows=st.booleans(), dtype=st.sampled_from(["float32", "float64"]))
def test_a_float_tensor_prints_as_in_pytorch(values, rows, dtype, torch):
    """``print(x.grad)`` in the tutorials shows ``tensor([1.3333, 2.0000, 2.6667])`` in PyTorch, one format for
    every entry; glassgrad printed NumPy's shortest digits, ``tensor([1.3333, 2.    , 2.6667])``, and
    ``tensor([0.9 , 1.02])`` for a data point."""
    array = np.array([values, values[::-1]] if rows else values, dtype=dtype)
    ours, theirs = (re.sub(r",\s*dtype=(torch\.)?\w+\)$", ")", repr(library.tensor(array))) for library in (gg, torch))
    assert ours == theirs  # (where the dtype goes when the line is full is another matter)


@pytest.mark.torch
@given(shape=st.sampled_from([(2000,), (40, 30), (784, 128), (3, 400), (2, 3, 200)]), seed=st.integers(0, 2**16),
       scale=st.sampled_from([0.03, 1.0, 300.0]), hidden=st.sampled_from([None, 1e-6, -123.0, 5e9]),
       dtype=st.sampled_from(["float32", "float64"]))
def test_a_summarized_tensor_takes_its_format_from_the_entries_shown_as_in_pytorch(torch, shape, seed, scale, hidden,
                                                                                  dtype):
    """Past 1000 entries PyTorch chooses the format (fixed or scientific, the width) from the entries it shows;
    glassgrad chose it from all of them, so print(nn.Linear(784, 128).weight) came out in scientific notation."""
    array = (np.random.default_rng(seed).normal(size=shape) * scale).astype(dtype)
    if hidden is not None:
        array.reshape(-1)[array.size // 2] = hidden  # an entry the ... hides
    ours, theirs = (re.sub(r",\s*dtype=(torch\.)?\w+\)$", ")", repr(library.tensor(array))) for library in (gg, torch))
    assert ours == theirs  # the same entries, each written alike, the same lines


@pytest.mark.torch
def test_print_options_reset_sci_mode_and_bools_print_as_in_pytorch(torch):
    """Each set_printoptions call sets sci_mode, so one without it goes back to the rule (it stuck); all-True bools
    print unpadded."""
    try:
        texts = []
        for library in (gg, torch):
            library.set_printoptions(sci_mode=False)
            library.set_printoptions(precision=4)
            texts.append((repr(library.tensor([1e-5, 1.0])), repr(library.tensor([True, True])),
                          repr(library.tensor([True, False]))))
        assert texts[0] == texts[1]
    finally:
        gg.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


@pytest.mark.torch
@given(shape=st.sampled_from([(20,), (2, 10), (3, 12), (2, 3, 9), (9,), (1, 25), (4, 1, 11)]),
       seed=st.integers(0, 2**16), scale=st.sampled_from([0.5, 30.0, 1e5]),
       dtype=st.sampled_from(["float32", "int64", "bool"]), grad=st.booleans())
def test_rows_break_where_pytorchs_break(torch, shape, seed, scale, dtype, grad):
    """PyTorch fits as many entries on a line as its width holds (8 of 0.3333 in a row, 18 small ints); NumPy's
    layout fitted one fewer, and a setting went on a new line only where PyTorch's does."""
    array = np.random.default_rng(seed).normal(size=shape) * scale
    array = array > 0 if dtype == "bool" else array.astype(dtype)
    texts = []
    for library in (gg, torch):
        tensor = library.tensor(array)
        if grad and dtype.startswith("float"):
            tensor.requires_grad_(True)
        texts.append(repr(tensor))  # (dtypes that print no dtype=: glassgrad writes float64 without torch.)
    assert texts[0] == texts[1]



@pytest.mark.torch
@pytest.mark.parametrize("first", [float("nan"), -0.0, float("inf"), 0.0])
@pytest.mark.parametrize("options", [{}, {"sci_mode": True}, {"threshold": 5, "edgeitems": 0}])
def test_an_entry_that_sets_no_width_does_not_decide_the_lines(torch, first, options):
    """The entries a line holds come from the widest finite nonzero entry, as PyTorch's: a NaN, ∞ or 0 first made
    glassgrad break lines early (its width was taken from the first entry)."""
    values = np.array([first, 1e-5, -np.inf, 1e9, 0.5, 1.0, 2.0, 1e-10, 3.0, 4.0, 5.0, 6.0, 7.0, -0.0])
    texts = []
    try:
        for library in (gg, torch):
            library.set_printoptions(**options)
            texts.append(repr(library.tensor(values.astype(np.float32))))
            texts.append(repr(library.tensor(np.array([first, 1.0, 2.0] * 6, dtype=np.float32))))
            texts.append(repr(library.tensor(np.zeros(3, dtype=np.float32))))
    finally:
        gg.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert texts[:3] == texts[3:]
