"""Round 128: misuse parity of the optimizers (a parameter resized between steps), dtype attributes, the layout of
``autograd.grad`` for a channels-last non-leaf input, and Tensor misuse classes; PyTorch 2.13 CPU is the oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import glassgrad as gg

OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "RMSprop", "ASGD",
              "Adafactor", "LBFGS"]
SHAPES = [(), (1,), (3,), (4,), (1, 3), (3, 1), (2, 3), (3, 2)]


def _resized_step(lib, name: str, old: tuple, new: tuple, two: bool, options: dict | None = None) -> tuple:
    """One step, the last parameter given shape ``new`` (it had ``old``), another step: what that step raised (its
    class name, or "ok") and the message's line count, with the parameters' values and state before and after it."""
    params = [lib.ones(2, requires_grad=True)] if two else []
    resized = lib.full(old, 0.5, requires_grad=True)
    params.append(resized)
    options = {"lr": 0.1, "momentum": 0.9} if name == "SGD" else {"lr": 0.1, **(options or {})}
    optimizer = getattr(lib.optim, name)(params, **options)

    def closure():
        optimizer.zero_grad()
        loss = sum((p * p).sum() for p in params)
        loss.backward()
        return loss

    def step():
        if name == "LBFGS":
            optimizer.step(closure)
        else:
            closure()
            optimizer.step()

    def snapshot():
        values = [p.detach().numpy().copy() for p in params]
        state = [{k: (v.detach().numpy().copy() if hasattr(v, "detach") else v) for k, v in s.items()}
                 for s in optimizer.state.values()]
        return values, state

    step()
    with lib.no_grad():
        resized.data = lib.full(new, 0.25)
    if name == "LBFGS":
        before = snapshot()
    try:
        step()
    except Exception as error:  # noqa: BLE001 (the class is what is compared)
        lines = len(str(error).splitlines())
        return type(error).__name__, lines, (before, snapshot()) if name == "LBFGS" else None
    return "ok", 1, None


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(OPTIMIZERS), old=st.sampled_from(SHAPES), new=st.sampled_from(SHAPES), two=st.booleans())
@example(name="Adafactor", old=(2, 3), new=(), two=False)
def test_resized_parameter_raises_pytorchs_class(torch, name, old, new, two):
    """A parameter given another shape after a step: the next step raises PyTorch's class (RuntimeError; Rprop's
    IndexError where the new shape broadcasts to its state's; Adafactor's AssertionError where it crossed 2 dims), in
    one line, or goes on where PyTorch goes on; never NumPy's ValueError, never silently broadcasting a 0-d state."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _resized_step(torch, name, old, new, two)[0]
        got, lines, _ = _resized_step(gg, name, old, new, two)
    assert (got, lines) == (expected, 1)


@pytest.mark.parametrize("old, new, kind", [((3,), (1,), "IndexError"), ((3,), (), "IndexError"),
                                            ((3,), (4,), "RuntimeError"), ((1,), (3,), "RuntimeError"),
                                            ((2, 3), (3, 2), "RuntimeError"), ((), (3,), "RuntimeError")])
def test_rprop_resized_parameter(torch, old, new, kind):
    assert _resized_step(torch, "Rprop", old, new, False)[0] == kind
    assert _resized_step(gg, "Rprop", old, new, False)[:2] == (kind, 1)


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n != "LBFGS"])
def test_zero_d_parameter_resized(torch, name):
    """A 0-d parameter's 0-d state (a moment) was skipped by the shape check: NumPy's ValueError came out, and Adam's
    one-pass group broadcast its 0-d moments over the new shape and stepped (silently)."""
    for two in (False, True):
        assert _resized_step(torch, name, (), (3,), two)[0] == "RuntimeError"
        assert _resized_step(gg, name, (), (3,), two)[:2] == ("RuntimeError", 1)


@pytest.mark.parametrize("old, new", [((3,), (4,)), ((3,), (1,)), ((), (3,)), ((3,), ())])
def test_lbfgs_resized_parameter_changes_nothing(torch, old, new):
    """LBFGS's flat history no longer fits: RuntimeError (PyTorch's, not NumPy's ValueError), before the closure
    runs, so that no parameter, counter or history moved."""
    assert _resized_step(torch, "LBFGS", old, new, True)[0] == "RuntimeError"
    kind, lines, (before, after) = _resized_step(gg, "LBFGS", old, new, True)
    assert (kind, lines) == ("RuntimeError", 1)
    for a, b in zip(before[0], after[0]):
        np.testing.assert_array_equal(a, b)
    assert [sorted(s) for s in before[1]] == [sorted(s) for s in after[1]]
    for a, b in zip(before[1], after[1]):
        for key in a:
            np.testing.assert_array_equal(np.asarray(a[key], dtype=object), np.asarray(b[key], dtype=object))


def test_asgd_copy_refuses_more_dims(torch):
    """ASGD's ``ax ← w`` (while step ≤ t0): copyto dropped the resized w's leading 1s, PyTorch's copy_ raises."""
    for old, new in [((), (1,)), ((3,), (1, 3))]:
        assert _resized_step(torch, "ASGD", old, new, False)[0] == "RuntimeError"
        assert _resized_step(gg, "ASGD", old, new, False)[:2] == ("RuntimeError", 1)


TENSOR_MISUSE = {
    "permute more dims than the tensor's": lambda T: T.ones(2, 3).permute(0, 1, 2),
    "permute one dim of two, out of range": lambda T: T.ones(2, 3).permute(5),
    "permute a dim out of range": lambda T: T.ones(2, 3, 4).permute(0, 1, 3),
    "where with a float condition": lambda T: T.where(T.ones(2), T.ones(2), T.zeros(2)),
    "where with an int condition": lambda T: T.where(T.ones(2, dtype=T.long), 1.0, 0.0),
    "Tensor.where with a float condition": lambda T: T.ones(2).where(T.ones(2), T.zeros(2)),
    "type of an unknown name": lambda T: T.ones(2).type("foo"),
    "type of an unknown legacy name": lambda T: T.ones(2).type("torch.FooTensor"),
    "type of a number": lambda T: T.ones(2).type(3),
    "norm of an unknown string p": lambda T: T.ones(2, 2).norm(p="foo"),
    "torch.norm of an unknown string p": lambda T: T.norm(T.ones(2), p="bar"),
    "to an unknown device by position": lambda T: T.ones(2).to("gpu"),
    "to an unknown device by keyword": lambda T: T.ones(2).to(device="gpu"),
    "to a device index": lambda T: T.ones(2).to(device=1),
    "ones on an unknown device": lambda T: T.ones(2, device="gpu"),
    "ones on a device index": lambda T: T.ones(2, device=0),
    "ones on a float device": lambda T: T.ones(2, device=3.5),
    "tensor on an unknown device": lambda T: T.tensor([1.0], device="tpu"),
    "zeros_like on an unknown device": lambda T: T.zeros_like(T.ones(2), device="gpu"),
    "a module to an unknown device": lambda T: T.nn.Linear(2, 2).to("gpu"),
    "new_tensor of a string": lambda T: T.ones(2).new_tensor("a"),
    "new_tensor of a list of strings": lambda T: T.ones(2).new_tensor(["a"]),
    "tensor of a string in a float dtype": lambda T: T.tensor("a", dtype=T.float32),
    "tensor of strings in a float dtype": lambda T: T.tensor(["a", "b"], dtype=T.float64),
    "tensor of a number and a string in a float dtype": lambda T: T.tensor([1, "a"], dtype=T.float32),
}


@pytest.mark.parametrize("case", TENSOR_MISUSE)
def test_tensor_misuse_raises_pytorchs_class_in_one_line(torch, case):
    """Each was another class than PyTorch's: permute's count of dims (IndexError for an out-of-range dim read
    first), where's non-bool condition (TypeError), an unknown type name (TypeError), a string norm p other than
    'fro'/'nuc' (TypeError), an unknown device name or index (ValueError, or a TypeError 'unknown dtype' for
    ``to('gpu')``), text given with a float dtype (NumPy's conversion ValueError)."""
    with pytest.raises(Exception) as expected:
        TENSOR_MISUSE[case](torch)
    with pytest.raises(type(expected.value)) as got:
        TENSOR_MISUSE[case](gg)
    assert type(got.value) is type(expected.value)
    assert len(str(got.value).splitlines()) == 1


def test_dtype_names_still_taken_where_a_dtype_goes():
    """glassgrad takes a NumPy dtype's name where a dtype goes (t.to('float64'), t.type('float64')); only a string
    that names neither a dtype nor a device is refused as PyTorch refuses it."""
    assert gg.ones(2).to("float64").dtype == gg.float64
    assert gg.ones(2).type("float64").dtype == gg.float64
    assert gg.ones(2).type("torch.DoubleTensor").dtype == gg.float64


def test_dtype_attributes_that_exist(torch):
    """``itemsize`` (NumPy's) equals PyTorch's for every dtype glassgrad has, and comparisons and membership work with
    bfloat16 (which NumPy lacks); ``is_floating_point`` & co. cannot be added to NumPy's dtypes (README)."""
    for name in ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]:
        assert getattr(gg, name).itemsize == getattr(torch, name).itemsize
    x = gg.ones(2)
    assert x.dtype not in (gg.float16, gg.bfloat16) and x.dtype == gg.float32 and x.dtype != gg.bfloat16
    assert gg.ones(2, dtype=gg.float16).dtype in (gg.float16, gg.bfloat16)


LOSS_SHAPES = [(), (1,), (3,), (2, 3), (1, 3), (2, 1), (4, 2, 3), (3, 2)]


@settings(max_examples=40, deadline=None)
@given(scores=st.sampled_from(LOSS_SHAPES), labels=st.sampled_from(LOSS_SHAPES),
       reduction=st.sampled_from(["none", "mean", "sum"]))
@example(scores=(3,), labels=(2, 3), reduction="mean")
def test_soft_margin_loss_target_shapes(torch, scores, labels, reduction):
    """A target that does not broadcast to the input's shape (a (2, 3) target for (3,) scores) was broadcast and its
    losses averaged (**silent**); PyTorch's kernel, which writes losses of the input's shape, raises RuntimeError.
    Where it broadcasts, the numbers are PyTorch's (float64, 1e-12)."""
    def run(lib):
        x = lib.tensor(np.linspace(-1, 1, int(np.prod(scores))).reshape(scores))
        y = lib.tensor((np.arange(int(np.prod(labels))) % 2 * 2 - 1.0).reshape(labels))
        try:
            return "ok", np.asarray(lib.nn.functional.soft_margin_loss(x, y, reduction=reduction).detach().numpy())
        except Exception as error:  # noqa: BLE001 (the class is what is compared)
            return type(error).__name__, len(str(error).splitlines())
    expected, got = run(torch), run(gg)
    assert got[0] == expected[0]
    if expected[0] == "ok":
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-12)
        assert got[1].shape == expected[1].shape
    else:
        assert got[1] == 1


@settings(max_examples=40, deadline=None)
@given(scores=st.sampled_from(LOSS_SHAPES), labels=st.sampled_from(LOSS_SHAPES),
       reduction=st.sampled_from(["none", "mean", "sum"]))
@example(scores=(3,), labels=(2, 3), reduction="none")
def test_multilabel_soft_margin_loss_target_shapes(torch, scores, labels, reduction):
    """A target of more dims than the input broadcast the losses, and glassgrad averaged over their last dim, where
    PyTorch sums over the input's last dim and divides by its size: (3,) scores with (2, 3) targets gave two losses
    of another value than PyTorch's three (**silent**). Now PyTorch's numbers (float64, 1e-12) and classes."""
    def run(lib):
        x = lib.tensor(np.linspace(-1, 1, int(np.prod(scores))).reshape(scores))
        y = lib.tensor((np.arange(int(np.prod(labels))) % 3 / 2).reshape(labels))
        try:
            loss = lib.nn.functional.multilabel_soft_margin_loss(x, y, reduction=reduction)
        except Exception as error:  # noqa: BLE001 (the class is what is compared)
            return type(error).__name__, len(str(error).splitlines())
        return "ok", np.asarray(loss.detach().numpy())
    expected, got = run(torch), run(gg)
    assert got[0] == expected[0]
    if expected[0] == "ok":
        assert got[1].shape == expected[1].shape
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-12)
    else:
        assert got[1] == 1
