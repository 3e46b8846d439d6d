# A character-level LSTM language model, char-RNN style (written for this project): embedding, a two-layer
# LSTM with batch_first, a linear head, truncated backpropagation through time (the state carried and
# detached between chunks), gradient clipping, Adam, then greedy sampling one character at a time.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
text = "the cat sat on the mat. the rat ate the hat. "
chars = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(chars)}
vocab = len(chars)
data = torch.tensor([stoi[ch] for ch in text])


class CharLSTM(nn.Module):
    def __init__(self, vocab, embed, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


model = CharLSTM(vocab, embed=5, hidden=12).double()
rng = np.random.default_rng(7)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.uniform(-0.3, 0.3, size=tuple(p.shape)), dtype=torch.float64))

optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
batch, chunk = 3, 6
starts = [0, 14, 28]  # each row reads its own stretch of the text
losses = []
state = None
for step in range(40):
    offset = (step * chunk) % 12
    x = torch.stack([data[s + offset:s + offset + chunk] for s in starts])
    y = torch.stack([data[s + offset + 1:s + offset + chunk + 1] for s in starts])
    if state is not None:
        state = tuple(s.detach() for s in state)  # truncated BPTT: keep the state, drop its history
    logits, state = model(x, state)
    loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    ix = torch.tensor([[stoi["t"]]])
    state, generated = None, []
    for _ in range(12):
        logits, state = model(ix, state)
        ix = logits[:, -1].argmax(dim=-1, keepdim=True)
        generated.append(int(ix.item()))
    h_n, c_n = state

# a GRU cell stepped by hand on the embedded text
cell = nn.GRUCell(5, 4).double()
with torch.no_grad():
    for p in cell.parameters():
        p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, size=tuple(p.shape)), dtype=torch.float64))
h = torch.zeros(1, 4, dtype=torch.float64)
for ch in data[:10]:
    h = cell(model.embed(ch.reshape(1)), h)
h.sum().backward()

results = {"losses": losses, "generated": generated, "h_n": h_n, "c_n": c_n,
           "head": model.head.weight.detach(), "gru_h": h.detach(), "gru_grad": cell.weight_hh.grad}
