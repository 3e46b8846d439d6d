# A character-level bigram model of names: counts first, then the same model as a one-layer network.
import torch
import torch.nn.functional as F

words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail",
         "ella", "luna", "chloe", "zoe", "nora", "lily", "eli", "max", "leo", "jack", "ivy"]
chars = [chr(ord("a") + k) for k in range(26)]
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
V = 27

# the counts
N = torch.zeros((V, V), dtype=torch.int32)
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1

P = (N + 1).float()
P /= P.sum(1, keepdims=True)

log_likelihood = 0.0
n = 0
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        prob = P[stoi[ch1], stoi[ch2]]
        log_likelihood += torch.log(prob)
        n += 1
nll = -log_likelihood / n

# sampling runs, but PyTorch's random stream is not glassgrad's: only its length is compared
g = torch.Generator().manual_seed(2147483647)
sample = []
ix = 0
while True:
    ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
    if ix == 0 or len(sample) > 50:
        break
    sample.append(itos[ix])

# the same bigram model as a network: one-hot inputs times a weight matrix
xs, ys = [], []
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs = torch.tensor(xs)
ys = torch.tensor(ys)
num = xs.nelement()

W = (torch.arange(V * V, dtype=torch.float32).reshape(V, V) * 0.37).sin() * 0.1
W.requires_grad = True
losses = []
for _ in range(30):
    xenc = F.one_hot(xs, num_classes=V).float()
    logits = xenc @ W
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W ** 2).mean()
    losses.append(loss.item())
    W.grad = None
    loss.backward()
    W.data += -10 * W.grad

results = {
    "counts_row_a": N[stoi["a"]].tolist(),
    "total_count": N.sum().item(),
    "nll": nll.item(),
    "P_dot_row": P[0],
    "sample_is_text": len("".join(sample)) >= 0,
    "losses": losses,
    "W_corner": W[:3, :3],
}
