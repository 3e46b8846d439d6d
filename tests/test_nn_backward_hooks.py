"""Module backward hooks (``register_full_backward_hook``/``_pre_hook``) against PyTorch and by hand."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _hook_log(lib, widths, seed, doubled, between=None):
    """Every hook call of a tanh MLP in ``lib``, in order, and the weights' gradients; layer ``doubled`` doubles
    its grad_input; ``between``: a layer that hands its input back (Identity, Dropout in evaluation) after each
    tanh."""
    nn = lib.nn
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.Tanh()]
        if between is not None:
            layers.append(nn.Identity() if between == "Identity" else nn.Dropout(0.5))
    model = nn.Sequential(*layers).double().eval()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for parameter in model.parameters():
            parameter.copy_(lib.tensor(rng.standard_normal(tuple(parameter.shape)), dtype=lib.float64))
    log = []

    def numbers(grads):
        return [None if grad is None else grad.detach().numpy().copy() for grad in grads]

    for index, layer in enumerate(model):
        layer.register_full_backward_pre_hook(lambda m, out, i=index: log.append(("pre", i, numbers(out))))
        layer.register_full_backward_hook(lambda m, into, out, i=index: log.append(("full", i, numbers(into),
                                                                                    numbers(out))))
    model[doubled].register_full_backward_hook(lambda m, into, out: (into[0] * 2,))
    x = lib.tensor(rng.standard_normal((3, widths[0])), dtype=lib.float64)
    (model(x) ** 2).sum().backward()
    return log, [parameter.grad.numpy() for parameter in model.parameters()]


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # PyTorch's note for the first layer
@given(widths=st.lists(st.integers(1, 4), min_size=2, max_size=4), seed=st.integers(0, 2**16), data=st.data(),
       between=st.sampled_from([None, "Identity", "Dropout"]))
def test_every_hook_call_and_gradient_matches_pytorch(torch, widths, seed, data, between):
    """Also through layers that hand their input back (their hooks ran in the wrong order, the full hook first with
    grad_output=())."""
    per_layer = 2 if between is None else 3
    doubled = data.draw(st.integers(1, per_layer * (len(widths) - 1) - 1))  # not the first: its grad_input is None
    mine, theirs = _hook_log(gg, widths, seed, doubled, between), _hook_log(torch, widths, seed, doubled, between)
    assert [entry[:2] for entry in mine[0]] == [entry[:2] for entry in theirs[0]]  # the same calls, in order
    for a, b in zip(mine[0], theirs[0]):
        for grads_a, grads_b in zip(a[2:], b[2:]):
            assert [g is None for g in grads_a] == [g is None for g in grads_b]
            for g_a, g_b in zip(grads_a, grads_b):
                if g_a is not None:
                    np.testing.assert_allclose(g_a, g_b, rtol=1e-12, atol=1e-12)
    for a, b in zip(mine[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_grad_input_is_what_flows_through_the_module_only():
    layer = gg.nn.Linear(2, 2, bias=False)
    with gg.no_grad():
        layer.weight.copy_(gg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    seen = {}
    layer.register_full_backward_hook(lambda m, into, out: seen.update(into=into[0].tolist(), out=out[0].tolist()))
    x = gg.tensor([[1.0, 1.0]], requires_grad=True)
    (layer(x) + x).sum().backward()  # a residual: x also reaches the loss around the layer
    assert seen == {"out": [[1.0, 1.0]], "into": [[4.0, 6.0]]}  # 1ᵀW, without the residual's 1
    assert x.grad.tolist() == [[5.0, 7.0]]


def test_a_pre_hook_replaces_grad_output_and_removal_stops_it():
    layer = gg.nn.Linear(2, 1)
    handle = layer.register_full_backward_pre_hook(lambda m, out: (out[0] * 0,))
    layer(gg.ones(1, 2)).sum().backward()
    assert layer.weight.grad.tolist() == [[0.0, 0.0]]
    handle.remove()
    layer(gg.ones(1, 2)).sum().backward()
    assert layer.weight.grad.tolist() == [[1.0, 1.0]]


def test_hooks_on_a_module_without_grad_inputs_get_none():
    layer = gg.nn.Linear(2, 1)
    seen = []
    layer.register_full_backward_hook(lambda m, into, out: seen.append((into, out[0].shape)))
    layer(gg.ones(3, 2)).sum().backward()
    assert seen == [((None,), (3, 1))]


def _several_log(library, kind):
    """Every hook call of a module with two inputs that require grad (``"inputs"``: a · b, a number beside them),
    with two outputs (``"outputs"``: (a, 2a), the second unused), with a tuple whose second entry is a tuple
    (``"nested"``: an LSTM), or a list (``"list"``: not hooked, as PyTorch warns); the pre-hook doubles the
    first grad_output and the full hook triples the first grad_input. Then the inputs' .grad."""
    nn = library.nn

    class Two(nn.Module):
        def forward(self, a, b, scale):
            return a * b * scale

    class Pair(nn.Module):
        def forward(self, a):
            return a, a * 2

    class Listed(nn.Module):
        def forward(self, a):
            return [a * 2]

    a = library.tensor([1.0, -2.0], dtype=library.float64, requires_grad=True)
    b = library.tensor([3.0, 0.5], dtype=library.float64, requires_grad=True)
    if kind == "nested":
        module = nn.LSTM(2, 2, batch_first=True).double()
        with library.no_grad():
            for k, parameter in enumerate(module.parameters()):
                parameter.copy_(library.linspace(-0.5, 0.5 + k / 10, parameter.numel(), dtype=library.float64)
                                .reshape(parameter.shape))
        arguments = (a.reshape(1, 1, 2),)
    else:
        module = {"inputs": Two, "outputs": Pair, "list": Listed}[kind]()
        arguments = (a, b, 2.0) if kind == "inputs" else (a,)
    log = []

    def numbers(grads):  # to 10 digits: the LSTM's cell sums in another order than PyTorch's
        return [None if grad is None else np.round(grad.detach().numpy(), 10).tolist() for grad in grads]

    def pre(module, grad_output):
        log.append(("pre", numbers(grad_output)))
        return (grad_output[0] * 2, *grad_output[1:])

    def full(module, grad_input, grad_output):
        log.append(("full", numbers(grad_input), numbers(grad_output)))
        return (grad_input[0] * 3, *grad_input[1:])

    module.register_full_backward_pre_hook(pre)
    module.register_full_backward_hook(full)
    output = module(*arguments)
    first = output[0][0] if kind == "nested" else output[0]
    (first.sum() * 5 + (first ** 2).sum()).backward()
    return log, numbers([a.grad, b.grad])


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:For backward hooks to be called")
@pytest.mark.parametrize("kind", ["inputs", "outputs", "nested", "list"])
def test_modules_with_several_inputs_or_outputs_get_pytorchs_hook_calls(torch, kind):
    """A module with two inputs that require grad, or two output tensors, was refused in one line; one returning a
    list raised where PyTorch warns and calls no hook."""
    assert _several_log(gg, kind) == _several_log(torch, kind)


def test_a_replacement_of_the_wrong_length_is_refused():
    layer = gg.nn.Linear(2, 1)
    layer.register_full_backward_hook(lambda m, into, out: (into[0], into[0]))
    with pytest.raises(RuntimeError, match=r"^Linear: backward hook '<lambda>' returned 2 grad_input entries, but "
                                           r"expected 1"):
        layer(gg.ones(1, 2, requires_grad=True)).sum().backward()


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["full", "pre"])
def test_a_none_entry_a_hook_returns_stops_that_gradient_as_in_pytorch(torch, kind):
    """A hook's (None,) replaces the gradient by nothing in PyTorch; glassgrad kept it (a tensor hook's None keeps).
    Here nothing is zeros, where PyTorch leaves some .grad None: the numbers agree."""
    grads = []
    for library in (gg, torch):
        layer = library.nn.Linear(2, 2).double()
        with library.no_grad():
            layer.weight.copy_(library.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=library.float64))
        if kind == "full":
            layer.register_full_backward_hook(lambda module, into, out: (None,))
        else:
            layer.register_full_backward_pre_hook(lambda module, out: (None,))
        x = library.tensor([[1.0, 1.0]], dtype=library.float64, requires_grad=True)
        layer(x).sum().backward()
        grads.append([np.zeros(2) if t.grad is None else t.grad.numpy().ravel() for t in (x, layer.bias)])
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.torch
def test_the_outer_modules_hooks_run_first_where_it_and_its_last_layer_share_an_output(torch):
    """A Sequential's pre-hook (×10) and its last layer's (clamp ≤ 1): PyTorch runs the outer one first; glassgrad
    ran them in the order they were registered on the one output tensor, the inner first (40 where PyTorch has 4)."""
    grads = []
    for library in (gg, torch):
        model = library.nn.Sequential(library.nn.Linear(2, 2)).double()
        with library.no_grad():
            model[0].weight.copy_(library.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=library.float64))
        model.register_full_backward_pre_hook(lambda module, out: (out[0] * 10,))
        model[0].register_full_backward_pre_hook(lambda module, out: (out[0].clamp(max=1.0),))
        x = library.tensor([[1.0, -2.0]], dtype=library.float64, requires_grad=True)
        model(x).sum().backward()
        grads.append((x.grad.tolist(), model[0].weight.grad.tolist()))
    assert grads[0] == grads[1]


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_a_hooked_module_runs_under_no_grad_as_in_pytorch(torch, mode):
    """Evaluation under no_grad() of a hooked module with an input that requires grad raised 'cannot register a
    hook on a tensor that doesn't require gradient'."""
    outputs = []
    for library in (gg, torch):
        layer = library.nn.Linear(2, 2)
        layer.register_full_backward_hook(lambda module, into, out: None)
        layer.register_full_backward_pre_hook(lambda module, out: None)
        with getattr(library, mode)():
            out = layer(library.ones(1, 2, requires_grad=True))
        outputs.append((tuple(out.shape), out.requires_grad))
    assert outputs[0] == outputs[1] == ((1, 2), False)


def _hooked_tanh_log(library, in_sequential):
    """A Tanh (alone, or the last layer of a Sequential also hooked) whose output the caller hooks (×2) after the
    call: the hooks' grad_output and grad_input, and x.grad."""
    seen = []
    layer = library.nn.Tanh()
    layer.register_full_backward_hook(lambda m, into, out: seen.append(("layer", into[0].tolist(), out[0].tolist())))
    model = library.nn.Sequential(layer) if in_sequential else layer
    if in_sequential:
        model.register_full_backward_hook(lambda m, into, out: seen.append(("model", into[0].tolist(),
                                                                            out[0].tolist())))
    x = library.tensor([1.0, -2.0], dtype=library.float64, requires_grad=True)
    y = model(x)
    y.register_hook(lambda grad: grad * 2)
    y.sum().backward()
    return seen, x.grad.tolist()


@pytest.mark.torch
@pytest.mark.parametrize("in_sequential", [False, True])
def test_grad_output_is_the_gradient_after_the_hooks_the_caller_put_on_the_output(torch, in_sequential):
    """PyTorch runs a tensor's hooks before its node's, so a hook added to a layer's output after the call changes
    the layer's grad_output: glassgrad's hooks ran in the order they were added, the layer's first, so grad_output
    was 1 and grad_input 2·(1 − tanh²), the two at odds."""
    assert _hooked_tanh_log(gg, in_sequential) == _hooked_tanh_log(torch, in_sequential)


@pytest.mark.torch
def test_grad_input_holds_zeros_for_a_tensor_input_that_needs_no_gradient_as_in_pytorch(torch):
    """A module called with (x, mask): PyTorch's grad_input has zeros of the mask's shape and dtype where glassgrad
    had None; an input that is no tensor stays None."""
    logs = []
    for library in (gg, torch):
        class Masked(library.nn.Module):
            def forward(self, a, mask, scale):
                return a * mask * scale

        seen = []
        module = Masked()
        module.register_full_backward_hook(lambda m, into, out, seen=seen: seen.append(
            [None if grad is None else (str(grad.dtype).split(".")[-1], grad.tolist()) for grad in into]))
        x = library.tensor([1.0, 2.0], requires_grad=True)
        module(x, library.tensor([[3.0], [4.0], [5.0]]), 2.0).sum().backward()
        module(library.tensor([True, False]), x, 1.0).sum().backward()
        logs.append(seen)
    assert logs[0] == logs[1]


def _retained_around_a_pre_hook(library, create_graph):
    """A Tanh whose pre-hook triples grad_output, its output hooked (×2) and retaining its gradient: y.grad, the
    pre-hook's grad_output and x's gradient."""
    seen = []
    layer = library.nn.Tanh()
    layer.register_full_backward_pre_hook(lambda m, out: seen.append(out[0].tolist()) or (out[0] * 3,))
    x = library.tensor([1.0, -2.0], dtype=library.float64, requires_grad=True)
    y = layer(x)
    y.register_hook(lambda grad: grad * 2)
    y.retain_grad()
    if create_graph:
        (found,) = library.autograd.grad(y.sum(), x, create_graph=True)
    else:
        y.sum().backward()
        found = x.grad
    return y.grad.tolist(), seen, np.round(found.detach().numpy(), 12).tolist()


@pytest.mark.torch
@pytest.mark.parametrize("create_graph", [False, True])
def test_a_retained_gradient_of_a_hooked_output_is_kept_before_the_modules_pre_hook(torch, create_graph):
    """PyTorch keeps y.grad after y's own hooks and before the module's (its node's): y.grad was the pre-hook's
    result too (6 where PyTorch has 2)."""
    assert _retained_around_a_pre_hook(gg, create_graph) == _retained_around_a_pre_hook(torch, create_graph)
