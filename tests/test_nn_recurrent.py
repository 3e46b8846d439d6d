"""``nn.RNN``/``LSTM``/``GRU`` and their cells against PyTorch 2.13, finite differences, and their own promises.

PyTorch's weights are copied in by ``load_state_dict`` (the keys must be PyTorch's); then the
outputs, the last states and the gradients of the input, of the first states and of every
parameter must agree in float64 over hypothesis-drawn sizes and settings.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

KINDS = {"RNN": {"nonlinearity": "tanh"}, "RNN relu": {"nonlinearity": "relu"}, "LSTM": {}, "GRU": {}}


def _class(library, kind: str, cell: bool = False):
    return getattr(library.nn, kind.split()[0] + ("Cell" if cell else ""))


def _pair(torch, kind: str, cell: bool = False, **options):
    """A PyTorch layer in float64 and a glassgrad one holding its weights."""
    options = {**KINDS[kind], **options}
    theirs = _class(torch, kind, cell)(**options).double()
    ours = _class(gg, kind, cell)(**options, dtype=gg.float64, seed=0)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()})
    return ours, theirs


def _run(library, module, x, states, weights, lstm: bool):
    """Forward, a weighted sum of every output, backward; the values and the gradients (input, states, parameters)."""
    x = library.tensor(x, requires_grad=True)
    states = [library.tensor(state, requires_grad=True) for state in states]
    hx = None if not states else (tuple(states) if lstm else states[0])
    output = module(x, hx)
    pieces = list(output) if isinstance(output, tuple) else [output]
    if lstm:
        pieces = [pieces[0], *pieces[1]] if isinstance(pieces[1], tuple) else pieces
    total = sum((piece * library.tensor(weight)).sum() for piece, weight in zip(pieces, weights))
    total.backward()
    values = [piece.detach().numpy() for piece in pieces]
    grads = [x.grad.numpy()] + [state.grad.numpy() for state in states]
    return values, grads, [parameter.grad.numpy() for parameter in module.parameters()]


def _compare(ours, theirs):
    for mine, reference in zip(ours, theirs, strict=True):
        for a, b in zip(mine, reference, strict=True):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@given(kind=st.sampled_from(list(KINDS)), batch=st.integers(1, 3), length=st.integers(1, 5),
       input_size=st.integers(1, 4), hidden_size=st.integers(1, 4), num_layers=st.integers(1, 3),
       batch_first=st.booleans(), bidirectional=st.booleans(), bias=st.booleans(), unbatched=st.booleans(),
       first_state=st.booleans(), seed=st.integers(0, 10_000))
def test_layers_match_pytorch_values_and_gradients(torch, kind, batch, length, input_size, hidden_size, num_layers,
                                                   batch_first, bidirectional, bias, unbatched, first_state, seed):
    ours, theirs = _pair(torch, kind, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                         bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    rng = np.random.default_rng(seed)
    lstm = kind == "LSTM"
    directions = 2 if bidirectional else 1
    lead = (length,) if unbatched else (batch, length) if batch_first else (length, batch)
    state_shape = (num_layers * directions,) + (() if unbatched else (batch,)) + (hidden_size,)
    x = rng.normal(size=(*lead, input_size))
    states = [rng.normal(size=state_shape) for _ in range(2 if lstm else 1)] if first_state else []
    weights = [rng.normal(size=(*lead, directions * hidden_size))]
    weights += [rng.normal(size=state_shape) for _ in range(2 if lstm else 1)]
    _compare(_run(gg, ours, x, states, weights, lstm), _run(torch, theirs, x, states, weights, lstm))


@pytest.mark.torch
@given(kind=st.sampled_from(list(KINDS)), batch=st.integers(1, 4), input_size=st.integers(1, 5),
       hidden_size=st.integers(1, 5), bias=st.booleans(), unbatched=st.booleans(), first_state=st.booleans(),
       seed=st.integers(0, 10_000))
def test_cells_match_pytorch_values_and_gradients(torch, kind, batch, input_size, hidden_size, bias, unbatched,
                                                  first_state, seed):
    ours, theirs = _pair(torch, kind, cell=True, input_size=input_size, hidden_size=hidden_size, bias=bias)
    rng = np.random.default_rng(seed)
    lstm = kind == "LSTM"
    lead = () if unbatched else (batch,)
    x = rng.normal(size=(*lead, input_size))
    states = [rng.normal(size=(*lead, hidden_size)) for _ in range(2 if lstm else 1)] if first_state else []
    weights = [rng.normal(size=(*lead, hidden_size)) for _ in range(2 if lstm else 1)]
    _compare(_run(gg, ours, x, states, weights, lstm), _run(torch, theirs, x, states, weights, lstm))


@pytest.mark.torch
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("options", [{}, {"num_layers": 3, "bidirectional": True}, {"bias": False, "num_layers": 2}])
def test_parameter_names_shapes_and_all_weights_are_pytorchs(torch, kind, options):
    theirs = _class(torch, kind)(3, 5, **KINDS[kind], **options)
    ours = _class(gg, kind)(3, 5, **KINDS[kind], **options)
    assert [(name, tuple(value.shape)) for name, value in ours.state_dict().items()] == \
        [(name, tuple(value.shape)) for name, value in theirs.state_dict().items()]
    assert [[tuple(p.shape) for p in group] for group in ours.all_weights] == \
        [[tuple(p.shape) for p in group] for group in theirs.all_weights]
    ours.flatten_parameters()  # what PyTorch code calls for cuDNN: accepted, changes nothing
    assert [(name, tuple(value.shape)) for name, value in ours.state_dict().items()] == \
        [(name, tuple(value.shape)) for name, value in theirs.state_dict().items()]


@pytest.mark.torch
@pytest.mark.parametrize("kind", list(KINDS))
def test_cell_parameter_names_are_pytorchs(torch, kind):
    for bias in (True, False):
        assert list(_class(gg, kind, True)(3, 4, bias=bias).state_dict()) == \
            list(_class(torch, kind, True)(3, 4, bias=bias).state_dict())


@pytest.mark.torch
@pytest.mark.parametrize("kind", list(KINDS))
def test_without_bias_a_layer_has_no_bias_attributes_and_a_cell_has_none(torch, kind):
    for library in (gg, torch):
        layer = _class(library, kind)(3, 4, bias=False, **KINDS[kind])
        assert not hasattr(layer, "bias_ih_l0") and not hasattr(layer, "bias_hh_l0")
        cell = _class(library, kind, True)(3, 4, bias=False, **KINDS[kind])
        assert cell.bias_ih is None and cell.bias_hh is None


@pytest.mark.torch
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_cell_of_hidden_size_zero_runs_as_pytorchs(torch, kind):
    shapes = []
    for library in (gg, torch):
        cell = _class(library, kind, True)(3, 0, **KINDS[kind])
        out = cell(library.ones(2, 3, dtype=library.float32))
        shapes.append([tuple(part.shape) for part in (out if isinstance(out, tuple) else (out,))])
    assert shapes[0] == shapes[1]


@pytest.mark.torch
@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.GRU(3, 4)(lib.ones(2, 1, 3), (lib.zeros(1, 1, 4),)),
    lambda lib: lib.nn.LSTM(3, 4)(lib.ones(2, 1, 3), (lib.zeros(1, 1, 4), None)),
    lambda lib: lib.nn.GRUCell(3, 4)(lib.ones(2, 3), (lib.zeros(2, 4),)),
], ids=["GRU hx a tuple", "LSTM c_0 None", "GRUCell hx a tuple"])
def test_a_state_that_is_no_tensor_is_refused_in_one_line_naming_it(torch, make):
    with pytest.raises(TypeError, match=r"must be a tensor of shape \(\d+, (\d+, )?4\), got (tuple|NoneType)$") as ours:
        make(gg)
    assert "\n" not in str(ours.value)
    with pytest.raises(AttributeError):  # PyTorch's: 'tuple' object has no attribute 'dim'
        make(torch)


def test_an_unknown_mode_is_refused_naming_the_modes():
    with pytest.raises(ValueError, match="^RNNBase: unrecognized RNN mode 'FOO'; choose one of RNN_TANH, RNN_RELU, "
                                         "LSTM, GRU$"):
        gg.nn.RNNBase("FOO", 3, 4)


@pytest.mark.parametrize("kind", list(KINDS))
def test_init_is_uniform_within_one_over_root_hidden_and_seeded(kind):
    hidden = 64
    layer = _class(gg, kind)(48, hidden, num_layers=2, **KINDS[kind], seed=3)
    bound = 1 / math.sqrt(hidden)
    values = np.concatenate([p.numpy().ravel() for p in layer.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    # U(−b, b): mean 0, variance b²/3; with tens of thousands of draws both sit well inside these margins
    assert abs(values.mean()) < 0.02 * bound and abs(values.var() / (bound**2 / 3) - 1) < 0.05
    again = _class(gg, kind)(48, hidden, num_layers=2, **KINDS[kind], seed=3)
    other = _class(gg, kind)(48, hidden, num_layers=2, **KINDS[kind], seed=4)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(layer.parameters(), again.parameters()))
    assert not np.array_equal(layer.weight_hh_l0.numpy(), other.weight_hh_l0.numpy())
    gg.manual_seed(11)
    first = _class(gg, kind, True)(5, 6, **KINDS[kind])
    gg.manual_seed(11)
    assert np.array_equal(first.weight_ih.numpy(), _class(gg, kind, True)(5, 6, **KINDS[kind]).weight_ih.numpy())


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_gradients_match_finite_differences(kind):
    layer = _class(gg, kind)(2, 3, num_layers=2, bidirectional=True, dtype=gg.float64, seed=1)
    x = gg.randn(4, 2, 2, dtype=gg.float64, seed=2, requires_grad=True)

    def loss(x, *parameters):
        return layer(x)[0]

    assert gg.gradcheck(loss, [x, *layer.parameters()]).ok


def test_lstm_cell_step_is_the_gate_formulas():
    """One LSTMCell step against the docstring's formulas written out in NumPy."""
    cell = gg.nn.LSTMCell(3, 2, dtype=gg.float64, seed=5)
    rng = np.random.default_rng(0)
    x, h, c = rng.normal(size=(4, 3)), rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    h_next, c_next = cell(gg.tensor(x), (gg.tensor(h), gg.tensor(c)))
    w_ih, w_hh, b_ih, b_hh = (p.numpy() for p in cell.parameters())
    sums = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    i, f, g, o = sigmoid(sums[:, :2]), sigmoid(sums[:, 2:4]), np.tanh(sums[:, 4:6]), sigmoid(sums[:, 6:])
    expected_c = f * c + i * g
    np.testing.assert_allclose(c_next.numpy(), expected_c, rtol=1e-12)
    np.testing.assert_allclose(h_next.numpy(), o * np.tanh(expected_c), rtol=1e-12)


def test_gru_cell_applies_the_reset_gate_to_the_hidden_part_with_its_bias():
    """``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))``: b_hn is inside the product with r."""
    cell = gg.nn.GRUCell(2, 3, dtype=gg.float64, seed=7)
    rng = np.random.default_rng(1)
    x, h = rng.normal(size=(2, 2)), rng.normal(size=(2, 3))
    w_ih, w_hh, b_ih, b_hh = (p.numpy() for p in cell.parameters())
    into, hidden = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = 1 / (1 + np.exp(-(into[:, :3] + hidden[:, :3])))
    z = 1 / (1 + np.exp(-(into[:, 3:6] + hidden[:, 3:6])))
    n = np.tanh(into[:, 6:] + r * hidden[:, 6:])
    np.testing.assert_allclose(cell(gg.tensor(x), gg.tensor(h)).numpy(), (1 - z) * n + z * h, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_dropout_acts_between_layers_in_training_only(torch, kind):
    ours, theirs = _pair(torch, kind, input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    x = np.random.default_rng(0).normal(size=(6, 2, 3))
    theirs.eval()
    expected = theirs(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(ours.eval()(gg.tensor(x))[0].numpy(), expected, rtol=1e-9)
    gg.manual_seed(0)
    trained = ours.train()(gg.tensor(x))[0].numpy()
    assert not np.allclose(trained, expected)
    one = _class(gg, kind)(3, 4, num_layers=1, dropout=0.0, seed=0)
    assert np.array_equal(one.train()(gg.ones(2, 1, 3))[0].numpy(), one.eval()(gg.ones(2, 1, 3))[0].numpy())


def test_dropout_with_one_layer_warns_as_pytorch_does():
    with pytest.warns(UserWarning, match="acts between stacked layers only"):
        gg.nn.GRU(3, 4, dropout=0.2)


def test_trace_shows_the_gates_as_rows():
    cell = gg.nn.LSTMCell(2, 3, seed=0)
    x = gg.randn(1, 2, seed=1)
    with gg.trace() as tape:
        tape.watch(cell)
        h, c = cell(x)
        (h.sum() + c.sum()).backward()
    step = next(s for s in tape.describe()["forward"] if s["kind"] == "module")
    assert step["formula"] == "H₁ = LSTMCell(X)"
    assert sum("= σ(" in formula for formula in step["ops"]) == 3  # the input, forget and output gates
    assert sum("= tanh(" in formula for formula in step["ops"]) == 2  # the candidate and the cell's output


@pytest.mark.parametrize("kind", list(KINDS))
def test_trace_of_a_layer_whose_last_state_is_unused(kind):
    """The output is the layer's last op, so a trace's step for it ends there even when h_n gets no gradient."""
    layer = _class(gg, kind)(2, 3, num_layers=2, bidirectional=True, **KINDS[kind], seed=0)
    with gg.trace() as tape:
        tape.watch(layer)
        layer(gg.randn(4, 1, 2, seed=1))[0].sum().backward()
    described = tape.describe()
    assert described["forward"][0]["formula"] == f"H₁ = {type(layer).__name__}(X)"
    assert len(described["backward"]) == 1 + len(list(layer.parameters()))  # Σ, then one step per parameter


def test_trace_of_a_module_whose_last_output_is_unused():
    """A watched module whose last op gets no gradient (an unused second output): its backward step starts at the
    output that got one (the trace used to stop with StopIteration here)."""
    class TwoOutputs(gg.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = gg.nn.Parameter(gg.ones(3))

        def forward(self, x):
            y = (x * self.w).tanh()
            return y, y * 3

    module = TwoOutputs()
    with gg.trace() as tape:
        tape.watch(module)
        module(gg.randn(2, 3, seed=0))[0].sum().backward()
    described = tape.describe()
    assert described["forward"][0]["formula"] == "H₁ = TwoOutputs(X)"
    through = described["backward"][-1]  # the module's step, from ∂L/∂y (y: its first output, the one used)
    used = described["forward"][1]["formula"].split("Σ ")[1]
    assert through["formula"].startswith(f"∂v₁/∂w = ∂v₁/∂{used} back through TwoOutputs")
    assert through["into"] == "w.grad"
    np.testing.assert_allclose(through["output"]["values"], module.w.grad.numpy())


PACKED = "this PackedSequence is not glassgrad's \\(torch.nn.utils.rnn\\); build it with glassgrad"


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.LSTM(3, 4)(gg.zeros(5, 2, 6)), "input has 6 features .* input_size=3"),
    (lambda: gg.nn.GRUCell(3, 4)(gg.zeros(2, 5)), "input has 5 features .* input_size=3"),
    (lambda: gg.nn.RNN(3, 4)(gg.zeros(5, 2, 3), gg.zeros(1, 3, 4)),
     "RNN: Expected hidden size \\(1, 2, 4\\), got \\[1, 3, 4\\]; give states of that shape"),
    (lambda: gg.nn.RNN(3, 4, num_layers=2, bidirectional=True)(gg.zeros(5, 2, 3), gg.zeros(2, 2, 4)),
     "Expected hidden size \\(4, 2, 4\\), got \\[2, 2, 4\\]"),
    (lambda: gg.nn.LSTM(3, 4)(gg.zeros(5, 2, 3), gg.zeros(1, 2, 4)), "hx must be a tuple \\(h_0, c_0\\)"),
    (lambda: gg.nn.LSTM(3, 4)(gg.zeros(5, 2, 3), (gg.zeros(1, 2, 4), gg.zeros(1, 2, 5))),
     "LSTM: Expected hidden\\[1\\] size \\(1, 2, 4\\), got \\[1, 2, 5\\]"),
    (lambda: gg.nn.LSTMCell(3, 4)(gg.zeros(2, 3), gg.zeros(2, 4)), "hx must be a tuple \\(h, c\\)"),
    (lambda: gg.nn.GRU(3, 4)(gg.zeros(0, 2, 3)), "the input sequence has length 0"),
    (lambda: gg.nn.GRU(3, 4)(gg.zeros(2, 3, 4, 3)), "expected input of shape \\(L, N, H_in\\)"),
    (lambda: gg.nn.GRU(3, 4, batch_first=True)(gg.zeros(3)), "expected input of shape \\(N, L, H_in\\)"),
    (lambda: gg.nn.GRU(3, 4)(gg.zeros(5, 2, 3, dtype=gg.float64)), "input dtype float64 and the layer's dtype float32"),
    (lambda: gg.nn.LSTM(3, 4, proj_size=4), "proj_size must be 0 \\(none\\) or between 1 and hidden_size - 1 \\(3\\)"),
    (lambda: gg.nn.RNN(3, 4, nonlinearity="sigmoid"), "unknown nonlinearity 'sigmoid'"),
    (lambda: gg.nn.RNNCell(3, 4, nonlinearity="gelu"), "unknown nonlinearity 'gelu'"),
    (lambda: gg.nn.GRU(3, 0), "hidden_size must be a positive integer"),
    (lambda: gg.nn.LSTM(3, 4, num_layers=0), "num_layers must be a positive integer"),
    (lambda: gg.nn.LSTM(3, 4, num_layers=2, dropout=1.5), "dropout probability has to be between 0 and 1"),
    (lambda: gg.nn.LSTM(3, 4, dtype=gg.int64), "parameters need a floating dtype"),
])
def test_bad_arguments_are_one_line_errors(call, message):
    with pytest.raises((ValueError, TypeError, NotImplementedError, RuntimeError), match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


@pytest.mark.torch
def test_pytorchs_packed_sequence_is_refused_in_one_line(torch):
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.zeros(4, 2, 3), [4, 2])
    with pytest.raises(TypeError, match=PACKED) as caught:
        gg.nn.LSTM(3, 4)(packed)
    assert "\n" not in str(caught.value)


def test_unbatched_input_gives_unbatched_outputs():
    lstm = gg.nn.LSTM(3, 4, num_layers=2, bidirectional=True, seed=0)
    output, (h_n, c_n) = lstm(gg.ones(5, 3))
    assert (output.shape, h_n.shape, c_n.shape) == ((5, 8), (4, 4), (4, 4))
    batched, (h_batched, _) = lstm(gg.ones(5, 1, 3))
    np.testing.assert_array_equal(output.numpy(), batched[:, 0].numpy())
    np.testing.assert_array_equal(h_n.numpy(), h_batched[:, 0].numpy())


@pytest.mark.torch
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_float32_pytorch_model_loads_and_gives_its_numbers(torch, kind):
    """The everyday case: a float32 PyTorch layer's state_dict, as NumPy arrays, in a default glassgrad layer."""
    theirs = _class(torch, kind)(3, 5, num_layers=2, bidirectional=True, batch_first=True, **KINDS[kind])
    ours = _class(gg, kind)(3, 5, num_layers=2, bidirectional=True, batch_first=True, **KINDS[kind])
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()})
    x = np.random.default_rng(3).normal(size=(2, 7, 3)).astype(np.float32)
    output, expected = ours(gg.tensor(x))[0], theirs(torch.tensor(x))[0].detach().numpy()
    assert output.dtype == gg.float32
    np.testing.assert_allclose(output.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("kind, options", [("RNN", {}), ("GRU", {"num_layers": 2, "bidirectional": True}),
                                           ("LSTM", {"bias": False}), ("LSTM", {"proj_size": 2, "num_layers": 2})])
def test_flat_weights_names_are_pytorchs(torch, kind, options):
    """d2l.ai's ``xavier_init_weights`` reads ``m._flat_weights_names`` and ``m._parameters[name]`` of a GRU:
    AttributeError before."""
    ours, theirs = getattr(gg.nn, kind)(3, 4, **options), getattr(torch.nn, kind)(3, 4, **options)
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert all(weight is ours._parameters[name] for name, weight in zip(ours._flat_weights_names, ours._flat_weights))
    assert [w for layer in ours.all_weights for w in layer] == ours._flat_weights


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("cell", [False, True])
@pytest.mark.parametrize("wrong", ["input float64", "input int64", "state float64"])
def test_an_input_or_state_of_another_dtype_raises_pytorchs_error_type(torch, kind, cell, wrong):
    """PyTorch: a layer's input of another dtype is a ValueError, a cell's a RuntimeError; a state of another dtype is
    a RuntimeError for both (glassgrad raised ValueError for a cell's input, TypeError for a state)."""
    def outcome(library):
        layer = _class(library, kind, cell)(3, 4)
        batch = (2,) if cell else (2, 1)
        x = library.zeros(batch + (3,), dtype=library.int64 if wrong == "input int64" else
                          library.float64 if wrong == "input float64" else library.float32)
        hx = None
        if wrong == "state float64":
            state = library.zeros(((2,) if cell else (1, 1)) + (4,), dtype=library.float64)
            hx = (state, state) if kind == "LSTM" else state
        try:
            layer(x, hx)
        except Exception as error:  # noqa: BLE001 (its type is compared)
            return type(error), str(error)
        return None, ""

    (theirs, _), (ours, message) = outcome(torch), outcome(gg)
    assert theirs is not None and ours is theirs, message
    assert "dtype" in message and ".to(" in message and "\n" not in message


@pytest.mark.torch
@given(chunks=st.integers(1, 4), bias=st.booleans(), sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)))
def test_a_cell_of_ones_own_builds_on_rnn_cell_base_with_num_chunks_as_pytorchs(torch, chunks, bias, sizes):
    """``class MyCell(nn.RNNCellBase): super().__init__(n_in, H, bias, num_chunks=k)`` (PyTorch's base): glassgrad's
    base took a mode string first, so such a cell raised TypeError. The weights' names and shapes are PyTorch's, and a
    forward written with them gives PyTorch's numbers."""
    n_in, hidden = sizes

    def run(library):
        class MinimalCell(library.nn.RNNCellBase):
            def __init__(self):
                super().__init__(n_in, hidden, bias, num_chunks=chunks)

            def forward(self, x, h):
                gates = x @ self.weight_ih.T + h @ self.weight_hh.T
                if self.bias_ih is not None:
                    gates = gates + self.bias_ih + self.bias_hh
                return sum(gates.chunk(chunks, 1)).tanh()

        cell = MinimalCell().double()
        with library.no_grad():
            for number, parameter in enumerate(cell.parameters()):
                parameter.copy_(library.linspace(-1.0, 0.5 + number, parameter.numel(), dtype=library.float64)
                                .reshape(parameter.shape))
        x = library.tensor(np.linspace(-1, 1, 2 * n_in).reshape(2, n_in))
        h = library.tensor(np.linspace(1, -1, 2 * hidden).reshape(2, hidden))
        out = cell(x, h)
        out.sum().backward()
        return ({name: tuple(p.shape) for name, p in cell.named_parameters()}, out.detach().numpy(),
                cell.weight_ih.grad.numpy())

    (our_shapes, *ours), (their_shapes, *theirs) = run(gg), run(torch)
    assert our_shapes == their_shapes
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-13)


def _reweight(library, module, name: str, how: str) -> None:
    """Make ``module``'s weight ``name`` a function of another tensor: PyTorch's weight_norm (of a matrix), a
    parametrization of one's own (W ↦ 2·W − 0.5), or AWD-LSTM's WeightDrop way (the parameter deleted, a plain tensor
    set in its place)."""
    if how == "weight_norm":
        library.nn.utils.parametrizations.weight_norm(module, name)
    elif how == "own parametrization":
        class Affine(library.nn.Module):
            def forward(self, weight):
                return 2 * weight - 0.5

        library.nn.utils.parametrize.register_parametrization(module, name, Affine())
    else:
        raw = module._parameters.pop(name)
        module.register_parameter(name + "_raw", library.nn.Parameter(raw.detach().clone()))
        setattr(module, name, getattr(module, name + "_raw") * 0.5)


@pytest.mark.torch
@given(kind=st.sampled_from(list(KINDS)), num_layers=st.integers(1, 2), bidirectional=st.booleans(),
       how=st.sampled_from(["weight_norm", "own parametrization", "weight drop"]), pick=st.integers(0, 100),
       seed=st.integers(0, 10_000))
def test_a_parametrized_or_replaced_weight_is_the_one_the_layer_uses_as_pytorchs(torch, kind, num_layers,
                                                                                 bidirectional, how, pick, seed):
    """``parametrizations.weight_norm(lstm, "weight_hh_l0")``, ``orthogonal``, ``register_parametrization`` or a
    weight set as a plain tensor: the layer reads each weight as an attribute, as PyTorch's does. glassgrad read
    ``_parameters``, where a parametrized weight is not: an AttributeError for a weight, and for a bias the step
    silently ran without it."""
    ours, theirs = _pair(torch, kind, input_size=3, hidden_size=4, num_layers=num_layers,
                         bidirectional=bidirectional)
    names = [name for name in theirs._flat_weights_names if how != "weight_norm" or name.startswith("weight")]
    name = names[pick % len(names)]
    rng = np.random.default_rng(seed)
    x, weights = rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 2, (1 + bidirectional) * 4))

    def run(library, module):
        _reweight(library, module, name, how)
        output = module(library.tensor(x))[0]
        (output * library.tensor(weights)).sum().backward()
        gradients = {key: parameter.grad.numpy() for key, parameter in module.named_parameters()}
        return output.detach().numpy(), gradients, [w.detach().numpy() for layer in module.all_weights for w in layer]

    (output, gradients, all_weights), (expected, expected_gradients, expected_weights) = run(gg, ours), run(torch,
                                                                                                               theirs)
    np.testing.assert_allclose(output, expected, rtol=1e-9, atol=1e-12)
    assert list(gradients) == list(expected_gradients)
    for key, gradient in gradients.items():
        np.testing.assert_allclose(gradient, expected_gradients[key], rtol=1e-9, atol=1e-12, err_msg=key)
    for weight, expected_weight in zip(all_weights, expected_weights, strict=True):
        np.testing.assert_allclose(weight, expected_weight, rtol=1e-12)
