"""PyTorch's autograd API as tutorials use it, on glassgrad: grad-mode switches (as decorators too),
``torch.autograd.backward``, ``grad(is_grads_batched=True)``, ``.grad`` added to in place, tensor hooks around
in-place changes, module hooks with keyword arguments, ``checkpoint_sequential``, ``torch.func.linearize``,
gradcheck's options, and one-line refusals of what glassgrad lacks.

Oracle: PyTorch 2.13, the same calls on the same float64 numbers (values, gradients, which tensor is which);
hand-made wrong derivatives for gradcheck.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def run_both(torch, program, *arrays):
    """``program(library, *tensors)`` on glassgrad and on PyTorch, with the same float64 numbers."""
    ours = program(gg, *(gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in arrays))
    theirs = program(torch, *(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays))
    return ours, theirs


def assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for mine, their in zip(ours, theirs):
        if their is None:
            assert mine is None
        else:
            np.testing.assert_allclose(np.asarray(mine.detach().tolist()), their.detach().numpy(),
                                       rtol=1e-12, atol=1e-12)


def test_the_switches_decorate_without_parentheses_as_pytorchs(torch):
    for library in (gg, torch):
        x = library.tensor([1.0, 2.0], requires_grad=True)

        @library.no_grad
        def off(a):
            return a * 2

        @library.inference_mode
        def inferred(a):
            return a * 2

        @library.enable_grad
        def on(a):
            return a * 2

        with library.no_grad():
            recorded = on(x)
        assert not off(x).requires_grad and not inferred(x).requires_grad and recorded.requires_grad
        assert off.__name__ == "off" and library.is_grad_enabled()


def test_set_grad_enabled_called_alone_switches_at_once_as_pytorchs(torch):
    for library in (gg, torch):
        x = library.tensor([1.0, 2.0], requires_grad=True)
        library.set_grad_enabled(False)
        try:
            off = x * 2
            with library.set_grad_enabled(True):
                inside = x * 2
            after_block = x * 2
        finally:
            library.set_grad_enabled(True)
        assert (off.requires_grad, inside.requires_grad, after_block.requires_grad) == (False, True, False)
        assert library.is_grad_enabled()


def test_set_grad_enabled_as_a_block_and_a_decorator_restores_the_mode_before_it(torch):
    for library in (gg, torch):
        x = library.tensor([1.0, 2.0], requires_grad=True)
        with library.set_grad_enabled(False):
            off = x * 2
        assert not off.requires_grad and (x * 2).requires_grad

        @library.set_grad_enabled(False)
        def doubled(a):
            return a * 2

        assert library.is_grad_enabled()  # decorating switched nothing outside the function
        assert not doubled(x).requires_grad and doubled(x).tolist() == [2.0, 4.0]
        with library.no_grad():
            with library.set_grad_enabled(True):
                assert library.is_grad_enabled()
            assert not library.is_grad_enabled()
        assert library.is_grad_enabled()


@given(rows=st.integers(1, 4), seed=st.integers(0, 2**16), create_graph=st.booleans())
def test_autograd_backward_sums_the_tensors_backward_in_one_pass_as_pytorchs(torch, rows, seed, create_graph):
    rng = np.random.default_rng(seed)
    x, w = rng.uniform(-2, 2, (rows, 3)), rng.uniform(-2, 2, 3)
    v = rng.uniform(-1, 1, rows)

    def program(library, x, w):
        hidden = (x * w).tanh()  # shared by both outputs
        seen = []
        hidden.register_hook(lambda g: seen.append(g.clone()))
        first, second = hidden.sum(1), (hidden ** 2).mean()
        library.autograd.backward([first, second], [library.tensor(v, dtype=library.float64), None],
                                  create_graph=create_graph)
        gradient_of_gradient = library.autograd.grad(w.grad.sum(), x)[0] if create_graph else None
        return x.grad, w.grad, seen[0], library.tensor(float(len(seen))), gradient_of_gradient

    assert_same(*run_both(torch, program, x, w))


def test_autograd_backward_frees_a_shared_graph_once_and_takes_inputs_as_pytorchs(torch):
    def program(library, x, w):
        y = x * w
        library.autograd.backward((y.sum(), (y * y).sum()), retain_graph=True, inputs=[w])
        library.autograd.backward(y.exp().sum(), retain_graph=True, inputs=w)  # one tensor: Tensor.backward
        library.autograd.backward([y.sum(), y.prod()])
        with pytest.raises(RuntimeError, match="a second time"):
            y.sum().backward()
        return x.grad, w.grad

    assert_same(*run_both(torch, program, [1.0, -2.0, 0.5], [0.3, 0.7, -1.1]))


@pytest.mark.parametrize("call, message", [
    (lambda x: gg.autograd.backward([x.sum(), x * 2]), "grad can be implicitly created only for scalar outputs"),
    (lambda x: gg.autograd.backward([x.sum(), x.sum()], [None]), "grad_tensors has 1 entries but there are 2"),
    (lambda x: gg.autograd.backward([x.sum(), x.detach().sum()]), "element 1 of tensors does not require grad"),
    (lambda x: gg.autograd.backward([x.sum(), x * 2], [None, gg.ones(3)]), "Mismatch in shape: grad_tensors[1]"),
])
def test_autograd_backward_refuses_bad_arguments_in_one_line(call, message):
    with pytest.raises(RuntimeError, match=message.replace("[", r"\[")):
        call(gg.tensor([1.0, 2.0], requires_grad=True))


def test_forward_hooks_with_kwargs_and_prepend_run_as_pytorchs(torch):
    weight = [[0.5, -1.0], [2.0, 0.25]]

    def program(library, x):
        layer = library.nn.Linear(2, 2).double()
        with library.no_grad():
            layer.weight.copy_(library.tensor(weight, dtype=library.float64))
            layer.bias.fill_(0.1)
        order = []

        class Scaled(library.nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = layer

            def forward(self, x, scale=1.0):
                return self.layer(x) * scale

        model = Scaled()

        def doubled_scale(module, args, kwargs):
            order.append("pre with kwargs")
            return (args[0] + 1,), {**kwargs, "scale": kwargs["scale"] * 2}

        def shifted(module, args, kwargs, output):
            order.append("post with kwargs")
            return output + kwargs["scale"]

        model.register_forward_pre_hook(doubled_scale, with_kwargs=True)
        model.register_forward_pre_hook(lambda module, args: order.append("pre first"), prepend=True)
        handle = model.register_forward_hook(shifted, with_kwargs=True)
        model.register_forward_hook(lambda module, args, output: output * 3, prepend=True)
        out = model(x, scale=0.5)
        out.sum().backward()
        handle.remove()
        plain = model(x, scale=0.5)
        assert order == ["pre first", "pre with kwargs", "post with kwargs", "pre first", "pre with kwargs"]
        return out, plain, x.grad, layer.weight.grad

    assert_same(*run_both(torch, program, [[1.0, -2.0], [0.5, 3.0]]))


def test_module_hook_options_glassgrad_lacks_are_refused_in_one_line():
    layer = gg.nn.Linear(2, 2)
    with pytest.raises(NotImplementedError, match="use register_full_backward_hook"):
        layer.register_backward_hook(lambda module, grad_input, grad_output: None)
    layer.register_forward_pre_hook(lambda module, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple \(args, kwargs\), got tuple"):
        layer(gg.ones(1, 2))


def test_torch_utils_hooks_gives_the_handles_module_with_removable_handle():
    from glassgrad import handles, torch_names

    hooks_module = torch_names.counterpart("torch.utils.hooks")
    assert hooks_module is handles and isinstance(gg.nn.Linear(1, 1).register_forward_hook(print),
                                                  hooks_module.RemovableHandle)


@pytest.mark.parametrize("segments", [1, 2, 3, 5])
def test_checkpoint_sequential_gives_pytorchs_values_and_gradients(torch, segments):
    rng = np.random.default_rng(segments)
    weights = [rng.uniform(-1, 1, (3, 3)) for _ in range(3)]

    def program(library, x):
        from importlib import import_module

        layers = []
        for weight in weights:
            layer = library.nn.Linear(3, 3).double()
            with library.no_grad():
                layer.weight.copy_(library.tensor(weight, dtype=library.float64))
                layer.bias.fill_(0.2)
            layers += [layer, library.nn.Tanh()]
        model = library.nn.Sequential(*layers[:5])
        checkpoint_sequential = import_module(f"{library.__name__}.utils.checkpoint").checkpoint_sequential
        out = checkpoint_sequential(model, segments, x, use_reentrant=False)
        out.pow(2).sum().backward()
        return out, x.grad, *(layer.weight.grad for layer in layers[::2])

    assert_same(*run_both(torch, program, rng.uniform(-1, 1, (4, 3))))


def test_checkpoint_sequential_refuses_more_segments_than_functions():
    from glassgrad.utils.checkpoint import checkpoint_sequential

    with pytest.raises(ValueError, match="segments must be a whole number from 1 to the number of functions"):
        checkpoint_sequential([gg.nn.Tanh(), gg.nn.ReLU()], 3, gg.ones(2), use_reentrant=False)


@given(seed=st.integers(0, 2**16), size=st.integers(1, 4))
def test_func_linearize_gives_pytorchs_output_and_jacobian_vector_products(torch, seed, size):
    rng = np.random.default_rng(seed)
    x, first, second = (rng.uniform(-2, 2, size) for _ in range(3))

    def program(library, x, first, second):
        def f(a):
            return (a.sin() * a.exp(), a.sum() ** 2)

        output, jvp_fn = library.func.linearize(f, x.detach())
        return (*output, *jvp_fn(first.detach()), *jvp_fn(second.detach()))

    assert_same(*run_both(torch, program, x, first, second))


def test_a_second_backward_adds_into_the_same_grad_tensor_as_pytorchs(torch):
    def program(library, x):
        (x * x).sum().backward()
        first = x.grad  # no clone: PyTorch adds the next gradient into this very tensor
        (x ** 3).sum().backward()
        same = library.tensor(float(first is x.grad))
        x.grad.zero_()  # zero_grad(set_to_none=False), then accumulation in place again
        (x * 3).sum().backward()
        return first, x.grad, same

    ours, theirs = run_both(torch, program, [1.0, -2.0, 0.5])
    assert_same(ours, theirs)
    assert ours[2].item() == 1.0


def test_a_grad_accumulated_in_place_counts_a_version_so_a_graph_that_saved_it_refuses_backward():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    w = gg.tensor([3.0, 4.0], requires_grad=True)
    (x * x).sum().backward()
    saved_grad = (w * x.grad).sum()  # the product saves x.grad for w's gradient
    (x * 5).sum().backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        saved_grad.backward()


def test_a_grad_in_a_graph_of_its_own_is_added_to_in_place_by_a_plain_backward_as_pytorchs(torch):
    def program(library, x):
        (x ** 3).sum().backward(create_graph=True)
        first = x.grad
        (x * 2).sum().backward()
        return first, x.grad, library.tensor(float(first is x.grad))

    assert_same(*run_both(torch, program, [1.0, -2.0]))


def test_reading_grad_of_a_non_leaf_warns_as_pytorchs_and_a_leaf_or_kept_one_does_not(torch):
    import warnings

    for library in (gg, torch):
        w = (library.ones(3) * 0.1).requires_grad_()  # a leaf: made, then marked
        hidden = w * 2
        kept = w * 3
        kept.retain_grad()
        (hidden + kept).sum().backward()
        with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
            assert hidden.grad is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert w.grad is not None and kept.grad is not None and library.ones(2).grad is None


def test_grad_fn_name_reads_as_the_op_and_calls_as_pytorchs_method():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    node = (x * 3).sum().grad_fn
    assert node.name == "sum" and node.name() == "sum" and node.next_functions[0][0].name() == "mul"
    assert type(node.name()) is str


def test_torch_autograd_grad_mode_gives_the_switches():
    from glassgrad import torch_names

    grad_mode = torch_names.counterpart("torch.autograd.grad_mode")
    assert (grad_mode.no_grad, grad_mode.enable_grad, grad_mode.set_grad_enabled, grad_mode.inference_mode) == (
        gg.no_grad, gg.enable_grad, gg.set_grad_enabled, gg.inference_mode)


def test_a_grad_of_another_dtype_is_refused_as_pytorch_refuses_it(torch):
    with pytest.raises(RuntimeError, match="dtype"):
        torch.ones(2, dtype=torch.float64, requires_grad=True).grad = torch.zeros(2, dtype=torch.float32)
    x = gg.ones(2, dtype=gg.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"assigned grad has dtype float32 but the tensor has dtype float64"):
        x.grad = gg.zeros(2, dtype=gg.float32)
    x.grad = gg.zeros(2, dtype=gg.float64)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and x.grad.dtype == gg.float64


def test_a_retained_grad_of_a_non_leaf_is_replaced_not_added_to_in_place_as_pytorchs(torch):
    def program(library, x):
        y = x * 2
        y.retain_grad()
        y.sum().backward(retain_graph=True)
        first = y.grad
        (y * 2).sum().backward()
        return first, y.grad, library.tensor(float(first is y.grad)), x.grad

    assert_same(*run_both(torch, program, [1.0, -2.0]))


@pytest.mark.parametrize("change", ["mul_", "add_", "setitem"])
def test_a_hook_registered_before_an_in_place_change_sees_the_old_values_gradient_as_pytorchs(torch, change):
    def program(library, x):
        y = x * 1
        before, after = [], []
        y.register_hook(lambda g: before.append(g.clone()))
        handle = y.register_hook(lambda g: g * 10)  # goes with the old value too; removed below
        if change == "setitem":
            y[0] = y[1] * 3
        else:
            getattr(y, change)(3)
        y.register_hook(lambda g: after.append(g.clone()))
        y.retain_grad()
        (y * y).sum().backward(retain_graph=True)
        first = x.grad.clone()
        handle.remove()
        x.grad = None
        (y * y).sum().backward()
        return before[0], before[1], after[0], after[1], y.grad, first, x.grad

    assert_same(*run_both(torch, program, [1.0, -2.0, 0.5]))


@given(rows=st.integers(1, 4), seed=st.integers(0, 2**16), create_graph=st.booleans())
def test_grad_with_batched_grad_outputs_gives_one_gradient_per_row_as_pytorchs(torch, rows, seed, create_graph):
    rng = np.random.default_rng(seed)
    x, w = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, (2, 3))
    rows_of_v, rows_of_u = rng.uniform(-1, 1, (rows, 2)), rng.uniform(-1, 1, rows)

    def program(library, x, w):
        y, total = (w * x).tanh().sum(1), (x ** 2).sum()  # one output of shape (2,), one number
        seeds = [library.tensor(rows_of_v, dtype=library.float64), library.tensor(rows_of_u, dtype=library.float64)]
        found = library.autograd.grad([y, total], [x, w], seeds, create_graph=create_graph, is_grads_batched=True)
        again = library.autograd.grad(found[0].sum(), w)[0] if create_graph else None
        return (*found, again)

    assert_same(*run_both(torch, program, x, w))


def test_batched_grad_outputs_must_share_their_number_of_rows():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="the same number"):
        gg.autograd.grad([x * 2, x * 3], x, [gg.ones(3, 2), gg.ones(2, 2)], is_grads_batched=True)
    with pytest.raises(RuntimeError, match="the same number"):
        gg.autograd.grad(x.sum(), x, is_grads_batched=True)


def test_torch_nn_modules_module_gives_the_global_module_hooks():
    import subprocess
    import sys

    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch\n"
               "from torch.nn.modules.module import Module, register_module_forward_hook\n"
               "names = []\n"
               "handle = register_module_forward_hook(lambda m, i, o: names.append(type(m).__name__))\n"
               "torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh())(torch.ones(1, 2))\n"
               "handle.remove()\n"
               "assert Module is torch.nn.Module\n"
               "print(names)\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "['Linear', 'Tanh', 'Sequential']"  # PyTorch's order


class _WrongSquare(gg.autograd.Function):
    """x² with the derivative 3x instead of 2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x


def test_gradcheck_takes_pytorchs_options_and_still_tells_right_from_wrong():
    x = gg.tensor([0.3, 0.7], dtype=gg.float64, requires_grad=True)
    options = dict(nondet_tol=1e-10, check_undefined_grad=True, check_grad_dtypes=True, check_batched_grad=True,
                   fast_mode=True, raise_exception=False)
    assert gg.autograd.gradcheck(gg.sin, (x,), **options)
    assert not gg.autograd.gradcheck(_WrongSquare.apply, (x,), **options)
    assert gg.autograd.gradgradcheck(gg.tanh, (x,), fast_mode=True, check_batched_grad=True,
                                     gen_non_contig_grad_outputs=True)
    assert not gg.autograd.gradgradcheck(lambda t: _WrongSquare.apply(t) * t, (x,), fast_mode=True,
                                         raise_exception=False)
    forward_only = dict(check_forward_ad=True, check_backward_ad=False, raise_exception=False)
    assert gg.autograd.gradcheck(gg.sin, (x,), **forward_only)
    assert not gg.autograd.gradcheck(_WrongSquare.apply, (x,), **forward_only)  # forward mode reads its backward too
    assert gg.autograd.gradgradcheck(gg.tanh, (x,), check_fwd_over_rev=True, check_rev_over_rev=False)
    assert not gg.autograd.gradgradcheck(lambda t: _WrongSquare.apply(t) * t, (x,), check_fwd_over_rev=True,
                                         check_rev_over_rev=False, raise_exception=False)
    with pytest.raises(ValueError, match="at least one of check_forward_ad or check_backward_ad"):
        gg.autograd.gradcheck(gg.sin, (x,), check_backward_ad=False)
    with pytest.raises(NotImplementedError, match="gradcheck: the option check_batched_forward_grad"):
        gg.autograd.gradcheck(gg.sin, (x,), check_batched_forward_grad=True)


@pytest.mark.parametrize("name", ["register_hook", "register_prehook", "_saved_self", "metadata"])
def test_pytorchs_node_api_that_glassgrad_lacks_is_named_in_one_line(name):
    node = (gg.tensor([1.0, 2.0], requires_grad=True) * 2).grad_fn
    with pytest.raises(AttributeError, match=f"grad_fn of 'mul' has no attribute '{name}'.*t.register_hook"):
        getattr(node, name)
    assert node.formula == gg.RULES["mul"].formula  # the row's own attributes still read through


def test_watched_by_puts_the_earlier_watcher_back_even_when_its_block_raises():
    from glassgrad.autograd import current_tape, watched_by

    watcher = object()
    with watched_by(watcher) as earlier:
        assert current_tape() is watcher
        with pytest.raises(ValueError), watched_by(None) as outer:
            assert outer is watcher and current_tape() is None
            raise ValueError("inside")
        assert current_tape() is watcher
    assert current_tape() is earlier
