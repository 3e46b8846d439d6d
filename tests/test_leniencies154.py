"""Round 154: leniencies where PyTorch 2.13 refuses, and refusals where it accepts.

- A loss given a NumPy array, a NumPy number or a Python number for a tensor argument computed with it; PyTorch
  refuses (TypeError from its C++ losses, "must be Tensor, not numpy.ndarray"; from its Python ones TypeError for an
  array, whose ``.size`` is no method, AttributeError for a Python number), except where its arithmetic reads one
  (``gaussian_nll_loss``'s target, ``multilabel_soft_margin_loss``'s number target, a float ``var``).
- A bool as a size after the first (``gg.zeros(2, True)``), a bool in ``arange``, and a convolution with no in or
  out channels (``nn.Conv2d(False, 3, 3)``) were refused where PyTorch computes.
- ``gg.tensor`` of flat lists of Python numbers takes a fast path: the same dtypes and numbers as PyTorch.
"""
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_state_dicts146 import LOSSES

import glassgrad as gg

pytestmark = pytest.mark.torch

KINDS = {  # how an argument is given instead of a tensor
    "array": lambda value, indices: np.asarray(value, dtype=np.int64 if indices else np.float64),
    "numpy number": lambda value, indices: np.int64(1) if indices else np.float64(0.5),
    "number": lambda value, indices: 1 if indices else 0.5,
    "bool": lambda value, indices: True,
}


def _outcome(library, name, as_given, kind):
    """The class and message of ``library``'s loss ``name`` with the arguments numbered in ``as_given`` given as
    ``kind`` (KINDS), the others as tensors; (None, value) where it computes."""
    arguments, indices = LOSSES[name]
    given_ = [KINDS[kind](value, number in indices) if number in as_given else
              library.tensor(value, dtype=library.long if number in indices else library.float64)
              for number, value in enumerate(arguments)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return None, float(getattr(library.nn.functional, name)(*given_))
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error), str(error)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_loss_given_numpy_or_a_number_for_a_tensor_does_as_pytorchs(torch, name, kind):
    """Found: every loss took a NumPy array (and most a number) for a tensor; PyTorch refuses. Every subset of the
    arguments is given so (all of them: 2 or 3 arguments, 3 or 7 subsets per loss and kind)."""
    count = len(LOSSES[name][0])
    for size in range(1, count + 1):
        for as_given in itertools.combinations(range(count), size):
            (mine, message), (theirs, value) = (_outcome(library, name, set(as_given), kind) for library in (gg, torch))
            assert mine is theirs, (as_given, mine, theirs, message)
            if mine is None:
                assert message == pytest.approx(value, rel=1e-9, abs=1e-12), as_given
            elif "must be Tensor" in message:
                assert "\n" not in message and "gg.tensor(" in message, message


@pytest.mark.parametrize("name", ["mse_loss", "cross_entropy", "kl_div", "margin_ranking_loss"])
def test_the_message_names_the_argument_and_numpys_type(name):
    arguments, indices = LOSSES[name]
    given_ = [gg.tensor(value, dtype=gg.long if number in indices else gg.float64)
              for number, value in enumerate(arguments)]
    given_[1] = np.asarray(arguments[1])
    with pytest.raises((TypeError, AttributeError)) as caught:
        getattr(gg.nn.functional, name)(*given_)
    assert "(position 2) must be Tensor, not numpy.ndarray" in str(caught.value)


@pytest.mark.parametrize("var", [1.0, np.float64(1.0), 1, np.float32(1.0), [1.0], np.ones(3)])
def test_gaussian_nll_loss_var_given_as_a_number_as_pytorchs(torch, var):
    """A float var (a Python float, np.float64) is one variance for all in PyTorch; an int, another NumPy number, a
    list or an array is its TypeError (``var < 0`` is no tensor)."""
    outcomes = []
    for library in (gg, torch):
        x = library.tensor([[0.1, 0.4, -0.3]], dtype=library.float64)
        try:
            outcomes.append((None, float(library.nn.functional.gaussian_nll_loss(x, x * 0.5, var))))
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            outcomes.append((type(error), None))
    assert outcomes[0][0] is outcomes[1][0]
    if outcomes[0][0] is None:
        assert outcomes[0][1] == pytest.approx(outcomes[1][1], rel=1e-12)


def test_a_loss_of_tensors_and_parameters_still_computes():
    x, y = gg.tensor([[0.2, -0.4]], dtype=gg.float64), gg.tensor([[0.5, 0.1]], dtype=gg.float64)
    assert float(gg.nn.functional.mse_loss(gg.nn.Parameter(x.clone()), y)) == float(gg.nn.functional.mse_loss(x, y))


# --- bools where PyTorch reads an int ---

SIZE_FUNCTIONS = ["empty", "zeros", "ones", "rand", "randn"]


@pytest.mark.parametrize("function", SIZE_FUNCTIONS)
@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.one_of(st.integers(0, 3), st.booleans()), min_size=1, max_size=4),
       packed=st.booleans())
def test_a_bool_as_a_size_is_read_as_pytorch_reads_it(torch, function, sizes, packed):
    """Found: a bool anywhere among the sizes was refused; PyTorch reads one after the first as 0 or 1 and refuses
    one only as the first size (TypeError)."""
    outcomes = []
    for library in (gg, torch):
        try:
            made = getattr(library, function)(tuple(sizes)) if packed else getattr(library, function)(*sizes)
            outcomes.append(tuple(made.shape))
        except TypeError:
            outcomes.append(TypeError)
    assert outcomes[0] == outcomes[1], sizes


def test_full_reads_a_bool_size_as_pytorch(torch):
    assert tuple(gg.full((2, True), 1.5).shape) == tuple(torch.full((2, True), 1.5).shape) == (2, 1)
    for library in (gg, torch):
        with pytest.raises(TypeError):
            library.full((True, 2), 1.5)


@settings(max_examples=40, deadline=None)
@given(numbers=st.lists(st.one_of(st.booleans(), st.integers(-3, 6)), min_size=1, max_size=3))
def test_arange_reads_bools_as_pytorch(torch, numbers):
    """Found: arange refused a bool start, end or step (TypeError); PyTorch reads it as 0 or 1."""
    outcomes = []
    for library in (gg, torch):
        try:
            made = library.arange(*numbers)
            outcomes.append((str(made.dtype).split(".")[-1], made.tolist()))
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            outcomes.append(type(error))
    assert outcomes[0] == outcomes[1], numbers


@pytest.mark.parametrize("layer", ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"])
@pytest.mark.parametrize("channels", [(False, 3), (0, 3), (3, 0), (3, False), (0, 0), (True, 2)])
def test_a_convolution_with_no_channels_is_built_as_pytorchs(torch, layer, channels):
    """Found: a convolution with 0 (or False) in channels was a ValueError; PyTorch builds it (a weight with a dim of
    size 0). A bool leading the weight's shape is PyTorch's TypeError (its ``empty`` refuses it)."""
    outcomes = []
    for library in (gg, torch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outcomes.append(tuple(getattr(library.nn, layer)(*channels, 1).weight.shape))
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            outcomes.append(type(error))
    assert outcomes[0] == outcomes[1]


# --- tensor() of flat lists: the fast path ---

NUMBERS = st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False, width=64), st.booleans(),
                    st.integers(2**63, 2**70), st.integers(-2**70, -2**63 - 1))


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["ints", "floats", "ints and floats", "any"]), data=st.data())
def test_tensor_of_a_flat_list_of_python_numbers_is_pytorchs(torch, kind, data):
    """The fast path for flat lists of Python ints or floats gives PyTorch's dtype and numbers, and its class where it
    refuses (an int past int64's range: ValueError), as the general reading did."""
    entries = {"ints": st.integers(-2**63, 2**63 - 1), "floats": st.floats(allow_nan=False, width=64),
               "ints and floats": st.one_of(st.integers(-2**53, 2**53), st.floats(allow_nan=False, width=64)),
               "any": NUMBERS}[kind]
    values = data.draw(st.lists(entries, min_size=1, max_size=6), label="values")
    outcomes = []
    for library in (gg, torch):
        try:
            made = library.tensor(values)
            outcomes.append((str(made.dtype).split(".")[-1], made.tolist()))
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            outcomes.append(type(error))
    assert outcomes[0] == outcomes[1], values


def test_tensor_of_a_list_is_a_copy():
    values = [1.5, 2.5]
    made = gg.tensor(values)
    values[0] = 9.0
    assert made.tolist() == [1.5, 2.5] and made.dtype == gg.float32


# --- activations and distances given no tensor ---

ACTIVATIONS = ["gelu", "silu", "elu", "celu", "selu", "softplus", "mish", "leaky_relu", "hardsigmoid", "hardswish",
               "logsigmoid", "softshrink", "hardshrink"]


@pytest.mark.parametrize("name", ACTIVATIONS + ["pairwise_distance", "cosine_similarity", "pdist"])
@pytest.mark.parametrize("kind", ["list", "array", "number"])
def test_an_activation_or_distance_given_no_tensor_is_pytorchs_type_error(torch, name, kind):
    """Found: these computed with a list, a NumPy array or a number; PyTorch's C++ functions raise TypeError ("must be
    Tensor, not list")."""
    value = {"list": [[0.5, -1.0], [0.2, 0.3]], "array": np.array([[0.5, -1.0], [0.2, 0.3]]), "number": 0.5}[kind]
    for library in (gg, torch):
        other = library.tensor([[0.5, -1.0], [0.2, 0.3]], dtype=library.float64)
        arguments = (value, other) if name in ("pairwise_distance", "cosine_similarity") else (value,)
        with pytest.raises(TypeError) as caught:
            getattr(library.nn.functional, name)(*arguments)
        if library is gg:
            assert "\n" not in str(caught.value) and "must be Tensor" in str(caught.value), str(caught.value)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_an_activation_of_a_tensor_still_computes_pytorchs_numbers(torch, name):
    values = [[0.5, -1.0, 3.0], [0.2, -0.3, 0.0]]
    mine, theirs = (getattr(library.nn.functional, name)(library.tensor(values, dtype=library.float64)).tolist()
                    for library in (gg, torch))
    assert np.allclose(mine, theirs, rtol=1e-12, atol=1e-15)
