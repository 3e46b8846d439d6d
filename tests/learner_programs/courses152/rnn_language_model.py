# An RNN language model on a tiny text as "dive into" courses train one (written for this project): characters to
# indices, sequential minibatches, nn.RNN and nn.GRU wrapped in an RNNModel with F.one_hot inputs, the state
# detached between batches (detach_() on a GRU's tensor state), gradient clipping with nn.utils.clip_grad_norm_,
# perplexity as exp of the mean cross-entropy, and a greedy predict() that warms up on a prefix.
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

text = "the time machine by h g wells the time traveller for so it will be convenient to speak of him " * 3
vocab = sorted(set(text))
char_to_idx = {c: i for i, c in enumerate(vocab)}
corpus = [char_to_idx[c] for c in text]
V = len(vocab)


def seq_data_iter_sequential(corpus, batch_size, num_steps, offset):
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens]).reshape(batch_size, -1)
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens]).reshape(batch_size, -1)
    for i in range(0, num_steps * (Xs.shape[1] // num_steps), num_steps):
        yield Xs[:, i: i + num_steps], Ys[:, i: i + num_steps]


class RNNModel(nn.Module):
    def __init__(self, rnn_layer, vocab_size):
        super().__init__()
        self.rnn, self.vocab_size = rnn_layer, vocab_size
        self.num_hiddens = self.rnn.hidden_size
        self.linear = nn.Linear(self.num_hiddens, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(X, state)
        return self.linear(Y.reshape((-1, Y.shape[-1]))), state

    def begin_state(self, batch_size=1):
        return torch.zeros((self.rnn.num_layers, batch_size, self.num_hiddens))


def set_weights(model, seed):
    r = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(r.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))


def predict(prefix, num_preds, net):
    state = net.begin_state(batch_size=1)
    outputs = [char_to_idx[prefix[0]]]
    for y in prefix[1:]:
        _, state = net(torch.tensor([outputs[-1]]).reshape((1, 1)), state)
        outputs.append(char_to_idx[y])
    for _ in range(num_preds):
        y, state = net(torch.tensor([outputs[-1]]).reshape((1, 1)), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join(vocab[i] for i in outputs)


results = {}
for name, layer in [("rnn", nn.RNN(V, 24)), ("gru", nn.GRU(V, 24, num_layers=2))]:
    net = RNNModel(layer, V)
    set_weights(net, 7)
    updater = torch.optim.SGD(net.parameters(), lr=0.5)
    loss = nn.CrossEntropyLoss()
    history, norms = [], []
    for epoch in range(4):
        state, total, count = None, 0.0, 0
        for X, Y in seq_data_iter_sequential(corpus, 4, 10, epoch % 3):
            if state is None:
                state = net.begin_state(batch_size=X.shape[0])
            else:
                state.detach_()
            y = Y.T.reshape(-1)
            y_hat, state = net(X, state)
            l = loss(y_hat, y.long()).mean()
            updater.zero_grad()
            l.backward()
            norms.append(float(nn.utils.clip_grad_norm_(net.parameters(), 1.0)))
            updater.step()
            total += l.item() * y.numel()
            count += y.numel()
        history.append(math.exp(total / count))
        print(f"{name} epoch {epoch + 1} perplexity {history[-1]:.1f}")
    with torch.no_grad():
        text_out = predict("the time ", 12, net)
    print(text_out)
    results[name] = {"perplexity": history, "norms": norms, "weight_hh": net.rnn.weight_hh_l0[:3],
                     "state": state, "predicted": text_out, "leaf": state.is_leaf,
                     "names": [n for n, _ in net.named_parameters()]}
