"""Custom ``autograd.Function`` classes drawn from pieces, run on glassgrad and on PyTorch 2.13 (round 43).

Each test defines one class body for a module ``M`` (``glassgrad`` or ``torch``) and compares what a user sees:
values, which outputs require grad, first and second derivatives, what ``backward`` is given, the order hooks run
in, and the exception class of a misuse. The property test keeps the differential fuzzer's core: a Function built
from a random forward (``f(x)·y·k`` and ``g(x) + y``), in either style (``forward(ctx, …)`` or ``forward`` with
``setup_context``), saving inputs, outputs or intermediates, one or two outputs, the second maybe marked
non-differentiable, with or without ``set_materialize_grads(False)``, ``y`` a tensor that requires grad, one that
does not, or a number.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

UNARY = {  # f, f′ (tensor ops: a backward written with them is differentiable again)
    "sin": (lambda x: x.sin(), lambda x: x.cos()),
    "exp": (lambda x: x.exp(), lambda x: x.exp()),
    "square": (lambda x: x * x, lambda x: 2 * x),
    "tanh": (lambda x: x.tanh(), lambda x: 1 - x.tanh() ** 2),
}


def build(M, spec: dict):
    """``F(x, y, k) = (f(x)·y·k, g(x) + y)`` (or its first output alone), made from ``spec``'s pieces."""
    f, df = UNARY[spec["f"]]
    g, dg = UNARY[spec["g"]]
    two, nondiff = spec["two"], spec["nondiff"]

    def keep(ctx, x, y, k, first):
        ctx.k, ctx.y_is_tensor = k, isinstance(y, M.Tensor)
        ctx.y_number = None if ctx.y_is_tensor else y
        y_saved = y if ctx.y_is_tensor else None
        extra = {"inputs": (), "outputs": (first,), "intermediates": (f(x), g(x))}[spec["save"]]
        ctx.save_for_backward(x, y_saved, *extra)
        if not spec["materialize"]:
            ctx.set_materialize_grads(False)

    def rule(ctx, grad_first, grad_second=None):
        x, y = ctx.saved_tensors[:2]
        y = y if ctx.y_is_tensor else ctx.y_number
        grad_x = grad_y = None
        if grad_first is not None:
            grad_x = grad_first * df(x) * y * ctx.k
            grad_y = grad_first * f(x) * ctx.k if ctx.y_is_tensor else None
        if two and grad_second is not None:
            grad_x = grad_second * dg(x) if grad_x is None else grad_x + grad_second * dg(x)
            if ctx.y_is_tensor:
                grad_y = grad_second if grad_y is None else grad_y + grad_second
        if grad_y is not None and grad_y.shape != y.shape:
            grad_y = grad_y.sum(0, keepdim=True)  # y was a row, broadcast over x's rows
        return grad_x, grad_y, None

    def outputs(x, y, k):
        return (f(x) * y * k, g(x) + y) if two else f(x) * y * k

    if spec["style"] == "ctx":
        class Drawn(M.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                out = outputs(x, y, k)
                keep(ctx, x, y, k, out[0] if two else out)
                if two and nondiff:
                    ctx.mark_non_differentiable(out[1])
                return out

            @staticmethod
            def backward(ctx, *grads):
                return rule(ctx, *grads)
    else:
        class Drawn(M.autograd.Function):
            @staticmethod
            def forward(x, y, k):
                return outputs(x, y, k)

            @staticmethod
            def setup_context(ctx, inputs, output):
                keep(ctx, *inputs, output[0] if two else output)
                if two and nondiff:
                    ctx.mark_non_differentiable(output[1])

            @staticmethod
            def backward(ctx, *grads):
                return rule(ctx, *grads)
    return Drawn


def observe(M, spec: dict, x_values, y_values) -> dict:
    """What a user sees of one drawn call: values, requires_grad, ∂L/∂inputs and ∂(Σ‖∂L/∂input‖²)/∂inputs."""
    Drawn = build(M, spec)
    x = M.tensor(x_values, requires_grad=spec["x_requires_grad"])
    y = 1.5 if spec["y"] == "number" else M.tensor(y_values, requires_grad=spec["y"] == "requires grad")
    out = Drawn.apply(x * 1 if spec["non_leaf"] else x, y, spec["k"])
    outs = out if isinstance(out, tuple) else (out,)
    seen = {"values": [o.detach().numpy() for o in outs], "requires_grad": [o.requires_grad for o in outs]}
    leaves = [t for t in (x, y) if isinstance(t, M.Tensor) and t.requires_grad]
    used = [o for o in (outs if spec["use_all"] else outs[:1]) if o.requires_grad]
    if not leaves or not used:
        return seen
    loss = sum((o * (position + 1.3)).pow(spec["power"]).sum() for position, o in enumerate(used))
    grads = M.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
    seen["grads"] = [None if grad is None else grad.detach().numpy() for grad in grads]
    squares = [(grad * grad).sum() for grad in grads if grad is not None and grad.requires_grad]
    if squares:
        seconds = M.autograd.grad(sum(squares), leaves, allow_unused=True)
        seen["seconds"] = [None if grad is None else grad.numpy() for grad in seconds]
    return seen


def assert_same(ours, theirs) -> None:
    if isinstance(theirs, dict):
        assert ours.keys() == theirs.keys()
        for key in theirs:
            assert_same(ours[key], theirs[key])
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b)
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)
        assert ours.dtype == theirs.dtype
    else:
        assert ours == theirs


SPECS = st.fixed_dictionaries({
    "f": st.sampled_from(sorted(UNARY)), "g": st.sampled_from(sorted(UNARY)),
    "style": st.sampled_from(["ctx", "setup_context"]),
    "save": st.sampled_from(["inputs", "outputs", "intermediates"]),
    "two": st.booleans(), "nondiff": st.booleans(), "materialize": st.booleans(),
    "y": st.sampled_from(["requires grad", "no grad", "number"]), "y_row": st.booleans(),
    "x_requires_grad": st.booleans(), "non_leaf": st.booleans(), "k": st.sampled_from([1.0, -0.5, 2]),
    "power": st.sampled_from([1, 2]), "use_all": st.booleans(),
})


@given(spec=SPECS, seed=st.integers(0, 2**16))
def test_drawn_functions_give_pytorchs_values_requires_grad_and_two_orders_of_gradients(torch, spec, seed):
    rng = np.random.default_rng(seed)
    x_values = rng.uniform(-1, 1, (2, 3))
    y_values = rng.uniform(-1, 1, (1, 3) if spec["y_row"] else (2, 3))
    assert_same(observe(gg, spec, x_values, y_values), observe(torch, spec, x_values, y_values))


# ---- forward mode runs the class's jvp only (defect: it ran backward too)

def jvp_class(M, backward):
    class Product(M.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y, x.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_forward(*inputs)

        @staticmethod
        def jvp(ctx, tangent_x, tangent_y):
            x, y = ctx.saved_tensors
            return tangent_x * y + tangent_y * x, tangent_x * x.cos()

    Product.backward = staticmethod(backward)
    return Product


def refusing_backward(ctx, grad_product, grad_sin):
    raise NotImplementedError("only forward mode")


def lazy_backward(ctx, grad_product, grad_sin):
    return None, None


@pytest.mark.parametrize("backward", [refusing_backward, lazy_backward], ids=["raises", "gives None"])
@pytest.mark.parametrize("how", ["forward_ad", "func.jvp"])
def test_forward_mode_reads_the_jvp_and_never_the_backward_as_pytorch(torch, backward, how):
    def tangents(M):
        Product = jvp_class(M, backward)
        x = M.tensor([0.3, -1.2, 2.0], dtype=M.float64)
        y = M.tensor([1.5, 0.5, -0.7], dtype=M.float64)
        tx = M.tensor([1.0, 2.0, 3.0], dtype=M.float64)
        ty = M.tensor([0.5, -1.0, 0.25], dtype=M.float64)
        if how == "func.jvp":
            return M.func.jvp(Product.apply, (x, y), (tx, ty))[1]
        fwAD = M.autograd.forward_ad
        with fwAD.dual_level():
            outs = Product.apply(fwAD.make_dual(x, tx), fwAD.make_dual(y, ty))
            return tuple(fwAD.unpack_dual(out).tangent for out in outs)

    for ours, theirs in zip(tangents(gg), tangents(torch)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("returned", [2, 3], ids=["one too many", "two too many"])
def test_a_jvp_giving_the_wrong_number_of_tangents_is_refused_as_pytorch(torch, returned):
    def tangent(M):
        class Sine(M.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_forward(x)
                return x.sin()

            @staticmethod
            def backward(ctx, grad):
                return grad

            @staticmethod
            def jvp(ctx, t):
                (x,) = ctx.saved_tensors
                return (t * x.cos(),) * returned

        fwAD = M.autograd.forward_ad
        with fwAD.dual_level():
            out = Sine.apply(fwAD.make_dual(M.tensor([1.0, 2.0]), M.ones(2)))
            return fwAD.unpack_dual(out).tangent

    with pytest.raises(RuntimeError, match="invalid number of forward gradients"):
        tangent(torch)
    with pytest.raises(RuntimeError, match=rf"Sine's jvp returned an invalid number .*expected 1 but got {returned}"):
        tangent(gg)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("returned", ["input", "saved", "output"])
def test_a_gradient_that_is_a_tensor_the_call_holds_becomes_a_grad_of_its_own_as_pytorch(torch, create_graph,
                                                                                           returned):
    def run(M):
        held = {}

        class Holds(M.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                held.update(input=x, saved=x * 3, output=x * 2)
                ctx.save_for_backward(held["saved"])
                return held["output"]

            @staticmethod
            def backward(ctx, grad):
                return ctx.saved_tensors[0] if returned == "saved" else held[returned]

        x = M.tensor([1.0, 2.0], requires_grad=True)
        Holds.apply(x).sum().backward(create_graph=create_graph)
        with M.no_grad():
            x.grad.mul_(0)  # as optimizer.zero_grad(set_to_none=False) does
        return held[returned].detach().tolist(), x.grad.tolist()

    ours, theirs = run(gg), run(torch)
    assert ours == theirs
    assert theirs[0] != [0.0, 0.0] and theirs[1] == [0.0, 0.0]


# ---- mark_non_differentiable / mark_dirty take tensors, and a later call replaces an earlier one

def test_a_tensor_marked_non_differentiable_but_not_returned_leaves_the_outputs_alone_as_pytorch(torch):
    def requires(M):
        class Double(M.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_non_differentiable(x.detach())  # a temporary: freed before the output is made
                ctx.mark_non_differentiable(x + 0)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        x = M.tensor([1.0, 2.0], requires_grad=True)
        return [Double.apply(x).requires_grad for _ in range(10)]

    assert requires(gg) == requires(torch) == [True] * 10


def test_a_second_mark_non_differentiable_replaces_the_first_as_pytorch(torch):
    def requires(M):
        class Two(M.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                a, b = x * 2, x * 3
                ctx.mark_non_differentiable(a)
                ctx.mark_non_differentiable(b)
                return a, b

            @staticmethod
            def backward(ctx, grad_a, grad_b):
                return grad_a * 2 + grad_b * 3

        x = M.tensor([1.0, 2.0], requires_grad=True)
        a, b = Two.apply(x)
        a.sum().backward()
        return a.requires_grad, b.requires_grad, x.grad.tolist()

    assert requires(gg) == requires(torch) == (True, False, [2.0, 2.0])


@pytest.mark.parametrize("method", ["mark_non_differentiable", "mark_dirty"])
@pytest.mark.parametrize("value", [3, None, "x"], ids=["int", "None", "str"])
def test_marking_a_non_tensor_is_refused_as_pytorch(torch, method, value):
    def call(M):
        class Marks(M.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                getattr(ctx, method)(value)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        return Marks.apply(M.tensor([1.0, 2.0], requires_grad=True) * 1)

    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match=f"ctx.{method} only accepts tensors.*argument 0 is of type"):
        call(gg)


# ---- the hooks on one call's outputs run in the order they were registered (defect: newest output first)

@pytest.mark.parametrize("how", ["backward", "autograd.grad", "create_graph"])
@pytest.mark.parametrize("order", ["abc", "cba", "bac", "ca"])
def test_hooks_on_one_calls_outputs_run_in_the_order_registered_as_pytorch(torch, how, order):
    def run(M):
        calls = []

        class Three(M.autograd.Function):
            @staticmethod
            def forward(x):
                return x * 2, x * 3, x.exp()

            @staticmethod
            def backward(ctx, grad_a, grad_b, grad_c):
                calls.append("backward")
                return grad_a * 2 + grad_b * 3 + grad_c * ctx.saved_tensors[0]

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(output[2])

        x = M.tensor([0.5, -1.0], dtype=M.float64, requires_grad=True)
        outs = dict(zip("abc", Three.apply(x)))
        outs["b"].retain_grad()
        for name in order:
            outs[name].register_hook(lambda grad, name=name: calls.append(name) or grad * (1 + "abc".index(name)))
        loss = (outs["a"] * outs["b"]).sum() + outs["c"].sum()
        if how == "backward":
            loss.backward()
            found = x.grad
        else:
            (found,) = M.autograd.grad(loss, x, create_graph=how == "create_graph")
        return calls, found.detach().numpy(), outs["b"].grad

    ours, theirs = run(gg), run(torch)
    assert ours[0] == theirs[0] == [*order, "backward"]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    if theirs[2] is None:
        assert ours[2] is None
    else:
        np.testing.assert_allclose(ours[2].detach().numpy(), theirs[2].detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("where", ["leaf", "function output"])
def test_a_hook_returning_a_tensor_the_program_holds_gives_a_grad_of_its_own_as_pytorch(torch, create_graph, where):
    def run(M):
        fixed = M.tensor([5.0, 6.0])
        x = M.tensor([1.0, 2.0], requires_grad=True)
        double = simple(M, lambda ctx, grad: grad * 2)
        out = double.apply(x)
        if where == "leaf":
            x.register_hook(lambda grad: fixed)
        else:
            out.retain_grad()
            out.register_hook(lambda grad: fixed)
        out.sum().backward(create_graph=create_graph)
        kept = x if where == "leaf" else out
        with M.no_grad():
            kept.grad.mul_(0)
        return fixed.tolist(), x.grad.tolist()

    assert run(gg) == run(torch)


# ---- pinning: behaviour that already matched PyTorch

def simple(M, backward, forward=lambda ctx, x: x * 2, name="Simple"):
    return type(name, (M.autograd.Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def same_gradient_or_refusal(torch, run, name: str) -> None:
    """``run(M)`` gives PyTorch's gradient (values and dtype), or a RuntimeError naming the class where it raises."""
    try:
        theirs = run(torch)
    except RuntimeError:
        with pytest.raises(RuntimeError, match=name):
            run(gg)
    else:
        ours = run(gg)
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == theirs.dtype


@pytest.mark.parametrize("input_shape, grad_shape", [((3,), (2, 3)), ((), (3,)), ((2, 1), (2, 3)), ((3,), ()),
                                                     ((3,), (1,)), ((1,), (4,)), ((2, 3), (3, 2))])
def test_a_gradient_of_another_shape_is_summed_to_the_input_or_refused_as_pytorch(torch, input_shape, grad_shape):
    def run(M):
        Simple = simple(M, lambda ctx, grad: M.ones(grad_shape, dtype=M.float64))
        x = M.ones(input_shape, dtype=M.float64, requires_grad=True)
        Simple.apply(x).sum().backward()
        return x.grad.numpy()

    same_gradient_or_refusal(torch, run, "Simple")


@pytest.mark.parametrize("returned", ["too many", "too few", "for a number", "int dtype", "float32", "list"])
def test_what_backward_returns_is_checked_or_cast_as_pytorch(torch, returned):
    def run(M):
        def backward(ctx, grad):
            return {"too many": (grad, None, grad), "too few": (grad,), "for a number": (grad, grad),
                    "int dtype": (M.ones(3, dtype=M.int64), None), "float32": ((grad * 2).float(), None),
                    "list": [grad * 2, None]}[returned]

        Scaled = simple(M, backward, lambda ctx, x, k: x * k, name="Scaled")
        x = M.tensor([1.0, 2.0, 3.0], dtype=M.float64, requires_grad=True)
        Scaled.apply(x, 2.0).sum().backward()
        return x.grad.numpy()

    same_gradient_or_refusal(torch, run, "Scaled")


def test_needs_input_grad_materialize_and_non_differentiable_arrive_as_pytorch(torch):
    def run(M):
        seen = {}

        class Mixed(M.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k, nothing, tensors):
                seen["needs"] = ctx.needs_input_grad
                ctx.set_materialize_grads(False)
                index = x * 3
                ctx.mark_non_differentiable(index)
                return x * y * k, index, x * 5

            @staticmethod
            def backward(ctx, grad, grad_index, grad_five):
                seen["given"] = (grad is None, grad_index is None, grad_five is None)
                return grad * 2, None, None, None, None

        x = M.tensor([1.0, 2.0], requires_grad=True)
        y = M.tensor([3.0, 4.0])
        out, index, five = Mixed.apply(x, y, 2, None, [x, y])
        (out.sum() + index.sum()).backward()
        return seen, out.requires_grad, index.requires_grad, five.requires_grad, x.grad.tolist()

    assert run(gg) == run(torch)


def square(M, once: bool = False):
    """``x²`` saving its input; with ``once``, its backward is ``@once_differentiable``."""
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    return simple(M, M.autograd.function.once_differentiable(backward) if once else backward, forward, "Square")


def test_a_saved_input_changed_in_place_and_once_differentiable_twice_are_refused_as_pytorch(torch):
    def changed(M):
        x = M.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        out = square(M).apply(y)
        with M.no_grad():
            y.add_(1)
        out.sum().backward()

    def twice(M):
        x = M.tensor([1.0, 2.0], requires_grad=True)
        out = square(M, once=True).apply(x)
        (grad,) = M.autograd.grad((out * out).sum(), x, create_graph=True)
        M.autograd.grad(grad.sum(), x)

    for case in (changed, twice):
        with pytest.raises(RuntimeError):
            case(torch)
        with pytest.raises(RuntimeError):
            case(gg)


def test_dirty_inputs_nested_calls_no_grad_and_keywords_behave_as_pytorch(torch):
    def run(M):
        class Triple(M.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(3)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 3

        class Outer(M.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale=2.0):
                inner = Triple.apply(x * 1)
                return inner * scale, inner.requires_grad

            @staticmethod
            def backward(ctx, grad, _):
                return grad * 6, None

        x = M.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        before = y._version
        out = Triple.apply(y)
        out.sum().backward()
        nested, inner_requires = Outer.apply(x, scale=2.0)
        with M.no_grad():
            quiet = Triple.apply(x * 1)
        return (out is y, y._version - before, x.grad.tolist(), nested.tolist(), inner_requires, quiet.requires_grad,
                quiet.grad_fn is None)

    assert run(gg) == run(torch)
    with pytest.raises(RuntimeError, match="leaf"):  # forgetting that a leaf may not change in place: as PyTorch
        x = gg.tensor([1.0], requires_grad=True)
        type("Dirty", (gg.autograd.Function,), {
            "forward": staticmethod(lambda ctx, t: (ctx.mark_dirty(t), t.mul_(2))[1]),
            "backward": staticmethod(lambda ctx, g: g)}).apply(x)
