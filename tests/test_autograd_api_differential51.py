"""The autograd API against PyTorch 2.13 (round 51): ``gg.autograd.grad`` and ``gg.autograd.backward`` with their
options, ``Tensor.backward``'s ``gradient=``/``inputs=``, ``.grad`` by hand, ``retain_grad``, ``requires_grad_``,
``detach``/``detach_``, ``grad_fn``/``next_functions``, the grad modes and inference mode, and
``gg.autograd.functional``'s options; what is returned, which ``.grad`` is set, and the exception class must match.

Not compared (glassgrad's documented design or PyTorch's own quirks): ``grad_fn.name()`` is the op's name;
glassgrad refuses extra ``grad_outputs``/``grad_tensors`` entries, which PyTorch silently drops; with
``is_grads_batched=True`` and ``materialize_grads=True`` PyTorch's zeros for an unused input lack the batch dim
(glassgrad's have it); PyTorch's forward-mode ``jacobian`` of several inputs nests lists, glassgrad tuples.
"""

from __future__ import annotations

import itertools
import random
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _t(lib, values, requires_grad=True):
    return lib.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


def _x(lib):
    return _t(lib, [1.0, 2.0])


def _plain(value):
    """A result as plain Python: tensors as (shape, values), exceptions as their class."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, (list, tuple)):
        return [_plain(entry) for entry in value]
    array = np.asarray(value.detach().numpy(), dtype=np.float64)
    return (tuple(array.shape), array.tolist())


def _outcome(lib, case):
    """``case(lib)``'s result, or the class of what it raised; and the warning classes it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = _plain(case(lib))
        except Exception as error:  # noqa: BLE001 (the class is what is compared)
            result = type(error).__name__
    return result, sorted({w.category.__name__ for w in caught if w.category is not DeprecationWarning})


def _close(mine, theirs) -> bool:
    if isinstance(mine, list) and isinstance(theirs, list):
        return len(mine) == len(theirs) and all(_close(a, b) for a, b in zip(mine, theirs))
    if isinstance(mine, tuple) and isinstance(theirs, tuple) and len(mine) == 2 and isinstance(mine[0], tuple):
        return mine[0] == theirs[0] and np.allclose(mine[1], theirs[1], rtol=1e-12, atol=0)
    return mine == theirs


def _agree(torch, case):
    mine, theirs = _outcome(gg, case), _outcome(torch, case)
    assert _close(mine[0], theirs[0]), (mine, theirs)
    assert mine[1] == theirs[1], (mine, theirs)


# --- the defects of round 51 --------------------------------------------------------------------------

def test_a_walk_of_the_graph_with_a_seen_set_meets_each_leaf_once(torch):
    """A leaf used three times was reached through three unequal AccumulateGrad objects, so a graph walk that
    keeps a ``seen`` set (counting parameters, drawing the graph) met it three times; PyTorch keeps one node
    per leaf."""
    def walk(lib):
        w = _t(lib, [1.0, 2.0])
        y = (w * w + w).sum()
        seen, leaves, stack = set(), 0, [y.grad_fn]
        while stack:
            node = stack.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            leaves += hasattr(node, "variable")
            stack.extend(next_node for next_node, _ in node.next_functions)
        return leaves, len(seen)
    _agree(torch, walk)
    w = _t(gg, [1.0])
    first, second = (w * 2).grad_fn.next_functions[0][0], (w * 3).grad_fn.next_functions[0][0]
    assert first == second and hash(first) == hash(second)
    assert first != (_t(gg, [1.0]) * 2).grad_fn.next_functions[0][0]


def test_backward_of_no_tensors_does_nothing(torch):
    """``gg.autograd.backward([])`` (an empty list of losses) raised RuntimeError; PyTorch's does nothing."""
    def empty(lib):
        x = _t(lib, [1.0, 2.0])
        lib.autograd.backward([])
        return lib.autograd.backward(()), x.grad
    _agree(torch, empty)


def test_deprecated_arguments_warn_as_pytorch_does(torch):
    """``only_inputs=False`` and ``grad_variables=`` were taken silently; PyTorch warns (FutureWarning) that they
    are deprecated."""
    _agree(torch, lambda lib: lib.autograd.grad((_t(lib, [1.0, 2.0]) * 2).sum(), _t(lib, [3.0]),
                                                 only_inputs=False, allow_unused=True))
    _agree(torch, lambda lib: (lambda x: (lib.autograd.grad((x * x).sum(), x, only_inputs=True)))(_t(lib, [3.0])))

    def old_name(lib):
        x = _t(lib, [1.0, 2.0])
        lib.autograd.backward(x * x, grad_variables=lib.ones(2, dtype=lib.float64))
        return x.grad
    _agree(torch, old_name)


MISUSE = {
    "a number among grad's outputs": lambda lib, x: lib.autograd.grad([(x * 2).sum(), 3.0], x),
    "a NumPy array as grad's outputs": lambda lib, x: lib.autograd.grad(np.ones(2), x),
    "None among grad's inputs": lambda lib, x: lib.autograd.grad((x * 2).sum(), [x, None]),
    "a string among grad's inputs": lambda lib, x: lib.autograd.grad((x * 2).sum(), ["x"]),
    "None among backward's tensors": lambda lib, x: lib.autograd.backward([(x * 2).sum(), None]),
    "a NumPy array as grad_outputs": lambda lib, x: lib.autograd.grad(x * 2, x, np.ones(2)),
    "a string in grad_outputs": lambda lib, x: lib.autograd.grad([x.sum()], x, ["one"]),
    "None among backward's inputs": lambda lib, x: lib.autograd.backward([(x * 2).sum()], inputs=[None]),
    "numbers as vjp's v": lambda lib, x: lib.autograd.functional.vjp(lambda t: t.exp(), x.detach(), [1.0, 1.0]),
    "a NumPy array as hvp's v": lambda lib, x: lib.autograd.functional.hvp(lambda t: (t ** 3).sum(), x.detach(),
                                                                            np.ones(2)),
}


@pytest.mark.parametrize("name", sorted(MISUSE))
def test_misuse_raises_pytorchs_class(torch, name):
    """A non-tensor among grad's inputs raised TypeError (PyTorch: RuntimeError), among its outputs or backward's
    tensors TypeError (PyTorch asserts: AssertionError); a NumPy array given as grad_outputs was split into rows
    and refused as a count mismatch (RuntimeError; PyTorch: TypeError, an entry that is not a Tensor); numbers or
    an array as autograd.functional's ``v`` were refused as a shape mismatch (RuntimeError; PyTorch: TypeError)."""
    _agree(torch, lambda lib: MISUSE[name](lib, _x(lib)))


@pytest.mark.parametrize("name", ["jacobian", "hessian"])
def test_strict_and_vectorize_refused_together(torch, name):
    """``strict=True`` with ``vectorize=True`` (reverse mode) was taken; PyTorch raises RuntimeError."""
    def call(lib):
        function = (lambda x: x.exp()) if name == "jacobian" else (lambda x: x.exp().sum())
        return getattr(lib.autograd.functional, name)(function, _t(lib, [1.0, 2.0], False), strict=True,
                                                      vectorize=True)
    _agree(torch, call)


def test_forward_mode_checks_in_pytorchs_order(torch):
    """The forward-mode strategy's refusals: create_graph, then strict, then vectorize, as PyTorch checks them
    (strict without vectorize raised NotImplementedError where PyTorch raises RuntimeError)."""
    for create_graph, strict, vectorize in itertools.product([False, True], repeat=3):
        def call(lib, create_graph=create_graph, strict=strict, vectorize=vectorize):
            return lib.autograd.functional.jacobian(lambda x: x.exp(), _t(lib, [1.0, 2.0], False),
                                                    create_graph=create_graph, strict=strict, vectorize=vectorize,
                                                    strategy="forward-mode")
        _agree(torch, call)


# --- pinning tests: gg.autograd.grad ------------------------------------------------------------------

GRAD_CASES = {
    "implicit seed of a vector": lambda lib: lib.autograd.grad(_x(lib) * 2, _x(lib)),
    "int seed cast": lambda lib: (lambda x: lib.autograd.grad(x * x, x, lib.ones(2, dtype=lib.int64)))(_x(lib)),
    "float32 seed cast": lambda lib: (lambda x: lib.autograd.grad(x * x, x, lib.ones(2, dtype=lib.float32)))(_x(lib)),
    "broadcastable seed refused": lambda lib: (lambda x: lib.autograd.grad(x * x, x, lib.ones(1)))(_x(lib)),
    "None seed in a list": lambda lib: (lambda x: lib.autograd.grad([(x ** 3).sum()], [x], [None]))(_x(lib)),
    "unused input": lambda lib: (lambda x, z: lib.autograd.grad((x * x).sum(), [x, z]))(_x(lib), _x(lib)),
    "unused allowed": lambda lib: (lambda x, z: lib.autograd.grad((x * x).sum(), [x, z], allow_unused=True))(
        _x(lib), _x(lib)),
    "materialized": lambda lib: (lambda x, z: lib.autograd.grad((x * x).sum(), [x, z], materialize_grads=True))(
        _x(lib), _x(lib)),
    "materialize with allow_unused=False": lambda lib: (lambda x, z: lib.autograd.grad(
        (x * x).sum(), [x, z], allow_unused=False, materialize_grads=True))(_x(lib), _x(lib)),
    "non-leaf and view inputs": lambda lib: (lambda y: (lambda v: lib.autograd.grad((v * 3).sum() + y.sum(), [v, y]))(
        y[1:]))(_x(lib) * _x(lib)),
    "output is the input": lambda lib: (lambda x: lib.autograd.grad(x, x, lib.ones(2, dtype=lib.float64)))(_x(lib)),
    "output needs no grad": lambda lib: lib.autograd.grad(lib.ones(2).sum(), _x(lib)),
    "input needs no grad": lambda lib: lib.autograd.grad((_x(lib) * 2).sum(), lib.ones(2)),
    "no inputs": lambda lib: lib.autograd.grad((_x(lib) * 2).sum(), []),
    "twice without retain_graph": lambda lib: (lambda x: (lambda y: (lib.autograd.grad(y, x), lib.autograd.grad(y, x)))(
        x.exp().sum()))(_x(lib)),
    "create_graph then again": lambda lib: (lambda x: lib.autograd.grad(
        lib.autograd.grad((x ** 3).sum(), x, create_graph=True)[0].sum(), x))(_x(lib)),
    "batched seeds": lambda lib: (lambda x, z: lib.autograd.grad(
        [x * z, z.sum() * x], [x, z], [lib.eye(2, dtype=lib.float64), lib.ones(2, 2, dtype=lib.float64)],
        is_grads_batched=True))(_x(lib), _x(lib)),
    "batched seed without a batch dim": lambda lib: (lambda x: lib.autograd.grad(
        x * x, x, lib.ones(2, dtype=lib.float64), is_grads_batched=True))(_x(lib)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_grad_options_pinned(torch, name):
    _agree(torch, GRAD_CASES[name])


def test_grad_result_graph_state_pinned(torch):
    def state(lib):
        x = _x(lib)
        (plain,) = lib.autograd.grad((x ** 3).sum(), x)
        (recorded,) = lib.autograd.grad((x ** 3).sum(), x, create_graph=True)
        return [plain.requires_grad, plain.grad_fn is None, recorded.requires_grad, recorded.grad_fn is None, x.grad]
    _agree(torch, state)


# --- pinning tests: backward ---------------------------------------------------------------------------

BACKWARD_CASES = {
    "gradient of the root's shape": lambda lib, x, z: (x * z).backward(lib.tensor([1.0, -2.0], dtype=lib.float64)),
    "gradient of another shape": lambda lib, x, z: (x * z).backward(lib.ones(1, dtype=lib.float64)),
    "int gradient": lambda lib, x, z: (x * z).backward(lib.ones(2, dtype=lib.int64)),
    "non-scalar root without gradient": lambda lib, x, z: (x * z).backward(),
    "root needs no grad": lambda lib, x, z: lib.ones(2).sum().backward(),
    "inputs a subset": lambda lib, x, z: (x * z).sum().backward(inputs=[x]),
    "inputs one tensor": lambda lib, x, z: (x * z).sum().backward(inputs=z),
    "inputs empty": lambda lib, x, z: (x * z).sum().backward(inputs=[]),
    "inputs unused": lambda lib, x, z: (x * 2).sum().backward(inputs=[z]),
    "inputs needing no grad": lambda lib, x, z: (x * 2).sum().backward(inputs=[lib.ones(2)]),
    "two passes accumulate": lambda lib, x, z: ((x * z).sum().backward(), (x * x).sum().backward()),
    "several roots": lambda lib, x, z: lib.autograd.backward([(x * 2).sum(), x * z],
                                                             [None, lib.ones(2, dtype=lib.float64)]),
    "too few grad_tensors": lambda lib, x, z: lib.autograd.backward([(x * 2).sum(), (x * z).sum()], [None]),
    "one root twice": lambda lib, x, z: (lambda y: lib.autograd.backward([y, y]))(x.exp().sum()),
}


@pytest.mark.parametrize("name", sorted(BACKWARD_CASES))
def test_backward_options_pinned(torch, name):
    def case(lib):
        x, z = _x(lib), _t(lib, [3.0, -1.0])
        BACKWARD_CASES[name](lib, x, z)
        return x.grad, z.grad
    _agree(torch, case)


def test_non_leaf_inputs_get_their_grad_pinned(torch):
    def case(lib):
        x = _x(lib)
        y = x * x
        loss = (y * 3).sum()
        loss.backward(inputs=[y, x], retain_graph=True)
        loss.backward(inputs=[y])
        return x.grad, y.grad, y.is_leaf
    _agree(torch, case)


# --- pinning tests: .grad, retain_grad, requires_grad_, detach ------------------------------------------

def _assign(value):
    def case(lib):
        x = _x(lib)
        x.grad = value(lib)
        (x * x).sum().backward()
        return x.grad
    return case


@pytest.mark.parametrize("value", [
    lambda lib: lib.ones(2, dtype=lib.float64), lambda lib: None, lambda lib: lib.ones(3, dtype=lib.float64),
    lambda lib: lib.ones(2, dtype=lib.float32), lambda lib: lib.ones(2, dtype=lib.int64),
    lambda lib: lib.ones(2, dtype=lib.float64, device="meta"), lambda lib: [1.0, 2.0],
])
def test_assigned_grad_pinned(torch, value):
    _agree(torch, _assign(value))


def test_assigned_grad_accumulates_in_place_pinned(torch):
    def case(lib):
        x = _x(lib)
        given = lib.ones(2, dtype=lib.float64)
        x.grad = given
        (x * x).sum().backward()
        return x.grad is given, given
    _agree(torch, case)


def test_non_leaf_grad_and_retain_grad_pinned(torch):
    def case(lib):
        x = _x(lib)
        y, kept = x * 2, x * 3
        kept.retain_grad()
        x.retain_grad()
        loss = (y * kept).sum()
        loss.backward(retain_graph=True)
        first = kept.grad
        loss.backward()
        return y.grad, kept.grad, first is kept.grad, kept.retains_grad, x.retains_grad, x.grad
    _agree(torch, case)  # also the UserWarning of reading a non-leaf's .grad


FLAG_CASES = [
    lambda lib: (_x(lib) * 2).requires_grad_(False),
    lambda lib: lib.tensor([1, 2]).requires_grad_(),
    lambda lib: lib.tensor([True]).requires_grad_(),
    lambda lib: lib.tensor([1, 2]).requires_grad_(False).requires_grad,
    lambda lib: lib.arange(3, requires_grad=True),
    lambda lib: (_x(lib) * 2).detach_().is_leaf,
    lambda lib: (_x(lib) * 2)[1:].detach_(),
    lambda lib: (lambda x: (x.detach().add_(1), x, x._version))(_x(lib)),
    lambda lib: (lambda x: (lambda y: (y.detach().zero_(), y.sum().backward(), x.grad))(x.exp()))(_x(lib)),
    lambda lib: _t(lib, [1.0], False).retain_grad(),
]


def test_flags_and_detach_pinned(torch):
    for case in FLAG_CASES:
        _agree(torch, case)


# --- pinning tests: grad modes and inference mode -------------------------------------------------------

def test_grad_modes_nest_pinned(torch):
    def case(lib):
        x, seen = _x(lib), []
        with lib.no_grad():
            seen.append((x * 2).requires_grad)
            with lib.enable_grad():
                seen.append((x * 2).requires_grad)
                with lib.set_grad_enabled(False):
                    seen.append(lib.is_grad_enabled())
            lib.set_grad_enabled(True)
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
        with lib.inference_mode():
            made = lib.ones(2)
            seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled(), made.is_inference()))
            with lib.inference_mode(False):
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled(), lib.ones(1).is_inference()))
        seen.append((lib.is_inference_mode_enabled(), made.is_inference(), made.clone().is_inference()))
        return seen
    _agree(torch, case)


@pytest.mark.parametrize("use", [
    lambda lib, x, y: (x * y).sum().backward(),
    lambda lib, x, y: (x + y).sum().backward(),
    lambda lib, x, y: (x @ y).backward(),
    lambda lib, x, y: lib.cat([x, y]).sum().backward(),
    lambda lib, x, y: y.requires_grad_(),
    lambda lib, x, y: y.add_(1),
    lambda lib, x, y: (x * y[0]).sum().backward(),
])
def test_inference_tensors_later_in_autograd_pinned(torch, use):
    def case(lib):
        with lib.inference_mode():
            y = lib.ones(2, dtype=lib.float64)
        x = _x(lib)
        use(lib, x, y)
        return x.grad
    _agree(torch, case)


# --- pinning tests: autograd.functional ---------------------------------------------------------------

FUNCTIONS = {
    "one number": (lambda x: (x ** 2).sum(), False),
    "vector": (lambda x: x.exp() * x, False),
    "two in, two out": (lambda x, y: (x * y.sum(), y ** 2), True),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_jacobian_pinned(torch, name):
    function, two = FUNCTIONS[name]
    for options in ({}, {"create_graph": True}, {"strict": True}, {"vectorize": True},
                    {"vectorize": True, "strategy": "forward-mode"}):
        _agree(torch, _jacobian_case(function, two, options))


def _jacobian_case(function, two: bool, options: dict):
    def case(lib):
        inputs = (_t(lib, [1.0, 2.0], False), _t(lib, [0.5, -1.0, 3.0], False)) if two else _t(lib, [1.0, 2.0], False)
        result = lib.autograd.functional.jacobian(function, inputs, **options)
        flat = result if isinstance(result, lib.Tensor) else [entry for row in result for entry in
                                                             (row if isinstance(row, (tuple, list)) else [row])]
        flat = [flat] if isinstance(flat, lib.Tensor) else flat
        return result, [entry.requires_grad for entry in flat]
    return case


@pytest.mark.parametrize("name", ["vjp", "jvp", "vhp", "hvp"])
def test_products_pinned(torch, name):
    for options in ({}, {"create_graph": True}, {"strict": True}):
        _agree(torch, _product_case(name, options))


def _product_case(name: str, options: dict):
    def case(lib):
        x, y = _t(lib, [1.0, 2.0], False), _t(lib, [0.5, -1.5], False)
        function = lambda a, b: (a * b).sum() + (a ** 3).sum()  # noqa: E731
        v = _t(lib, [1.0], False) if name == "vjp" else None
        v = v.sum() if v is not None else (_t(lib, [0.5, 1.0], False), _t(lib, [-1.0, 2.0], False))
        value, product = getattr(lib.autograd.functional, name)(function, (x, y), v, **options)
        return value, product, [entry.requires_grad for entry in product]
    return case


# --- the fuzzer's core -----------------------------------------------------------------------------------

_UNARY = ("exp", "tanh", "sin", "sigmoid", "neg")


def _drawn_case(seed: int):
    """A drawn small graph over three leaves, differentiated by grad or backward in one of several ways."""
    def case(lib):
        rng, numbers = random.Random(seed), np.random.default_rng(seed)
        leaves = [lib.tensor(numbers.normal(size=3), requires_grad=rng.random() < 0.8) for _ in range(3)]
        leaves[0].requires_grad_()
        made, nodes = list(leaves), []
        for _ in range(rng.randint(2, 6)):
            if rng.random() < 0.5:
                node = getattr(rng.choice(made), rng.choice(_UNARY))()
            else:
                node = getattr(rng.choice(made), rng.choice(("add", "mul", "sub")))(rng.choice(made))
            made.append(node)
            nodes.append(node)
        outputs = rng.sample(nodes, min(len(nodes), rng.randint(1, 3)))
        seeds = [lib.tensor(numbers.normal(size=tuple(output.shape))) for output in outputs]
        inputs = [leaf for leaf in leaves if leaf.requires_grad]
        mode = rng.choice(("grad", "grad of non-leaves", "second order", "backward", "backward into some"))
        if mode == "grad":
            return lib.autograd.grad(outputs, inputs, seeds, allow_unused=rng.random() < 0.5,
                                     materialize_grads=rng.random() < 0.3)
        if mode == "grad of non-leaves":
            return lib.autograd.grad(outputs, [node for node in nodes if node.requires_grad][:2] + inputs[:1], seeds,
                                     allow_unused=True)
        if mode == "second order":
            first = lib.autograd.grad(outputs, inputs, seeds, create_graph=True, allow_unused=True)
            total = sum((g * g).sum() for g in first if g is not None and g.requires_grad)
            return first if isinstance(total, int) else (first, lib.autograd.grad(total, inputs, allow_unused=True))
        lib.autograd.backward(outputs, seeds, inputs=inputs[:1] if mode == "backward into some" else None)
        lib.autograd.backward([(leaf * 2).sum() for leaf in inputs])
        return [leaf.grad for leaf in leaves]
    return case


@given(seed=st.integers(0, 2 ** 31 - 1))
def test_drawn_graphs_agree_with_pytorch(torch, seed):
    _agree(torch, _drawn_case(seed))
