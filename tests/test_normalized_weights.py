"""``nn.utils.weight_norm`` / ``spectral_norm`` (and their ``remove_*``) against PyTorch 2.13, in float64.

Oracle: PyTorch's hook-based forms on the same layer with the same weights (for spectral norm also the
same starting ``u`` and ``v``, copied, since each library draws its own): the state dict's names, the
layer's output, every gradient, the buffers after each training step's power iteration, eval mode
(no iteration), and the weight folded back by ``remove_*``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

LAYERS = {  # name: (make the layer in either library, input shape)
    "linear": (lambda lib: lib.nn.Linear(4, 3, dtype=lib.float64), (2, 4)),
    "conv2d": (lambda lib: lib.nn.Conv2d(2, 3, 3, dtype=lib.float64), (2, 2, 5, 5)),
    "conv1d": (lambda lib: lib.nn.Conv1d(2, 3, 2, dtype=lib.float64), (2, 2, 6)),
    "conv_transpose2d": (lambda lib: lib.nn.ConvTranspose2d(2, 3, 3, dtype=lib.float64), (2, 2, 4, 4)),
    "conv_transpose3d": (lambda lib: lib.nn.ConvTranspose3d(2, 3, 2, dtype=lib.float64), (1, 2, 2, 3, 2)),
}


def _pair(torch, name):
    make, shape = LAYERS[name]
    theirs, mine = make(torch), make(gg)
    mine.load_state_dict({key: gg.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    return mine, theirs, shape


def _step(torch, mine, theirs, x):
    """One forward and backward of both layers on ``x``: outputs and the input's gradient agree."""
    mine_x, their_x = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mine_out, their_out = mine(mine_x), theirs(their_x)
    weights = np.linspace(-1, 1, mine_out.numel()).reshape(mine_out.shape)
    (mine_out * gg.tensor(weights)).square().sum().backward()
    (their_out * torch.tensor(weights)).square().sum().backward()
    np.testing.assert_allclose(mine_out.numpy(), their_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mine_x.grad.numpy(), their_x.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(sorted(LAYERS)), dim=st.sampled_from([0, 1, None, -1]), seed=st.integers(0, 2**16))
def test_weight_norm_matches_pytorch(torch, name, dim, seed):
    mine, theirs, shape = _pair(torch, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PyTorch points to its newer parametrizations form
        torch.nn.utils.weight_norm(theirs, dim=dim)
    gg.nn.utils.weight_norm(mine, dim=dim)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(mine.weight_g.numpy(), theirs.weight_g.detach().numpy(), rtol=1e-12)
    _step(torch, mine, theirs, np.random.default_rng(seed).normal(size=shape))
    for suffix in ("_g", "_v"):
        np.testing.assert_allclose(getattr(mine, "weight" + suffix).grad.numpy(),
                                   getattr(theirs, "weight" + suffix).grad.numpy(), rtol=1e-10, atol=1e-12)
    torch.nn.utils.remove_weight_norm(theirs)
    gg.nn.utils.remove_weight_norm(mine)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert isinstance(mine.weight, gg.nn.Parameter)
    np.testing.assert_allclose(mine.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(sorted(LAYERS)), iterations=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_spectral_norm_matches_pytorch_step_by_step(torch, name, iterations, seed):
    mine, theirs, shape = _pair(torch, name)
    torch.nn.utils.spectral_norm(theirs, n_power_iterations=iterations)
    gg.nn.utils.spectral_norm(mine, n_power_iterations=iterations)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(np.linalg.norm(mine.weight_u.numpy()), 1.0)  # a unit vector of its own draw
    mine.weight_u.array[...] = theirs.weight_u.numpy()  # the same start (each library draws its own)
    mine.weight_v.array[...] = theirs.weight_v.numpy()
    rng = np.random.default_rng(seed)
    for _ in range(3):  # training: one power iteration step (or more) per forward
        _step(torch, mine, theirs, rng.normal(size=shape))
        for suffix in ("_u", "_v"):
            np.testing.assert_allclose(getattr(mine, "weight" + suffix).numpy(),
                                       getattr(theirs, "weight" + suffix).numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mine.weight_orig.grad.numpy(), theirs.weight_orig.grad.numpy(), rtol=1e-9,
                                   atol=1e-12)
    mine.eval()
    theirs.eval()
    held = mine.weight_u.numpy().copy()
    _step(torch, mine, theirs, rng.normal(size=shape))
    np.testing.assert_array_equal(mine.weight_u.numpy(), held)  # eval: no iteration
    torch.nn.utils.remove_spectral_norm(theirs)
    gg.nn.utils.remove_spectral_norm(mine)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(mine.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)


def test_the_largest_singular_value_of_the_normalised_weight_goes_to_one():
    layer = gg.nn.utils.spectral_norm(gg.nn.Linear(6, 5, dtype=gg.float64, seed=0), n_power_iterations=1)
    for _ in range(30):
        layer(gg.ones(1, 6, dtype=gg.float64))
    assert abs(np.linalg.svd(layer.weight.numpy(), compute_uv=False)[0] - 1.0) < 1e-6


def test_a_compiled_step_with_a_normalised_layer_replays_with_eagers_numbers():
    def train(compiled):
        layer = gg.nn.utils.weight_norm(gg.nn.Linear(3, 2, dtype=gg.float64, seed=1))
        optimizer = gg.optim.SGD(layer.parameters(), lr=0.1)

        def step(x):
            optimizer.zero_grad()
            loss = layer(x).square().sum()
            loss.backward()
            optimizer.step()
            return loss

        run = gg.compile(step) if compiled else step
        losses = [run(gg.tensor([[1.0, float(k), -1.0]], dtype=gg.float64)).item() for k in range(4)]
        return losses, sum(entry.replays for entry in run.entries.values()) if compiled else 2

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no refusal: the hook's ops are kernels of the step
        compiled = train(True)
    assert compiled == train(False)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.utils.weight_norm(gg.nn.ReLU()), "has no parameter 'weight' to normalise"),
    (lambda: gg.nn.utils.weight_norm(gg.nn.utils.weight_norm(gg.nn.Linear(2, 2))), "normalised already"),
    (lambda: gg.nn.utils.weight_norm(gg.nn.Linear(2, 2), dim=2), "weight_norm: dim 2 is out of range"),
    (lambda: gg.nn.utils.spectral_norm(gg.nn.Linear(2, 2), n_power_iterations=0), "n_power_iterations must be"),
    (lambda: gg.nn.utils.remove_weight_norm(gg.nn.Linear(2, 2)), "is not normalised this way"),
    (lambda: gg.nn.utils.remove_spectral_norm(gg.nn.utils.weight_norm(gg.nn.Linear(2, 2))), "not normalised this"),
])
def test_bad_arguments_raise_one_line(call, message):
    with pytest.raises((ValueError, RuntimeError, IndexError), match=message) as error:
        call()
    assert "\n" not in str(error.value)


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(size=st.integers(1, 6), dim=st.sampled_from([0, None, -1]), form=st.sampled_from(["hook", "parametrization"]),
       seed=st.integers(0, 2**16))
def test_weight_norm_of_a_vector_gives_each_entry_its_own_length_as_pytorchs(torch, size, dim, form, seed):
    """weight_norm of a 1-d parameter (a bias) with dim=0: each entry is a slice of its own, ‖vᵢ‖ = |vᵢ|, so
    w = g ⊙ v / |v| starts equal to v. glassgrad summed over no dims, which a tensor's sum reads as all of them: one
    length ‖v‖ for the whole vector, so a bias of [1, −2, 3] became [0.27, −1.07, 2.41]."""
    rng = np.random.default_rng(seed)
    bias, upstream = rng.normal(size=(2, size))

    def run(library):
        layer = library.nn.Linear(2, size, dtype=library.float64)
        with library.no_grad():
            layer.bias.copy_(library.tensor(bias))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            if form == "hook":
                library.nn.utils.weight_norm(layer, "bias", dim=dim)
            else:
                library.nn.utils.parametrizations.weight_norm(layer, "bias", dim=dim)
        output = layer(library.zeros(1, 2, dtype=library.float64))
        (output * library.tensor(upstream)).sum().backward()
        return output.detach().numpy(), {name: p.grad.numpy() for name, p in layer.named_parameters()}

    (output, gradients), (expected, expected_gradients) = run(gg), run(torch)
    np.testing.assert_allclose(output, expected, rtol=1e-12)
    assert list(gradients) == list(expected_gradients)
    for name, gradient in gradients.items():
        np.testing.assert_allclose(gradient, expected_gradients[name], rtol=1e-10, atol=1e-12, err_msg=name)
