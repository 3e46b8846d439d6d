"""A compiled model used the way PyTorch users use ``torch.compile``'s result: ``compiled = gg.compile(model)`` (the
``OptimizedModule``) and ``model.compile()``, called with keyword, optional, dict and tuple arguments, in eval loops,
nested in a compiled step, deep-copied, pickled, reloaded, and changed through the wrapper between calls.

Each training case runs eagerly and compiled from one seed over ten calls whose batches change: every returned value,
weight, ``.grad`` and buffer equal, bit for bit (the harness of tests/test_compile_model_adversary4.py, with the model
compiled either way). PyTorch 2's own ``OptimizedModule`` (``backend="eager"``) is the oracle of the wrapper's API.

The holes fixed here (each test fails on 134a107): an attribute set on the compiled module (``compiled.temperature =
0.5``) stayed on the wrapper, so the compiled call went on with the model's old value, without a word, where PyTorch
sets the model's; a layer assigned through it (``compiled.fc = nn.Linear(…)``, a head swapped for fine-tuning) raised
``KeyError``; ``compiled.training`` kept its own flag, so ``model.eval()`` left it saying ``True`` (and
``gg.training.evaluate(compiled, …)``, putting that mode back, left the model training, dropout on); ``len``,
``dir`` and ``get_submodule("fc")`` did not reach the model; and a compiled model that had run (either way) could not
be pickled (its programs hold this process's kernels): now it is pickled as PyTorch pickles one, compiled afresh.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_compile_guards_adversary2 import _assert_same
from test_compile_guards_adversary3 import _plain
from test_compile_model_adversary4 import _run as _run_model

import glassgrad as gg

nn = gg.nn
F = nn.functional
CALLS = 10


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.3), nn.ReLU(), nn.Linear(4, 2))


class _Options(nn.Module):
    """A forward with the arguments users pass: an optional mask, a temperature, a flag, features asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(4, 2)
        self.temperature = 1.0

    def forward(self, x: gg.Tensor, mask: gg.Tensor | None = None, temperature: float | None = None,
                flag: bool = False, return_features: bool = False) -> Any:
        h = self.bn(self.fc(x)).relu()
        if mask is not None:
            h = h * mask
        dropped = self.drop(h)
        out = self.out(dropped) / (self.temperature if temperature is None else temperature)
        if flag:
            out = out * 2
        return (out, [h, dropped]) if return_features else out


class _Batch(nn.Module):
    """A forward taking a dict batch (an optional weight in it) and returning a dict with the loss."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, batch: dict) -> dict:
        out = self.fc(batch["x"])
        if "w" in batch:
            out = out * batch["w"]
        return {"out": out, "loss": ((out - batch["y"]) ** 2).mean()}


class _Pair(nn.Module):
    """A forward taking a tuple and an optional scale (None, a number or a tensor)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, pair: tuple, scale: Any = None) -> gg.Tensor:
        a, b = pair
        out = self.fc(a) - self.fc(b)
        return out if scale is None else out * scale


Use = Callable[[Any, gg.Tensor, int], Any]
"""One step of the user's loop: given the model as called (compiled or not), the batch and the call's number; its
results."""


def _model(called: Any) -> nn.Module:
    return getattr(called, "_orig_mod", called)


def _run(make: Callable[[], nn.Module], use: Use, how: str, calls: int = CALLS) -> tuple[list, list[str], Any]:
    """``how``: ``"eager"``, ``"wrapper"`` (``gg.compile(model)``) or ``"method"`` (``model.compile()``); the
    results, the compiler's warnings and the compiled function."""
    def build() -> nn.Module:
        model = make()
        if how == "method":
            model.compile()
        return model

    results, messages, called = _run_model(build, use, how == "wrapper", calls)
    return results, messages, called._compiled if how == "wrapper" else called.__dict__.get("forward")


def _replays(compiled: Any) -> int:
    return sum(entry.replays for entry in compiled.entries.values())


def _same_as_eager(make: Callable[[], nn.Module], use: Use, hows: tuple = ("wrapper", "method"),
                   calls: int = CALLS) -> list[int]:
    """Eager and each compiled run equal, bit for bit, with no warning; the replays of each."""
    eager, _, _ = _run(make, use, "eager", calls)
    replays = []
    for how in hows:
        compiled, messages, program = _run(make, use, how, calls)
        _assert_same(eager, compiled, how)
        assert messages == [], (how, messages)
        replays.append(_replays(program))
    return replays


def _squares(out: gg.Tensor) -> gg.Tensor:
    return (out * out).mean()


# --- the holes: the wrapper's attributes are the model's, as in PyTorch --------------------------------------------


def test_an_attribute_set_on_the_compiled_model_is_the_model_s():
    """``compiled.temperature = 0.5`` (a distillation schedule) sets the model's, which its forward reads: the
    compiled call follows it, as eager's ``model.temperature = 0.5``; before, the wrapper kept it and the replays went
    on dividing by 1.0, without a word."""
    def use(called: Any, x: gg.Tensor, number: int) -> Any:
        model = _model(called)
        if number == 5:
            called.temperature = 0.5
        loss = _squares(called(x))
        loss.backward()
        return loss, model.temperature, called.temperature

    assert all(_same_as_eager(_Options, use, ("wrapper",)))
    compiled = gg.compile(_Options())
    compiled.note = "kept"
    assert compiled._orig_mod.note == "kept" and "note" not in compiled.__dict__
    del compiled.note
    assert not hasattr(compiled._orig_mod, "note")


def test_a_head_swapped_through_the_compiled_model_is_trained():
    """``compiled.out = nn.Linear(4, 3)`` (a new head for fine-tuning) replaces the model's layer, as PyTorch's
    wrapper does: the compiled call runs it and the state dict names it once, under ``_orig_mod.``; before, it
    raised ``KeyError: attribute 'out' already exists``."""
    def use(called: Any, x: gg.Tensor, number: int) -> Any:
        if number == 4:
            gg.manual_seed(7)
            called.out = nn.Linear(4, 2)
        loss = _squares(called(x))
        loss.backward()
        return loss, [key.removeprefix("_orig_mod.") for key in called.state_dict()]

    assert all(_same_as_eager(_Options, use, ("wrapper",)))
    compiled = gg.compile(_Options())
    compiled.out = nn.Linear(4, 3)
    assert compiled._orig_mod.out is compiled.out and compiled(gg.randn(2, 3)).shape == (2, 3)
    assert [key for key in compiled.state_dict() if "out" in key] == ["_orig_mod.out.weight", "_orig_mod.out.bias"]


@pytest.fixture
def torch_compiling():
    """PyTorch, whose ``torch.compile`` switches off the distributions' argument checks for the whole process (its
    Dynamo's default): they are switched back after the test, as later tests (PyTorch's refusals of a bad value to
    score) rely on them."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    checked = torch.distributions.Distribution._validate_args
    yield torch
    torch.distributions.Distribution.set_default_validate_args(checked)


def test_the_compiled_model_s_mode_is_the_model_s_as_in_pytorch(torch_compiling):
    torch = torch_compiling
    for module, compile_it in ((gg.nn.Linear(2, 2), gg.compile),
                               (torch.nn.Linear(2, 2), lambda m: torch.compile(m, backend="eager"))):
        compiled = compile_it(module)
        seen = []
        module.eval()
        seen.append(compiled.training)
        compiled.train()
        seen.append(module.training)
        compiled.eval()
        seen.append((module.training, compiled.training))
        module.train()
        seen.append(compiled.training)
        assert seen == [False, True, (False, False), True], type(module)
    model = gg.nn.Sequential(gg.nn.Dropout(0.5)).eval()
    assert gg.compile(model).training is False and model.training is False  # compiling keeps the model's mode


def test_len_dir_and_get_submodule_reach_the_model_as_in_pytorch(torch_compiling):
    torch = torch_compiling
    ours = gg.compile(nn.Sequential(nn.Linear(3, 4), nn.ReLU()))
    theirs = torch.compile(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU()), backend="eager")
    assert len(ours) == len(theirs) == 2
    assert "0" not in dir(ours) and "0" not in dir(theirs) and "explain" in dir(ours)  # as a Sequential's dir()
    assert ours.get_submodule("0") is ours._orig_mod[0] and theirs.get_submodule("0") is theirs._orig_mod[0]
    assert ours.get_submodule("_orig_mod.1") is ours._orig_mod[1]
    ours.set_submodule("1", nn.Tanh())
    assert isinstance(ours._orig_mod[1], nn.Tanh)
    with pytest.raises(TypeError):
        len(gg.compile(nn.Linear(2, 2)))


@pytest.mark.parametrize("how", ["wrapper", "method"])
def test_a_compiled_model_that_ran_pickles_and_is_compiled_afresh(how: str):
    """A program holds this process's kernels: ``pickle.dumps`` of a model that had run compiled raised; now the
    copy holds the model (its own copy) and compiles afresh, giving the same numbers."""
    gg.manual_seed(0)
    model = _mlp().eval()
    called: Any = gg.compile(model) if how == "wrapper" else model
    if how == "method":
        model.compile()
    xs = [gg.randn(4, 3) for _ in range(6)]
    for x in xs[:4]:
        called(x)
    loaded = pickle.loads(pickle.dumps(called))
    inner = loaded._orig_mod if how == "wrapper" else loaded
    program = loaded._compiled if how == "wrapper" else loaded.forward
    assert program.entries == {} and inner is not model
    assert (program.function is inner) if how == "wrapper" else (program.function.__self__ is inner)
    for x in xs:
        np.testing.assert_array_equal(loaded(x).detach().array, called(x).detach().array)
    assert _replays(program) > 0


def test_the_unwrapping_test_of_pytorch_code_finds_a_compiled_model():
    """``isinstance(model, torch._dynamo.eval_frame.OptimizedModule)`` (how libraries unwrap a compiled model to save
    it) raised AttributeError, and its import ModuleNotFoundError, through glassgrad's torch names."""
    assert gg._dynamo.OptimizedModule is gg._dynamo.eval_frame.OptimizedModule is gg.compiler.OptimizedModule
    script = """
from glassgrad import torch_names
torch_names.install()
import torch
import torch._dynamo.eval_frame
from torch._dynamo.eval_frame import OptimizedModule
model = torch.nn.Linear(2, 1)
compiled = torch.compile(model)
unwrapped = compiled._orig_mod if isinstance(compiled, torch._dynamo.eval_frame.OptimizedModule) else compiled
print(unwrapped is model, isinstance(model, OptimizedModule), list(unwrapped.state_dict()))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "['weight',", "'bias']"]


# --- pinned: names and the API as PyTorch's ----------------------------------------------------------------------


def test_names_match_pytorch_s_optimized_module(torch_compiling):
    torch = torch_compiling
    ours = gg.compile(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
    theirs = torch.compile(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)), backend="eager")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert repr(ours).startswith("OptimizedModule(\n  (_orig_mod): Sequential(")
    model = nn.Sequential(nn.Linear(3, 4))
    model.compile()
    assert list(model.state_dict()) == ["0.weight", "0.bias"]  # model.compile() keeps the names, as PyTorch's
    with pytest.raises(RuntimeError, match="Unexpected key"):
        ours._orig_mod.load_state_dict(ours.state_dict())


# --- pinned: arguments ------------------------------------------------------------------------------------------


def _options(called: Any, x: gg.Tensor, number: int) -> Any:
    mask = gg.tensor((np.arange(16).reshape(4, 4) % (number % 3 + 2) > 0).astype(np.float32)) if number % 2 else None
    temperature = [1.0, 0.5, 2.0][number % 3]
    out = [lambda: called(x, mask, temperature, number % 3 == 0),
           lambda: called(x, mask=mask, temperature=temperature, flag=bool(number % 5)),
           lambda: called(x=x, temperature=temperature),
           lambda: called(x, None, temperature)][number % 4]()
    loss = _squares(out)
    loss.backward()
    return loss, out


def _positional_or_keyword(called: Any, x: gg.Tensor, number: int) -> Any:
    out = called(x, temperature=0.5) if number % 2 else called(x, None, 0.5)
    loss = _squares(out)
    loss.backward()
    return loss


def _two_temperatures(called: Any, x: gg.Tensor, number: int) -> Any:
    temperature = [1.0, 0.5][number % 2]
    loss = _squares(called(x, temperature=temperature).softmax(-1))
    loss.backward()
    with gg.no_grad():
        hard = called(x, temperature=temperature, flag=True).argmax(-1)
    return loss, hard


def _features(called: Any, x: gg.Tensor, number: int) -> Any:
    out, features = called(x, return_features=True)
    loss = _squares(features[0]) + (features[1].sum() if number % 2 else 0)
    loss.backward()
    return loss, out, features


def _dict_batch(called: Any, x: gg.Tensor, number: int) -> Any:
    batch = {"x": x, "y": x[:, :2] * 0.5}
    if number % 3 == 0:
        batch["w"] = x[:, 1:]
    result = called(batch)
    result["loss"].backward()
    return result


def _tuple_and_scale(called: Any, x: gg.Tensor, number: int) -> Any:
    scale = [None, float(number), gg.tensor(number + 0.5)][number % 3]
    loss = _squares(called((x, x.flip(0)), scale=scale))
    loss.backward()
    return loss


ARGUMENTS = {"mask None or not, temperature, flag, keywords": (_Options, _options, 14),
             "the same argument by position and by keyword": (_Options, _positional_or_keyword, CALLS),
             "two temperatures, a hard flag under no_grad": (_Options, _two_temperatures, 12),
             "features returned, backward through some": (_Options, _features, CALLS),
             "a dict batch with an optional entry": (_Batch, _dict_batch, CALLS),
             "a tuple and a scale None, number or tensor": (_Pair, _tuple_and_scale, 12)}


@pytest.mark.parametrize(("make", "use", "calls"), ARGUMENTS.values(), ids=ARGUMENTS.keys())
def test_arguments_as_users_pass_them_give_eager_s_numbers(make: Callable, use: Use, calls: int):
    _same_as_eager(make, use, calls=calls)


# --- pinned: modes, eval loops, the model called eagerly between ------------------------------------------------


def _eval_loop(called: Any, x: gg.Tensor, number: int) -> Any:
    model = _model(called)
    if number % 4 == 1:
        called.eval()
        with gg.no_grad():
            prediction = called(x)
        called.train()
        return prediction
    if number % 4 == 2:
        model.eval()
        with gg.inference_mode():
            prediction = called(x)
        model.train()
        return prediction, called.training
    loss = _squares(called(x))
    loss.backward()
    return loss


def _eager_between(called: Any, x: gg.Tensor, number: int) -> Any:
    model = _model(called)
    if number % 3 == 1:
        _squares(model(x * 2)).backward()  # the model itself (BatchNorm's statistics, dropout's stream move)
    loss = _squares(called(x))
    loss.backward()
    return loss


def _saliency_and_detach(called: Any, x: gg.Tensor, number: int) -> Any:
    x.requires_grad_()
    out = called(x)
    loss = _squares(out) + (out.detach() * out).sum()
    loss.backward()
    return loss, x.grad


def _init(layer: nn.Module) -> None:
    if isinstance(layer, nn.Linear):
        nn.init.zeros_(layer.bias)
        nn.init.xavier_uniform_(layer.weight)


def _changed_through_the_wrapper(called: Any, x: gg.Tensor, number: int) -> Any:
    model = _model(called)
    if number == 0:
        model.saved = {key: value.clone() for key, value in called.state_dict().items()}
    if number == 3:
        called.apply(_init)
    if number == 5:
        called.load_state_dict(model.saved)
    if number == 7:
        model[0].requires_grad_(False)
    called.zero_grad()
    loss = _squares(called(x))
    loss.backward()
    return loss


MODES = {"no_grad, inference_mode, eval and back": _eval_loop, "the model called eagerly between": _eager_between,
         "saliency and a detached output": _saliency_and_detach,
         "apply(init), load_state_dict, a layer frozen": _changed_through_the_wrapper}


@pytest.mark.parametrize("use", MODES.values(), ids=MODES.keys())
def test_modes_and_changes_between_calls_give_eager_s_numbers(use: Use):
    assert all(_same_as_eager(_mlp, use, calls=12))


# --- pinned: one model in several compiled places -----------------------------------------------------------------


def _twice(called: Any, x: gg.Tensor, number: int) -> Any:
    model = _model(called)
    other = model.__dict__.setdefault("other", gg.compile(model) if called is not model else model)
    loss = (called(x) - other(x.flip(0))).pow(2).mean()
    loss.backward()
    return loss


class _Siamese(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
        self.head = nn.Linear(4, 2)
        self.twin = nn.Linear(4, 2)
        self.twin.weight = self.head.weight

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        return self.head(self.enc(x))


def _shared(called: Any, x: gg.Tensor, number: int) -> Any:
    model = _model(called)
    if "other" not in model.__dict__:
        other = nn.Sequential(model.enc, model.twin)
        model.__dict__["other"] = gg.compile(other) if called is not model else other
    loss = (called(x) - model.other(x * 0.5)).pow(2).mean()
    loss.backward()
    return loss


@pytest.mark.parametrize(("make", "use"), [(_mlp, _twice), (_Siamese, _shared)],
                         ids=["one model compiled twice", "two compiled models sharing weights"])
def test_one_model_in_two_compiled_wrappers_gives_eager_s_numbers(make: Callable, use: Use):
    assert all(_same_as_eager(make, use, ("wrapper",)))


def _nested(step_compiled: bool, model_compiled: bool) -> tuple[list, int]:
    gg.manual_seed(0)
    model = _mlp()
    called = gg.compile(model) if model_compiled else model
    opt = gg.optim.Adam(model.parameters(), lr=0.01)

    def step(x: gg.Tensor, y: gg.Tensor) -> gg.Tensor:
        opt.zero_grad()
        loss = F.mse_loss(called(x), y)
        loss.backward()
        opt.step()
        return loss

    run = gg.compile(step) if step_compiled else step
    rng = np.random.default_rng(0)
    results = []
    for number in range(CALLS):
        x = gg.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        results.append(_plain([run(x, gg.tensor(rng.standard_normal((4, 2)).astype(np.float32))),
                               model.state_dict(), opt.state_dict()]))
        if number % 3 == 2:
            model.eval()
            with gg.no_grad():
                results.append(_plain(called(x)))
            model.train()
    return results, _replays(run) if step_compiled else 0


def test_a_compiled_model_inside_a_compiled_step_gives_eager_s_numbers():
    eager, _ = _nested(False, False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled, replays = _nested(True, True)
    _assert_same(eager, compiled)
    assert replays > 0


@pytest.mark.parametrize("how", ["wrapper", "method"])
def test_a_deep_copy_after_replays_trains_its_own_weights(how: str):
    def run(compiled: bool) -> tuple[list, Any]:
        gg.manual_seed(0)
        model = _mlp()
        called: Any = gg.compile(model) if compiled and how == "wrapper" else model
        if compiled and how == "method":
            model.compile()
        rng = np.random.default_rng(0)
        xs = [gg.tensor(rng.standard_normal((4, 3)).astype(np.float32)) for _ in range(CALLS)]
        opt = gg.optim.SGD(model.parameters(), lr=0.1)
        results = []
        for number, x in enumerate(xs):
            if number == 4:
                copied = copy.deepcopy(called)
                inner = copied._orig_mod if compiled and how == "wrapper" else copied
                copied_opt = gg.optim.SGD(inner.parameters(), lr=0.1)
            opt.zero_grad()
            loss = _squares(called(x))
            loss.backward()
            opt.step()
            results.append(_plain([loss, model.state_dict()]))
            if number >= 4:
                copied_opt.zero_grad()
                other = _squares(copied(x * 2))
                other.backward()
                copied_opt.step()
                results.append(_plain([other, inner.state_dict(), [p.grad for p in inner.parameters()]]))
        return results, copied

    eager, _ = run(False)
    compiled, copied = run(True)
    _assert_same(eager, compiled)
    assert _replays(copied._compiled if how == "wrapper" else copied.forward) > 0


def _dataset(rows: int) -> gg.data.TensorDataset:
    rng = np.random.default_rng(0)
    return gg.data.TensorDataset(gg.tensor(rng.standard_normal((rows, 3)).astype(np.float32)),
                                 gg.tensor(rng.standard_normal((rows, 2)).astype(np.float32)))


def test_fit_of_a_compiled_model_gives_eager_s_history_and_weights():
    def run(wrap: bool, compile_step: bool) -> list:
        gg.manual_seed(0)
        model = _mlp()
        opt = gg.optim.Adam(model.parameters(), lr=0.01)
        data = _dataset(40)
        history = gg.fit(gg.compile(model) if wrap else model, F.mse_loss, opt,
                         gg.data.DataLoader(data, batch_size=8, shuffle=True), epochs=3,
                         val_loader=gg.data.DataLoader(data, batch_size=16), compile=compile_step, progress=False)
        records = [{key: value for key, value in record.items() if key != "seconds"} for record in history.records]
        return _plain([model.state_dict(), opt.state_dict(), records])

    eager = run(False, False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for wrap, compile_step in ((True, False), (True, True)):
            _assert_same(eager, run(wrap, compile_step), f"wrap={wrap} compile={compile_step}")


def test_a_checkpoint_of_a_compiled_model_is_the_models_own_and_rebuilds_it(tmp_path):
    """``fit(gg.compile(model), checkpoint_every=1)`` saved the wrapper's ``_orig_mod.`` keys and no architecture,
    so ``glassgrad export`` could not rebuild the model, nor the model load its own checkpoint (fails on 134a107).
    The checkpoint is now the model's: its keys, its architecture, the trained weights."""
    gg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = gg.optim.SGD(model.parameters(), lr=0.05)
    gg.fit(gg.compile(model), F.mse_loss, opt, gg.data.DataLoader(_dataset(16), batch_size=8), epochs=2,
           checkpoint_every=1, checkpoint_dir=tmp_path, progress=False)
    saved = gg.load(tmp_path / "checkpoint-epoch002.safetensors")
    assert sorted(saved["model"]) == sorted(model.state_dict())
    rebuilt = gg.nn.from_architecture(saved["architecture"], saved["model"])
    for mine, theirs in zip(rebuilt.parameters(), model.parameters(), strict=True):
        assert np.array_equal(mine.numpy(), theirs.numpy())


def test_explain_and_the_original_still_work_after_all_that():
    gg.manual_seed(0)
    model = _mlp()
    compiled = gg.compile(model)
    for _ in range(4):
        _squares(compiled(gg.randn(4, 3))).backward()
    compiled.eval()
    compiled.train()
    compiled.extra = 3.0
    copy.deepcopy(compiled)
    pickle.loads(pickle.dumps(compiled))
    assert compiled.explain().startswith("Sequential: ")
    assert compiled._orig_mod is model and compiled._compiled.function is model and model.extra == 3.0
    assert gg.compiler.disable(compiled) is model


def test_evaluate_of_a_compiled_model_leaves_the_model_s_mode_as_eager_does():
    """``gg.training.evaluate`` puts back the mode it read from ``compiled.training``: before, after
    ``model.eval()`` that said ``True`` and evaluate left the model training (dropout on), where eager left it
    evaluating."""
    def run(compiled: bool) -> list:
        gg.manual_seed(0)
        model = _mlp().eval()
        called = gg.compile(model) if compiled else model
        data = _dataset(12)
        scores = gg.training.evaluate(called, F.mse_loss, gg.data.DataLoader(data, batch_size=4))
        return _plain([scores, model.training, [called(data[:][0]) for _ in range(4)]])

    _assert_same(run(False), run(True))
