"""Module forward and backward hooks against PyTorch 2.13 (round 46): call order, replaced arguments, outputs and
gradients, what a hook may return, handles, ``always_call``, global hooks."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _numbers(value):
    """Plain numbers (nested lists) of a tensor, a tuple or list of them, or the value itself."""
    if isinstance(value, (tuple, list)):
        return [_numbers(entry) for entry in value]
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy(), dtype=float).round(10).tolist()
    return value


def _global(lib):
    """Where each library keeps its global module hooks."""
    return lib.nn.modules.module if lib.__name__ == "torch" else lib.nn


def _linear(lib, seed=0, fan_in=2, fan_out=2):
    layer = lib.nn.Linear(fan_in, fan_out).double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(rng.standard_normal((fan_out, fan_in)), dtype=lib.float64))
        layer.bias.copy_(lib.tensor(rng.standard_normal(fan_out), dtype=lib.float64))
    return layer


def _pair(lib):
    """A module of two inputs and a keyword giving a tuple of two outputs."""
    class Pair(lib.nn.Module):
        def forward(self, a, b, scale=1.0):
            return a * b * scale, a + b
    return Pair()


def _both(torch, case):
    """``case(lib)`` on PyTorch and on glassgrad, as numbers (or the exception's class), warnings silenced."""
    results = []
    for lib in (torch, gg):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                results.append(_numbers(case(lib)))
            except Exception as error:  # noqa: BLE001 - the class is what is compared
                results.append(type(error).__name__)
    return results


# --- defects fixed in round 46 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["full", "pre"])
def test_backward_hook_returning_a_list_replaces_the_gradients(torch, kind):
    """A full backward hook (pre-hook) returning a list of gradients raised TypeError; PyTorch takes any sequence
    of the right length."""
    def case(lib):
        layer = _linear(lib, 1)
        if kind == "full":
            layer.register_full_backward_hook(lambda module, grad_input, grad_output: [grad_input[0] * 3])
        else:
            layer.register_full_backward_pre_hook(lambda module, grad_output: [grad_output[0] * 2])
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        layer(x).sum().backward()
        return x.grad, layer.weight.grad
    torch_result, gg_result = _both(torch, case)
    assert gg_result == torch_result
    assert not isinstance(gg_result, str)


def test_backward_hook_returning_gradients_where_no_input_requires_grad_is_refused(torch):
    """Where no input of the call requires grad the hook's returned gradients went nowhere, silently; PyTorch
    raises RuntimeError. A tuple of None is still taken."""
    def case(lib, returned):
        layer = _linear(lib, 2)
        layer.register_full_backward_hook(lambda module, grad_input, grad_output: returned(grad_output))
        layer(lib.tensor([1.0, 2.0], dtype=lib.float64)).sum().backward()
        return layer.weight.grad
    assert _both(torch, lambda lib: case(lib, lambda grad_output: (grad_output[0],))) == ["RuntimeError"] * 2
    torch_result, gg_result = _both(torch, lambda lib: case(lib, lambda grad_output: (None,)))
    assert gg_result == torch_result and not isinstance(gg_result, str)
    layer = _linear(gg, 2)
    layer.register_full_backward_hook(lambda module, grad_input, grad_output: grad_output)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="no input of this call requires grad"):
        layer(gg.tensor([1.0, 2.0], dtype=gg.float64)).sum().backward()


# --- the fuzzer's core: random hooked module trees ------------------------------------------------------------------

_HOOK = st.tuples(st.sampled_from(["pre", "pre_kw", "fwd", "fwd_kw", "bw", "bw_pre"]), st.booleans(), st.booleans())


def _hooked_run(lib, kinds, hooks, seed, outer):
    """A ``Sequential`` of ``kinds`` layers (float64, seeded weights), each with its ``hooks`` (kind, prepend,
    replaces), optionally an outer hook on the whole; every hook call logged, in order, with what it saw; the
    output, the input's and the weights' gradients."""
    nn = lib.nn
    make = {"Linear": lambda index: _linear(lib, seed + index), "Tanh": lambda index: nn.Tanh(),
            "ReLU": lambda index: nn.ReLU(), "Identity": lambda index: nn.Identity()}
    model = nn.Sequential(*(make[kind](index) for index, kind in enumerate(kinds)))
    log = []

    def add(module, name, kind, prepend, replaces):
        def tag(*seen):
            log.append((name, kind, _numbers([entry for entry in seen if not isinstance(entry, dict)])))
        if kind == "pre":
            module.register_forward_pre_hook(
                lambda m, args: (tag(args), args[0] * 2 if replaces else None)[1], prepend=prepend)
        elif kind == "pre_kw":
            module.register_forward_pre_hook(
                lambda m, args, kwargs: (tag(args), ((args[0] - 1,), kwargs) if replaces else None)[1],
                prepend=prepend, with_kwargs=True)
        elif kind in ("fwd", "fwd_kw"):
            def forward_hook(m, args, *rest):
                tag(args, rest[-1])
                return rest[-1] + 1 if replaces else None
            module.register_forward_hook(forward_hook, prepend=prepend, with_kwargs=kind == "fwd_kw")
        elif kind == "bw":
            module.register_full_backward_hook(
                lambda m, grad_input, grad_output: (tag(grad_input, grad_output),
                                                    tuple(g * 2 for g in grad_input) if replaces else None)[1],
                prepend=prepend)
        else:
            module.register_full_backward_pre_hook(
                lambda m, grad_output: (tag(grad_output), (grad_output[0] * 0.5,) if replaces else None)[1],
                prepend=prepend)

    for index, (layer, layer_hooks) in enumerate(zip(model, hooks)):
        for kind, prepend, replaces in layer_hooks:
            add(layer, index, kind, prepend, replaces)
    if outer is not None:
        add(model, "outer", *outer)
    x = lib.tensor(np.random.default_rng(seed).standard_normal(2), dtype=lib.float64, requires_grad=True)
    x.register_hook(lambda grad: log.append(("x", "tensor", _numbers(grad))))
    y = model(x)
    y.register_hook(lambda grad: log.append(("y", "tensor", _numbers(grad))))
    (y * lib.tensor([1.0, -2.0], dtype=lib.float64)).sum().backward()
    return log, y, x.grad, [parameter.grad for parameter in model.parameters()]


@given(kinds=st.lists(st.sampled_from(["Linear", "Tanh", "ReLU", "Identity"]), min_size=1, max_size=4),
       data=st.data(), seed=st.integers(0, 50))
def test_random_hooked_trees_match_pytorch(torch, kinds, data, seed):
    hooks = [data.draw(st.lists(_HOOK, max_size=3)) for _ in kinds]
    outer = data.draw(st.none() | _HOOK)
    torch_result, gg_result = _both(torch, lambda lib: _hooked_run(lib, kinds, hooks, seed, outer))
    assert gg_result == torch_result
    assert not isinstance(gg_result, str)  # ran, not raised on both


# --- pinned: cases that already behaved as PyTorch -----------------------------------------------------------------

def _t(lib, values, requires_grad=False):
    return lib.tensor(values, dtype=lib.float64, requires_grad=requires_grad)


def _grads(grads):
    return [None if grad is None else grad for grad in grads]


def _order_and_replacements(lib):
    log, layer = [], _linear(lib, 3)
    layer.register_forward_pre_hook(lambda m, args: (log.append("pre1"), args[0] * 2)[1])  # a lone tensor
    layer.register_forward_pre_hook(lambda m, args: log.append("pre0"), prepend=True)
    layer.register_forward_hook(lambda m, args, output: (log.append("f1"), output + 1)[1])
    layer.register_forward_hook(lambda m, args, kwargs, output: log.append(("f0", kwargs)), prepend=True,
                                with_kwargs=True)
    return log, layer(_t(lib, [1.0, 1.0]))


def _keyword_pre_hook(lib):
    log, pair = [], _pair(lib)
    pair.register_forward_pre_hook(lambda m, args, kwargs: (log.append(dict(kwargs)), ((args[1], args[0]),
                                                                                       {"scale": 3.0}))[1],
                                   with_kwargs=True)
    pair.register_forward_hook(lambda m, args, kwargs, output: log.append(dict(kwargs)), with_kwargs=True)
    return log, pair(_t(lib, [1.0, 2.0]), _t(lib, [3.0, 4.0]), scale=2.0)


def _keyword_pre_hook_bad_return(lib):
    pair = _pair(lib)
    pair.register_forward_pre_hook(lambda m, args, kwargs: args[0], with_kwargs=True)  # neither None nor a pair
    return pair(_t(lib, [1.0]), _t(lib, [2.0]))


def _always_call(lib, where):
    log = []

    class Failing(lib.nn.Module):
        def forward(self, x):
            if where == "forward":
                raise ValueError("boom")
            return x * 2
    module = Failing()
    if where == "pre":
        module.register_forward_pre_hook(lambda m, args: 1 / 0)
    module.register_forward_hook(lambda m, args, output: log.append(("ac1", _numbers(output))), always_call=True)
    module.register_forward_hook(lambda m, args, output: log.append("plain") or (1 / 0 if where == "hook" else None))
    module.register_forward_hook(lambda m, args, kwargs, output: log.append(("ac2", kwargs, _numbers(output))),
                                 always_call=True, with_kwargs=True)
    try:
        module(_t(lib, [1.0]))
    except (ValueError, ZeroDivisionError) as error:
        log.append(type(error).__name__)
    return log


def _remove_inside_and_twice(lib):
    log, relu, handle = [], lib.nn.ReLU(), []

    def once(m, args, output):
        log.append("once")
        handle[0].remove()
    handle.append(relu.register_forward_hook(once))
    relu.register_forward_hook(lambda m, args, output: log.append("always"))
    relu(_t(lib, [1.0]))
    relu(_t(lib, [1.0]))
    handle[0].remove()
    with relu.register_forward_pre_hook(lambda m, args: log.append("scoped")):
        relu(_t(lib, [1.0]))
    relu(_t(lib, [1.0]))
    return log, len(relu._forward_hooks), len(relu._forward_pre_hooks)


def _global_hooks(lib):
    log, where = [], _global(lib)
    handles = [where.register_module_forward_pre_hook(lambda m, args: log.append(("gpre", type(m).__name__))),
               where.register_module_forward_hook(lambda m, args, output: log.append(("gf", type(m).__name__))),
               where.register_module_forward_hook(lambda m, args, kwargs, output: log.append(("gkw", kwargs)),
                                                  with_kwargs=True)]
    try:
        model = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh())
        model.register_forward_pre_hook(lambda m, args: log.append("pre"), prepend=True)
        model.register_forward_hook(lambda m, args, output: log.append("fwd"), prepend=True)
        model(_t(lib, [1.0]))
    finally:
        for handle in handles:
            handle.remove()
    return log


def _module_inside_hook(lib):
    log, relu, tanh = [], lib.nn.ReLU(), lib.nn.Tanh()
    tanh.register_forward_hook(lambda m, args, output: log.append("tanh"))
    relu.register_forward_hook(lambda m, args, output: (log.append("relu"), tanh(output))[1])
    return log, relu(_t(lib, [0.5, -1.0]))


def _backward_none_for_plain_inputs(lib):
    log, pair = [], _pair(lib)
    pair.register_full_backward_hook(lambda m, grad_input, grad_output: log.append(("bh", grad_input,
                                                                                    _grads(grad_output))))
    pair.register_full_backward_pre_hook(lambda m, grad_output: log.append(("bp", grad_output)))
    a, b = _t(lib, [1.0, 2.0], True), _t(lib, [3.0, 4.0])
    first, _ = pair(a, b)
    first.sum().backward()
    return log, a.grad


def _module_and_tensor_hook_order(lib):
    log, tanh = [], lib.nn.Tanh()
    tanh.register_full_backward_hook(lambda m, grad_input, grad_output: (log.append("module"),
                                                                          (grad_input[0] * 10,))[1])
    tanh.register_full_backward_pre_hook(lambda m, grad_output: (log.append("pre"), (grad_output[0] * 2,))[1])
    x = _t(lib, [0.5, 1.0], True)
    x.register_hook(lambda grad: log.append(("x", grad)))
    y = tanh(x)
    y.register_hook(lambda grad: log.append(("y", grad)))
    y.sum().backward()
    return log, x.grad


def _used_twice(lib):
    log, layer = [], _linear(lib, 4)
    layer.register_full_backward_hook(lambda m, grad_input, grad_output: log.append((grad_input, grad_output)))
    layer.register_full_backward_pre_hook(lambda m, grad_output: log.append(grad_output))
    x = _t(lib, [1.0, 2.0], True)
    (layer(layer(x)) * _t(lib, [1.0, 3.0])).sum().backward()
    return log, x.grad, layer.weight.grad


def _input_without_grad(lib):
    log, layer = [], _linear(lib, 5)
    layer.register_full_backward_hook(lambda m, grad_input, grad_output: log.append((grad_input, grad_output)))
    layer(_t(lib, [1.0, 2.0])).sum().backward()
    return log, layer.weight.grad


def _no_grad_and_eval(lib):
    log, model = [], lib.nn.Sequential(_linear(lib, 6), lib.nn.Dropout(0.5))
    model[0].register_full_backward_hook(lambda m, grad_input, grad_output: log.append("bh"))
    model[1].register_forward_hook(lambda m, args, output: log.append(("dropout", m.training,
                                                                        output.requires_grad)))
    with lib.no_grad():
        quiet = model.eval()(_t(lib, [1.0, 2.0], True))
    loud = model(_t(lib, [1.0, 2.0], True))
    loud.sum().backward()
    return log, quiet, quiet.requires_grad, loud


def _tuple_output_partly_used(lib):
    log, pair = [], _pair(lib)
    pair.register_full_backward_hook(lambda m, grad_input, grad_output: log.append(
        ([g is None for g in grad_input], [g is None for g in grad_output])))
    pair.register_forward_hook(lambda m, args, output: (output[0], output[1], 7))
    a, b = _t(lib, [1.0, 2.0], True), _t(lib, [3.0, 4.0], True)
    out = pair(a, b)
    (out[0] * 2).sum().backward()
    return log, a.grad, b.grad, out[2]


def _identity_twice_replacing(lib):
    log, identity = [], lib.nn.Identity()
    identity.register_full_backward_hook(lambda m, grad_input, grad_output: (
        log.append((grad_input, grad_output)), (grad_input[0] * 2,))[1])
    x = _t(lib, [1.0, 2.0], True)
    (identity(identity(x)) * _t(lib, [1.0, 3.0])).sum().backward()
    return log, x.grad


def _backward_hook_wrong_count(lib):
    tanh = lib.nn.Tanh()
    tanh.register_full_backward_hook(lambda m, grad_input, grad_output: (grad_input[0], grad_input[0]))
    x = _t(lib, [1.0], True)
    tanh(x).sum().backward()
    return x.grad


@pytest.mark.parametrize("case", [
    _order_and_replacements, _keyword_pre_hook, _keyword_pre_hook_bad_return,
    lambda lib: _always_call(lib, "forward"), lambda lib: _always_call(lib, "pre"),
    lambda lib: _always_call(lib, "hook"), _remove_inside_and_twice, _global_hooks, _module_inside_hook,
    _backward_none_for_plain_inputs, _module_and_tensor_hook_order, _used_twice, _input_without_grad,
    _no_grad_and_eval, _tuple_output_partly_used, _identity_twice_replacing, _backward_hook_wrong_count,
], ids=["order", "kwargs-pre", "kwargs-pre-bad", "always-forward", "always-pre", "always-hook", "remove",
        "global", "inside-hook", "none-grads", "tensor-hook-order", "used-twice", "input-no-grad", "no-grad-eval",
        "tuple-output", "identity-twice", "wrong-count"])
def test_pinned_hook_cases_match_pytorch(torch, case):
    torch_result, gg_result = _both(torch, case)
    assert gg_result == torch_result


@pytest.mark.parametrize(("a_grad", "b_grad", "replace", "pre_replace", "use"), [
    (True, True, "double", True, "product"), (True, False, "first-none", False, "product"),
    (False, True, "double", True, "second"), (True, True, "first-none", True, "first"),
    (True, True, None, False, "second"),
])
def test_two_inputs_two_outputs_backward_hooks_match_pytorch(torch, a_grad, b_grad, replace, pre_replace, use):
    """Full and pre backward hooks of a module of two inputs (one may need no grad) and two outputs (one may go
    unused): what they see, what their replacements do, and the order with a tensor hook on an output."""
    def case(lib):
        log, pair = [], _pair(lib)

        def full(m, grad_input, grad_output):
            log.append(("full", grad_input, _grads(grad_output)))
            if replace == "double":
                return tuple(None if grad is None else grad * 2 for grad in grad_input)
            return (None, grad_input[1]) if replace == "first-none" else None

        def pre(m, grad_output):
            log.append(("pre", _grads(grad_output)))
            return (None if grad_output[0] is None else grad_output[0] * 3, grad_output[1]) if pre_replace else None
        pair.register_full_backward_hook(full)
        pair.register_full_backward_pre_hook(pre)
        a, b = _t(lib, [1.0, 2.0], a_grad), _t(lib, [3.0, -4.0], b_grad)
        first, second = pair(a, b)
        if use != "second":  # unused, PyTorch calls its tensor hooks with None (glassgrad: not at all)
            first.register_hook(lambda grad: log.append(("first", grad)))
        loss = {"first": first.sum(), "second": (second * 2).sum(), "product": (first * second).sum()}[use]
        loss.backward()
        # a None entry of the full hook's return blocks the input's gradient: PyTorch leaves a leaf's .grad None,
        # glassgrad zeros (noted in backward_hooks._or_zeros), the same numbers
        return log, *(None if not t.requires_grad else t.grad if t.grad is not None else t.detach() * 0
                       for t in (a, b))
    torch_result, gg_result = _both(torch, case)
    assert gg_result == torch_result
    assert not isinstance(gg_result, str)
