# A character-level recurrent network from scratch (written for this project): one-hot inputs, a hidden state
# kept in a tuple, outputs joined with torch.cat, gradient clipping by hand, greedy prediction; the same step for
# GRU and LSTM gates written with torch.sigmoid and torch.tanh, and nn.RNN / nn.GRU / nn.LSTM with the same weights.
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

rng = np.random.default_rng(7)
text = "the time machine by h g wells the time traveller for so it will be convenient to speak of him "
vocab = sorted(set(text))
token_to_idx = {t: i for i, t in enumerate(vocab)}
corpus = [token_to_idx[c] for c in text]
vocab_size = len(vocab)
num_hiddens, batch_size, num_steps = 12, 2, 6

one_hot_demo = F.one_hot(torch.tensor([0, 2]), len(vocab))
X_demo = torch.arange(10).reshape((2, 5))
one_hot_shape = list(F.one_hot(X_demo.T, 28).shape)


def normal(shape):
    return torch.from_numpy(rng.normal(size=shape) * 0.1).float()


def three():
    return (normal((vocab_size, num_hiddens)), normal((num_hiddens, num_hiddens)), torch.zeros(num_hiddens))


def get_params(vocab_size, num_hiddens, gates):
    params = []
    for _ in range(gates):
        params.extend(three())
    params.extend([normal((num_hiddens, vocab_size)), torch.zeros(vocab_size)])
    for param in params:
        param.requires_grad_(True)
    return params


def init_rnn_state(batch_size, num_hiddens):
    return (torch.zeros((batch_size, num_hiddens)),)


def init_lstm_state(batch_size, num_hiddens):
    return (torch.zeros((batch_size, num_hiddens)), torch.zeros((batch_size, num_hiddens)))


def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H,)


def lstm(inputs, state, params):
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q] = params
    (H, C) = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid((X @ W_xi) + (H @ W_hi) + b_i)
        F_ = torch.sigmoid((X @ W_xf) + (H @ W_hf) + b_f)
        O = torch.sigmoid((X @ W_xo) + (H @ W_ho) + b_o)
        C_tilda = torch.tanh((X @ W_xc) + (H @ W_hc) + b_c)
        C = F_ * C + I * C_tilda
        H = O * torch.tanh(C)
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H, C)


class RNNModelScratch:
    def __init__(self, vocab_size, num_hiddens, gates, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, gates)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size):
        return self.init_state(batch_size, self.num_hiddens)


def grad_clipping(net, theta):
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
    return norm


def predict(prefix, num_preds, net):
    state = net.begin_state(batch_size=1)
    outputs = [token_to_idx[prefix[0]]]
    def get_input():
        return torch.tensor([outputs[-1]]).reshape((1, 1))
    for y in prefix[1:]:
        _, state = net(get_input(), state)
        outputs.append(token_to_idx[y])
    for _ in range(num_preds):
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join([vocab[i] for i in outputs])


def batches():
    starts = rng.integers(0, len(corpus) - num_steps - 1, (3, batch_size))
    for row in starts:
        X = torch.tensor([corpus[s:s + num_steps] for s in row])
        Y = torch.tensor([corpus[s + 1:s + num_steps + 1] for s in row])
        yield X, Y


def train(net, lr=1.0):
    loss = nn.CrossEntropyLoss()
    perplexities, norms = [], []
    for _epoch in range(2):
        state = None
        total, count = 0.0, 0
        for X, Y in batches():
            if state is None:
                state = net.begin_state(batch_size=X.shape[0])
            elif isinstance(net, nn.Module) and not isinstance(state, tuple):
                state.detach_()
            else:
                state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
            y = Y.T.reshape(-1)
            y_hat, state = net(X, state)
            l = loss(y_hat, y.long()).mean()
            if isinstance(net, nn.Module):
                net.zero_grad()
                l.backward()
                norms.append(float(grad_clipping(net, 1)))
                with torch.no_grad():
                    for p in net.parameters():
                        p -= lr * p.grad
            else:
                for p in net.params:
                    if p.grad is not None:
                        p.grad.zero_()
                l.backward()
                norms.append(float(grad_clipping(net, 1)))
                with torch.no_grad():
                    for p in net.params:
                        p -= lr * p.grad
            total += l.item() * y.numel()
            count += y.numel()
        perplexities.append(math.exp(total / count))
    return perplexities, norms


class RNNModel(nn.Module):
    def __init__(self, rnn_layer, vocab_size):
        super().__init__()
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        self.num_directions = 2 if self.rnn.bidirectional else 1
        self.linear = nn.Linear(self.num_hiddens * self.num_directions, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size)
        X = X.to(torch.float32)
        Y, state = self.rnn(X, state)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, batch_size=1):
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens)
        if not isinstance(self.rnn, nn.LSTM):
            return torch.zeros(shape)
        return (torch.zeros(shape), torch.zeros(shape))


results = {"one_hot_demo": one_hot_demo, "one_hot_shape": one_hot_shape}
for name, gates, init_state, fn in [("rnn", 1, init_rnn_state, rnn), ("gru", 3, init_rnn_state, gru),
                                    ("lstm", 4, init_lstm_state, lstm)]:
    net = RNNModelScratch(len(vocab), num_hiddens, gates, init_state, fn)
    state = net.begin_state(X_demo.shape[0])
    Y, new_state = net(X_demo % vocab_size, state)
    results[name] = {"Y_shape": list(Y.shape), "state_len": len(new_state), "state_shape": list(new_state[0].shape),
                     "Y": Y, "train": train(net), "predict": predict("time ", 8, net)}

for name, layer in [("nn.RNN", nn.RNN(vocab_size, num_hiddens)), ("nn.GRU", nn.GRU(vocab_size, num_hiddens)),
                    ("nn.LSTM", nn.LSTM(vocab_size, num_hiddens, num_layers=2))]:
    net = RNNModel(layer, vocab_size)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(p.shape))))
    state = net.begin_state(batch_size=2)
    Y, new_state = net(X_demo % vocab_size, state)
    results[name] = {"Y": Y, "train": train(net), "predict": predict("time ", 8, net),
                     "state": new_state if not isinstance(new_state, tuple) else list(new_state)}
