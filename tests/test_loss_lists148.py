"""A Python list or tuple given to a loss for a tensor is refused with PyTorch 2.13's class, in one line: TypeError
from its C++ losses ("must be Tensor, not list"), AttributeError from its Python ones (``.size()`` on the list).
The check lives in the losses' converters' non-tensor path (``_loss_tensor``), so tensors pay nothing for it.
Cases (LOSSES) are those of tests/test_state_dicts146.py, whose wrapper version was reverted."""
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_state_dicts146 import LOSSES

import glassgrad as gg

pytestmark = pytest.mark.torch


def _as(value, kind):
    """``value``'s nested lists as ``kind`` (list or tuple)."""
    return kind(_as(item, kind) for item in value) if isinstance(value, list) else value


def _outcome(library, name, as_given, kind):
    """The class and message ``library``'s loss ``name`` raises with the arguments numbered in ``as_given`` passed
    as Python ``kind``s (list or tuple), the others as tensors; (None, "") where it computes."""
    arguments, indices = LOSSES[name]
    given_ = [_as(value, kind) if number in as_given else
              library.tensor(value, dtype=library.long if number in indices else library.float64)
              for number, value in enumerate(arguments)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(library.nn.functional, name)(*given_)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error), str(error)
    return None, ""


@pytest.mark.parametrize("name", list(LOSSES))
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_a_list_given_to_a_loss_is_refused_with_pytorchs_class(torch, name, data):
    """Found: every loss took a Python list (or tuple) for a tensor (``F.kl_div(x, [[...]])``, ``F.mse_loss([...],
    y)``) and computed with it, where PyTorch raises TypeError (its C++ losses) or AttributeError (its Python ones)."""
    count = len(LOSSES[name][0])
    as_given = data.draw(st.sets(st.integers(0, count - 1), min_size=1), label="as_given")
    kind = data.draw(st.sampled_from([list, tuple]), label="kind")
    (mine, message), (theirs, _) = (_outcome(library, name, as_given, kind) for library in (gg, torch))
    assert theirs is not None and mine is theirs, (mine, theirs, message)
    assert "\n" not in message and f"must be Tensor, not {kind.__name__}" in message and "gg.tensor(" in message, \
        message


@pytest.mark.parametrize("name", list(LOSSES))
def test_a_parameter_still_reads_as_a_tensor(name):
    """Only tensors are taken (a NumPy array is refused since round 154: tests/test_loss_leniencies154.py): a Parameter
    (a Tensor subclass, off the exact-type fast path) gives the value of a plain tensor."""
    arguments, indices = LOSSES[name]
    tensors = [gg.tensor(value, dtype=gg.long if number in indices else gg.float64)
               for number, value in enumerate(arguments)]
    given = [gg.nn.Parameter(t.clone()) if not number else t for number, t in enumerate(tensors)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = float(getattr(gg.nn.functional, name)(*tensors))
        got = float(getattr(gg.nn.functional, name)(*given))
    assert got == expected


def test_triplet_margin_with_distance_loss_refuses_a_list_with_pytorchs_class(torch):
    """It shares triplet_margin_loss's converter, but PyTorch's is Python: AttributeError (``.ndim`` on the list)."""
    rows = [[0.1, 0.2], [0.3, -0.1]]
    for library in (gg, torch):
        with pytest.raises(AttributeError):
            library.nn.functional.triplet_margin_with_distance_loss(rows, library.tensor(rows), library.tensor(rows))
