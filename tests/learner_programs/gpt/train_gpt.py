# nanoGPT's training loop (written for this project): AdamW with decay only for matrices, betas (0.9, 0.95), a
# warmup + cosine learning rate written into each param group every step, gradient accumulation over micro-batches,
# clip_grad_norm_, zero_grad(set_to_none=True), and an estimate_loss under no_grad with eval()/train(). The model is
# a one-block causal transformer kept small; float32 as nanoGPT trains.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1337)
device = "cuda" if torch.cuda.is_available() else "cpu"
rng = np.random.default_rng(3)
data = torch.from_numpy(rng.integers(0, 11, 400))
vocab, block_size, n_embd, batch_size, accum = 11, 6, 12, 4, 2


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, n_embd), nn.Embedding(block_size, n_embd)
        self.ln_1, self.ln_f = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.c_attn, self.c_proj = nn.Linear(n_embd, 3 * n_embd), nn.Linear(n_embd, n_embd)
        self.drop = nn.Dropout(0.0)
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)
        self.wte.weight = self.lm_head.weight

    def forward(self, idx, targets=None):
        B, T = idx.shape
        x = self.drop(self.wte(idx) + self.wpe(torch.arange(T, device=idx.device)))
        q, k, v = self.c_attn(self.ln_1(x)).split(n_embd, dim=2)
        q, k, v = (t.view(B, T, 2, n_embd // 2).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=0.0)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, n_embd))
        logits = self.lm_head(self.ln_f(x))
        loss = None if targets is None else F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


model = TinyGPT().to(device)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(p.shape)).astype(np.float32)))
param_dict = {pn: p for pn, p in model.named_parameters() if p.requires_grad}
decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
optim_groups = [{"params": decay_params, "weight_decay": 0.1}, {"params": nodecay_params, "weight_decay": 0.0}]
optimizer = torch.optim.AdamW(optim_groups, lr=1e-2, betas=(0.9, 0.95), eps=1e-8)
warmup_iters, lr_decay_iters, max_iters, learning_rate, min_lr = 3, 10, 12, 1e-2, 1e-3


def get_lr(it):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


def get_batch(offset):
    ix = [(offset * 7 + 13 * j) % (len(data) - block_size) for j in range(batch_size)]
    x = torch.stack([data[i:i + block_size] for i in ix])
    y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix])
    return x.to(device), y.to(device)


@torch.no_grad()
def estimate_loss():
    model.eval()
    losses = torch.zeros(3)
    for k in range(3):
        _, loss = model(*get_batch(100 + k))
        losses[k] = loss.item()
    model.train()
    return losses.mean()


lrs, losses, norms = [], [], []
for it in range(max_iters):
    lr = get_lr(it)
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr
    for micro_step in range(accum):
        _, loss = model(*get_batch(it * accum + micro_step))
        loss = loss / accum
        loss.backward()
    norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    lrs.append(lr)
    losses.append(loss.item() * accum)
results = {"lrs": lrs, "losses": losses, "norms": norms, "val": estimate_loss(),
           "grad_none": model.wpe.weight.grad is None,
           "groups": [len(g["params"]) for g in optimizer.param_groups], "training": model.training,
           "exp_avg_sq": optimizer.state[model.c_proj.weight]["exp_avg_sq"], "wpe": model.wpe.weight}
