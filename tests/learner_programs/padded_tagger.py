# A part-of-speech style tagger over padded sentences (written for this project): padding index 0 in the
# embedding, scores laid out (N, C, L) for the loss, CrossEntropyLoss with class weights, ignore_index for
# the padding and label smoothing, a multi-label head trained with BCEWithLogitsLoss(pos_weight), and hooks
# that watch the gradients: a tensor hook on the embeddings' output and full backward hooks on the layers.
import numpy as np
import torch
import torch.nn as nn

dtype = "float64"
PAD = 0
sentences = [[3, 5, 2, 7], [4, 2, 6], [5, 7], [2, 3, 4, 6, 5]]
tags = [[1, 2, 3, 1], [2, 3, 1], [1, 1], [3, 2, 2, 1, 3]]
length = max(len(s) for s in sentences)
words = torch.tensor([s + [PAD] * (length - len(s)) for s in sentences])
labels = torch.tensor([t + [PAD] * (length - len(t)) for t in tags])  # tag 0 stands for padding
has_verb = torch.tensor([[float(3 in t), float(2 in t)] for t in tags], dtype=torch.float64)


class Tagger(nn.Module):
    def __init__(self, vocab, embed, tags):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed, padding_idx=PAD)
        self.mix = nn.Linear(embed, embed)
        self.tag = nn.Linear(embed, tags)
        self.flags = nn.Linear(embed, 2)

    def forward(self, x):
        h = torch.tanh(self.mix(self.embed(x)))
        return self.tag(h).transpose(1, 2), self.flags(h.mean(dim=1))


model = Tagger(vocab=8, embed=6, tags=4).double()
rng = np.random.default_rng(3)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, size=tuple(p.shape)), dtype=torch.float64))
    model.embed.weight[PAD] = 0

tag_loss = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 1.0, 2.0, 0.5], dtype=torch.float64), ignore_index=PAD,
                               label_smoothing=0.1)
flag_loss = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 0.5], dtype=torch.float64))
seen = {"embedding_grad_norms": [], "mix_grad_output_norms": [], "tag_grad_input_norms": []}
model.mix.register_full_backward_hook(
    lambda module, grad_input, grad_output: seen["mix_grad_output_norms"].append(grad_output[0].norm().item()))
model.tag.register_full_backward_hook(
    lambda module, grad_input, grad_output: seen["tag_grad_input_norms"].append(grad_input[0].norm().item()))
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
losses = []
for _ in range(15):
    tag_scores, flag_scores = model(words)
    embedded = model.embed(words)
    embedded.register_hook(lambda grad: seen["embedding_grad_norms"].append(grad.norm().item()))
    loss = tag_loss(tag_scores, labels) + flag_loss(flag_scores, has_verb) + 0 * embedded.sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    tag_scores, flag_scores = model(words)
    per_word = nn.functional.cross_entropy(tag_scores, labels, ignore_index=PAD, reduction="none")
results = {
    "losses": losses,
    "per_word_loss": per_word.tolist(),
    "predicted_tags": tag_scores.argmax(dim=1).tolist(),
    "flags": torch.sigmoid(flag_scores).tolist(),
    "padding_row": model.embed.weight[PAD].tolist(),
    **seen,
}
