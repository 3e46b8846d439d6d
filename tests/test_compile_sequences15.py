"""``gg.compile``: sequence and NLP training steps whose lengths, masks and targets come from tensor values.

Each case feeds the SAME lengths, masks and targets at the first two calls (the captures, so that anything worked out
in Python from them agrees and would be kept as a constant) and others of the same shapes afterwards, and compares
with the step run eagerly, bit for bit (returned values, parameters, their ``.grad``). The one change found: an
evaluated ``TransformerEncoder`` given ``src_key_padding_mask`` under ``no_grad`` (PyTorch's nested-tensor path, the
padded positions zeroed) looked at the mask in Python, so a compiled inference step always ran eagerly; the look is
now a kernel of the step. The rest pins what already held: a replay follows each call's values, or the step runs
eagerly saying why (packed sequences, ``ctc_loss``, a Python ``if`` on a random draw, value-sized outputs).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from test_compile_dtypes_adversary12 import _same
from test_compile_untracked_arrays13 import _agree, _replayed, _twice_then

import glassgrad as gg

nn = gg.nn
F = gg.nn.functional
RNG = np.random.default_rng(15)
T, N, E, H, V = 6, 4, 5, 7, 9


def _lengths() -> gg.Tensor:
    return gg.tensor(RNG.integers(1, T + 1, N))


def _tokens() -> gg.Tensor:
    return gg.tensor(RNG.integers(0, V, (N, T)))


def _kept(lengths: gg.Tensor) -> gg.Tensor:
    """(N, T): True at a sequence's own steps, False at its padding."""
    return gg.arange(T)[None, :] < lengths[:, None]


def _training(model_of: Callable[[], Any], loss_of: Callable, lr: float = 0.1) -> Callable[[], tuple]:
    """A make of an Adam step on ``loss_of(model, *arguments)``, comparing the parameters (and grads) after."""
    def make() -> tuple:
        model = model_of()
        optimizer = gg.optim.Adam(model.parameters(), lr=lr)

        def step(*arguments):
            optimizer.zero_grad()
            loss = loss_of(model, *arguments)
            loss.backward()
            optimizer.step()
            return loss
        return step, list(model.parameters())
    return make


class _Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, E, padding_idx=0)
        self.lstm = nn.LSTM(E, H, batch_first=True)
        self.out = nn.Linear(H, V)

    def forward(self, tokens):
        return self.out(self.lstm(self.embed(tokens))[0])


class _Encoder(nn.Module):
    def __init__(self, dropout: float = 0.1, **options: Any):
        super().__init__()
        self.embed = nn.Embedding(V, 8, padding_idx=0)
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8), **options)

    def forward(self, tokens, padding):
        return self.encoder(self.embed(tokens), src_key_padding_mask=padding)


# --- the conservative refusal made a replay ---------------------------------------------------------------------


def _right_padded() -> tuple:
    return _tokens(), ~_kept(_lengths())


def _left_padded() -> tuple:
    return _tokens(), gg.arange(T)[None, :] < (T - _lengths())[:, None]


def _inference(model_of: Callable[[], Any]) -> Callable[[], tuple]:
    def make() -> tuple:
        model = model_of().eval()

        def step(tokens, padding):
            with gg.no_grad():
                return model(tokens, padding)
        return step, []
    return make


@pytest.mark.parametrize("mask_check", [True, False])
def test_an_evaluated_encoder_with_a_padding_mask_replays_each_calls_padding(mask_check):
    """The nested-tensor path zeroes the padded positions where each row's padding is at its end (``mask_check``);
    the look at the mask was Python, so the step ran eagerly. Now a kernel: the captures see right padding, later
    calls left padding too (not at the end: nothing zeroed), and every call after the captures replays."""
    calls = _twice_then(_right_padded, 5) + [_left_padded(), _right_padded(), _left_padded()]
    (_, replays), seen = _agree(_inference(lambda: _Encoder(mask_check=mask_check)), calls)
    assert replays == len(calls) - 2 and not seen, seen


def test_an_evaluated_encoder_with_a_float_padding_mask_replays():
    calls = _twice_then(lambda: (_tokens(), gg.zeros(N, T).masked_fill(~_kept(_lengths()), float("-inf"))))
    _replayed(_inference(_Encoder), calls)


def test_the_encoders_nested_path_zeroes_padding_in_a_replay_too():
    tokens, padding = _right_padded()
    padding[0] = gg.tensor([False, False, True, True, True, True])
    step = gg.compile(_inference(_Encoder)()[0])
    outs = [step(tokens, padding) for _ in range(3)]
    assert sum(entry.replays for entry in step.entries.values()) == 1
    assert np.all(outs[2].numpy()[0, 2:] == 0) and np.all(outs[2].numpy()[0, :2] != 0)


def _nucleus(logits: gg.Tensor, top_p: float = 0.8) -> gg.Tensor:
    """Top-p filtering as generation code writes it: the sorted tail past ``top_p`` masked, the mask put back in the
    vocabulary's order with ``mask.scatter(1, order, mask)``."""
    ordered, order = logits.sort(-1, descending=True)
    remove = ordered.softmax(-1).cumsum(-1) > top_p
    remove[..., 1:] = remove[..., :-1].clone()
    remove[..., 0] = False
    return logits.masked_fill(remove.scatter(1, order, remove), float("-inf"))


def test_a_scatter_of_a_boolean_mask_replays():
    """``scatter`` of a bool ``src`` was read as a boolean-mask index (the capture looked for one past the first
    array, where scatter's second array is its src), so a step filtering by top-p always ran eagerly, saying that
    the output's shape depends on the values (a refusal where a replay could follow). Now a replay, bit for bit."""
    def make():
        head = nn.Linear(E, V)
        optimizer = gg.optim.SGD(head.parameters(), lr=0.5)

        def step(features, targets):
            optimizer.zero_grad()
            logits = head(features)
            kept = _nucleus(logits.detach())
            loss = F.cross_entropy(logits + kept.isinf() * -1e4, targets)
            loss.backward()
            optimizer.step()
            return loss, gg.multinomial(kept.softmax(-1), 1)
        return step, list(head.parameters())
    _replayed(make, _twice_then(lambda: (gg.tensor(RNG.normal(size=(N, E)).astype(np.float32)),
                                         gg.tensor(RNG.integers(0, V, N)))))


class _Classifier(nn.Module):
    """A [CLS] position prepended to each sequence: its mask joined to the tokens' (``cat``), the two masks of a
    pair stacked (``stack``), as a padding mask for attention."""

    def __init__(self):
        super().__init__()
        self.embed, self.cls = nn.Embedding(V, 8), nn.Parameter(gg.zeros(1, 1, 8))
        self.attention = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, tokens, lengths):
        states = gg.cat([self.cls.expand(N, 1, 8), self.embed(tokens)], 1)
        kept = gg.cat([gg.ones(N, 1, dtype=gg.bool), _kept(lengths)], 1)
        either = gg.stack([kept, kept.roll(1, 0)]).any(0)
        return self.attention(states, states, states, key_padding_mask=~either)[0][:, 0].pow(2).mean()


def test_a_cat_or_stack_of_boolean_masks_replays():
    """``cat`` and ``stack`` of bool masks were taken for indexing by a boolean mask (each array after the first
    was looked at as an index), so the step always ran eagerly saying its output's shape depends on the values (a
    refusal where a replay could follow). Now a replay, bit for bit."""
    _replayed(_training(_Classifier, lambda model, *a: model(*a)), _twice_then(lambda: (_tokens(), _lengths())))


def _repeated_rows(output_size: int | None) -> Callable[[], tuple]:
    def make() -> tuple:
        weight = gg.tensor(np.arange(12.0).reshape(4, 3) - 5, requires_grad=True)

        def step(repeats):
            rows = weight.repeat_interleave(repeats, dim=0, output_size=output_size)
            (rows * gg.arange(rows.shape[0])[:, None]).sum().backward()
            return rows.detach()
        return step, [weight]
    return make


def test_repeat_interleave_by_a_0d_tensor_runs_eagerly_saying_why():
    """A 0-d tensor of repeats was read as a Python int, unseen by the capture: a replay repeated each row as
    often as at the captures, for every later count, without a word. Its output's size depends on the value, so
    the step now runs eagerly, saying so."""
    calls = [(gg.tensor(2),)] * 2 + [(gg.tensor(k),) for k in (3, 1, 2, 4, 2, 3)]
    (_, replays), seen = _agree(_repeated_rows(None), calls)
    assert replays == 0 and any("repeat_interleave" in message for message in seen), seen


def test_repeat_interleave_with_output_size_replays_each_calls_counts():
    """Given ``output_size`` the shape is known: the counts (a tensor's) are a kernel of the step, checked at each
    call. A conservative refusal before; and a 0-d count or counts whose sum is not ``output_size`` after the
    captures went through the replay without eager's error: now refused at that call in eager's words."""
    counts = _twice_then(lambda: (gg.tensor(RNG.multinomial(12, [0.25] * 4)),))
    (_, replays), seen = _agree(_repeated_rows(12), counts + [(gg.tensor([5, 5, 1, 0]),), (gg.tensor(3),)])
    assert replays == len(counts) - 1 and not seen, seen  # the bad sum replayed; the 0-d count is a new key
    (_, replays), seen = _agree(_repeated_rows(8), [(gg.tensor(2),)] * 4 + [(gg.tensor(3),)])
    assert replays == 3 and not seen, seen


# --- pinned: replays that follow each call's lengths, masks and targets ----------------------------------------------


def _masked_mean(model, tokens, lengths):
    kept = _kept(lengths)
    losses = F.cross_entropy(model(tokens).reshape(-1, V), tokens.roll(1, 1).reshape(-1), reduction="none")
    return (losses.reshape(N, T) * kept).sum() / kept.sum()


def _ignored_and_smoothed(model, tokens, lengths):
    target = gg.where(_kept(lengths), tokens, gg.full_like(tokens, -100))
    return F.cross_entropy(model(tokens).reshape(-1, V), target.reshape(-1), ignore_index=-100, label_smoothing=0.1)


def _last_state(model, tokens, lengths):
    states = model.lstm(model.embed(tokens))[0]
    last = states.gather(1, (lengths - 1)[:, None, None].expand(N, 1, H)).squeeze(1)
    return F.cross_entropy(model.out(last), lengths - 1)


def _last_state_indexed(model, tokens, lengths):
    last = model.lstm(model.embed(tokens))[0][gg.arange(N), lengths - 1]
    return model.out(last).logsumexp(1).mean()


def _padding_index_ignored(model, tokens, lengths):
    return F.cross_entropy(model(tokens).reshape(-1, V), (tokens * _kept(lengths)).reshape(-1), ignore_index=0)


def _masked_attention(model, tokens, lengths):
    states = model.embed(tokens)
    scores = (states @ states.transpose(1, 2)).masked_fill(~_kept(lengths)[:, None, :], float("-inf"))
    return (scores.softmax(-1) @ states).pow(2).mean()


def _attention_mean(model_of: Callable[[], nn.Module]) -> Callable[[], tuple]:
    return _training(model_of, lambda model, tokens, lengths: model(tokens, lengths).pow(2).mean())


class _SelfAttention(nn.Module):
    def __init__(self, **forward_options: Any):
        super().__init__()
        self.embed = nn.Embedding(V, 8)
        self.attention = nn.MultiheadAttention(8, 2, dropout=0.1, batch_first=True)
        self.options = forward_options

    def forward(self, tokens, lengths):
        states = self.embed(tokens)
        causal = gg.triu(gg.ones(T, T, dtype=gg.bool), 1)
        return self.attention(states, states, states, key_padding_mask=~_kept(lengths), attn_mask=causal)[0]


class _ShortenedAttention(_SelfAttention):
    """Rows with every key masked (a length of 2 or less): dead rows, made 0 as eager makes them."""

    def forward(self, tokens, lengths):
        states = self.embed(tokens)
        return gg.nan_to_num(self.attention(states, states, states, key_padding_mask=~_kept(lengths - 2))[0])


class _Sdpa(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, 8)

    def forward(self, tokens, lengths):
        states = self.embed(tokens)[:, None]
        return F.scaled_dot_product_attention(states, states, states, attn_mask=_kept(lengths)[:, None, None, :],
                                              dropout_p=0.2)


class _EncoderTraining(_Encoder):
    def forward(self, tokens, lengths):
        return super().forward(tokens, ~_kept(lengths))


class _Masked(nn.Module):
    """A GRU cell run over T steps, each sequence's state kept once it has ended (``where(lengths > t)``)."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, E)
        self.cell = nn.GRUCell(E, H)
        self.drop = nn.Dropout(0.3)

    def forward(self, tokens, lengths):
        inputs, state = self.embed(tokens), gg.zeros(N, H)
        for t in range(T):
            state = gg.where((lengths > t)[:, None], self.drop(self.cell(inputs[:, t], state)), state)
        return state


@pytest.mark.parametrize("name, make", [
    ("masked mean over mask.sum()", _training(_Tagger, _masked_mean)),
    ("ignore_index and label_smoothing", _training(_Tagger, _ignored_and_smoothed)),
    ("gather of the last states by lengths - 1", _training(_Tagger, _last_state)),
    ("x[arange, lengths - 1]", _training(_Tagger, _last_state_indexed)),
    ("padding index ignored", _training(_Tagger, _padding_index_ignored)),
    ("masked_fill(~mask, -inf) then softmax", _training(_Tagger, _masked_attention)),
    ("MultiheadAttention key_padding_mask and attn_mask", _attention_mean(_SelfAttention)),
    ("MultiheadAttention with dead rows", _attention_mean(_ShortenedAttention)),
    ("scaled_dot_product_attention mask and dropout", _attention_mean(_Sdpa)),
    ("TransformerEncoder training src_key_padding_mask", _attention_mean(_EncoderTraining)),
    ("where(lengths > t) in a loop over T", _attention_mean(_Masked)),
])
def test_pinned_training_steps_follow_each_calls_lengths(name, make):
    _replayed(make, _twice_then(lambda: (_tokens(), _lengths())))


def test_pinned_scale_grad_by_freq_follows_each_calls_counts():
    class Counted(_Tagger):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, E, padding_idx=0, scale_grad_by_freq=True)
    _replayed(_training(Counted, _masked_mean), _twice_then(lambda: (_tokens(), _lengths())))


class _Decoder(nn.Module):
    """A GRU cell fed at each step the token ``choose`` picks: the target, the greedy guess, or one of them by a
    coin (``gg.rand(()) < 0.5``) tossed in a kernel (``where``) or read in Python (``if``)."""

    def __init__(self, choose: str):
        super().__init__()
        self.embed, self.cell, self.out = nn.Embedding(V, E), nn.GRUCell(E, H), nn.Linear(H, V)
        self.choose = choose

    def forward(self, tokens, *_):
        state, given, loss, picked = gg.zeros(N, H), tokens[:, 0], 0, []
        for t in range(1, T):
            state = self.cell(self.embed(given), state)
            scores = self.out(state)
            loss = loss + F.cross_entropy(scores, tokens[:, t])
            greedy = scores.topk(2, -1).indices[:, 0]
            if self.choose == "where":
                given = gg.where(gg.rand(()) < 0.5, tokens[:, t], greedy)
            elif self.choose == "if":
                given = tokens[:, t] if gg.rand(()) < 0.5 else greedy
            else:
                given = greedy
            picked.append(given)
        return loss, gg.stack(picked)


@pytest.mark.parametrize("choose", ["greedy", "where"])
def test_pinned_decoding_greedy_or_teacher_forced_by_a_kernels_coin(choose):
    def make():
        model = _Decoder(choose)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.5)

        def step(tokens):
            optimizer.zero_grad()
            loss, picked = model(tokens)
            loss.backward()
            optimizer.step()
            return loss, picked
        return step, list(model.parameters())
    _replayed(make, _twice_then(lambda: (_tokens(),)))


def test_pinned_a_compiled_model_with_a_padding_mask_and_the_backward_outside():
    def make():
        model = _EncoderTraining()
        compiled, optimizer = gg.compile(model), gg.optim.SGD(model.parameters(), lr=0.3)

        def step(tokens, lengths):
            optimizer.zero_grad()
            target = gg.where(_kept(lengths), tokens, gg.full_like(tokens, -100))
            loss = F.cross_entropy(compiled(tokens, lengths).sum(-1, keepdim=True).expand(N, T, V).reshape(-1, V),
                                   target.reshape(-1))
            loss.backward()
            optimizer.step()
            return loss
        return step, list(model.parameters())
    _agree(make, _twice_then(lambda: (_tokens(), _lengths())))


def test_pinned_pad_sequence_of_the_steps_own_tensors():
    def make():
        weight = gg.tensor([0.5, -1.0, 2.0], requires_grad=True)

        def step(a, b, c):
            padded = nn.utils.rnn.pad_sequence([a * weight, b * weight, c * weight], batch_first=True,
                                               padding_value=-1.0)
            padded.tanh().sum().backward()
            return padded.detach()
        return step, [weight]
    _replayed(make, _twice_then(lambda: tuple(gg.tensor(RNG.normal(size=(k, 3))) for k in (2, 4, 3))))


def test_pinned_a_bad_label_after_the_captures_is_refused_as_eager_refuses_it():
    calls = _twice_then(lambda: (_tokens(), _lengths()), 7)
    tokens, lengths = _tokens(), _lengths()
    tokens[1, 2] = V + 3
    (_, replays), seen = _agree(_training(_Tagger, _masked_mean), calls + [(tokens, lengths)])
    assert replays == 6 and not seen


def test_pinned_an_argument_array_of_lengths_changed_in_place_between_calls():
    """A NumPy array of lengths passed at each call, its entries rewritten between calls: read at each call."""
    lengths = np.zeros(N, dtype=np.int64)
    drawn = _twice_then(lambda: (RNG.integers(1, T + 1, N), _tokens()))

    def make():
        model = _Tagger()
        optimizer = gg.optim.Adam(model.parameters(), lr=0.1)

        def step(batch, given):
            optimizer.zero_grad()
            loss = _masked_mean(model, batch, gg.tensor(given))
            loss.backward()
            optimizer.step()
            return loss
        return step, list(model.parameters())

    def between(number, _):
        lengths[:] = drawn[number][0]

    def seeded():
        gg.manual_seed(0)
        return make()
    (_, replays), seen = _same(seeded, [(batch, lengths) for _, batch in drawn], between)
    assert replays == len(drawn) - 2 and not seen


# --- pinned: steps that run eagerly, saying why ------------------------------------------------------------------


class _Packed(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.gru = nn.Embedding(V, E, padding_idx=0), nn.GRU(E, H, batch_first=True)

    def forward(self, tokens, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                                   enforce_sorted=False)
        outputs, last = self.gru(packed)
        return nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True, total_length=T)[0].sum() + last.sum()


class _Ctc(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, 5)

    def forward(self, tokens, lengths):
        scores = self.embed(tokens).transpose(0, 1).log_softmax(-1)
        return F.ctc_loss(scores, (tokens % 4 + 1)[:, :2], lengths.clamp(min=3), lengths.clamp(max=2),
                          zero_infinity=True)


def _unpadded(model, tokens, lengths):
    rows = nn.utils.rnn.unpad_sequence(model.embed(tokens), lengths, batch_first=True)
    return gg.cat(rows).pow(2).sum()


def _selected(model, tokens, lengths):
    return F.cross_entropy(model(tokens)[_kept(lengths)], tokens[_kept(lengths)])


def _repeated(model, tokens, lengths):
    return model.embed(tokens)[:, 0].repeat_interleave(lengths, dim=0).pow(2).sum()


@pytest.mark.parametrize("name, make, reason", [
    ("pack_padded_sequence of tensor lengths", _training(_Packed, lambda model, *a: model(*a)), "pack_padded_sequence"),
    ("an if on a random draw (teacher forcing)", _training(lambda: _Decoder("if"), lambda model, *a: model(*a)[0]),
     "bool(tensor)"),
    ("ctc_loss", _training(_Ctc, lambda model, *a: model(*a)), "ctc_loss"),
    ("unpad_sequence", _training(_Tagger, _unpadded), "unpad_sequence"),
    ("a boolean mask's selection", _training(_Tagger, _selected), "boolean mask"),
    ("repeat_interleave by lengths", _training(_Tagger, _repeated), "repeat_interleave"),
])
def test_pinned_steps_that_run_eagerly_saying_why(name, make, reason):
    (_, replays), seen = _agree(make, _twice_then(lambda: (_tokens(), _lengths())))
    assert replays == 0 and any(reason in message for message in seen), seen


def test_pinned_pack_padded_sequence_of_list_lengths_runs_eagerly():
    """A list of lengths is part of the key; the packed batch's sizes decide the work, so each key runs eagerly."""
    calls = _twice_then(lambda: (_tokens(), RNG.integers(1, T + 1, N).tolist()))
    (_, replays), seen = _agree(_training(_Packed, lambda model, *a: model(*a)), calls)
    assert replays == 0 and any("batch_sizes" in message for message in seen), seen


def test_pinned_a_dict_batch_with_an_attention_mask():
    """A batch as a dict (``{"input_ids": …, "attention_mask": …}``, as a tokenizer gives it): its tensors are
    the step's inputs, read at each call."""
    def loss_of(model, batch):
        return _masked_mean(model, batch["input_ids"], batch["attention_mask"].sum(1))

    def draw():
        return ({"input_ids": _tokens(), "attention_mask": _kept(_lengths()).long()},)
    _replayed(_training(_Tagger, loss_of), _twice_then(draw))


def test_pinned_truncated_backpropagation_through_time_carries_the_state_as_arguments():
    """The language model's loop: each call gets the last call's detached (h, c) and gives back its own."""
    batches = _twice_then(lambda: _tokens())

    def run(wrap):
        gg.manual_seed(0)
        model = _Tagger()
        optimizer = gg.optim.SGD(model.parameters(), lr=0.5)

        def step(tokens, h, c):
            optimizer.zero_grad()
            states, (h, c) = model.lstm(model.embed(tokens[:, :-1]), (h, c))
            loss = F.cross_entropy(model.out(states).reshape(-1, V), tokens[:, 1:].reshape(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            optimizer.step()
            return loss.detach(), h.detach(), c.detach()
        step = wrap(step)
        h, c = gg.zeros(1, N, H), gg.zeros(1, N, H)
        seen = []
        for tokens in batches:
            loss, h, c = step(tokens, h, c)
            seen.append(loss.numpy())
        return seen + [h.numpy(), c.numpy()] + [p.numpy() for p in model.parameters()], step

    eager, _ = run(lambda step: step)
    compiled, step = run(gg.compile)
    assert all(np.array_equal(a, b) for a, b in zip(eager, compiled, strict=True))
    assert sum(entry.replays for entry in step.entries.values()) == len(batches) - 2
