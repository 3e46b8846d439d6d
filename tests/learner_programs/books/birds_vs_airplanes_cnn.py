# "Deep Learning with PyTorch", birds against airplanes (written for this project): 32x32 colour images (random
# here, with a pattern per class), normalised per channel, a small CNN as nn.Sequential and again as an
# nn.Module subclass using the functional API, L2 weight decay added by hand to the loss, a dropout model in eval
# mode, accuracy with torch.max, and the model saved with its state_dict and loaded back into a fresh one.
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(7)
n = 16
labels = torch.tensor(rng.integers(0, 2, size=n))
images = torch.tensor(rng.uniform(0, 1, size=(n, 3, 32, 32)))
images[labels == 1, 2] += 0.5  # "airplanes" have more blue sky
imgs = torch.stack([img for img in images], dim=3)  # the book stacks the CIFAR tensors along a new last dim
mean = imgs.view(3, -1).mean(dim=1)
std = imgs.view(3, -1).std(dim=1)
normalized = (images - mean[:, None, None]) / std[:, None, None]


def fill(model, seed):
    """Repeatable weights in place of the random init, so both libraries start alike."""
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            p.copy_(torch.tensor(numbers.uniform(-1, 1, size=tuple(p.shape)) / np.sqrt(fan_in)))
    return model


seq_model = fill(nn.Sequential(
    nn.Conv2d(3, 16, kernel_size=3, padding=1), nn.Tanh(), nn.MaxPool2d(2),
    nn.Conv2d(16, 8, kernel_size=3, padding=1), nn.Tanh(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(8 * 8 * 8, 32), nn.Tanh(), nn.Linear(32, 2)), 1)
numel_list = [p.numel() for p in seq_model.parameters()]


class Net(nn.Module):
    def __init__(self, n_chans1=16):
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(n_chans1, n_chans1 // 2, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(8 * 8 * n_chans1 // 2, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        out = F.max_pool2d(torch.tanh(self.conv2(out)), 2)
        out = out.view(-1, 8 * 8 * self.n_chans1 // 2)
        out = torch.tanh(self.fc1(out))
        return self.fc2(out)


class NetDropout(Net):
    def __init__(self, n_chans1=16):
        super().__init__(n_chans1)
        self.conv1_dropout = nn.Dropout2d(p=0.4)

    def forward(self, x):
        out = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        out = self.conv1_dropout(out)
        out = F.max_pool2d(torch.tanh(self.conv2(out)), 2)
        out = out.view(-1, 8 * 8 * self.n_chans1 // 2)
        return self.fc2(torch.tanh(self.fc1(out)))


def training_loop(n_epochs, optimizer, model, loss_fn, batches, l2_lambda=0.0):
    history = []
    for _ in range(n_epochs):
        loss_train = 0.0
        for imgs, labels in batches:
            outputs = model(imgs)
            loss = loss_fn(outputs, labels)
            if l2_lambda:
                l2_norm = sum(p.pow(2.0).sum() for p in model.parameters())
                loss = loss + l2_lambda * l2_norm
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_train += loss.item()
        history.append(loss_train / len(batches))
    return history


def validate(model, batches):
    correct = total = 0
    with torch.no_grad():
        for imgs, labels in batches:
            outputs = model(imgs)
            _, predicted = torch.max(outputs, dim=1)
            total += labels.shape[0]
            correct += int((predicted == labels).sum())
    return correct / total


batches = [(normalized[i:i + 4], labels[i:i + 4]) for i in range(0, n, 4)]
seq_out = seq_model(normalized[:2])
model = fill(Net(), 2)
history = training_loop(4, optim.SGD(model.parameters(), lr=1e-2), model, nn.CrossEntropyLoss(), batches)
l2_model = fill(Net(), 2)
l2_history = training_loop(4, optim.SGD(l2_model.parameters(), lr=1e-2), l2_model, nn.CrossEntropyLoss(), batches,
                           l2_lambda=0.001)
dropout_model = fill(NetDropout(), 2)
dropout_model.eval()  # no dropping at evaluation, so the numbers are the plain model's
folder = tempfile.mkdtemp()
path = os.path.join(folder, "birds_vs_airplanes.pt")
torch.save(model.state_dict(), path)
loaded_model = Net()
loaded_model.load_state_dict(torch.load(path, map_location="cpu"))

results = {
    "mean": mean, "std": std,
    "numel_list": numel_list, "total_params": sum(numel_list),
    "seq_out": seq_out.detach(),
    "history": history, "l2_history": l2_history,
    "accuracy": validate(model, batches),
    "dropout_eval_out": dropout_model(normalized[:3]).detach(),
    "loaded_equals_saved": torch.equal(loaded_model(normalized), model(normalized)),
    "loaded_conv1_bias": loaded_model.conv1.bias.detach(),
    "state_keys": len(model.state_dict()),
}
