# A tiny GPT as "let's build GPT" lessons build it (written for this project): one self-attention Head with
# key/query/value Linear layers and a causal mask registered as a buffer (torch.tril, masked_fill with -inf,
# F.softmax), MultiHeadAttention, a FeedForward, a Block with pre-LayerNorm residuals, get_batch, an
# @torch.no_grad() estimate_loss switching model.eval()/model.train(), torch.optim.AdamW, and generation.
import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

text = "first citizen: before we proceed any further, hear me speak. all: speak, speak. " * 4
chars = sorted(set(text))
vocab_size = len(chars)
stoi = {ch: i for i, ch in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
n = int(0.9 * len(data))
train_data, val_data = data[:n], data[n:]
block_size, batch_size, n_embd, n_head = 8, 4, 16, 2
rng = np.random.default_rng(1337)


def get_batch(split, step):
    d = train_data if split == "train" else val_data
    ix = torch.tensor((np.arange(batch_size) * 13 + step * 5) % (len(d) - block_size))
    x = torch.stack([d[i:i + block_size] for i in ix])
    y = torch.stack([d[i + 1:i + block_size + 1] for i in ix])
    return x, y


class Head(nn.Module):
    def __init__(self, head_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x):
        B, T, C = x.shape
        k, q = self.key(x), self.query(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        wei = F.softmax(wei, dim=-1)
        return wei @ self.value(x)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleList([Head(n_embd // n_head) for _ in range(n_head)])
        self.proj = nn.Linear(n_embd, n_embd)
        self.ffwd = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd),
                                  nn.Dropout(0.0))
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)

    def forward(self, x):
        x = x + self.proj(torch.cat([h(self.ln1(x)) for h in self.heads], dim=-1))
        return x + self.ffwd(self.ln2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(Block(), Block())
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        x = self.token_embedding_table(idx) + self.position_embedding_table(torch.arange(T))
        logits = self.lm_head(self.ln_f(self.blocks(x)))
        if targets is None:
            return logits, None
        B, T, C = logits.shape
        return logits, F.cross_entropy(logits.view(B * T, C), targets.view(B * T))

    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -block_size:])
            idx_next = logits[:, -1, :].argmax(dim=-1, keepdim=True)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


model = GPT()
with torch.no_grad():
    for name, p in model.named_parameters():
        if "ln" not in name:
            p.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(p.shape)).astype(np.float32)))
print(sum(p.numel() for p in model.parameters()) / 1e3, "K parameters")


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(3)
        for k in range(3):
            X, Y = get_batch(split, k)
            losses[k] = model(X, Y)[1].item()
        out[split] = losses.mean()
    model.train()
    return out


optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
history = []
for it in range(30):
    if it % 10 == 0:
        losses = estimate_loss()
        print(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
        history.append([losses["train"].item(), losses["val"].item()])
    xb, yb = get_batch("train", it)
    logits, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
out = model.generate(torch.zeros((1, 1), dtype=torch.long), 20)[0].tolist()
print("".join(chars[i] for i in out))
head = model.blocks[0].heads[0]
results = {"history": history, "loss": loss, "generated": out, "training": model.training,
           "buffers": [k for k in model.state_dict() if "tril" in k][:2], "tril": head.tril[:3, :3],
           "tril_grad": head.tril.requires_grad, "ln": model.ln_f.weight[:4],
           "wd": optimizer.param_groups[0]["weight_decay"]}
