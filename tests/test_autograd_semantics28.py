"""The autograd API's semantics against PyTorch: small graphs (add, mul, matmul, views, expand, indexing, clone,
detach, in-place changes of non-leaves) driven through ``backward``, ``gg.autograd.grad``, tensor and module hooks
and the grad modes; what is returned, which ``.grad`` is set, the hooks' calls and the exception class must match.

Differences from PyTorch that are glassgrad's documented design, and so not compared here: ``grad_fn.name()`` is
the op's name (``'mul'``, not ``'MulBackward0'``); changes made through ``.data`` still count as in-place changes;
leaves get their ``.grad`` (and their hooks run) at the end of the pass together, so the order of leaf hooks among
other hooks, and which leaves hold a gradient when a pass raises half-way, may differ.
"""

from __future__ import annotations

import math
import random
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.grad_fn import AccumulateGrad


def _t(lib, values, requires_grad=True):
    return lib.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


def _plain(value):
    """A log entry as plain Python: tensors as rounded lists, exceptions as their class."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(entry) for entry in value]
    return np.asarray(value.detach().numpy()).tolist()


def _same(mine, theirs) -> bool:
    """Equal logs, numbers within float64 rounding (relative 1e-9)."""
    if isinstance(mine, float) and isinstance(theirs, float):
        return math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(mine) and math.isnan(theirs))
    if isinstance(mine, (list, tuple)) and isinstance(theirs, (list, tuple)):
        return len(mine) == len(theirs) and all(_same(a, b) for a, b in zip(mine, theirs))
    return type(mine) is type(theirs) and mine == theirs


def _run(scenario, lib):
    log = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scenario(lib, log)
        except Exception as error:  # the class is compared: the messages are glassgrad's own
            log.append(("raised", type(error).__name__))
    return _plain(log)


# --- defects found by the fuzzer (each failed before its fix) ------------------------------------------------------


@pytest.mark.torch
def test_a_non_leaf_passed_as_backward_input_retains_its_grad_from_then_on_as_pytorchs(torch):
    def scenario(lib, log):
        x = _t(lib, [1.0, 2.0])
        y = x * 2
        z = (y * y).sum()
        z.backward(inputs=[y], retain_graph=True)
        log += [y.retains_grad, y.grad.clone(), x.grad]
        z.backward()  # a plain backward adds into y.grad too, as into a retained one
        log += [y.grad, x.grad]
        lib.autograd.backward((y * 3).sum(), inputs=[y])
        log.append(y.grad)

    mine = _run(scenario, gg)
    assert _same(mine, _run(scenario, torch)), mine
    assert mine[:2] == [True, [4.0, 8.0]]


def test_every_node_down_to_a_leaf_has_a_callable_name():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    names = []
    node = (w * 3).sum().grad_fn
    while node is not None:
        names.append(node.name())  # the tutorials' walk: print(fn.name()) down next_functions
        node = node.next_functions[0][0] if node.next_functions else None
    assert names == ["sum", "mul", "AccumulateGrad"]
    assert isinstance(AccumulateGrad(w).name, str)


def _grad_mode_in_hooks(lib, create_graph, how):
    seen = []
    x, w = _t(lib, [1.0, 2.0]), _t(lib, [3.0, 4.0])
    layer = lib.nn.Identity()
    layer.register_full_backward_hook(lambda module, grad_input, grad_output: seen.append(lib.is_grad_enabled()))
    x.register_hook(lambda grad: seen.append((lib.is_grad_enabled(), (grad * w).requires_grad)))
    w.register_post_accumulate_grad_hook(lambda leaf: seen.append(lib.is_grad_enabled()))
    hidden = layer(x * w)
    loss = (hidden * hidden).sum()
    if how == "backward":
        loss.backward(create_graph=create_graph)
    elif how == "inputs":
        loss.backward(inputs=[x, w], create_graph=create_graph)
    else:
        lib.autograd.grad(loss, [x, w], create_graph=create_graph)
    return seen


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # PyTorch's reference-cycle note
@pytest.mark.parametrize("how", ["backward", "inputs", "grad"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_hooks_run_in_the_grad_mode_of_the_pass_as_pytorchs(torch, create_graph, how):
    """PyTorch runs a backward pass in grad mode ``create_graph``: a hook records nothing unless it is True."""
    mine = _grad_mode_in_hooks(gg, create_graph, how)
    assert mine == _grad_mode_in_hooks(torch, create_graph, how)
    if not create_graph:
        assert (False, False) in mine


@pytest.mark.torch
def test_pytorchs_post_accumulate_hook_example_updates_the_parameter_in_the_pass(torch):
    results = []
    for lib in (gg, torch):
        v = lib.tensor([0.0, 0.0, 0.0], requires_grad=True)
        v.register_post_accumulate_grad_hook(lambda p: p.add_(p.grad, alpha=-0.01))  # add_ returns p
        v.backward(lib.tensor([1.0, 2.0, 3.0]))
        results.append((v.detach().numpy().copy(), v.requires_grad, v.is_leaf))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1:] == results[1][1:] == (True, True)


def test_a_post_accumulate_hook_returning_something_else_is_still_refused():
    v = gg.tensor([0.0, 0.0], requires_grad=True)
    v.register_post_accumulate_grad_hook(lambda p: p.grad * 2)
    with pytest.raises(RuntimeError, match="must return None"):
        v.sum().backward()


# --- scenarios that already behaved as PyTorch's, pinned ----------------------------------------------------------

SCENARIOS = {}


def _log_refusals(log, *calls):
    """Call each; log "refused" for each that raises a RuntimeError."""
    for call in calls:
        try:
            call()
        except RuntimeError:
            log.append("refused")


def _scenario(function):
    SCENARIOS[function.__name__] = function
    return function


@_scenario
def backward_twice_without_retain_graph(lib, log):
    x = _t(lib, [1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    log.append(x.grad)
    y.backward()


@_scenario
def backward_twice_with_retain_graph_accumulates(lib, log):
    x = _t(lib, [1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    log.append(x.grad)


@_scenario
def backward_of_a_vector_without_gradient(lib, log):
    (_t(lib, [1.0, 2.0]) * 2).backward()


@_scenario
def backward_with_a_gradient_of_another_shape(lib, log):
    (_t(lib, [[1.0, 2.0]]) * 2).backward(lib.ones(2, dtype=lib.float64))


@_scenario
def backward_with_empty_inputs(lib, log):
    x = _t(lib, [1.0, 2.0])
    (x * x).sum().backward(inputs=[])


@_scenario
def backward_with_an_input_off_the_graph(lib, log):
    x, w = _t(lib, [1.0, 2.0]), _t(lib, [3.0, 4.0])
    (x * x).sum().backward(inputs=[w])
    log += [x.grad, w.grad]


@_scenario
def backward_with_a_gradient_that_requires_grad(lib, log):
    x, g = _t(lib, [1.0, 2.0]), _t(lib, [1.0, 1.0])
    (x * x).backward(g, create_graph=True)
    log.append(x.grad)
    x.grad.sum().backward()
    log.append(g.grad)


@_scenario
def grad_of_an_unused_input(lib, log):
    x, w = _t(lib, [1.0, 2.0]), _t(lib, [3.0, 4.0])
    log.append(lib.autograd.grad((x * x).sum(), [x, w], allow_unused=True))
    log.append(lib.autograd.grad((x * x).sum(), [x, w], materialize_grads=True))
    lib.autograd.grad((x * x).sum(), [x, w])


@_scenario
def grad_of_an_output_that_is_an_input_and_a_non_leaf(lib, log):
    x = _t(lib, [1.0, 2.0])
    y = x.exp()
    log.append(lib.autograd.grad([(y * y).sum(), x], [y, x], [None, lib.ones(2, dtype=lib.float64)]))
    log.append(x.grad)


@_scenario
def grad_through_a_freed_graph(lib, log):
    x = _t(lib, [1.0, 2.0])
    z = x.exp().sum()
    lib.autograd.grad(z, x)
    lib.autograd.grad(z, x)


@_scenario
def grad_with_create_graph_then_backward(lib, log):
    x = _t(lib, [1.0, 2.0])
    (g,) = lib.autograd.grad((x ** 3).sum(), x, create_graph=True)
    log += [g, g.requires_grad]
    g.sum().backward()
    log.append(x.grad)


@_scenario
def grad_with_batched_grad_outputs(lib, log):
    x, w = _t(lib, [1.0, 2.0]), _t(lib, [3.0, 4.0])
    log.append(lib.autograd.grad(x * w, [x, w], lib.eye(2, dtype=lib.float64), is_grads_batched=True))


@_scenario
def hooks_and_retain_grad_in_order(lib, log):
    x = _t(lib, [1.0, 2.0])
    y = x * 3
    y.register_hook(lambda grad: (log.append(("first", grad)), grad * 2)[1])
    y.retain_grad()  # keeps the gradient after every hook, those registered later too
    y.register_hook(lambda grad: (log.append(("second", grad)), grad + 1)[1])
    (y * y).sum().backward()
    log += [y.grad, x.grad]


@_scenario
def hooks_around_an_in_place_change(lib, log):
    x = _t(lib, [1.0, 2.0])
    y = x * 3
    y.register_hook(lambda grad: (log.append(("old", grad)), grad * 2)[1])
    y.retain_grad()
    y.mul_(5)
    y.register_hook(lambda grad: log.append(("new", grad)))
    (y * y).sum().backward()
    log += [y.grad, x.grad]


@_scenario
def hooks_of_a_diamond(lib, log):
    x = _t(lib, [1.0, 2.0])
    a = x.exp()
    b, c = a * 2, a * 3
    for name, tensor in (("a", a), ("b", b), ("c", c)):
        tensor.register_hook(lambda grad, name=name: log.append((name, grad)))
    ((b + c).sum() + (b * c).sum()).backward()
    log.append(x.grad)


@_scenario
def a_removed_hook_and_a_post_accumulate_hook(lib, log):
    x = _t(lib, [1.0, 2.0])
    handle = x.register_hook(lambda grad: grad * 10)
    x.register_hook(lambda grad: (log.append(("pre", grad)), grad * 2)[1])
    x.register_post_accumulate_grad_hook(lambda leaf: log.append(("post", leaf.grad)))
    handle.remove()
    handle.remove()
    (x * x).sum().backward()
    (x * x).sum().backward()


@_scenario
def retain_grad_of_a_view_then_its_base_changed(lib, log):
    x = _t(lib, [1.0, 2.0, 3.0])
    y = x * 2
    v = y[1:]
    v.retain_grad()
    v.mul_(3)
    (y * y).sum().backward()
    log += [v.grad, x.grad]


@_scenario
def hook_on_a_tensor_that_needs_no_grad(lib, log):
    _t(lib, [1.0], False).register_hook(lambda grad: grad)


@_scenario
def post_accumulate_hook_on_a_non_leaf(lib, log):
    (_t(lib, [1.0]) * 2).register_post_accumulate_grad_hook(lambda leaf: None)


@_scenario
def hook_that_changes_the_shape(lib, log):
    x = _t(lib, [1.0, 2.0])
    x.register_hook(lambda grad: grad.sum())
    (x * x).sum().backward()


@_scenario
def requires_grad_of_a_non_leaf_switched_off(lib, log):
    (_t(lib, [1.0]) * 2).requires_grad_(False)


@_scenario
def requires_grad_switched_off_after_the_forward(lib, log):
    x = _t(lib, [1.0, 2.0], False)
    x.requires_grad_()
    y = (x * x).sum()
    x.requires_grad_(False)
    y.backward()
    log += [x.grad, x.requires_grad]


@_scenario
def detach_in_place_of_a_view(lib, log):
    (_t(lib, [1.0, 2.0, 3.0]) * 1)[1:].detach_()


@_scenario
def detach_in_place_of_a_non_leaf(lib, log):
    y = _t(lib, [1.0, 2.0]) * 1
    y.detach_()
    log += [y.requires_grad, y.is_leaf, y.grad_fn]


@_scenario
def a_detached_alias_changed_in_place(lib, log):
    x = _t(lib, [1.0, 2.0])
    y = x.exp()
    y.detach().add_(1)
    y.sum().backward()


@_scenario
def a_leaf_changed_under_no_grad(lib, log):
    w = _t(lib, [1.0, 2.0])
    with lib.no_grad():
        w.mul_(2)
    (w * w).sum().backward()
    log += [w.grad, w.is_leaf]


@_scenario
def a_leaf_or_its_view_changed_in_place(lib, log):
    x = _t(lib, [1.0, 2.0])
    _log_refusals(log, lambda: x.add_(1), lambda: x[0].mul_(2))


@_scenario
def grad_modes_nested_and_called_alone(lib, log):
    no_grad, enable_grad = lib.no_grad(), lib.enable_grad()
    with no_grad:
        with enable_grad:
            with no_grad:
                log.append(lib.is_grad_enabled())
            log.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(True):
            log.append(lib.is_grad_enabled())
        log.append(lib.is_grad_enabled())
    switch = lib.set_grad_enabled(False)
    log.append(lib.is_grad_enabled())
    with switch:
        log.append(lib.is_grad_enabled())
    log.append(lib.is_grad_enabled())
    lib.set_grad_enabled(True)


@_scenario
def grad_modes_of_decorated_generators(lib, log):
    @lib.no_grad()
    def off():
        yield lib.is_grad_enabled()
        yield lib.is_grad_enabled()

    @lib.inference_mode()
    def inferring():
        yield lib.is_inference_mode_enabled()

    generator = off()
    log += [next(generator), lib.is_grad_enabled(), next(generator), next(inferring()), lib.is_inference_mode_enabled()]

    @lib.set_grad_enabled(False)
    def raising():
        raise ValueError

    with pytest.raises(ValueError):
        raising()
    log.append(lib.is_grad_enabled())


@_scenario
def inference_tensors_used_outside(lib, log):
    with lib.inference_mode():
        made = lib.ones(2, dtype=lib.float64)
    log.append(made.is_inference())
    _log_refusals(log, lambda: (made * _t(lib, [1.0, 2.0])).sum().backward(), lambda: made.add_(1),
                  lambda: made.requires_grad_())


@_scenario
def module_hooks_with_kwargs_and_always_call(lib, log):
    class Scale(lib.nn.Module):
        def forward(self, x, scale=1.0):
            if scale < 0:
                raise ValueError("negative")
            return x * scale

    module = Scale()
    module.register_forward_pre_hook(lambda m, args, kwargs: (args, {**kwargs, "scale": kwargs["scale"] * 5}),
                                     with_kwargs=True)
    module.register_forward_hook(lambda m, args, kwargs, out: log.append(("after", sorted(kwargs), out)),
                                 with_kwargs=True, always_call=True)
    log.append(module(_t(lib, [1.0], False), scale=2.0))
    module(_t(lib, [1.0], False), scale=-1.0)


@_scenario
def module_backward_hooks_with_none_entries(lib, log):
    class Two(lib.nn.Module):
        def forward(self, x, y):
            return x * 2, y * 3, x.detach()

    module = Two()
    module.register_full_backward_pre_hook(lambda m, grad_output: log.append(("pre", grad_output)))
    module.register_full_backward_hook(lambda m, grad_input, grad_output: log.append(("full", grad_input)))
    x, y = _t(lib, [1.0, 2.0]), _t(lib, [1.0, 2.0], False)
    a, _, _ = module(x, y)
    a.sum().backward()
    log.append(x.grad)


@_scenario
def module_backward_hooks_replace_gradients(lib, log):
    layer = lib.nn.Linear(2, 2).double()
    with lib.no_grad():
        layer.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64))
        layer.bias.zero_()
    layer.register_full_backward_hook(lambda m, grad_input, grad_output: (grad_input[0] * 10,))
    layer.register_full_backward_pre_hook(lambda m, grad_output: (grad_output[0] * 2,))
    x = _t(lib, [[1.0, 1.0]])
    layer(x).sum().backward()
    log += [x.grad, layer.weight.grad]


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_scenario_gives_pytorchs_values_hooks_and_errors(torch, name):
    mine, theirs = _run(SCENARIOS[name], gg), _run(SCENARIOS[name], torch)
    assert _same(mine, theirs), (mine, theirs)


# --- the fuzzer's core: random small graphs through backward and autograd.grad -------------------------------------

STEPS = ["add", "sub", "mul", "matmul", "exp", "tanh", "view", "t", "expand", "index", "clone", "detach", "sum0",
         "mul_", "add_", "row_mul_"]
MODES = ["backward", "backward_inputs", "backward_create", "grad", "grad_allow", "grad_materialize", "grad_create",
         "backward_retained_twice"]


def _draw(rng: random.Random) -> tuple:
    """A program: leaves, steps, hooks (kind, tensor, registered after step) and how the pass is run."""
    leaves = [(rng.random() < 0.8, [round(rng.uniform(-2, 2), 3) for _ in range(6)]) for _ in range(rng.randint(1, 3))]
    count = len(leaves)
    steps = []
    for _ in range(rng.randint(2, 6)):
        steps.append((rng.choice(STEPS), rng.randrange(count), rng.randrange(count), round(rng.uniform(0.5, 2), 3)))
        count += 1
    hooks = []
    for _ in range(rng.randint(0, 3)):
        after = rng.randrange(count)
        hooks.append((rng.choice(["look", "scale", "retain", "post"]), rng.randrange(after + 1), after))
    mode = rng.choice(MODES)
    if mode.startswith("grad"):  # PyTorch's quirk: grad() returns a hooked non-leaf input's gradient before its
        hooks = [hook for hook in hooks if hook[0] != "scale"]  # hooks when another input needs its node, else after
    return leaves, steps, hooks, mode, sorted({rng.randrange(count) for _ in range(rng.randint(1, 3))})


def _grid(lib, x):
    """Any step's result as a 2×3 tensor, the same way in both libraries."""
    shape = tuple(x.shape)
    if shape == (2, 3):
        return x
    if shape == (3, 2):
        return x.t()
    if shape == (3,):
        return x.expand(2, 3)
    return x.sum() * lib.ones(2, 3, dtype=lib.float64)


def _step(lib, kind, x, y, c, own):
    """One step of a program on ``x`` (and ``y``; ``own``: ``x``, or a copy of it where ``x`` is a leaf that requires
    grad or a view of one, which may not be changed in place)."""
    if kind in ("mul_", "add_"):
        return own.mul_(c) if kind == "mul_" else own.add_(_grid(lib, y) * c if own.dim() == 2 else c)
    if kind in ("tanh", "clone", "detach"):
        return getattr(x, kind)()
    x, y = _grid(lib, x), _grid(lib, y)
    return {"add": lambda: x + y, "sub": lambda: x - c * y, "mul": lambda: x * y, "matmul": lambda: x @ y.t(),
            "index": lambda: x[lib.tensor([1, 0, 1])], "exp": lambda: (x * 0.3).exp(), "view": lambda: x.reshape(3, 2),
            "t": lambda: x.t(), "expand": lambda: x[0].expand(2, 3), "sum0": lambda: x.sum(0),
            "row_mul_": lambda: x * 1}[kind]()


def _execute(lib, program) -> list:
    leaves, steps, hooks, mode, chosen = program
    log, tensors, leafish = [], [], []

    def hook_after(position):
        for kind, index, after in hooks:
            if after != position:
                continue
            tensor = tensors[index]
            try:
                if kind == "look":
                    tensor.register_hook(lambda grad, index=index: log.append(("look", index, _plain(grad))))
                elif kind == "scale":
                    tensor.register_hook(lambda grad, index=index: (log.append(("scale", index)), grad * 1.5)[1])
                elif kind == "retain":
                    tensor.retain_grad()
                else:
                    tensor.register_post_accumulate_grad_hook(
                        lambda leaf, index=index: log.append(("post", index, _plain(leaf.grad))))
            except RuntimeError:
                log.append(("hook refused", kind))

    for requires_grad, values in leaves:
        tensors.append(lib.tensor(np.reshape(values, (2, 3)), dtype=lib.float64, requires_grad=requires_grad))
        leafish.append(True)
        hook_after(len(tensors) - 1)
    try:
        for kind, a, b, c in steps:
            x, y = tensors[a], tensors[b]
            own = x * 1 if x.requires_grad and leafish[a] else x  # a leaf (or its view) is not changed in place
            result = _step(lib, kind, x, y, c, own)
            if kind == "row_mul_":  # an in-place change of a row: the base's node becomes a copy of slices
                result[0].mul_(c)
            tensors.append(result)
            leafish.append(result.is_leaf or (kind in ("view", "t", "expand") and leafish[a]))
            hook_after(len(tensors) - 1)
    except RuntimeError:
        return [("forward refused",)]
    weights = lib.tensor(np.arange(1, 7).reshape(2, 3) / 7, dtype=lib.float64)
    loss = (_grid(lib, tensors[-1]) * weights).sum()
    inputs = [tensors[index] for index in chosen]
    try:
        if mode == "backward":
            loss.backward()
        elif mode == "backward_inputs":
            loss.backward(inputs=inputs)
        elif mode == "backward_retained_twice":
            loss.backward(retain_graph=True)
            loss.backward()
        elif mode == "backward_create":
            loss.backward(create_graph=True)
            held = [t for t in tensors if t.is_leaf and t.requires_grad and t.grad is not None]
            second = sum((t.grad * t.grad).sum() for t in held) if held else None
            if second is not None and second.requires_grad:
                for t in held:
                    t.grad = None
                second.backward()
        else:
            found = lib.autograd.grad(loss, inputs, allow_unused=True if mode == "grad_allow" else None,
                                      materialize_grads=mode == "grad_materialize", create_graph=mode == "grad_create")
            log.append(("returned", _plain(found), [g is not None and g.requires_grad for g in found]))
    except RuntimeError as error:
        return [("backward refused", type(error).__name__)]  # (which leaves hold a grad then is not compared)
    hook_calls = sorted(log, key=lambda call: call[:2])  # each tensor's calls in order; not the order among tensors
    grads = [_plain(t.grad) if (t.is_leaf or t.retains_grad) else None for t in tensors]
    return [hook_calls, grads, [t.retains_grad for t in tensors]]


@pytest.mark.torch
@given(seed=st.integers(0, 2**32 - 1))
def test_random_small_graphs_give_pytorchs_gradients_hooks_and_errors(torch, seed):
    program = _draw(random.Random(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, theirs = _execute(gg, program), _execute(torch, program)
    assert _same(mine, theirs), (program, mine, theirs)
