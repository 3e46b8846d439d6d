# A character-level language model as makemore lessons grow it (written for this project): bigram counts turned
# into probabilities, then an MLP over a 3-character context -- an embedding table C[X], a tanh hidden layer,
# F.cross_entropy, a hand-written SGD loop with learning-rate decay -- and names sampled with torch.multinomial
# from a seeded Generator (the draws are compared by range and membership only: the streams differ).
import numpy as np
import torch
import torch.nn.functional as F

words = ["anna", "bob", "clara", "dina", "ella", "fiona", "greta", "hanna", "ida", "jana", "kira", "lena",
         "mara", "nina", "olga", "paula", "rita", "sara", "tina", "ursula", "vera", "wanda", "yara", "zoe"]
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
V = len(stoi)

N = torch.zeros((V, V), dtype=torch.int32)
for w in words:
    cs = ["."] + list(w) + ["."]
    for a, b in zip(cs, cs[1:]):
        N[stoi[a], stoi[b]] += 1
P = (N + 1).float()
P /= P.sum(1, keepdim=True)
print(N[0, :6])
print(P[0, :4])
nll, n = 0.0, 0
for w in words:
    cs = ["."] + list(w) + ["."]
    for a, b in zip(cs, cs[1:]):
        nll += -torch.log(P[stoi[a], stoi[b]])
        n += 1
print(f"bigram nll={nll / n:.4f}")

block_size = 3
X, Y = [], []
for w in words:
    context = [0] * block_size
    for ch in w + ".":
        X.append(context)
        Y.append(stoi[ch])
        context = context[1:] + [stoi[ch]]
X, Y = torch.tensor(X), torch.tensor(Y)
print(X.shape, X.dtype, Y.shape, Y.dtype)

rng = np.random.default_rng(2147483647)
C = torch.tensor(rng.standard_normal((V, 6)), dtype=torch.float32)
W1 = torch.tensor(rng.standard_normal((18, 40)), dtype=torch.float32) * 0.2
b1 = torch.tensor(rng.standard_normal(40), dtype=torch.float32) * 0.01
W2 = torch.tensor(rng.standard_normal((40, V)), dtype=torch.float32) * 0.01
b2 = torch.zeros(V)
parameters = [C, W1, b1, W2, b2]
print(sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True

lossi = []
for i in range(60):
    ix = torch.arange(i * 7, i * 7 + 16) % X.shape[0]
    emb = C[X[ix]]
    h = torch.tanh(emb.view(-1, 18) @ W1 + b1)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Y[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 40 else 0.01
    for p in parameters:
        p.data += -lr * p.grad
    lossi.append(loss.log10().item())
emb = C[X]
logits = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1) @ W2 + b2
full = F.cross_entropy(logits, Y)
print(f"train loss {full.item():.4f}")
print(logits[:2, :3])

g = torch.Generator().manual_seed(2147483647 + 10)
names = []
with torch.no_grad():
    for _ in range(5):
        out, context = [], [0] * block_size
        while True:
            emb = C[torch.tensor([context])]
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            probs = F.softmax(h @ W2 + b2, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0 or len(out) > 20:
                break
        names.append("".join(itos[i] for i in out))
draws = torch.multinomial(P[0], 8, replacement=True, generator=g)
try:  # the counts themselves, before .float(): a common slip
    torch.multinomial(N[0], 1, replacement=True, generator=g)
    counts_refused = "no"
except Exception as error:
    counts_refused = type(error).__name__
in_range = bool((draws >= 0).all() and (draws < V).all())
results = {"P": P, "nll": nll / n, "lossi": lossi, "full": full, "grad_C": C.grad, "W2": W2,
           "names_ok": all(set(nm) <= set(stoi) for nm in names), "draws": [draws.shape[0], draws.dtype == torch.int64,
                                                                            in_range],
           "counts_refused": counts_refused, "no_replacement": sorted(torch.multinomial(P[1], V, generator=g).tolist())}
