"""nn containers as PyTorch code uses them, glassgrad against PyTorch 2.13 (round 75).

Rounds 28 and 46 cover the Module API (names, state dicts, conversions, dict edits) and hooks; this file covers the
list-like containers: a drawn sequence of edits (append, extend from a list or a generator, insert, pop, ``del`` of
an index or a slice, ``model[i] = layer``, ``+=``, ``+``, ``*``, slicing, negative indices, out-of-range indices) is
run on ``Sequential``, ``ModuleList`` and ``ParameterList`` in both libraries, and after every step the entries'
names, which object sits under each name, the state dict's keys and the exception class of a refused step are
compared. The regression tests pin what glassgrad did differently (``dir()`` of a Sequential, editing a ModuleDict
or ParameterDict while looping over it, calling a ParameterList); the pinning tests what already behaved.
Differences that are PyTorch's own failures (``ModuleList.insert`` of a negative index, ``Sequential.insert`` into
a Sequential named by an OrderedDict) or documented glassgrad leniencies (``pop()`` without an index) are not drawn.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.torch

_KINDS = ["Sequential", "ModuleList", "ParameterList"]
_OPS = st.lists(st.tuples(st.sampled_from(["append", "extend", "extend_gen", "insert", "pop", "del", "del_slice",
                                           "set", "iadd", "add", "mul", "slice", "get"]),
                          st.integers(-6, 6), st.integers(-6, 6), st.sampled_from([None, 1, 2, -1])),
                max_size=12)


def _entry(lib, kind, tag):
    """A fresh entry that can be told apart by its tag: a Linear of tag inputs, or a parameter of tag values."""
    if kind == "ParameterList":
        return lib.full((tag,), float(tag))
    return lib.nn.Linear(tag, 1)


def _build(lib, kind, entries):
    holder = getattr(lib.nn, kind)
    return holder(*entries) if kind == "Sequential" else holder(entries)


def _tag(kind, entry):
    return entry.shape[0] if kind == "ParameterList" else entry.in_features


def _state(kind, holder):
    if kind == "ParameterList":
        names = [name for name, _ in holder.named_parameters()]
    else:
        names = [name for name, _ in holder.named_children()]
    return (type(holder).__name__, len(holder), names, [_tag(kind, entry) for entry in holder],
            list(holder.state_dict()))


def _edit_list(lib, kind, operations):
    holder = _build(lib, kind, [_entry(lib, kind, tag) for tag in (1, 2, 3)])
    fresh = iter(range(4, 100))
    log = []
    for op, i, j, step in operations:
        n = next(fresh)
        try:
            if op == "append":
                holder.append(_entry(lib, kind, n))
            elif op == "extend":
                holder.extend([_entry(lib, kind, n), _entry(lib, kind, n + 100)])
            elif op == "extend_gen":
                holder.extend(_entry(lib, kind, n + k) for k in (0, 100))
            elif op == "insert" and kind != "ParameterList":  # PyTorch's ModuleList.insert fails on negative ones
                holder.insert(i if kind == "Sequential" else abs(i) % (len(holder) + 1), _entry(lib, kind, n))
            elif op == "pop" and kind != "ParameterList":
                log.append(_tag(kind, holder.pop(i)))
            elif op == "del" and kind != "ParameterList":
                del holder[i]
            elif op == "del_slice" and kind != "ParameterList":
                del holder[i:j:step]
            elif op == "set":
                holder[i] = _entry(lib, kind, n)
            elif op == "iadd" and kind != "ParameterList":
                same = holder
                holder += _build(lib, kind, [_entry(lib, kind, n)]) if kind == "Sequential" else [_entry(lib, kind, n)]
                log.append(holder is same)
            elif op == "add" and kind != "ParameterList":
                log.append(_state(kind, holder + _build(lib, kind, [_entry(lib, kind, n)])))
            elif op == "mul" and kind == "Sequential":
                log.append(_state(kind, holder * (abs(i) % 3 + 1)))
            elif op == "slice":
                part = holder[i:j:step]
                log.append((_state(kind, part), all(a is b for a, b in zip(part, list(holder)[i:j:step]))))
            elif op == "get":
                log.append((_tag(kind, holder[i]), holder[i] is list(holder)[i]))
        except Exception as error:  # noqa: BLE001 - the class is compared
            log.append(type(error).__name__)
        log.append(_state(kind, holder))
    return log


@given(st.sampled_from(_KINDS), _OPS)
def test_drawn_list_edits_keep_pytorchs_names_entries_and_refusals(torch, kind, operations):
    assert _edit_list(gg, kind, operations) == _edit_list(torch, kind, operations)


# --- regressions: each failed on bc935f3 ------------------------------------------------------------------------


def test_dir_of_a_sequential_leaves_out_the_positional_names_as_pytorch(torch):
    """PyTorch's Sequential, as its ModuleList, leaves ``"0"``, ``"1"`` out of ``dir()`` (they are no identifiers;
    the layers are reached by indexing); glassgrad's listed them."""
    for lib in (torch, gg):
        names = dir(lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU()))
        assert not [name for name in names if name.isdigit()]
        assert {"append", "forward", "insert"} <= set(names)


@pytest.mark.parametrize("kind", ["ModuleDict", "ParameterDict"])
def test_adding_to_a_dict_container_while_looping_over_it_raises_as_a_dicts(torch, kind):
    """PyTorch's ModuleDict and ParameterDict iterate their keys live, so an entry added inside ``for key in d``
    raises ``RuntimeError: dictionary changed size during iteration``; glassgrad's looped over a copy and went on
    silently (and its ``keys()`` view already raised)."""
    def make(lib):
        return lib.nn.Linear(1, 1) if kind == "ModuleDict" else lib.ones(1)

    for lib in (torch, gg):
        holder = getattr(lib.nn, kind)({"a": make(lib), "b": make(lib)})
        with pytest.raises(RuntimeError, match="changed size during iteration"):
            for key in holder:
                holder["x" + key] = make(lib)
        looped = [key for key in getattr(lib.nn, kind)({"a": make(lib)})]
        assert looped == ["a"]


@pytest.mark.parametrize("kind", ["ParameterList", "ParameterDict"])
def test_calling_a_parameter_holder_raises_pytorchs_runtime_error(torch, kind):
    """PyTorch refuses ``ParameterList(...)(x)`` with RuntimeError "ParameterList should not be called."; glassgrad
    raised Module's NotImplementedError of a missing forward."""
    messages = []
    for lib in (torch, gg):
        with pytest.raises(RuntimeError) as caught:
            getattr(lib.nn, kind)()(lib.ones(1))
        messages.append(str(caught.value))
    assert messages[1] == messages[0] == f"{kind} should not be called."
    for lib in (torch, gg):  # a ModuleList / ModuleDict has no forward: NotImplementedError in both
        with pytest.raises(NotImplementedError):
            lib.nn.ModuleDict()(lib.ones(1))


# --- pinning: what already behaved ------------------------------------------------------------------------------


def _ordered(lib):
    return lib.nn.Sequential(OrderedDict([("a", lib.nn.Linear(2, 2)), ("b", lib.nn.ReLU()),
                                          ("c", lib.nn.Linear(2, 3))]))


@pytest.mark.parametrize("edit", ["del 1", "del 0:2", "append", "pop 0", "set 1", "slice 1:", "slice ::2",
                                  "getitem -1"])
def test_names_of_a_sequential_from_an_ordered_dict_after_edits_match_pytorch(torch, edit):
    """A deletion renumbers the layers "0", "1", … (the mapping's names are lost), an append names the new one by
    its position, ``model[i] = layer`` keeps the name, a slice keeps the names: each as PyTorch does."""
    seen = []
    for lib in (torch, gg):
        model = _ordered(lib)
        out = model
        if edit.startswith("del"):
            del model[eval(f"np.s_[{edit[4:]}]")]
        elif edit == "append":
            model.append(lib.nn.Tanh())
        elif edit == "pop 0":
            out = model.pop(0)
        elif edit == "set 1":
            model[1] = lib.nn.Tanh()
        elif edit.startswith("slice"):
            out = model[eval(f"np.s_[{edit[6:]}]")]
        else:
            out = model[-1]
        seen.append(([name for name, _ in model.named_children()], list(model.state_dict()), type(out).__name__,
                     [name for name, _ in out.named_parameters()]))
    assert seen[1] == seen[0]


def test_slices_and_products_share_the_layers_and_so_the_parameters(torch):
    """``model[1:]``, ``model[0]``, ``model * 2`` and ``a + b`` hold the same layer objects, so a step through one
    trains the other, and a repeated layer's parameters are listed once (its names once, as PyTorch's)."""
    for lib in (torch, gg):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Tanh(), lib.nn.Linear(2, 1))
        tail = model[1:]
        assert tail[-1] is model[2] and tail[-1].weight is model[-1].weight and model[0] is model[-3]
        with lib.no_grad():
            tail[-1].weight.add_(1.0)
        assert float(model[2].weight.detach().sum()) == float(tail[-1].weight.detach().sum())
        doubled = model[:1] * 2
        assert [name for name, _ in doubled.named_parameters()] == ["0.weight", "0.bias"]
        assert list(doubled.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
        joined = model[:1] + model[2:]
        assert joined[1] is model[2] and type(joined).__name__ == "Sequential"


def test_a_subclass_slice_is_of_the_subclass_and_runs_its_forward(torch):
    results = []
    for lib in (torch, gg):
        class Doubled(lib.nn.Sequential):
            def forward(self, x):
                return 2 * super().forward(x)

        model = Doubled(lib.nn.Linear(2, 2), lib.nn.ReLU(), lib.nn.Linear(2, 1))
        with lib.no_grad():
            for p in model.parameters():
                p.fill_(0.5)
        part = model[1:]
        results.append((type(part).__name__, [name for name, _ in part.named_children()],
                        float(part(lib.ones(1, 2)).detach().sum())))
    assert results[1] == results[0]


def _nest(lib):
    model = lib.nn.Module()
    model.blocks = lib.nn.ModuleList([lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU()) for _ in range(2)])
    model.heads = lib.nn.ModuleDict({"z": lib.nn.Linear(2, 1), "a": lib.nn.Linear(2, 2)})
    model.scales = lib.nn.ParameterList([lib.ones(2), lib.nn.Parameter(lib.zeros(3))])
    model.extra = lib.nn.ParameterDict({"w": lib.ones(1), "b": lib.zeros(2)})
    return model


def test_nested_container_names_and_a_cross_library_state_dict_round_trip(torch):
    """The state dict keys of nested containers (a plain dict's entries in a ParameterDict sorted, as PyTorch's), and
    a state dict saved by one library loads into the other (strict) with the same values after."""
    ours, theirs = _nest(gg), _nest(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    rng = np.random.default_rng(0)
    drawn = {key: rng.standard_normal(tuple(value.shape)).astype(np.float32)
             for key, value in theirs.state_dict().items()}
    assert str(theirs.load_state_dict({k: torch.tensor(v) for k, v in drawn.items()})) == \
        str(ours.load_state_dict({k: gg.tensor(v) for k, v in drawn.items()}))
    back = _nest(torch)
    back.load_state_dict({key: torch.tensor(np.asarray(value.numpy())) for key, value in ours.state_dict().items()})
    for key, value in back.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), drawn[key])


def test_parameter_holders_turn_tensors_into_parameters_and_convert_with_the_module(torch):
    seen = []
    for lib in (torch, gg):
        model = _nest(lib).double()
        seen.append(([type(p).__name__ for p in model.scales], [p.requires_grad for p in model.scales],
                     [str(p.dtype).split(".")[-1] for p in model.scales],
                     [str(p.dtype).split(".")[-1] for p in model.extra.values()], list(model.extra.keys())))
    assert seen[1] == seen[0]


def test_container_reprs_are_pytorchs_text_beside_glassgrads_counts(torch):
    texts = []
    for lib in (torch, gg):
        model = _nest(lib)
        model.scales.append(None)
        model.empty = lib.nn.ParameterList()
        model.runs = lib.nn.ModuleList([lib.nn.Linear(1, 1) for _ in range(3)] + [lib.nn.Tanh(), lib.nn.Tanh()])
        texts.append(repr(model))
    ours = [line.split("  # ")[0].rstrip() for line in texts[1].split("\n")]
    assert ours[-1].startswith("Total parameters: ")
    assert "\n".join(ours[:-1]) == texts[0]


CONTAINER_MISUSE = {
    "Sequential[-4] of 3": lambda lib: lib.nn.Sequential(*[lib.nn.ReLU()] * 3)[-4],
    "del Sequential[3] of 3": lambda lib: lib.nn.Sequential(*[lib.nn.ReLU()] * 3).__delitem__(3),
    "Sequential[1.0]": lambda lib: lib.nn.Sequential(lib.nn.ReLU(), lib.nn.ReLU())[1.0],
    "Sequential.insert(9)": lambda lib: lib.nn.Sequential(lib.nn.ReLU()).insert(9, lib.nn.ReLU()),
    "Sequential(3)": lambda lib: lib.nn.Sequential(3),
    "Sequential * 2.0": lambda lib: lib.nn.Sequential(lib.nn.ReLU()) * 2.0,
    "Sequential * 0": lambda lib: lib.nn.Sequential(lib.nn.ReLU()) * 0,
    "Sequential.extend(3)": lambda lib: lib.nn.Sequential().extend(3),
    "ModuleList[-2] of 1": lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])[-2],
    "ModuleList['0']": lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])["0"],
    "ModuleList[1] = of 1": lambda lib: lib.nn.ModuleList([lib.nn.ReLU()]).__setitem__(1, lib.nn.ReLU()),
    "ModuleList(3)": lambda lib: lib.nn.ModuleList(3),
    "ModuleList.extend(a tensor)": lambda lib: lib.nn.ModuleList().extend(lib.zeros(2)),
    "ModuleList.append(3)": lambda lib: lib.nn.ModuleList().append(3),
    "ModuleDict({1: layer})": lambda lib: lib.nn.ModuleDict({1: lib.nn.ReLU()}),
    "ModuleDict({'a.b': layer})": lambda lib: lib.nn.ModuleDict({"a.b": lib.nn.ReLU()}),
    "ModuleDict['']": lambda lib: lib.nn.ModuleDict().__setitem__("", lib.nn.ReLU()),
    "ModuleDict['training']": lambda lib: lib.nn.ModuleDict().__setitem__("training", lib.nn.ReLU()),
    "ModuleDict.pop(missing)": lambda lib: lib.nn.ModuleDict().pop("q"),
    "del ModuleDict[missing]": lambda lib: lib.nn.ModuleDict().__delitem__("q"),
    "ModuleDict.update([(k, v, 1)])": lambda lib: lib.nn.ModuleDict().update([("a", lib.nn.ReLU(), 1)]),
    "ModuleDict.update(['ab'])": lambda lib: lib.nn.ModuleDict().update(["ab"]),
    "ModuleDict value 3": lambda lib: lib.nn.ModuleDict().__setitem__("a", 3),
    "ParameterList[2] of 1": lambda lib: lib.nn.ParameterList([lib.ones(1)])[2],
    "ParameterDict[1] =": lambda lib: lib.nn.ParameterDict().__setitem__(1, lib.ones(1)),
    "ParameterDict['a.b'] =": lambda lib: lib.nn.ParameterDict().__setitem__("a.b", lib.ones(1)),
}


def _refusal(call, lib):
    try:
        call(lib)
    except Exception as error:  # noqa: BLE001 - the class is compared
        return error
    raise AssertionError(f"{lib.__name__} accepted it")


@pytest.mark.parametrize("call", list(CONTAINER_MISUSE.values()), ids=list(CONTAINER_MISUSE))
def test_container_misuse_is_refused_with_pytorchs_exception_class_in_one_line(torch, call):
    theirs, ours = _refusal(call, torch), _refusal(call, gg)
    assert isinstance(ours, type(theirs)), (ours, theirs)
    assert "\n" not in str(ours)


def test_module_dict_keeps_insertion_order_through_updates_and_replacements(torch):
    seen = []
    for lib in (torch, gg):
        heads = lib.nn.ModuleDict({"b": lib.nn.Linear(1, 1), "a": lib.nn.ReLU()})
        heads.update([("z", lib.nn.Tanh()), ("b", lib.nn.Sigmoid())])
        heads.update(lib.nn.ModuleDict({"c": lib.nn.ReLU(), "a": lib.nn.Tanh()}))
        heads.update({"y": lib.nn.ReLU(), "d": lib.nn.ReLU()})
        popped = heads.pop("z")
        seen.append((list(heads.keys()), [type(v).__name__ for v in heads.values()], [k for k, _ in heads.items()],
                     type(popped).__name__, ["a" in heads, "z" in heads, 3 in heads], len(heads)))
    assert seen[1] == seen[0]
