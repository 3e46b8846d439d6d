"""Each warning a learner's code can trigger is shown at the learner's own line, whatever path reaches it: through a
layer class (``nn.KLDivLoss()`` calling ``F.kl_div``), a wrapper (``ChainedScheduler``, ``gg.cuda.amp.GradScaler``,
``gg.autograd.profiler.profile``, ``fit``, ``gg.add``) or a learner's subclass. A fixed ``stacklevel`` pointed these
at glassgrad's own files (or past the learner's line), so Python's default filter showed them once per process
instead of once per line of the learner's code, at a "file:line" that told the learner nothing. PyTorch 2.13 gives
the same classes (checked where it warns too)."""

from __future__ import annotations

import warnings

import pytest

import glassgrad as gg
from glassgrad.training import Callback, fit

CHAINED = ("o = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.1)\n"
           "a, b = lib.optim.lr_scheduler.StepLR(o, 1), lib.optim.lr_scheduler.ExponentialLR(o, 0.9)\n"
           "s = lib.optim.lr_scheduler.ChainedScheduler([a, b])\n"
           "s.step()")
META = "m = nn.Linear(2, 2).to('meta')\nm.load_state_dict(nn.Linear(2, 2).state_dict())"
SUBCLASS = ("class Mine(nn.Dropout2d):\n"
            "    def forward(self, x):\n"
            "        return super().forward(x)\n"
            "Mine()(lib.ones(2, 2, 2))")
NUMBER_FIRST = ("lib.set_warn_always(True)  # once per process otherwise, as PyTorch's (round 139)\n"
                "try:\n"
                "    lib.add(lib.ones(2), 2, lib.ones(2))\n"
                "finally:\n"
                "    lib.set_warn_always(False)")
FIT = ("class Watch(Callback):\n"
       "    def on_after_backward(self, state):\n"
       "        pass\n"
       "m = nn.Linear(2, 1)\n"
       "fit(m, nn.MSELoss(), lib.optim.SGD(m.parameters(), lr=0.1), [(lib.ones(1, 2), lib.ones(1, 1))], "
       "callbacks=[Watch()], compile=True, progress=False)")

U, F = UserWarning, FutureWarning
# site → (code written for `lib`, glassgrad's warning classes, whether PyTorch 2.13 gives the same classes)
SITES = {
    "nn.KLDivLoss() with reduction='mean'": ("nn.KLDivLoss()(lib.zeros(2), lib.ones(2))", [U], True),
    "nn.BCELoss(reduction='elementwise_mean')":
        ("nn.BCELoss(reduction='elementwise_mean')(lib.ones(2) / 2, lib.ones(2))", [U], True),
    "nn.NLLLoss(reduction='elementwise_mean')":
        ("nn.NLLLoss(reduction='elementwise_mean')(lib.zeros(2, 3), lib.tensor([0, 1]))", [U], True),
    "nn.CrossEntropyLoss(label_smoothing=-0.1)":
        ("nn.CrossEntropyLoss(label_smoothing=-0.1)(lib.zeros(2, 3), lib.tensor([0, 1]))", [U], False),
    "nn.Dropout2d on a 5-D input": ("nn.Dropout2d()(lib.ones(2, 2, 2, 2, 2))", [U], True),
    "nn.Dropout2d on a 3-D input": ("nn.Dropout2d()(lib.ones(2, 2, 2))", [U], True),
    "nn.Dropout3d on a 3-D input": ("nn.Dropout3d()(lib.ones(2, 2, 2))", [U], True),
    "a subclass of nn.Dropout2d": (SUBCLASS, [U], True),
    "ChainedScheduler.step() before optimizer.step()": (CHAINED, [U, U], True),
    "nn.Transformer(norm_first=True)": ("nn.Transformer(d_model=4, nhead=1, dim_feedforward=8, norm_first=True)",
                                        [U], True),
    "lib.add(x, number, y)": (NUMBER_FIRST, [U], False),
    "cuda.amp.GradScaler()": ("lib.cuda.amp.GradScaler()", [F, U], True),
    "autograd.profiler.profile(use_cuda=True)": ("lib.autograd.profiler.profile(use_cuda=True)", [F, U], True),
    "load_state_dict into a model on 'meta'": (META, [U, U], True),
    "Adagrad with a group's own initial_accumulator_value":
        ("lib.optim.Adagrad([{'params': [lib.ones(2, requires_grad=True)], 'initial_accumulator_value': 1.0}])",
         [U], False),
    "fit(compile=True) with on_after_backward": (FIT, [U], False),
    "state_dict(None) by position": ("nn.Linear(2, 2).state_dict(None)", [F], True),
}


def _caught(code: str, lib) -> list[warnings.WarningMessage]:
    """The warnings of ``code`` (compiled as a line of this file) under ``"always"``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, __file__, "exec"),  # noqa: S102 - the table's own code
             {"lib": lib, "nn": lib.nn, "F": lib.nn.functional, "Callback": Callback, "fit": fit})
    return caught


@pytest.mark.parametrize("site", SITES)
def test_the_warning_is_shown_at_the_learners_line_with_its_class(site):
    code, classes, _ = SITES[site]
    caught = _caught(code, gg)
    assert [w.category for w in caught] == classes
    for each in caught:  # on the table's code (lines 1 to n), not on a frame above it such as _caught's
        assert each.filename == __file__ and each.lineno <= code.count("\n") + 1, \
            f"{site} is shown at {each.filename}:{each.lineno}"


@pytest.mark.parametrize("site", [site for site, (_, _, same) in SITES.items() if same])
def test_pytorch_gives_the_same_classes(torch, site):
    code, classes, _ = SITES[site]
    assert [w.category for w in _caught(code, torch)] == classes


@pytest.mark.parametrize("site", ["nn.KLDivLoss() with reduction='mean'", "nn.Dropout2d on a 3-D input"])
def test_the_default_filter_shows_it_once_per_line_of_the_learners_code(site):
    """Python's default filter keys on the line a warning is attributed to: the same call on two lines shows twice,
    one line run twice shows once."""
    call = SITES[site][0]
    code = f"{call}\n{call}\nfor _ in range(2):\n    {call}\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        exec(compile(code, __file__, "exec"), {"lib": gg, "nn": gg.nn})  # noqa: S102 - the test's own code
    assert [w.lineno for w in caught] == [1, 2, 4]


@pytest.mark.parametrize("args", [(None,), ({},), ({}, "p."), (None, "p.", True)])
def test_state_dict_by_position_gives_pytorchs_keys(torch, args):
    """``state_dict(destination, prefix, keep_vars)`` by position (deprecated, with a FutureWarning): one or two of
    them given left the others as the wrong defaults (prefix None: a TypeError inside), PyTorch fills them in."""
    keys = []
    for lib in (torch, gg):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            state = model.state_dict(*(dict(each) if isinstance(each, dict) else each for each in args))
        keys.append([(key, isinstance(value, lib.nn.Parameter)) for key, value in state.items()])
    assert keys[1] == keys[0]


def test_no_warning_where_nothing_is_wrong():
    """The same paths used rightly warn nothing (the stack is walked only when a warning is shown)."""
    optimizer = gg.optim.SGD([gg.ones(2, requires_grad=True)], lr=0.1)
    chained = gg.optim.lr_scheduler.ChainedScheduler([gg.optim.lr_scheduler.StepLR(optimizer, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gg.nn.KLDivLoss(reduction="batchmean")(gg.zeros(2), gg.ones(2))
        gg.nn.BCELoss(reduction="mean")(gg.ones(2) / 2, gg.ones(2))
        gg.nn.CrossEntropyLoss(label_smoothing=0.1)(gg.zeros(2, 3), gg.tensor([0, 1]))
        gg.nn.Dropout2d()(gg.ones(2, 2, 2, 2))
        gg.nn.Dropout3d()(gg.ones(2, 2, 2, 2, 2))
        optimizer.step()
        chained.step()
        gg.nn.Transformer(d_model=4, nhead=2, dim_feedforward=8, batch_first=True)
        gg.add(gg.ones(2), gg.ones(2), alpha=2)
        gg.amp.GradScaler("cpu")
        gg.optim.Adagrad([{"params": [gg.ones(2, requires_grad=True)]}])
        gg.nn.Linear(2, 2).state_dict(prefix="p.")
