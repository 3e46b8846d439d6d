# A character-level bigram model and a tiny decoder-only GPT written the nanoGPT way (for this project): token and
# position embeddings, a causal mask kept as a buffer, heads split with view/transpose, pre-LayerNorm blocks with
# a GELU MLP, weight tying, nanoGPT's init, the same attention through scaled_dot_product_attention, and greedy
# and top-k generation.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
dtype = "float64"
text = "hello glass world, hello grad world. " * 4
chars = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
vocab_size, block_size, n_embd, n_head, n_layer = len(chars), 8, 16, 4, 2


class Bigram(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, idx, targets=None):
        logits = self.table(idx)
        B, T, C = logits.shape
        loss = None if targets is None else F.cross_entropy(logits.view(B * T, C), targets.view(B * T))
        return logits, loss


class CausalSelfAttention(nn.Module):
    def __init__(self, flash=False):
        super().__init__()
        self.c_attn, self.c_proj = nn.Linear(n_embd, 3 * n_embd), nn.Linear(n_embd, n_embd)
        self.flash = flash
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(n_embd, dim=2)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
        q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
        v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        if self.flash:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, flash):
        super().__init__()
        self.ln_1, self.attn, self.ln_2 = nn.LayerNorm(n_embd), CausalSelfAttention(flash), nn.LayerNorm(n_embd)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(n_embd, 4 * n_embd), act=nn.GELU(),
                                      c_proj=nn.Linear(4 * n_embd, n_embd)))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp.c_proj(self.mlp.act(self.mlp.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, flash=False):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(wte=nn.Embedding(vocab_size, n_embd),
                                              wpe=nn.Embedding(block_size, n_embd),
                                              h=nn.ModuleList([Block(flash) for _ in range(n_layer)]),
                                              ln_f=nn.LayerNorm(n_embd)))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, greedy=False, generator=None):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= block_size else idx[:, -block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            if greedy:
                idx_next = torch.argmax(probs, dim=-1, keepdim=True)
            else:
                idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx, probs


rng = np.random.default_rng(0)
model, flash_model = GPT(), GPT(flash=True)
n_params = sum(p.numel() for p in model.parameters())
biases_zero = all(bool((m.bias == 0).all()) for m in model.modules() if isinstance(m, nn.Linear) and m.bias is not None)
tied = model.lm_head.weight is model.transformer.wte.weight
state = {k: torch.from_numpy(rng.normal(0, 0.3, tuple(v.shape))) if v.is_floating_point() and "mask" not in k else v
         for k, v in model.state_dict().items()}
model.load_state_dict(state)
flash_model.load_state_dict(state)
ix = torch.from_numpy(rng.integers(0, len(data) - block_size, 3))
x = torch.stack([data[i:i + block_size] for i in ix])
y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix])
y[0, :2] = -1
logits, loss = model(x, y)
flash_logits, _ = flash_model(x, y)
loss.backward()
bigram = Bigram()
with torch.no_grad():
    bigram.table.weight.copy_(torch.from_numpy(rng.normal(size=(vocab_size, vocab_size))))
_, bigram_loss = bigram(x, y.clamp(min=0))
greedy, _ = model.generate(x[:1, :3], 10, greedy=True)
_, top_probs = model.generate(x[:, :5], 1, temperature=0.8, top_k=3, generator=torch.Generator().manual_seed(1))
sampled, _ = model.generate(x[:1, :3], 4, top_k=3, generator=torch.Generator().manual_seed(1))
results = {"n_params": n_params, "biases_zero": biases_zero, "tied": tied, "loss": loss, "logits": logits[:, -2:],
           "flash_same": bool((logits - flash_logits).abs().max() < 1e-12),
           "wte_grad": model.transformer.wte.weight.grad,
           "bigram_loss": bigram_loss, "greedy": greedy, "top_probs": top_probs, "sampled_shape": list(sampled.shape),
           "mask_buffers": [n for n, _ in model.named_buffers()][:1], "state_keys": len(model.state_dict())}
