# A seq2seq encoder-decoder toy as "dive into" courses build one (written for this project): reverse a short
# token sequence; a GRU encoder with nn.Embedding, a decoder that concatenates the encoder's last state as context
# to every input, teacher forcing with <bos> prepended, a masked softmax cross-entropy (reduction='none', then a
# sequence mask from valid lengths), grad clipping, and greedy decoding that stops at <eos>.
import numpy as np
import torch
from torch import nn

PAD, BOS, EOS = 0, 1, 2
rng = np.random.default_rng(11)
lengths = rng.integers(2, 6, 16)
src = torch.full((16, 7), PAD, dtype=torch.long)
tgt = torch.full((16, 7), PAD, dtype=torch.long)
for i, n in enumerate(lengths):
    seq = rng.integers(3, 10, n)
    src[i, :n + 1] = torch.tensor(list(seq) + [EOS])
    tgt[i, :n + 1] = torch.tensor(list(seq[::-1]) + [EOS])
valid_len = torch.tensor(lengths + 1)


class Encoder(nn.Module):
    def __init__(self, vocab, embed, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = nn.GRU(embed, hidden)

    def forward(self, X):
        X = self.embedding(X).permute(1, 0, 2)
        return self.rnn(X)


class Decoder(nn.Module):
    def __init__(self, vocab, embed, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = nn.GRU(embed + hidden, hidden)
        self.dense = nn.Linear(hidden, vocab)

    def forward(self, X, state):
        X = self.embedding(X).permute(1, 0, 2)
        context = state[-1].repeat(X.shape[0], 1, 1)
        output, state = self.rnn(torch.cat((X, context), 2), state)
        return self.dense(output).permute(1, 0, 2), state


def sequence_mask(X, valid_len, value=0):
    maxlen = X.size(1)
    mask = torch.arange(maxlen, dtype=torch.float32)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X


class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    def forward(self, pred, label, valid_len):
        weights = sequence_mask(torch.ones_like(label), valid_len)
        self.reduction = "none"
        unweighted = super().forward(pred.permute(0, 2, 1), label)
        return (unweighted * weights).mean(dim=1)


enc, dec = Encoder(10, 8, 16), Decoder(10, 8, 16)
r = np.random.default_rng(5)
with torch.no_grad():
    for p in list(enc.parameters()) + list(dec.parameters()):
        p.copy_(torch.from_numpy(r.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
params = list(enc.parameters()) + list(dec.parameters())
optimizer = torch.optim.Adam(params, lr=0.01)
loss = MaskedSoftmaxCELoss()
print(sequence_mask(torch.tensor([[1, 2, 3], [4, 5, 6]]), torch.tensor([1, 2])))
history = []
for _epoch in range(25):
    optimizer.zero_grad()
    dec_input = torch.cat([torch.full((16, 1), BOS), tgt[:, :-1]], 1)
    _, state = enc(src)
    Y_hat, _ = dec(dec_input, state)
    l = loss(Y_hat, tgt, valid_len)
    l.sum().backward()
    nn.utils.clip_grad_norm_(params, 1)
    optimizer.step()
    history.append(l.sum().item() / valid_len.sum().item())
print(f"loss {history[-1]:.3f}")

enc.eval()
dec.eval()
decoded = []
with torch.no_grad():
    for i in range(4):
        _, state = enc(src[i:i + 1])
        dec_X, out = torch.tensor([[BOS]]), []
        for _ in range(7):
            Y, state = dec(dec_X, state)
            dec_X = Y.argmax(dim=2)
            pred = dec_X.squeeze(dim=0).type(torch.int32).item()
            if pred == EOS:
                break
            out.append(pred)
        decoded.append(out)
print(decoded)
results = {"history": history, "per_seq": l, "decoded": decoded, "W": dec.dense.weight[:2],
           "mask": sequence_mask(torch.ones(2, 4), torch.tensor([1, 3]), value=-1)}
