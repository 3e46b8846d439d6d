"""PyTorch's ``torch.nn.modules.utils`` and ``torch.nn.common_types`` (glassgrad.nn.module_utils, .common_types):
what a layer of one's own imports from there, against PyTorch 2.13. ``import torch.nn.modules.utils`` under
glassgrad.torch_names raised "glassgrad has no counterpart"."""

from __future__ import annotations

import subprocess
import sys
from collections import OrderedDict

import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.nn import common_types, module_utils

SIZES = st.one_of(st.integers(-3, 9), st.floats(0.5, 3.0), st.text("ab", max_size=4),
                  st.lists(st.integers(0, 9), max_size=5), st.tuples(st.integers(0, 9), st.integers(0, 9)),
                  st.none())


@pytest.mark.torch
@pytest.mark.parametrize("name", ["_single", "_pair", "_triple", "_quadruple"])
@given(value=SIZES)
def test_the_size_tuples_are_pytorchs(torch, name, value):
    """An int is repeated, an iterable (a string too) is taken item by item, as PyTorch's helpers do."""
    from torch.nn.modules import utils

    ours, theirs = getattr(module_utils, name), getattr(utils, name)
    assert ours(value) == theirs(value)
    assert ours.__name__ == theirs.__name__ == name


@pytest.mark.torch
@given(padding=st.lists(st.integers(0, 5), max_size=4), n=st.integers(0, 3))
def test_reversed_repeated_padding_is_pytorchs(torch, padding, n):
    from torch.nn.modules import utils

    assert module_utils._reverse_repeat_tuple(tuple(padding), n) == utils._reverse_repeat_tuple(tuple(padding), n)


@pytest.mark.torch
@given(out_size=st.one_of(st.integers(1, 5), st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=1,
                                                      max_size=3)),
       defaults=st.lists(st.integers(1, 9), max_size=5))
def test_an_output_size_with_defaults_is_pytorchs(torch, out_size, defaults):
    from torch.nn.modules import utils

    def outcome(function):
        try:
            return function(out_size, defaults)
        except ValueError as error:
            return str(error)

    assert outcome(module_utils._list_with_default) == outcome(utils._list_with_default)


def _named(library, names):
    """A state dict holding ``names`` (each a one-number tensor) with a ``_metadata`` naming their modules."""
    state = OrderedDict((name, library.zeros(1)) for name in names)
    state._metadata = OrderedDict(("" if "." not in name else name.rsplit(".", 1)[0], {"version": 1})
                                  for name in ["", *names])
    return state


@pytest.mark.torch
@given(names=st.lists(st.sampled_from(["module.fc.weight", "module.fc.bias", "fc.weight", "module.bn.running_mean",
                                       "_orig_mod.out.weight", "modules.x.y", "module"]), unique=True),
       prefix=st.sampled_from(["module.", "_orig_mod.", "fc.", "module"]))
def test_consuming_a_prefix_renames_as_pytorch_does(torch, names, prefix):
    """The names (in order) and the metadata's module names after stripping, as PyTorch's leaves them."""
    from torch.nn.modules import utils

    ours, theirs = _named(gg, names), _named(torch, names)
    module_utils.consume_prefix_in_state_dict_if_present(ours, prefix)
    utils.consume_prefix_in_state_dict_if_present(theirs, prefix)
    assert list(ours) == list(theirs)
    assert list(ours._metadata) == list(theirs._metadata)


def test_a_compiled_models_checkpoint_loads_into_the_bare_model_once_its_prefix_is_gone():
    """By hand: ``gg.compile(model).state_dict()`` says ``_orig_mod.0.weight`` (as PyTorch's); stripped, it loads
    into a model built alike, which then computes what the compiled one does."""
    model = gg.nn.Sequential(gg.nn.Linear(3, 2), gg.nn.Tanh())
    checkpoint = gg.compile(model).state_dict()
    assert list(checkpoint) == ["_orig_mod.0.weight", "_orig_mod.0.bias"]
    module_utils.consume_prefix_in_state_dict_if_present(checkpoint, "_orig_mod.")
    fresh = gg.nn.Sequential(gg.nn.Linear(3, 2), gg.nn.Tanh())
    fresh.load_state_dict(checkpoint)
    x = gg.ones(4, 3)
    assert gg.equal(fresh(x), model(x))


@pytest.mark.torch
def test_the_type_aliases_are_pytorchs(torch):
    """The same names, each the same shape of Union (with glassgrad's Tensor where PyTorch's has its own)."""
    from torch.nn import common_types as theirs

    names = sorted(name for name in vars(theirs) if name.startswith("_") and name.endswith("_t"))
    assert names == sorted(name for name in vars(common_types) if name.startswith("_") and name.endswith("_t"))
    for name in names:
        assert repr(getattr(common_types, name)).replace("glassgrad.tensor.Tensor", "torch.Tensor") == \
            repr(getattr(theirs, name)), name


def test_pytorchs_module_names_import():
    """``from torch.nn.modules.utils import _pair`` and ``from torch.nn.common_types import _size_2_t`` under
    glassgrad.torch_names (a fresh process: the import system's state)."""
    done = subprocess.run([sys.executable, "-c", "from glassgrad import torch_names; torch_names.install()\n"
                           "from torch.nn.modules.utils import _pair, consume_prefix_in_state_dict_if_present\n"
                           "from torch.nn.common_types import _size_2_t\nprint(_pair(3))"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(3, 3)"


def test_importing_the_layer_utilities_leaves_nn_utils_alone():
    """A custom conv layer's ``from torch.nn.modules.utils import _pair`` replaced ``torch.nn.utils`` (glassgrad.nn,
    standing for both torch.nn and torch.nn.modules, took the submodule as its ``utils``), so the training loop's
    ``torch.nn.utils.clip_grad_norm_`` then raised AttributeError. ``torch.nn.modules`` is now a module of its own
    reading glassgrad.nn's names; and ``from torch.autograd import forward_ad`` works, as in PyTorch."""
    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch\nfrom torch.nn.modules.utils import _pair\nimport torch.nn.modules.utils\n"
               "from torch.nn.modules import Linear\nfrom torch.autograd import forward_ad\n"
               "layer = Linear(2, 1)\nlayer(torch.ones(1, 2)).sum().backward()\n"
               "print(_pair(2), float(torch.nn.utils.clip_grad_norm_(layer.parameters(), 1.0)) > 0,\n"
               "      torch.nn.modules.Linear is torch.nn.Linear,\n"
               "      forward_ad.dual_level is torch.autograd.forward_ad.dual_level)")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(2, 2) True True True"
