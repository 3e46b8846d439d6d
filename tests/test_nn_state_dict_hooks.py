"""Module state-dict hooks (register_state_dict_pre_hook / _post_hook, register_load_state_dict_pre_hook /
_post_hook and PyTorch's underscore spellings): called for every module with its prefix and PyTorch's
arguments, their return values honoured, removed by their handles. The oracle is PyTorch 2.13: the same
model and hooks in both, and the hooks' records compared."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

LAYOUTS = st.recursive(st.just("linear"), lambda inner: st.lists(inner, min_size=1, max_size=3), max_leaves=5)
"""A model's layout: "linear" is a Linear(2, 2), a list a Sequential of its items."""


def build(library, layout):
    if layout == "linear":
        return library.nn.Linear(2, 2)
    return library.nn.Sequential(*(build(library, item) for item in layout))


def weights(layout):
    """The same numbers for both libraries' models of ``layout``, by state-dict name."""
    model = build(gg, layout)
    return {name: np.arange(value.numel(), dtype=np.float64).reshape(tuple(value.shape)) / 7 + len(name)
            for name, value in model.state_dict().items()}


def model_pair(torch, layout):
    models = []
    for library in (gg, torch):
        model = build(library, layout).double()
        model.load_state_dict({name: library.tensor(value) for name, value in weights(layout).items()})
        models.append(model)
    return models


def hook_everywhere(model, register, hook):
    return [getattr(module, register)(hook) for module in model.modules()]


def plain(value):
    """A hook's argument as something both libraries' records can be compared by."""
    if hasattr(value, "missing_keys"):
        return ("keys", list(value.missing_keys), list(value.unexpected_keys))
    if isinstance(value, dict):
        return sorted(value) if not value or not isinstance(next(iter(value.values())), dict) else dict(value)
    if hasattr(value, "forward"):
        return type(value).__name__
    return list(value) if isinstance(value, list) else value  # a list as it is now: the hooks' lists grow


@given(layout=LAYOUTS)
def test_state_dict_hooks_see_each_module_with_its_prefix_as_in_torch(torch, layout):
    records = []
    for model in model_pair(torch, layout):
        record = []
        handles = hook_everywhere(model, "register_state_dict_pre_hook",
                                  lambda *args, record=record: record.append(("pre", *map(plain, args))))
        handles += hook_everywhere(model, "register_state_dict_post_hook",
                                   lambda *args, record=record: record.append(("post", *map(plain, args))))
        keys = list(model.state_dict(keep_vars=True))
        for handle in handles:
            handle.remove()
        model.state_dict()
        records.append((record, keys, dict(model.state_dict()._metadata)))
    assert records[0] == records[1]


@given(layout=LAYOUTS)
def test_load_state_dict_hooks_see_each_module_with_its_prefix_as_in_torch(torch, layout):
    records = []
    for model in model_pair(torch, layout):
        record = []
        state = model.state_dict()
        handles = hook_everywhere(model, "register_load_state_dict_pre_hook",
                                  lambda *args, record=record: record.append(("pre", *map(plain, args))))
        handles += hook_everywhere(model, "_register_load_state_dict_pre_hook",
                                   lambda *args, record=record: record.append(("private pre", *map(plain, args))))
        handles += hook_everywhere(model, "register_load_state_dict_post_hook",
                                   lambda *args, record=record: record.append(("post", *map(plain, args))))
        state.pop(next(iter(state)))  # one key missing
        state["extra"] = state[next(iter(state))]  # one key unexpected
        result = model.load_state_dict(state, strict=False)
        for handle in handles:
            handle.remove()
        model.load_state_dict(state, strict=False)
        before = [entry for entry in record if entry[0] != "post"]
        records.append((before, [entry for entry in record if entry[0] == "post"], plain(result)))
    assert records[0] == records[1]  # (glassgrad runs all post-hooks after all pre-hooks: it checks, then copies)


def test_hooks_change_what_is_saved_and_loaded_as_in_torch(torch):
    """A post-hook that drops a key, a private one whose new dict replaces the outermost call's result (and is
    ignored in a child, as in PyTorch), a load pre-hook that renames old keys (a checkpoint's backward
    compatibility), and a load post-hook that forgives a missing key under strict=True."""
    results = []
    layout = [["linear"], "linear"]
    for model, source in zip(model_pair(torch, layout), model_pair(torch, layout)):
        def drop_bias(module, state, prefix, meta):
            del state[prefix + "bias"]

        model[1].register_state_dict_post_hook(drop_bias)
        model[0]._register_state_dict_hook(lambda module, state, prefix, meta: {"ignored": 1})
        model._register_state_dict_hook(lambda module, state, prefix, meta: {**state, "added": prefix})
        saved = model.state_dict()

        def rename_bias(state, prefix, *rest):  # the older spelling: no module first
            state[prefix + "0.0.bias"] = state.pop(prefix + "old.bias")

        def rename_weight(module, state, prefix, *rest):
            state[prefix + "weight"] = state.pop(prefix + "w")

        model._register_load_state_dict_pre_hook(rename_bias)
        model[0][0].register_load_state_dict_pre_hook(rename_weight)
        model.register_load_state_dict_post_hook(lambda module, keys: keys.missing_keys.remove("1.bias"))
        checkpoint = {"0.0.w": source[0][0].weight.detach() * 5, "old.bias": source[0][0].bias.detach() * 3,
                      "1.weight": source[1].weight.detach() * 2}
        result = model.load_state_dict(checkpoint)
        results.append((list(saved), saved["added"], list(checkpoint), plain(result),
                        [np.asarray(value.tolist()) for value in model.parameters()]))
    mine, theirs = results
    assert mine[:4] == theirs[:4]
    for a, b in zip(mine[4], theirs[4]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("register, hook, call, error", [
    ("register_state_dict_post_hook", lambda module, state, prefix, meta: state, lambda m: m.state_dict(),
     RuntimeError),
    ("register_load_state_dict_post_hook", lambda module, keys: keys, lambda m: m.load_state_dict(m.state_dict()),
     AssertionError),
])
def test_a_public_post_hook_that_returns_a_value_is_refused_as_in_torch(torch, register, hook, call, error):
    for library in (gg, torch):
        model = library.nn.Linear(2, 1)
        getattr(model, register)(hook)
        with pytest.raises(error):
            call(model)


def test_a_strict_load_that_hooks_do_not_forgive_is_refused_after_copying_as_in_torch(torch):
    for library in (gg, torch):
        model = library.nn.Linear(2, 1)
        seen = []
        model.register_load_state_dict_post_hook(lambda module, keys, seen=seen: seen.append(list(keys.missing_keys)))
        with pytest.raises(RuntimeError, match="Missing key"):
            model.load_state_dict({"weight": library.ones(1, 2)})
        assert seen == [["bias"]] and model.weight.tolist() == [[1.0, 1.0]]


def test_without_post_hooks_a_refused_load_changes_nothing():
    model = gg.nn.Linear(2, 1)
    before = model.weight.tolist()
    with pytest.raises(RuntimeError, match="nothing was loaded"):
        model.load_state_dict({"weight": gg.ones(1, 2)})
    assert model.weight.tolist() == before


def test_the_callers_dict_is_not_changed_by_load_pre_hooks(torch):
    for library in (gg, torch):
        model = library.nn.Linear(2, 1)
        model.register_load_state_dict_pre_hook(lambda module, state, prefix, *rest: state.pop("bias"))
        state = model.state_dict()
        model.load_state_dict(state, strict=False)
        assert list(state) == ["weight", "bias"]


def test_a_layer_that_overrides_load_from_state_dict_reads_its_old_layout_as_in_torch(torch):
    """PyTorch's way for a layer to read checkpoints of an older version of itself: override
    ``_load_from_state_dict``, rename the old keys, call super(). glassgrad ignored the override."""
    loaded = []
    for library in (gg, torch):
        class Scaled(library.nn.Linear):
            def _load_from_state_dict(self, state, prefix, metadata, strict, missing, unexpected, errors):
                if prefix + "w" in state:  # version 1 called the weight "w" and stored half of it
                    state[prefix + "weight"] = state.pop(prefix + "w") * 2
                super()._load_from_state_dict(state, prefix, metadata, strict, missing, unexpected, errors)

        model = library.nn.Sequential(Scaled(2, 1)).double()
        old = {"0.w": library.tensor([[1.0, 2.0]], dtype=library.float64),
               "0.bias": library.tensor([3.0], dtype=library.float64)}
        model.load_state_dict(old)
        loaded.append((list(old), model[0].weight.tolist(), model[0].bias.tolist()))
    assert loaded[0] == loaded[1]


@pytest.mark.parametrize("assign", [False, True])
def test_an_override_reads_and_adjusts_the_values_its_super_call_loaded_as_in_torch(torch, assign):
    """After super()._load_from_state_dict the values are in, in PyTorch: an override that works out a scale from
    the loaded weight read the old one here, and one that halves an old checkpoint's weight was undone."""
    loaded = []
    for library in (gg, torch):
        class Legacy(library.nn.Linear):
            def _load_from_state_dict(self, state, prefix, *rest):
                super()._load_from_state_dict(state, prefix, *rest)
                self.scale = float(self.weight.detach().abs().max())
                self.weight.detach().mul_(0.5)  # the old layout stored 2·W

        model = library.nn.Sequential(library.nn.Linear(2, 2), Legacy(2, 2)).double()
        state = {key: library.full(tuple(value.shape), 4.0, dtype=library.float64)
                 for key, value in model.state_dict().items()}
        model.load_state_dict(state, assign=assign)
        loaded.append((model[1].scale, model[1].weight.tolist(), model[0].weight.tolist()))
    assert loaded[0] == loaded[1] == (4.0, [[2.0, 2.0], [2.0, 2.0]], [[4.0, 4.0], [4.0, 4.0]])


def test_a_layer_that_overrides_save_to_state_dict_saves_its_own_entries_as_in_torch(torch):
    saved = []
    for library in (gg, torch):
        class WithNorm(library.nn.Linear):
            def _save_to_state_dict(self, destination, prefix, keep_vars):
                super()._save_to_state_dict(destination, prefix, keep_vars)
                destination[prefix + "weight_norm"] = self.weight.detach().norm()

        model = library.nn.Sequential(library.nn.Tanh(), WithNorm(2, 2))
        with library.no_grad():
            model[1].weight.copy_(library.tensor([[3.0, 4.0], [0.0, 0.0]]))
        state = model.state_dict()
        saved.append((list(state), state["1.weight_norm"].item()))
    assert saved[0] == saved[1]
