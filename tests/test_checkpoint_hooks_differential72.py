"""Activation checkpointing and saved-tensor hooks against PyTorch 2.13 (round 72): ``checkpoint`` with both
``use_reentrant`` settings (non-tensor arguments and outputs, keyword arguments, inputs that need no gradient,
nested checkpoints, ``autograd.grad``, ``context_fn``, ``debug``), dropout under ``preserve_rng_state``,
``checkpoint_sequential``, ``saved_tensors_hooks`` (how often pack/unpack run), ``save_on_cpu`` and
``disable_saved_tensors_hooks``: gradients (float64, 1e-12), returned objects and exception classes must match.

Not compared (PyTorch's quirks or glassgrad's documented design): ``use_reentrant=True`` with ``autograd.grad``
(PyTorch raises, glassgrad works, as its module says); a list returned under ``use_reentrant=True`` (PyTorch's
tensors in it silently get no gradient); a segment that computes other numbers when run again (a counter, a
draw with ``preserve_rng_state=False``): PyTorch checks only shapes and gives the second run's gradient,
glassgrad refuses in one line (its module's "checked, not assumed"); the order and number of ``pack_hook`` calls
for ops whose saved values differ (``x * y`` packs ``x`` then ``y``, PyTorch ``y`` then ``x``; ``x * 2`` packs a
0-d 2; ``x @ w`` packs a shape too; see ``glassgrad.saved_tensors``); ``grad_fn.register_hook``/``_saved_*`` and
``register_multi_grad_hook``/``allow_mutation_on_saved_tensors``, which glassgrad does not have.
"""

from __future__ import annotations

import contextlib
import functools
import random
import warnings
from importlib import import_module

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

X = np.arange(1.0, 7.0).reshape(2, 3) / 7


def _checkpointing(lib):
    return import_module(f"{lib.__name__}.utils.checkpoint")


def _x(lib, requires_grad=True):
    return lib.tensor(X.copy(), dtype=lib.float64, requires_grad=requires_grad)


def _outcome(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 (the class is the outcome compared)
        return type(error).__name__


# --- defects fixed in round 72 ------------------------------------------------------------------------------------


def test_context_fn_runs_the_forward_and_the_recomputation_in_its_two_contexts_as_pytorch(torch):
    """``context_fn`` with ``use_reentrant=False`` (PyTorch's selective-checkpoint hook) was refused with
    NotImplementedError; now its first context wraps the forward, its second the second run in backward."""
    found = {}
    for lib in (torch, gg):
        log = []

        @contextlib.contextmanager
        def marked(name, log=log):
            log.append(f"enter {name}")
            try:
                yield
            finally:  # PyTorch's second run stops early, with an error, once it has made what backward needs
                log.append(f"exit {name}")

        def segment(a, log=log):
            log.append("run")
            return a.sin() * a

        x = _x(lib)
        y = _checkpointing(lib).checkpoint(segment, x, use_reentrant=False,
                                           context_fn=lambda marked=marked: (marked("forward"), marked("again")))
        log.append("backward")
        y.sum().backward()
        found[lib.__name__] = (log, x.grad.numpy().tolist())
    assert found["glassgrad"][0] == found["torch"][0] == [
        "enter forward", "run", "exit forward", "backward", "enter again", "run", "exit again"]
    np.testing.assert_allclose(found["glassgrad"][1], found["torch"][1], rtol=1e-12)


@pytest.mark.parametrize("options", [{"context_fn": lambda: (contextlib.nullcontext(), contextlib.nullcontext())},
                                     {"debug": True}])
def test_context_fn_or_debug_with_reentrant_is_pytorchs_value_error_and_debug_alone_works(torch, options):
    for lib in (torch, gg):
        checkpoint = _checkpointing(lib).checkpoint
        assert _outcome(checkpoint, lambda a: a.sin(), _x(lib), use_reentrant=True, **options) == "ValueError"
    x = _x(gg)
    gg_y = _checkpointing(gg).checkpoint(lambda a: a.sin(), x, use_reentrant=False, debug=True)
    gg_y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(X), rtol=1e-12)


def test_context_fn_returning_no_pair_is_a_one_line_type_error(torch):
    for lib in (torch, gg):
        checkpoint = _checkpointing(lib).checkpoint
        assert _outcome(checkpoint, lambda a: a, _x(lib), use_reentrant=False, context_fn=lambda: None) == "TypeError"
    with pytest.raises(TypeError, match="context_fn must return a pair of context managers") as error:
        _checkpointing(gg).checkpoint(lambda a: a, _x(gg), use_reentrant=False, context_fn=lambda: None)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("reentrant", [False, True])
def test_an_argument_returned_as_it_is_is_that_tensor_with_use_reentrant_false(torch, reentrant):
    """``checkpoint(lambda a, b: (a * b, a), x, w, use_reentrant=False)[1] is x`` in PyTorch (the non-reentrant
    checkpoint returns what the function returned); glassgrad gave a new tensor, so ``add_`` on it left ``x``."""
    found = {}
    for lib in (torch, gg):
        x, w = _x(lib), _x(lib) * 2
        product, same = _checkpointing(lib).checkpoint(lambda a, b: (a * b, a), x, w, use_reentrant=reentrant)
        (product.sum() + (same * same).sum()).backward()
        found[lib.__name__] = (same is x, x.grad.numpy().tolist())
    assert found["glassgrad"][0] == found["torch"][0] == (not reentrant)
    np.testing.assert_allclose(found["glassgrad"][1], found["torch"][1], rtol=1e-12)


def test_checkpoint_sequential_refuses_an_unknown_keyword_with_pytorchs_value_error(torch):
    for lib in (torch, gg):
        sequential = _checkpointing(lib).checkpoint_sequential
        model = lib.nn.Sequential(lib.nn.Tanh(), lib.nn.Tanh())
        assert _outcome(sequential, model, 2, _x(lib), use_reentrant=False, scale=2) == "ValueError"
        assert _outcome(sequential, model, 2.0, _x(lib), use_reentrant=False) == "TypeError"


@pytest.mark.parametrize("reentrant", [False, True])
def test_hooks_around_a_checkpoint_are_not_handed_what_the_segment_drops(torch, reentrant):
    """A checkpointed segment keeps none of what its ops save, so PyTorch never hands those values to the
    ``saved_tensors_hooks`` around it (an offloading pack_hook would store what is never read); glassgrad handed
    them all (three tensors here). Each library's pack_hook now sees only the checkpoint's own input, if any."""
    for lib in (torch, gg):
        x = _x(lib)
        seen = []
        with lib.autograd.graph.saved_tensors_hooks(lambda t, seen=seen: (seen.append(t), t)[1], lambda t: t):
            y = _checkpointing(lib).checkpoint(lambda a: a.sin() * a, x, use_reentrant=reentrant)
        y.sum().backward()
        assert all(tensor is x for tensor in seen), lib.__name__
        np.testing.assert_allclose(x.grad.numpy(), np.sin(X) + X * np.cos(X), rtol=1e-12)


# --- the fuzzer's core: drawn segments, both settings, against PyTorch -------------------------------------------


def _segment(lib, kind, flag, weight):
    def run(a, b=None, *, k=None):
        h = a @ weight
        h = [h.tanh(), (h * h).sum(-1, keepdim=True) + h, h.relu() * 0.5, h.exp().log1p(),
             h.sigmoid() * (b if b is not None else 1.0)][kind]
        if k is not None:
            h = h + k
        return [h, (h, 3, h.sin()), (h.cos(),)][flag]

    return run


def _drawn_run(lib, case):
    kind, flag, reentrant, x_grad, with_b, keyword, nested, by_grad = case
    rng = np.random.default_rng(kind * 97 + flag)
    x = lib.tensor(rng.standard_normal((3, 4)), dtype=lib.float64, requires_grad=x_grad)
    weight = lib.tensor(rng.standard_normal((4, 4)), dtype=lib.float64, requires_grad=True)
    b = lib.tensor(rng.standard_normal((3, 4)), dtype=lib.float64, requires_grad=True) if with_b else None
    k = lib.tensor(rng.standard_normal((3, 4)), dtype=lib.float64, requires_grad=True)
    checkpoint = _checkpointing(lib).checkpoint
    run = _segment(lib, kind, flag, weight)
    inner = (lambda *args, **kwargs: checkpoint(run, *args, use_reentrant=reentrant, **kwargs)) if nested else run
    args = (x, b) if with_b else (x,)
    kwargs = {"k": k} if keyword else {}
    out = checkpoint(inner, *args, use_reentrant=reentrant, **kwargs)
    first = out[0] if isinstance(out, tuple) else out
    loss = (first * first).sum() + (out[2].sum() if flag == 1 else 0)
    leaves = [weight, x] + ([b] if with_b else []) + ([k] if keyword else [])
    shape = [type(part).__name__ for part in out] if isinstance(out, tuple) else type(out).__name__
    if by_grad:
        needed = [leaf for leaf in leaves if leaf.requires_grad]
        grads = lib.autograd.grad(loss, needed, allow_unused=True)
    else:
        loss.backward()
        grads = [leaf.grad for leaf in leaves]
    return loss.item(), shape, [None if grad is None else grad.numpy() for grad in grads]


@given(st.tuples(st.integers(0, 4), st.integers(0, 2), st.booleans(), st.booleans(), st.booleans(), st.booleans(),
                 st.booleans(), st.booleans()))
def test_drawn_checkpoints_give_pytorchs_gradients(torch, case):
    kind, flag, reentrant, x_grad, with_b, keyword, nested, by_grad = case
    if reentrant:
        keyword = by_grad = False  # PyTorch refuses both with use_reentrant=True (see the module)
    case = (kind, flag, reentrant, x_grad, with_b, keyword, nested, by_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, found = _drawn_run(torch, case), _drawn_run(gg, case)
    assert found[:2] == expected[:2] or abs(found[0] - expected[0]) <= 1e-12 * max(1.0, abs(expected[0]))
    assert found[1] == expected[1]
    assert [grad is None for grad in found[2]] == [grad is None for grad in expected[2]]
    for ours, theirs in zip(found[2], expected[2]):
        if theirs is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


# --- pinned: what already behaved ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reentrant, nesting, sequential", [(True, 0, False), (False, 0, False), (False, 2, False),
                                                            (True, 1, False), (True, 0, True), (False, 0, True)])
def test_dropout_in_a_checkpoint_draws_the_same_mask_again_and_leaves_the_stream_where_a_plain_run_does(
        torch, reentrant, nesting, sequential):
    """The gradient through a checkpointed dropout equals the plain run's, and the next draw after backward is the
    plain run's next draw, in both libraries (deterministic: the same seed in each pair of runs)."""
    for lib in (torch, gg):
        checkpointing = _checkpointing(lib)

        def step(a, lib=lib):
            return lib.nn.functional.dropout(a.sin(), 0.5, True) * 3

        results = []
        for checkpointed in (False, True):
            lib.manual_seed(7)
            x = lib.tensor(np.linspace(-1, 1, 40).reshape(4, 10), dtype=lib.float64, requires_grad=True)
            if not checkpointed:
                y = step(step(step(x))) if sequential else step(x)
            elif sequential:
                y = checkpointing.checkpoint_sequential([step, step, step], 2, x, use_reentrant=reentrant)
            else:
                run = step
                for _ in range(nesting):
                    run = functools.partial(checkpointing.checkpoint, run, use_reentrant=reentrant)
                y = checkpointing.checkpoint(run, x, use_reentrant=reentrant)
            y.pow(2).sum().backward()
            results.append((x.grad.numpy().copy(), lib.rand(3).numpy()))
        np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
        np.testing.assert_array_equal(results[1][1], results[0][1])


@pytest.mark.parametrize("segments", [1, 2, 3, 4])
@pytest.mark.parametrize("reentrant", [False, True])
def test_checkpoint_sequential_of_drawn_layers_gives_pytorchs_gradients(torch, segments, reentrant):
    rng = random.Random(segments * 2 + reentrant)
    kinds = [rng.choice(["Tanh", "ReLU", "Sigmoid", "Linear"]) for _ in range(4)]
    found = {}
    for lib in (torch, gg):
        layers = []
        for number, kind in enumerate(kinds):
            if kind == "Linear":
                layer = lib.nn.Linear(3, 3, dtype=lib.float64)
                with lib.no_grad():
                    layer.weight.copy_(lib.tensor(np.linspace(-1, 1, 9).reshape(3, 3) + number))
                    layer.bias.copy_(lib.tensor([0.1, -0.2, 0.3]))
                layers.append(layer)
            else:
                layers.append(getattr(lib.nn, kind)())
        model = lib.nn.Sequential(*layers)
        x = _x(lib)
        y = _checkpointing(lib).checkpoint_sequential(model, segments, x, use_reentrant=reentrant)
        y.pow(2).sum().backward()
        found[lib.__name__] = (y.detach().numpy(), x.grad.numpy())
    for ours, theirs in zip(found["glassgrad"], found["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_use_reentrant_left_out_warns_and_no_input_needing_grad_gives_no_gradient(torch):
    for lib in (torch, gg):
        checkpoint = _checkpointing(lib).checkpoint
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
            checkpoint(lambda a: a.sin(), _x(lib))
        weight = lib.ones(3, 3, dtype=lib.float64, requires_grad=True)
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
            y = checkpoint(lambda a, w: a @ w, _x(lib, requires_grad=False), weight.detach(), use_reentrant=True)
        assert not y.requires_grad
        assert checkpoint(functools.partial(lib.matmul, other=weight), _x(lib, requires_grad=False),
                          use_reentrant=False).requires_grad


@pytest.mark.parametrize("reentrant", [False, True])
def test_non_tensor_arguments_and_outputs_pass_through(torch, reentrant):
    found = {}
    for lib in (torch, gg):
        x = _x(lib)
        out = _checkpointing(lib).checkpoint(lambda a, n, s: (a * n, s, a.sum()), x, 3, "s", use_reentrant=reentrant)
        (out[0].sum() + out[2]).backward()
        found[lib.__name__] = ([type(part).__name__ for part in out], out[1], x.grad.numpy().tolist())
    assert found["glassgrad"] == found["torch"]


@pytest.mark.parametrize("reentrant", [False, True])
def test_second_backward_and_second_derivative_through_a_checkpoint(torch, reentrant):
    found = {}
    for lib in (torch, gg):
        x = _x(lib)
        y = _checkpointing(lib).checkpoint(lambda a: a.sin() * a, x, use_reentrant=reentrant).sum()
        y.backward(retain_graph=True)
        y.backward()
        twice = x.grad.numpy().copy()
        x2 = _x(lib)
        y2 = _checkpointing(lib).checkpoint(lambda a: a.sin() * a, x2, use_reentrant=False).sum()
        (grad,) = lib.autograd.grad(y2, x2, create_graph=True)
        grad.sum().backward()
        found[lib.__name__] = (twice, x2.grad.numpy())
    for ours, theirs in zip(found["glassgrad"], found["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_bad_options_have_pytorchs_classes(torch):
    for lib in (torch, gg):
        checkpoint = _checkpointing(lib).checkpoint
        sequential = _checkpointing(lib).checkpoint_sequential
        assert _outcome(checkpoint, lambda a, k=1: a * k, _x(lib), k=2, use_reentrant=True) == "ValueError"
        assert _outcome(checkpoint, lambda a: a, _x(lib), use_reentrant=False, determinism_check="always") \
            == "ValueError"
        assert _outcome(sequential, lib.nn.Sequential(lib.nn.Tanh()), 1, _x(lib), use_reentrant=False,
                        preserve_rng_state=False) != "ValueError"


UNARY = {"exp": lambda x: x.exp(), "sin": lambda x: x.sin(), "tanh": lambda x: x.tanh(),
         "sigmoid": lambda x: x.sigmoid(), "relu": lambda x: x.relu(), "pow2": lambda x: x.pow(2),
         "log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(), "softmax": lambda x: x.softmax(-1),
         "sum": lambda x: x.sum(), "add": lambda x: x + x}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_pack_and_unpack_run_as_often_as_pytorchs_for_common_ops(torch, name):
    """Which tensor pack_hook gets (the input, the output), and one unpack per backward (twice with retain_graph)."""
    found = {}
    for lib in (torch, gg):
        log = []
        x = _x(lib)
        holder = {}

        def pack(tensor, log=log, x=x, holder=holder):
            log.append(("pack", "x" if tensor is x else "out" if tensor is holder.get("out") else "other"))
            return tensor

        with lib.autograd.graph.saved_tensors_hooks(pack, lambda tensor, log=log: (log.append("unpack"), tensor)[1]):
            out = UNARY[name](x)
            holder["out"] = out
        log.append("backward")
        out.sum().backward(retain_graph=True)
        out.sum().backward()
        found[lib.__name__] = (log, x.grad.numpy())
    assert len(found["glassgrad"][0]) == len(found["torch"][0])
    assert found["glassgrad"][0].count("unpack") == found["torch"][0].count("unpack")
    np.testing.assert_allclose(found["glassgrad"][1], found["torch"][1], rtol=1e-12, atol=1e-15)  # softmax: ≈ 0


def test_disable_save_on_cpu_nesting_and_bad_hooks_as_pytorch(torch):
    for lib in (torch, gg):
        graph = lib.autograd.graph

        def hooks_inside_disabled(graph=graph):
            with graph.disable_saved_tensors_hooks("no hooks here"), graph.saved_tensors_hooks(lambda t: t,
                                                                                                lambda t: t):
                pass

        def disabled_inside_hooks(graph=graph):
            with graph.saved_tensors_hooks(lambda t: t, lambda t: t), graph.disable_saved_tensors_hooks("no"):
                pass

        def packed_in_place(lib=lib, graph=graph):
            with graph.saved_tensors_hooks(lambda t: t.mul_(2), lambda t: t):
                _x(lib) * _x(lib)

        def unpack_gives_a_number(lib=lib, graph=graph):
            x = _x(lib)
            with graph.saved_tensors_hooks(lambda t: 5, lambda t: t):
                y = (x * x).sum()
            y.backward()

        for call in (hooks_inside_disabled, disabled_inside_hooks, packed_in_place):
            assert _outcome(call) == "RuntimeError"
        assert _outcome(unpack_gives_a_number) == "TypeError"
        with pytest.raises(RuntimeError, match="^no hooks here$"):
            hooks_inside_disabled()
        log = []
        x = _x(lib)

        def logged(name, tensor, log=log):
            log.append(name)
            return tensor

        with graph.saved_tensors_hooks(functools.partial(logged, "p1"), functools.partial(logged, "u1")), \
                graph.saved_tensors_hooks(functools.partial(logged, "p2"), functools.partial(logged, "u2")):
            y = x.exp().sum()
        with graph.save_on_cpu(pin_memory=False):
            z = (x.sin() * x).sum()
        (y + z).backward()
        assert log == ["p2", "u2"]
        np.testing.assert_allclose(x.grad.numpy(), np.exp(X) + np.sin(X) + X * np.cos(X), rtol=1e-12)
