# Attention scores masked in place through a reshaped view (as the attention chapters' masked softmax does),
# a ridge added on a Gram matrix's diagonal view, the graph walked back from the loss, and a compiled model
# trained by AdamW with PyTorch's implementation options, from a loader of ready-made batches.
import numpy as np
import torch
import torch.nn.functional as F

dtype = "float64"
rng = np.random.default_rng(7)


def mask_beyond(scores, lengths):
    """Scores past each row's length set to -1e6, in place through a (rows, positions) view of the scores."""
    flat = scores.reshape(-1, scores.shape[-1])
    keep = torch.arange(flat.shape[1])[None, :] < lengths.repeat_interleave(scores.shape[1])[:, None]
    flat[~keep] = -1e6
    return scores


queries = torch.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
keys = torch.tensor(rng.normal(size=(2, 5, 4)), requires_grad=True)
values = torch.tensor(rng.normal(size=(2, 5, 2)))
scores = queries @ keys.transpose(1, 2) / 2.0
weights = F.softmax(mask_beyond(scores, torch.tensor([2, 4])), dim=-1)
attended = weights @ values
loss = (attended ** 2).sum()
steps = []
node = loss.grad_fn
while node is not None and len(steps) < 3:
    steps.append(node)
    node = next((n for n, _ in node.next_functions if n is not None), None)
loss.backward()

gram = queries.detach().reshape(-1, 4).T @ queries.detach().reshape(-1, 4)
with torch.no_grad():
    gram.diagonal().add_(0.1)
ridge_solution = torch.linalg.solve(gram, torch.ones(4, dtype=torch.float64))


class Batches(torch.utils.data.Dataset):
    def __len__(self):
        return 3

    def __getitem__(self, index):
        x = np.sin(np.arange(8 * 4).reshape(8, 4) * 0.1 * (index + 1))
        return x, (x.sum(axis=1) > 0).astype(np.int64)


model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).double()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.normal(0, 0.5, size=tuple(p.shape))))
compiled = torch.compile(model)
optimizer = torch.optim.AdamW(compiled.parameters(), lr=0.05, foreach=False, fused=False)
epoch_losses = []
for x, y in torch.utils.data.DataLoader(Batches(), batch_size=None):
    batch_loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    batch_loss.backward()
    optimizer.step()
    epoch_losses.append(batch_loss.item())

results = {"weights": weights, "queries_grad": queries.grad, "keys_grad": keys.grad, "walked": len(steps),
           "ridge": ridge_solution, "gram_diagonal": gram.diagonal(), "losses": epoch_losses,
           "first_layer": compiled._orig_mod[0].weight}
