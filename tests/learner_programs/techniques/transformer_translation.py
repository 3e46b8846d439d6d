# A toy translation model with nn.Transformer, as seq2seq tutorials build it (written for this project): token and
# sinusoidal position embeddings, nn.Transformer(batch_first=True) with dropout 0, a causal target mask from
# generate_square_subsequent_mask, source/target key padding masks (bool) and memory_key_padding_mask, teacher
# forcing with the target shifted right, CrossEntropyLoss(ignore_index=PAD), a few Adam steps with clipping and a
# greedy decode until EOS; weights from NumPy in named_parameters() order. In float64.
import math

import numpy as np
import torch
import torch.nn as nn
from technique_helpers import outcome

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1404)
results = {}
PAD, BOS, EOS, V, D = 0, 1, 2, 9, 8


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=32):
        super().__init__()
        pos = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe.unsqueeze(0))

    def forward(self, x):
        return x + self.pe[:, :x.size(1)]


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.src_emb = nn.Embedding(V, D, padding_idx=PAD)
        self.tgt_emb = nn.Embedding(V, D, padding_idx=PAD)
        self.pos = PositionalEncoding(D)
        self.transformer = nn.Transformer(d_model=D, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                                          dim_feedforward=16, dropout=0.0, batch_first=True)
        self.out = nn.Linear(D, V)

    def encode(self, src, src_pad):
        return self.transformer.encoder(self.pos(self.src_emb(src) * math.sqrt(D)), src_key_padding_mask=src_pad)

    def decode(self, tgt, memory, src_pad):
        mask = nn.Transformer.generate_square_subsequent_mask(tgt.size(1))
        h = self.transformer.decoder(self.pos(self.tgt_emb(tgt) * math.sqrt(D)), memory, tgt_mask=mask,
                                     memory_key_padding_mask=src_pad)
        return self.out(h)

    def forward(self, src, tgt):
        src_pad, tgt_pad = src == PAD, tgt == PAD
        mask = self.transformer.generate_square_subsequent_mask(tgt.size(1))
        h = self.transformer(self.pos(self.src_emb(src) * math.sqrt(D)), self.pos(self.tgt_emb(tgt) * math.sqrt(D)),
                             tgt_mask=mask, src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad,
                             memory_key_padding_mask=src_pad, tgt_is_causal=True)
        return self.out(h)


model = Seq2Seq()
results["param_names"] = [name for name, _ in model.named_parameters()]
with torch.no_grad():
    for _name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * 0.3))
results["mask"] = nn.Transformer.generate_square_subsequent_mask(4)
results["mask_bool"] = nn.Transformer.generate_square_subsequent_mask(3).isinf()

# "translation": reverse the source tokens
src = torch.tensor([[3, 4, 5, 6, PAD], [7, 8, 3, PAD, PAD], [5, 6, 7, 8, 4]])
tgt = torch.tensor([[BOS, 6, 5, 4, 3, EOS, PAD], [BOS, 3, 8, 7, EOS, PAD, PAD], [BOS, 4, 8, 7, 6, 5, EOS]])
tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
crit = nn.CrossEntropyLoss(ignore_index=PAD)
logits = model(src, tgt_in)
results["logits"] = logits[:, :2]
loss = crit(logits.reshape(-1, V), tgt_out.reshape(-1))
results["loss"] = loss
loss.backward()
results["grad_out"] = model.out.weight.grad
results["grad_enc_attn"] = model.transformer.encoder.layers[0].self_attn.in_proj_weight.grad
results["pad_row_grad"] = model.src_emb.weight.grad[PAD]
# the parts agree with the whole
with torch.no_grad():
    memory = model.encode(src, src == PAD)
    parts = model.decode(tgt_in, memory, src == PAD)
    whole = model(src, tgt_in)
results["parts_agree"] = torch.allclose(parts[tgt_in != PAD], whole[tgt_in != PAD])
results["memory"] = memory[0]
results["bad_mask"] = outcome(lambda: model.transformer(torch.zeros(2, 3, D), torch.zeros(2, 4, D),
                                                      tgt_mask=torch.zeros(3, 3)))
results["bad_d_model"] = outcome(lambda: model.transformer(torch.zeros(2, 3, D + 1), torch.zeros(2, 4, D + 1)))
results["batch_mismatch"] = outcome(lambda: model.transformer(torch.zeros(2, 3, D), torch.zeros(3, 4, D)))

opt = torch.optim.Adam(model.parameters(), lr=3e-3)
history = []
for _ in range(4):
    opt.zero_grad()
    loss = crit(model(src, tgt_in).reshape(-1, V), tgt_out.reshape(-1))
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    history.append([loss.item(), norm.item()])
results["history"] = history


@torch.no_grad()
def greedy_decode(model, src, max_len=7):
    model.eval()
    src_pad = src == PAD
    memory = model.encode(src, src_pad)
    ys = torch.full((src.size(0), 1), BOS, dtype=torch.long)
    for _ in range(max_len - 1):
        out = model.decode(ys, memory, src_pad)
        next_word = out[:, -1].argmax(dim=-1, keepdim=True)
        ys = torch.cat([ys, next_word], dim=1)
        if (ys == EOS).any(dim=1).all():
            break
    return ys


results["greedy"] = greedy_decode(model, src)
results["greedy_scores"] = model.decode(results["greedy"][:, :3], model.encode(src, src == PAD), src == PAD)[:, -1]
