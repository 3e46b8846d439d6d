"""Every function of a tensor in glassgrad inside a compiled step: bit for bit eager's, on later calls too.

A capture keeps, as a constant of the program, an array it meets that the step made some other way than through a
kernel it records, when its two calls saw the same numbers. An op that works a result out in Python from the
tensors' values (a sort's order, a median's pick, a mask) would then be stale on a later call with other values.
So each function is applied to ``x * w`` (alone, with a second tensor, or with the number 1 after it) in a step fed
one batch twice (the captures agree), then others; the
compiled step must give eager's loss and gradient at every call: by replaying a kernel that works the value out
again, or by running eagerly (after saying why).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

SKIPPED = {"backward", "register_hook", "retain_grad", "register_post_accumulate_grad_hook", "numpy", "tolist", "item",
           "cpu", "cuda", "share_memory_", "pin_memory", "storage", "untyped_storage", "data_ptr", "dim_order",
           "element_size", "type", "to", "new_empty", "apply_", "map_", "set_", "resize_"}
"""Methods that are no op on values (hooks, conversions out of glassgrad, memory)."""

PLACES = {"Tensor": gg.Tensor, "gg": gg, "F": gg.nn.functional, "linalg": gg.linalg, "special": gg.special}


SECOND = {"alone": lambda h: (), "tensor": lambda h: (h.flip(0) * 0.5 + 0.1,), "number 1": lambda h: (1,)}
"""What the function is given after the tensor: nothing, a second tensor worked out from it, the number 1 (a dim)."""


def _functions(place: str, second: str) -> list:
    owner = PLACES[place]
    names = sorted(name for name in dir(owner) if not name.startswith("_") and not name.endswith("_")
                   and name not in SKIPPED and callable(getattr(owner, name)) and not isinstance(getattr(owner, name),
                                                                                                  type))
    more = SECOND[second]
    if place == "Tensor":
        return [(name, lambda h, name=name: getattr(h, name)(*more(h))) for name in names]
    return [(name, lambda h, function=getattr(owner, name): function(h, *more(h))) for name in names]


def _run(function, compiled: bool, batches: list) -> tuple:
    """The loss and ∂loss/∂w at each call (None: the function takes more than a tensor, or gives no tensor)."""
    gg.manual_seed(0)  # random ops draw the same numbers in both runs
    w = gg.tensor(np.linspace(-1, 1, 5, dtype=np.float32), requires_grad=True)

    def step(x):
        h = x * w
        out = function(h)
        out = out[0] if isinstance(out, tuple) else out
        if not isinstance(out, gg.Tensor):
            return None
        loss = (h * out.double().float().sum()).sum()  # the value, worked out from x, scales every gradient
        loss.backward()
        gradient = w.grad.clone()
        w.grad = None
        return loss, gradient

    step = gg.compile(step) if compiled else step
    results = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for batch in batches:
            try:
                found = step(gg.tensor(batch))
            except Exception as error:  # noqa: BLE001 (a function this harness cannot call: left out)
                return ("raised", type(error).__name__)
            if found is None:
                return None
            results.append([t.array.copy() for t in found])
    return tuple(results)


LEAST_CHECKED = {("Tensor", "alone"): 120, ("gg", "alone"): 150, ("F", "alone"): 30, ("linalg", "alone"): 15,
                 ("special", "alone"): 30, ("Tensor", "tensor"): 60, ("gg", "tensor"): 70, ("F", "tensor"): 12,
                 ("linalg", "tensor"): 4, ("special", "tensor"): 2, ("Tensor", "number 1"): 110,
                 ("gg", "number 1"): 140, ("F", "number 1"): 30, ("linalg", "number 1"): 8, ("special", "number 1"): 15}
"""How many functions each sweep must reach at least (the others take other arguments: left out)."""


@pytest.mark.parametrize("place, second", sorted(LEAST_CHECKED))
def test_every_function_of_a_tensor_in_a_compiled_step_gives_eagers_numbers_on_later_calls(place, second):
    rng = np.random.default_rng(0)
    first, *later = [rng.standard_normal((5, 5)).astype(np.float32) for _ in range(3)]
    batches = [first, first, *later]  # the captures see one batch twice
    checked, different = 0, []
    for name, function in _functions(place, second):
        eager = _run(function, False, batches)
        if eager is None or eager[0] == "raised":
            continue
        checked += 1
        compiled = _run(function, True, batches)
        if compiled is None or compiled[0] == "raised" or not all(
                np.array_equal(a, b, equal_nan=True) for one, two in zip(eager, compiled) for a, b in zip(one, two)):
            different.append(name)
    assert checked >= LEAST_CHECKED[place, second]
    assert different == []
