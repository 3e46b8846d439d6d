"""``torch.profiler`` (glassgrad.profiler): PyTorch's profile, record_function, schedule and table, timing each op of
glassgrad's engine. Under glassgrad.torch_names ``from torch.profiler import profile`` raised "glassgrad has no
counterpart". Times cannot be compared with PyTorch's (other kernels); what can is compared: the table's layout, the
ranges PyTorch's optimizers open, the schedule's actions, how calls are counted, and self time adding up."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import profiler


def profile_a_step(library, prof_module, steps=2, activities=True):
    """Two training steps profiled (``activities=False``: as an older tutorial's ``torch.autograd.profiler.profile``,
    which takes none)."""
    model = library.nn.Sequential(library.nn.Linear(4, 3), library.nn.ReLU(), library.nn.Linear(3, 2))
    optimizer = library.optim.SGD(model.parameters(), lr=0.1)
    options = {"activities": [prof_module.ProfilerActivity.CPU]} if activities else {}
    with prof_module.profile(record_shapes=True, **options) as prof:
        for _ in range(steps):
            with prof_module.record_function("model_inference"):
                loss = model(library.ones(5, 4)).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return prof


def counts(prof) -> dict[str, int]:
    return {row.key: row.count for row in prof.key_averages()}


@pytest.mark.torch
def test_ranges_and_op_counts_are_pytorchs(torch):
    """The block's range, the optimizer's step and zero_grad ranges (named as PyTorch names them) and each layer's
    op (``linear``, ``relu``: PyTorch's ``aten::linear``, ``aten::relu``) are counted once per call, as PyTorch
    counts them."""
    import torch.profiler as pytorchs

    theirs, mine = counts(profile_a_step(torch, pytorchs)), counts(profile_a_step(gg, profiler))
    for name in ("model_inference", "Optimizer.step#SGD.step", "Optimizer.zero_grad#SGD.zero_grad"):
        assert mine[name] == theirs[name] == 2, name
    assert mine["linear"] == theirs["aten::linear"] == 4
    assert mine["relu"] == theirs["aten::relu"] == 2
    assert mine["linear backward"] == 4 and mine["relu backward"] == 2  # one event per backward node


@pytest.mark.torch
@pytest.mark.parametrize("hooked", [False, True])
def test_a_subclass_step_calling_the_parents_is_one_range(torch, hooked):
    """``class MyOpt(SGD): def step(self, closure=None): return super().step(closure)`` recorded two
    ``Optimizer.step#MyOpt.step`` ranges per step (the inner call opened its own unless step hooks were set), so
    its time counted twice; PyTorch records one. Now one, with or without hooks, which run once per step here
    (PyTorch's run once or twice, as its base class's step was wrapped or not by an earlier instance)."""
    seen = {}
    for library, module in ((torch, torch.profiler), (gg, profiler)):
        calls = []
        class MyOpt(library.optim.SGD):
            def step(self, closure=None):
                return super().step(closure)

        model = library.nn.Linear(2, 1)
        optimizer = MyOpt(model.parameters(), lr=0.1)
        if hooked:
            optimizer.register_step_pre_hook(lambda opt, args, kwargs, calls=calls: calls.append("pre"))
        with module.profile(activities=[module.ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                model(library.ones(1, 2)).sum().backward()
                optimizer.step()
        seen[library.__name__] = counts(prof)["Optimizer.step#MyOpt.step"]
    assert seen["glassgrad"] == seen["torch"] == 3
    assert calls == (["pre"] * 3 if hooked else [])  # glassgrad's, the last run


@pytest.mark.torch
def test_the_table_is_laid_out_as_pytorchs(torch):
    """The same rules, titles and footer; right-aligned columns of 12, a name column 4 wider than the longest name."""
    import torch.profiler as pytorchs

    def layout(prof):
        lines = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3).splitlines()
        return lines[0] == lines[2] == lines[-2], lines[1].split(), lines[-1].split(":")[0], \
            [len(cell) for cell in lines[0].split("  ")[1:]]

    theirs, mine = layout(profile_a_step(torch, pytorchs)), layout(profile_a_step(gg, profiler))
    assert mine[:3] == theirs[:3]
    assert mine[3] == theirs[3]
    prof = profile_a_step(gg, profiler)
    name_rule = prof.key_averages().table().splitlines()[0].split("  ")[0]
    assert len(name_rule) == len("Optimizer.zero_grad#SGD.zero_grad") + 4  # the longest name, plus 4


def test_self_times_add_up_to_the_ranges():
    """By arithmetic: a range's self time is its total less what the events inside it took, so the self times of
    the whole profile add up to the top-level ranges' totals plus the ops outside them; every time is positive."""
    prof = profile_a_step(gg, profiler, steps=3)
    events = prof.events()
    assert all(event.end_ns >= event.start_ns for event in events)
    inference = [event for event in events if event.name == "model_inference"]
    inside = [event for event in events if event.kind == "op" and
              any(rng.start_ns <= event.start_ns and event.end_ns <= rng.end_ns for rng in inference)]
    assert {event.name for event in inside} == {"linear", "relu", "sum"}
    assert sum(rng.self_cpu_time_total for rng in inference) + sum(event.cpu_time_total for event in inside) == \
        pytest.approx(sum(rng.cpu_time_total for rng in inference))


@pytest.mark.torch
@given(wait=st.integers(0, 2), warmup=st.integers(0, 2), active=st.integers(1, 3), repeat=st.integers(0, 2),
       skip_first=st.integers(0, 3), skip_first_wait=st.integers(0, 1))
def test_schedules_act_as_pytorchs(torch, wait, warmup, active, repeat, skip_first, skip_first_wait):
    """Each step's action is PyTorch's (skip_first_wait=1 acted as 0 here: it shifts every step by one wait)."""
    settings = {"wait": wait, "warmup": warmup, "active": active, "repeat": repeat, "skip_first": skip_first,
                "skip_first_wait": skip_first_wait}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.profiler.schedule(**settings)
        mine = profiler.schedule(**settings)
    assert [mine(step).name for step in range(20)] == [theirs(step).name for step in range(20)]


def test_a_scheduled_profile_hands_each_active_cycle_over(tmp_path):
    """wait 1, warmup 1, active 2, twice: on_trace_ready sees steps 2–3 and 6–7, each cycle's ops alone, and each
    step a range (``ProfilerStep*`` in the table, as PyTorch's; it was missing); the TensorBoard handler writes
    Chrome's trace format, the step ranges by their numbers (``ProfilerStep#6``, as PyTorch's)."""
    seen = []
    model = gg.nn.Linear(2, 1)
    with profiler.profile(schedule=profiler.schedule(wait=1, warmup=1, active=2, repeat=2),
                          on_trace_ready=lambda prof: seen.append((prof.step_num, counts(prof)))) as prof:
        for _ in range(10):
            model(gg.ones(1, 2)).sum().backward()
            prof.step()
    cycle = {"linear": 2, "sum": 2, "sum backward": 2, "linear backward": 2, "ProfilerStep*": 2}
    assert seen == [(4, cycle), (8, cycle)]
    handler = profiler.tensorboard_trace_handler(str(tmp_path), worker_name="w")
    for _ in range(5):  # in one millisecond: each its own file (they were named by the millisecond, overwritten)
        handler(prof)
    assert len(list(tmp_path.glob("w.*.pt.trace.json"))) == 5
    written = next(tmp_path.glob("w.*.pt.trace.json"))
    events = json.loads(written.read_text())["traceEvents"]
    assert {event["name"] for event in events} == {"linear", "sum", "sum backward", "linear backward",
                                                   "ProfilerStep#6", "ProfilerStep#7"}
    assert all(event["ph"] == "X" and event["dur"] >= 0 for event in events)


def test_a_compiled_step_runs_eagerly_while_profiled_and_says_why():
    model = gg.nn.Linear(3, 1)
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

    @gg.compile
    def step():
        optimizer.zero_grad()
        model(gg.ones(2, 3)).sum().backward()
        optimizer.step()

    with profiler.profile() as prof, pytest.warns(UserWarning, match=r"torch.profiler's profile"):
        step()
    assert counts(prof)["linear"] == 1


@pytest.mark.torch
@pytest.mark.parametrize("key", ["cuda_time_total", "self_cuda_time_total", "device_time_total",
                                 "self_device_time_total", "xpu_time_total", "flops", "cuda_memory_usage",
                                 "cpu_time_total", "count"])
def test_a_tutorials_table_sorts_by_pytorchs_keys_and_prints_as_pytorchs(torch, key):
    """Tutorials print ``prof.key_averages().table(sort_by="cuda_time_total")`` (written for a GPU, run on a CPU:
    PyTorch sorts by zeros) and ``print(prof.key_averages())``; glassgrad refused the GPU keys (AttributeError) and
    printed a list of rows. Now each of PyTorch's keys sorts, ``print`` shows the table, ``total_average()`` adds
    the rows up, and memory sizes read as PyTorch 2.13 writes them (``2.00 KB``)."""
    import torch.profiler as pytorchs
    from torch.autograd.profiler_util import _format_memory

    rows = profile_a_step(gg, profiler).key_averages()
    profile_a_step(torch, pytorchs).key_averages().table(sort_by=key)  # PyTorch takes the key too
    table = rows.table(sort_by=key)
    assert table.splitlines()[1].split()[:3] == ["Name", "Self", "CPU"]
    assert str(rows) == rows.table()
    total = rows.total_average()
    assert (total.key, total.count) == ("Total", sum(row.count for row in rows))
    assert total.cpu_time_total == pytest.approx(sum(row.cpu_time_total for row in rows))
    for size in (0, 512, 2048, 3 << 20, 5 << 30, -2048):
        assert profiler._bytes(size) == _format_memory(size)


def test_bad_arguments_are_one_line():
    with pytest.raises(AttributeError, match="cannot sort by 'nonsense'"):
        profile_a_step(gg, profiler).key_averages().table(sort_by="nonsense")
    with pytest.raises(TypeError, match="the name must be a string"):
        profiler.record_function(3)
    with pytest.warns(UserWarning, match="CPU only"):
        profiler.profile(activities=[profiler.ProfilerActivity.CUDA])


def test_pytorchs_module_name_imports():
    done = subprocess.run([sys.executable, "-c", "from glassgrad import torch_names; torch_names.install()\n"
                           "from torch.profiler import profile, record_function, ProfilerActivity\n"
                           "print(profile.__module__)"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "glassgrad.profiler"


@pytest.mark.torch
def test_the_older_autograd_profiler_counts_and_reads_as_pytorchs(torch):
    """``torch.autograd.profiler.profile`` (older tutorials) was missing: the same counts as PyTorch's, one
    ``function_events`` row per event, and ``self_cpu_time_total`` the sum of their self times."""
    theirs = profile_a_step(torch, torch.autograd.profiler, activities=False)
    mine = profile_a_step(gg, gg.autograd.profiler, activities=False)
    for name in ("model_inference", "Optimizer.step#SGD.step", "Optimizer.zero_grad#SGD.zero_grad"):
        assert counts(mine)[name] == counts(theirs)[name] == 2, name
    assert counts(mine)["linear"] == counts(theirs)["aten::linear"] == 4
    for prof in (mine, theirs):
        rows = prof.function_events
        assert [row.key for row in rows].count("model_inference") == 2
        assert prof.self_cpu_time_total == pytest.approx(sum(row.self_cpu_time_total for row in rows))
        assert prof.total_average().key == "Total"
    assert [row.count for row in mine.function_events] == [1] * len(mine.function_events)
    titles = [prof.table(row_limit=3).splitlines()[1].split() for prof in (mine, theirs)]
    assert titles[0] == titles[1]


@pytest.mark.torch
def test_a_disabled_older_profile_gives_none_and_a_gpu_is_told_absent(torch):
    for old_profiler in (gg.autograd.profiler, torch.autograd.profiler):
        with old_profiler.profile(enabled=False) as prof:
            gg.ones(2).sum()
        assert prof is None
    with pytest.warns(FutureWarning, match="use_cuda"), pytest.warns(UserWarning, match="CPU only"):
        gg.autograd.profiler.profile(use_cuda=True)


def test_the_older_profiler_imports_under_pytorchs_names():
    done = subprocess.run([sys.executable, "-c", "from glassgrad import torch_names; torch_names.install()\n"
                           "import torch\nfrom torch.autograd.profiler import profile, record_function\n"
                           "from torch.autograd import profiler\n"
                           "print(profile.__module__, torch.autograd.profiler is profiler,\n"
                           "      record_function.__module__)"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["glassgrad.autograd_profiler", "True", "glassgrad.profiler"]


@pytest.mark.torch
@given(wait=st.integers(0, 2), warmup=st.integers(0, 2), active=st.integers(1, 3), repeat=st.integers(1, 2))
def test_each_scheduled_cycle_counts_its_steps_as_pytorchs(torch, wait, warmup, active, repeat):
    def cycles(library, prof_module):
        seen = []
        x = library.ones(3, 3, requires_grad=True)
        with prof_module.profile(schedule=prof_module.schedule(wait=wait, warmup=warmup, active=active,
                                                               repeat=repeat),
                                 on_trace_ready=lambda prof: seen.append(counts(prof).get("ProfilerStep*"))) as prof:
            for _ in range(8):
                (x * 2).sum().backward()
                prof.step()
        return seen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cycles(gg, profiler) == cycles(torch, torch.profiler)
