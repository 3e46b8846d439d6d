# A bag-of-words text classifier (written for this project), as text-classification lessons build one: the
# token ids of a batch of documents laid end to end, an offsets tensor marking where each starts, an
# EmbeddingBag that averages each document's vectors, and a Linear layer over them; trained with SGD and a
# step learning-rate schedule; then the same documents weighted per token with mode='sum'.
import numpy as np
import torch
import torch.nn as nn

dtype = "float64"
documents = [[4, 7, 1], [2, 9, 9, 3, 5], [8], [6, 1, 0, 2], [3, 3, 7], [5, 8, 2, 1, 9, 4]]
labels = torch.tensor([0, 1, 2, 1, 0, 2])


def batch(docs):
    text = torch.tensor([token for doc in docs for token in doc])
    offsets = torch.tensor([0] + [len(doc) for doc in docs[:-1]]).cumsum(dim=0)
    return text, offsets


class Classifier(nn.Module):
    def __init__(self, vocab, dim, classes):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab, dim, mode="mean", padding_idx=0)
        self.fc = nn.Linear(dim, classes)

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


model = Classifier(vocab=10, dim=5, classes=3).double()
rng = np.random.default_rng(11)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, size=tuple(p.shape)), dtype=torch.float64))
    model.embedding.weight[0] = 0
optimizer = torch.optim.SGD(model.parameters(), lr=2.0)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
loss_fn = nn.CrossEntropyLoss()
text, offsets = batch(documents)
losses = []
for _ in range(15):
    optimizer.zero_grad()
    loss = loss_fn(model(text, offsets), labels)
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())

weights = torch.tensor(np.linspace(0.5, 1.5, len(text)), dtype=torch.float64)
summed = nn.functional.embedding_bag(text, model.embedding.weight, offsets, mode="sum", per_sample_weights=weights,
                                     padding_idx=0)
results = {
    "losses": losses,
    "predictions": model(text, offsets).argmax(dim=1).tolist(),
    "weighted_sums": summed.detach().numpy().tolist(),
    "padding_row": model.embedding.weight[0].tolist(),
}
