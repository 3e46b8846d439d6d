# "Building a WaveNet" (written for this project in the spirit of Karpathy's makemore part 5): hand-written
# Linear / BatchNorm1d / Tanh / Embedding / FlattenConsecutive / Sequential classes with __call__ and
# parameters(), a hierarchical model that fuses two consecutive characters at a time, a few steps of plain SGD
# (p.data += -lr * p.grad), then every layer put in eval mode through its training flag, split losses and a
# greedy sample; then the same network built from torch.nn modules and trained by torch.optim.SGD. Weights come from a
# seeded NumPy generator so both libraries start from the same numbers.
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(42)


def randn(*shape):
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float32)


words = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn", "abigail",
         "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila", "aria", "scarlett", "victoria", "madison",
         "luna", "grace", "chloe", "penelope", "layla", "riley", "zoey", "nora", "lily", "eleanor"]
chars = sorted(list(set("".join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
vocab_size = len(itos)

block_size = 8  # characters of context per prediction


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # slide the window by one
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    print(X.shape, Y.shape)
    return X, Y


n1 = int(0.8 * len(words))
n2 = int(0.9 * len(words))
Xtr, Ytr = build_dataset(words[:n1])  # 80%
Xdev, Ydev = build_dataset(words[n1:n2])  # 10%
Xte, Yte = build_dataset(words[n2:])  # 10%

for x, y in zip(Xtr[:10], Ytr[:10]):
    print("".join(itos[ix.item()] for ix in x), "-->", itos[y.item()])


# -----------------------------------------------------------------------------------------------
class Linear:

    def __init__(self, fan_in, fan_out, bias=True):
        self.weight = randn(fan_in, fan_out) / fan_in**0.5  # scaled by 1/sqrt(fan_in)
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


# -----------------------------------------------------------------------------------------------
class BatchNorm1d:

    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps = eps
        self.momentum = momentum
        self.training = True
        # learned scale and shift
        self.gamma = torch.ones(dim)
        self.beta = torch.zeros(dim)
        # running statistics, for eval mode
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        if self.training:
            if x.ndim == 2:
                dim = 0
            elif x.ndim == 3:
                dim = (0, 1)
            xmean = x.mean(dim, keepdim=True)
            xvar = x.var(dim, keepdim=True)  # unbiased
        else:
            xmean = self.running_mean
            xvar = self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
        self.out = self.gamma * xhat + self.beta
        # exponential moving averages, outside the graph
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


# -----------------------------------------------------------------------------------------------
class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


# -----------------------------------------------------------------------------------------------
class Embedding:

    def __init__(self, num_embeddings, embedding_dim):
        self.weight = randn(num_embeddings, embedding_dim)

    def __call__(self, IX):
        self.out = self.weight[IX]
        return self.out

    def parameters(self):
        return [self.weight]


# -----------------------------------------------------------------------------------------------
class FlattenConsecutive:

    def __init__(self, n):
        self.n = n

    def __call__(self, x):
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        if x.shape[1] == 1:
            x = x.squeeze(1)
        self.out = x
        return self.out

    def parameters(self):
        return []


# -----------------------------------------------------------------------------------------------
class Sequential:

    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        self.out = x
        return self.out

    def parameters(self):
        # every layer's parameters in one flat list
        return [p for layer in self.layers for p in layer.parameters()]


# what FlattenConsecutive does, checked by hand on a small example
e = randn(4, 8, 10)
explicit = torch.cat([e[:, ::2, :], e[:, 1::2, :]], dim=2)
view_is_explicit = (e.view(4, 4, 20) == explicit).all().item()

e = randn(32, 4, 68)
emean = e.mean((0, 1), keepdim=True)  # 1, 1, 68
evar = e.var((0, 1), keepdim=True)  # 1, 1, 68
ehat = (e - emean) / torch.sqrt(evar + 1e-5)  # 32, 4, 68

n_embd = 10  # size of each character's vector
n_hidden = 32  # hidden units
model = Sequential([
    Embedding(vocab_size, n_embd),
    FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    Linear(n_hidden, vocab_size),
])

# parameter init
with torch.no_grad():
    model.layers[-1].weight *= 0.1  # start with nearly uniform predictions

parameters = model.parameters()
print(sum(p.nelement() for p in parameters))  # parameter count
for p in parameters:
    p.requires_grad = True
initial = [p.detach().clone() for p in parameters]

ix = torch.tensor(rng.integers(0, Xtr.shape[0], (4,)))
Xb, Yb = Xtr[ix], Ytr[ix]
logits = model(Xb)
print(Xb.shape)
shapes = []
for layer in model.layers:
    print(layer.__class__.__name__, ":", tuple(layer.out.shape))
    shapes.append(list(layer.out.shape))
running_mean_shape = list(model.layers[3].running_mean.shape)

# training
max_steps = 8
batch_size = 32
lossi = []
ud = []
batches = []
for i in range(max_steps):
    ix = torch.tensor(rng.integers(0, Xtr.shape[0], (batch_size,)))
    Xb, Yb = Xtr[ix], Ytr[ix]
    batches.append(ix)

    logits = model(Xb)
    loss = F.cross_entropy(logits, Yb)

    for layer in model.layers:
        layer.out.retain_grad()  # to look at the activations' gradients below
    for p in parameters:
        p.grad = None
    loss.backward()

    # plain SGD
    lr = 0.1 if i < 150000 else 0.01
    for p in parameters:
        p.data += -lr * p.grad

    if i % 2 == 0:
        print(f"{i:7d}/{max_steps:7d}: {loss.item():.4f}")
    lossi.append(loss.log10().item())
    with torch.no_grad():
        ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters if p.ndim == 2])

# activation and gradient statistics of the tanh layers, as the histograms show them
stats = []
for i, layer in enumerate(model.layers[:-1]):
    if isinstance(layer, Tanh):
        t = layer.out
        g = layer.out.grad
        print("layer %d (%10s): mean %+.2f, std %.2f, saturated: %.2f%%" % (  # noqa: UP031
            i, layer.__class__.__name__, t.mean(), t.std(), (t.abs() > 0.97).float().mean() * 100))
        hy, hx = torch.histogram(t.detach(), 8, density=True)
        gy, gx = torch.histogram(g, 8, density=True)
        stats.append([t.mean().item(), t.std().item(), ((t.abs() > 0.97).float().mean() * 100).item(),
                      g.mean().item(), g.std().item()] + hy.tolist() + hx.tolist() + gx.tolist())

smoothed = torch.tensor(lossi).view(-1, 4).mean(1)

# eval mode: batch norm uses its running statistics
for layer in model.layers:
    layer.training = False


# loss on each split
@torch.no_grad()
def split_loss(split):
    x, y = {
        "train": (Xtr, Ytr),
        "val": (Xdev, Ydev),
        "test": (Xte, Yte),
    }[split]
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    print(split, loss.item())
    return loss.item()


losses = {split: split_loss(split) for split in ["train", "val", "test"]}

# sample from the model (greedily, so that both libraries pick the same characters)
samples = []
for _ in range(3):
    out = []
    context = [0] * block_size  # start from the '.' padding
    while True:
        logits = model(torch.tensor([context]))
        probs = F.softmax(logits, dim=1)
        # pick the most likely next character
        ix = torch.argmax(probs, dim=1).item()
        context = context[1:] + [ix]
        out.append(ix)
        # '.' ends a name
        if ix == 0 or len(out) >= 10:
            break
    samples.append("".join(itos[i] for i in out))
    context = [stoi[samples[-1][0]]] + [0] * (block_size - 1)



# the same network from torch.nn, from the same initial weights and on the same batches: batch norm wants (N, C, L),
# so the 3-d activations are transposed around it; its losses differ a little from the hand-written model's, since
# nn.BatchNorm1d normalizes a batch by its biased variance and the class above by the unbiased one
class FlattenConsecutiveModule(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        B, T, C = x.shape
        x = x.reshape(B, T // self.n, C * self.n)  # view fails here: batch norm's transposes leave x strided
        return x.squeeze(1) if x.shape[1] == 1 else x


class BatchNormLast(torch.nn.BatchNorm1d):
    def forward(self, x):
        return super().forward(x.transpose(1, 2)).transpose(1, 2) if x.ndim == 3 else super().forward(x)


nn = torch.nn
torch_model = nn.Sequential(
    nn.Embedding(vocab_size, n_embd),
    FlattenConsecutiveModule(2), nn.Linear(n_embd * 2, n_hidden, bias=False), BatchNormLast(n_hidden), nn.Tanh(),
    FlattenConsecutiveModule(2), nn.Linear(n_hidden * 2, n_hidden, bias=False), BatchNormLast(n_hidden), nn.Tanh(),
    FlattenConsecutiveModule(2), nn.Linear(n_hidden * 2, n_hidden, bias=False), BatchNormLast(n_hidden), nn.Tanh(),
    nn.Linear(n_hidden, vocab_size),
)
with torch.no_grad():
    for p, w in zip(torch_model.parameters(), initial):
        p.copy_(w if p.shape == w.shape else w.T)  # nn.Linear keeps its weight as (fan_out, fan_in)
optimizer = torch.optim.SGD(torch_model.parameters(), lr=0.1)
torch_losses = []
for ix in batches:
    loss = F.cross_entropy(torch_model(Xtr[ix]), Ytr[ix])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    torch_losses.append(loss.log10().item())
torch_model.eval()
with torch.no_grad():
    torch_val = F.cross_entropy(torch_model(Xdev), Ydev).item()

results = {
    "torch_losses": torch_losses, "torch_val": torch_val,
    "torch_running_var": torch_model[7].running_var[:6], "n_params": sum(p.numel() for p in torch_model.parameters()),
    "view_is_explicit": float(view_is_explicit), "shapes": shapes, "running_mean_shape": running_mean_shape,
    "ehat_shape": list(ehat.shape), "ehat": ehat[0, 0, :5], "ud": ud, "stats": stats,
    "lossi": lossi, "smoothed": smoothed, "losses": losses, "samples": samples,
    "running_mean": model.layers[3].running_mean.flatten()[:6],
    "running_var": model.layers[7].running_var.flatten()[:6],
    "logits": model(Xdev[:3]).detach(), "gamma": model.layers[11].gamma[:6].detach(),
}
