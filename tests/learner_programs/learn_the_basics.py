# The pytorch.org "Learn the Basics" path, on synthetic images: a custom Dataset whose target transform makes a
# one-hot vector with scatter_ of a 0-d index, DataLoaders, a Flatten + Sequential network, train and test
# loops with the tutorial's accuracy line, a StepLR stepped per epoch (the transformer tutorial's 1.0),
# autograd's Jacobian-vector products with retain_graph, and a state_dict saved and loaded back.
import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, dataset

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(0)
IMAGES = rng.random((48, 6, 6))
LABELS = (IMAGES[:, :3].sum((1, 2)) > IMAGES[:, 3:].sum((1, 2))).astype(np.int64) + 2 * (IMAGES[:, 0, 0] > 0.5)


class SyntheticImages(Dataset):
    def __init__(self, images, labels, target_transform=None):
        self.images, self.labels, self.target_transform = images, labels, target_transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = torch.tensor(self.images[idx]).unsqueeze(0)
        label = int(self.labels[idx])
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


def one_hot(y):
    return torch.zeros(4, dtype=torch.float64).scatter_(0, torch.tensor(y), value=1)


assert isinstance(SyntheticImages(IMAGES, LABELS), dataset.Dataset)
train_data = SyntheticImages(IMAGES[:32], LABELS[:32], target_transform=one_hot)
test_data = SyntheticImages(IMAGES[32:], LABELS[32:])
train_dataloader = DataLoader(train_data, batch_size=8)
test_dataloader = DataLoader(test_data, batch_size=8)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(nn.Linear(36, 16), nn.ReLU(), nn.Linear(16, 4))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


model = NeuralNetwork()
with torch.no_grad():
    for number, param in enumerate(model.parameters()):
        param.copy_(torch.tensor(np.cos(np.arange(param.numel()) * 0.7 + number).reshape(param.shape)) * 0.3)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.5)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.9)


def train_loop(dataloader, model, loss_fn, optimizer):
    model.train()
    losses = []
    for X, y in dataloader:
        loss = loss_fn(model(X), y)  # y: one-hot probabilities
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    return test_loss / num_batches, correct / size


train_losses, tests = [], []
for _ in range(4):
    train_losses += train_loop(train_dataloader, model, loss_fn, optimizer)
    tests.append(test_loop(test_dataloader, model, loss_fn))
    scheduler.step()

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
first = inp.grad.clone()
out.backward(torch.ones_like(out), retain_graph=True)
second = inp.grad.clone()
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)

path = os.path.join(tempfile.mkdtemp(), "model_weights.pth")
torch.save(model.state_dict(), path)
loaded = NeuralNetwork()
loaded.load_state_dict(torch.load(path, weights_only=True))
loaded.eval()
with torch.no_grad():
    same = torch.equal(loaded(test_data[0][0].unsqueeze(0)), model(test_data[0][0].unsqueeze(0)))

results = {"train_losses": train_losses, "tests": tests, "lr": scheduler.get_last_lr(), "first": first,
           "second": second, "zeroed": inp.grad, "same": float(same), "weight": model.linear_relu_stack[2].weight}
