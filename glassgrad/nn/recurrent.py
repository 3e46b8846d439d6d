"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` over whole sequences, and their one-step cells.

A recurrent layer reads a sequence x₁ … x_T one step at a time and carries a hidden state hₜ
from step to step, so that the output at step t can depend on everything read so far. Each
step is made of ordinary rows (``linear``, ``σ``, ``tanh``, ``·``, ``+``), so backward needs
no code here ("backpropagation through time" is what the rows give) and a trace shows every
gate. With ``Wᵢ·`` the weights acting on the input and ``W_h·`` those on the previous state:

* ``RNN``:   hₜ = tanh(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh)    (``nonlinearity="relu"``: ReLU)
* ``LSTM``:  iₜ = σ(W_ii xₜ + b_ii + W_hi hₜ₋₁ + b_hi)        input gate
             fₜ = σ(W_if xₜ + b_if + W_hf hₜ₋₁ + b_hf)        forget gate
             gₜ = tanh(W_ig xₜ + b_ig + W_hg hₜ₋₁ + b_hg)     candidate cell
             oₜ = σ(W_io xₜ + b_io + W_ho hₜ₋₁ + b_ho)        output gate
             cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ,     hₜ = oₜ ⊙ tanh(cₜ)
* ``GRU``:   rₜ = σ(W_ir xₜ + b_ir + W_hr hₜ₋₁ + b_hr)        reset gate
             zₜ = σ(W_iz xₜ + b_iz + W_hz hₜ₋₁ + b_hz)        update gate
             nₜ = tanh(W_in xₜ + b_in + rₜ ⊙ (W_hn hₜ₋₁ + b_hn))
             hₜ = (1 − zₜ) ⊙ nₜ + zₜ ⊙ hₜ₋₁

PyTorch's layout: the gates' weights are stacked in that order (i, f, g, o and r, z, n) in
``weight_ih_l{k}`` (gates·H, input) and ``weight_hh_l{k}`` (gates·H, H), with biases
``bias_ih_l{k}`` and ``bias_hh_l{k}``; ``_reverse`` names the backward direction of a
bidirectional layer. Every weight and bias starts uniform in ``(−1/√H, 1/√H)``.

**Projections** (``LSTM(proj_size=P)``, 0 < P < H): the hidden state is made narrower by a weight
``weight_hr_l{k}`` (P, H) without bias, ``hₜ = W_hr·(oₜ ⊙ tanh(cₜ))``; the cell state keeps its H entries.
So ``weight_hh`` is (4H, P), a deeper layer reads D·P features, and ``output`` and ``h_n`` have P.

**Packed sequences** (:class:`~glassgrad.nn.utils.rnn.PackedSequence`): sequence n runs for its own
ℓₙ steps. The packed batch is sorted by decreasing length, so the sequences running at step t are
the first ``batch_sizes[t]`` rows, and the loop is the same as for a padded batch but for the rows
it works on: going forward, step t runs the first ``batch_sizes[t]`` rows of the state, and the
rows it drops (sequences that ended at t − 1) keep their last state, which is their ``h_n``;
going backward (the second direction of a bidirectional layer), a sequence joins at its own last
step ℓₙ − 1 with its first state. Every cut and join is an ordinary row (``split``, ``cat``), so
the gradients follow.

>>> import glassgrad as gg
>>> lstm = gg.nn.LSTM(input_size=3, hidden_size=5, batch_first=True, seed=0)
>>> output, (h_n, c_n) = lstm(gg.ones(2, 4, 3))
>>> output.shape, h_n.shape, c_n.shape
(Size([2, 4, 5]), Size([1, 2, 5]), Size([1, 2, 5]))
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..creation import as_tensor, pick_generator
from ..device import check_device
from ..functions import cat, linear, stack
from ..tensor import Tensor
from . import init
from .dropout import _check_probability, dropout
from .linear import check_size, float_dtype
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence, batch_sizes_of

State = tuple[Tensor, ...]
"""A step's state: ``(h,)`` for RNN and GRU, ``(h, c)`` for LSTM."""

Step = Callable[[Tensor, State, Tensor, Tensor | None], State]
"""One step: ``(W_ih xₜ + b_ih, state, W_hh, b_hh) → next state``."""


def rnn_tanh_step(projected: Tensor, state: State, weight_hh: Tensor, bias_hh: Tensor | None) -> State:
    """``hₜ = tanh(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh)``."""
    return ((projected + linear(state[0], weight_hh, bias_hh)).tanh(),)


def rnn_relu_step(projected: Tensor, state: State, weight_hh: Tensor, bias_hh: Tensor | None) -> State:
    """``hₜ = ReLU(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh)``."""
    return ((projected + linear(state[0], weight_hh, bias_hh)).relu(),)


def lstm_step(projected: Tensor, state: State, weight_hh: Tensor, bias_hh: Tensor | None) -> State:
    """``cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ``, ``hₜ = oₜ ⊙ tanh(cₜ)``, the four gates from one stacked sum (i, f, g, o)."""
    hidden, cell = state
    i, f, g, o = (projected + linear(hidden, weight_hh, bias_hh)).chunk(4, -1)
    cell = f.sigmoid() * cell + i.sigmoid() * g.tanh()
    return o.sigmoid() * cell.tanh(), cell


def gru_step(projected: Tensor, state: State, weight_hh: Tensor, bias_hh: Tensor | None) -> State:
    """``hₜ = (1 − zₜ) ⊙ nₜ + zₜ ⊙ hₜ₋₁`` with ``nₜ = tanh(W_in xₜ + b_in + rₜ ⊙ (W_hn hₜ₋₁ + b_hn))``."""
    hidden = state[0]
    input_r, input_z, input_n = projected.chunk(3, -1)
    hidden_r, hidden_z, hidden_n = linear(hidden, weight_hh, bias_hh).chunk(3, -1)
    reset = (input_r + hidden_r).sigmoid()
    update = (input_z + hidden_z).sigmoid()
    candidate = (input_n + reset * hidden_n).tanh()
    return ((1 - update) * candidate + update * hidden,)


STEPS: dict[str, tuple[int, Step]] = {
    "RNN_TANH": (1, rnn_tanh_step), "RNN_RELU": (1, rnn_relu_step), "LSTM": (4, lstm_step), "GRU": (3, gru_step),
}
"""Each kind of layer: how many gates its weights stack, and its step."""


def _rnn_mode(nonlinearity: Any, owner: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{owner}: unknown nonlinearity {nonlinearity!r}; choose 'tanh' or 'relu'")
    return f"RNN_{nonlinearity.upper()}"


def _add_weights(module: Module, suffix: str, input_size: int, hidden_size: int, gates: int, bias: bool,
                 dtype: np.dtype, proj_size: int = 0) -> None:
    """Register ``weight_ih{suffix}``, ``weight_hh{suffix}`` and, with ``bias``, ``bias_ih{suffix}`` and
    ``bias_hh{suffix}``; with ``proj_size``, ``weight_hr{suffix}`` (P, H) too. Without ``bias`` a cell (no suffix)
    has None in the biases' places, and a layer no such attributes, as in PyTorch."""
    rows = gates * hidden_size
    module.register_parameter(f"weight_ih{suffix}", Parameter(np.empty((rows, input_size), dtype=dtype)))
    module.register_parameter(f"weight_hh{suffix}",
                              Parameter(np.empty((rows, proj_size or hidden_size), dtype=dtype)))
    for name in (f"bias_ih{suffix}", f"bias_hh{suffix}"):
        if bias or not suffix:
            module.register_parameter(name, Parameter(np.empty(rows, dtype=dtype)) if bias else None)
    if proj_size:
        module.register_parameter(f"weight_hr{suffix}", Parameter(np.empty((proj_size, hidden_size), dtype=dtype)))


def _draw_uniform(module: Module, hidden_size: int, generator: np.random.Generator | None) -> None:
    """Every parameter of ``module`` from ``U(−1/√H, 1/√H)``, as PyTorch's recurrent layers start (a cell of
    hidden size 0 has no numbers to draw)."""
    bound = 1 / math.sqrt(hidden_size) if hidden_size else 0.0
    for parameter in module.parameters():
        init.uniform_(parameter, -bound, bound, generator=generator)


def _refuse_packed(input: Any, owner: str) -> None:
    """A PackedSequence where a tensor is expected: a cell's step, or one that is not glassgrad's (PyTorch's)."""
    if isinstance(input, PackedSequence):
        raise TypeError(f"{owner}: takes one step (a tensor), not a PackedSequence; run the sequences through "
                        "nn.RNN, nn.LSTM or nn.GRU instead")
    if not isinstance(input, Tensor) and hasattr(input, "batch_sizes"):
        raise TypeError(f"{owner}: this PackedSequence is not glassgrad's ({type(input).__module__}); build it with "
                        "glassgrad.nn.utils.rnn.pack_padded_sequence")


def _floating_input(input: Any, owner: str, dims: tuple[int, ...], layout: str, input_size: int,
                    dtype: np.dtype, dtype_error: type[Exception] = ValueError,
                    dims_error: type[Exception] = ValueError) -> Tensor:
    """``input`` as a tensor of ``dims`` dims (else ``dims_error``: PyTorch's layers raise ValueError for a padded
    batch, RuntimeError for a packed one's data) whose last dim is ``input_size``, in the layer's dtype (else
    ``dtype_error``: PyTorch's layers raise ValueError, its cells RuntimeError)."""
    _refuse_packed(input, owner)
    input = as_tensor(input)
    if input.ndim not in dims:
        raise dims_error(f"{owner}: expected input of shape {layout}, got {shape_text(input.shape)}")
    if input.shape[-1] != input_size:
        raise RuntimeError(f"{owner}: input has {input.shape[-1]} features (its last dim) but the layer was built "
                         f"with input_size={input_size}")
    if input.dtype != dtype:
        raise dtype_error(f"{owner}: input dtype {input.dtype} and the layer's dtype {dtype} differ; convert the "
                          f"input with .to({dtype}) or the layer with .to({input.dtype})")
    return input


def _check_state(state: Any, expected: tuple[int, ...], name: str, owner: str, dtype: np.dtype,
                 check_shape: bool = True) -> Tensor:
    """``state`` as a tensor in the layer's dtype, of shape ``expected`` when ``check_shape`` (a layer's states are
    measured by its :meth:`RNNBase.check_forward_args` instead, as PyTorch's)."""
    if not isinstance(state, Tensor):
        raise TypeError(f"{owner}: {name} must be a tensor of shape {shape_text(expected)}, got "
                        f"{type(state).__name__}")
    if check_shape and state.shape != expected:
        raise RuntimeError(f"{owner}: {name} must have shape {shape_text(expected)}, got {shape_text(state.shape)}")
    if state.dtype != dtype:
        raise RuntimeError(f"{owner}: {name} dtype {state.dtype} and the layer's dtype {dtype} differ; "
                           f"convert it with .to({dtype})")
    return state


def _states(hx: Any, shapes: list[tuple[int, ...]], names: tuple[str, ...], owner: str,
            dtype: np.dtype, check_shapes: bool = True) -> list[Tensor]:
    """The state tensors called ``names`` (one, or LSTM's two) of ``shapes``, from ``hx`` (None: zeros)."""
    if hx is None:
        return [Tensor._wrap(np.zeros(shape, dtype=dtype)) for shape in shapes]
    if len(names) == 1:
        return [_check_state(hx, shapes[0], names[0], owner, dtype, check_shapes)]
    wanted = (f"{owner}: hx must be a tuple ({', '.join(names)}) of two tensors of shapes "
              f"{' and '.join(map(shape_text, shapes))}")
    if not isinstance(hx, (tuple, list)):
        raise TypeError(f"{wanted}, got {type(hx).__name__}")
    if len(hx) != len(names):  # PyTorch's class for a tuple of 1 or 3 states: RuntimeError
        raise RuntimeError(f"{wanted}, got a {type(hx).__name__} of {len(hx)}")
    return [_check_state(state, shape, name, owner, dtype, check_shapes)
            for state, shape, name in zip(hx, shapes, names)]


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters per layer and direction, and the loop over time.

    ``forward(input, hx=None)``: ``input`` (L, N, H_in), (N, L, H_in) with ``batch_first=True``,
    or unbatched (L, H_in), or a :class:`~glassgrad.nn.utils.rnn.PackedSequence` (``batch_first`` does not apply;
    the output is then a PackedSequence too); ``hx`` the first state(s) (D·num_layers, N, H) (or (D·num_layers, H)
    unbatched, D = 2 if bidirectional else 1), zeros when None. Returns ``(output, h_n)``
    (LSTM: ``(output, (h_n, c_n))``): ``output`` holds the last layer's hₜ at every step, both
    directions side by side (… , D·H); ``h_n`` the last state of every layer and direction,
    in the order layer 0 forward, layer 0 backward, layer 1 forward, … (for a packed input: each sequence's
    state at its own last step, in the caller's order).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None, *, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__()
        owner = type(self).__name__
        if mode not in STEPS:
            raise ValueError(f"{owner}: unrecognized RNN mode {mode!r}; choose one of {', '.join(STEPS)}")
        self.mode = mode
        self.input_size = check_size(input_size, "input_size", owner, leads=False)
        # the weights are (gates·hidden_size, ·): hidden_size leads them where there is one gate (RNN)
        self.hidden_size = check_size(hidden_size, "hidden_size", owner, leads=STEPS[mode][0] == 1)
        self.num_layers = check_size(num_layers, "num_layers", owner, leads=False)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number):
            message = (f"{owner}: dropout must be a number between 0 and 1 (the probability of zeroing an entry "
                       f"between layers), got {dropout!r}")
            try:  # PyTorch's classes: float(dropout)'s (None: TypeError), then ValueError for what is no number
                float(dropout)
            except (TypeError, ValueError) as error:
                raise type(error)(message) from None
            raise ValueError(message)
        self.dropout = _check_probability(float(dropout))
        self.bidirectional = bool(bidirectional)
        self.proj_size = check_size(proj_size, "proj_size", owner, smallest=0)  # 1.5, 1.0, True: PyTorch's TypeError
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"{owner}: proj_size must be 0 (none) or between 1 and hidden_size - 1 "
                             f"({self.hidden_size - 1}), got proj_size={proj_size}")
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(f"{owner}: dropout={self.dropout} acts between stacked layers only, and there is one "
                          "layer (num_layers=1): it does nothing", UserWarning, stacklevel=3)
        dtype = float_dtype(dtype, owner)
        gates = STEPS[mode][0]
        directions = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else directions * (self.proj_size or self.hidden_size)
            for direction in range(directions):
                _add_weights(self, self._suffix(layer, direction), width, self.hidden_size, gates, self.bias, dtype,
                             self.proj_size)
        self.reset_parameters(pick_generator(seed, generator))

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction else "")

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Draw fresh parameters: every weight and bias ``~ U(−1/√H, 1/√H)``."""
        _draw_uniform(self, self.hidden_size, generator)

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights for cuDNN here; glassgrad's stay where they are, so this does nothing."""

    def permute_hidden(self, hx: Any, permutation: Tensor | None) -> Any:
        """``hx`` (a state (D·num_layers, N, H), or a tuple of them: LSTM's ``(h, c)``) with its batch rows (dim 1) in
        the order ``permutation`` gives (None: ``hx`` itself). A packed batch's ``sorted_indices`` take the caller's
        states to the packed (sorted) order, its ``unsorted_indices`` back, as PyTorch's method of this name does."""
        if permutation is None:
            return hx
        if isinstance(hx, tuple):
            return tuple(state.index_select(1, permutation) for state in hx)
        return hx.index_select(1, permutation)

    def _names_by_layer(self) -> list[list[str]]:
        """The parameter names of each layer and direction: ``[[weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0],
        …]`` (then ``weight_hr_l0`` with ``proj_size``)."""
        directions = 2 if self.bidirectional else 1
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if self.bias else ("weight_ih", "weight_hh")
        names += ("weight_hr",) if self.proj_size else ()
        return [[name + self._suffix(layer, direction) for name in names]
                for layer in range(self.num_layers) for direction in range(directions)]

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """The weights of each layer and direction (:meth:`_names_by_layer`), as the layer reads them."""
        return [[getattr(self, name) for name in names] for names in self._names_by_layer()]

    @property
    def _flat_weights_names(self) -> list[str]:
        """PyTorch's (private) list of the parameter names, layer by layer and direction by direction, which d2l.ai's
        ``xavier_init_weights`` reads (``m._parameters[name]`` for each)."""
        return [name for names in self._names_by_layer() for name in names]

    @property
    def _flat_weights(self) -> list[Tensor]:
        """The weights of :attr:`_flat_weights_names`, in the same order, as the layer reads them."""
        return [getattr(self, name) for name in self._flat_weights_names]

    def config(self) -> dict[str, Any]:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                "bias": self.bias, "batch_first": self.batch_first, "dropout": self.dropout,
                "bidirectional": self.bidirectional}

    def check_input(self, input: Tensor, batch_sizes: Any) -> None:
        """PyTorch's check of what the layers read: ``input`` (L, N, H_in) ((N, L, H_in) with ``batch_first``; an
        unbatched one with its batch dim of 1 added), or a packed batch's data (Σ lengths, H_in) when ``batch_sizes``
        is given. It must have 3 dims (2 packed) and ``input_size`` features (else RuntimeError), in the layer's
        dtype (else ValueError). :meth:`forward` calls it through :meth:`check_forward_args`, as PyTorch's does, so a
        layer of one's own may override either."""
        packed = batch_sizes is not None
        layout = ("(Σ lengths, H_in) as a PackedSequence's data" if packed else
                  "(N, L, H_in)" if self.batch_first else "(L, N, H_in)")
        _floating_input(input, type(self).__name__, (2 if packed else 3,), layout, self.input_size,
                        self._flat_weights[0].dtype, dims_error=RuntimeError)

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Any) -> tuple[int, int, int]:
        """The shape of ``h_0`` for ``input`` (3 dims) or a packed batch's ``batch_sizes``: (D·num_layers, N, H),
        H being ``proj_size`` when there is one."""
        batch = int(batch_sizes[0]) if batch_sizes is not None else input.shape[0 if self.batch_first else 1]
        return (self.num_layers * (2 if self.bidirectional else 1), batch, self.proj_size or self.hidden_size)

    def check_hidden_size(self, hx: Tensor, expected_hidden_size: tuple[int, ...],
                          msg: str = "Expected hidden size {}, got {}") -> None:
        """RuntimeError with ``msg`` (formatted with the expected shape and ``hx``'s, as PyTorch's) unless ``hx``
        has the shape ``expected_hidden_size``."""
        if tuple(hx.shape) != tuple(expected_hidden_size):
            raise RuntimeError(f"{type(self).__name__}: {msg.format(tuple(expected_hidden_size), list(hx.shape))}; "
                               "give states of that shape, or hx=None for zeros")

    def check_forward_args(self, input: Tensor, hidden: Any, batch_sizes: Any) -> None:
        """:meth:`check_input`, then ``hidden``'s shape (:meth:`get_expected_hidden_size`)."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def _first_states(self, input: Tensor, hx: Any, batch_sizes: Any, batched: bool) -> list[Tensor]:
        """The first state(s) as (D·num_layers, N, H) tensors (h: (D·num_layers, N, P) with ``proj_size``; zeros
        when ``hx`` is None; an unbatched input's (D·num_layers, H) states get their batch dim of 1), checked with
        ``input`` (3 dims) by :meth:`check_forward_args`."""
        owner = type(self).__name__
        if self.proj_size and self.mode != "LSTM":  # PyTorch builds it (proj_size given by position), never runs it
            raise RuntimeError(f"{owner}: proj_size={self.proj_size} is an LSTM's only, so this layer cannot run; "
                               f"build it without proj_size (the 9th positional argument)")
        names = ("h_0", "c_0") if self.mode == "LSTM" else ("h_0",)
        hidden = self.get_expected_hidden_size(input, batch_sizes)
        shapes = [hidden, hidden[:2] + (self.hidden_size,)][:len(names)]
        if not batched:
            shapes = [shape[:1] + shape[2:] for shape in shapes]
        states = _states(hx, shapes, names, owner, self._flat_weights[0].dtype, check_shapes=False)
        if not batched:
            for state, name in zip(states, names):
                if state.ndim != 2:  # PyTorch's class: RuntimeError
                    raise RuntimeError(f"{owner}: for an unbatched 2-D input, {name} must be 2-D too "
                                       f"{shape_text(shapes[0][:1] + state.shape[-1:])}, got "
                                       f"{shape_text(state.shape)}")
            states = [state.unsqueeze(1) for state in states]
        self.check_forward_args(input, states[0] if len(states) == 1 else tuple(states), batch_sizes)
        return states

    def _direction(self, sequence: Tensor, batch_sizes: list[int] | None, first: State, layer: int,
                   direction: int) -> tuple[list[Tensor], State]:
        """One direction of one layer: every hₜ in time order, and each sequence's last state.

        ``sequence`` is (L, N, in), or a packed batch's data (Σ batch_sizes, in) with ``batch_sizes``. ``W_ih xₜ +
        b_ih`` is one ``linear`` for all steps at once, cut into steps by ``unbind`` (``split`` for a packed batch;
        either way backward writes every step's gradient into one buffer: linear in L); only ``W_hh hₜ₋₁`` waits
        for the step before. A packed step has fewer rows than the state when sequences have ended (forward) or
        more when sequences start at their last step (backward); a padded one always as many. The weights are
        read as attributes, as PyTorch's layer reads them, so that a parametrized one (``weight_norm``,
        ``orthogonal``, a ``register_parametrization`` of one's own) is the weight the step uses.
        """
        suffix = self._suffix(layer, direction)
        weight_ih, bias_ih, weight_hh, bias_hh, weight_hr = (getattr(self, name + suffix, None) for name in
                                                             ("weight_ih", "bias_ih", "weight_hh", "bias_hh",
                                                              "weight_hr"))
        projected = linear(sequence, weight_ih, bias_ih)  # one gradient buffer for all steps
        projected = projected.unbind(0) if batch_sizes is None else projected.split(batch_sizes)
        step = STEPS[self.mode][1]
        state = _first_rows(first, projected[-1].shape[0]) if direction else first
        outputs, ended = [], []
        for projected_t in reversed(projected) if direction else projected:
            active, running = projected_t.array.shape[0], state[0].array.shape[0]
            if active < running:  # the last rows' sequences ended at the step before: their state is final
                state, last = zip(*(part.split([active, running - active]) for part in state))
                ended.append(last)
            elif active > running:  # the next rows' sequences start here, at their last step
                state = tuple(cat([part, start[running:active]], 0) for part, start in zip(state, first))
            state = step(projected_t, state, weight_hh, bias_hh)
            if weight_hr is not None:  # hₜ = W_hr·(oₜ ⊙ tanh(cₜ))
                state = (linear(state[0], weight_hr), *state[1:])
            outputs.append(state[0])
        if direction:
            outputs.reverse()
        if ended:  # rows in order: the longest sequences (still running) first, those that ended first last
            state = tuple(cat([part, *reversed(lasts)], 0) for part, *lasts in zip(state, *ended))
        return outputs, state

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        owner = type(self).__name__
        if isinstance(input, PackedSequence):
            batch_sizes = batch_sizes_of(input)
            first = self._first_states(input.data, hx, batch_sizes, True)
            first = list(self.permute_hidden(tuple(first), input.sorted_indices))  # caller's order → packed order
            finals, steps = self._layers(input.data, batch_sizes, first)
            finals = list(self.permute_hidden(tuple(finals), input.unsorted_indices))  # packed order → caller's
            return PackedSequence(_side_by_side(steps, True), *input[1:]), self._result_states(finals)
        _refuse_packed(input, owner)
        input = as_tensor(input)
        if input.ndim not in (2, 3):  # PyTorch's forward: ValueError
            layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise ValueError(f"{owner}: expected input of shape {layout} or unbatched (L, H_in), got "
                             f"{shape_text(input.shape)}")
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        first = self._first_states(input, hx, None, batched)
        sequence = input.transpose(0, 1) if self.batch_first else input
        if sequence.shape[0] == 0:  # PyTorch's class: RuntimeError
            raise RuntimeError(f"{owner}: the input sequence has length 0 ({shape_text(sequence.shape)}); "
                               "give at least one step")
        finals, steps = self._layers(sequence, None, first)
        output = _side_by_side(steps, False)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            finals = [final.squeeze(1) for final in finals]
            output = output.squeeze(0 if self.batch_first else 1)
        return output, self._result_states(finals)

    def _layers(self, sequence: Tensor, batch_sizes: list[int] | None,
                first: list[Tensor]) -> tuple[list[Tensor], list[list[Tensor]]]:
        """Every layer and direction over ``sequence`` (padded (L, N, in), or packed data with ``batch_sizes``):
        the last states stacked (D·num_layers, N, H), one tensor per state part, and the last layer's hₜ per
        direction (the caller joins them last, so that the output is the layer's last op: a trace's step for
        it ends there)."""
        directions = 2 if self.bidirectional else 1
        packed = batch_sizes is not None
        last_states, steps = [], []
        for layer in range(self.num_layers):
            if layer:
                sequence = _side_by_side(steps, packed)
                if self.dropout and self.training:
                    sequence = dropout(sequence, self.dropout)
            steps = []
            for direction in range(directions):
                index = layer * directions + direction
                outputs, state = self._direction(sequence, batch_sizes, tuple(state[index] for state in first),
                                                 layer, direction)
                steps.append(outputs)
                last_states.append(state)
        return [stack([state[part] for state in last_states], 0) for part in range(len(first))], steps

    def _result_states(self, finals: list[Tensor]) -> Any:
        """``h_n``, or LSTM's ``(h_n, c_n)``."""
        return (finals[0], finals[1]) if self.mode == "LSTM" else finals[0]


def _side_by_side(steps: list[list[Tensor]], packed: bool) -> Tensor:
    """A layer's output from each direction's hₜ, the directions side by side: (L, N, D·H) stacked over time, or
    for a packed batch (Σ batch_sizes, D·H), the steps' rows one after another."""
    per_direction = [(cat if packed else stack)(outputs, 0) for outputs in steps]
    return per_direction[0] if len(per_direction) == 1 else cat(per_direction, -1)


def _first_rows(state: State, rows: int) -> State:
    """The first ``rows`` rows of each part of ``state`` (the state itself when that is all of them)."""
    return state if state[0].shape[0] == rows else tuple(part[:rows] for part in state)


def _positional_tail(owner: str, tail: tuple, keywords: dict[str, Any], device: Any, dtype: Any) -> tuple:
    """``(proj_size, device, dtype)`` of an RNN or GRU, as PyTorch's constructors read them: by position only after
    ``bidirectional`` (its ``RNNBase.__init__``'s order; 0 when not given), ``device``/``dtype`` also by keyword. A
    ``proj_size`` keyword is refused even when 0 (PyTorch's ValueError: a projection is an LSTM's), as are more
    positions than PyTorch takes and unknown keywords (its TypeError)."""
    if "proj_size" in keywords:
        raise ValueError(f"{owner}: proj_size argument is only supported for LSTM, not RNN or GRU "
                         f"(got proj_size={keywords['proj_size']!r}); use nn.LSTM(..., proj_size=...)")
    if keywords:
        raise TypeError(f"{owner}.__init__() got an unexpected keyword argument {next(iter(keywords))!r}")
    if len(tail) > 3:
        raise TypeError(f"{owner}.__init__() takes at most 3 positional arguments after bidirectional (proj_size, "
                        f"device, dtype) but {len(tail)} were given; pass seed= and generator= by keyword")
    given = {"device": device, "dtype": dtype}
    for name, position in (("device", 1), ("dtype", 2)):
        if len(tail) > position and given[name] is not None:
            raise TypeError(f"{owner}.__init__() got multiple values for argument {name!r}")
    proj_size, device, dtype = tail + (0, device, dtype)[len(tail):]
    return proj_size, device, dtype


class RNN(RNNBase):
    """An Elman RNN: ``hₜ = tanh(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh)`` (or ReLU), stacked ``num_layers`` deep.

    PyTorch's arguments and parameters (see :class:`RNNBase` for the shapes); ``dropout`` acts on
    each layer's output but the last, in training; ``seed=``/``generator=`` choose the init draws.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 *tail: Any, device: Any = None, dtype: Any = None, seed: int | None = None,
                 generator: np.random.Generator | None = None, **keywords: Any) -> None:
        proj_size, device, dtype = _positional_tail("RNN", tail, keywords, device, dtype)
        check_device(device)
        super().__init__(_rnn_mode(nonlinearity, "RNN"), input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, dtype=dtype, seed=seed, generator=generator)
        self.nonlinearity = nonlinearity

    def config(self) -> dict[str, Any]:
        return {**super().config(), "nonlinearity": self.nonlinearity}


class LSTM(RNNBase):
    """Long short-term memory: gates decide what the cell state ``cₜ`` forgets, adds and shows.

    ``iₜ = σ(W_ii xₜ + b_ii + W_hi hₜ₋₁ + b_hi)``, ``fₜ = σ(W_if xₜ + b_if + W_hf hₜ₋₁ + b_hf)``,
    ``gₜ = tanh(W_ig xₜ + b_ig + W_hg hₜ₋₁ + b_hg)``, ``oₜ = σ(W_io xₜ + b_io + W_ho hₜ₋₁ + b_ho)``,
    ``cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ``, ``hₜ = oₜ ⊙ tanh(cₜ)``. Returns ``(output, (h_n, c_n))``;
    ``hx`` is a tuple ``(h_0, c_0)``. ``proj_size=P`` projects each hₜ to P features with
    ``weight_hr_l{k}`` (see the module docstring).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None, *, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, dtype=dtype, seed=seed, generator=generator)

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Any) -> tuple[int, int, int]:
        """The shape of ``c_0``: (D·num_layers, N, hidden_size), even with ``proj_size``."""
        return self.get_expected_hidden_size(input, batch_sizes)[:2] + (self.hidden_size,)

    def check_forward_args(self, input: Tensor, hidden: Any, batch_sizes: Any) -> None:
        """:meth:`check_input`, then the shapes of ``hidden = (h_0, c_0)``."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def config(self) -> dict[str, Any]:
        return {**super().config(), "proj_size": self.proj_size}


class GRU(RNNBase):
    """Gated recurrent unit: a reset gate rₜ and an update gate zₜ blend the new candidate nₜ with hₜ₋₁.

    ``rₜ = σ(W_ir xₜ + b_ir + W_hr hₜ₋₁ + b_hr)``, ``zₜ = σ(W_iz xₜ + b_iz + W_hz hₜ₋₁ + b_hz)``,
    ``nₜ = tanh(W_in xₜ + b_in + rₜ ⊙ (W_hn hₜ₋₁ + b_hn))``, ``hₜ = (1 − zₜ) ⊙ nₜ + zₜ ⊙ hₜ₋₁``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 *tail: Any, device: Any = None, dtype: Any = None, seed: int | None = None,
                 generator: np.random.Generator | None = None, **keywords: Any) -> None:
        proj_size, device, dtype = _positional_tail("GRU", tail, keywords, device, dtype)
        check_device(device)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, dtype=dtype, seed=seed, generator=generator)


class RNNCellBase(Module):
    """One step of a recurrent layer, for loops written by hand: ``weight_ih`` (gates·H, in), ``weight_hh``
    (gates·H, H), ``bias_ih``, ``bias_hh``, all ``~ U(−1/√H, 1/√H)``; ``num_chunks`` is the number of gates (as
    PyTorch's base, which a cell of one's own builds on: ``super().__init__(n_in, H, True, num_chunks=4)``).

    ``forward(input, hx=None)`` of RNNCell, LSTMCell and GRUCell: ``input`` (N, H_in) or unbatched (H_in,); ``hx``
    (N, H) or (H,) (LSTMCell: a tuple ``(h, c)``), zeros when None. Returns the next ``h`` (LSTMCell: ``(h, c)``).
    """

    mode = ""
    """Which step :meth:`forward` takes (a key of ``STEPS``); a cell of one's own writes its own forward."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, num_chunks: int = 1, device: Any = None,
                 dtype: Any = None, seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__()
        owner = type(self).__name__
        # PyTorch's cells allow 0; their weights are (num_chunks·hidden_size, ·), led by neither
        self.input_size = check_size(input_size, "input_size", owner, smallest=0, leads=False)
        self.hidden_size = check_size(hidden_size, "hidden_size", owner, smallest=0, leads=False)
        self.bias = bool(bias)
        _add_weights(self, "", self.input_size, self.hidden_size, check_size(num_chunks, "num_chunks", owner),
                     self.bias, float_dtype(dtype, owner))
        self.reset_parameters(pick_generator(seed, generator))

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Draw fresh parameters: every weight and bias ``~ U(−1/√H, 1/√H)``."""
        _draw_uniform(self, self.hidden_size, generator)

    def config(self) -> dict[str, Any]:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "bias": self.bias}

    def forward(self, input: Tensor, hx: Any = None) -> Any:
        if not self.mode:
            raise NotImplementedError(f"{type(self).__name__} is an RNNCellBase of its own: define its forward")
        owner = type(self).__name__
        dtype = self.weight_ih.dtype
        input = _floating_input(input, owner, (1, 2), "(N, H_in) or unbatched (H_in,)", self.input_size, dtype,
                                RuntimeError)
        shape = input.shape[:-1] + (self.hidden_size,)
        names = ("h", "c") if self.mode == "LSTM" else ("hx",)
        state = tuple(_states(hx, [shape] * len(names), names, owner, dtype))
        projected = linear(input, self.weight_ih, self.bias_ih)
        state = STEPS[self.mode][1](projected, state, self.weight_hh, self.bias_hh)
        return state if self.mode == "LSTM" else state[0]


class RNNCell(RNNCellBase):
    """``h′ = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or ReLU with ``nonlinearity="relu"``)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        check_device(device)
        mode = _rnn_mode(nonlinearity, "RNNCell")
        super().__init__(input_size, hidden_size, bias, STEPS[mode][0], dtype=dtype, seed=seed, generator=generator)
        self.mode, self.nonlinearity = mode, nonlinearity

    def config(self) -> dict[str, Any]:
        return {**super().config(), "nonlinearity": self.nonlinearity}


class LSTMCell(RNNCellBase):
    """One LSTM step: ``c′ = f ⊙ c + i ⊙ g``, ``h′ = o ⊙ tanh(c′)`` (gates as in :class:`LSTM`); gives ``(h′, c′)``."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None,
                 seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__(input_size, hidden_size, bias, STEPS[self.mode][0], dtype=dtype, seed=seed,
                         generator=generator)


class GRUCell(RNNCellBase):
    """One GRU step: ``h′ = (1 − z) ⊙ n + z ⊙ h`` with ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))``."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None,
                 seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__(input_size, hidden_size, bias, STEPS[self.mode][0], dtype=dtype, seed=seed,
                         generator=generator)
