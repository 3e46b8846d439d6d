"""PyTorch's older nn spellings against PyTorch 2.13 in float64: init's names without the trailing ``_``,
``clip_grad_norm``, ``NLLLoss2d`` and ``stateless.functional_call`` warn as PyTorch does (the same warning class,
once per call) and give the new name's values and gradients; ``skip_init`` builds a module whose parameters have
PyTorch's names and shapes, draw nothing and train."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

# old name → (arguments after the tensor, the tensor's shape); dirac needs a convolution weight
INIT_CALLS = {
    "uniform": ((-0.5, 2.0), (3, 4)), "normal": ((1.0, 0.3), (3, 4)), "constant": ((0.25,), (3, 4)),
    "xavier_uniform": ((), (3, 4)), "xavier_normal": ((), (3, 4)), "kaiming_uniform": ((), (3, 4)),
    "kaiming_normal": ((), (3, 4)), "orthogonal": ((), (3, 4)), "sparse": ((0.5,), (4, 3)),
    "dirac": ((), (4, 2, 3)), "eye": ((), (3, 4)),
}
DETERMINISTIC = ("constant", "dirac", "eye")


def _warned(call):
    """``call()``'s result and the warnings it raised (each one kept)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, caught


@pytest.mark.parametrize("old", sorted(INIT_CALLS))
def test_init_old_name_warns_like_pytorch_and_fills_as_the_new_one(torch, old):
    arguments, shape = INIT_CALLS[old]
    theirs, their_warnings = _warned(lambda: getattr(torch.nn.init, old)(torch.zeros(shape, dtype=torch.float64),
                                                                          *arguments))
    ours, our_warnings = _warned(lambda: getattr(gg.nn.init, old)(gg.zeros(*shape, dtype=gg.float64), *arguments,
                                                                  **({} if old in DETERMINISTIC else {"seed": 3})))
    assert [w.category for w in our_warnings] == [w.category for w in their_warnings] == [FutureWarning]
    assert f"gg.nn.init.{old}_" in str(our_warnings[0].message)
    assert our_warnings[0].filename == __file__  # points at the caller's line, as PyTorch's does
    new = getattr(gg.nn.init, old + "_")(gg.zeros(*shape, dtype=gg.float64), *arguments,
                                        **({} if old in DETERMINISTIC else {"seed": 3}))
    np.testing.assert_array_equal(ours.numpy(), new.numpy())
    if old in DETERMINISTIC:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert getattr(gg.nn.init, old).__name__ == old


def test_init_old_name_fills_in_place_and_returns_the_tensor():
    w = gg.zeros(2, 2)
    with pytest.warns(FutureWarning, match="eye_"):
        assert gg.nn.init.eye(w) is w
    assert w.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_init_old_name_refuses_what_the_new_one_refuses():
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="eye_ expects a 2-D tensor"):
        gg.nn.init.eye(gg.zeros(3))


@given(shapes=st.lists(st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple), min_size=1, max_size=3),
       seed=st.integers(0, 10_000), max_norm=st.floats(0.1, 5.0))
def test_clip_grad_norm_warns_and_clips_as_pytorch(torch, shapes, seed, max_norm):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(0, 2.0, shape) for shape in shapes]
    ours = [gg.zeros(*shape, dtype=gg.float64, requires_grad=True) for shape in shapes]
    theirs = [torch.zeros(shape, dtype=torch.float64, requires_grad=True) for shape in shapes]
    for param, their_param, grad in zip(ours, theirs, grads):
        param.grad, their_param.grad = gg.tensor(grad), torch.tensor(grad)
    our_norm, our_warnings = _warned(lambda: gg.nn.utils.clip_grad_norm(ours, max_norm))
    their_norm, their_warnings = _warned(lambda: torch.nn.utils.clip_grad_norm(theirs, max_norm))
    assert [w.category for w in our_warnings] == [w.category for w in their_warnings] == [FutureWarning]
    assert "clip_grad_norm_" in str(our_warnings[0].message)
    assert our_norm.item() == pytest.approx(their_norm.item(), rel=1e-12)
    for param, their_param in zip(ours, theirs):
        np.testing.assert_allclose(param.grad.numpy(), their_param.grad.numpy(), rtol=1e-12, atol=1e-15)


@given(batch=st.integers(1, 3), classes=st.integers(2, 4), height=st.integers(1, 4), width=st.integers(1, 4),
       weighted=st.booleans(), reduction=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 10_000))
def test_nll_loss_2d_warns_and_matches_pytorch_values_and_gradients(torch, batch, classes, height, width, weighted,
                                                                    reduction, seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(batch, classes, height, width))
    target = rng.integers(0, classes, size=(batch, height, width))
    weight = rng.uniform(0.5, 2.0, classes) if weighted else None
    ours, our_warnings = _warned(lambda: gg.nn.NLLLoss2d(None if weight is None else gg.tensor(weight),
                                                         reduction=reduction))
    theirs, their_warnings = _warned(lambda: torch.nn.NLLLoss2d(None if weight is None else torch.tensor(weight),
                                                                reduction=reduction))
    assert [w.category for w in our_warnings] == [w.category for w in their_warnings] == [FutureWarning]
    assert isinstance(ours, gg.nn.NLLLoss) and "NLLLoss" in str(our_warnings[0].message)
    x = gg.tensor(scores, requires_grad=True)
    tx = torch.tensor(scores, requires_grad=True)
    out = ours(x.log_softmax(dim=1), gg.tensor(target))
    their_out = theirs(tx.log_softmax(dim=1), torch.tensor(target))
    np.testing.assert_allclose(out.numpy(), their_out.detach().numpy(), rtol=1e-12, atol=1e-14)
    out.sum().backward()
    their_out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


@given(seed=st.integers(0, 10_000), features=st.integers(1, 4), outputs=st.integers(1, 3))
def test_stateless_functional_call_warns_and_runs_as_func_functional_call(torch, seed, features, outputs):
    rng = np.random.default_rng(seed)
    weight, bias, x = rng.normal(size=(outputs, features)), rng.normal(size=outputs), rng.normal(size=(2, features))
    layer = gg.nn.Linear(features, outputs, dtype=gg.float64)
    their_layer = torch.nn.Linear(features, outputs, dtype=torch.float64)
    ours = {"weight": gg.tensor(weight, requires_grad=True), "bias": gg.tensor(bias, requires_grad=True)}
    theirs = {"weight": torch.tensor(weight, requires_grad=True), "bias": torch.tensor(bias, requires_grad=True)}
    out, our_warnings = _warned(lambda: gg.nn.utils.stateless.functional_call(layer, ours, (gg.tensor(x),)))
    their_out, their_warnings = _warned(lambda: torch.nn.utils.stateless.functional_call(their_layer, theirs,
                                                                                         (torch.tensor(x),)))
    assert [w.category for w in our_warnings] == [w.category for w in their_warnings] == [FutureWarning]
    assert "gg.func.functional_call" in str(our_warnings[0].message)
    np.testing.assert_allclose(out.numpy(), their_out.detach().numpy(), rtol=1e-12)
    np.testing.assert_array_equal(out.numpy(), gg.func.functional_call(layer, ours, (gg.tensor(x),)).detach().numpy())
    (out**2).sum().backward()
    (their_out**2).sum().backward()
    for name in ("weight", "bias"):
        np.testing.assert_allclose(ours[name].grad.numpy(), theirs[name].grad.numpy(), rtol=1e-12)
    assert layer.weight.grad is None  # the module's own parameters were stood in for, not used


SKIPPED_MODULES = [("Linear", (3, 2)), ("Conv1d", (2, 4, 3)), ("Conv2d", (2, 4, 3)), ("ConvTranspose2d", (2, 4, 3)),
                   ("Embedding", (5, 3)), ("GRUCell", (3, 4)), ("BatchNorm1d", (3,)),
                   ("MultiheadAttention", (4, 2))]


@pytest.mark.parametrize(("name", "arguments"), SKIPPED_MODULES)
def test_skip_init_gives_pytorchs_parameters_and_draws_nothing(torch, name, arguments):
    theirs = torch.nn.utils.skip_init(getattr(torch.nn, name), *arguments)
    gg.manual_seed(5)
    ours = gg.nn.utils.skip_init(getattr(gg.nn, name), *arguments, device="cpu")
    after = gg.randn(4).tolist()
    gg.manual_seed(5)
    assert after == gg.randn(4).tolist()  # glassgrad's generator was not drawn from
    assert type(ours) is getattr(gg.nn, name)
    assert {n: tuple(p.shape) for n, p in ours.named_parameters()} == \
        {n: tuple(p.shape) for n, p in theirs.named_parameters()}
    assert all(isinstance(p, gg.nn.Parameter) and p.requires_grad for p in ours.parameters())


def test_skip_init_writes_zeros_and_leaves_a_given_generator_alone():
    generator = np.random.default_rng(7)
    layer = gg.nn.utils.skip_init(gg.nn.Linear, 4, 3, generator=generator)
    assert layer.weight.abs().sum().item() == 0.0 and layer.bias.abs().sum().item() == 0.0
    assert generator.random() == np.random.default_rng(7).random()
    assert gg.nn.utils.skip_init(gg.nn.BatchNorm1d, 2).weight.tolist() == [1.0, 1.0]  # set without gg.nn.init


def test_skip_init_parameters_train():
    layer = gg.nn.utils.skip_init(gg.nn.Linear, 2, 1, dtype=gg.float64)
    gg.nn.init.normal_(layer.weight, seed=0)
    x = gg.tensor([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]], dtype=gg.float64)
    y = gg.tensor([[1.0], [0.0], [2.0]], dtype=gg.float64)
    optimizer = gg.optim.SGD(layer.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = ((layer(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert layer.bias.item() != 0.0  # the bias, started at zero, learned too


def test_skip_init_refuses_what_is_not_a_module_class():
    with pytest.raises(TypeError, match="expected a Module class"):
        gg.nn.utils.skip_init(gg.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="glassgrad runs on the CPU"):
        gg.nn.utils.skip_init(gg.nn.Linear, 2, 2, device="cuda")


def test_clip_grad_and_convert_parameters_are_modules_as_in_pytorch(torch):
    import glassgrad.nn.utils.clip_grad as clip_grad
    import glassgrad.nn.utils.convert_parameters as convert_parameters

    for module, their_module in ((clip_grad, torch.nn.utils.clip_grad),
                                 (convert_parameters, torch.nn.utils.convert_parameters)):
        public = [name for name in dir(their_module) if name in dir(torch.nn.utils) and not name.startswith("_")
                  and callable(getattr(their_module, name))]
        assert public
        for name in public:
            assert getattr(module, name) is getattr(gg.nn.utils, name), name
    assert gg.nn.utils.clip_grad is clip_grad and gg.nn.utils.convert_parameters is convert_parameters


def test_skip_init_turns_the_init_functions_back_on_after_a_failed_build():
    with pytest.raises(ValueError, match=r"in_features must be an integer >= 0, got -1"):
        gg.nn.utils.skip_init(gg.nn.Linear, -1, 2)
    assert gg.nn.Linear(3, 2, seed=0).weight.abs().sum().item() > 0
