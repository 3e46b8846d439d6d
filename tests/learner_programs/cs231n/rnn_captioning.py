# A vision course's image-captioning assignment style (written for this project): word embedding forward and
# backward (W[x] and index_add_), a temporal affine layer, the temporal softmax loss with a mask (mask.view(-1) times
# the per-word loss, and F.cross_entropy(..., ignore_index=NULL)), a hand-written LSTM step checked against
# nn.LSTMCell / nn.LSTM, greedy caption sampling with argmax over a few steps, and masked self-attention with a
# causal torch.tril mask and masked_fill(mask == 0, float('-inf')). In float64.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(231)
NULL, START, END = 0, 1, 2

N, T, V, D, H, W_dim = 3, 5, 9, 4, 6, 7


def word_embedding_forward(x, W):
    return W[x]


def word_embedding_backward(dout, x, V):
    dW = torch.zeros(V, dout.shape[-1], dtype=dout.dtype)
    dW.index_add_(0, x.reshape(-1), dout.reshape(-1, dout.shape[-1]))
    return dW


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    M = b.shape[0]
    return (x.reshape(N * T, D) @ w + b).reshape(N, T, M)


def temporal_softmax_loss(x, y, mask):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.view(-1)
    log_probs = x_flat - torch.logsumexp(x_flat, dim=1, keepdim=True)
    per_word = -log_probs[torch.arange(N * T), y_flat]
    return torch.sum(per_word * mask_flat) / N


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    ai, af, ao, ag = torch.chunk(a, 4, dim=1)
    i, f, o, g = sigmoid(ai), sigmoid(af), sigmoid(ao), torch.tanh(ag)
    next_c = f * prev_c + i * g
    next_h = o * torch.tanh(next_c)
    return next_h, next_c


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    hs = []
    h, c = h0, torch.zeros_like(h0)
    for t in range(T):
        h, c = lstm_step_forward(x[:, t, :], h, c, Wx, Wh, b)
        hs.append(h)
    return torch.stack(hs, dim=1)


results = {}

# word embeddings and their gradient
captions = torch.tensor(rng.randint(V, size=(N, T + 1)))
captions[0, 4:] = NULL
captions[1, 5:] = NULL
W_embed = torch.tensor(rng.randn(V, W_dim) / 10, requires_grad=True)
captions_in, captions_out = captions[:, :-1], captions[:, 1:]
embedded = word_embedding_forward(captions_in, W_embed)
dout = torch.tensor(rng.randn(N, T, W_dim))
embedded.backward(dout)
results['embed_grad'] = W_embed.grad
results['embed_grad_agrees'] = torch.allclose(W_embed.grad, word_embedding_backward(dout, captions_in, V))
results['F_embedding'] = F.embedding(captions_in, W_embed.detach()).sum().item()

# an LSTM step by hand against nn.LSTMCell (PyTorch orders the gates i, f, g, o)
features = torch.tensor(rng.randn(N, D))
W_proj = torch.tensor(rng.randn(D, H) / math.sqrt(D), requires_grad=True)
b_proj = torch.zeros(H, requires_grad=True)
Wx = torch.tensor(rng.randn(W_dim, 4 * H) / math.sqrt(W_dim), requires_grad=True)
Wh = torch.tensor(rng.randn(H, 4 * H) / math.sqrt(H), requires_grad=True)
b = torch.tensor(rng.randn(4 * H) * 0.1, requires_grad=True)
W_vocab = torch.tensor(rng.randn(H, V) / math.sqrt(H), requires_grad=True)
b_vocab = torch.zeros(V, requires_grad=True)

cell = nn.LSTMCell(W_dim, H)
order = torch.cat([torch.arange(0, H), torch.arange(H, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
with torch.no_grad():
    cell.weight_ih.copy_(Wx.t()[order])
    cell.weight_hh.copy_(Wh.t()[order])
    cell.bias_ih.copy_(b[order])
    cell.bias_hh.zero_()
h0 = features @ W_proj + b_proj
x0 = embedded[:, 0, :]
h_hand, c_hand = lstm_step_forward(x0, h0, torch.zeros_like(h0), Wx, Wh, b)
h_cell, c_cell = cell(x0, (h0, torch.zeros_like(h0)))
results['lstm_step'] = [h_hand, c_hand]
results['lstm_cell_agrees'] = [torch.allclose(h_hand, h_cell), torch.allclose(c_hand, c_cell)]

lstm = nn.LSTM(W_dim, H, batch_first=True)
with torch.no_grad():
    lstm.weight_ih_l0.copy_(cell.weight_ih)
    lstm.weight_hh_l0.copy_(cell.weight_hh)
    lstm.bias_ih_l0.copy_(cell.bias_ih)
    lstm.bias_hh_l0.zero_()

# the captioning loss: forward, mask, backward
for p in (W_embed,):
    p.grad = None
embedded = word_embedding_forward(captions_in, W_embed)
h = lstm_forward(embedded, h0, Wx, Wh, b)
h_lib, (h_n, c_n) = lstm(embedded, (h0.unsqueeze(0), torch.zeros_like(h0).unsqueeze(0)))
scores = temporal_affine_forward(h, W_vocab, b_vocab)
mask = captions_out != NULL
loss = temporal_softmax_loss(scores, captions_out, mask)
loss.backward()
loss_ignore = F.cross_entropy(scores.reshape(-1, V), captions_out.reshape(-1), ignore_index=NULL,
                              reduction='sum') / N
loss_mean = F.cross_entropy(scores.view(-1, V), captions_out.reshape(-1), ignore_index=NULL)
results['loss'] = loss.item()
results['loss_ignore_index'] = loss_ignore.item()
results['loss_mean_ignore'] = loss_mean.item()
results['nn_lstm_agrees'] = torch.allclose(h, h_lib)
results['h_n'] = [h_n, c_n]
results['grads'] = [W_embed.grad, W_proj.grad, b_proj.grad, Wx.grad, Wh.grad, b.grad, W_vocab.grad, b_vocab.grad]
results['mask_count'] = mask.sum().item()

# greedy sampling, no beam
with torch.no_grad():
    h = features @ W_proj + b_proj
    c = torch.zeros_like(h)
    word = torch.full((N,), START, dtype=torch.long)
    sampled = torch.full((N, 4), NULL, dtype=torch.long)
    for t in range(4):
        x = W_embed[word]
        h, c = lstm_step_forward(x, h, c, Wx, Wh, b)
        step_scores = h @ W_vocab + b_vocab
        word = torch.argmax(step_scores, dim=1)
        sampled[:, t] = word
results['sampled'] = sampled


# masked self-attention, as in the transformer captioning part
class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, dropout=0.1):
        super().__init__()
        assert embed_dim % num_heads == 0
        self.key = nn.Linear(embed_dim, embed_dim)
        self.query = nn.Linear(embed_dim, embed_dim)
        self.value = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)
        self.attn_drop = nn.Dropout(dropout)
        self.n_head = num_heads
        self.head_dim = embed_dim // num_heads

    def forward(self, query, key, value, attn_mask=None):
        N, S, E = query.shape
        N, T, E = value.shape
        q = self.query(query).view(N, S, self.n_head, self.head_dim).transpose(1, 2)
        k = self.key(key).view(N, T, self.n_head, self.head_dim).transpose(1, 2)
        v = self.value(value).view(N, T, self.n_head, self.head_dim).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        if attn_mask is not None:
            scores = scores.masked_fill(attn_mask == 0, float('-inf'))
        attn = self.attn_drop(F.softmax(scores, dim=-1))
        out = torch.matmul(attn, v).transpose(1, 2).contiguous().view(N, S, E)
        return self.proj(out)


attn = MultiHeadAttention(8, 2)
with torch.no_grad():
    for p in attn.parameters():
        p.copy_(torch.from_numpy(rng.randn(*p.shape) * 0.3))
attn.eval()
data = torch.tensor(rng.randn(2, 4, 8), requires_grad=True)
causal = torch.tril(torch.ones(4, 4))
out = attn(data, data, data, attn_mask=causal)
out.sum().backward()
attn.train()
out_train = attn(data, data, data, attn_mask=causal)
results['attention'] = out.detach()
results['attention_grad'] = data.grad
results['attention_train_shape'] = list(out_train.shape)
results['first_row_only_self'] = torch.allclose(
    out[:, 0], attn.proj(attn.value(data[:, :1])).squeeze(1))
