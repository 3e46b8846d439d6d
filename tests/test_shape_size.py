"""``x.shape`` and ``x.size()`` are a ``gg.Size``, as they are a ``torch.Size`` in PyTorch: each operation a program
does with one (slice it, add a tuple, repeat it, compare, hash, pickle, count its entries, build a tensor of that
shape) gives what PyTorch 2.13 gives — a Size, a plain tuple, an int, or the same kind of error — and what glassgrad
adds (its repr, its files, its one-line errors, a shape read that costs glassgrad's own ops nothing) holds too."""

from __future__ import annotations

import copy
import io
import json
import pickle
from functools import partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.arguments import shape_text
from glassgrad.io import ModelFileError
from glassgrad.tensor import Tensor

shapes = st.lists(st.integers(0, 4), max_size=4).map(tuple)
entries = st.lists(st.integers(-3, 6), max_size=5)
"""What a Size holds: whole numbers, negative ones included (PyTorch allows ``view(torch.Size([-1, 3]))``)."""


def kind(value: object) -> tuple:
    """A result as both libraries can be compared: its type's name and its value (a tuple's as a list)."""
    if isinstance(value, tuple):
        return type(value).__name__, [kind(entry) for entry in value]
    if isinstance(value, list):
        return "list", [kind(entry) for entry in value]
    return type(value).__name__, value


def outcome(operation) -> tuple:
    """What ``operation()`` gives: its :func:`kind`, or the class of the exception it raises."""
    try:
        return kind(operation())
    except Exception as error:  # noqa: BLE001 — the exception's class is what is compared
        return "raises", type(error).__name__


def added_in_place(size, other):
    size += other
    return size


def repeated_in_place(size, times):
    size *= times
    return size


def unpacked(size):
    first, *rest = size
    return first, rest


OPERATIONS = {
    "s[i]": lambda S, d: S(d["a"])[d["i"]],
    "s[start:stop:step]": lambda S, d: S(d["a"])[d["start"]:d["stop"]:d["step"]],
    "s + tuple": lambda S, d: S(d["a"]) + tuple(d["b"]),
    "tuple + s": lambda S, d: tuple(d["b"]) + S(d["a"]),
    "s + s": lambda S, d: S(d["a"]) + S(d["b"]),
    "s + list": lambda S, d: S(d["a"]) + list(d["b"]),
    "list + s": lambda S, d: list(d["b"]) + S(d["a"]),
    "s += tuple": lambda S, d: added_in_place(S(d["a"]), tuple(d["b"])),
    "tuple += s": lambda S, d: added_in_place(tuple(d["b"]), S(d["a"])),
    "s * n": lambda S, d: S(d["a"]) * d["n"],
    "n * s": lambda S, d: d["n"] * S(d["a"]),
    "s *= n": lambda S, d: repeated_in_place(S(d["a"]), d["n"]),
    "s * 2.0": lambda S, d: S(d["a"]) * 2.0,
    "s * s": lambda S, d: S(d["a"]) * S(d["b"]),
    "sum([s, s], ())": lambda S, d: sum([S(d["a"]), S(d["b"])], ()),
    "s == tuple": lambda S, d: S(d["a"]) == tuple(d["b"]),
    "s == same tuple": lambda S, d: S(d["a"]) == tuple(d["a"]),
    "s != tuple": lambda S, d: S(d["a"]) != tuple(d["b"]),
    "s == list": lambda S, d: S(d["a"]) == list(d["a"]),
    "s < tuple": lambda S, d: S(d["a"]) < tuple(d["b"]),
    "s < list": lambda S, d: S(d["a"]) < list(d["b"]),
    "hash(s) == hash(tuple)": lambda S, d: hash(S(d["a"])) == hash(tuple(d["a"])),
    "s in {tuple}": lambda S, d: S(d["a"]) in {tuple(d["a"])},
    "isinstance(s, tuple)": lambda S, d: isinstance(S(d["a"]), tuple),
    "s.numel()": lambda S, d: S(d["a"]).numel(),
    "s.count(v)": lambda S, d: S(d["a"]).count(d["v"]),
    "s.index(v)": lambda S, d: S(d["a"]).index(d["v"]),
    "len(s)": lambda S, d: len(S(d["a"])),
    "bool(s)": lambda S, d: bool(S(d["a"])),
    "list(s)": lambda S, d: list(S(d["a"])),
    "tuple(s)": lambda S, d: tuple(S(d["a"])),
    "first, *rest = s": lambda S, d: unpacked(S(d["a"])),
    "reversed(s)": lambda S, d: tuple(reversed(S(d["a"]))),
    "v in s": lambda S, d: d["v"] in S(d["a"]),
    "Size(s)": lambda S, d: S(S(d["a"])),
    "pickle": lambda S, d: pickle.loads(pickle.dumps(S(d["a"]))),
    "copy": lambda S, d: copy.copy(S(d["a"])),
    "deepcopy": lambda S, d: copy.deepcopy(S(d["a"])),
    # PyTorch writes torch.Size([2, 3]) for repr, str and f-strings alike; glassgrad Size([2, 3]), no module name
    "repr(s)": lambda S, d: repr(S(d["a"])).removeprefix("torch."),
    "str(s)": lambda S, d: str(S(d["a"])).removeprefix("torch."),
    "f'{s}'": lambda S, d: f"{S(d['a'])}".removeprefix("torch."),
}


@pytest.mark.torch
@given(a=entries, b=entries, i=st.integers(-6, 6), start=st.none() | st.integers(-6, 6),
       stop=st.none() | st.integers(-6, 6), step=st.sampled_from([None, 1, 2, -1, -2]), n=st.integers(-2, 3),
       v=st.integers(-3, 6))
def test_each_operation_on_a_size_gives_what_pytorchs_gives(a, b, i, start, stop, step, n, v, torch):
    drawn = {"a": a, "b": b, "i": i, "start": start, "stop": stop, "step": step, "n": n, "v": v}
    for name, operation in OPERATIONS.items():
        ours, theirs = outcome(partial(operation, gg.Size, drawn)), outcome(partial(operation, torch.Size, drawn))
        assert ours == theirs, (name, drawn)


def entry_for(library, how: str, value: int):
    """One entry handed to ``Size(...)``, written as a program might (a tensor of a number within int64's range:
    what ``tensor(2**63)`` makes is not this file's question)."""
    if "tensor" in how:
        value = min(max(value, -3), 6)
    return {
        "int": lambda: value, "bool": lambda: bool(value % 2), "float": lambda: float(value),
        "str": lambda: str(value), "None": lambda: None, "numpy int64": lambda: np.int64(value),
        "numpy int32": lambda: np.int32(value), "numpy float64": lambda: np.float64(value),
        "numpy bool": lambda: np.bool_(value % 2), "0-d int tensor": lambda: library.tensor(value),
        "0-d float tensor": lambda: library.tensor(float(value)), "0-d bool tensor": lambda: library.tensor(value > 0),
        "one-number 1-d tensor": lambda: library.tensor([value]),
        "two-number tensor": lambda: library.tensor([value, 1]),
    }[how]()


CONTAINERS = {
    "list": list, "tuple": tuple, "generator": lambda items: (item for item in items),
    "dict keys": lambda items: dict.fromkeys(items), "int alone": lambda items: 3, "float alone": lambda items: 2.5,
}


@pytest.mark.torch
@given(hows=st.lists(st.sampled_from(["int", "bool", "float", "str", "None", "numpy int64", "numpy int32",
                                       "numpy float64", "numpy bool", "0-d int tensor", "0-d float tensor",
                                       "0-d bool tensor", "one-number 1-d tensor", "two-number tensor"]), max_size=4),
       values=st.lists(st.integers(-3, 6) | st.sampled_from([2**63 - 1, -2**63, 2**63, -2**63 - 1]),
                       min_size=4, max_size=4),
       container=st.sampled_from(sorted(CONTAINERS)))
def test_a_size_is_built_from_what_pytorch_takes_and_refuses_what_it_refuses(hows, values, container, torch):
    """Ints, bools, NumPy integers and one-number integer tensors are sizes; floats, strings, None, a float or
    two-number tensor are a TypeError; a number past int64 a ValueError; negative sizes are kept."""
    def built(library):
        items = [entry_for(library, how, value) for how, value in zip(hows, values)]
        size = library.Size(CONTAINERS[container](items))
        size.numel()  # PyTorch keeps a number past int64 and refuses it on first use; glassgrad when it is given
        # the values: PyTorch keeps a NumPy integer as it came, glassgrad makes it an int (the test below)
        return type(size).__name__, [int(n) for n in size]

    assert outcome(partial(built, gg)) == outcome(partial(built, torch)), (hows, values, container)


@pytest.mark.torch
@given(values=st.lists(st.integers(0, 5), max_size=4))
def test_a_size_of_a_1d_integer_tensor_holds_its_numbers_as_in_pytorch(values, torch):
    for make in (lambda library: library.Size(library.tensor(values, dtype=library.int64)),
                 lambda library: library.Size(library.tensor(values, dtype=library.float32)),
                 lambda library: library.Size(library.zeros(2, 2, dtype=library.int64))):
        assert outcome(partial(make, gg)) == outcome(partial(make, torch))


def shape_uses(library, shape: tuple) -> dict:
    """What a program does with a tensor's shape, and the tensors it makes from it."""
    x = library.zeros(shape)
    module = library.nn.Module()
    module.register_buffer("running", library.zeros(shape))
    uses = {
        "x.shape": lambda: x.shape, "x.size()": lambda: x.size(),
        "x.size(d)": lambda: [x.size(d) for d in range(-x.ndim, x.ndim)],
        "x.shape[d]": lambda: [x.shape[d] for d in range(-x.ndim, x.ndim)],
        "x.shape[1:]": lambda: x.shape[1:], "x.shape[:-1]": lambda: x.shape[:-1],
        "x.shape + (1,)": lambda: x.shape + (1,), "(1,) + x.shape": lambda: (1,) + x.shape,
        "x.shape * 2": lambda: x.shape * 2, "x.shape.numel()": lambda: x.shape.numel(),
        "x.size().numel()": lambda: x.size().numel(), "list(x.shape)": lambda: list(x.shape),
        "x.shape == shape": lambda: x.shape == shape,
        "x.view(x.shape)": lambda: x.view(x.shape).shape, "x.reshape(x.shape)": lambda: x.reshape(x.shape).shape,
        "x.reshape(x.shape[:-1] + x.shape[-1:])": lambda: x.reshape(x.shape[:-1] + x.shape[-1:]).shape,
        "x.new_zeros(x.shape)": lambda: x.new_zeros(x.shape).shape,
        "x.new_ones(x.size())": lambda: x.new_ones(x.size()).shape,
        "zeros(x.shape)": lambda: library.zeros(x.shape).shape, "ones(x.size())": lambda: library.ones(x.size()).shape,
        "full(x.shape, 2.0)": lambda: library.full(x.shape, 2.0).shape,
        "randn(x.shape)": lambda: library.randn(x.shape).shape,
        "x.expand(x.shape)": lambda: x.expand(x.shape).shape,
        "x.unsqueeze(0).shape": lambda: x.unsqueeze(0).shape, "x.detach().shape": lambda: x.detach().shape,
        "Parameter(x).shape": lambda: library.nn.Parameter(x).shape,
        "buffer.shape": lambda: module.running.shape,
        "broadcast_shapes": lambda: library.broadcast_shapes(shape, (1,) * len(shape)),
        "type(x.stride())": lambda: type(x.stride()).__name__,  # a plain tuple, not a Size
    }
    return {name: outcome(use) for name, use in uses.items()}


@pytest.mark.torch
@given(shape=shapes)
def test_a_tensors_shape_and_what_is_made_from_it_are_sizes_as_in_pytorch(shape, torch):
    """``x.shape``, ``x.size()``, their slices and sums are a Size, ``x.size(d)`` an int, ``x.stride()`` a plain
    tuple; a tensor made from a shape has a Size for its shape, a Parameter's and a buffer's too."""
    assert shape_uses(gg, shape) == shape_uses(torch, shape)


def distribution_shapes(library, shape: tuple) -> dict:
    normal = library.distributions.Normal(library.zeros(shape), 1.0)
    probs = library.ones(shape + (3,))
    made = {
        "Normal": lambda: normal, "Normal.expand": lambda: normal.expand((2,) + shape),
        "Independent": lambda: library.distributions.Independent(normal, min(len(shape), 1)),
        "Categorical": lambda: library.distributions.Categorical(probs),
        "OneHotCategorical": lambda: library.distributions.OneHotCategorical(probs),
        "Dirichlet": lambda: library.distributions.Dirichlet(probs),
        "Multinomial": lambda: library.distributions.Multinomial(2, probs),
        "MultivariateNormal": lambda: library.distributions.MultivariateNormal(
            library.zeros(shape + (2,)), library.eye(2)),
    }
    return {name: both_shapes(make) for name, make in made.items()}


def both_shapes(make) -> tuple:
    return outcome(lambda: make().batch_shape), outcome(lambda: make().event_shape)


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 3), max_size=3).map(tuple))
def test_a_distributions_batch_and_event_shapes_are_sizes_as_in_pytorch(shape, torch):
    assert distribution_shapes(gg, shape) == distribution_shapes(torch, shape)


@pytest.mark.torch
@given(a=entries)
def test_a_saved_size_loads_as_a_size_as_with_torch_save(a, torch):
    """``torch.save({"shape": x.shape, …})`` then ``torch.load`` gives the Size back; ``gg.save``/``gg.load`` too."""
    def round_trip(library):
        buffer = io.BytesIO()
        library.save({"shape": library.Size(a), "alone": [library.Size(a)], "weight": library.zeros(2)}, buffer)
        buffer.seek(0)
        loaded = library.load(buffer)
        return loaded["shape"], loaded["alone"]

    assert outcome(partial(round_trip, gg)) == outcome(partial(round_trip, torch))


@pytest.mark.torch
@given(shape=shapes)
def test_a_size_is_a_container_of_its_numbers_for_the_func_transforms_as_in_pytorch(shape, torch):
    """``torch.func`` takes a Size apart as a tuple (its numbers are the leaves); glassgrad's transforms did not,
    so ``vmap`` of a function returning ``x.shape`` named the Size, not its numbers, as what is not a tensor."""
    from torch.utils import _pytree

    from glassgrad import pytree

    tree = ({"shape": gg.Size(shape)}, [gg.zeros(shape).shape])
    leaves, structure = pytree.flatten(tree)
    theirs, _ = _pytree.tree_flatten(({"shape": torch.Size(shape)}, [torch.zeros(shape).shape]))
    assert leaves == theirs == list(shape) * 2
    rebuilt = pytree.unflatten(leaves, structure)
    their_rebuilt = _pytree.tree_unflatten(list(shape), _pytree.tree_flatten(torch.Size(shape))[1])
    assert rebuilt == tree and type(rebuilt[0]["shape"]) is type(rebuilt[1][0]) is type(their_rebuilt) is tuple


# --- what glassgrad alone decides -------------------------------------------------------------------------------


def test_a_shape_shows_as_size_and_a_lessons_shape_text_stays_a_tuple():
    """``print(x.shape)`` shows ``Size([2, 3])`` (PyTorch: ``torch.Size([2, 3])``; glassgrad writes no module
    name, as its tensors show ``dtype=float32``); messages and lessons write shapes with ``shape_text``."""
    x = gg.zeros(2, 3)
    assert f"{x.shape}" == str(x.size()) == repr(x.shape) == "Size([2, 3])"
    assert repr(gg.zeros(()).shape) == "Size([])" and repr(gg.zeros(4).shape[1:]) == "Size([])"
    assert shape_text(x.shape) == "(2, 3)" and shape_text(x.shape[1:]) == "(3,)"


def test_a_sizes_entries_are_python_ints_so_json_writes_a_shape_as_a_list():
    """PyTorch keeps a NumPy integer as it was given; glassgrad keeps each entry as a Python int, so that a shape
    goes into JSON (a playground's or a trace's document) as the list of its numbers."""
    size = gg.Size([np.int64(2), np.int32(3), gg.tensor(4), True])
    assert [type(n) for n in size] == [int] * 4 and size == (2, 3, 4, 1)
    assert json.dumps({"shape": size, "x": gg.zeros(2, 3).shape}) == '{"shape": [2, 3, 4, 1], "x": [2, 3]}'


@pytest.mark.parametrize(("given_sizes", "error", "words"), [
    ([2.5], TypeError, ["item 0", "'float'", "int(...)"]),
    ([2, "3"], TypeError, ["item 1", "'str'"]),
    ([gg.tensor(2.0)], TypeError, ["item 0", "'Tensor'"]),
    (3, TypeError, ["Size([n])", "'int'"]),
    ([2**63], ValueError, ["item 0", "int64"]),
])
def test_a_size_of_anything_but_whole_numbers_is_refused_in_one_line(given_sizes, error, words):
    with pytest.raises(error) as caught:
        gg.Size(given_sizes)
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and all(word in message for word in words), message


def test_a_size_in_a_glassgrad_file_loads_as_a_size_and_a_broken_one_is_refused(tmp_path):
    import safetensors.numpy

    path = tmp_path / "m.safetensors"
    gg.save({"shape": gg.zeros(2, 3).shape, "empty": gg.Size([]), "as tuple": (2, 3)}, path)
    loaded = gg.load(path)
    assert type(loaded["shape"]) is gg.Size and loaded["shape"] == (2, 3) and type(loaded["empty"]) is gg.Size
    assert type(loaded["as tuple"]) is tuple  # a plain tuple stays one
    for broken in ('{"size": ["a"]}', '{"size": [2.5]}', '{"size": 3}', '{"size": [1e30]}'):
        description = '{"layout": {"dict": [["shape", ' + broken + ']]}, "metadata": {"dict": []}}'
        path.write_bytes(safetensors.numpy.save({}, metadata={"format": "glassgrad", "glassgrad": description}))
        with pytest.raises(ModelFileError, match="glassgrad metadata is corrupted"):
            gg.load(path)


CORE_OPS = {
    "matmul": lambda x, m: x @ m, "bmm": lambda x, m: x.bmm(x.transpose(1, 2)),
    "cat": lambda x, m: gg.cat([x, x], 1), "stack": lambda x, m: gg.stack([x, x]),
    "chunk": lambda x, m: x.chunk(2, 2), "split": lambda x, m: x.split(2, 2), "unbind": lambda x, m: x.unbind(1),
    "unsqueeze": lambda x, m: x.unsqueeze(1), "squeeze": lambda x, m: x.unsqueeze(0).squeeze(0).squeeze(),
    "flatten": lambda x, m: x.flatten(1), "unflatten": lambda x, m: x.unflatten(2, (2, 2)),
    "expand": lambda x, m: m[0].expand(3, 5), "argmax": lambda x, m: x.argmax(1), "topk": lambda x, m: x.topk(2),
    "masked_fill": lambda x, m: x.masked_fill(x > 0, 0.0), "gather": lambda x, m: x.gather(2, gg.zeros(2, 3, 1,
                                                                                                  dtype=gg.int64)),
    "clamp by tensors": lambda x, m: x.clamp(gg.zeros(4), gg.ones(4)),
    "in-place update": lambda x, m: m.detach().sub_(m.detach() * 0.1),
    "normal_": lambda x, m: m.detach().normal_(), "backward": lambda x, m: (x @ m).sum().backward(),
    "max_pool2d": lambda x, m: gg.nn.functional.max_pool2d(x.unsqueeze(0), 2),
    "avg_pool2d": lambda x, m: gg.nn.functional.avg_pool2d(x.unsqueeze(0), 2, ceil_mode=True),
    "layer_norm": lambda x, m: gg.nn.functional.layer_norm(x, (4,)),
    "batch_norm": lambda x, m: gg.nn.functional.batch_norm(x, None, None, training=True),
    "dropout": lambda x, m: gg.nn.functional.dropout(x, 0.5),
}


def test_glassgrads_own_ops_read_no_tensor_shape(monkeypatch):
    """``x.shape`` makes a Size on each read; glassgrad's ops read ``x.array.shape`` (a NumPy tuple, free), so a
    program pays for a Size only where it asks for one."""
    x, m = gg.randn(2, 3, 4, requires_grad=True), gg.randn(4, 5, requires_grad=True)
    read = []
    shape = Tensor.shape
    monkeypatch.setattr(Tensor, "shape", property(lambda tensor: read.append(1) or shape.fget(tensor)))
    for name, op in CORE_OPS.items():
        read.clear()
        op(x, m)
        assert not read, f"{name} read Tensor.shape {len(read)} times"


@pytest.mark.torch
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=3).filter(lambda sizes: 0 in sizes).map(tuple),
       dtype=st.sampled_from(["float32", "float64", "int64", "int32", "bool"]), requires_grad=st.booleans())
def test_an_empty_tensor_prints_its_size_and_dtype_as_in_pytorch(shape, dtype, requires_grad, torch):
    """An empty tensor's numbers ``[]`` tell neither its shape nor an int64 or bool dtype, so PyTorch writes them:
    ``tensor([], size=(0, 3), dtype=torch.int64)``; glassgrad wrote ``tensor([])``."""
    requires_grad = requires_grad and dtype.startswith("float")
    ours = gg.zeros(shape, dtype=getattr(gg, dtype if dtype != "bool" else "bool_"), requires_grad=requires_grad)
    theirs = torch.zeros(shape, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    assert repr(ours) == repr(theirs).replace("torch.", "")
