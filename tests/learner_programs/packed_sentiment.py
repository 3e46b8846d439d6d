# A tiny sentiment classifier over reviews of different lengths (written for this project): word ids padded
# into one batch, an embedding, pack_padded_sequence so the LSTM stops each review at its own last word,
# a bidirectional LSTM whose final hidden states (both directions) feed a linear head, BCEWithLogitsLoss
# and a few SGD steps; the padded outputs come back with pad_packed_sequence.
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

dtype = "float64"
PAD = 0
vocab = {"<pad>": 0, "good": 1, "bad": 2, "movie": 3, "very": 4, "not": 5, "fun": 6, "boring": 7, "plot": 8}
reviews = [("very good movie", 1.0), ("bad plot", 0.0), ("not fun", 0.0), ("good fun movie very good", 1.0),
           ("boring", 0.0), ("very very good plot", 1.0)]
ids = [[vocab[word] for word in text.split()] for text, _ in reviews]
lengths = torch.tensor([len(review) for review in ids])
longest = int(lengths.max())
words = torch.tensor([review + [PAD] * (longest - len(review)) for review in ids])
labels = torch.tensor([label for _, label in reviews], dtype=torch.float64)


class Sentiment(nn.Module):
    def __init__(self, vocab_size, embed, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed, padding_idx=PAD)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 1)

    def forward(self, words, lengths):
        packed = pack_padded_sequence(self.embed(words), lengths, batch_first=True, enforce_sorted=False)
        outputs, (h_n, c_n) = self.lstm(packed)
        final = torch.cat([h_n[-2], h_n[-1]], dim=1)  # last forward state and last backward state
        return self.head(final).squeeze(1), outputs


model = Sentiment(len(vocab), embed=4, hidden=5).double()
rng = np.random.default_rng(11)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.uniform(-0.4, 0.4, size=tuple(p.shape)), dtype=torch.float64))
    model.embed.weight[PAD] = 0

loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
losses = []
for _ in range(25):
    scores, _ = model(words, lengths)
    loss = loss_fn(scores, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    scores, outputs = model(words, lengths)
    padded, out_lengths = pad_packed_sequence(outputs, batch_first=True)
results = {
    "losses": losses,
    "predictions": torch.sigmoid(scores).tolist(),
    "batch_sizes": outputs.batch_sizes.tolist(),
    "sorted_indices": outputs.sorted_indices.tolist(),
    "out_lengths": out_lengths.tolist(),
    "padded_outputs": padded.tolist(),
    "head_weight": model.head.weight.tolist(),
}
