# A tiny causal self-attention block (as in a from-scratch GPT chapter), trained for a few NAdam steps.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float32"
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, embed, heads, hidden):
        super().__init__()
        self.attention = nn.MultiheadAttention(embed, heads, batch_first=True)
        self.norm = nn.LayerNorm(embed)
        self.feed_forward = nn.ModuleList([nn.Linear(embed, hidden), nn.GELU(), nn.Linear(hidden, embed)])
        self.head = nn.Linear(embed, 5)

    def forward(self, x):
        length = x.shape[1]
        causal = torch.tensor([[later > now for later in range(length)] for now in range(length)])
        attended, weights = self.attention(x, x, x, attn_mask=causal)
        x = self.norm(x + attended)
        h = x
        for layer in self.feed_forward:
            h = layer(h)
        return self.head(x + h), weights


model = Block(embed=8, heads=2, hidden=16)
rng = np.random.default_rng(0)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.normal(0, 0.3, size=tuple(p.shape)), dtype=torch.float32))

x = torch.tensor(np.sin(np.arange(3 * 6 * 8).reshape(3, 6, 8) * 0.37), dtype=torch.float32)
y = torch.tensor([[i % 5 for i in range(j, j + 6)] for j in range(3)])

optimizer = torch.optim.NAdam(model.parameters(), lr=0.01)
losses = []
for _ in range(5):
    logits, weights = model(x)
    loss = F.cross_entropy(logits.reshape(-1, 5), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

# the same attention, written out with the functional form
q = x @ model.attention.in_proj_weight[:8].T
single = F.scaled_dot_product_attention(q, q, q, is_causal=True)

results = {"losses": losses, "weights": weights.detach(), "head": model.head.weight.detach(),
           "sdpa": single.detach()}
