# A character-level MLP language model in the makemore style (written for this project):
# an embedding table C, a tanh hidden layer, cross-entropy, and manual p.data updates.
import numpy as np
import torch
import torch.nn.functional as F

words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]
chars = sorted(set("".join(words)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
vocab = len(stoi)

block_size = 3
X, Y = [], []
for w in words:
    context = [0] * block_size
    for ch in w + ".":
        ix = stoi[ch]
        X.append(context)
        Y.append(ix)
        context = context[1:] + [ix]
X = torch.tensor(X)
Y = torch.tensor(Y)

rng = np.random.default_rng(42)
C = torch.tensor(rng.standard_normal((vocab, 2)), dtype=torch.float32)
W1 = torch.tensor(rng.standard_normal((6, 50)) * 0.3, dtype=torch.float32)
b1 = torch.tensor(rng.standard_normal(50) * 0.01, dtype=torch.float32)
W2 = torch.tensor(rng.standard_normal((50, vocab)) * 0.1, dtype=torch.float32)
b2 = torch.zeros(vocab)
parameters = [C, W1, b1, W2, b2]
for p in parameters:
    p.requires_grad = True

losses = []
for i in range(20):
    ix = torch.tensor(rng.integers(0, X.shape[0], size=16))
    emb = C[X[ix]]  # (16, 3, 2)
    h = torch.tanh(emb.view(-1, 6) @ W1 + b1)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Y[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 15 else 0.01
    for p in parameters:
        p.data += -lr * p.grad
    losses.append(loss.item())

# the same lookup as a layer
table = torch.nn.Embedding(vocab, 2)
with torch.no_grad():
    table.weight.copy_(C)
emb = table(X)
full = F.cross_entropy(torch.tanh(emb.view(-1, 6) @ W1 + b1) @ W2 + b2, Y)
full.backward()
results = {"losses": losses, "full_loss": full.item(), "table_grad": table.weight.grad, "C": C.detach()}
