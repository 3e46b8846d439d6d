"""``nn.utils.parametrize`` and ``nn.utils.parametrizations`` against PyTorch 2.13, in float64.

Oracle: PyTorch's own ``register_parametrization`` / ``weight_norm`` / ``spectral_norm`` / ``orthogonal`` on
the same layer. After registering, both sides hold the same numbers (PyTorch's state dict, copied: the
originals, and the buffers each library draws on its own, ``_u``/``_v`` and ``base``); then the outputs,
the gradients of the originals, the state dict's names, the weight left by ``remove_parametrizations`` and
the spectral-norm buffers after training-mode forwards must agree. Orthogonality is checked as ``WᵀW = I``.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

parametrize = gg.nn.utils.parametrize
parametrizations = gg.nn.utils.parametrizations


def _custom(lib):
    """Parametrizations written once against either library (PyTorch's ``nn`` or glassgrad's)."""

    class Symmetric(lib.nn.Module):  # no right_inverse: assignment is refused
        def forward(self, x):
            return x.triu() + x.triu(1).mT

    class Scaled(lib.nn.Module):  # w = 3·x, x = w / 3
        def forward(self, x):
            return 3.0 * x

        def right_inverse(self, w):
            return w / 3.0

    class Squared(lib.nn.Module):  # w = x², x = √w
        def forward(self, x):
            return x * x

        def right_inverse(self, w):
            return w.abs().sqrt()

    class Rows(lib.nn.Module):  # changes the shape: only with unsafe=True
        def forward(self, x):
            return x[:2]

    return {"symmetric": Symmetric, "scaled": Scaled, "squared": Squared, "rows": Rows}


def _linear(lib, rows=4, columns=4, bias=True):
    return lib.nn.Linear(columns, rows, bias=bias, dtype=lib.float64)


def _copy_state(mine, theirs):
    """PyTorch's state dict into glassgrad's layer (same keys): originals and buffers, the same numbers."""
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({key: gg.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})


def _compare_step(torch, mine, theirs, x):
    """Forward and backward of both layers on ``x``: outputs and every parameter's gradient agree."""
    mine_out, their_out = mine(gg.tensor(x)), theirs(torch.tensor(x))
    weights = np.linspace(-1, 1, mine_out.numel()).reshape(mine_out.shape)
    (mine_out * gg.tensor(weights)).square().sum().backward()
    (their_out * torch.tensor(weights)).square().sum().backward()
    np.testing.assert_allclose(mine_out.numpy(), their_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    mine_params, their_params = dict(mine.named_parameters()), dict(theirs.named_parameters())
    assert list(mine_params) == list(their_params)
    for name, param in mine_params.items():
        np.testing.assert_allclose(param.grad.numpy(), their_params[name].grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=name)


def _register_both(torch, names, unsafe=False, bias=True):
    theirs, mine = _linear(torch, bias=bias), _linear(gg, bias=bias)
    _copy_state(mine, theirs)
    their_kinds, my_kinds = _custom(torch), _custom(gg)
    for name in names:
        torch.nn.utils.parametrize.register_parametrization(theirs, "weight", their_kinds[name](), unsafe=unsafe)
        parametrize.register_parametrization(mine, "weight", my_kinds[name](), unsafe=unsafe)
    return mine, theirs


STACKS = [("symmetric",), ("scaled",), ("squared",), ("scaled", "squared"), ("symmetric", "scaled"),
          ("squared", "scaled", "symmetric")]


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(stack=st.sampled_from(STACKS), seed=st.integers(0, 2**16))
def test_custom_and_stacked_parametrizations_match_pytorch(torch, stack, seed):
    mine, theirs = _register_both(torch, stack)
    assert type(mine).__name__ == type(theirs).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(mine) is gg.nn.Linear
    assert parametrize.is_parametrized(mine) and parametrize.is_parametrized(mine, "weight")
    assert not parametrize.is_parametrized(mine, "bias")
    assert len(mine.parametrizations.weight) == len(stack)
    # registration ran the right inverses: the originals are already PyTorch's
    np.testing.assert_allclose(mine.parametrizations.weight.original.numpy(),
                               theirs.parametrizations.weight.original.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)
    _compare_step(torch, mine, theirs, np.random.default_rng(seed).normal(size=(3, 4)))


@pytest.mark.torch
@pytest.mark.parametrize("leave_parametrized", [True, False])
@pytest.mark.parametrize("stack", [("squared",), ("scaled", "squared")])
def test_remove_parametrizations_matches_pytorch(torch, stack, leave_parametrized):
    mine, theirs = _register_both(torch, stack)
    original = mine.parametrizations.weight.original
    parametrize.remove_parametrizations(mine, "weight", leave_parametrized=leave_parametrized)
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight", leave_parametrized=leave_parametrized)
    assert type(mine) is gg.nn.Linear and not parametrize.is_parametrized(mine)
    assert not hasattr(mine, "parametrizations")
    assert mine.weight is original and isinstance(mine.weight, gg.nn.Parameter)  # the same object, kept learning
    assert list(mine.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]  # re-registered last
    np.testing.assert_allclose(mine.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)
    _compare_step(torch, mine, theirs, np.linspace(-2, 2, 8).reshape(2, 4))


@pytest.mark.torch
@pytest.mark.parametrize("stack", [("scaled",), ("squared", "scaled")])
def test_assigning_the_weight_goes_through_right_inverse(torch, stack):
    mine, theirs = _register_both(torch, stack)
    value = np.arange(1.0, 17.0).reshape(4, 4) / 7
    held = mine.parametrizations.weight.original.array
    mine.weight = gg.tensor(value)
    theirs.weight = torch.tensor(value)
    np.testing.assert_allclose(mine.weight.numpy(), value, rtol=1e-12)
    np.testing.assert_allclose(mine.parametrizations.weight.original.numpy(),
                               theirs.parametrizations.weight.original.detach().numpy(), rtol=1e-12)
    assert mine.parametrizations.weight.original.array is held  # written into the original's own memory


def test_assigning_without_right_inverse_and_removing_twice_are_refused():
    layer = parametrize.register_parametrization(_linear(gg), "weight", _custom(gg)["symmetric"]())
    with pytest.raises(RuntimeError, match="parametrization Symmetric does not implement right_inverse"):
        layer.weight = gg.zeros(4, 4, dtype=gg.float64)
    parametrize.remove_parametrizations(layer, "weight")
    with pytest.raises(ValueError, match="Linear has no parametrization on 'weight'"):
        parametrize.remove_parametrizations(layer, "weight")


def test_unknown_names_and_changed_shapes_are_refused():
    kinds = _custom(gg)
    with pytest.raises(ValueError, match="Linear has no parameter, buffer or parametrized tensor 'weights'; it has "
                                         "weight, bias"):
        parametrize.register_parametrization(_linear(gg), "weights", kinds["scaled"]())
    with pytest.raises(ValueError, match=r"may not change the tensor's shape or dtype unless unsafe=True: "
                                         r"\(4, 4\) float64 became \(2, 4\) float64"):
        parametrize.register_parametrization(_linear(gg), "weight", kinds["rows"]())
    with pytest.raises(TypeError, match="the parametrization must be a gg.nn.Module"):
        parametrize.register_parametrization(_linear(gg), "weight", lambda x: x)
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        parametrizations.orthogonal(_linear(gg), orthogonal_map="givens")
    with pytest.raises(ValueError, match="orthogonal: expected a matrix"):
        parametrizations.orthogonal(gg.nn.LayerNorm(3))
    with pytest.raises(ValueError, match="spectral_norm: n_power_iterations must be a whole number"):
        parametrizations.spectral_norm(_linear(gg), n_power_iterations=0)


@pytest.mark.torch
def test_a_shape_changing_parametrization_with_unsafe_matches_pytorch(torch):
    mine, theirs = _register_both(torch, ("rows",), unsafe=True, bias=False)
    assert tuple(mine.weight.shape) == tuple(theirs.weight.shape) == (2, 4)
    _compare_step(torch, mine, theirs, np.linspace(-1, 1, 12).reshape(3, 4))


def test_a_parametrized_layer_deep_copies_and_is_saved_through_its_state_dict():
    layer = parametrizations.spectral_norm(_linear(gg))
    twin = copy.deepcopy(layer)
    assert type(twin) is type(layer)
    assert twin.parametrizations.weight.original is not layer.parametrizations.weight.original
    np.testing.assert_array_equal(twin.weight.numpy(), layer.weight.numpy())
    parametrize.remove_parametrizations(twin, "weight")  # the copy's class changes, not the layer's
    assert type(twin) is gg.nn.Linear and parametrize.is_parametrized(layer)
    with pytest.raises(RuntimeError, match=r"saved through its state_dict\(\)"):
        pickle.dumps(layer)


def test_cached_computes_each_tensor_once_per_block():
    calls = []

    class Counted(gg.nn.Module):
        def forward(self, x):
            calls.append(1)
            return 2.0 * x

    layer = parametrize.register_parametrization(_linear(gg), "weight", Counted())
    calls.clear()
    with parametrize.cached():
        first, second = layer.weight, layer.weight
    assert first is second and len(calls) == 1
    assert layer.weight is not layer.weight and len(calls) == 3


# --- the standard parametrizations -------------------------------------------------------------

LAYERS = {
    "linear": (lambda lib: lib.nn.Linear(4, 3, dtype=lib.float64), (2, 4)),
    "conv2d": (lambda lib: lib.nn.Conv2d(2, 3, 3, dtype=lib.float64), (2, 2, 5, 5)),
    "conv_transpose2d": (lambda lib: lib.nn.ConvTranspose2d(2, 3, 3, dtype=lib.float64), (2, 2, 4, 4)),
}


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(name=st.sampled_from(sorted(LAYERS)), dim=st.sampled_from([0, 1, None, -1]), seed=st.integers(0, 2**16))
def test_weight_norm_matches_pytorch(torch, name, dim, seed):
    make, shape = LAYERS[name]
    theirs, mine = make(torch), make(gg)
    _copy_state(mine, theirs)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    parametrizations.weight_norm(mine, dim=dim)
    assert list(mine.state_dict()) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    assert list(mine.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():  # g and v as PyTorch splits them
        np.testing.assert_allclose(mine.state_dict()[key].numpy(), value.numpy(), rtol=1e-12)
    _compare_step(torch, mine, theirs, np.random.default_rng(seed).normal(size=shape))
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    parametrize.remove_parametrizations(mine, "weight")
    assert type(mine).__name__ == type(theirs).__name__ and isinstance(mine.weight, gg.nn.Parameter)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(mine.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(name=st.sampled_from(sorted(LAYERS)), iterations=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_spectral_norm_matches_pytorch_step_by_step(torch, name, iterations, seed):
    make, shape = LAYERS[name]
    theirs, mine = make(torch), make(gg)
    torch.nn.utils.parametrizations.spectral_norm(theirs, n_power_iterations=iterations)
    parametrizations.spectral_norm(mine, n_power_iterations=iterations)
    u = mine.parametrizations.weight[0]._u
    np.testing.assert_allclose(np.linalg.norm(u.numpy()), 1.0)  # a unit vector of its own draw
    _copy_state(mine, theirs)  # the same weights and the same start of the power iteration
    rng = np.random.default_rng(seed)
    for _ in range(3):  # training: power-iteration steps at each forward
        mine.zero_grad()
        theirs.zero_grad()
        _compare_step(torch, mine, theirs, rng.normal(size=shape))
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(mine.state_dict()[key].numpy(), value.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=key)
    mine.eval()
    theirs.eval()
    before = u.numpy().copy()
    _compare_step(torch, mine, theirs, rng.normal(size=shape))
    np.testing.assert_array_equal(u.numpy(), before)  # no iteration in eval mode
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    parametrize.remove_parametrizations(mine, "weight")
    np.testing.assert_allclose(mine.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-10)


@pytest.mark.torch
def test_spectral_norm_of_a_vector_is_its_direction(torch):
    theirs, mine = torch.nn.LayerNorm(5, dtype=torch.float64), gg.nn.LayerNorm(5, dtype=gg.float64)
    torch.nn.utils.parametrizations.spectral_norm(theirs)
    parametrizations.spectral_norm(mine)
    _copy_state(mine, theirs)
    np.testing.assert_allclose(mine.weight.numpy(), np.ones(5) / np.sqrt(5), rtol=1e-12)
    _compare_step(torch, mine, theirs, np.linspace(-1, 1, 10).reshape(2, 5))


SHAPES = [(4, 4), (5, 3), (3, 5)]


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(orthogonal_map=st.sampled_from([None, "matrix_exp", "cayley", "householder"]),
       shape=st.sampled_from(SHAPES), trivialization=st.booleans(), seed=st.integers(0, 2**16))
def test_orthogonal_matches_pytorch_and_is_orthogonal(torch, orthogonal_map, shape, trivialization, seed):
    rows, columns = shape
    theirs, mine = _linear(torch, rows, columns), _linear(gg, rows, columns)
    _copy_state(mine, theirs)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map,
                                               use_trivialization=trivialization)
    parametrizations.orthogonal(mine, orthogonal_map=orthogonal_map, use_trivialization=trivialization)
    deterministic = rows == columns or not trivialization  # else both complete the base with random draws
    if deterministic:  # registration's right inverse (a QR) gave PyTorch's numbers
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(mine.state_dict()[key].numpy(), value.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=key)
    _copy_state(mine, theirs)
    rng = np.random.default_rng(seed)
    # away from the start (Q ≠ I); the diagonal, ±1 for householder, is never learned: left as it is
    mine.parametrizations.weight.original.array += 0.3 * rng.normal(size=shape) * (1 - np.eye(*shape))
    theirs.parametrizations.weight.original.data = torch.tensor(mine.parametrizations.weight.original.numpy())
    weight = mine.weight.numpy()
    gram = weight.T @ weight if rows >= columns else weight @ weight.T
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)
    np.testing.assert_allclose(weight, theirs.weight.detach().numpy(), rtol=1e-9, atol=1e-12)
    _compare_step(torch, mine, theirs, rng.normal(size=(2, columns)))


@pytest.mark.torch
def test_orthogonal_weight_assigned_with_trivialization_is_kept(torch):
    q = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))[0]
    mine = parametrizations.orthogonal(_linear(gg))
    mine.weight = gg.tensor(q)
    np.testing.assert_allclose(mine.weight.numpy(), q, atol=1e-13)
    np.testing.assert_allclose(mine.parametrizations.weight[0].base.numpy(), q, atol=1e-15)
    with pytest.raises(NotImplementedError, match="cannot be assigned to the cayley map with use_trivialization"):
        parametrizations.orthogonal(_linear(gg), orthogonal_map="cayley", use_trivialization=False).weight = \
            gg.tensor(q)


def _registered(lib, kind):
    """A float64 Linear(4, 4) with ``kind`` registered on its weight (``scaled`` with ``unsafe=True``)."""
    layer = _linear(lib)
    if kind == "scaled":
        return lib.nn.utils.parametrize.register_parametrization(layer, "weight", _custom(lib)["scaled"](),
                                                                 unsafe=True)
    return getattr(lib.nn.utils.parametrizations, kind)(layer)


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(kind=st.sampled_from(["scaled", "weight_norm", "orthogonal", "spectral_norm"]),
       dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**16))
def test_assigning_a_weight_of_another_dtype_is_refused_as_in_pytorch(torch, kind, dtype, seed):
    """``layer.weight = value`` with a float32 value for a float64 layer: PyTorch refuses (the original keeps its
    dtype whatever ``unsafe`` says); glassgrad refused it only without ``unsafe``, so weight_norm and orthogonal
    (registered with unsafe=True) silently turned the layer's originals float32. A float64 value is taken by both,
    giving the same weight."""
    value = np.linalg.qr(np.random.default_rng(seed).normal(size=(4, 4)))[0]  # orthogonal, so any kind takes it
    outcomes = []
    for lib in (gg, torch):
        layer = _registered(lib, kind)
        try:
            layer.weight = lib.tensor(value, dtype=getattr(lib, dtype))
        except ValueError as error:
            outcomes.append(("refused", "dtype" in str(error)))
        else:
            outcomes.append(("taken", layer.weight.detach().numpy()))
        assert {str(p.dtype).removeprefix("torch.") for p in layer.parameters()} == {"float64"}
    mine, theirs = outcomes
    assert mine[0] == theirs[0] == ("refused" if dtype == "float32" else "taken")
    if dtype == "float32":
        assert mine[1] and theirs[1]
    elif kind != "spectral_norm":  # PyTorch's spectral norm keeps the assigned weight over its own u, v
        np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-10, atol=1e-12)


# --- PyTorch's import names, and a compiled step ---------------------------------------------------

def test_pytorch_import_names_reach_parametrize_through_the_shim():
    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch\nimport torch.nn.utils.parametrize as P\n"
               "from torch.nn.utils.parametrizations import weight_norm\n"
               "layer = weight_norm(torch.nn.Linear(3, 2))\n"
               "print(P.is_parametrized(layer), type(layer).__name__, P.type_before_parametrizations(layer).__name__)")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["True", "ParametrizedLinear", "Linear"]


def _trained(kind, compiled, steps=8):
    """``steps`` SGD steps of a small network whose first layer is parametrized; losses and final state."""
    gg.manual_seed(0)
    model = gg.nn.Sequential(gg.nn.Linear(4, 5, dtype=gg.float64, seed=1), gg.nn.Tanh(),
                             gg.nn.Linear(5, 3, dtype=gg.float64, seed=2))
    if kind == "scaled":
        parametrize.register_parametrization(model[0], "weight", _custom(gg)["scaled"]())
    else:
        getattr(parametrizations, kind)(model[0])
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        optimizer.zero_grad()
        loss = gg.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    run = gg.compile(step, fullgraph=True) if compiled else step
    rng = np.random.default_rng(0)
    losses = [run(gg.tensor(rng.normal(size=(6, 4))), gg.tensor(rng.normal(size=(6, 3)))).numpy().copy()
              for _ in range(steps)]
    return losses, {key: value.numpy().copy() for key, value in model.state_dict().items()}, run


@pytest.mark.parametrize("kind", ["scaled", "weight_norm", "spectral_norm", "orthogonal"])
def test_a_compiled_step_with_a_parametrized_layer_replays_bit_identically(kind):
    eager_losses, eager_state, _ = _trained(kind, compiled=False)
    compiled_losses, compiled_state, run = _trained(kind, compiled=True)  # fullgraph: a refusal would raise
    assert sum(entry.replays for entry in run.entries.values()) > 0
    assert all(np.array_equal(a, b) for a, b in zip(eager_losses, compiled_losses))
    assert eager_state.keys() == compiled_state.keys()
    for key, value in eager_state.items():
        np.testing.assert_array_equal(compiled_state[key], value, err_msg=key)


def test_a_compiled_eval_forward_follows_spectral_norm_buffers_changed_between_calls():
    def make():
        return parametrizations.spectral_norm(gg.nn.Linear(4, 3, dtype=gg.float64, seed=1))

    eager, layer = make(), make()
    layer.load_state_dict(eager.state_dict())
    compiled = gg.compile(lambda x: layer(x), fullgraph=True)
    x = gg.tensor(np.linspace(-1, 1, 8).reshape(2, 4))
    for _ in range(4):
        eager.eval()
        layer.eval()
        with gg.no_grad():
            np.testing.assert_array_equal(compiled(x).numpy(), eager(x).numpy())
        eager.train()
        layer.train()
        eager(x), layer(x)  # an eager training forward moves _u and _v: the replay must read the new ones
    assert sum(entry.replays for entry in compiled.entries.values()) > 0


@pytest.mark.torch
def test_a_parametrized_buffer_stays_a_buffer_as_in_pytorch(torch):
    theirs, mine = torch.nn.BatchNorm1d(3), gg.nn.BatchNorm1d(3)
    torch.nn.utils.parametrize.register_parametrization(theirs, "running_var", _custom(torch)["squared"]())
    parametrize.register_parametrization(mine, "running_var", _custom(gg)["squared"]())
    assert [name for name, _ in mine.named_buffers()] == [name for name, _ in theirs.named_buffers()]
    assert [name for name, _ in mine.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    assert list(mine.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(mine.running_var.numpy(), theirs.running_var.numpy())


@pytest.mark.torch
def test_an_old_weight_norm_checkpoint_loads_into_the_parametrization_as_in_pytorch(torch):
    """weight_g / weight_v of nn.utils.weight_norm load into parametrizations.weight_norm in PyTorch (a pre-hook
    renames them); here they were missing and unexpected keys."""
    length, direction, bias = np.array([[2.0], [3.0]]), np.array([[1.0, 1.0], [0.0, 2.0]]), np.array([0.1, 0.2])
    loaded = []
    for library in (gg, torch):
        layer = library.nn.Linear(2, 2).double()
        library.nn.utils.parametrizations.weight_norm(layer)
        keys = layer.load_state_dict({name: library.tensor(value) for name, value in
                                      (("weight_g", length), ("weight_v", direction), ("bias", bias))})
        loaded.append((list(keys.missing_keys), list(keys.unexpected_keys), layer.weight.detach().numpy().tolist()))
    assert loaded[0] == loaded[1]
