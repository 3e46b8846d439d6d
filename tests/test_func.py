"""``gg.func``: functional_call, grad and grad_and_value against PyTorch's ``torch.func``."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _inner_step(lib, seed):
    """A meta-learning inner step: new weights w − 0.1·∇L(w), then the loss of those weights, differentiated
    through the step (a second derivative) back to the model's own weights."""
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1)).double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for parameter in model.parameters():
            parameter.copy_(lib.tensor(rng.standard_normal(tuple(parameter.shape))))
    x, y = lib.tensor(rng.standard_normal((5, 3))), lib.tensor(rng.standard_normal((5, 1)))
    params = dict(model.named_parameters())
    loss = ((lib.func.functional_call(model, params, (x,)) - y) ** 2).mean()
    grads = lib.autograd.grad(loss, list(params.values()), create_graph=True)
    adapted = {name: p - 0.1 * g for (name, p), g in zip(params.items(), grads)}
    outer = ((lib.func.functional_call(model, adapted, (x,)) - y) ** 2).mean()
    outer.backward()
    own = [p.detach().numpy().copy() for p in model.parameters()]  # the model's own tensors are back
    return [outer.detach().numpy()] + [p.grad.numpy() for p in model.parameters()] + own


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
def test_a_meta_learning_step_through_functional_call_matches_pytorch(torch, seed):
    for mine, theirs in zip(_inner_step(gg, seed), _inner_step(torch, seed)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), aux=st.booleans())
def test_grad_and_grad_and_value_match_pytorch(torch, seed, aux):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    results = []
    for lib in (gg, torch):
        def f(x, y, lib=lib):
            value = (x.sin() * y).sum() ** 2
            return (value, x * 2) if aux else value

        gradients = lib.func.grad(f, argnums=(0, 1), has_aux=aux)(lib.tensor(a), lib.tensor(b))
        first, value = lib.func.grad_and_value(f, has_aux=aux)(lib.tensor(a), lib.tensor(b))
        flat = list(gradients[0] if aux else gradients) + [first, value[0] if aux else value]
        results.append([t.detach().numpy() for t in flat])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_the_models_own_tensors_come_back_also_after_an_error():
    model = gg.nn.Linear(2, 1)
    weight = model.weight
    with pytest.raises(RuntimeError):
        gg.func.functional_call(model, {"weight": gg.ones(1, 3)}, (gg.ones(4, 2),))  # the wrong shape
    assert model.weight is weight and model._parameters["weight"] is weight


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.func.functional_call(gg.nn.Linear(2, 1), {"scale": gg.ones(1)}, (gg.ones(1, 2),)), AttributeError,
     r"^functional_call: Linear has no parameter, buffer or tensor attribute 'scale'"),
    (lambda: gg.func.functional_call(gg.nn.Linear(2, 1), {"weight": gg.ones(1, 2), "scale": gg.ones(1)},
                                     (gg.ones(1, 2),), strict=True),
     RuntimeError,
     r"^functional_call\(strict=True\): no tensor given for bias; scale: no parameter or buffer of Linear$"),
    (lambda: gg.func.functional_call(gg.nn.Linear(2, 1), {"training": gg.ones(1)}, (gg.ones(1, 2),)), TypeError,
     r"^functional_call: 'training' is a bool attribute of Linear, not a tensor"),
    (lambda: gg.func.functional_call(gg.nn.Linear(2, 1), [{"weight": gg.ones(1, 2)}, 3], (gg.ones(1, 2),)),
     ValueError, r"^functional_call: give the tensors as a dict of name → tensor, or a list or tuple of such dicts"),
    (lambda: gg.func.functional_call(gg.nn.Linear(2, 1), {"weight": gg.ones(1, 2)}, (gg.ones(1, 2),), strict=True),
     RuntimeError, r"^functional_call\(strict=True\): no tensor given for bias$"),
    (lambda: gg.func.grad(lambda x: x * 2)(gg.ones(2)), RuntimeError,
     r"^grad: the function must return one Tensor with a single element"),
    (lambda: gg.func.grad(lambda x: x)(3.0), ValueError, "^grad: argument 0 must be a Tensor"),  # PyTorch's class
])
def test_bad_calls_are_refused_in_one_line(call, error, message):
    with pytest.raises(error, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)


def _tied_model(lib):
    """An encoder and a decoder sharing one weight (``dec.weight = enc.weight``: named_parameters() lists it once)."""
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = lib.nn.Linear(2, 2, bias=False).double()
            self.dec = lib.nn.Linear(2, 2, bias=False).double()
            self.dec.weight = self.enc.weight

        def forward(self, x):
            return self.dec(self.enc(x))

    return Tied()


def test_functional_call_puts_a_tied_weight_in_every_place_it_is_held():
    """W = [[1, 2], [3, 4]] given for enc.weight stands for dec.weight too (tie_weights=True, PyTorch's default):
    out = W·W·x with x = (1, −1): W·x = (−1, −1), W·(−1, −1) = (−3, −7). Only enc was replaced before: (−1, −1)
    went through the module's own decoder weight, and the gradient missed the decoder's use of W. By hand,
    ∂(Σ out)/∂W = 1·(Wx)ᵀ + (Wᵀ1)·xᵀ = [[−1, −1], [−1, −1]] + [[4, −4], [6, −6]]."""
    model = _tied_model(gg)
    weight = gg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=gg.float64, requires_grad=True)
    out = gg.func.functional_call(model, {"enc.weight": weight}, (gg.tensor([1.0, -1.0], dtype=gg.float64),))
    assert out.tolist() == [-3.0, -7.0]
    out.sum().backward()
    assert weight.grad.tolist() == [[3.0, -5.0], [5.0, -7.0]]
    assert model.dec.weight is model.enc.weight and model.enc.weight is not weight  # put back
    untied = gg.func.functional_call(model, {"enc.weight": weight}, (gg.tensor([1.0, -1.0], dtype=gg.float64),),
                                     tie_weights=False)
    np.testing.assert_allclose(untied.detach().numpy(),
                               model.dec.weight.detach().numpy() @ [-1.0, -1.0], rtol=1e-15)


def test_functional_call_refuses_two_tensors_for_one_tied_weight():
    model = _tied_model(gg)
    first, second = gg.ones(2, 2, dtype=gg.float64), gg.zeros(2, 2, dtype=gg.float64)
    with pytest.raises(ValueError, match="'dec.weight' and 'enc.weight'|'enc.weight' and 'dec.weight'"):
        gg.func.functional_call(model, {"enc.weight": first, "dec.weight": second}, (gg.ones(2, dtype=gg.float64),))
    same = gg.func.functional_call(model, {"enc.weight": first, "dec.weight": first}, (gg.ones(2, dtype=gg.float64),))
    assert same.tolist() == [4.0, 4.0]


def _scaled_tied_model(lib, weight, scale):
    """dec(enc(x))·scale with ``dec.weight = enc.weight`` (named_parameters() lists it once, as enc.weight) and
    ``scale`` a plain tensor attribute (no parameter, no buffer), plus a bias that is a parameter of dec only."""
    class ScaledTied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = lib.nn.Linear(2, 2, bias=False).double()
            self.dec = lib.nn.Linear(2, 2).double()
            self.dec.weight = self.enc.weight
            self.scale = lib.tensor(scale, dtype=lib.float64)
            with lib.no_grad():
                self.enc.weight.copy_(lib.tensor(weight, dtype=lib.float64))
                self.dec.bias.zero_()

        def forward(self, x):
            return self.dec(self.enc(x)) * self.scale

    return ScaledTied()


def _functional_call_outcome(lib, weight, scale, given, tie_weights, strict, as_list):
    """The output of functional_call and the gradients of its sum with respect to the given tensors, or the
    class of the error raised."""
    rng = np.random.default_rng(len(given))
    model = _scaled_tied_model(lib, weight, scale)
    tensors = {name: lib.tensor(rng.standard_normal(() if name == "scale" else (2,) if name == "dec.bias" else (2, 2)),
                                requires_grad=True) for name in given}
    dicts = [{name: tensor} for name, tensor in tensors.items()] if as_list else tensors
    try:
        out = lib.func.functional_call(model, dicts, (lib.tensor([1.0, -2.0], dtype=lib.float64),),
                                       tie_weights=tie_weights, strict=strict)
    except (RuntimeError, ValueError, AttributeError) as error:
        return type(error).__name__
    out.sum().backward()
    kept = model.enc.weight.detach().numpy().tolist(), model.dec.weight is model.enc.weight, float(model.scale)
    return out.detach().numpy(), [tensor.grad.numpy() for tensor in tensors.values()], kept


@pytest.mark.torch
@given(weight=st.lists(st.lists(st.floats(-3, 3), min_size=2, max_size=2), min_size=2, max_size=2),
       scale=st.floats(-2, 2),
       given=st.lists(st.sampled_from(["enc.weight", "dec.weight", "dec.bias", "scale"]), unique=True, max_size=4),
       tie_weights=st.booleans(), strict=st.booleans(), as_list=st.booleans())
def test_functional_call_with_tied_weights_strict_and_tensor_attributes_matches_pytorch(
        torch, weight, scale, given, tie_weights, strict, as_list):
    """Which names functional_call accepts and what it computes with them, as PyTorch: a tied weight under
    either of its names (strict=True with tie_weights wants one of them, without tie_weights both), a plain
    tensor attribute (scale: unexpected under strict), a list of dicts. glassgrad counted the names once
    (named_parameters()), so strict refused dec.weight alone and let tie_weights=False run without dec.weight;
    it refused scale and a list of dicts."""
    mine = _functional_call_outcome(gg, weight, scale, given, tie_weights, strict, as_list)
    theirs = _functional_call_outcome(torch, weight, scale, given, tie_weights, strict, as_list)
    if isinstance(theirs, str) or isinstance(mine, str):
        assert mine == theirs
        return
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-12, atol=1e-12)
    for my_grad, their_grad in zip(mine[1], theirs[1]):
        np.testing.assert_allclose(my_grad, their_grad, rtol=1e-12, atol=1e-12)
    assert mine[2] == theirs[2] == (weight, True, scale)  # the model's own tensors are back


def test_functional_call_puts_a_plain_tensor_attribute_and_none_in_for_the_call():
    """out = W·x·s with W = I, x = (1, −2), s = 3 given for the attribute scale: (3, −6); the module's own scale
    (2) is back afterwards. None given for dec.bias drops the bias for the call, as in PyTorch."""
    model = _scaled_tied_model(gg, [[1.0, 0.0], [0.0, 1.0]], 2.0)
    with gg.no_grad():
        model.dec.bias.fill_(10.0)
    out = gg.func.functional_call(model, [{"scale": gg.tensor(3.0, dtype=gg.float64)}, {"dec.bias": None}],
                                  (gg.tensor([1.0, -2.0], dtype=gg.float64),))
    assert out.tolist() == [3.0, -6.0]
    assert float(model.scale) == 2.0 and model.dec.bias.tolist() == [10.0, 10.0]


def _counting(lib):
    """A module whose forward replaces its buffer ``count`` (``count ← count + step``, a new tensor) and adds into
    ``total`` in place, returning ``x · count``."""
    class Counting(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("count", lib.tensor(0.0, dtype=lib.float64))
            self.register_buffer("total", lib.tensor(0.0, dtype=lib.float64))

        def forward(self, x, step):
            self.count = self.count + step
            self.total += step
            return x * self.count

    return Counting()


@pytest.mark.torch
@given(start=st.floats(-5, 5), steps=st.lists(st.floats(-2, 2), min_size=1, max_size=4), as_list=st.booleans())
def test_a_buffer_the_forward_replaces_is_written_back_into_the_dict_as_in_pytorch(torch, start, steps, as_list):
    """Calls of functional_call threading one dict of buffers through: PyTorch writes the tensor the forward put
    in place of a given one back into the dict (not into a list of dicts), so the count goes on from call to
    call; glassgrad kept the given tensor there, and every call started again from ``start``."""
    seen = []
    for lib in (gg, torch):
        model = _counting(lib)
        state = {"count": lib.tensor(start, dtype=lib.float64), "total": lib.tensor(0.0, dtype=lib.float64)}
        outputs = []
        for step in steps:
            out = lib.func.functional_call(model, [state] if as_list else state,
                                           (lib.tensor(2.0, dtype=lib.float64), step))
            outputs.append(out.item())
        seen.append([*outputs, state["count"].item(), state["total"].item(), model.count.item(), model.total.item()])
    np.testing.assert_allclose(seen[0], seen[1], rtol=1e-12, atol=1e-12)
