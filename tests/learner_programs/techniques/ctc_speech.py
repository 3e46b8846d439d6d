# A toy speech recognizer trained with CTC, as ASR tutorials write it (written for this project): MFCC-like frames
# from NumPy, a bidirectional GRU and a Linear over characters (blank = 0), log_softmax over the classes with the
# time axis first (T, N, C), nn.CTCLoss with padded targets and with concatenated ones, per-sample lengths,
# reduction 'mean'/'sum'/'none', zero_infinity for a target too long for its input, a few Adam steps and a greedy
# decoder that collapses repeats and drops blanks. In float64.

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from technique_helpers import outcome

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1403)
results = {}


chars = "_abcde"  # index 0 is the blank
N, T, F_IN, C = 3, 12, 5, len(chars)


class SpeechModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(F_IN, 6, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(12, C)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out)


model = SpeechModel()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * 0.4))
feats = torch.from_numpy(rng.normal(size=(N, T, F_IN)))
targets = torch.tensor([[1, 2, 2, 3], [4, 5, 0, 0], [3, 1, 4, 0]])
input_lengths = torch.tensor([12, 10, 9])
target_lengths = torch.tensor([4, 2, 3])
ctc = nn.CTCLoss(blank=0)

logits = model(feats)
log_probs = F.log_softmax(logits, dim=2).transpose(0, 1)  # (T, N, C)
loss = ctc(log_probs, targets, input_lengths, target_lengths)
results["loss_mean"] = loss
results["loss_sum"] = F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="sum")
results["loss_none"] = F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="none")
concat = torch.cat([targets[i, :target_lengths[i]] for i in range(N)])
results["loss_concat"] = ctc(log_probs, concat, input_lengths, target_lengths)
results["loss_tuple_lengths"] = ctc(log_probs, targets, tuple(input_lengths.tolist()), (4, 2, 3))
results["loss_int32"] = ctc(log_probs, targets.int(), input_lengths.int(), target_lengths.int())
loss.backward()
results["fc_grad"] = model.fc.weight.grad
results["rnn_grad"] = model.rnn.weight_hh_l0_reverse.grad

# a target longer than its input can be aligned: infinite loss, or 0 with zero_infinity
short_lengths = torch.tensor([3, 10, 9])
raw = logits.detach().transpose(0, 1).requires_grad_()  # through log_softmax: PyTorch's own gradient
lp = raw.log_softmax(2)
inf_loss = F.ctc_loss(lp, targets, short_lengths, target_lengths, reduction="none")
results["inf_loss"] = [[v == float("inf") for v in inf_loss.tolist()], inf_loss[1:]]
zi = nn.CTCLoss(zero_infinity=True)
zl = zi(lp, targets, short_lengths, target_lengths)
zl.backward()
results["zero_infinity"] = zl
results["zero_infinity_grad_first_sample"] = raw.grad[:, 0].abs().sum()
results["zero_infinity_grad_rest"] = raw.grad[:, 1:]
results["lengths_too_long"] = outcome(lambda: ctc(log_probs, targets, torch.tensor([13, 10, 9]), target_lengths))
results["unbatched"] = ctc(log_probs[:, 0], targets[0], torch.tensor(12), torch.tensor(4))

opt = torch.optim.Adam(model.parameters(), lr=0.05)
history = []
for _ in range(6):
    opt.zero_grad()
    lp = model(feats).log_softmax(2).permute(1, 0, 2)
    loss = ctc(lp, targets, input_lengths, target_lengths)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    history.append(loss.item())
results["history"] = history


def greedy_decode(log_probs, lengths):
    best = log_probs.argmax(dim=2).transpose(0, 1)  # (N, T)
    texts = []
    for seq, n in zip(best, lengths):
        seq = torch.unique_consecutive(seq[:n])
        texts.append("".join(chars[i] for i in seq.tolist() if i != 0))
    return texts


with torch.no_grad():
    lp = model(feats).log_softmax(-1).transpose(0, 1)
results["best_path"] = lp.argmax(2).T
results["decoded"] = greedy_decode(lp, input_lengths.tolist())
