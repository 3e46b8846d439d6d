# UvA Deep Learning tutorial 6 style (written for this project): a Transformer built piece by piece --
# scaled_dot_product with a mask, MultiheadAttention with one fused qkv Linear split by reshape/permute/chunk,
# an EncoderBlock with LayerNorm and Dropout (evaluated in eval mode), a PositionalEncoding kept as a buffer,
# a CosineWarmupScheduler subclassing optim.lr_scheduler._LRScheduler with get_lr -- trained a few steps on
# reversing a sequence of digits. Data and weights come from seeded NumPy.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

rng = np.random.default_rng(6)


def scaled_dot_product(q, k, v, mask=None):
    d_k = q.size()[-1]
    attn_logits = torch.matmul(q, k.transpose(-2, -1))
    attn_logits = attn_logits / math.sqrt(d_k)
    if mask is not None:
        attn_logits = attn_logits.masked_fill(mask == 0, -9e15)
    attention = F.softmax(attn_logits, dim=-1)
    values = torch.matmul(attention, v)
    return values, attention


seq_len, d_k = 3, 2
q = torch.from_numpy(rng.standard_normal((seq_len, d_k)).astype(np.float32))
k = torch.from_numpy(rng.standard_normal((seq_len, d_k)).astype(np.float32))
v = torch.from_numpy(rng.standard_normal((seq_len, d_k)).astype(np.float32))
causal = torch.tril(torch.ones(seq_len, seq_len))
values, attention = scaled_dot_product(q, k, v, mask=causal)
results = {"sdp_values": values, "sdp_attention": attention}


class MultiheadAttention(nn.Module):
    def __init__(self, input_dim, embed_dim, num_heads):
        super().__init__()
        assert embed_dim % num_heads == 0, "Embedding dimension must be 0 modulo number of heads."
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.qkv_proj = nn.Linear(input_dim, 3 * embed_dim)
        self.o_proj = nn.Linear(embed_dim, embed_dim)
        self._reset_parameters()

    def _reset_parameters(self):
        nn.init.xavier_uniform_(self.qkv_proj.weight)
        self.qkv_proj.bias.data.fill_(0)
        nn.init.xavier_uniform_(self.o_proj.weight)
        self.o_proj.bias.data.fill_(0)

    def forward(self, x, mask=None, return_attention=False):
        batch_size, seq_length, _ = x.size()
        if mask is not None:
            mask = mask.unsqueeze(1) if mask.dim() == 3 else mask
        qkv = self.qkv_proj(x)
        qkv = qkv.reshape(batch_size, seq_length, self.num_heads, 3 * self.head_dim)
        qkv = qkv.permute(0, 2, 1, 3)  # [Batch, Head, SeqLen, Dims]
        q, k, v = qkv.chunk(3, dim=-1)
        values, attention = scaled_dot_product(q, k, v, mask=mask)
        values = values.permute(0, 2, 1, 3)  # [Batch, SeqLen, Head, Dims]
        values = values.reshape(batch_size, seq_length, self.embed_dim)
        o = self.o_proj(values)
        if return_attention:
            return o, attention
        return o


class EncoderBlock(nn.Module):
    def __init__(self, input_dim, num_heads, dim_feedforward, dropout=0.0):
        super().__init__()
        self.self_attn = MultiheadAttention(input_dim, input_dim, num_heads)
        self.linear_net = nn.Sequential(
            nn.Linear(input_dim, dim_feedforward),
            nn.Dropout(dropout),
            nn.ReLU(inplace=True),
            nn.Linear(dim_feedforward, input_dim),
        )
        self.norm1 = nn.LayerNorm(input_dim)
        self.norm2 = nn.LayerNorm(input_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        attn_out = self.self_attn(x, mask=mask)
        x = x + self.dropout(attn_out)
        x = self.norm1(x)
        linear_out = self.linear_net(x)
        x = x + self.dropout(linear_out)
        x = self.norm2(x)
        return x


class TransformerEncoder(nn.Module):
    def __init__(self, num_layers, **block_args):
        super().__init__()
        self.layers = nn.ModuleList([EncoderBlock(**block_args) for _ in range(num_layers)])

    def forward(self, x, mask=None):
        for layer in self.layers:
            x = layer(x, mask=mask)
        return x

    def get_attention_maps(self, x, mask=None):
        attention_maps = []
        for layer in self.layers:
            _, attn_map = layer.self_attn(x, mask=mask, return_attention=True)
            attention_maps.append(attn_map)
            x = layer(x)
        return attention_maps


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000):
        super().__init__()
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x):
        x = x + self.pe[:, : x.size(1)]
        return x


class CosineWarmupScheduler(optim.lr_scheduler._LRScheduler):
    def __init__(self, optimizer, warmup, max_iters):
        self.warmup = warmup
        self.max_num_iters = max_iters
        super().__init__(optimizer)

    def get_lr(self):
        lr_factor = self.get_lr_factor(epoch=self.last_epoch)
        return [base_lr * lr_factor for base_lr in self.base_lrs]

    def get_lr_factor(self, epoch):
        lr_factor = 0.5 * (1 + np.cos(np.pi * epoch / self.max_num_iters))
        if epoch <= self.warmup:
            lr_factor *= epoch * 1.0 / self.warmup
        return lr_factor


class TransformerPredictor(nn.Module):
    def __init__(self, input_dim, model_dim, num_classes, num_heads, num_layers, dropout=0.0, input_dropout=0.0):
        super().__init__()
        self.input_net = nn.Sequential(nn.Dropout(input_dropout), nn.Linear(input_dim, model_dim))
        self.positional_encoding = PositionalEncoding(d_model=model_dim, max_len=32)
        self.transformer = TransformerEncoder(num_layers=num_layers, input_dim=model_dim,
                                              dim_feedforward=2 * model_dim, num_heads=num_heads, dropout=dropout)
        self.output_net = nn.Sequential(nn.Linear(model_dim, model_dim), nn.LayerNorm(model_dim),
                                        nn.ReLU(inplace=True), nn.Dropout(dropout),
                                        nn.Linear(model_dim, num_classes))

    def forward(self, x, mask=None, add_positional_encoding=True):
        x = self.input_net(x)
        if add_positional_encoding:
            x = self.positional_encoding(x)
        x = self.transformer(x, mask=mask)
        x = self.output_net(x)
        return x


num_categories, seq_length = 6, 8
model = TransformerPredictor(input_dim=num_categories, model_dim=16, num_heads=2, num_classes=num_categories,
                             num_layers=1, dropout=0.1, input_dropout=0.0)
with torch.no_grad():  # the same start in both libraries
    for p in model.parameters():
        fan_in = p.shape[1] if p.dim() > 1 else 16
        p.copy_(torch.from_numpy(rng.uniform(-1, 1, tuple(p.shape)).astype(np.float32)) / math.sqrt(fan_in))
results["buffers"] = [name for name, _ in model.named_buffers()]
results["state_dict_keys"] = len(model.state_dict())
results["pe_row"] = model.positional_encoding.pe[0, 5]

data = torch.from_numpy(rng.integers(0, num_categories, (32, seq_length)))
labels = torch.flip(data, dims=(1,))

optimizer = optim.Adam(model.parameters(), lr=5e-3)
lr_scheduler = CosineWarmupScheduler(optimizer, warmup=5, max_iters=30)
lrs, losses = [], []
model.eval()  # dropout off, so both libraries take the same steps
for step in range(12):
    batch, target = data[(step % 4) * 8:(step % 4 + 1) * 8], labels[(step % 4) * 8:(step % 4 + 1) * 8]
    inp_data = F.one_hot(batch, num_classes=num_categories).float()
    preds = model(inp_data, add_positional_encoding=True)
    loss = F.cross_entropy(preds.view(-1, preds.size(-1)), target.view(-1))
    acc = (preds.argmax(dim=-1) == target).float().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    lr_scheduler.step()
    lrs.append(optimizer.param_groups[0]["lr"])
    losses.append(loss.item())
results["lrs"] = lrs
results["losses"] = losses
results["last_lr"] = lr_scheduler.get_last_lr()

with torch.no_grad():
    inp_data = F.one_hot(data[:2], num_classes=num_categories).float()
    inp_data = model.input_net(inp_data)
    inp_data = model.positional_encoding(inp_data)
    attention_maps = model.transformer.get_attention_maps(inp_data)
    pad_mask = torch.ones(2, seq_length, seq_length)
    pad_mask[:, :, -2:] = 0
    masked_maps = model.transformer.get_attention_maps(inp_data, mask=pad_mask)
results["attention_shape"] = list(attention_maps[0].shape)
results["attention"] = attention_maps[0][0, 1]
results["masked_attention"] = masked_maps[0][1, 0]
