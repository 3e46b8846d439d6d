"""Bad input gets one clear error that names the op and the shapes, raised by glassgrad itself.

Each row is ``make(lib)``, so the same mistake can be made in PyTorch too: it must raise the same
kind of exception there (PyTorch's meaning), while glassgrad's message says what went wrong and how
to fix it.
"""

from __future__ import annotations

import pytest
from one_line_errors import assert_glassgrad_refuses

import glassgrad as gg


def backward_twice(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    loss.backward()


def ones_like_gradient_of_wrong_shape(lib):
    (lib.ones(2, requires_grad=True) * 2).backward(lib.ones(3))


BROADCASTING = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b, "maximum": lambda a, b: a.maximum(b), "minimum": lambda a, b: a.minimum(b),
}
BAD_DIMS = {
    "sum": lambda x: x.sum(dim=2), "mean": lambda x: x.mean(dim=(0, 2)), "var": lambda x: x.var(2),
    "max": lambda x: x.max(dim=-3), "logsumexp": lambda x: x.logsumexp(2), "softmax": lambda x: x.softmax(dim=2),
    "log_softmax": lambda x: x.log_softmax(2), "transpose": lambda x: x.transpose(0, 2),
    "squeeze": lambda x: x.squeeze(2), "flatten": lambda x: x.flatten(2),
}

# name: (make(lib), exception type, what the message must say)
ERRORS = {
    "backward twice": (backward_twice, RuntimeError, r"second time \(the 'sum' step.*retain_graph=True"),
    "non-scalar root without gradient": (lambda lib: (lib.ones(2, 3, requires_grad=True) * 2).backward(),
                                         RuntimeError, r"scalar outputs.*shape \(2, 3\).*backward\(gradient\)"),
    "root that does not require grad": (lambda lib: (lib.ones(2) * 2).sum().backward(), RuntimeError,
                                        r"does not require grad.*requires_grad=True"),
    "backward gradient of the wrong shape": (ones_like_gradient_of_wrong_shape, RuntimeError,
                                             r"backward: gradient has shape \(3,\) but the tensor has shape \(2,\)"),
    "matmul inner dims": (lambda lib: lib.ones(2, 3) @ lib.ones(4, 5), RuntimeError,
                          r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied.*\(3\).*\(4\)"),
    "matmul vectors": (lambda lib: lib.matmul(lib.ones(3), lib.ones(4)), RuntimeError,
                       r"matmul: shapes \(3,\) and \(4,\) cannot be multiplied"),
    "matmul batch dims": (lambda lib: lib.ones(2, 2, 3) @ lib.ones(3, 3, 2), RuntimeError,
                          r"matmul: batch dims of \(2, 2, 3\) and \(3, 3, 2\) cannot be broadcast"),
    "matmul dtypes": (lambda lib: lib.ones(2, 2) @ lib.ones(2, 2, dtype=lib.float64), RuntimeError,
                      r"matmul: .*same dtype.*float32 and float64"),
    "linear dtypes": (lambda lib: lib.nn.functional.linear(lib.ones(1, 2, dtype=lib.float64), lib.ones(3, 2)),
                      RuntimeError, r"linear: input dtype float64 and weight dtype float32"),
    "linear shapes": (lambda lib: lib.nn.functional.linear(lib.ones(4, 2), lib.ones(3, 5)), RuntimeError,
                      r"linear: input of shape \(4, 2\) does not fit a weight of shape \(3, 5\)"),
    "linear bias shape": (lambda lib: lib.nn.functional.linear(lib.ones(1, 3), lib.ones(3, 3), lib.ones(2)),
                          RuntimeError, r"linear: bias of shape \(2,\) does not fit a weight of shape \(3, 3\)"
                                        r".*must have 3 entries"),
    **{
        f"{name} broadcast": ((lambda lib, f=f: f(lib.ones(2, 3), lib.ones(4))), RuntimeError,
                              rf"{name}: shapes \(2, 3\) and \(4,\) cannot be broadcast")
        for name, f in BROADCASTING.items()
    },
    **{
        f"{name} with max's (values, indices)": ((lambda lib, f=f: f(lib.ones(2, 3), lib.ones(2, 3).max(1, True))),
                                                 TypeError, r"tensor cannot be combined with a .* of tensors.*"
                                                            r"take \.values")
        for name, f in {"sub": lambda a, m: a - m, "rsub": lambda a, m: m - a, "mul": lambda a, m: a * m,
                        "lt": lambda a, m: a < m, "where": lambda a, m: a.new_zeros(()).where(a > 0, m)}.items()
    },
    "where broadcast": (lambda lib: lib.where(lib.ones(2, 3) > 0, lib.ones(4), 0.0), RuntimeError,
                        r"where: shapes \(2, 3\), \(4,\) and \(\) cannot be broadcast"),
    "reshape": (lambda lib: lib.ones(3, 3).reshape(4, 2), RuntimeError,
                r"reshape: shape \(4, 2\) is invalid for a tensor of shape \(3, 3\) \(9 elements\)"),
    "view": (lambda lib: lib.ones(2, 3).view(-1, 4), RuntimeError, r"shape \(-1, 4\) is invalid .* shape \(2, 3\)"),
    "expand": (lambda lib: lib.ones(2).expand(3), RuntimeError,
               r"expand: the shape \(2,\) cannot be expanded to \(3,\)"),
    "cat": (lambda lib: lib.cat([lib.ones(2, 3), lib.ones(2, 4)]), RuntimeError,
            r"cat: tensors must have the same shape except in dim 0, but got \(2, 3\) and \(2, 4\)"),
    "stack": (lambda lib: lib.stack([lib.ones(2, 3), lib.ones(2, 4)]), RuntimeError,
              r"stack: tensors must have the same shape, but got \(2, 3\) and \(2, 4\)"),
    "permute": (lambda lib: lib.ones(2, 3).permute(0, 0), RuntimeError, r"permute: dims \(0, 0\) must list each"),
    "item of many elements": (lambda lib: lib.ones(2, 2).item(), RuntimeError,
                              r"item\(\) needs .* exactly one element.*shape \(2, 2\) \(4 elements\)"),
    **{
        f"{name} bad dim": ((lambda lib, f=f: f(lib.ones(2, 3))), IndexError,
                            rf"{name}: dim -?[23] is out of range for a tensor of shape \(2, 3\).*\[-2, 1\]")
        for name, f in BAD_DIMS.items()
    },
    "unsqueeze bad dim": (lambda lib: lib.ones(2, 3).unsqueeze(4), IndexError, r"unsqueeze: dim 4 is out of range"),
    "cat bad dim": (lambda lib: lib.cat([lib.ones(2, 3)], dim=2), IndexError, r"cat: dim 2 is out of range"),
    "index out of range": (lambda lib: lib.ones(2, 3)[5], IndexError, r"tensor of shape \(2, 3\).*index 5"),
    "cross_entropy label": (lambda lib: lib.nn.functional.cross_entropy(lib.ones(2, 3), lib.tensor([0, 3])),
                            IndexError, r"cross_entropy: target label 3 is out of range.*\[0, 2\]"),
    "int requires grad": (lambda lib: lib.tensor([1, 2], requires_grad=True), RuntimeError,
                          r"floating point dtype can require gradients.*int64"),
}
STRICTER_THAN_PYTORCH = {
    "mse_loss shapes": (lambda lib: lib.nn.functional.mse_loss(lib.ones(3), lib.ones(3, 1)), ValueError,
                        r"mse_loss: target shape \(3, 1\) differs from input shape \(3,\).*reshape"),
}
"""PyTorch broadcasts these with only a warning; glassgrad refuses, since it is almost always a bug."""


@pytest.mark.parametrize("name", {**ERRORS, **STRICTER_THAN_PYTORCH})
def test_error_names_the_op_and_the_shapes(name):
    assert_glassgrad_refuses(*{**ERRORS, **STRICTER_THAN_PYTORCH}[name], one_line=False)


@pytest.mark.parametrize("name", ERRORS)
def test_pytorch_raises_the_same_kind_of_error(name, torch):
    make, kind, _ = ERRORS[name]
    with pytest.raises(kind):
        make(torch)


def test_a_value_error_that_is_not_about_shapes_is_not_reported_as_one(monkeypatch):
    """Only a real shape mismatch becomes the 'cannot be broadcast' message; other errors pass through."""
    from glassgrad import ops

    def failing_forward(a, b):
        raise ValueError("something else went wrong")

    broken = ops.Op("add", ops.ADD.formula, ops.ADD.local_grad, failing_forward, ops.ADD.backward)
    monkeypatch.setattr(ops, "ADD", broken)
    with pytest.raises(ValueError, match="something else went wrong"):
        gg.ones(2, 3) + gg.ones(3)
    with pytest.raises(RuntimeError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        gg.ones(2, 3) + gg.ones(4)


def test_expand_refuses_a_smaller_target_with_its_own_message():
    with pytest.raises(RuntimeError, match=r"expand: the shape \(2, 3\) cannot be expanded to \(1, 3\)"):
        gg.ones(2, 3).expand(1, 3)
