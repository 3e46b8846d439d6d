"""``torch.autograd.graph``: ``save_on_cpu`` runs (glassgrad keeps every tensor in the CPU's memory, so the
gradients are PyTorch's, the oracle's); ``saved_tensors_hooks`` packs what ops save and backward reads what
``unpack_hook`` gives back, checked against PyTorch 2.13 (gradients, when each hook runs, what it is given);
``disable_saved_tensors_hooks`` refuses them; all are found where PyTorch's code imports them."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg
from glassgrad.compiler import CompileRefused

vectors = hnp.arrays(np.float64, st.integers(1, 4), elements=st.floats(-2, 2))
matrices = hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 4)), elements=st.floats(-2, 2))


def gradients_under_save_on_cpu(library, array, pin_memory):
    x = library.tensor(array, requires_grad=True)
    with library.autograd.graph.save_on_cpu(pin_memory=pin_memory):
        loss = (x.tanh() * x.exp()).sum()
    loss.backward()
    return x.grad.tolist()


@given(array=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(-2, 2)),
       pin_memory=st.booleans())
def test_save_on_cpu_gives_torchs_gradients(torch, array, pin_memory):
    np.testing.assert_allclose(gradients_under_save_on_cpu(gg, array, pin_memory),
                               gradients_under_save_on_cpu(torch, array, pin_memory), rtol=1e-12)


def small_network(library, x, weight, bias):
    """A step that saves inputs, outputs and weights: linear, tanh, exp, mul, mse_loss."""
    hidden = library.nn.functional.linear(x, weight, bias).tanh()
    out = hidden * hidden.exp()
    return library.nn.functional.mse_loss(out, library.ones_like(out))


def network_gradients(library, arrays, pack_hook=None, unpack_hook=None):
    x, weight, bias = (library.tensor(array, requires_grad=True) for array in arrays)
    if pack_hook is None:
        loss = small_network(library, x, weight, bias)
    else:
        with library.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
            loss = small_network(library, x, weight, bias)
    loss.backward()
    return [tensor.grad.numpy() for tensor in (x, weight, bias)]


def network_arrays(x, weight, bias_seed):
    bias = np.random.default_rng(bias_seed).uniform(-1, 1, weight.shape[0])
    return x[None, :weight.shape[1]] if x.size >= weight.shape[1] else np.resize(x, (1, weight.shape[1])), weight, bias


@settings(max_examples=30, deadline=None)
@given(x=vectors, weight=matrices, bias_seed=st.integers(0, 2**16))
def test_copies_packed_and_unpacked_give_torchs_gradients(torch, x, weight, bias_seed):
    arrays = network_arrays(x, weight, bias_seed)
    counts = {}
    for library in (gg, torch):
        log = []

        def pack(tensor, log=log):
            log.append("pack")
            return tensor.clone()

        def unpack(copy, log=log):
            log.append("unpack")
            return copy

        hooked = network_gradients(library, arrays, pack, unpack)
        for got, expected in zip(hooked, network_gradients(torch, arrays)):
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
        counts[library] = (log.count("pack"), log.count("unpack"))
        assert log.index("unpack") > len(log) - log.count("unpack") - 1  # every pack (forward) before any unpack
    assert counts[gg][0] == counts[gg][1] > 0  # each packed value unpacked once, as in PyTorch
    assert counts[torch][0] == counts[torch][1]


@settings(max_examples=20, deadline=None)
@given(x=vectors, weight=matrices, bias_seed=st.integers(0, 2**16), scale=st.floats(0.5, 2))
def test_backward_reads_what_unpack_gives(torch, x, weight, bias_seed, scale):
    """unpack_hook's tensor is the one the rules read: scaling it changes the gradients as in PyTorch."""
    arrays = network_arrays(x, weight, bias_seed)
    results = [network_gradients(library, arrays, lambda tensor: tensor, lambda tensor: tensor * scale)
               for library in (gg, torch)]
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def many_ops(library, x, w, e):
    """Rows that save shapes, indices, masks and pieces besides arrays: conv, pooling, norms, split, embedding,
    softmax, cumsum, unbind, where, advanced indexing, cross_entropy, a matrix norm."""
    F = library.nn.functional
    h = F.layer_norm(F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2), (4, 3, 3))
    a, b = F.batch_norm(h, None, None, training=True).split(2, dim=1)
    s = (a * b.sigmoid()).flatten(1)
    emb = F.embedding(library.tensor([[1, 2], [3, 1]]), e).sum(1)
    logits = s[:, :4] @ emb.t().repeat(1, 2) + F.softmax(s[:, 4:8], dim=1).cumsum(1)
    u = library.stack(list(logits.unbind(1)), 1)
    u = library.where(u > 0, u, u * 0.1)
    return F.cross_entropy(u, library.tensor([1, 0])) + u[:, library.tensor([0, 0, 2])].pow(2).mean() + \
        library.linalg.norm(e)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_many_ops_under_copying_hooks_give_torchs_gradients(torch, seed):
    rng = np.random.default_rng(seed)
    arrays = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((5, 4))
    results = []
    for library in (gg, torch):
        tensors = [library.tensor(array, requires_grad=True) for array in arrays]
        unpacked = []
        with library.autograd.graph.saved_tensors_hooks(lambda t: t.clone(),
                                                        lambda t, unpacked=unpacked: unpacked.append(t) or t):
            loss = many_ops(library, *tensors)
        loss.backward()
        assert unpacked
        results.append([tensor.grad.numpy() for tensor in tensors])
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def in_place_steps(library, array, weights):
    x = library.tensor(array, requires_grad=True)
    w = library.tensor(weights, requires_grad=True)
    with library.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        y = x * 1.0
        y.mul_(w)  # each in-place change re-bases y: its node saves the old value, packed
        y.exp_()
        y[1:] = y[1:] * w[1:]
        loss = y.tanh().sum()
    loss.backward()
    return x.grad.numpy(), w.grad.numpy()


@settings(max_examples=10, deadline=None)
@given(pair=hnp.arrays(np.float64, st.tuples(st.just(2), st.integers(2, 4)), elements=st.floats(-1.5, 1.5)))
def test_in_place_changes_under_hooks_give_torchs_gradients(torch, pair):
    for got, expected in zip(*(in_place_steps(library, *pair) for library in (gg, torch))):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def count_packs(library, make):
    packed = []
    with library.autograd.graph.saved_tensors_hooks(lambda tensor: packed.append(tensor) or tensor, lambda t: t):
        make(library)
    return packed


SIMPLE_STEPS = {
    "x * y": lambda lib, x, w: x * w,
    "x * constant": lambda lib, x, w: x * lib.ones(3, dtype=lib.float64),
    "x * x": lambda lib, x, w: x * x,
    "exp": lambda lib, x, w: x.exp(),
    "sum": lambda lib, x, w: x.sum(),
    "x + y": lambda lib, x, w: x + w,
    "linear": lambda lib, x, w: lib.nn.functional.linear(x.reshape(1, 3), lib.ones(2, 3, dtype=lib.float64)),
    "under no_grad": lambda lib, x, w: lib.no_grad()(lambda: x * w)(),
}


@pytest.mark.parametrize("step", SIMPLE_STEPS)
def test_simple_ops_pack_what_torch_packs(torch, step):
    """For these ops glassgrad packs as many tensors as PyTorch, of the same sizes, the inputs themselves (PyTorch's
    linear packs its weight transposed, glassgrad's the weight)."""
    packs = {}
    for library in (gg, torch):
        x = library.tensor([1.0, 2.0, 3.0], dtype=library.float64, requires_grad=True)
        w = library.tensor([0.5, -1.0, 2.0], dtype=library.float64, requires_grad=True)
        with library.enable_grad():
            packed = count_packs(library, lambda lib, x=x, w=w: SIMPLE_STEPS[step](lib, x, w))
        packs[library] = sorted((t.numel(), t is x, t is w, t.requires_grad) for t in packed)
    assert packs[gg] == packs[torch]


def test_saving_to_disk_as_the_tutorial_does(tmp_path):
    """Pack writes each saved tensor to a file and keeps its name; unpack loads it: the gradient is unchanged."""
    names = []

    def pack(tensor):
        name = str(tmp_path / f"saved{len(names)}.pt")
        gg.save(tensor, name)
        names.append(name)
        return name

    x = gg.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    with gg.autograd.graph.saved_tensors_hooks(pack, gg.load):
        loss = (x.sigmoid() * x).sum()
    x.array[...] = 7.0  # the saved values are on disk: only the files are read back (a change NumPy does unseen)
    loss.backward()
    values = np.array([[0.5, -1.0], [2.0, 0.25]])
    sigmoid = 1 / (1 + np.exp(-values))
    np.testing.assert_allclose(x.grad.numpy(), sigmoid + values * sigmoid * (1 - sigmoid), rtol=1e-6)
    assert len(names) >= 2


def test_numpy_copies_and_an_in_place_change_after_packing(torch):
    """Packed as NumPy copies, the saved input is read back as it was: changing it in place afterwards is allowed
    (PyTorch checks no version of a packed tensor) and the gradient is the one of the values at the forward."""
    results = []
    for library in (gg, torch):
        x = library.tensor([0.5, -1.0, 2.0], dtype=library.float64, requires_grad=True)
        y = x * 1.0
        with library.autograd.graph.saved_tensors_hooks(lambda t: t.detach().numpy().copy(),
                                                        lambda copy, lib=library: lib.from_numpy(copy)):
            loss = (y * y.exp()).sum()
        with library.no_grad():
            y.mul_(3.0)
        loss.backward()
        results.append(x.grad.tolist())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    np.testing.assert_allclose(results[0], [(1 + v) * np.exp(v) for v in (0.5, -1.0, 2.0)], rtol=1e-12)


def test_a_value_saved_outside_the_hooks_is_still_checked(torch):
    """An in-place change of a saved tensor that was not packed is refused, as in PyTorch."""
    for library in (gg, torch):
        x = library.tensor([0.5, -1.0], requires_grad=True)
        with library.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = x * 1.0
        z = y * y  # saves y, unpacked
        with library.no_grad():
            y.mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def custom_function_gradient(library, array, scale):
    class Cube(library.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return 3 * grad * a * a

    log = []
    x = library.tensor(array, requires_grad=True)
    with library.autograd.graph.saved_tensors_hooks(lambda t: log.append("pack") or t.clone(),
                                                    lambda t: log.append("unpack") or t * scale):
        y = Cube.apply(x)
    y.sum().backward()
    return x.grad.numpy(), log


@settings(max_examples=20, deadline=None)
@given(array=vectors, scale=st.floats(0.5, 2))
def test_a_custom_functions_saved_tensors_are_packed(torch, array, scale):
    (got, got_log), (expected, expected_log) = (custom_function_gradient(library, array, scale)
                                                for library in (gg, torch))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got_log == expected_log == ["pack", "unpack"]


def test_innermost_hooks_pack_and_the_node_keeps_its_unpack(torch):
    for library in (gg, torch):
        log = []
        x = library.tensor([1.0, 2.0], requires_grad=True)
        hooks = library.autograd.graph.saved_tensors_hooks

        def logged(event, log=log):
            return lambda tensor: log.append(event) or tensor

        with hooks(logged("outer pack"), logged("outer unpack")):
            with hooks(logged("inner pack"), logged("inner unpack")):
                y = x.exp()
            z = y.tanh()
        assert log == ["inner pack", "outer pack"]
        (y + z).sum().backward(retain_graph=True)  # after both blocks: each node's own unpack
        assert sorted(log[2:]) == ["inner unpack", "outer unpack"]
        z.sum().backward()  # again (retain_graph): unpacked again, newest node first
        assert log[4:] == ["outer unpack", "inner unpack"]


def test_hooks_are_per_thread():
    packed = []
    done = threading.Event()
    ready = threading.Event()
    results = {}

    def other_thread():
        ready.wait(10)
        x = gg.tensor([1.0, 2.0], requires_grad=True)
        results["other"] = x.exp()
        done.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with gg.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        ready.set()
        done.wait(10)
        x = gg.tensor([1.0, 2.0], requires_grad=True)
        x.exp()
    thread.join()
    assert len(packed) == 1  # this thread's exp only
    assert type(results["other"]._ctx) is np.ndarray


def test_second_derivatives_under_hooks(torch):
    results = []
    for library in (gg, torch):
        log = []
        x = library.tensor([0.3, -1.2], dtype=library.float64, requires_grad=True)
        with library.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t, log=log: log.append(1) or t):
            y = (x.tanh() * x).sum()
        (first,) = library.autograd.grad(y, x, create_graph=True)
        first.sum().backward()
        results.append((first.tolist(), x.grad.tolist()))
        assert log
    np.testing.assert_allclose(np.array(results[0], dtype=float), np.array(results[1], dtype=float), rtol=1e-12)


def test_hooks_run_in_the_grad_mode_torch_runs_them(torch):
    modes = {}
    for library in (gg, torch):
        log = []
        x = library.tensor([1.0, 2.0], requires_grad=True)
        with library.autograd.graph.saved_tensors_hooks(
                lambda t, lib=library, log=log: log.append(("pack", lib.is_grad_enabled())) or t,
                lambda t, lib=library, log=log: log.append(("unpack", lib.is_grad_enabled())) or t):
            y = x.exp()
        y.sum().backward()
        modes[library] = log
    assert modes[gg] == modes[torch] == [("pack", False), ("unpack", False)]


def test_bad_hooks_are_refused_as_torch_refuses_them(torch):
    for library in (gg, torch):
        x = library.tensor([1.0, 2.0], requires_grad=True)
        hooks = library.autograd.graph.saved_tensors_hooks
        with hooks(lambda t: t, lambda t: 3):
            y = x.exp()
        with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result of type int"):
            y.sum().backward()
        with pytest.raises(RuntimeError, match="pack hook is modifying its input in place"):
            with hooks(lambda t: t.mul_(2), lambda t: t):
                library.ones(2).mul(x)
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with gg.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: gg.zeros(5)):
        y = x.exp()
    with pytest.raises(RuntimeError, match=r"unpack_hook returned a tensor of shape \[5\] for a saved tensor of shape"):
        y.sum().backward()


def test_disable_saved_tensors_hooks(torch):
    for library in (gg, torch):
        graph = library.autograd.graph
        x = library.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="^no hooks here$"):
            with graph.disable_saved_tensors_hooks("no hooks here"):
                with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        with pytest.raises(RuntimeError, match="^no save_on_cpu$"):
            with graph.disable_saved_tensors_hooks("no save_on_cpu"), graph.save_on_cpu():
                pass
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            with pytest.raises(RuntimeError, match="^not inside$"):
                with graph.disable_saved_tensors_hooks("not inside"):
                    pass
        with graph.disable_saved_tensors_hooks("unused"):
            y = x.exp()  # no hooks to disable: runs
        y.sum().backward()
        assert x.grad.tolist() == pytest.approx(np.exp([1.0, 2.0]).tolist())
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):  # usable again after the blocks
            x.exp()


def test_compile_refuses_a_step_with_saved_tensors_hooks():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    packs = []

    def step():
        with gg.autograd.graph.saved_tensors_hooks(lambda t: packs.append(1) or t, lambda t: t):
            loss = (w * w).sum()
        loss.backward()

    compiled = gg.compile(step)
    with pytest.warns(UserWarning, match="saved_tensors_hooks packs the values ops save for backward"):
        compiled()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            compiled()  # eagerly, hooks and all
    assert len(packs) == 2 * 4 and w.grad.tolist() == [8.0, 16.0]
    with pytest.raises(CompileRefused, match="saved_tensors_hooks"):
        gg.compile(step, fullgraph=True)()


def test_a_step_compiled_outside_hooks_runs_eagerly_inside_them():
    """A step captured and replayed outside ``saved_tensors_hooks`` and then called inside it runs eagerly there
    (with one warning): a replay would skip the hooks, whose side effects the program sees (here, a count)."""
    w = gg.tensor([1.0, 2.0], requires_grad=True)

    def step():
        (w * w).sum().backward()

    compiled = gg.compile(step)
    for _ in range(3):
        compiled()  # captured twice, then replayed
    packs = []
    with pytest.warns(UserWarning, match="saved_tensors_hooks is active"):
        with gg.autograd.graph.saved_tensors_hooks(lambda t: packs.append(1) or t, lambda t: t):
            compiled()
    assert len(packs) == 2  # w · w packs w twice, as PyTorch's mul
    assert w.grad.tolist() == [8.0, 16.0]  # 2w per call, four calls


def test_torch_programs_import_them():
    import subprocess
    import sys

    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch\n"
               "from torch.autograd.graph import save_on_cpu, saved_tensors_hooks, disable_saved_tensors_hooks\n"
               "x = torch.ones(2, requires_grad=True)\n"
               "packed = []\n"
               "with save_on_cpu(), saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):\n"
               "    y = (x * x * 3).sum()\n"
               "y.backward()\n"
               "print(x.grad.tolist(), len(packed) > 0)\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[6.0, 6.0] True"
