# The "build a large language model from scratch" GPT (written for this project): a causal multi-head attention
# with nn.Dropout and a triu mask filled in place with -inf, a LayerNorm and a tanh GELU written by hand, a few
# AdamW steps, then torch.save of model and optimizer state, loading both back (weights_only=True) and resuming.
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
dtype = "float64"
cfg = {"vocab_size": 9, "context_length": 5, "emb_dim": 8, "n_heads": 2, "drop_rate": 0.0, "qkv_bias": False}


class MultiHeadAttention(nn.Module):
    def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        self.d_out, self.num_heads, self.head_dim = d_out, num_heads, d_out // num_heads
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length), diagonal=1))

    def forward(self, x):
        b, num_tokens, d_in = x.shape
        keys = self.W_key(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        queries = self.W_query(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        values = self.W_value(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        attn_scores = queries @ keys.transpose(2, 3)
        mask_bool = self.mask.bool()[:num_tokens, :num_tokens]
        attn_scores.masked_fill_(mask_bool, -torch.inf)
        attn_weights = self.dropout(torch.softmax(attn_scores / keys.shape[-1]**0.5, dim=-1))
        context_vec = (attn_weights @ values).transpose(1, 2).contiguous().view(b, num_tokens, self.d_out)
        return self.out_proj(context_vec)


class LayerNorm(nn.Module):
    def __init__(self, emb_dim):
        super().__init__()
        self.eps, self.scale, self.shift = 1e-5, nn.Parameter(torch.ones(emb_dim)), nn.Parameter(torch.zeros(emb_dim))

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True, unbiased=False)
        return self.scale * (x - mean) / torch.sqrt(var + self.eps) + self.shift


class GELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1 + torch.tanh(torch.sqrt(torch.tensor(2.0 / torch.pi)) * (x + 0.044715 * torch.pow(x, 3))))


class GPTModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
        self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
        self.drop_emb = nn.Dropout(cfg["drop_rate"])
        self.att = MultiHeadAttention(cfg["emb_dim"], cfg["emb_dim"], cfg["context_length"], cfg["drop_rate"],
                                      cfg["n_heads"], cfg["qkv_bias"])
        self.norm1, self.norm2 = LayerNorm(cfg["emb_dim"]), LayerNorm(cfg["emb_dim"])
        self.final_norm = LayerNorm(cfg["emb_dim"])
        self.ff = nn.Sequential(nn.Linear(cfg["emb_dim"], 4 * cfg["emb_dim"]), GELU(),
                                nn.Linear(4 * cfg["emb_dim"], cfg["emb_dim"]))
        self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)

    def forward(self, in_idx):
        batch_size, seq_len = in_idx.shape
        x = self.drop_emb(self.tok_emb(in_idx) + self.pos_emb(torch.arange(seq_len, device=in_idx.device)))
        x = x + self.att(self.norm1(x))
        x = x + self.ff(self.norm2(x))
        return self.out_head(self.final_norm(x))


def train_steps(model, optimizer, batches):
    losses = []
    for input_batch, target_batch in batches:
        optimizer.zero_grad()
        logits = model(input_batch)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), target_batch.flatten())
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


rng = np.random.default_rng(5)
model = GPTModel(cfg)
model.load_state_dict({k: torch.from_numpy(rng.normal(0, 0.4, tuple(v.shape))) for k, v in model.state_dict().items()
                       if k != "att.mask"}, strict=False)
tokens = torch.from_numpy(rng.integers(0, 9, (6, 2, 6)))
batches = [(t[:, :-1], t[:, 1:]) for t in tokens]
optimizer = torch.optim.AdamW(model.parameters(), lr=0.004, weight_decay=0.1)
first = train_steps(model, optimizer, batches[:3])
path = os.path.join(tempfile.mkdtemp(), "model_and_optimizer.pth")
torch.save({"model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()}, path)
checkpoint = torch.load(path, weights_only=True)
saved_step = int(checkpoint["optimizer_state_dict"]["state"][0]["step"])
resumed = GPTModel(cfg)
resumed.load_state_dict(checkpoint["model_state_dict"])
resumed_optimizer = torch.optim.AdamW(resumed.parameters(), lr=0.0005, weight_decay=0.1)
resumed_optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
resumed.train()
after = train_steps(resumed, resumed_optimizer, batches[3:])
straight = train_steps(model, optimizer, batches[3:])
param_count = sum(p.numel() for p in model.parameters())
results = {"first": first, "after": after, "straight": straight, "param_count": param_count,
           "lr": resumed_optimizer.param_groups[0]["lr"], "step": saved_step,
           "out_head": resumed.out_head.weight, "gelu": GELU()(torch.linspace(-3, 3, 7))}
