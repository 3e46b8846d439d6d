"""Round 93: ``gg.compile`` on training steps that use what changed in glassgrad since 6fe28c5, eager as the oracle.

Each step runs eagerly and compiled from the same start (two models built from the same random state) for many
calls, and every loss, parameter, ``.grad`` (values, dtype, strides) and optimizer state is compared bit for bit;
``explain()`` must not raise, and a step that should replay must replay (a test where nothing replays tests
nothing). Areas: the ``.grad`` of a transposed or permuted leaf keeping the leaf's strides; ``clip_grad_norm_`` and
``get_total_norm`` with float32's overflow (an infinite total, ``error_if_nonfinite`` raising at a replayed call);
cross-entropy's ignored rows whose logits are −∞/NaN; pool layers whose settings (kept as given) change between
calls; ``model.double()``/``half()`` between calls; the Transformer encoder's nested path in eval with padding
masks; ``instance_norm(eps=0)`` of constant channels; ``x.grad = x``; ``in``, ``reversed(t)`` and ``[pad] * t``;
DataLoaders over ``Subset``/``StackDataset`` fetching by ``__getitems__``.

The defects found: ``get_total_norm`` made its tensor outside any kernel, so a replay returned the norm of the
captures where the two agreed (the same batch twice), and every use of it (``g / (norm + 1)``) was silently stale;
now it is one kernel, and so is ``clip_grads_with_norm_`` (refused before for its ``.item()``). And a step that
assigns ``p.grad = zeros`` before its backward was captured again at every call, never replayed, without a word.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.utils.data import DataLoader, StackDataset, Subset, TensorDataset

nn = gg.nn
F = nn.functional


def _same(a, b, what):
    if a is None or b is None:
        assert a is None and b is None, what
        return
    left, right = a.detach().numpy(), b.detach().numpy()
    assert left.dtype == right.dtype and left.shape == right.shape, what
    assert a.stride() == b.stride(), (what, a.stride(), b.stride())
    assert np.array_equal(left, right, equal_nan=True), (what, left, right)
    assert (np.signbit(left) == np.signbit(right)).all(), what


def _same_state(m1, m2, o1=None, o2=None):
    for (name, p), (_, q) in zip(m1.named_parameters(), m2.named_parameters()):
        _same(p, q, name)
        _same(p.grad, q.grad, name + ".grad")
    for (name, p), (_, q) in zip(m1.named_buffers(), m2.named_buffers()):
        _same(p, q, name)
    if o1 is not None:
        s1, s2 = o1.state_dict(), o2.state_dict()
        assert s1["param_groups"] == s2["param_groups"]
        for key, state in s1["state"].items():
            for name, value in state.items():
                if isinstance(value, gg.Tensor):
                    _same(value, s2["state"][key][name], f"state {key} {name}")
                else:
                    assert value == s2["state"][key][name], (key, name)


def _replays(compiled):
    compiled = getattr(compiled, "_compiled", compiled)
    return sum(entry.replays for entry in compiled.entries.values())


def _twice(make):
    """Two models (and optimizers) made from the same random state."""
    state = gg.get_rng_state()
    first = make()
    gg.set_rng_state(state)
    return first, make()


def _run(make, step, batches, *, between=None):
    """``step(model, opt, *batch)`` eagerly and compiled over ``batches``; everything compared after each call.
    ``between(i, model)`` changes both models before call ``i``. Returns the compiled step and its warnings."""
    (m1, o1), (m2, o2) = _twice(make)
    compiled = gg.compile(lambda *batch: step(m2, o2, *batch))
    said = []
    for i, batch in enumerate(batches):
        if between is not None:
            between(i, m1)
            between(i, m2)
        error1 = error2 = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out1 = step(m1, o1, *batch)
            except RuntimeError as error:
                error1 = error
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out2 = compiled(*batch)
            except RuntimeError as error:
                error2 = error
        said += [str(w.message) for w in caught if "encountered" not in str(w.message)]
        assert type(error1) is type(error2) and str(error1) == str(error2), (i, error1, error2)
        if error1 is None and isinstance(out1, gg.Tensor):
            _same(out1, out2, f"result of call {i}")
        _same_state(m1, m2, o1, o2)
    compiled.explain()
    return compiled, said


def _batches(n, *shapes, dtype=gg.float64, seed=0, scale=None):
    g = gg.Generator().manual_seed(seed)
    return [tuple(gg.randn(*shape, dtype=dtype, generator=g) * (scale(i) if scale else 1) for shape in shapes)
            for i in range(n)]


# --- the defect: get_total_norm / clip_grads_with_norm_ --------------------------------------------------------


def test_get_total_norm_is_measured_at_each_replayed_call():
    """Two captures of the same batch measured the same norm; the replays returned it ever after (13.0 expected at
    the third call, 1.732 given) and scaled the gradients by it."""
    def make_step():
        w = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)

        def step(x):
            w.grad = None
            (w * x).sum().backward()
            norm = nn.utils.get_total_norm([w.grad])
            return norm, w.grad * (1 / (norm + 1)), gg.where(norm > 5, w.grad / norm, w.grad)
        return step

    eager, compiled = make_step(), gg.compile(make_step())
    xs = [gg.tensor([1.0, 1.0, 1.0])] * 2 + [gg.tensor([3.0, 4.0, 12.0]), gg.tensor([0.0, 0.0, 0.5])] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in xs:
            for a, b in zip(eager(x), compiled(x)):
                assert a.tolist() == b.tolist()
    assert _replays(compiled) == len(xs) - 2


@pytest.mark.parametrize("dtype", [gg.float32, gg.float64])
def test_split_clip_replays_with_each_calls_norm(dtype):
    """get_total_norm then clip_grads_with_norm_ (PyTorch's two halves of clip_grad_norm_) replay, bit for bit,
    with fullgraph=True too (clip_grads_with_norm_'s .item() made the step run eagerly)."""
    def make():
        m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(dtype)
        return m, gg.optim.Adam(m.parameters(), lr=1e-2)

    def step(m, o, x, y):
        o.zero_grad()
        loss = ((m(x) - y) ** 2).sum()
        loss.backward()
        norm = nn.utils.get_total_norm([p.grad for p in m.parameters()])
        nn.utils.clip_grads_with_norm_(m.parameters(), 0.5, norm)
        o.step()
        return loss + norm

    compiled, said = _run(make, step, _batches(12, (5, 3), (5, 2), dtype=dtype, seed=1))
    assert not said and _replays(compiled) == 10
    (m, o), _ = _twice(make)
    full = gg.compile(lambda x, y: step(m, o, x, y), fullgraph=True)
    for x, y in _batches(4, (5, 3), (5, 2), dtype=dtype, seed=2):
        full(x, y)
    assert _replays(full) == 2


@pytest.mark.parametrize("measure", ["get_total_norm", "clip_grad_norm_"])
def test_inf_total_norm_at_replayed_calls(measure):
    """float32 gradients past float32's range at calls 4 and 7: get_total_norm's error_if_nonfinite raises eager's
    RuntimeError from the replay; clip_grad_norm_ returns inf and leaves the gradients as eager leaves them."""
    def make():
        m = nn.Linear(3, 2)
        return m, gg.optim.SGD(m.parameters(), lr=1e-3)

    def step(m, o, x, y):
        o.zero_grad()
        ((m(x) - y) ** 2).sum().backward()
        params = list(m.parameters())
        if measure == "get_total_norm":
            norm = nn.utils.get_total_norm([p.grad for p in params], error_if_nonfinite=True)
        else:
            norm = nn.utils.clip_grad_norm_(params, 1.0)
        o.step()
        return norm

    batches = _batches(10, (5, 3), (5, 2), dtype=gg.float32, seed=3, scale=lambda i: 1e20 if i in (4, 7) else 1)
    compiled, _ = _run(make, step, batches)
    assert _replays(compiled) == 8


# --- transposed / permuted leaves ------------------------------------------------------------------------------


class _Transposed(nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.w = nn.Parameter(gg.randn(5, 3, dtype=dtype).t())
        self.v = nn.Parameter(gg.randn(2, 3, 4, dtype=dtype).permute(2, 0, 1))
        self.u = nn.Parameter(gg.randn(4, 6, dtype=dtype)[:, ::2])  # entries with gaps: row-major .grad
        self.lin = nn.Linear(5, 2).to(dtype)

    def forward(self, x):
        return self.lin((x @ self.w).tanh()).sum() + (self.v ** 2).sum() + self.u.sin().sum()


@pytest.mark.parametrize("how", ["whole", "forward compiled", "set_to_none=False", "clip", "two backwards"])
@pytest.mark.parametrize("dtype", [gg.float32, gg.float64])
def test_transposed_leaf_grad_values_and_strides_replay(how, dtype):
    def make():
        m = _Transposed(dtype)
        return m, gg.optim.SGD(m.parameters(), lr=0.1, momentum=0.5)

    (m1, o1), (m2, o2) = _twice(make)
    forward = gg.compile(m2)

    def step(m, o, x, model=None):
        model = m if model is None else model
        o.zero_grad(set_to_none=how != "set_to_none=False")
        model(x).backward()
        if how == "two backwards":
            model(x * 2).backward()
        if how == "clip":
            nn.utils.clip_grad_norm_(m.parameters(), 0.5)
        o.step()

    if how == "forward compiled":  # the model compiled, its loss's backward and the update eager
        compiled = forward._compiled

        def run(x):
            return step(m2, o2, x, forward)
    else:
        run = compiled = gg.compile(lambda x: step(m2, o2, x))
    for (x,) in _batches(25, (4, 3), dtype=dtype, seed=4):
        step(m1, o1, x)
        run(x)
        _same_state(m1, m2, o1, o2)
    assert m2.w.grad.stride() == m2.w.stride() == (1, 3)
    assert m2.v.grad.stride() == m2.v.stride() == (1, 12, 4)
    assert _replays(compiled) == 23
    compiled.explain()


@pytest.mark.parametrize("start", ["zeros", "transposed zeros"])
def test_grad_assigned_before_backward_replays(start):
    """p.grad = zeros at the step's top, backward adding into it: each call after the first captured again (the guard
    'p.grad still None, as at capture' failed, the step having left its own .grad there), never replayed, silently;
    the step sets .grad itself, so what it held when the call began is not read: it replays, .grad's strides too."""
    def make():
        w = nn.Parameter(gg.tensor(np.arange(15.0).reshape(5, 3) / 10, dtype=gg.float32).t())

        def step(x):
            w.grad = gg.zeros(3, 5) if start == "zeros" else gg.zeros(5, 3).t()
            (x @ w).tanh().sum().backward()
            with gg.no_grad():
                w.sub_(0.1 * w.grad)
            return w.grad.stride(), w.grad * 1, w.detach() * 1
        return step

    eager, compiled = make(), gg.compile(make())
    for (x,) in _batches(8, (4, 3), dtype=gg.float32, seed=16):
        (s1, g1, w1), (s2, g2, w2) = eager(x), compiled(x)
        assert s1 == s2 == ((5, 1) if start == "zeros" else (1, 3))
        assert g1.tolist() == g2.tolist() and w1.tolist() == w2.tolist()
    assert _replays(compiled) == 6


def test_transposed_leaf_grad_strides_as_pytorchs(torch):
    """The replayed .grad of nn.Parameter(w.t()) has PyTorch's strides and numbers."""
    base = np.random.default_rng(0).standard_normal((5, 3))
    w = nn.Parameter(gg.tensor(base).t())
    tw = torch.nn.Parameter(torch.tensor(base).t())
    opt, topt = gg.optim.Adam([w], lr=0.1), torch.optim.Adam([tw], lr=0.1)

    @gg.compile
    def step(x):
        opt.zero_grad()
        (x @ w).tanh().sum().backward()
        opt.step()

    for x in np.random.default_rng(1).standard_normal((6, 4, 3)):
        step(gg.tensor(x))
        topt.zero_grad()
        (torch.tensor(x) @ tw).tanh().sum().backward()
        topt.step()
        assert w.grad.stride() == tuple(tw.grad.stride()) == (1, 3)
        np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert _replays(step) == 4


# --- clipping past float32's range ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype,big", [(gg.float32, 1e20), (gg.float64, 1e160), (gg.float16, 300.0)])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_nonfinite_total_at_replayed_calls(dtype, big, norm_type):
    """Every fifth batch is huge: its total is inf (float32's Σ g² past 3.4e38), and error_if_nonfinite raises
    eager's RuntimeError from the replay, the gradients stored as eager left them."""
    def make():
        m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(dtype)
        return m, gg.optim.SGD(m.parameters(), lr=1e-3)

    def step(m, o, x, y):
        o.zero_grad()
        ((m(x) - y) ** 2).sum().backward()
        norm = nn.utils.clip_grad_norm_(m.parameters(), 1.0, norm_type=norm_type, error_if_nonfinite=True)
        o.step()
        return norm

    batches = _batches(15, (5, 3), (5, 2), dtype=dtype, seed=5, scale=lambda i: big if i % 5 == 4 else 1)
    compiled, _ = _run(make, step, batches)
    assert _replays(compiled) == 13


# --- cross-entropy's ignored rows ------------------------------------------------------------------------------


@pytest.mark.parametrize("fill", [float("-inf"), float("nan"), float("inf")])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_ignored_rows_of_nonfinite_logits(fill, reduction):
    def make():
        m = nn.Linear(4, 3).double()
        return m, gg.optim.SGD(m.parameters(), lr=1e-2)

    def step(m, o, x, y):
        o.zero_grad()
        z = m(x).masked_fill((y == -100).unsqueeze(1), fill)
        loss = F.cross_entropy(z, y, ignore_index=-100, reduction=reduction)
        (loss.sum() if reduction == "none" else loss).backward()
        o.step()
        return loss

    g = gg.Generator().manual_seed(7)
    batches = []
    for i in range(14):
        y = gg.randint(0, 3, (6,), generator=g)
        ignored = gg.rand(6, generator=g) < 0.3 if i % 5 else gg.zeros(6, dtype=gg.bool)
        batches.append((gg.randn(6, 4, dtype=gg.float64, generator=g), gg.where(ignored, gg.tensor(-100), y)))
    compiled, said = _run(make, step, batches)
    assert not said and _replays(compiled) == 12


# --- pool settings changed between calls -----------------------------------------------------------------------

POOLS = [  # the last field: the model compiled too (its forward a node of the compiled step's graph)
    ("MaxPool1d", lambda: nn.MaxPool1d(2), 1, "kernel_size", 3, False),
    ("MaxPool1d", lambda: nn.MaxPool1d(2), 1, "dilation", 2, True),
    ("AvgPool1d", lambda: nn.AvgPool1d(2), 1, "kernel_size", (3,), True),
    ("AvgPool1d", lambda: nn.AvgPool1d(2, padding=1), 1, "count_include_pad", False, False),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), 2, "stride", (1, 2), False),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), 2, "ceil_mode", True, True),
    ("AvgPool2d", lambda: nn.AvgPool2d(2), 2, "divisor_override", 3, True),
    ("LPPool2d", lambda: nn.LPPool2d(2, 2), 2, "kernel_size", 3, False),
    ("AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d((2, 3)), 2, "output_size", (3, None), True),
]


@pytest.mark.parametrize("name,pool,dims,setting,value,compile_model", POOLS, ids=[f"{p[0]}-{p[3]}" for p in POOLS])
def test_pool_setting_changed_between_calls_is_seen(name, pool, dims, setting, value, compile_model):
    def make():
        conv = (nn.Conv1d if dims == 1 else nn.Conv2d)(3, 3, 1).double()
        m = nn.Sequential(conv, pool())
        return m, gg.optim.SGD(m.parameters(), lr=1e-2)

    (m1, o1), (m2, o2) = _twice(make)
    forward = gg.compile(m2) if compile_model else m2

    def step(m, o, x, model=None):
        o.zero_grad()
        loss = ((m if model is None else model)(x) ** 2).sum()
        loss.backward()
        o.step()
        return loss

    compiled = gg.compile(lambda x: step(m2, o2, x, forward))
    shape = (2, 3, 8) if dims == 1 else (2, 3, 8, 8)
    for i, (x,) in enumerate(_batches(10, shape, seed=8)):
        if i == 5:
            setattr(m1[1], setting, value)
            setattr(m2[1], setting, value)
        _same(step(m1, o1, x), compiled(x), f"loss {i}")
        _same_state(m1, m2, o1, o2)
    assert _replays(compiled) >= 5


@pytest.mark.parametrize("pool,setting,index,value", [
    (lambda: nn.MaxPool2d([2, 2]), "kernel_size", 1, 1),
    (lambda: nn.AvgPool2d(2, stride=[2, 2]), "stride", 0, 1),
    (lambda: nn.MaxPool1d([2]), "kernel_size", 0, 3),
    (lambda: nn.AdaptiveAvgPool2d([2, 3]), "output_size", 0, 4),
])
def test_pool_setting_list_changed_in_place_between_calls(pool, setting, index, value):
    """A setting kept as the list given, changed in place: the replay sees it (the guard keeps its entries)."""
    m = pool()
    compiled = gg.compile(lambda x: m(x))
    x = gg.randn(2, 3, 8) if isinstance(m, nn.MaxPool1d) else gg.randn(2, 3, 8, 8)
    for i in range(6):
        if i == 3:
            getattr(m, setting)[index] = value
        assert compiled(x).tolist() == m(x).tolist()


# --- dtype conversions between calls ---------------------------------------------------------------------------


@pytest.mark.parametrize("convert", ["double", "half", "to float64"])
@pytest.mark.parametrize("set_to_none", [True, False])
def test_model_converted_between_calls(convert, set_to_none):
    def make():
        m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        return m, gg.optim.Adam(m.parameters(), lr=1e-2)

    def step(m, o, x, y):
        o.zero_grad(set_to_none=set_to_none)
        dtype = m[0].weight.dtype
        loss = ((m(x.to(dtype)) - y.to(dtype)) ** 2).mean()
        loss.backward()
        o.step()
        return loss

    def between(i, m):
        if i == 6:
            held = m[0].weight.grad
            {"double": m.double, "half": m.half, "to float64": lambda: m.to(gg.float64)}[convert]()
            if held is not None:  # converted in place: the same object, the new dtype
                assert m[0].weight.grad is held and held.dtype == m[0].weight.dtype

    compiled, said = _run(make, step, _batches(14, (5, 3), (5, 2), dtype=gg.float32, seed=9), between=between)
    assert not said and _replays(compiled) == 10


# --- Transformer encoder in eval, padding masks ----------------------------------------------------------------


@pytest.mark.parametrize("change,grad", [("freeze first layer", True), ("freeze first layer", False),
                                         ("freeze second layer", True), ("nested off", False),
                                         ("first layer train", True)])
def test_encoder_eval_with_padding_mask_replays_and_follows_changes(change, grad):
    def make():
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, dtype=gg.float64)
        enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8, dtype=gg.float64))
        return enc.eval()

    e1, e2 = _twice(make)

    def step(enc, x, mask):
        with gg.set_grad_enabled(grad):
            return enc(x, src_key_padding_mask=mask)

    compiled = gg.compile(lambda x, mask: step(e2, x, mask))
    g = gg.Generator().manual_seed(10)
    for i in range(10):
        if i == 5:
            for enc in (e1, e2):
                if change == "freeze first layer":
                    enc.layers[0].requires_grad_(False)
                elif change == "freeze second layer":
                    enc.layers[1].requires_grad_(False)
                elif change == "nested off":
                    enc.use_nested_tensor = False
                else:
                    enc.layers[0].train()
        mask = gg.rand(3, 5, generator=g) < 0.4
        mask[:, 0] = False
        x = gg.randn(3, 5, 8, dtype=gg.float64, generator=g)
        _same(step(e1, x, mask), compiled(x, mask), f"call {i}")
    assert _replays(compiled) == 6
    compiled.explain()


# --- instance_norm(eps=0) of constant channels -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [gg.float32, gg.float64])
@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_eps_zero_constant_channel(dtype, affine):
    def make():
        m = nn.Sequential(nn.Conv1d(2, 3, 1), nn.InstanceNorm1d(3, eps=0.0, affine=affine)).to(dtype)
        with gg.no_grad():
            m[0].weight[1] = 0  # channel 1 is its bias alone: σ² = 0
        return m, gg.optim.Adam(m.parameters(), lr=1e-2)

    def step(m, o, x):
        o.zero_grad()
        h = m(x)
        loss = (h * gg.arange(h.shape[-1], dtype=h.dtype)).sum()
        loss.backward()
        o.step()
        return loss

    batches = _batches(12, (2, 2, 5), dtype=dtype, seed=11, scale=lambda i: 0 if i % 4 == 0 else 1)
    compiled, said = _run(make, step, batches)
    assert not said and _replays(compiled) == 10


# --- x.grad = x, Python's protocols --------------------------------------------------------------------------


def test_grad_assigned_itself_inside_a_compiled_step_is_refused_as_eager():
    w = gg.tensor([0.5, -1.0, 2.0], requires_grad=True)

    @gg.compile
    def step(x):
        (w * x).sum().backward()
        w.grad = w

    with pytest.raises(RuntimeError, match="its own grad"):
        step(gg.ones(3))


def test_grad_sharing_its_leafs_memory_replays_as_eager():
    """p.grad = p.detach() is taken (a copy of the tensor, the same memory): the next backward adds into p."""
    def make():
        w = gg.tensor([0.5, -1.0, 2.0], requires_grad=True)

        def step(x):
            loss = (w * x).sum()
            loss.backward()
            w.grad = w.detach()
            return loss, w.detach().clone()
        return step

    eager, compiled = make(), gg.compile(make())
    for (x,) in _batches(7, (3,), dtype=gg.float32, seed=12):
        for a, b in zip(eager(x), compiled(x)):
            assert a.tolist() == b.tolist()
    assert _replays(compiled) == 4  # call 2 finds a .grad the captures did not: captured again


def test_reversed_inside_a_compiled_step_replays():
    w = gg.tensor([0.5, -1.0, 2.0], requires_grad=True)

    def step(x):
        w.grad = None
        loss = (reversed(x * w) * gg.arange(3.0)).sum()
        loss.backward()
        return loss, w.grad, list(reversed(x))

    compiled = gg.compile(step)
    for (x,) in _batches(6, (3,), dtype=gg.float32, seed=13):
        eager_out, compiled_out = step(x), compiled(x)
        assert eager_out[0].item() == compiled_out[0].item()
        assert eager_out[1].tolist() == compiled_out[1].tolist()
        assert [t.item() for t in eager_out[2]] == [t.item() for t in compiled_out[2]]
    assert _replays(compiled) == 4


@pytest.mark.parametrize("step", [lambda t: 2 in t, lambda t: [0] * (5 - t[0]), lambda t: "#" * t[0]],
                         ids=["in", "list repeat", "str repeat"])
def test_python_reads_of_a_tensor_run_eagerly_saying_so(step):
    compiled = gg.compile(step)
    g = gg.Generator().manual_seed(14)
    with pytest.warns(UserWarning, match="reads a tensor's value"):
        for _ in range(4):
            t = gg.randint(0, 4, (5,), generator=g)
            assert compiled(t) == step(t)
    with pytest.raises(gg.compiler.capture.CompileRefused):
        gg.compile(step, fullgraph=True)(gg.tensor([1, 2]))


# --- DataLoaders over Subset / StackDataset with __getitems__ ----------------------------------------------------


class _Batched(TensorDataset):
    """A TensorDataset that fetches a batch in one call, as PyTorch's loader asks (its samples copies: x · 1.0)."""

    def __getitems__(self, indices):
        x, y = self.tensors
        return [(x[i] * 1.0, y[i]) for i in indices]


@pytest.mark.parametrize("kind", ["subset", "stack", "named stack", "subset of a stack"])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_over_subset_or_stack_feeds_a_compiled_step(kind, drop_last):
    g = gg.Generator().manual_seed(15)
    x, y = gg.randn(40, 3, generator=g), gg.randn(40, 2, generator=g)
    base = _Batched(x, y)
    data = {"subset": lambda: Subset(base, list(range(3, 33))),
            "stack": lambda: StackDataset(base, TensorDataset(y * 2)),
            "named stack": lambda: StackDataset(a=base, b=TensorDataset(y * 2)),
            "subset of a stack": lambda: Subset(StackDataset(base, TensorDataset(y * 2)), list(range(0, 40, 3))),
            }[kind]()

    def unpack(batch):
        if kind == "subset":
            return batch
        (xb, yb), (extra,) = (batch["a"], batch["b"]) if kind == "named stack" else batch
        return xb, yb + extra

    def make():
        m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        return m, gg.optim.Adam(m.parameters(), lr=1e-2)

    def step(m, o, xb, yb):
        o.zero_grad()
        loss = F.mse_loss(m(xb), yb)
        loss.backward()
        o.step()
        return loss

    loader = DataLoader(data, batch_size=4, shuffle=True, drop_last=drop_last, generator=gg.Generator().manual_seed(1))
    batches = [unpack(batch) for _ in range(2) for batch in loader]
    compiled, said = _run(make, step, batches)
    assert not said and _replays(compiled) >= len(batches) - 4


# --- the property: drawn steps mixing these features ----------------------------------------------------------


@given(st.fixed_dictionaries({
    "dtype": st.sampled_from([gg.float32, gg.float64]),
    "layout": st.sampled_from(["plain", "transposed", "permuted"]),
    "optimizer": st.sampled_from(["sgd", "momentum", "adam", "rmsprop"]),
    "clip": st.sampled_from([None, "norm", "norm inf", "split", "value"]),
    "huge": st.booleans(),
    "loss": st.sampled_from(["mse", "cross entropy", "cross entropy masked"]),
    "pool": st.sampled_from([None, 2, 3]),
    "seed": st.integers(0, 2**16),
}))
def test_drawn_steps_replay_bit_for_bit(draw):
    dtype, classes = draw["dtype"], 3

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            if draw["layout"] == "transposed":
                self.w = nn.Parameter(gg.randn(classes, 4, dtype=dtype).t())
            elif draw["layout"] == "permuted":
                self.w = nn.Parameter(gg.randn(classes, 1, 4, dtype=dtype).permute(2, 1, 0)[:, 0])
            else:
                self.w = nn.Parameter(gg.randn(4, classes, dtype=dtype))
            self.pool = nn.MaxPool1d(2) if draw["pool"] else None

        def forward(self, x):
            h = x @ self.w
            return self.pool(h.unsqueeze(1)).squeeze(1).repeat(1, classes)[:, :classes] if self.pool else h

    def make():
        m = Model()
        make_opt = {"sgd": lambda p: gg.optim.SGD(p, lr=0.1),
                    "momentum": lambda p: gg.optim.SGD(p, lr=0.1, momentum=0.9),
                    "adam": lambda p: gg.optim.Adam(p, lr=0.01), "rmsprop": lambda p: gg.optim.RMSprop(p, lr=0.01)}
        return m, make_opt[draw["optimizer"]](m.parameters())

    def step(m, o, x, y):
        o.zero_grad()
        z = m(x)
        if draw["loss"] == "mse":
            loss = ((z - y.to(dtype).unsqueeze(1)) ** 2).mean()
        else:
            target = gg.where(y % 4 == 3, gg.tensor(-100), y % classes)
            if draw["loss"] == "cross entropy masked":
                z = z.masked_fill((target == -100).unsqueeze(1), float("-inf"))
            loss = F.cross_entropy(z, target)
        loss.backward()
        if draw["clip"] == "norm":
            nn.utils.clip_grad_norm_(m.parameters(), 0.5)
        elif draw["clip"] == "norm inf":
            nn.utils.clip_grad_norm_(m.parameters(), 0.5, norm_type=float("inf"))
        elif draw["clip"] == "split":
            nn.utils.clip_grads_with_norm_(m.parameters(), 0.5, nn.utils.get_total_norm([m.w.grad]))
        elif draw["clip"] == "value":
            nn.utils.clip_grad_value_(m.parameters(), 0.1)
        o.step()
        return loss

    g = gg.Generator().manual_seed(draw["seed"])
    big = 1e20 if dtype == gg.float32 else 1e160
    batches = [(gg.randn(5, 4, dtype=dtype, generator=g) * (big if draw["huge"] and i == 6 else 1),
                gg.randint(0, 8, (5,), generator=g)) for i in range(10)]
    if draw["pool"] == 3:  # a setting changed between calls: captured again
        def between(i, m):
            if i == 4:
                m.pool.kernel_size = 1
    else:
        between = None
    gg.manual_seed(draw["seed"])
    compiled, said = _run(make, step, batches, between=between)
    assert not said and _replays(compiled) >= 6
    if draw["layout"] != "plain":
        (m, _), _ = _twice(make)
        assert m.w.stride() != m.w.contiguous().stride()
