"""Pruning (``gg.nn.utils.prune``, PyTorch's ``torch.nn.utils.prune``): the masks each method chooses, how a
second pruning combines with the first, the reparametrisation (``weight_orig``, ``weight_mask``, the hook), the
gradients and training with a mask, ``remove``, and the refusals. The oracle is PyTorch 2.13 with the same
weights (float64; values drawn without ties, where PyTorch promises no order), and counts worked out by hand
for the random methods (the two libraries' generators differ)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

prune = gg.nn.utils.prune
SHAPES = st.tuples(st.integers(2, 5), st.integers(2, 5))
SEEDS = st.integers(0, 2**16)


@pytest.fixture(scope="module")
def torch(torch):
    """PyTorch with its pruning module imported (``torch.nn.utils.prune`` is not imported by ``import torch``)."""
    import torch.nn.utils.prune  # noqa: F401

    return torch


def distinct(shape, seed):
    """Weights with no two absolute values or slice norms equal (a permutation of spread-out numbers)."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    values = (rng.permutation(size) + 1) * 0.37 + rng.uniform(0, 0.1, size)
    return (values * rng.choice([-1, 1], size)).reshape(shape)


def conv_pair(torch, shape, seed):
    """A Conv2d (out, in, 2, 2) in each library with the same float64 weights."""
    out_channels, in_channels = shape
    weight = distinct((out_channels, in_channels, 2, 2), seed)
    bias = distinct((out_channels,), seed + 1)
    layers = []
    for library in (gg, torch):
        layer = library.nn.Conv2d(in_channels, out_channels, 2).double()
        layer.load_state_dict({"weight": library.tensor(weight), "bias": library.tensor(bias)})
        layers.append(layer)
    return layers


def linear_pair(torch, shape, seed):
    """A Linear (out, in) in each library with the same float64 weights."""
    out_features, in_features = shape
    weight, bias = distinct(shape, seed), distinct((out_features,), seed + 1)
    layers = []
    for library in (gg, torch):
        layer = library.nn.Linear(in_features, out_features).double()
        layer.load_state_dict({"weight": library.tensor(weight), "bias": library.tensor(bias)})
        layers.append(layer)
    return layers


def same(ours, theirs):
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


AMOUNTS = st.one_of(st.integers(0, 4), st.floats(0, 1))
NORMS = st.sampled_from([1, 2, 3, float("inf"), float("-inf"), "fro"])


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, seed=SEEDS, amount=AMOUNTS, data=st.data())
def test_l1_unstructured_prunes_the_smallest_entries_as_pytorch(shape, seed, amount, data, torch):
    ours, theirs = linear_pair(torch, shape, seed)
    by_scores = data.draw(st.booleans())
    scores = distinct(shape, seed + 2) if by_scores else None
    for library, layer in ((prune, ours), (torch.nn.utils.prune, theirs)):
        options = {"importance_scores": gg.tensor(scores) if library is prune else torch.tensor(scores)} \
            if by_scores else {}
        library.l1_unstructured(layer, "weight", amount=amount, **options)
    same(ours.weight_mask, theirs.weight_mask)
    same(ours.weight, theirs.weight)
    expected = amount if isinstance(amount, int) else round(amount * ours.weight.numel())
    assert int((ours.weight_mask == 0).sum()) == expected  # by hand: the count pruned
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == ["weight_mask"]


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, seed=SEEDS, amount=st.one_of(st.integers(0, 2), st.floats(0, 1)), n=NORMS,
       dim=st.sampled_from([0, 1, -1, 2, -4]))
def test_ln_structured_prunes_the_slices_of_smallest_norm_as_pytorch(shape, seed, amount, n, dim, torch):
    ours, theirs = conv_pair(torch, shape, seed)
    if isinstance(amount, int) and amount > ours.weight.shape[dim]:
        amount = ours.weight.shape[dim]
    try:
        torch.nn.utils.prune.ln_structured(theirs, "weight", amount=amount, n=n, dim=dim)
    except RuntimeError:  # 'fro' over the three other dims of a convolution's weight: PyTorch's norm refuses it
        with pytest.raises(RuntimeError, match="p='fro'"):
            prune.ln_structured(ours, "weight", amount=amount, n=n, dim=dim)
        assert n == "fro"
        return
    prune.ln_structured(ours, "weight", amount=amount, n=n, dim=dim)
    same(ours.weight_mask, theirs.weight_mask)
    same(ours.weight, theirs.weight)


@settings(max_examples=30, deadline=None)
@given(shape=SHAPES, seed=SEEDS, first=st.floats(0, 0.6), second=st.integers(0, 2), third=st.integers(0, 1),
       dim=st.sampled_from([0, 1]))
def test_pruning_again_prunes_what_is_still_kept_as_pytorch(shape, seed, first, second, third, dim, torch):
    ours, theirs = linear_pair(torch, shape, seed)
    outcomes = []
    for library, layer in ((prune, ours), (torch.nn.utils.prune, theirs)):
        try:
            library.l1_unstructured(layer, "weight", amount=first)
            library.l1_unstructured(layer, "weight", amount=second)
            library.ln_structured(layer, "weight", amount=third, n=1, dim=dim)
            library.identity(layer, "weight")
            outcomes.append(None)
        except ValueError as error:  # more entries (slices) asked for than are still kept
            outcomes.append(str(error))
    assert (outcomes[0] is None) == (outcomes[1] is None), outcomes
    if outcomes[0] is not None:
        assert outcomes[0] == outcomes[1]  # PyTorch's words
        return
    same(ours.weight_mask, theirs.weight_mask)
    hooks = list(ours._forward_pre_hooks.values())
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == 4
    assert [type(method).__name__ for method in hooks[0]] == \
        [type(method).__name__ for method in theirs._forward_pre_hooks[next(iter(theirs._forward_pre_hooks))]]


@settings(max_examples=30, deadline=None)
@given(shapes=st.lists(SHAPES, min_size=1, max_size=3), seed=SEEDS, amount=st.one_of(st.integers(0, 4),
                                                                                  st.floats(0, 1)))
def test_global_unstructured_ranks_the_entries_of_all_the_layers_together_as_pytorch(shapes, seed, amount, torch):
    pairs = [linear_pair(torch, shape, seed + 10 * number) for number, shape in enumerate(shapes)]
    prune.l1_unstructured(pairs[0][0], "bias", amount=1)  # an earlier mask is kept, and counted
    torch.nn.utils.prune.l1_unstructured(pairs[0][1], "bias", amount=1)
    names = ("weight", "bias")
    prune.global_unstructured([(ours, name) for ours, _ in pairs for name in names],
                              pruning_method=prune.L1Unstructured, amount=amount)
    torch.nn.utils.prune.global_unstructured([(theirs, name) for _, theirs in pairs for name in names],
                                             pruning_method=torch.nn.utils.prune.L1Unstructured, amount=amount)
    for ours, theirs in pairs:
        for name in names:
            same(getattr(ours, name + "_mask"), getattr(theirs, name + "_mask"))
            same(getattr(ours, name), getattr(theirs, name))


@settings(max_examples=25, deadline=None)
@given(shape=SHAPES, seed=SEEDS, amount=st.floats(0, 1), steps=st.integers(1, 4))
def test_a_pruned_layer_trains_with_its_pruned_weights_at_zero_as_pytorch(shape, seed, amount, steps, torch):
    ours, theirs = linear_pair(torch, shape, seed)
    x = np.random.default_rng(seed).standard_normal((3, shape[1]))
    models = []
    for library, layer in ((gg, ours), (torch, theirs)):
        library.nn.utils.prune.l1_unstructured(layer, "weight", amount=amount)
        optimizer = library.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
        for _ in range(steps):
            optimizer.zero_grad()
            (layer(library.tensor(x)) ** 2).mean().backward()
            optimizer.step()
        models.append(layer)
    np.testing.assert_allclose(ours.weight_orig.detach().numpy(), theirs.weight_orig.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    same(ours.weight_mask, theirs.weight_mask)
    pruned = ours.weight_mask.numpy() == 0
    ours(gg.tensor(x))  # the hook makes weight again from the updated weight_orig
    assert (ours.weight.detach().numpy()[pruned] == 0).all()
    # the gradient reaching a pruned entry is 0 (the mask's row of the product rule)
    assert (ours.weight_orig.grad.numpy()[pruned] == 0).all()


@settings(max_examples=25, deadline=None)
@given(shape=SHAPES, seed=SEEDS, amount=st.floats(0, 1))
def test_remove_makes_the_pruning_permanent_in_the_same_parameter_as_pytorch(shape, seed, amount, torch):
    ours, theirs = linear_pair(torch, shape, seed)
    kept = ours.weight
    prune.l1_unstructured(ours, "weight", amount=amount)
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=amount)
    assert prune.is_pruned(ours)
    assert prune.remove(ours, "weight") is ours
    torch.nn.utils.prune.remove(theirs, "weight")
    assert ours.weight is kept and isinstance(ours.weight, gg.nn.Parameter)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    same(ours.weight, theirs.weight)
    assert not prune.is_pruned(ours) and not ours._forward_pre_hooks


@settings(max_examples=30, deadline=None)
@given(shape=st.tuples(st.integers(2, 6), st.integers(2, 6)), amount=st.one_of(st.integers(0, 4), st.floats(0, 1)),
       seed=SEEDS)
def test_random_unstructured_prunes_the_count_asked_and_keeps_what_was_pruned(shape, amount, seed):
    gg.manual_seed(seed)
    layer = gg.nn.Linear(shape[1], shape[0])
    prune.random_unstructured(layer, "weight", amount=amount)
    first = layer.weight_mask.numpy().copy()
    size = layer.weight.numel()
    count = amount if isinstance(amount, int) else round(amount * size)
    assert int((first == 0).sum()) == count
    prune.random_unstructured(layer, "weight", amount=0.5)
    second = layer.weight_mask.numpy()
    assert (second[first == 0] == 0).all()  # pruned stays pruned
    assert int((second == 0).sum()) == count + round(0.5 * (size - count))  # half of what was kept


@settings(max_examples=30, deadline=None)
@given(shape=st.tuples(st.integers(2, 6), st.integers(2, 6)), amount=st.integers(0, 2), dim=st.sampled_from([0, 1]),
       seed=SEEDS)
def test_random_structured_prunes_whole_slices(shape, amount, dim, seed):
    gg.manual_seed(seed)
    layer = gg.nn.Linear(shape[1], shape[0])
    prune.random_structured(layer, "weight", amount=amount, dim=dim)
    mask = layer.weight_mask.numpy()
    other = 1 - dim
    slices_off = (mask.sum(axis=other) == 0).sum()
    assert slices_off == amount
    assert set(np.unique(mask.sum(axis=other))) <= {0.0, float(mask.shape[other])}  # whole slices


@pytest.mark.parametrize("dims", [[1], [0, 1], [0, 1, 2], (0, 1, 2, 3)])
def test_a_frobenius_norm_over_more_than_two_given_dims_is_refused_as_pytorch(dims, torch):
    values = distinct((2, 3, 2, 2), 3)
    try:
        theirs = torch.norm(torch.tensor(values), p="fro", dim=dims)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="use p=2"):
            gg.norm(gg.tensor(values), p="fro", dim=dims)
        assert len(dims) > 2
        return
    np.testing.assert_allclose(gg.norm(gg.tensor(values), p="fro", dim=dims).numpy(), theirs.numpy(), rtol=1e-14)


def test_custom_from_mask_prunes_where_the_mask_is_zero(torch):
    ours, theirs = linear_pair(torch, (2, 3), 0)
    mask = np.array([[1, 0, 1], [0, 0, 1]], dtype=np.float64)
    prune.custom_from_mask(ours, "weight", mask=gg.tensor(mask))
    torch.nn.utils.prune.custom_from_mask(theirs, "weight", mask=torch.tensor(mask))
    same(ours.weight, theirs.weight)
    same(ours.weight_mask, theirs.weight_mask)


def test_a_method_prunes_a_tensor_given_to_it(torch):
    values = distinct((3, 4), 5)
    ours = prune.L1Unstructured(amount=5).prune(gg.tensor(values))
    theirs = torch.nn.utils.prune.L1Unstructured(amount=5).prune(torch.tensor(values))
    same(ours, theirs)


REFUSALS = [
    ("negative amount", lambda p, m: p.l1_unstructured(m, "weight", amount=-1)),
    ("fraction above 1", lambda p, m: p.l1_unstructured(m, "weight", amount=1.5)),
    ("text amount", lambda p, m: p.l1_unstructured(m, "weight", amount="half")),
    ("more entries than there are", lambda p, m: p.l1_unstructured(m, "weight", amount=100)),
    ("structured on a vector", lambda p, m: p.ln_structured(m, "bias", amount=1, n=2, dim=0)),
    ("dim out of range", lambda p, m: p.ln_structured(m, "weight", amount=1, n=2, dim=3)),
    ("more slices than there are", lambda p, m: p.random_structured(m, "weight", amount=5, dim=0)),
    ("no such parameter", lambda p, m: p.l1_unstructured(m, "kernel", amount=1)),
    ("remove before pruning", lambda p, m: p.remove(m, "weight")),
    ("global with a structured method",
     lambda p, m: p.global_unstructured([(m, "weight")], pruning_method=p.RandomStructured, amount=1)),
]


@pytest.mark.parametrize("case", [case for _, case in REFUSALS], ids=[name for name, _ in REFUSALS])
def test_what_pytorch_refuses_is_refused_with_its_exception_and_the_layer_is_unchanged(case, torch):
    ours, theirs = linear_pair(torch, (3, 2), 1)
    with pytest.raises(Exception) as expected:
        case(torch.nn.utils.prune, theirs)
    with pytest.raises(type(expected.value)) as raised:
        case(prune, ours)
    assert "\n" not in str(raised.value)
    assert list(ours.state_dict()) == ["weight", "bias"] and not ours._forward_pre_hooks


def test_the_pruning_module_imports_by_pytorchs_path_under_the_shim(tmp_path):
    import subprocess
    import sys

    program = tmp_path / "prune_program.py"
    program.write_text("import torch\nimport torch.nn.utils.prune as prune\nfrom torch.nn.utils import prune as p2\n"
                       "layer = torch.nn.Linear(3, 2)\nprune.l1_unstructured(layer, 'weight', amount=2)\n"
                       "print(int((layer.weight == 0).sum()), p2 is prune)\n")
    done = subprocess.run([sys.executable, "-m", "glassgrad.torch_names", str(program)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "True"]


@pytest.mark.torch
@given(shape=SHAPES, seed=SEEDS)
def test_a_pruned_layer_pickles_and_computes_as_pytorchs_copy(torch, shape, seed):
    """``pickle.dumps(model)`` of a pruned model works in PyTorch (its ``weight`` is a graph tensor, pickled as a leaf
    that requires grad); glassgrad raised PicklingError (the graph's rules are functions). The copy gives the same
    output and the same gradients as PyTorch's copy."""
    import pickle

    weight = distinct(shape, seed)
    x = np.linspace(-1.0, 1.0, 3 * shape[1]).reshape(3, shape[1])
    found = []
    for lib in (gg, torch):
        layer = lib.nn.Linear(shape[1], shape[0]).double()
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(weight))
            layer.bias.copy_(lib.linspace(-0.5, 0.5, shape[0], dtype=lib.float64))
        lib.nn.utils.prune.l1_unstructured(layer, "weight", amount=0.5)
        copy = pickle.loads(pickle.dumps(layer))
        assert copy.weight.is_leaf and copy.weight.requires_grad and copy.weight.grad_fn is None
        out = copy(lib.tensor(x))
        out.sum().backward()
        found.append([out.detach().numpy(), copy.weight_orig.grad.numpy(), copy.weight_mask.numpy()])
    for ours, theirs in zip(*found):  # (an entry near 0: 2.6e-6 ± 2e-16 at seed 34193)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_a_copy_of_a_graph_tensor_is_a_leaf_with_its_numbers_and_requires_grad():
    """pickle of a tensor made by an op: a leaf holding the same numbers, requiring grad as the original did, whose
    backward reaches nothing of the original's graph. ``copy.deepcopy`` refuses it, as PyTorch's does (and so a
    pruned layer, whose weight is made by an op, is not deep-copied in either)."""
    import copy
    import pickle

    w = gg.tensor([1.0, -2.0, 3.0], dtype=gg.float64, requires_grad=True)
    made = (w * w).exp()
    twin = pickle.loads(pickle.dumps(made))
    assert twin.is_leaf and twin.requires_grad and twin.grad_fn is None
    assert np.array_equal(twin.numpy(), np.exp(np.array([1.0, -2.0, 3.0]) ** 2))
    twin.sum().backward()
    assert np.array_equal(twin.grad.numpy(), np.ones(3)) and w.grad is None
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(made)


@pytest.mark.torch
def test_pruning_again_keeps_the_masks_place_in_the_state_dict_as_pytorch(torch):
    """A second pruning of the weight moved weight_mask behind bias_mask (it was deleted and registered again)."""
    orders = []
    for library in (gg, torch):
        layer = library.nn.Linear(3, 2)
        library.nn.utils.prune.l1_unstructured(layer, "weight", amount=1)
        library.nn.utils.prune.l1_unstructured(layer, "bias", amount=1)
        library.nn.utils.prune.l1_unstructured(layer, "weight", amount=1)
        orders.append((list(layer.state_dict()), [name for name, _ in layer.named_buffers()]))
    assert orders[0] == orders[1]


def test_pruning_a_missing_bias_is_refused_in_one_line_naming_what_there_is():
    """Linear(bias=False): prune.l1_unstructured(layer, "bias") failed inside with 'NoneType' has no attribute."""
    with pytest.raises(ValueError, match=r"^prune: 'bias' of Linear is not a parameter; name one it has \(weight\)$"):
        gg.nn.utils.prune.l1_unstructured(gg.nn.Linear(2, 2, bias=False), "bias", amount=1)
