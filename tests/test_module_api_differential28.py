"""The nn.Module and container API as PyTorch code uses it, glassgrad against PyTorch 2.13 on drawn module trees.

Each draw builds the same tree in both libraries (nested Sequential, ModuleList, ModuleDict, ParameterList,
ParameterDict, Linear, BatchNorm1d and custom modules holding parameters, empty parameter slots, persistent,
non-persistent and integer buffers and children), then ties some parameters and registers some modules a second
time under another name, and compares: the names and order of named_modules / named_parameters / named_buffers
(prefix, recurse, remove_duplicate), named_children, apply's order, the state_dict's keys, shapes and dtypes (with
keep_vars and prefix), a non-strict load of an edited state dict (the missing and unexpected keys, the values
after it, strict's refusal), double()/half()/float() on parameters and buffers (integer buffers untouched),
eval() flags, clip_grad_norm_ for norm types 2, 1, inf, 0, 0.5 and 3, parameters_to_vector /
vector_to_parameters, and copy.deepcopy and pickle (tied weights stay tied). A second drawn test edits a
ModuleDict and a ParameterDict by a drawn sequence of operations. The regression tests pin what glassgrad did
differently; the pinning tests the misuse refusals and edge cases that already behaved.
"""

from __future__ import annotations

import contextlib
import copy
import math
import pickle
import random
import warnings
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.torch

_CUSTOM: dict[str, type] = {}


def _custom_class(lib):
    """A module built from a spec (parameters, buffers of each kind, children), one class per library, kept at
    this file's top level so that pickle finds it."""
    name = f"DrawnModule{lib.__name__.capitalize()}"
    if name not in _CUSTOM:
        class Drawn(lib.nn.Module):
            def __init__(self, spec, build):
                super().__init__()
                for kind, member, value in spec:
                    if kind == "param":
                        self.register_parameter(member, None if value is None else lib.nn.Parameter(lib.tensor(value)))
                    elif kind == "buffer":
                        self.register_buffer(member, None if value is None else lib.tensor(value))
                    elif kind == "transient":
                        self.register_buffer(member, lib.tensor(value), persistent=False)
                    elif kind == "count":
                        self.register_buffer(member, lib.tensor(value, dtype=lib.int64))
                    else:
                        setattr(self, member, build(value))

            def forward(self, x):
                return x

        Drawn.__name__ = Drawn.__qualname__ = name
        globals()[name] = _CUSTOM[name] = Drawn
    return _CUSTOM[name]


def _numbers(rng, low=1, high=3):
    return [float(rng.randint(-3, 3)) for _ in range(rng.randint(low, high))]


def _draw_spec(rng, depth=0):
    kinds = ["custom", "seq", "list", "dict", "plist", "pdict", "linear", "bn"] if depth < 3 else [
        "linear", "bn", "custom", "plist", "pdict"]
    kind = rng.choice(kinds)
    if kind == "linear":
        return kind, (rng.randint(1, 3), rng.randint(1, 3), rng.random() < 0.7)
    if kind == "bn":
        return kind, rng.randint(1, 3)
    if kind in ("seq", "list"):
        return kind, [_draw_spec(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "dict":
        return kind, [(rng.choice("abxyz") + str(i), _draw_spec(rng, depth + 1)) for i in range(rng.randint(0, 3))]
    if kind == "plist":
        return kind, [_numbers(rng) if rng.random() < 0.8 else None for _ in range(rng.randint(0, 3))]
    if kind == "pdict":
        return kind, [(rng.choice("qwe") + str(i), _numbers(rng)) for i in range(rng.randint(0, 3))]
    spec = []
    for member in rng.sample(["w", "b", "run", "scale", "sub", "blk", "h"], rng.randint(0, 5)):
        what = rng.choice(["param", "param", "buffer", "transient", "count", "child", "child"])
        if what == "child" and depth < 3:
            spec.append((what, member, _draw_spec(rng, depth + 1)))
        elif what == "param":
            spec.append((what, member, None if rng.random() < 0.15 else _numbers(rng)))
        elif what == "buffer":
            spec.append((what, member, None if rng.random() < 0.15 else _numbers(rng, 1, 1)))
        elif what == "transient":
            spec.append((what, member, [1.5, 2.5]))
        elif what == "count":
            spec.append((what, member, [1, 2]))
    return "custom", spec


def _build(lib, spec):
    kind, value = spec
    nn = lib.nn
    if kind == "linear":
        n_in, n_out, bias = value
        layer = nn.Linear(n_in, n_out, bias=bias)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(np.arange(n_in * n_out).reshape(n_out, n_in) * 0.25 - 0.5))
            if bias:
                layer.bias.copy_(lib.tensor(np.arange(n_out) * 0.5))
        return layer
    if kind == "bn":
        return nn.BatchNorm1d(value)
    if kind == "seq":
        return nn.Sequential(*[_build(lib, part) for part in value])
    if kind == "list":
        return nn.ModuleList([_build(lib, part) for part in value])
    if kind == "dict":
        return nn.ModuleDict(OrderedDict((name, _build(lib, part)) for name, part in value))
    if kind == "plist":
        return nn.ParameterList([None if v is None else nn.Parameter(lib.tensor(v)) for v in value])
    if kind == "pdict":
        return nn.ParameterDict(OrderedDict((name, nn.Parameter(lib.tensor(v))) for name, v in value))
    return _custom_class(lib)(value, lambda part: _build(lib, part))


def _share(root, rng):
    """Register some modules a second time under another name and tie some parameters, by the same draws."""
    hosts = [m for m in root.modules() if type(m).__name__.startswith("DrawnModule")]
    every = list(root.modules())
    for _ in range(rng.randint(0, 2)):
        if not hosts:
            break
        host, target = rng.choice(hosts), rng.choice(every)
        name = f"alias{rng.randint(0, 9)}"
        if target is host or hasattr(host, name) or any(m is host for m in target.modules()):
            continue
        host.add_module(name, target)
    params = [(m, n) for m in hosts for n, p in m._parameters.items() if p is not None]
    for _ in range(rng.randint(0, 2)):
        if len(params) >= 2:
            (first, first_name), (second, second_name) = rng.sample(params, 2)
            setattr(first, first_name, getattr(second, second_name))


def _seen(root):
    """Everything the API shows of the tree's structure."""
    out = {"children": [n for n, _ in root.named_children()], "count": len(list(root.parameters()))}
    for dedupe in (True, False):
        out[f"modules{dedupe}"] = [n for n, _ in root.named_modules(prefix="m", remove_duplicate=dedupe)]
        for recurse in (True, False):
            out[f"params{dedupe}{recurse}"] = [
                n for n, _ in root.named_parameters(prefix="p", recurse=recurse, remove_duplicate=dedupe)]
            out[f"buffers{dedupe}{recurse}"] = [
                n for n, _ in root.named_buffers(recurse=recurse, remove_duplicate=dedupe)]
    out["state"] = [(k, tuple(v.shape), _dtype(v)) for k, v in root.state_dict().items()]
    out["kept"] = [type(v).__name__ for v in root.state_dict(keep_vars=True).values()]
    out["prefixed"] = list(root.state_dict(prefix="z."))
    order: list[str] = []
    root.apply(lambda m: order.append(type(m).__name__.replace("DrawnModuleTorch", "DrawnModuleGlassgrad")))
    out["apply"] = order
    out["tied"] = [[q is p for q in root.parameters()] for p in root.parameters()]
    return out


def _dtype(tensor):
    return str(tensor.dtype).split(".")[-1]


def _values(root):
    return {k: np.asarray(v).tolist() for k, v in root.state_dict().items()}


def _set_grads(lib, root):
    for i, p in enumerate(root.parameters()):
        p.grad = lib.tensor(np.linspace(-2, 3 + i, p.numel()).reshape(tuple(p.shape)))


def _edited_state(lib, root, keys, seed):
    rng = random.Random(seed)
    state = OrderedDict((k, v.clone() * 0 + 7 if v.is_floating_point() else v.clone())
                        for k, v in root.state_dict().items())
    if keys and rng.random() < 0.5:
        state.pop(rng.choice(keys))
    if rng.random() < 0.5:
        state["junk.k"] = lib.ones(1)
    if keys and rng.random() < 0.3:
        state[rng.choice(keys) + "x"] = lib.ones(1)
    return state


def _observe(lib, spec, seed):
    rng = random.Random(seed)
    root = _build(lib, spec)
    _share(root, rng)
    seen = {"tree": _seen(root)}
    seen["deepcopy"] = _seen(copy.deepcopy(root))
    seen["pickle"] = _seen(pickle.loads(pickle.dumps(root)))
    for method in ("double", "half", "float"):
        converted = getattr(copy.deepcopy(root), method)()
        seen[method] = [(n, _dtype(t))
                        for n, t in [*converted.named_parameters(), *converted.named_buffers()]]
    loaded = copy.deepcopy(root)
    state = _edited_state(lib, loaded, list(root.state_dict()), seed)
    result = loaded.load_state_dict(state, strict=False)
    seen["load"] = (result.missing_keys, result.unexpected_keys, _values(loaded))
    try:
        loaded.load_state_dict(state)
        seen["strict"] = "loaded"
    except RuntimeError as error:
        seen["strict"] = str(error).split(" for ")[0]
    root.eval()
    seen["eval"] = [m.training for m in root.modules()]
    params = list(root.parameters())
    for norm_type in (2.0, 1.0, math.inf, 0.0, 0.5, 3.0):
        if not params:
            break
        clipped = copy.deepcopy(root)
        _set_grads(lib, clipped)
        total = lib.nn.utils.clip_grad_norm_(clipped.parameters(), 1.5, norm_type=norm_type)
        seen[f"clip{norm_type}"] = (float(total), [np.asarray(p.grad).tolist() for p in clipped.parameters()])
    if params:
        vector = lib.nn.utils.parameters_to_vector(root.parameters())
        lib.nn.utils.vector_to_parameters(vector.detach() * 2 + 1, root.parameters())
        seen["vector"] = (vector.detach().numpy().tolist(), [p.detach().numpy().tolist() for p in root.parameters()])
    _set_grads(lib, root)
    root.zero_grad(set_to_none=False)
    seen["zeroed"] = [np.asarray(p.grad).tolist() for p in root.parameters()]
    return seen


@contextlib.contextmanager
def _default_float64(*libraries):
    """Both libraries' default dtype float64 for a block (restored after)."""
    saved = [lib.get_default_dtype() for lib in libraries]
    for lib in libraries:
        lib.set_default_dtype(lib.float64)
    try:
        yield
    finally:
        for lib, dtype in zip(libraries, saved):
            lib.set_default_dtype(dtype)


@given(st.integers(0, 2**31))
def test_drawn_module_trees_name_save_load_convert_and_clip_like_pytorch(torch, seed):
    spec = _draw_spec(random.Random(seed))
    if spec[0] not in ("custom", "seq"):
        spec = ("seq", [spec])
    with _default_float64(gg, torch), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # clip_grad_norm_ of no gradient, PyTorch's
        ours, theirs = _observe(gg, spec, seed), _observe(torch, spec, seed)
    assert ours.keys() == theirs.keys()
    for key in theirs:
        if key.startswith("clip"):
            assert ours[key][0] == pytest.approx(theirs[key][0], rel=1e-12), key
            np.testing.assert_allclose(np.concatenate([np.ravel(g) for g in ours[key][1]]),
                                       np.concatenate([np.ravel(g) for g in theirs[key][1]]), rtol=1e-12, atol=1e-15)
        else:
            assert ours[key] == theirs[key], (key, spec)


_DICT_OPS = st.lists(st.tuples(st.sampled_from(["set", "update_od", "update_pairs", "update_dict", "pop", "del",
                                                 "clear", "setdefault", "popitem"]),
                               st.lists(st.sampled_from("abcdq"), min_size=1, max_size=3), st.integers(1, 3)),
                     min_size=1, max_size=8)


def _edit_dict(lib, kind, operations):
    holder = (lib.nn.ModuleDict if kind == "modules" else lib.nn.ParameterDict)()
    make = (lambda n: lib.nn.Linear(n, 1)) if kind == "modules" else (lambda n: lib.nn.Parameter(lib.ones(n)))
    log = []
    for op, keys, n in operations:
        try:
            if op == "set":
                holder[keys[0]] = make(n)
            elif op == "update_od":
                holder.update(OrderedDict((k, make(n)) for k in keys))
            elif op == "update_pairs":
                holder.update([(k, make(n)) for k in keys])
            elif op == "update_dict":
                holder.update({k: make(n) for k in keys})
            elif op in ("pop", "del"):
                if keys[0] not in holder:  # PyTorch's ParameterDict raises AttributeError there, glassgrad KeyError
                    continue
                holder.pop(keys[0]) if op == "pop" else holder.__delitem__(keys[0])
            elif op == "clear":
                holder.clear()
            elif kind == "parameters" and op == "setdefault":
                holder.setdefault(keys[0], make(n))
            elif kind == "parameters" and op == "popitem" and len(holder):
                log.append(holder.popitem()[0])
        except Exception as error:  # noqa: BLE001 - the class is compared
            log.append(type(error).__name__)
        log.append((list(holder.keys()), list(holder.state_dict()), [k in holder for k in "abcdq"],
                    [tuple((v if kind == "parameters" else v.weight).shape) for v in holder.values()]))
    return log


@given(st.sampled_from(["modules", "parameters"]), _DICT_OPS)
def test_drawn_dict_edits_keep_pytorchs_keys_and_order(torch, kind, operations):
    assert _edit_dict(gg, kind, operations) == _edit_dict(torch, kind, operations)


# --- regressions: each failed on b59e49c ------------------------------------------------------------------------


def test_batchnorm_state_is_version_2_and_a_version_2_dict_lacking_num_batches_tracked_misses_it(torch):
    """BatchNorm's state dict layout is version 2 in PyTorch (num_batches_tracked came then): a state dict saved
    by it (with ``_metadata``) that lacks the key misses it; a plain dict (no version, an old checkpoint) may lack
    it. glassgrad said version 1 and forgave the key always, so a strict load passed where PyTorch's refuses."""
    for lib in (gg, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3), lib.nn.InstanceNorm1d(3))
        state = model.state_dict()
        assert dict(state._metadata) == {"": {"version": 1}, "0": {"version": 1}, "1": {"version": 2},
                                         "2": {"version": 2}}
        del state["1.num_batches_tracked"]
        keys = model.load_state_dict(state, strict=False)
        assert (keys.missing_keys, keys.unexpected_keys) == (["1.num_batches_tracked"], [])
        with pytest.raises(RuntimeError, match='Missing key.*"1.num_batches_tracked"'):
            model.load_state_dict(state)
        assert model.load_state_dict(dict(state)).missing_keys == []  # no version: an older layout, forgiven
        state._metadata["1"] = {"version": 1}
        assert model.load_state_dict(state).missing_keys == []


def test_incompatible_keys_print_as_pytorchs(torch):
    """The last line of a notebook cell that loads weights non-strictly: PyTorch prints ``_IncompatibleKeys(...)``;
    glassgrad printed ``IncompatibleKeys(...)``."""
    shown = []
    for lib in (gg, torch):
        keys = lib.nn.Linear(1, 1).load_state_dict({"weight": lib.ones(1, 1), "extra": lib.ones(1)}, strict=False)
        shown.append(repr(keys))
    assert shown[0] == shown[1] == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['extra'])"


def test_state_dict_takes_destination_prefix_keep_vars_by_position_as_pytorch(torch):
    """Older code (a custom state_dict calling ``super().state_dict(destination, prefix, keep_vars)``) passes them by
    position, which PyTorch takes with a FutureWarning; glassgrad's first positional argument was keep_vars."""
    for lib in (gg, torch):
        layer = lib.nn.Linear(1, 1)
        with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
            into = layer.state_dict(OrderedDict(), "enc.")
        assert list(into) == ["enc.weight", "enc.bias"] and not isinstance(into["enc.weight"], lib.nn.Parameter)
        with pytest.warns(FutureWarning):
            kept = layer.state_dict(None, "", True)
        assert kept["weight"] is layer.weight
    with pytest.raises(TypeError, match="first positional argument is destination.*keep_vars=True by keyword"):
        gg.nn.Linear(1, 1).state_dict(True)


def test_a_strict_load_refused_for_keys_alone_does_not_blame_the_shapes(torch):
    """Only keys missing or unexpected: the hint said strict=False ignores them "but shapes must match: build the
    model with the same layer sizes", blaming shapes that matched; it names strict=False's use alone now."""
    messages = []
    for lib in (gg, torch):
        with pytest.raises(RuntimeError, match='^Error.* for Sequential:\n\tMissing key.*"0.bias"') as caught:
            lib.nn.Sequential(lib.nn.Linear(1, 1)).load_state_dict({"0.weight": lib.ones(1, 1), "x": lib.ones(1)})
        messages.append(str(caught.value))
    assert "shapes must match" not in messages[0] and "strict=False) loads the entries that match" in messages[0]
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight(.|\n)*shapes must match"):
        gg.nn.Sequential(gg.nn.Linear(1, 1)).load_state_dict({"0.weight": gg.ones(2, 1), "0.bias": gg.ones(1)})


def test_a_bool_indexes_a_module_list_and_a_parameter_list_as_pytorch(torch):
    """``ml[True]`` is ``ml[1]`` in PyTorch (a bool is an int); glassgrad's lists refused it."""
    for lib in (gg, torch):
        layers = lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.Tanh()])
        params = lib.nn.ParameterList([lib.ones(1), lib.ones(2)])
        assert type(layers[True]).__name__ == "Tanh" and type(layers[False]).__name__ == "ReLU"
        assert tuple(params[True].shape) == (2,)


def test_none_is_held_in_a_module_list_and_a_module_dict_as_pytorch(torch):
    """PyTorch's ModuleList and ModuleDict take None (an empty slot, ``add_module(name, None)``), skipped by
    children(), parameters() and state_dict() and printed as ``None``; glassgrad refused it with a TypeError."""
    seen = {}
    for lib in (gg, torch):
        layers = lib.nn.ModuleList([lib.nn.Linear(1, 1), None, None, lib.nn.ReLU()])
        layers.append(None)
        layers.insert(1, None)
        heads = lib.nn.ModuleDict(OrderedDict([("a", None), ("b", lib.nn.Tanh())]))
        heads["c"] = None
        heads["b"] = None
        model = lib.nn.Module()
        model.layers, model.heads = layers, heads
        text = "\n".join(line.split("  #")[0].rstrip() for line in repr(model).split("\n")
                         if not line.startswith("Total"))
        seen[lib] = ([type(x).__name__ for x in layers], list(heads.keys()), list(model.state_dict()),
                     [n for n, _ in model.named_modules()], text, heads["a"])
        del layers[0]
        seen[lib] += (list(layers._modules), heads.pop("a"), list(heads))
    assert seen[gg] == seen[torch]


def test_module_dict_keys_values_and_items_are_live_views_printed_as_pytorchs(torch):
    """``print(model.heads.keys())`` shows ``dict_keys([...])`` in PyTorch, a view that follows later edits and
    supports set operations; glassgrad returned lists (``['a', 'b']``, stale after an edit, no ``&``)."""
    seen = {}
    for lib in (gg, torch):
        heads = lib.nn.ModuleDict({"a": lib.nn.ReLU(), "b": lib.nn.Tanh()})
        keys, values, items = heads.keys(), heads.values(), heads.items()
        heads["c"] = lib.nn.ReLU()
        del heads["a"]
        heads["b"] = lib.nn.Sigmoid()
        seen[lib] = (repr(keys), repr(values), [(k, type(v).__name__) for k, v in items], keys & {"b", "z"})
        with pytest.raises(RuntimeError, match="changed size during iteration"):
            for key in heads.keys():
                heads[key + "x"] = lib.nn.ReLU()
    assert seen[gg] == seen[torch]
    assert seen[gg][0] == "dict_keys(['b', 'c'])"


def test_vector_to_parameters_refuses_a_list_with_pytorchs_type_error(torch):
    for lib in (gg, torch):
        with pytest.raises(TypeError):
            lib.nn.utils.vector_to_parameters([1.0, 2.0], [lib.nn.Parameter(lib.ones(2))])


def test_get_submodule_of_a_number_is_refused_not_read_as_the_module_itself(torch):
    """``get_submodule(0)`` returned the model itself (0 read as ``""``); PyTorch raises an AttributeError (a
    number has no ``split``), here in one line naming the fix; get_parameter/get_buffer too."""
    model = gg.nn.Sequential(gg.nn.Linear(1, 1))
    with pytest.raises(AttributeError, match="get_submodule takes the dotted name .* as a string.*got int 0"):
        model.get_submodule(0)
    with pytest.raises(AttributeError, match="get_parameter takes the dotted name"):
        model.get_parameter(None)
    with pytest.raises(AttributeError):
        torch.nn.Sequential(torch.nn.Linear(1, 1)).get_submodule(0)


# --- pinning: what already behaved ------------------------------------------------------------------------------


def _param(lib, *shape):
    return lib.nn.Parameter(lib.ones(*shape))


MISUSE = {
    "register_parameter with a dot": lambda lib: lib.nn.Module().register_parameter("a.b", _param(lib, 2)),
    "register_parameter empty": lambda lib: lib.nn.Module().register_parameter("", _param(lib, 2)),
    "register_parameter int name": lambda lib: lib.nn.Module().register_parameter(3, _param(lib, 2)),
    "register_parameter a tensor": lambda lib: lib.nn.Module().register_parameter("w", lib.ones(2)),
    "register_parameter over a method": lambda lib: lib.nn.Module().register_parameter("forward", _param(lib, 2)),
    "register_buffer a list": lambda lib: lib.nn.Module().register_buffer("b", [1, 2]),
    "register_buffer with a dot": lambda lib: lib.nn.Module().register_buffer("a.b", lib.ones(2)),
    "add_module a number": lambda lib: lib.nn.Module().add_module("a", 3),
    "add_module empty": lambda lib: lib.nn.Module().add_module("", lib.nn.ReLU()),
    "add_module int name": lambda lib: lib.nn.Module().add_module(1, lib.nn.ReLU()),
    "tensor over a parameter": lambda lib: setattr(lib.nn.Linear(2, 2), "weight", lib.ones(2, 2)),
    "module over a parameter": lambda lib: setattr(lib.nn.Linear(2, 2), "weight", lib.nn.ReLU()),
    "number over a buffer": lambda lib: setattr(lib.nn.BatchNorm1d(2), "running_mean", 3),
    "tensor over a child": lambda lib: setattr(lib.nn.Sequential(lib.nn.ReLU()), "0", lib.ones(2)),
    "delattr of nothing": lambda lib: delattr(lib.nn.Linear(2, 2), "nothing"),
    "getattr of nothing": lambda lib: lib.nn.Linear(2, 2).nothing,
    "get_submodule of a parameter": lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 2)).get_submodule("0.weight"),
    "get_parameter of a buffer": lambda lib: lib.nn.Sequential(lib.nn.BatchNorm1d(2)).get_parameter("0.running_mean"),
    "get_buffer of a parameter": lambda lib: lib.nn.Sequential(lib.nn.BatchNorm1d(2)).get_buffer("0.weight"),
    "train(1)": lambda lib: lib.nn.Linear(2, 2).train(1),
    "Sequential['0']": lambda lib: lib.nn.Sequential(lib.nn.ReLU())["0"],
    "Sequential[3]": lambda lib: lib.nn.Sequential(lib.nn.ReLU())[3],
    "Sequential + list": lambda lib: lib.nn.Sequential(lib.nn.ReLU()) + [lib.nn.ReLU()],
    "ModuleList[2]": lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])[2],
    "ModuleList.extend of numbers": lambda lib: lib.nn.ModuleList().extend([1]),
    "ModuleDict missing key": lambda lib: lib.nn.ModuleDict({"b": lib.nn.ReLU()})["z"],
    "ModuleDict key with a dot": lambda lib: lib.nn.ModuleDict().__setitem__("a.b", lib.nn.ReLU()),
    "ModuleDict key of a method": lambda lib: lib.nn.ModuleDict().__setitem__("keys", lib.nn.ReLU()),
    "ModuleDict.update(3)": lambda lib: lib.nn.ModuleDict().update(3),
    "ModuleList forward": lambda lib: lib.nn.ModuleList()(lib.ones(1)),
    "to(int64)": lambda lib: lib.nn.Linear(2, 1).to(lib.int64),
    "load a list of pairs": lambda lib: lib.nn.Linear(1, 1).load_state_dict([("weight", lib.ones(1, 1))]),
    "load a shape mismatch": lambda lib: lib.nn.Linear(1, 1).load_state_dict({"weight": lib.ones(2, 1),
                                                                              "bias": lib.ones(1)}, strict=False),
    "clip a NaN norm with error_if_nonfinite": lambda lib: lib.nn.utils.clip_grad_norm_(
        [_with_grad(lib, [1.0, float("nan")])], 1.0, error_if_nonfinite=True),
}


def _with_grad(lib, values):
    param = lib.nn.Parameter(lib.zeros(len(values), dtype=lib.float64))
    param.grad = lib.tensor(values, dtype=lib.float64)
    return param


@pytest.mark.parametrize("call", list(MISUSE.values()), ids=list(MISUSE))
def test_misuse_is_refused_with_pytorchs_exception_class_in_one_line(torch, call):
    classes = []
    for lib in (torch, gg):
        with pytest.raises(Exception) as caught:
            call(lib)
        classes.append(type(caught.value))
    assert classes[1] is classes[0] or issubclass(classes[1], classes[0])
    assert "\n" not in str(caught.value).strip("\"'") or "Error(s) in loading state_dict" in str(caught.value)


def _nested(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(2, 2)
            self.alias = self.enc
            self.w = nn.Parameter(lib.ones(2))
            self.params = nn.ParameterList([nn.Parameter(lib.ones(2))])

        def extra_repr(self):
            return "custom=1\nsecond=2"

    return nn.Sequential(OrderedDict([
        ("stem", nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.GELU(approximate="tanh"))),
        ("runs", nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.Linear(2, 2)])),
        ("heads", nn.ModuleDict(OrderedDict([("a", nn.Linear(1, 1, bias=False)), ("b", nn.Dropout(0.1))]))),
        ("block", Block()), ("empty", nn.Sequential()),
        ("rnn", nn.LSTM(2, 3, num_layers=2, batch_first=True)), ("norm", nn.LayerNorm(3))]))


def test_nested_repr_is_pytorchs_text_beside_glassgrads_parameter_counts(torch):
    """glassgrad's print(model) adds ``# n parameters`` at the right and a total line (its own, for learners);
    the rest is PyTorch's text, line for line."""
    ours = [line.split("  # ")[0].rstrip() for line in repr(_nested(gg)).split("\n")]
    assert ours[-1].startswith("Total parameters: ")
    assert "\n".join(ours[:-1]) == repr(_nested(torch))


def test_names_dedupe_memo_and_apply_order_with_a_module_registered_twice(torch):
    seen = {}
    for lib in (gg, torch):
        relu = lib.nn.ReLU()
        model = lib.nn.Sequential(relu, relu, lib.nn.Sequential(relu, lib.nn.Tanh()))
        memo = {model[2]}
        order: list[str] = []
        model.apply(lambda m, order=order: order.append(type(m).__name__))
        seen[lib] = ([n for n, _ in model.named_modules(prefix="x")],
                     [n for n, _ in model.named_modules(prefix="x", remove_duplicate=False)],
                     [n for n, _ in model.named_modules(memo=memo)], len(memo),
                     [n for n, _ in model.named_children()], order)
    assert seen[gg] == seen[torch]


def test_conversions_keep_integer_buffers_and_convert_grads_as_pytorch(torch):
    seen = {}
    for lib in (gg, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        model.register_buffer("flag", lib.tensor([True]))
        model[0].weight.grad = lib.ones(3, 2)
        weight = model[0].weight
        model.half()
        halved = [(n, _dtype(t)) for n, t in [*model.named_parameters(), *model.named_buffers()]]
        model.double()
        seen[lib] = (halved, _dtype(model[0].weight.grad), model[0].weight is weight,
                     _dtype(model[1].num_batches_tracked), _dtype(model.flag),
                     [p.requires_grad for p in model.requires_grad_(False).parameters()])
    assert seen[gg] == seen[torch]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, -math.inf, 0.0, 0.5, 3.0, -1.0, "inf"])
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_and_value_match_pytorch_for_every_norm_type(torch, norm_type, foreach):
    seen = {}
    for lib in (gg, torch):
        params = [_with_grad(lib, [1.0, -5.0, 0.0]), _with_grad(lib, [2.0, 3.0]), _with_grad(lib, [0.5])]
        total = lib.nn.utils.clip_grad_norm_(params, 2.0, norm_type=norm_type, foreach=foreach)
        clipped = [p.grad.tolist() for p in params]
        lib.nn.utils.clip_grad_value_(params, 0.3, foreach=foreach)
        seen[lib] = (total.item(), _dtype(total), tuple(total.shape), clipped, [p.grad.tolist() for p in params])
    assert seen[gg][0] == pytest.approx(seen[torch][0], rel=1e-12)
    assert seen[gg][1:3] == seen[torch][1:3]
    np.testing.assert_allclose(np.concatenate(seen[gg][3]), np.concatenate(seen[torch][3]), rtol=1e-12)
    np.testing.assert_allclose(np.concatenate(seen[gg][4]), np.concatenate(seen[torch][4]), rtol=1e-12)


def test_clip_grad_refusals_glassgrad_keeps_on_purpose(torch):
    """Where PyTorch goes on with a number that makes no sense, glassgrad refuses (its documented choice): a
    negative max_norm (PyTorch flips every gradient's sign) or clip_value (PyTorch sets all to -clip_value); and a
    non-finite total norm leaves the gradients as they are (PyTorch makes them NaN)."""
    for value in (-1.0,):
        with pytest.raises(ValueError, match="max_norm must be a number >= 0"):
            gg.nn.utils.clip_grad_norm_([_with_grad(gg, [1.0])], value)
        with pytest.raises(ValueError, match="clip_value must be a number >= 0"):
            gg.nn.utils.clip_grad_value_([_with_grad(gg, [1.0])], value)
    param = _with_grad(gg, [float("inf"), 1.0])
    assert math.isinf(gg.nn.utils.clip_grad_norm_([param], 1.0).item())
    assert param.grad.tolist() == [math.inf, 1.0]
    theirs = _with_grad(torch, [float("inf"), 1.0])
    torch.nn.utils.clip_grad_norm_([theirs], 1.0)
    assert math.isnan(theirs.grad[0].item())
