"""Reparametrized and pruned weights against PyTorch 2.13, differentially (round 82).

Oracle: PyTorch's ``nn.utils.parametrize`` (``register_parametrization``, ``remove_parametrizations``, ``cached``),
``nn.utils.parametrizations`` (``weight_norm``, ``spectral_norm``, ``orthogonal``), the hook forms
``nn.utils.weight_norm``/``spectral_norm`` and ``nn.utils.prune`` on the same layer in float64. After the
registration both sides load PyTorch's state dict with ``strict=True`` (so the buffers each library draws on its
own, ``_u``/``_v``/``weight_u``/``weight_v`` and ``base``, agree); then the effective weight, the state dict's
names, the outputs, the gradients of the originals, a few SGD steps in training and eval mode and the weight
left by removing must agree. Random pruning is compared by what is deterministic: how many entries are zero,
and that the mask is applied. Misuse must raise PyTorch's exception class in one line.

Defects fixed in this round (each has a test below that fails on 6fe28c5):

* a pruning ``amount`` given as a NumPy number (``np.int64(2)``, ``np.float32(0.5)``) was refused with a
  TypeError; PyTorch takes any ``numbers.Real`` (a NumPy int is a count, a NumPy float a fraction);
* ``spectral_norm``'s ``n_power_iterations`` as a NumPy int was refused (both forms); PyTorch takes it;
* ``spectral_norm(…, dim=5)`` on a 2-d weight (both forms) was taken silently as ``dim % ndim``, a different dim
  of a conv weight, so a different σ; PyTorch's parametrization raises IndexError, as glassgrad now does;
* ``weight_norm``'s ``dim`` out of range raised ValueError where PyTorch raises IndexError (both forms), and a
  float ``dim`` was taken (PyTorch: TypeError);
* ``custom_from_mask`` with a mask of another shape, and ``importance_scores`` of another shape, raised
  ValueError where PyTorch's checks assert (AssertionError);
* ``register_parametrization`` on a parameter registered as None (``Linear(bias=False)``'s bias) said
  "right_inverse must return a tensor … got NoneType"; it now says the tensor is None.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True)
def _pytorch_prune_module() -> None:
    """``torch.nn.utils.prune`` is not imported by ``import torch``; import it where PyTorch is installed."""
    try:
        importlib.import_module("torch.nn.utils.prune")
    except ImportError:
        pass


# --- helpers -----------------------------------------------------------------------------------------------

def _layers(torch, kind, seed):
    """The same float64 layer in both libraries (``kind``: linear, conv or convT), and an input for it."""
    rng = np.random.default_rng(seed)
    if kind == "linear":
        features, outputs = rng.integers(1, 5, 2)
        theirs, mine = torch.nn.Linear(features, outputs), gg.nn.Linear(int(features), int(outputs))
        x = rng.standard_normal((3, features))
    elif kind == "conv":
        channels, outputs, size = rng.integers(1, 4, 3)
        theirs, mine = torch.nn.Conv2d(channels, outputs, size), gg.nn.Conv2d(int(channels), int(outputs), int(size))
        x = rng.standard_normal((2, channels, size + 2, size + 1))
    else:
        channels, outputs, size = rng.integers(1, 4, 3)
        theirs = torch.nn.ConvTranspose1d(channels, outputs, size)
        mine = gg.nn.ConvTranspose1d(int(channels), int(outputs), int(size))
        x = rng.standard_normal((2, channels, 4))
    theirs, mine = theirs.double(), mine.double()
    with torch.no_grad():
        for parameter in theirs.parameters():
            parameter.copy_(torch.tensor(rng.standard_normal(tuple(parameter.shape))))
    with gg.no_grad():
        for (name, parameter) in theirs.named_parameters():
            getattr(mine, name).copy_(gg.tensor(parameter.detach().numpy()))
    return theirs, mine, x


def _load_theirs(theirs, mine):
    """PyTorch's state dict into glassgrad's layer, strictly (the names must be the same)."""
    mine.load_state_dict({key: gg.tensor(value.numpy()) for key, value in theirs.state_dict().items()}, strict=True)


def _close(theirs, mine, tol=1e-9):
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


def _same_training(torch, theirs, mine, x, steps=2):
    """The names, outputs, gradients of the originals and SGD steps agree."""
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    ours_sgd, their_sgd = gg.optim.SGD(mine.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(steps):
        ours, their = mine(gg.tensor(x)), theirs(torch.tensor(x))
        _close(their, ours)
        ours_sgd.zero_grad()
        their_sgd.zero_grad()
        (ours * ours).sum().backward()
        (their * their).sum().backward()
        for mine_parameter, their_parameter in zip(mine.parameters(), theirs.parameters()):
            _close(their_parameter.grad, mine_parameter.grad, 1e-8)
        ours_sgd.step()
        their_sgd.step()
    for their_value, our_value in zip(theirs.state_dict().values(), mine.state_dict().values()):
        _close(their_value, our_value, 1e-8)


def _raised(call, *arguments):
    try:
        call(*arguments)
    except Exception as error:  # noqa: BLE001 — the class is what is compared
        return error
    return None


def _same_refusal(torch, make_call):
    """``make_call(lib)`` raises PyTorch's class in both, glassgrad's message on one line."""
    theirs, ours = _raised(make_call(torch)), _raised(make_call(gg))
    assert theirs is not None, "PyTorch took it"
    assert type(ours) is type(theirs), f"glassgrad raised {ours!r}, PyTorch {theirs!r}"
    assert "\n" not in str(ours)
    return ours


def _custom(lib):
    class Scaled(lib.nn.Module):
        def forward(self, x):
            return 2 * x

        def right_inverse(self, w):
            return w / 2

    class Split(lib.nn.Module):  # right_inverse returns two tensors: original0, original1
        def forward(self, a, b):
            return a + b

        def right_inverse(self, w):
            return w * 0.25, w * 0.75

    class Tanh(lib.nn.Module):  # no right_inverse
        def forward(self, x):
            return x.tanh()

    return {"scaled": Scaled, "split": Split, "tanh": Tanh}


def _apply(lib, module, form, seed):
    """Parametrize or normalise ``module`` in ``lib`` as ``form`` = (what, options) says."""
    what, options = form
    utils = lib.nn.utils
    if what == "stack":
        for name in options:
            utils.parametrize.register_parametrization(module, "weight", _custom(lib)[name]())
    elif what == "weight_norm":
        utils.parametrizations.weight_norm(module, dim=options)
    elif what == "old_weight_norm":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            utils.weight_norm(module, dim=options)
    elif what == "spectral_norm":
        utils.parametrizations.spectral_norm(module, **options)
    elif what == "old_spectral_norm":
        utils.spectral_norm(module, **options)
    return module


def _remove(lib, module, what):
    utils = lib.nn.utils
    if what == "old_weight_norm":
        utils.remove_weight_norm(module)
    elif what == "old_spectral_norm":
        utils.remove_spectral_norm(module)
    else:
        utils.parametrize.remove_parametrizations(module, "weight")


FORMS = st.one_of(
    st.tuples(st.just("stack"), st.sampled_from([("scaled",), ("split",), ("split", "scaled"), ("tanh",),
                                                 ("scaled", "tanh", "scaled"), ("split", "tanh")])),
    st.tuples(st.sampled_from(["weight_norm", "old_weight_norm"]), st.sampled_from([0, 1, -1, None])),
    st.tuples(st.sampled_from(["spectral_norm", "old_spectral_norm"]),
              st.fixed_dictionaries({"n_power_iterations": st.integers(1, 3), "eps": st.sampled_from([1e-12, 1e-3]),
                                     "dim": st.sampled_from([None, 0, 1])})),
)


# --- the fuzzer's core -------------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(["linear", "conv", "convT"]), form=FORMS, eval_first=st.booleans(),
       seed=st.integers(0, 2**16))
def test_a_reparametrized_layer_trains_and_is_removed_as_pytorchs(torch, kind, form, eval_first, seed):
    """Register the same parametrization (or hook) on both, load PyTorch's state dict strictly, then train in
    both modes (spectral norm's power iteration runs in training only), remove, and train again."""
    theirs, mine, x = _layers(torch, kind, seed)
    _apply(torch, theirs, form, seed)
    _apply(gg, mine, form, seed)
    _load_theirs(theirs, mine)
    if eval_first:
        theirs.eval()
        mine.eval()
    _same_training(torch, theirs, mine, x)
    theirs.train(not eval_first)
    mine.train(not eval_first)
    _same_training(torch, theirs, mine, x)
    _close(theirs.weight, mine.weight, 1e-8)
    _remove(torch, theirs, form[0])
    _remove(gg, mine, form[0])
    assert type(mine).__name__ == type(theirs).__name__
    _close(theirs.weight, mine.weight, 1e-8)
    _same_training(torch, theirs, mine, x, steps=1)


PRUNINGS = st.lists(st.one_of(
    st.tuples(st.just("l1"), st.sampled_from([0.0, 0.2, 0.5, 1.0, 0, 1, 2])),
    st.tuples(st.just("ln"), st.sampled_from([0.0, 0.5, 0.7, 1, 0]), st.sampled_from([1, 2, float("inf"), "fro"]),
              st.integers(-2, 1)),
    st.tuples(st.just("scores"), st.sampled_from([0.3, 1, 2])),
    st.tuples(st.just("mask"), st.integers(0, 2**16)),
    st.tuples(st.just("identity")),
), min_size=1, max_size=3)


def _prune(lib, module, step, shape):
    prune = lib.nn.utils.prune
    if step[0] == "l1":
        prune.l1_unstructured(module, "weight", amount=step[1])
    elif step[0] == "ln":
        prune.ln_structured(module, "weight", amount=step[1], n=step[2], dim=step[3])
    elif step[0] == "scores":
        scores = np.sin(np.arange(np.prod(shape)) * 1.7 + 0.3).reshape(shape)  # no ties
        prune.l1_unstructured(module, "weight", amount=step[1], importance_scores=lib.tensor(scores))
    elif step[0] == "mask":
        mask = (np.random.default_rng(step[1]).random(shape) < 0.7).astype(np.float64)
        prune.custom_from_mask(module, "weight", mask=lib.tensor(mask))
    else:
        prune.identity(module, "weight")


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(["linear", "conv"]), steps=PRUNINGS, seed=st.integers(0, 2**16))
def test_pruning_in_turn_trains_and_is_removed_as_pytorchs(torch, kind, steps, seed):
    """Deterministic prunings one after another (a PruningContainer from the second on): the same masks, or the
    same refusal; then training and ``remove`` agree. Weights from normal draws: no ties among |w| or norms."""
    theirs, mine, x = _layers(torch, kind, seed)
    shape = tuple(theirs.weight.shape)
    for step in steps:
        error = _raised(_prune, torch, theirs, step, shape)
        if error is not None:  # e.g. more entries than are left: the same class
            assert type(_raised(_prune, gg, mine, step, shape)) is type(error)
            return  # (PyTorch's refused prune has dropped the earlier hook; glassgrad's leaves the layer as it was)
        _prune(gg, mine, step, shape)
    if not hasattr(theirs, "weight_mask"):
        return
    _close(theirs.weight_mask, mine.weight_mask, 0)
    _close(theirs.weight, mine.weight)
    assert gg.nn.utils.prune.is_pruned(mine)
    assert [type(h).__name__ for h in mine._forward_pre_hooks.values()] == \
        [type(h).__name__ for h in theirs._forward_pre_hooks.values()]
    _same_training(torch, theirs, mine, x)
    torch.nn.utils.prune.remove(theirs, "weight")
    gg.nn.utils.prune.remove(mine, "weight")
    assert not gg.nn.utils.prune.is_pruned(mine)
    _close(theirs.weight, mine.weight)
    _same_training(torch, theirs, mine, x, steps=1)


# --- the defects of this round -----------------------------------------------------------------------------

NUMPY_AMOUNTS = [np.int64(2), np.int32(0), np.float32(0.5), np.float32(1.0), np.float64(0.25)]


@pytest.mark.parametrize("amount", NUMPY_AMOUNTS, ids=repr)
@pytest.mark.parametrize("method", ["l1", "ln", "global", "random"])
def test_a_numpy_amount_prunes_as_many_as_pytorchs(torch, method, amount):
    """A NumPy int is a count, a NumPy float a fraction (PyTorch: ``numbers.Integral``/``numbers.Real``)."""
    counts = []
    for lib in (torch, gg):
        layer = lib.nn.Linear(4, 3).double()
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(np.sin(np.arange(12.0) * 1.3 + 0.2).reshape(3, 4)))  # no 0, no ties
        prune = lib.nn.utils.prune
        if method == "l1":
            prune.l1_unstructured(layer, "weight", amount=amount)
        elif method == "ln":
            prune.ln_structured(layer, "weight", amount=amount, n=1, dim=0)
        elif method == "global":
            prune.global_unstructured([(layer, "weight")], prune.L1Unstructured, amount=amount)
        else:
            prune.random_unstructured(layer, "weight", amount=amount)
        layer(lib.ones(1, 4, dtype=lib.float64))
        assert bool((layer.weight == layer.weight_mask * layer.weight_orig).all())
        counts.append((layer.weight_mask.numpy().copy(), int((layer.weight_mask == 0).sum())))
    assert counts[1][1] == counts[0][1]
    if method != "random":
        np.testing.assert_array_equal(counts[1][0], counts[0][0])


def test_a_numpy_count_above_the_entries_is_refused_as_pytorch(torch):
    error = _same_refusal(torch, lambda lib: lambda: lib.nn.utils.prune.l1_unstructured(
        lib.nn.Linear(4, 3), "weight", amount=np.int64(13)))
    assert "amount=13 should be smaller than the number of parameters to prune=12" in str(error)


@pytest.mark.parametrize("form", ["parametrization", "hook"])
def test_spectral_norm_takes_a_numpy_count_of_power_iterations_as_pytorch(torch, form):
    names = []
    for lib in (torch, gg):
        utils = lib.nn.utils
        spectral_norm = utils.parametrizations.spectral_norm if form == "parametrization" else utils.spectral_norm
        layer = spectral_norm(lib.nn.Linear(4, 3), n_power_iterations=np.int64(2))
        names.append(list(layer.state_dict()))
    assert names[0] == names[1]


@pytest.mark.parametrize("layer, dim", [("linear", 2), ("linear", -3), ("conv", 4), ("bias", 1)])
def test_spectral_norm_refuses_a_dim_out_of_range_as_pytorch(torch, layer, dim):
    """PyTorch's parametrization: IndexError (glassgrad took ``dim % ndim``: for a conv weight another dim)."""
    def call(lib):
        module = lib.nn.Conv2d(2, 2, 2) if layer == "conv" else lib.nn.Linear(3, 2)
        return lambda: lib.nn.utils.parametrizations.spectral_norm(module, "bias" if layer == "bias" else "weight",
                                                                   dim=dim)
    error = _same_refusal(torch, call)
    assert f"dim {dim} is out of range" in str(error)


def test_the_hook_spectral_norm_refuses_a_dim_out_of_range_too():
    """PyTorch's hook form fails on it with a raw RuntimeError from ``permute``; glassgrad's IndexError says it."""
    with pytest.raises(IndexError, match=r"spectral_norm: dim 4 is out of range for a tensor of shape \(2, 2, 2, 2\)"):
        gg.nn.utils.spectral_norm(gg.nn.Conv2d(2, 2, 2), dim=4)


@pytest.mark.parametrize("form", ["parametrization", "hook"])
@pytest.mark.parametrize("name, dim", [("weight", 5), ("weight", -3), ("bias", 1)])
def test_weight_norm_refuses_a_dim_out_of_range_with_pytorchs_index_error(torch, form, name, dim):
    def call(lib):
        utils = lib.nn.utils
        weight_norm = utils.parametrizations.weight_norm if form == "parametrization" else utils.weight_norm
        return lambda: weight_norm(lib.nn.Linear(3, 2), name, dim=dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        error = _same_refusal(torch, call)
    assert f"weight_norm: dim {dim} is out of range" in str(error)


def test_weight_norm_refuses_a_float_dim_as_pytorch(torch):
    _same_refusal(torch, lambda lib: lambda: lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 2), dim=1.0))


@pytest.mark.parametrize("case", ["mask", "scores"])
def test_a_mask_or_scores_of_another_shape_raise_pytorchs_assertion_error(torch, case):
    def call(lib):
        prune, layer = lib.nn.utils.prune, lib.nn.Linear(3, 2)
        if case == "mask":
            return lambda: prune.custom_from_mask(layer, "weight", mask=lib.ones(3))
        return lambda: prune.l1_unstructured(layer, "weight", amount=1, importance_scores=lib.ones(2))
    layer_error = _same_refusal(torch, call)
    assert "(3,)" in str(layer_error) or "(2,)" in str(layer_error)


def test_parametrizing_a_none_bias_says_it_is_none():
    """PyTorch fails with a raw AttributeError (``'NoneType' object has no attribute 'shape'``)."""
    with pytest.raises(ValueError, match=r"Linear has no parameter, buffer or parametrized tensor 'bias' \(it is "
                                         r"None\); it has weight$"):
        gg.nn.utils.parametrize.register_parametrization(gg.nn.Linear(3, 2, bias=False), "bias", _custom(gg)["tanh"]())


# --- pinned: what already behaved --------------------------------------------------------------------------

@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_trains_as_pytorchs_for_every_map(torch, orthogonal_map, use_trivialization):
    """Square weights or no trivialization: deterministic from the weight (else PyTorch completes the base with
    its own draws, and the base is copied from its state dict)."""
    for rows, columns in [(3, 3), (2, 4), (4, 2), (1, 1)]:
        theirs, mine = torch.nn.Linear(columns, rows).double(), gg.nn.Linear(columns, rows).double()
        weight = np.cos(np.arange(rows * columns) * 2.1 + 0.4).reshape(rows, columns)
        for lib, layer in ((torch, theirs), (gg, mine)):
            with lib.no_grad():
                layer.weight.copy_(lib.tensor(weight))
                layer.bias.copy_(lib.tensor(np.linspace(-1, 1, rows)))
            lib.nn.utils.parametrizations.orthogonal(layer, orthogonal_map=orthogonal_map,
                                                     use_trivialization=use_trivialization)
        if not use_trivialization or rows == columns:
            _close(theirs.weight, mine.weight)
        _load_theirs(theirs, mine)
        _close(theirs.weight, mine.weight)
        _same_training(torch, theirs, mine, np.linspace(-2, 2, 3 * columns).reshape(3, columns))
        torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
        gg.nn.utils.parametrize.remove_parametrizations(mine, "weight")
        _close(theirs.weight, mine.weight)


def test_the_names_of_the_originals_and_buffers_are_pytorchs(torch):
    names = []
    for lib in (torch, gg):
        utils = lib.nn.utils
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            layers = [utils.parametrizations.weight_norm(lib.nn.Linear(3, 2)),
                      utils.parametrizations.spectral_norm(lib.nn.Linear(3, 2)),
                      utils.parametrizations.orthogonal(lib.nn.Linear(3, 3)),
                      utils.weight_norm(lib.nn.Linear(3, 2)), utils.spectral_norm(lib.nn.Linear(3, 2)),
                      utils.prune.l1_unstructured(lib.nn.Linear(3, 2), "weight", amount=1),
                      utils.spectral_norm(utils.parametrizations.weight_norm(lib.nn.Linear(3, 2)), "bias")]
        names.append([(list(layer.state_dict()), [n for n, _ in layer.named_parameters()]) for layer in layers])
    assert names[1] == names[0]
    assert names[1][0][0] == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    assert names[1][4][0] == ["bias", "weight_orig", "weight_u", "weight_v"]


def test_random_pruning_zeroes_the_count_asked_and_the_mask_is_applied(torch):
    """Random draws differ between the libraries: the count of zeros is compared, and w = mask ⊙ w_orig."""
    for amount, second in [(0.5, 3), (5, 0.5), (0, 1.0)]:
        counts = []
        for lib in (torch, gg):
            layer = lib.nn.Linear(5, 3)
            lib.nn.utils.prune.random_unstructured(layer, "weight", amount=amount)
            lib.nn.utils.prune.random_unstructured(layer, "weight", amount=second)
            layer(lib.ones(1, 5))
            assert bool(((layer.weight_mask == 0) | (layer.weight_mask == 1)).all())
            assert bool((layer.weight == layer.weight_mask * layer.weight_orig).all())
            counts.append(int((layer.weight_mask == 0).sum()))
        assert counts[1] == counts[0]


def test_cached_reads_a_parametrized_weight_once_and_its_gradients_add_up(torch):
    grads = []
    for lib in (torch, gg):
        layer = lib.nn.Linear(3, 2).double()
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) - 2.5))
        lib.nn.utils.parametrizations.weight_norm(layer)
        with lib.nn.utils.parametrize.cached():
            assert layer.weight is layer.weight
            out = layer(lib.ones(1, 3, dtype=lib.float64)) + 2 * layer(lib.ones(1, 3, dtype=lib.float64))
        assert layer.weight is not layer.weight
        out.sum().backward()
        grads.append([p.grad.numpy().copy() for p in layer.parameters()])
    for mine, theirs in zip(grads[1], grads[0]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


def test_type_and_is_parametrized_follow_each_registration_and_removal(torch):
    for lib in (torch, gg):
        parametrize = lib.nn.utils.parametrize
        layer = lib.nn.Linear(3, 2)
        parametrize.register_parametrization(layer, "weight", _custom(lib)["scaled"]())
        parametrize.register_parametrization(layer, "bias", _custom(lib)["scaled"]())
        assert type(layer).__name__ == "ParametrizedLinear"
        assert parametrize.type_before_parametrizations(layer) is lib.nn.Linear
        parametrize.remove_parametrizations(layer, "weight")
        assert (parametrize.is_parametrized(layer), parametrize.is_parametrized(layer, "weight"),
                parametrize.is_parametrized(layer, "bias")) == (True, False, True)
        parametrize.remove_parametrizations(layer, "bias")
        assert type(layer) is lib.nn.Linear and not parametrize.is_parametrized(layer)


def _remove_twice(lib):
    layer = lib.nn.Linear(3, 2)
    lib.nn.utils.parametrize.register_parametrization(layer, "weight", _custom(lib)["scaled"]())
    lib.nn.utils.parametrize.remove_parametrizations(layer, "weight")
    return lambda: lib.nn.utils.parametrize.remove_parametrizations(layer, "weight")


def _unprune_twice(lib):
    layer = lib.nn.utils.prune.l1_unstructured(lib.nn.Linear(3, 2), "weight", amount=1)
    lib.nn.utils.prune.remove(layer, "weight")
    return lambda: lib.nn.utils.prune.remove(layer, "weight")


def _split_back(lib):
    layer = lib.nn.Linear(3, 2)
    lib.nn.utils.parametrize.register_parametrization(layer, "weight", _custom(lib)["split"]())
    return lambda: lib.nn.utils.parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)


def _no_inverse(lib):
    layer = lib.nn.Linear(3, 2)
    lib.nn.utils.parametrize.register_parametrization(layer, "weight", _custom(lib)["tanh"]())

    def assign():
        layer.weight = lib.ones(2, 3)
    return assign


MISUSE = {
    "amount above the entries": lambda lib: lambda: lib.nn.utils.prune.l1_unstructured(
        lib.nn.Linear(3, 2), "weight", amount=7),
    "negative amount": lambda lib: lambda: lib.nn.utils.prune.random_unstructured(
        lib.nn.Linear(3, 2), "weight", amount=-1),
    "fraction above 1": lambda lib: lambda: lib.nn.utils.prune.l1_unstructured(
        lib.nn.Linear(3, 2), "weight", amount=1.5),
    "structured on a vector": lambda lib: lambda: lib.nn.utils.prune.ln_structured(
        lib.nn.Linear(3, 2), "bias", amount=1, n=2, dim=0),
    "prune a missing name": lambda lib: lambda: lib.nn.utils.prune.l1_unstructured(
        lib.nn.Linear(3, 2), "weght", amount=1),
    "parametrize a missing name": lambda lib: lambda: lib.nn.utils.parametrize.register_parametrization(
        lib.nn.Linear(3, 2), "weght", _custom(lib)["tanh"]()),
    "remove a parametrization twice": _remove_twice,
    "remove a pruning twice": _unprune_twice,
    "several originals back": _split_back,
    "assign without right_inverse": _no_inverse,
    "orthogonal of a vector": lambda lib: lambda: lib.nn.utils.parametrizations.orthogonal(
        lib.nn.Linear(3, 2), "bias"),
    "orthogonal map unknown": lambda lib: lambda: lib.nn.utils.parametrizations.orthogonal(
        lib.nn.Linear(3, 2), orthogonal_map="qr"),
    "no power iterations": lambda lib: lambda: lib.nn.utils.parametrizations.spectral_norm(
        lib.nn.Linear(3, 2), n_power_iterations=0),
    "global with a structured method": lambda lib: lambda: lib.nn.utils.prune.global_unstructured(
        [(lib.nn.Linear(3, 2), "weight")], lib.nn.utils.prune.LnStructured, amount=1, n=2, dim=0),
}


@pytest.mark.parametrize("name", list(MISUSE))
def test_misuse_raises_pytorchs_class_in_one_line(torch, name):
    _same_refusal(torch, MISUSE[name])
