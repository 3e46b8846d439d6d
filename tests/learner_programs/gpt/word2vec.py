# word2vec skip-gram with negative sampling (written for this project): centre and context nn.Embedding tables,
# scores by torch.bmm, F.logsigmoid of positive and negative pairs summed over the negatives, plain SGD on dense
# embeddings (Embedding(sparse=True) with SparseAdam needs sparse gradients), then nearest neighbours by cosine
# similarity with F.normalize and topk.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float32"
words = "the cat sat on the mat the dog sat on the log a cat and a dog".split()
vocab = sorted(set(words))
word2idx = {w: i for i, w in enumerate(vocab)}
ids = [word2idx[w] for w in words]
window, emb_dim, num_neg = 2, 10, 3
pairs = [(ids[i], ids[j]) for i in range(len(ids))
         for j in range(max(0, i - window), min(len(ids), i + window + 1)) if i != j]
counts = np.bincount(ids, minlength=len(vocab)) ** 0.75
noise = torch.tensor(counts / counts.sum(), dtype=torch.float)


class SkipGramNeg(nn.Module):
    def __init__(self, vocab_size, emb_dim):
        super().__init__()
        self.in_embed = nn.Embedding(vocab_size, emb_dim)
        self.out_embed = nn.Embedding(vocab_size, emb_dim)
        initrange = 0.5 / emb_dim
        self.in_embed.weight.data.uniform_(-initrange, initrange)
        self.out_embed.weight.data.uniform_(-0, 0)

    def forward(self, center, context, negatives):
        center_emb = self.in_embed(center)
        context_emb = self.out_embed(context)
        neg_emb = self.out_embed(negatives)
        pos_score = F.logsigmoid(torch.sum(center_emb * context_emb, dim=1))
        neg_score = torch.bmm(neg_emb, center_emb.unsqueeze(2)).squeeze()
        neg_score = torch.sum(F.logsigmoid(-neg_score), dim=1)
        return -(pos_score + neg_score).mean()


rng = np.random.default_rng(7)
model = SkipGramNeg(len(vocab), emb_dim)
zero_start = bool((model.out_embed.weight == 0).all())
with torch.no_grad():
    model.in_embed.weight.copy_(torch.from_numpy(rng.normal(0, 0.5, (len(vocab), emb_dim)).astype(np.float32)))
    model.out_embed.weight.copy_(torch.from_numpy(rng.normal(0, 0.5, (len(vocab), emb_dim)).astype(np.float32)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
neg_draws = torch.multinomial(noise, 8 * num_neg, replacement=True)  # drawn once, shape only compared
losses = []
for _ in range(15):
    order = rng.permutation(len(pairs))
    for start in range(0, len(pairs), 16):
        batch = [pairs[k] for k in order[start:start + 16]]
        center = torch.tensor([c for c, _ in batch])
        context = torch.tensor([o for _, o in batch])
        negatives = torch.from_numpy(rng.choice(len(vocab), (len(batch), num_neg), p=(counts / counts.sum())))
        loss = model(center, context, negatives)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    losses.append(loss.item())
emb = F.normalize(model.in_embed.weight.detach(), p=2, dim=1)
sims = emb @ emb[word2idx["cat"]]
values, neighbours = torch.topk(sims, 4)
results = {"losses": losses, "zero_start": zero_start, "neighbours": [vocab[i] for i in neighbours.tolist()],
           "values": values, "norms": emb.norm(dim=1), "neg_shape": list(neg_draws.shape),
           "cosine": F.cosine_similarity(emb[word2idx["dog"]], emb[word2idx["cat"]], dim=0)}
