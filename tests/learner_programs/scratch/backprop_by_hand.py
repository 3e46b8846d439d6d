# Backpropagation through a character-level MLP written out by hand, one intermediate at a time (written for this
# project): an embedding lookup C[Xb], a hand-made batch norm with Bessel's correction, tanh, a cross-entropy built
# from max-subtracted logits, counts and their inverse sum; every intermediate keeps its gradient, and the manual
# gradients are checked against autograd's as a learner checks them.
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(42)
words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper"]
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
vocab_size = len(stoi)
block_size = 3


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


Xtr, Ytr = build_dataset(words)
n_embd, n_hidden = 5, 16
C = torch.from_numpy(rng.normal(size=(vocab_size, n_embd)))
W1 = torch.from_numpy(rng.normal(size=(n_embd * block_size, n_hidden))) * (5 / 3) / ((n_embd * block_size) ** 0.5)
b1 = torch.from_numpy(rng.normal(size=(n_hidden,))) * 0.1
W2 = torch.from_numpy(rng.normal(size=(n_hidden, vocab_size))) * 0.1
b2 = torch.from_numpy(rng.normal(size=(vocab_size,))) * 0.1
bngain = torch.from_numpy(rng.normal(size=(1, n_hidden))) * 0.1 + 1.0
bnbias = torch.from_numpy(rng.normal(size=(1, n_hidden))) * 0.1
parameters = [C, W1, b1, W2, b2, bngain, bnbias]
print(sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True

batch_size = 16
n = batch_size
ix = torch.from_numpy(rng.integers(0, Xtr.shape[0], (batch_size,)))
Xb, Yb = Xtr[ix], Ytr[ix]

emb = C[Xb]
embcat = emb.view(emb.shape[0], -1)
hprebn = embcat @ W1 + b1
bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
bndiff = hprebn - bnmeani
bndiff2 = bndiff**2
bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)
bnvar_inv = (bnvar + 1e-5) ** -0.5
bnraw = bndiff * bnvar_inv
hpreact = bngain * bnraw + bnbias
h = torch.tanh(hpreact)
logits = h @ W2 + b2
logit_maxes = logits.max(1, keepdim=True).values
norm_logits = logits - logit_maxes
counts = norm_logits.exp()
counts_sum = counts.sum(1, keepdims=True)
counts_sum_inv = counts_sum**-1
probs = counts * counts_sum_inv
logprobs = probs.log()
loss = -logprobs[range(n), Yb].mean()

for p in parameters:
    p.grad = None
for t in [logprobs, probs, counts, counts_sum, counts_sum_inv, norm_logits, logit_maxes, logits, h, hpreact, bnraw,
          bnvar_inv, bnvar, bndiff2, bndiff, hprebn, bnmeani, embcat, emb]:
    t.retain_grad()
loss.backward()


def cmp(s, dt, t):
    ex = torch.all(dt == t.grad).item()
    app = torch.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    print(f"{s:15s} | exact: {str(ex):5s} | approximate: {str(app):5s} | maxdiff: {maxdiff}")
    return app


dlogprobs = torch.zeros_like(logprobs)
dlogprobs[range(n), Yb] = -1.0 / n
dprobs = (1.0 / probs) * dlogprobs
dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
dcounts = counts_sum_inv * dprobs
dcounts_sum = (-counts_sum**-2) * dcounts_sum_inv
dcounts += torch.ones_like(counts) * dcounts_sum
dnorm_logits = counts * dcounts
dlogits = dnorm_logits.clone()
dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
dh = dlogits @ W2.T
dW2 = h.T @ dlogits
db2 = dlogits.sum(0)
dhpreact = (1.0 - h**2) * dh
dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
dbnraw = bngain * dhpreact
dbnbias = dhpreact.sum(0, keepdim=True)
dbndiff = bnvar_inv * dbnraw
dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv
dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar
dbndiff += (2 * bndiff) * dbndiff2
dhprebn = dbndiff.clone()
dbnmeani = (-dbndiff).sum(0)
dhprebn += 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)
dembcat = dhprebn @ W1.T
dW1 = embcat.T @ dhprebn
db1 = dhprebn.sum(0)
demb = dembcat.view(emb.shape)
dC = torch.zeros_like(C)
for k in range(Xb.shape[0]):
    for j in range(Xb.shape[1]):
        dC[Xb[k, j]] += demb[k, j]
dC_fast = torch.zeros_like(C).index_add_(0, Xb.view(-1), demb.view(-1, n_embd))

names = ["logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits", "logit_maxes", "logits", "h",
         "W2", "b2", "hpreact", "bngain", "bnbias", "bnraw", "bnvar_inv", "bnvar", "bndiff2", "bndiff", "bnmeani",
         "hprebn", "embcat", "W1", "b1", "emb", "C"]
manual = [dlogprobs, dprobs, dcounts_sum_inv, dcounts_sum, dcounts, dnorm_logits, dlogit_maxes, dlogits, dh, dW2, db2,
          dhpreact, dbngain, dbnbias, dbnraw, dbnvar_inv, dbnvar, dbndiff2, dbndiff, dbnmeani, dhprebn, dembcat, dW1,
          db1, demb, dC]
tensors = dict(zip(names, [logprobs, probs, counts_sum_inv, counts_sum, counts, norm_logits, logit_maxes, logits, h,
                           W2, b2, hpreact, bngain, bnbias, bnraw, bnvar_inv, bnvar, bndiff2, bndiff, bnmeani, hprebn,
                           embcat, W1, b1, emb, C]))
agree = [cmp(name, d, tensors[name]) for name, d in zip(names, manual)]

# the fast versions: cross-entropy's gradient in one line, batch norm's backward in one line
loss_fast = F.cross_entropy(logits, Yb)
dlogits_fast = F.softmax(logits, 1)
dlogits_fast[range(n), Yb] -= 1
dlogits_fast /= n
hpreact_fast = bngain * (hprebn - hprebn.mean(0, keepdim=True)) / torch.sqrt(
    hprebn.var(0, keepdim=True, unbiased=True) + 1e-5) + bnbias
dhprebn_fast = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0)
                                         - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))

# a couple of SGD steps with the manual gradients
lr = 0.1
with torch.no_grad():
    for p, g in zip(parameters, [dC, dW1, db1, dW2, db2, dbngain, dbnbias]):
        p.data += -lr * g

dtype = "float64"
results = {
    "loss": loss.item(), "loss_fast": loss_fast.item(), "agree": [float(a) for a in agree],
    "autograd": {name: t.grad for name, t in tensors.items()},
    "manual": dict(zip(names, manual)),
    "dC_fast": dC_fast, "dlogits_fast_diff": (dlogits_fast - logits.grad).abs().max().item() < 1e-12,
    "hpreact_fast_diff": (hpreact_fast - hpreact).abs().max().item() < 1e-12,
    "dhprebn_fast": dhprebn_fast, "C_after": C.detach(), "bngain_after": bngain.detach(),
}
