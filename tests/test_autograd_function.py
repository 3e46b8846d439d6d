"""``gg.autograd.Function``: user-written ops with PyTorch's protocol, run by the engine and shown by the glass box.

Oracles: PyTorch 2.13 (the same class body subclassing ``torch.autograd.Function`` gives the same
values, gradients, flags and second derivatives), finite differences (``gg.gradcheck`` in float64),
and hand-derived gradients (straight-through: the upstream gradient unchanged).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays, mutually_broadcastable_shapes

import glassgrad as gg


def define(base):
    """The learner's functions, written once and defined on glassgrad's or PyTorch's ``autograd.Function``."""

    class Exp(base):
        """out = eˣ, by hand"""

        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad_out):
            (out,) = ctx.saved_tensors
            return grad_out * out

    class StraightThroughClamp(base):
        """out = clamp(x, lo, hi); the gradient passes straight through"""

        @staticmethod
        def forward(ctx, x, lo, hi):
            return x.clamp(lo, hi)

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out, None, None

    class ScaledProduct(base):
        formula = "out = s·a·b"
        derivatives = ("{up}·s·{b}", "{up}·s·{a}")

        @staticmethod
        def forward(ctx, a, b, scale=2.0):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return a * b * scale

        @staticmethod
        def backward(ctx, grad_out):
            a, b = ctx.saved_tensors
            grad_a = grad_out * b * ctx.scale if ctx.needs_input_grad[0] else None
            grad_b = grad_out * a * ctx.scale if ctx.needs_input_grad[1] else None
            return grad_a, grad_b, None

    class SinCos(base):
        """(sin x, cos x)"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, grad_sin, grad_cos):
            (x,) = ctx.saved_tensors
            return grad_sin * x.cos() - grad_cos * x.sin()

    class MaxWithIndex(base):
        @staticmethod
        def forward(ctx, x):
            values, indices = x.max(dim=1)
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(x, indices)
            return values, indices

        @staticmethod
        def backward(ctx, grad_values, grad_indices):
            x, indices = ctx.saved_tensors
            grad = x * 0
            grad[range(x.shape[0]), indices] = grad_values
            return grad

    return {"Exp": Exp, "StraightThroughClamp": StraightThroughClamp, "ScaledProduct": ScaledProduct,
            "SinCos": SinCos, "MaxWithIndex": MaxWithIndex}


OURS = define(gg.autograd.Function)
finite = st.floats(-3, 3, allow_nan=False, width=64)


@pytest.fixture(scope="module")
def theirs(torch):
    return define(torch.autograd.Function)


def both(torch, values):
    return (gg.tensor(values, dtype=gg.float64, requires_grad=True),
            torch.tensor(values, dtype=torch.float64, requires_grad=True))


def close(ours, theirs, tolerance=1e-12):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=tolerance, atol=tolerance)


# --- values and gradients against PyTorch and finite differences ---------------------------------

@pytest.mark.torch
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 3)), elements=finite))
def test_a_user_written_exp_matches_pytorch_and_builtin_exp(torch, theirs, values):
    x, tx = both(torch, values)
    upstream = np.cos(np.arange(values.size)).reshape(values.shape)
    out, t_out = OURS["Exp"].apply(x), theirs["Exp"].apply(tx)
    out.backward(gg.tensor(upstream, dtype=gg.float64))
    t_out.backward(torch.tensor(upstream))
    close(out, t_out)
    close(x.grad, tx.grad)
    np.testing.assert_array_equal(x.grad.numpy(), upstream * np.exp(values))


@given(arrays(np.float64, st.integers(1, 5), elements=finite))
def test_a_user_written_exp_passes_gradcheck(values):
    assert gg.gradcheck(OURS["Exp"].apply, [gg.tensor(values, requires_grad=True)]).ok


@pytest.mark.torch
def test_a_straight_through_clamp_passes_the_gradient_unchanged(torch, theirs):
    values = np.array([-2.0, -0.3, 0.0, 0.7, 3.0])
    x, tx = both(torch, values)
    out, t_out = OURS["StraightThroughClamp"].apply(x, -0.5, 0.5), theirs["StraightThroughClamp"].apply(tx, -0.5, 0.5)
    close(out, t_out)
    (out * gg.arange(5.0, dtype=gg.float64)).sum().backward()
    (t_out * torch.arange(5.0, dtype=torch.float64)).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]  # straight through, clamped entries included
    close(x.grad, tx.grad)


@pytest.mark.torch
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), seed=st.integers(0, 2**16),
       needs=st.sampled_from([(True, True), (True, False), (False, True)]))
def test_a_two_input_op_with_a_setting_broadcasts_like_pytorch(torch, theirs, shapes, seed, needs):
    rng = np.random.default_rng(seed)
    a_values, b_values = rng.normal(size=shapes.input_shapes[0]), rng.normal(size=shapes.input_shapes[1])
    a, ta = both(torch, a_values)
    b, tb = both(torch, b_values)
    for ours_tensor, theirs_tensor, need in ((a, ta, needs[0]), (b, tb, needs[1])):
        ours_tensor.requires_grad_(need)
        theirs_tensor.requires_grad_(need)
    out, t_out = OURS["ScaledProduct"].apply(a, b, 3.0), theirs["ScaledProduct"].apply(ta, tb, 3.0)
    close(out, t_out)
    out.sum().backward()
    t_out.sum().backward()
    for ours_tensor, theirs_tensor in ((a, ta), (b, tb)):
        assert (ours_tensor.grad is None) == (theirs_tensor.grad is None)
        if ours_tensor.grad is not None:
            close(ours_tensor.grad, theirs_tensor.grad)


@pytest.mark.torch
def test_keywords_and_defaults_are_bound_as_in_pytorch(torch, theirs):
    x, tx = both(torch, [1.0, 2.0])
    y, ty = both(torch, [3.0, -1.0])
    close(OURS["ScaledProduct"].apply(x, y), theirs["ScaledProduct"].apply(tx, ty))  # scale=2.0 by default
    close(OURS["ScaledProduct"].apply(x, y, scale=0.5), theirs["ScaledProduct"].apply(tx, ty, scale=0.5))


def test_a_two_input_op_passes_gradcheck():
    rng = np.random.default_rng(1)
    a = gg.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    b = gg.tensor(rng.normal(size=3), requires_grad=True)
    assert gg.gradcheck(lambda x, y: OURS["ScaledProduct"].apply(x, y, 1.5), [a, b]).ok


@pytest.mark.torch
@pytest.mark.parametrize("used", ["both", "sin only", "cos only"])
def test_several_outputs_give_pytorchs_gradients(torch, theirs, used):
    x, tx = both(torch, [0.3, -1.2, 2.0])
    gradients = []
    for functions, tensor in ((OURS, x), (theirs, tx)):
        sin, cos = functions["SinCos"].apply(tensor)
        loss = {"both": (sin * cos.exp()).sum(), "sin only": (sin ** 2).sum(), "cos only": cos.sum()}[used]
        loss.backward()
        gradients.append(tensor.grad)
    close(*gradients)


@pytest.mark.torch
def test_a_non_differentiable_output_does_not_require_grad(torch, theirs):
    values = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    x, tx = both(torch, values)
    (values_out, indices), (t_values, t_indices) = OURS["MaxWithIndex"].apply(x), theirs["MaxWithIndex"].apply(tx)
    assert indices.requires_grad is t_indices.requires_grad is False
    assert values_out.requires_grad and t_values.requires_grad
    assert indices.tolist() == t_indices.tolist() == [1, 0]
    (values_out * gg.tensor([2.0, 3.0], dtype=gg.float64)).sum().backward()
    (t_values * torch.tensor([2.0, 3.0], dtype=torch.float64)).sum().backward()
    close(x.grad, tx.grad)


def _probe(module, seen: dict) -> type:
    """A function that notes, in forward, the flags it sees."""

    class Probe(module.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen[module.__name__] = (ctx.needs_input_grad, module.is_grad_enabled())
            return a * b * k

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out, grad_out, None

    return Probe


def _pair(module, received: dict) -> type:
    """Two outputs, gradients not materialized: notes whether the second one's gradient came as None."""

    class Pair(module.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            received[module.__name__] = grad_second is None
            return grad_first * 2

    return Pair


@pytest.mark.torch
def test_needs_input_grad_and_grad_mode_inside_forward_match_pytorch(torch):
    seen: dict = {}
    for module in (gg, torch):
        Probe = _probe(module, seen)
        a = module.ones(2, requires_grad=True)
        Probe.apply(a, module.ones(2), 3)
        with module.no_grad():
            out = Probe.apply(a, module.ones(2), 3)
        assert not out.requires_grad
    assert seen["glassgrad"] == seen["torch"] == ((True, False, False), False)


@pytest.mark.torch
def test_materialize_grads_off_passes_none_for_an_unused_output(torch):
    received: dict = {}
    for module in (gg, torch):
        Pair = _pair(module, received)
        x = module.tensor([1.0, 2.0], requires_grad=True)
        Pair.apply(x)[0].sum().backward()
        assert x.grad.tolist() == [2.0, 2.0]
    assert received == {"glassgrad": True, "torch": True}


def test_setup_context_style_works_too():
    class Cube(gg.autograd.Function):
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 3 * x ** 2

    x = gg.tensor([1.0, -2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


def test_forward_returning_its_input_makes_a_new_node_on_the_same_memory():
    class Identity(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * 2

    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn.name == "Identity"
    assert np.shares_memory(y.numpy(), x.numpy())
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


# --- second derivatives through a user's backward ---------------------------------------------------

@pytest.mark.torch
def test_a_backward_written_with_tensor_ops_gives_second_derivatives_as_in_pytorch(torch, theirs):
    values = np.array([0.5, -1.0, 2.0])
    found = []
    for module, functions in ((gg, OURS), (torch, theirs)):
        x = module.tensor(values, dtype=module.float64, requires_grad=True)
        y = functions["Exp"].apply(x * x)
        (first,) = module.autograd.grad(y.sum(), x, create_graph=True)
        (second,) = module.autograd.grad((first * first).sum(), x)
        found.append((first, second))
    close(found[0][0], found[1][0])
    close(found[0][1], found[1][1], 1e-10)


# --- refusals, each one line ------------------------------------------------------------------------

def _one_line_error(function, error=RuntimeError):
    with pytest.raises(error) as caught:
        function()
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_saved_tensor_changed_in_place_is_refused_as_for_a_builtin_op():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    out = OURS["ScaledProduct"].apply(h, x)
    with gg.no_grad():
        h += 1
    message = _one_line_error(lambda: out.sum().backward())
    assert "modified by an inplace operation" in message and "'ScaledProduct' (its input 0)" in message
    assert "is at version 1; expected version 0" in message


def test_a_saved_output_changed_in_place_is_refused_naming_it():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    out = OURS["Exp"].apply(x)
    with gg.no_grad():
        out.data.mul_(2)
    message = _one_line_error(lambda: out.sum().backward())
    assert "'Exp' (its output)" in message


def test_a_gradient_of_the_wrong_shape_names_the_class_the_input_and_both_shapes():
    class Wrong(gg.autograd.Function):
        @staticmethod
        def forward(ctx, values, scale):
            return values * scale

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out[:2], None

    x = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    message = _one_line_error(lambda: Wrong.apply(x, 2.0).sum().backward())
    assert "'Wrong'" in message and "input 0 (values)" in message and "(2,)" in message and "(3,)" in message
    message = _one_line_error(lambda: gg.autograd.grad(Wrong.apply(x, 2.0).sum(), x, create_graph=True))
    assert "'Wrong'" in message and "(2,)" in message and "(3,)" in message


@pytest.mark.parametrize("returned, message, error", [
    (lambda g: g, "incorrect number of gradients (expected 2, got 1)", RuntimeError),
    (lambda g: (g, g), "different than None for argument 1 (scale)", RuntimeError),
    (lambda g: (1.0, None), "returned a float for argument 0 (values); return a Tensor", RuntimeError),  # as PyTorch
    (lambda g: (g, None, g), "incorrect number of gradients (expected 2, got 3)", RuntimeError),
])
def test_a_wrong_backward_result_is_one_line(returned, message, error):
    class Scale(gg.autograd.Function):
        @staticmethod
        def forward(ctx, values, scale):
            return values * scale

        @staticmethod
        def backward(ctx, grad_out):
            return returned(grad_out)

    x = gg.tensor([1.0, 2.0], requires_grad=True)
    assert message in _one_line_error(lambda: Scale.apply(x, 2.0).sum().backward(), error)


def test_saving_a_non_tensor_and_calling_an_instance_are_one_line_errors():
    class KeepsNumber(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

    assert "save_for_backward can only save tensors" in _one_line_error(
        lambda: KeepsNumber.apply(gg.ones(2)), TypeError)
    assert "Exp.apply(...)" in _one_line_error(lambda: OURS["Exp"]()(gg.ones(2)))


def test_a_second_backward_through_a_custom_op_is_refused_unless_retained():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = OURS["Exp"].apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert "backward through the graph a second time" in _one_line_error(y.backward)


# --- the glass box --------------------------------------------------------------------------------------

def _traced_document():
    x = gg.tensor([[0.5, -1.0]], requires_grad=True)
    w = gg.tensor([[2.0, 1.0]], requires_grad=True)
    with gg.trace() as tape:
        tape.name(x, "x")
        tape.name(w, "w")
        product = OURS["ScaledProduct"].apply(x, w, 3.0)
        loss = OURS["Exp"].apply(product).sum()
        loss.backward()
    return tape


def test_a_custom_op_is_one_step_of_the_trace_with_its_formula_and_derivatives():
    tape = _traced_document()
    document = tape.describe()
    forward = {step["op"]: step for step in document["forward"]}
    assert [step["op"] for step in document["forward"]] == ["ScaledProduct", "Exp", "sum"]  # the insides are hidden
    assert forward["Exp"]["rule"] == "out = eˣ, by hand"  # the docstring's first line
    assert forward["Exp"]["kind"] == "custom" and forward["Exp"]["note"] == "Exp: out = eˣ, by hand"
    assert forward["ScaledProduct"]["rule"] == "out = s·a·b"  # the formula attribute
    assert forward["ScaledProduct"]["formula"] == "v₁ = ScaledProduct(x, w)"
    assert forward["ScaledProduct"]["settings"] == {"scale": 3.0}
    backward = {(step["op"], step["role"]): step for step in document["backward"]}
    assert backward[("ScaledProduct", "a")]["formula"] == "∂v₃/∂x = ∂v₃/∂v₁·s·w"  # the derivatives attribute
    assert backward[("Exp", "x")]["formula"] == "∂v₃/∂v₁ = Exp.backward(∂v₃/∂v₂)"
    np.testing.assert_allclose(backward[("ScaledProduct", "a")]["output"]["values"], document["gradients"]["x"])
    assert document["gradients"]["x"].tolist() == tape.tensor(tape.forward[0].inputs[0]).grad.tolist()


@pytest.mark.parametrize("format", ["text", "md", "html"])
def test_every_renderer_shows_the_custom_formula(format):
    shown = _traced_document().render(format)
    assert "ScaledProduct" in shown and "out = s·a·b" in shown
    assert "out = eˣ, by hand" in shown and "Exp.backward" in shown


def test_the_json_trace_keeps_the_custom_rows():
    document = json.loads(_traced_document().render("json"))
    rules = {step["op"]: step["rule"] for step in document["forward"]}
    assert rules["Exp"] == "out = eˣ, by hand" and rules["ScaledProduct"] == "out = s·a·b"
    assert {step["op"] for step in document["ops"]["backward"]} == {"sum", "Exp", "ScaledProduct"}


def test_the_custom_row_is_kept_out_of_the_builtin_table():
    _traced_document()
    assert "Exp" not in gg.RULES and "ScaledProduct" not in gg.RULES


# --- torch.autograd.gradcheck / gradgradcheck, as learners check their functions ------------------------------

def _square(module, slope: float = 2.0, rules: tuple = ("backward",), decorate=lambda rule: rule) -> type:
    """out = x², saving x, its rule ``slope·x·∂L/∂out`` defined under each name in ``rules`` (``"backward"``, or
    ``"vjp"``, PyTorch's other name for it), through ``decorate`` (``once_differentiable``)."""
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return slope * x * grad_out

    rule = staticmethod(decorate(backward))
    return type("Square", (module.autograd.Function,), {"forward": staticmethod(forward), **dict.fromkeys(rules, rule)})


def _half_backward(module) -> type:
    """A function whose backward forgets a factor 2: the checks must catch it."""
    return _square(module, slope=1.0)


@pytest.mark.torch
def test_gradcheck_and_gradgradcheck_give_pytorchs_verdicts(torch, theirs):
    values = np.array([[0.3, -1.2], [0.8, 2.0]])
    for module, functions in ((gg, OURS), (torch, theirs)):
        x = module.tensor(values, dtype=module.float64, requires_grad=True)
        y = module.tensor(values[0], dtype=module.float64, requires_grad=True)
        assert module.autograd.gradcheck(functions["Exp"].apply, (x,)) is True
        scaled = functions["ScaledProduct"]
        assert module.autograd.gradcheck(lambda a, b, f=scaled: f.apply(a, b, 1.5), (x, y)) is True
        assert module.autograd.gradcheck(functions["SinCos"].apply, (y,)) is True  # two outputs
        assert module.autograd.gradgradcheck(functions["Exp"].apply, (x,)) is True
        assert module.autograd.gradgradcheck(functions["SinCos"].apply, (y,)) is True
        wrong = _half_backward(module)
        assert module.autograd.gradcheck(wrong.apply, (x,), raise_exception=False) is False
        with pytest.raises(Exception, match="(?i)mismatch|FAILED"):
            module.autograd.gradcheck(wrong.apply, (x,))


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class FirstOnly(gg.autograd.Function):  # right first derivative, but its backward is not differentiable
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 3 * x.detach() ** 2

    x = gg.tensor([0.5, -1.5], dtype=gg.float64, requires_grad=True)
    assert gg.autograd.gradcheck(FirstOnly.apply, (x,))
    assert gg.autograd.gradgradcheck(FirstOnly.apply, (x,), raise_exception=False) is False


class _NumpyCube(gg.autograd.Function):
    """out = a³, its backward computed with NumPy (so it cannot be differentiated again)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    @gg.autograd.function.once_differentiable
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return gg.tensor(3 * a.numpy() ** 2 * grad.numpy())


def test_once_differentiable_gives_first_derivatives_and_no_graph_for_a_second():
    x = gg.tensor([1.0, -2.0], dtype=gg.float64, requires_grad=True)
    _NumpyCube.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]
    (first,) = gg.autograd.grad(_NumpyCube.apply(x).sum(), x, create_graph=True)
    assert first.tolist() == [3.0, 12.0] and not first.requires_grad


def test_once_differentiable_imports_from_pytorchs_module_under_the_shim():
    import subprocess
    import sys

    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "from torch.autograd.function import once_differentiable\nprint(once_differentiable.__name__)")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "once_differentiable"


@pytest.mark.torch
def test_a_rule_written_as_vjp_is_the_backward_as_in_pytorch(torch):
    """glassgrad read only ``backward``: a class defining ``vjp`` raised 'must define backward' at the first
    backward pass (and its create_graph pass), where PyTorch uses it."""
    results = []
    for module in (gg, torch):
        Square = _square(module, rules=("vjp",))
        x = module.tensor([1.0, -3.0], dtype=module.float64, requires_grad=True)
        Square.apply(x).sum().backward()
        (slope,) = module.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
        (curvature,) = module.autograd.grad(slope.sum(), x)
        results.append((x.grad.tolist(), slope.tolist(), curvature.tolist()))
    assert results[0] == results[1] == ([2.0, -6.0], [2.0, -6.0], [2.0, 2.0])  # 2x, 2x and 2


@pytest.mark.torch
def test_a_class_defining_both_backward_and_vjp_is_refused_at_backward_as_in_pytorch(torch):
    for module in (gg, torch):
        Square = _square(module, rules=("backward", "vjp"))
        y = Square.apply(module.tensor([1.0, 2.0], requires_grad=True)).sum()  # the forward runs, as PyTorch's
        with pytest.raises(RuntimeError, match="Implementing both 'backward' and 'vjp' for a custom Function is not "
                                               "allowed"):
            y.backward()


@pytest.mark.torch
def test_an_input_returned_as_is_and_marked_non_differentiable_needs_no_gradient_as_in_pytorch(torch):
    """The output standing for an input returned as is is a new tensor, and the mark (made on the input) was looked
    up by that tensor: the output required grad and had a grad_fn."""
    results = []
    for module in (gg, torch):
        class DoubleAndKeep(module.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_non_differentiable(x)
                return x * 2, x

            @staticmethod
            def backward(ctx, grad_doubled, grad_kept):
                return 2 * grad_doubled

        x = module.tensor([1.0, -2.0], requires_grad=True)
        doubled, kept = DoubleAndKeep.apply(x * 1)
        (doubled + kept).sum().backward()
        results.append((doubled.requires_grad, kept.requires_grad, kept.grad_fn is None, x.grad.tolist()))
    assert results[0] == results[1] == (True, False, True, [2.0, 2.0])


@pytest.mark.torch
def test_a_once_differentiable_gradient_in_a_graph_refuses_a_second_derivative_as_in_pytorch(torch):
    """Given an upstream gradient in a graph (create_graph=True through y·y), the decorated backward returned a
    gradient outside it: differentiating g + x² again gave 2x, silently leaving the function's part out, where
    PyTorch's gradient requires grad and its backward raises."""
    flags = []
    for module in (gg, torch):
        Square = _square(module, decorate=module.autograd.function.once_differentiable)
        x = module.tensor([3.0, -1.0], dtype=module.float64, requires_grad=True)
        y = Square.apply(x)
        (g,) = module.autograd.grad((y * y).sum(), x, create_graph=True)
        flags.append((g.tolist(), g.requires_grad, g.is_leaf))
        with pytest.raises(RuntimeError, match="^trying to differentiate twice a function that was marked with "
                                               "@once_differentiable"):
            (g + x ** 2).sum().backward()
    assert flags[0] == flags[1] == ([108.0, -4.0], True, False)  # 4a³
