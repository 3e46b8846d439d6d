"""The warnings PyTorch 2.13 gives learners for their common mistakes, against glassgrad's: the same class, as often
(every call, or once in a process), and shown at the learner's own line, so that Python's default filter (once per
line of code) shows them as often as PyTorch's. A DataLoader asking for more workers than cores warns as PyTorch's:
when it is made and at each epoch's start (a ``persistent_workers`` one: at the first only). ``set_default_tensor_type``
and ``storage()`` warn once in a process, as PyTorch's."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.data.loader as loader_module

# mistake → what it runs, written for either library as `lib` (torch or glassgrad), F its functional and nn its nn
EVERY_CALL = {
    "F.softmax without dim": "F.softmax(lib.ones(2, 3))",
    "F.log_softmax without dim": "F.log_softmax(lib.ones(2, 3, 4))",
    "F.softmin without dim": "F.softmin(lib.ones(3))",
    "nn.Softmax() without dim": "nn.Softmax()(lib.ones(2, 3))",
    "nn.LogSoftmax() without dim": "nn.LogSoftmax()(lib.ones(2, 3))",
    "nn.Softmin() without dim": "nn.Softmin()(lib.ones(2, 3))",
    "range": "lib.range(0, 3)",
    "std of one value": "lib.ones(1).std()",
    "var over a dim of one": "lib.ones(1, 3).var(0)",
    "MSELoss(size_average=False)": "nn.MSELoss(size_average=False)",
    "CrossEntropyLoss(reduce=False)": "nn.CrossEntropyLoss(reduce=False)",
    "NLLLoss(size_average=True)": "nn.NLLLoss(size_average=True)",
    "BCELoss(reduce=False)": "nn.BCELoss(reduce=False)",
    "F.cross_entropy(reduce=False)": "F.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1]), reduce=False)",
    "GRU(dropout=0.5, num_layers=1)": "nn.GRU(3, 4, num_layers=1, dropout=0.5)",
    "F.upsample": "F.upsample(lib.zeros(1, 1, 2, 2), scale_factor=2)",
    "nn.init.normal": "nn.init.normal(lib.zeros(2, 2))",
    "clip_grad_norm": "nn.utils.clip_grad_norm([lib.ones(2, requires_grad=True)], 1.0)",
    "lib.tensor(a tensor)": "lib.tensor(lib.ones(2))",
}


def _namespace(lib) -> dict:
    return {"lib": lib, "F": lib.nn.functional, "nn": lib.nn}


def _caught(code: str, lib, calls: int = 2, action: str = "always") -> list[list[warnings.WarningMessage]]:
    """The warnings of each of ``calls`` runs of ``code`` (compiled as a line of this file) under ``action``."""
    compiled = compile(code, __file__, "exec")
    runs = []
    for _ in range(calls):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            exec(compiled, _namespace(lib))  # noqa: S102 - the table's own code
        runs.append(caught)
    return runs


@pytest.mark.parametrize("mistake", EVERY_CALL)
def test_each_mistake_warns_with_pytorchs_class_at_every_call_on_the_learners_line(torch, mistake):
    code = EVERY_CALL[mistake]
    theirs, ours = _caught(code, torch), _caught(code, gg)
    assert [[w.category for w in run] for run in ours] == [[w.category for w in run] for run in theirs]
    assert all(len(run) == 1 for run in ours)
    for run in ours:
        assert run[0].filename == __file__, f"{mistake} is shown at {run[0].filename}:{run[0].lineno}"
        assert "\n" not in str(run[0].message)


@pytest.mark.parametrize("call", ["F.softmax(x)", "lib.range(0, 3)", "lib.ones(1).std()"])
def test_the_default_filter_shows_it_once_per_line_of_the_learners_code_as_pytorchs(torch, call):
    """Python's default filter shows a warning once per line it is attributed to: twice for the same call written on
    two lines, once for one line run twice, for PyTorch and for glassgrad."""
    for lib in (torch, gg):
        x = lib.ones(2, 3)
        namespace = {**_namespace(lib), "x": x}
        two_lines = compile(f"{call}\n{call}\nfor _ in range(2):\n    {call}\n", __file__, "exec")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            exec(two_lines, namespace)  # noqa: S102 - the test's own code
        assert [w.lineno for w in caught] == [1, 2, 4], lib.__name__


def _dataloader_warnings(lib, num_workers: int, cores: int, monkeypatch) -> int:
    """How many warnings making a DataLoader with ``num_workers`` gives where ``cores`` cores are usable."""
    if lib is gg:
        monkeypatch.setattr(loader_module, "usable_cores", lambda: cores, raising=False)
    else:
        monkeypatch.setattr(lib._utils, "cpu_count", lambda: cores)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.zeros(4)), num_workers=num_workers)
    assert all(w.category is UserWarning for w in caught)
    return len(caught)


@settings(max_examples=25, deadline=None)
@given(cores=st.integers(1, 8), extra=st.integers(-8, 8))
def test_a_dataloader_with_more_workers_than_cores_warns_when_made_as_pytorchs(torch, cores, extra):
    num_workers = max(cores + extra, 0)
    with pytest.MonkeyPatch.context() as monkeypatch:
        theirs = _dataloader_warnings(torch, num_workers, cores, monkeypatch)
        ours = _dataloader_warnings(gg, num_workers, cores, monkeypatch)
    assert ours == theirs == (num_workers > cores)


@pytest.mark.parametrize("persistent, expected", [(False, [1, 1, 1, 1]), (True, [1, 1, 0, 0])])
def test_the_too_many_workers_warning_comes_at_each_epoch_start_or_the_first_for_persistent_workers(
        monkeypatch, persistent, expected):
    """PyTorch 2.13 warns when the loader is made and each time it starts workers: every epoch, or only the first
    with ``persistent_workers`` (counted with its ``cpu_count`` patched to 1 and 2 workers: 1 + 3 and 1 + 1 warnings
    over 3 epochs). glassgrad's warning names the fix, in one line, at the learner's line."""
    monkeypatch.setattr(loader_module, "usable_cores", lambda: 1, raising=False)
    counts = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loader = gg.utils.data.DataLoader(gg.utils.data.TensorDataset(gg.zeros(4)), batch_size=2, num_workers=2,
                                          persistent_workers=persistent)
        counts.append(len(caught))
        for _ in range(3):
            before = len(caught)
            assert len(list(loader)) == 2
            counts.append(len(caught) - before)
    assert counts == expected
    message = str(caught[0].message)
    assert caught[0].filename == __file__ and "\n" not in message and "num_workers to at most 1" in message


def test_no_warning_for_workers_within_the_cores(monkeypatch):
    monkeypatch.setattr(loader_module, "usable_cores", lambda: 4, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for epoch in gg.utils.data.DataLoader(gg.utils.data.TensorDataset(gg.zeros(4)), num_workers=4):
            assert epoch[0].shape == (1,)


ONCE_PER_PROCESS = {
    "x.T on a 3-d tensor": "lib.zeros(2, 3, 4).T",
    "x.T on a 1-d tensor": "lib.zeros(3).T",
    "float() of a tensor that requires grad": "float(lib.ones(1, requires_grad=True))",
    "meshgrid without indexing": "lib.meshgrid(lib.zeros(2), lib.zeros(3))",
    "cross without dim": "lib.cross(lib.ones(3, 3), lib.ones(3, 3))",
    "set_default_tensor_type": "lib.set_default_tensor_type(lib.FloatTensor)",
    "storage() (a TypedStorage)": "lib.ones(2).storage()",
}


def test_the_once_per_process_warnings_show_once_in_a_fresh_process_as_pytorchs():
    """Counted in a fresh process (this one may have shown them already), three calls each under ``"always"``, in
    the table's order."""
    script = textwrap.dedent(f"""
        import warnings, torch, glassgrad
        for lib in (torch, glassgrad):
            for code in {list(ONCE_PER_PROCESS.values())!r}:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    for _ in range(3):
                        exec(code, {{"lib": lib}})
                print(lib.__name__, [w.category.__name__ for w in caught])
    """)
    pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    lines = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           timeout=120).stdout.splitlines()
    theirs = [line.split(" ", 1)[1] for line in lines if line.startswith("torch ")]
    ours = [line.split(" ", 1)[1] for line in lines if line.startswith("glassgrad ")]
    shown = ["['UserWarning']"] * len(ONCE_PER_PROCESS)
    shown[1] = "[]"  # x.T's warning is one, whatever the dims: the 3-d tensor's has shown it
    assert ours == theirs == shown
