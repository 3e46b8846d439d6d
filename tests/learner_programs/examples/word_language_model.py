# pytorch/examples "word_language_model" style (written for this project): a corpus of word ids batchified with
# .narrow and .view(bsz, -1).t().contiguous(), get_batch slices of bptt rows, an RNNModel of nn.Embedding, an
# LSTM or GRU and a Linear decoder (init_weights with uniform_/zeros_, init_hidden from weight.new_zeros),
# repackage_hidden detaching a tuple of hiddens, clip_grad_norm_ and the manual update p.data.add_(p.grad,
# alpha=-lr), then evaluate() with math.exp of the loss.
import math

import numpy as np
import torch
import torch.nn as nn


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers):
        super().__init__()
        self.ntoken = ntoken
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def forward(self, input, hidden):
        emb = self.encoder(input)
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return nn.functional.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i, bptt=5):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].view(-1)


rng = np.random.default_rng(4)
ntokens = 11
corpus = torch.from_numpy(rng.integers(0, ntokens, 130))
train_data, val_data = batchify(corpus[:100], 4), batchify(corpus[100:], 2)
criterion = nn.NLLLoss()
results = {"shapes": [list(train_data.shape), list(val_data.shape)], "first_column": train_data[:, 0]}
for rnn_type in ("LSTM", "GRU"):
    model = RNNModel(rnn_type, ntokens, 6, 8, 2)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    lr, losses, norms = 5.0, [], []
    for _epoch in range(2):
        model.train()
        hidden = model.init_hidden(4)
        for _batch, i in enumerate(range(0, train_data.size(0) - 1, 5)):
            data, targets = get_batch(train_data, i)
            model.zero_grad()
            hidden = repackage_hidden(hidden)
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)))
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            losses.append(loss.item())
        lr /= 4.0
    model.eval()
    total_loss, hidden = 0., model.init_hidden(2)
    with torch.no_grad():
        for i in range(0, val_data.size(0) - 1, 5):
            data, targets = get_batch(val_data, i)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    val_loss = total_loss / (len(val_data) - 1)
    results[rnn_type] = {"losses": losses, "norms": norms, "val_ppl": math.exp(val_loss)}
