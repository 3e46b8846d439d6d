"""Differential tests of views and in-place changes under autograd against PyTorch 2.13 (helper c38).

The fuzzer behind these drew programs of views (slices with steps, select, narrow, view/reshape, transpose,
permute, mT, diagonal, unfold, as_strided, expand, split/chunk/unbind pieces, detach, .data) and in-place ops on
views and bases (add_, mul_, clamp_, copy_, fill_, zero_, masked_fill_, index_add_, scatter_, setitem, +=, …),
before and after other ops saved them, then backward (twice with retain_graph, or autograd.grad with
create_graph) and compared values, gradients, version counters, aliasing and errors. Defects it found:

* a ``diagonal``/``unfold``/``as_strided`` view had a version counter of its own (NumPy's as_strided stand-in
  hid the memory's owner), so a backward after its base changed in place silently used the new numbers;
* ``x.add_(x[:])`` on a graph tensor was refused as an overlapping operand, where PyTorch adds;
* an in-place change through a (non-overlapping) ``unfold``/``as_strided`` view of a graph tensor was refused,
  where PyTorch writes it and gives the base its gradient;
* ``autograd.grad(..., create_graph=True)`` after ``x.sin_()``/``abs_()``/``clamp_()`` refused whenever x
  changed afterwards, where PyTorch's rules read the old x and give the gradient;
* a graph tensor changed in place while a piece of its split/chunk/unbind was alive was refused, where PyTorch
  changes it (and refuses only a later use of the piece).
"""
from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

# --- a view's version counter is its base's -------------------------------------------------------------------

STRIDED_VIEWS = ["x.diagonal()", "x.unfold(0, 2, 1)", "x.as_strided((2, 2), (1, 2), 0)", "x.t().diagonal(1)"]


@pytest.mark.parametrize("make", STRIDED_VIEWS)
def test_strided_view_shares_its_base_version_counter(torch, make):
    for lib in (torch, gg):
        x = lib.arange(9.0, dtype=lib.float64).reshape(3, 3)
        view = eval(make)
        x.add_(1)
        view.mul_(2)
        assert (x._version, view._version) == (2, 2), lib.__name__


@pytest.mark.parametrize("make", STRIDED_VIEWS)
def test_backward_after_a_strided_views_base_changed_refuses(torch, make):
    """The view is saved by ``d * d``; its base then changes: PyTorch refuses, never a gradient of new numbers."""
    for lib in (torch, gg):
        a = lib.arange(9.0, dtype=lib.float64).reshape(3, 3).requires_grad_()
        x = a * 1.0
        view = eval(make)
        y = (view * view).sum()
        x.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_strided_view_shares_memory_as_reported(torch):
    for lib in (torch, gg):
        x = lib.zeros(4, 4, dtype=lib.float64)
        for view in (x.diagonal(), x.unfold(1, 2, 2), x.as_strided((2,), (5,), 1)):
            assert view.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()


# --- the tensor's own entries as the operand ------------------------------------------------------------------

@pytest.mark.parametrize("program", ["x.add_(x[:])", "x.add_(x.view_as(x))", "x.sub_(x[...], alpha=0.5)", "x += x"])
def test_adding_a_tensors_own_entries_in_the_graph_matches_pytorch(torch, program):
    grads = []
    for lib in (torch, gg):
        a = lib.tensor([0.1, 0.5, -0.9, 0.3], dtype=lib.float64, requires_grad=True)
        x = a * 1.5
        exec(program)
        (x * lib.arange(4.0, dtype=lib.float64)).sum().backward()
        grads.append((x.detach().numpy().copy(), a.grad.numpy().copy(), x._version))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-12)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-12)
    assert grads[1][2] == grads[0][2]


@pytest.mark.parametrize("program", ["x[1:] += x[:-1]", "x[1:].mul_(x[:-1])", "x.mul_(x[0])"])
def test_a_partly_overlapping_operand_in_the_graph_is_refused_as_in_pytorch(torch, program):
    for lib in (torch, gg):
        x = lib.tensor([0.1, 0.5, -0.9, 0.3], dtype=lib.float64, requires_grad=True) * 1.0
        with pytest.raises(RuntimeError):
            exec(program, {"x": x})


def test_squaring_in_place_by_itself_is_refused_before_or_at_backward(torch):
    """``x.mul_(x)``: PyTorch refuses at backward (the saved operand changed), glassgrad when it is written."""
    for lib in (torch, gg):
        x = lib.tensor([0.1, 0.5], dtype=lib.float64, requires_grad=True) * 1.0
        with pytest.raises(RuntimeError):
            x.mul_(x)
            x.sum().backward()


# --- in-place through unfold / as_strided views --------------------------------------------------------------

WRITES = [
    "v = x.unfold(0, 2, 3); v.add_(w[:4].reshape(2, 2)); y = x.exp()",
    "v = x.as_strided((2, 2), (1, 2), 1); v.mul_(w[:4].reshape(2, 2)); y = x * 2",
    "v = x.as_strided((3,), (2,), 0); v.sin_(); y = x * v.sum()",
    "v = x.as_strided((3,), (2,), 0); s = v * 3; v.copy_(w[:3]); y = x + s.sum()",
    "v = x.unfold(0, 3, 3); v[0] = w[:3]; y = x ** 2",
    "v = x.unfold(0, 2, 2); u = v.t(); u[1].mul_(w[:3]); y = x * v.sum()",
    "v = x.unfold(0, 2, 2); e = v.exp(); v.mul_(2); y = e",
    "z = x.view(2, 3); v = z.unfold(1, 1, 2); v.clamp_(-0.1, 0.2); y = z.sin()",
]


def _write_run(lib, program):
    a = lib.tensor([0.1, 0.5, 0.9, 0.3, -0.2, 0.7], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([1.5, -2.0, 0.5, 3.0, 1.0, 2.0], dtype=lib.float64, requires_grad=True)
    env = {"x": a * 1.0, "w": w, "lib": lib}
    exec(program, env)
    y = env["y"]
    (y * lib.arange(1.0, y.numel() + 1, dtype=lib.float64).reshape(y.shape)).sum().backward()
    x = env["x"]
    return x.detach().numpy().copy(), a.grad.numpy().copy(), None if w.grad is None else w.grad.numpy().copy(), \
        x._version


@pytest.mark.parametrize("program", WRITES)
def test_in_place_through_an_unfold_or_as_strided_view_matches_pytorch(torch, program):
    expected, got = _write_run(torch, program), _write_run(gg, program)
    for want, have in zip(expected[:3], got[:3]):
        assert (want is None) == (have is None)
        if want is not None:
            np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-15)
    assert got[3] == expected[3]


def test_a_plain_buffer_written_through_its_unfold_view_joins_the_graph(torch):
    results = []
    for lib in (torch, gg):
        w = lib.tensor([1.5, -2.0, 0.5, 3.0], dtype=lib.float64, requires_grad=True)
        buf = lib.zeros(6, dtype=lib.float64)
        windows = buf.unfold(0, 2, 3)
        windows[1] = w[:2] * 2
        buf.as_strided((2,), (2,), 0).add_(w[2:])
        (buf * lib.arange(6.0, dtype=lib.float64)).sum().backward()
        results.append((buf.detach().tolist(), w.grad.tolist(), buf._version, buf.requires_grad,
                        windows.requires_grad, buf.grad_fn is not None))
    assert results[1] == results[0]


@pytest.mark.parametrize("program", ["x.unfold(0, 2, 1).mul_(2)", "x.as_strided((2, 2), (1, 1), 0).add_(1)"])
def test_a_write_through_a_view_reading_an_entry_twice_is_refused_in_one_line(program):
    """Overlapping windows: PyTorch's result is unspecified there (its gradient counts the old entries too)."""
    x = gg.tensor([0.1, 0.5, 0.9, 0.3], dtype=gg.float64, requires_grad=True) * 1.0
    with pytest.raises(RuntimeError, match="reads an entry twice"):
        exec(program, {"x": x})


# --- a tensor changed in place while a piece of its split / chunk / unbind lives ------------------------------

CUT_THEN_CHANGE = [
    "p, q = x.split(1, 0); x.mul_(w[:3]); y = x.exp()",
    "p, q = x.split(1, 0); s = p.sin(); x.mul_(w[:3]); y = x.exp() + s.sum()",
    "p, q = x.split(1, 0); s = p.sin(); x.mul_(w[:3]); y = s",
    "p, q = x.split(1, 0); x[0, 1] = w[0]; y = x * x",
    "ps = x.unbind(1); z = ps[0] * ps[1]; x.add_(1); y = z",
    "ps = x.chunk(3, 1); x.t()[0].mul_(w[:2]); y = x * x",
    "ps = x.unbind(0); v = ps[0][1:]; v.mul_(2); y = x",
]


@pytest.mark.parametrize("program", CUT_THEN_CHANGE)
def test_changing_a_tensor_with_live_pieces_matches_pytorch(torch, program):
    """PyTorch allows the change (it refuses only a later use of a piece); glassgrad refused it. Where PyTorch
    refuses (a saved piece changed, a write through a view of a piece), glassgrad refuses too."""
    try:
        expected = _cut_run(torch, program)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            _cut_run(gg, program)
        return
    got = _cut_run(gg, program)
    for want, have in zip(expected, got):
        if isinstance(want, np.ndarray):
            np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-15)
        else:
            assert have == want


def _cut_run(lib, program):
    a = lib.tensor([[0.1, 0.5, 0.9], [0.3, -0.2, 0.7]], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([1.5, -2.0, 0.5, 3.0, 1.0, 2.0], dtype=lib.float64, requires_grad=True)
    env = {"x": a * 1.0, "w": w}
    exec(program, env)
    y = env["y"]
    (y * lib.arange(1.0, y.numel() + 1, dtype=lib.float64).reshape(y.shape)).sum().backward()
    return (env["x"].detach().numpy().copy(), env["x"]._version, a.grad.numpy().copy(),
            None if w.grad is None else w.grad.numpy().copy())


def test_a_piece_used_after_its_tensor_changed_gives_its_slices_gradient(torch):
    """Leniency (noted): PyTorch refuses to use the stale piece; glassgrad reads it again as the slice it is."""
    with pytest.raises(RuntimeError, match="modified inplace"):
        _cut_run(torch, "ps = x.split(2, 1); x.add_(1); x.mul_(w[:3]); y = ps[1] * 3")
    _, _, a_grad, w_grad = _cut_run(gg, "ps = x.split(2, 1); x.add_(1); x.mul_(w[:3]); y = ps[1] * 3")
    np.testing.assert_allclose(a_grad, [[0.0, 0.0, 1.5], [0.0, 0.0, 3.0]])
    np.testing.assert_allclose(w_grad, [0.0, 0.0, 3 * (1.9 + 2 * 1.7), 0.0, 0.0, 0.0])


# --- create_graph after an in-place form whose rule reads the old value ---------------------------------------

READS_OLD = ["x.sin_()", "x.abs_()", "x.clamp_(-0.3, 0.4)", "x.clamp_(min=0.2)", "x.cos_()"]
READS_OUTPUT = ["x.exp_()", "x.relu_()", "x.sigmoid_()"]


# (a change in the graph after a rule that reads its output: PyTorch refuses, glassgrad's rule reads the value it
# needs, a leniency noted in glassgrad.gradient_walk.written_into)
@pytest.mark.parametrize(("op", "later"), [(op, "no_grad") for op in READS_OLD + READS_OUTPUT]
                         + [(op, "graph") for op in READS_OLD])
def test_create_graph_after_an_in_place_form_and_a_later_change_matches_pytorch(torch, op, later):
    outcomes = []
    for lib in (torch, gg):
        a = lib.tensor([[0.1, 0.5], [0.9, -0.7]], dtype=lib.float64, requires_grad=True)
        x = a * 1.5
        eval(op)
        if later == "no_grad":
            with lib.no_grad():
                x[1] = 1.5
        else:
            y = x * 1.0  # what backward differentiates is taken before the change
            x.add_(1.0)
        try:
            (grad,) = lib.autograd.grad((x if later == "no_grad" else y).sum(), a, create_graph=True)
            outcomes.append(grad.detach().numpy().copy())
        except RuntimeError as error:
            assert "modified by an inplace operation" in str(error)
            outcomes.append(None)
    assert (outcomes[0] is None) == (outcomes[1] is None)
    if outcomes[0] is not None:
        np.testing.assert_allclose(outcomes[1], outcomes[0], rtol=1e-12)


# --- pinned behaviour that already matched ---------------------------------------------------------------------

PINNED = [
    "x = T.arange(4); x += 0.5",
    "a = T.ones(3, requires_grad=True); a.add_(1)",
    "a = T.ones(3, requires_grad=True); a[:2].mul_(2)",
    "a = T.ones(3, requires_grad=True)\nwith T.no_grad():\n    a.mul_(2)\nr = (a.is_leaf, a.requires_grad, a._version)",
    "a = T.ones(3, requires_grad=True); x = a * 1; p, q = x.unbind(0)[:2]; p.mul_(2)",
    "a = T.ones(4, requires_grad=True); x = a * 1; p = x.split(2)[0]; p.add_(1)",
    "a = T.ones(2, requires_grad=True); x = a * 1; e = x.expand(3, 2); e.add_(1)",
    "x = T.ones(2); e = x.expand(3, 2); e.add_(1)",
    "x = T.arange(4.0); x.copy_(x.flip(0)); r = x.tolist()",
    "x = T.arange(4.0).requires_grad_(); y = x * 1; y.add_(T.ones(2, 4))",
    "x = T.arange(4.0); y = x.detach(); y.add_(1); r = (x._version, y._version, x.tolist())",
    "a = T.ones(3, requires_grad=True); y = a * 2; z = y * y; y.add_(1); z.sum().backward()",
    "a = T.ones(3, requires_grad=True); y = a * 2; z = y.pow(2); d = y.detach(); d.add_(1); z.sum().backward()",
    "a = T.ones(2, 3, requires_grad=True); y = a * 2; y.t()[0].mul_(3); y.sum().backward(); r = a.grad.tolist()",
    "a = T.ones(2, 3, requires_grad=True); y = a * 2; v = y[0]; y.mul_(3); r = (v.tolist(), v._version)",
    "a = T.tensor([1.0, -2.0, 3.0], requires_grad=True); y = a * 1; y.relu_(); y.sum().backward(retain_graph=True)"
    "; y.sum().backward(); r = a.grad.tolist()",
    "a = T.tensor([1.0, -2.0], requires_grad=True); b = T.tensor([3.0, 1.0], requires_grad=True); y = a * 1"
    "; y.index_add_(0, T.tensor([0, 0]), b); (y * y).sum().backward(); r = (a.grad.tolist(), b.grad.tolist())",
    "a = T.ones(3, 3, requires_grad=True); y = a * 1; d = y.diagonal(); d.fill_(0.5); (y * y).sum().backward()"
    "; r = a.grad.tolist()",
]


@pytest.mark.parametrize("program", PINNED)
def test_pinned_view_and_in_place_behaviour_matches_pytorch(torch, program):
    outcomes = []
    for lib in (torch, gg):
        env = {"T": lib, "r": None}
        try:
            exec(program, env)
            outcomes.append(("ok", repr(env["r"])))
        except Exception as error:  # the class is what must match
            outcomes.append((type(error).__name__, ""))
    assert outcomes[1] == outcomes[0]


def test_overlapping_slice_assignment_copies_first_where_pytorch_refuses(torch):
    """Leniency (noted, not an error): PyTorch refuses ``x[1:] = x[:-1]`` on contiguous memory; glassgrad copies
    the source first, as NumPy does."""
    with pytest.raises(RuntimeError, match="single memory location"):
        x = torch.arange(4.0)
        x[1:] = x[:-1]
    x = gg.arange(4.0)
    x[1:] = x[:-1]
    assert x.tolist() == [0.0, 0.0, 1.0, 2.0]


# --- the fuzzer's core: random view / in-place programs in the supported subset --------------------------------

SHAPES = [(4, 6), (3, 4, 5), (6,), (5, 5)]


def _program(rng: random.Random) -> list[str]:
    """Steps on names v0, v1, … (float64 tensors of the graph); c is a leaf source of values."""
    shapes = {"v0": rng.choice(SHAPES)}
    steps = [rng.choice(["v0 = a * 1.5 + b", "v0 = a.clone()"])]
    for _ in range(rng.randrange(3, 8)):
        name = rng.choice(sorted(shapes))
        shape = shapes[name]
        nd = len(shape)
        kind = rng.random()
        if kind < 0.4:
            d = rng.randrange(nd)
            n = shape[d]
            start, step = rng.randrange(n), rng.choice([1, 2, 3])
            sizes = list(shape)
            sizes[d] = len(range(start, n, step))
            size = rng.randrange(1, n + 1)
            options = [
                (f"{name}[{', '.join([':'] * d + [f'{start}::{step}'])}]", tuple(sizes)),
                (f"{name}.select({d}, {start})", shape[:d] + shape[d + 1:]),
                (f"{name}.unsqueeze(0)", (1,) + shape),
                (f"{name}.view(-1)", (int(np.prod(shape)),)) if name == "v0" else None,  # v0 is contiguous
                (f"{name}.unfold({d}, {size}, {size})",
                 shape[:d] + (n // size,) + shape[d + 1:] + (size,)),
                (f"{name}.unbind({d})[{start}]", shape[:d] + shape[d + 1:]),
                (f"{name}.split({size}, {d})[0]", shape[:d] + (size,) + shape[d + 1:]),
            ]
            if nd >= 2:
                d1, d2 = rng.sample(range(nd), 2)
                swapped = list(shape)
                swapped[d1], swapped[d2] = swapped[d2], swapped[d1]
                options.append((f"{name}.transpose({d1}, {d2})", tuple(swapped)))
                others = tuple(s for i, s in enumerate(shape) if i not in (d1, d2))
                options.append((f"{name}.diagonal(0, {d1}, {d2})", others + (min(shape[d1], shape[d2]),)))
            made, made_shape = rng.choice([o for o in options if o is not None])
            new = f"v{len(shapes)}"
            if 0 in made_shape or not made_shape:
                continue
            shapes[new] = made_shape
            steps.append(f"{new} = {made}")
        else:
            count = int(np.prod(shape))
            offset = rng.randrange(0, 128 - count + 1)
            source = f"c[{offset}:{offset + count}].reshape({shape})"
            if kind < 0.8:
                steps.append(rng.choice([
                    f"{name}.add_({source})", f"{name}.mul_({source})", f"{name}.clamp_(-0.3, 0.4)",
                    f"{name}.copy_({source})", f"{name}.fill_(0.7)", f"{name}.zero_()", f"{name}.sin_()",
                    f"{name} += {source}", f"{name}.masked_fill_({name}.detach() > 0, -1.25)",
                    f"{name}[0] = 1.5", f"{name}.div_({source}.abs() + 1)", f"{name}.neg_()",
                ]))
            else:
                new = f"v{len(shapes)}"
                shapes[new] = shape
                steps.append(f"{new} = " + rng.choice([f"{name} * {source}", f"{name}.sin()", f"{name} * 2",
                                                       f"{name}.clone()", f"{name}.abs()", f"{name} ** 2"]))
    return steps


def _execute(lib, steps: list[str], seed: int, shape0: tuple):
    data = np.random.RandomState(seed)
    env = {"lib": lib}
    for leaf in ("a", "b"):
        env[leaf] = lib.tensor(np.round(data.randn(*shape0), 3), dtype=lib.float64, requires_grad=True)
    env["c"] = lib.tensor(np.round(data.randn(128), 3), dtype=lib.float64, requires_grad=True)
    for step in steps:
        exec(step, env)
    names = sorted((k for k in env if k.startswith("v")), key=lambda k: int(k[1:]))
    weights = np.random.RandomState(seed + 1)
    loss = sum((env[n] * lib.tensor(weights.randn(*env[n].shape), dtype=lib.float64)).sum() for n in names)
    loss.backward()
    values = {n: env[n].detach().numpy().copy() for n in names}
    versions = {n: env[n]._version for n in names}
    grads = {k: None if env[k].grad is None else env[k].grad.numpy().copy() for k in ("a", "b", "c")}
    return values, versions, grads


@given(st.integers(0, 10**6))
def test_random_view_and_in_place_programs_match_pytorch(seed):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    steps = _program(random.Random(seed))
    shape0 = random.Random(seed).choice(SHAPES)  # the first draw of _program
    try:
        expected = _execute(torch, steps, seed, shape0)
    except RuntimeError:  # PyTorch refuses this program (a saved value changed): glassgrad's refusal is tested above
        return
    got = _execute(gg, steps, seed, shape0)
    for part_expected, part_got in zip(expected, got):
        assert part_expected.keys() == part_got.keys()
        for key, want in part_expected.items():
            have = part_got[key]
            if isinstance(want, np.ndarray):
                np.testing.assert_allclose(have, want, rtol=1e-10, atol=1e-12, err_msg=f"{key}\n" + "\n".join(steps))
            else:
                assert have == want, (key, steps)
