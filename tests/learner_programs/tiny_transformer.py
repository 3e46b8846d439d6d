# An "attention is all you need" walkthrough in miniature (written for this project): nn.Transformer learns to
# copy a short sequence of tokens, with sinusoidal positions, a causal target mask, teacher forcing and Adam.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
vocab, d_model, length = 7, 8, 5
BOS = 0


def positions(n, d):
    pe = torch.zeros(n, d, dtype=torch.float64)
    pos = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe.unsqueeze(1)  # (n, 1, d): the sequence comes first


class Copier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.transformer = nn.Transformer(d_model, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                                          dim_feedforward=16, dropout=0.0)
        self.out = nn.Linear(d_model, vocab)
        self.register_buffer("pe", positions(length + 1, d_model))

    def forward(self, src, tgt):
        src = self.embed(src) * math.sqrt(d_model) + self.pe[:src.shape[0]]
        tgt = self.embed(tgt) * math.sqrt(d_model) + self.pe[:tgt.shape[0]]
        mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[0], dtype=torch.float64)
        return self.out(self.transformer(src, tgt, tgt_mask=mask))


model = Copier().double()
rng = np.random.default_rng(3)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.normal(0, 0.2, size=tuple(p.shape)), dtype=torch.float64))

sequences = torch.tensor([[1, 2, 3, 4, 5], [6, 5, 4, 3, 2], [2, 4, 6, 1, 3], [5, 1, 5, 1, 5]]).T  # (length, batch)
decoder_in = torch.cat([torch.full((1, 4), BOS), sequences[:-1]])  # teacher forcing: shifted right

optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
losses = []
for _ in range(10):
    logits = model(sequences, decoder_in)
    loss = F.cross_entropy(logits.reshape(-1, vocab), sequences.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

encoder_norm = model.transformer.encoder.norm.weight.detach()
attention = model.transformer.decoder.layers[0].multihead_attn.in_proj_weight.grad

results = {"losses": losses, "logits": logits.detach(), "encoder_norm": encoder_norm, "attention_grad": attention,
           "keys": len(model.state_dict())}
