# A LeNet-style CNN on synthetic 1x28x28 images (written for this project): nn.Conv2d with padding, nn.Sigmoid
# and nn.AvgPool2d as the classic net, then a ReLU/MaxPool2d variant; a layer-by-layer shape walk with
# net(X) printed as "output shape:", TensorDataset and DataLoader(shuffle=True, generator=g) (which items each
# batch gets depends on the stream, so losses are compared per epoch over the whole set), xavier_uniform_ init
# checked by bound, and a confusion count with torch.bincount.
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(8)
X = torch.from_numpy(rng.random((64, 1, 28, 28)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 4, 64))
for c in range(4):
    X[y == c, :, 4 * c: 4 * c + 6, 4 * c: 4 * c + 6] += 1.0


def lenet(act, pool):
    return nn.Sequential(nn.Conv2d(1, 6, kernel_size=5, padding=2), act(), pool(kernel_size=2, stride=2),
                         nn.Conv2d(6, 16, kernel_size=5), act(), pool(kernel_size=2, stride=2), nn.Flatten(),
                         nn.Linear(16 * 5 * 5, 32), act(), nn.Linear(32, 4))


def init_weights(m):
    if type(m) in (nn.Linear, nn.Conv2d):
        nn.init.xavier_uniform_(m.weight)


shapes = []
net = lenet(nn.Sigmoid, nn.AvgPool2d)
h = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
for layer in net:
    h = layer(h)
    print(layer.__class__.__name__, "output shape: \t", h.shape)
    shapes.append(list(h.shape))

g = torch.Generator()
g.manual_seed(0)
loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, generator=g)
results = {"shapes": shapes, "num_batches": len(loader)}
for name, act, pool in [("classic", nn.Sigmoid, nn.AvgPool2d), ("modern", nn.ReLU, nn.MaxPool2d)]:
    net = lenet(act, pool)
    net.apply(init_weights)
    bound = (6 / (1 * 25 + 6 * 25)) ** 0.5
    in_bound = bool(net[0].weight.abs().max() <= bound)
    r = np.random.default_rng(9)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(r.normal(0, 0.1, tuple(p.shape)).astype(np.float32)))
    opt = torch.optim.SGD(net.parameters(), lr=0.002, momentum=0.0)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    full_grad = None
    epoch_losses = []
    for _epoch in range(2):
        net.train()
        opt.zero_grad()
        total = 0.0
        for xb, yb in loader:
            l = loss_fn(net(xb), yb)
            l.backward()
            total += l.item()
        epoch_losses.append(total)
        full_grad = net[0].weight.grad.clone()
        opt.step()
    net.eval()
    with torch.no_grad():
        logits = net(X)
        pred = logits.argmax(dim=1)
        acc = (pred == y).float().mean().item()
        confusion = torch.bincount(y * 4 + pred, minlength=16).reshape(4, 4)
    print(f"{name}: loss {epoch_losses[-1]:.3f}, acc {acc:.3f}")
    print(confusion)
    print(torch.max(logits[:2], 1))
    results[name] = {"losses": epoch_losses, "in_bound": in_bound, "grad": full_grad[0], "acc": acc,
                     "confusion": confusion, "logits": logits[:3]}
batch = next(iter(loader))
results["batch"] = [list(batch[0].shape), batch[1].dtype == torch.int64, sorted(set(batch[1].tolist())) <= [0, 1, 2, 3]]
