# A deep MLP trained with activation checkpointing (written for this project): each block of two layers runs
# under torch.utils.checkpoint, so its intermediates are recomputed in backward; a frozen embedding table made
# with Embedding.from_pretrained feeds it, and a reflect-padded Conv1d with a ceil-mode max pool reads the same
# tokens; autograd.grad through a checkpointed block gives an input gradient for a saliency number.
import numpy as np
import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint

dtype = "float64"
rng = np.random.default_rng(5)
vectors = torch.tensor(rng.normal(size=(10, 6)), dtype=torch.float64)
tokens = torch.tensor([[1, 4, 2, 9, 3], [0, 5, 5, 7, 8], [6, 2, 1, 1, 4]])
targets = torch.tensor([[0.5], [-1.0], [2.0]], dtype=torch.float64)


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.first = nn.Linear(width, width)
        self.second = nn.Linear(width, width)

    def forward(self, h):
        return h + torch.tanh(self.second(torch.relu(self.first(h))))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(vectors)
        self.conv = nn.Conv1d(6, 4, 3, padding=1, padding_mode="reflect")
        self.pool = nn.MaxPool1d(2, ceil_mode=True)
        self.blocks = nn.ModuleList([Block(12) for _ in range(3)])
        self.head = nn.Linear(12, 1)

    def forward(self, tokens):
        h = self.pool(self.conv(self.embed(tokens).transpose(1, 2)))  # (N, 4, 3)
        h = h.flatten(1)
        for block in self.blocks:
            h = checkpoint(block, h, use_reentrant=False)
        return self.head(h)


model = Model().double()
with torch.no_grad():
    for p in model.parameters():
        if p.requires_grad:
            p.copy_(torch.tensor(rng.uniform(-0.4, 0.4, size=tuple(p.shape)), dtype=torch.float64))
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
losses = []
for _ in range(6):
    optimizer.zero_grad()
    loss = ((model(tokens) - targets) ** 2).mean()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

h = model.pool(model.conv(model.embed(tokens).transpose(1, 2))).flatten(1).detach().requires_grad_()
out = checkpoint(model.blocks[0], h, use_reentrant=False).sum()
(saliency,) = torch.autograd.grad(out, h)

results = {
    "losses": losses,
    "frozen_table_unchanged": bool(torch.equal(model.embed.weight, vectors)),
    "head": model.head.weight.detach().numpy().tolist(),
    "saliency": saliency.numpy().tolist(),
}
