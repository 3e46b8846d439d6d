# Attention pooling and scoring functions from scratch (written for this project): Nadaraya-Watson kernel
# regression, a masked softmax through a sequence mask, additive and scaled dot-product attention, multi-head
# attention with valid lengths repeated per head, and a sinusoidal positional encoding filled by slice assignment.
import math

import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(5)

n_train = 20
x_train, _ = torch.sort(torch.from_numpy(rng.uniform(0, 5, n_train)).float())


def f(x):
    return 2 * torch.sin(x) + x**0.8


y_train = f(x_train) + torch.from_numpy(rng.normal(0.0, 0.5, (n_train,))).float()
x_test = torch.arange(0, 5, 0.5)
y_truth = f(x_test)
n_test = len(x_test)
X_repeat = x_test.repeat_interleave(n_train).reshape((-1, n_train))
attention_weights = nn.functional.softmax(-(X_repeat - x_train) ** 2 / 2, dim=1)
y_hat = torch.matmul(attention_weights, y_train)
weights = torch.ones((2, 10)) * 0.1
values = torch.arange(20.0).reshape((2, 10))
bmm_demo = torch.bmm(weights.unsqueeze(1), values.unsqueeze(-1))


def sequence_mask(X, valid_len, value=0):
    maxlen = X.size(1)
    mask = torch.arange((maxlen), dtype=torch.float32, device=X.device)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X


def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = torch.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    X = sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
    return nn.functional.softmax(X.reshape(shape), dim=-1)


scores = torch.from_numpy(rng.uniform(size=(2, 2, 4))).float()
masked_1d = masked_softmax(scores.clone(), torch.tensor([2, 3]))
masked_2d = masked_softmax(scores.clone(), torch.tensor([[1, 3], [2, 4]]))
seq = sequence_mask(torch.tensor([[1, 2, 3], [4, 5, 6]]), torch.tensor([1, 2]))
seq_float = sequence_mask(torch.ones(2, 3, 4), torch.tensor([1, 2]), value=-1)


def set_weights(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape))))


class AdditiveAttention(nn.Module):
    def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
        super().__init__(**kwargs)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        queries, keys = self.W_q(queries), self.W_k(keys)
        features = queries.unsqueeze(2) + keys.unsqueeze(1)
        features = torch.tanh(features)
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class DotProductAttention(nn.Module):
    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        d = queries.shape[-1]
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


queries = torch.from_numpy(rng.normal(0, 1, (2, 1, 20)))
keys = torch.ones((2, 10, 2), dtype=torch.float64)
values = torch.arange(40, dtype=torch.float64).reshape(1, 10, 4).repeat(2, 1, 1)
valid_lens = torch.tensor([2, 6])
additive = AdditiveAttention(key_size=2, query_size=20, num_hiddens=8, dropout=0.1).double()
set_weights(additive)
additive.eval()
additive_out = additive(queries, keys, values, valid_lens)
dot = DotProductAttention(dropout=0.5)
dot.eval()
dot_queries = torch.from_numpy(rng.normal(0, 1, (2, 1, 2)))
dot_out = dot(dot_queries, keys, values, valid_lens)


def transpose_qkv(X, num_heads):
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1)
    X = X.permute(0, 2, 1, 3)
    return X.reshape(-1, X.shape[2], X.shape[3])


def transpose_output(X, num_heads):
    X = X.reshape(-1, num_heads, X.shape[1], X.shape[2])
    X = X.permute(0, 2, 1, 3)
    return X.reshape(X.shape[0], X.shape[1], -1)


class MultiHeadAttention(nn.Module):
    def __init__(self, num_hiddens, num_heads, dropout, bias=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.LazyLinear(num_hiddens, bias=bias) if False else nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.W_k = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.W_v = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        queries = transpose_qkv(self.W_q(queries), self.num_heads)
        keys = transpose_qkv(self.W_k(keys), self.num_heads)
        values = transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:
            valid_lens = torch.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
        output = self.attention(queries, keys, values, valid_lens)
        output_concat = transpose_output(output, self.num_heads)
        return self.W_o(output_concat)


num_hiddens, num_heads = 8, 2
mha = MultiHeadAttention(num_hiddens, num_heads, 0.5).double()
set_weights(mha)
mha.eval()
X = torch.from_numpy(rng.normal(size=(2, 4, num_hiddens)))
Y = torch.from_numpy(rng.normal(size=(2, 6, num_hiddens)))
mha_out = mha(X, Y, Y, torch.tensor([3, 2]))
mha_self = mha(X, X, X, None)
heads_weights = mha.attention.attention_weights


class PositionalEncoding(nn.Module):
    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.P = torch.zeros((1, max_len, num_hiddens))
        X = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
        self.P[:, :, 0::2] = torch.sin(X)
        self.P[:, :, 1::2] = torch.cos(X)

    def forward(self, X):
        X = X + self.P[:, :X.shape[1], :].to(X.device)
        return self.dropout(X)


encoding_dim, num_steps = 8, 12
pos_encoding = PositionalEncoding(encoding_dim, 0)
pos_encoding.eval()
P_out = pos_encoding(torch.zeros((1, num_steps, encoding_dim)))
P = pos_encoding.P[:, :P_out.shape[1], :]
pow_int = torch.pow(10000, torch.arange(0, 8, 2) / 8)
binary = [f"{i} in binary is {i:>03b}" for i in range(4)]

# train the additive attention a few steps on the kernel regression data
keys_train = x_train.repeat((n_train, 1))
mask = (1 - torch.eye(n_train)).type(torch.bool)
keys_train = keys_train[mask].reshape((n_train, -1))
values_train = y_train.repeat((n_train, 1))[mask].reshape((n_train, -1))


class NWKernelRegression(nn.Module):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = nn.Parameter(torch.tensor([0.8]))

    def forward(self, queries, keys, values):
        queries = queries.repeat_interleave(keys.shape[1]).reshape((-1, keys.shape[1]))
        self.attention_weights = nn.functional.softmax(-((queries - keys) * self.w) ** 2 / 2, dim=1)
        return torch.bmm(self.attention_weights.unsqueeze(1), values.unsqueeze(-1)).reshape(-1)


net = NWKernelRegression()
loss = nn.MSELoss(reduction="none")
trainer = torch.optim.SGD(net.parameters(), lr=0.5)
nw_losses = []
for _epoch in range(5):
    trainer.zero_grad()
    l = loss(net(x_train, keys_train, values_train), y_train)
    l.sum().backward()
    trainer.step()
    nw_losses.append(float(l.sum()))

results = {
    "y_hat": y_hat, "bmm_demo": bmm_demo, "masked_1d": masked_1d, "masked_2d": masked_2d, "seq": seq,
    "seq_float": seq_float, "additive_out": additive_out, "additive_weights": additive.attention_weights,
    "dot_out": dot_out, "mha_out": mha_out, "mha_self": mha_self, "heads_weights": heads_weights, "P": P,
    "P_out": P_out, "pow_int": pow_int, "pow_is_float32": pow_int.dtype == torch.float32, "binary": binary,
    "nw_losses": nw_losses, "w": net.w.detach(),
}
