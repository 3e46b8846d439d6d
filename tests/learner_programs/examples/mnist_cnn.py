# pytorch/examples "mnist" style (written for this project): a Net of two Conv2d, Dropout2d/Dropout, max_pool2d,
# log_softmax and F.nll_loss, trained with Adadelta and a StepLR, its state_dict saved with torch.save, and a
# test loop that counts pred.eq(target.view_as(pred)).sum().item(). The weights and batches come from NumPy; the
# dropout masks are the libraries' own, so training compares with p=0 and the masks are checked by their form.
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self, p1=0.25, p2=0.5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout2d(p1)
        self.dropout2 = nn.Dropout(p2)
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        output = F.log_softmax(self.fc2(x), dim=1)
        return output


rng = np.random.default_rng(0)
data = torch.from_numpy(rng.uniform(0, 1, (48, 1, 12, 12)).astype(np.float32))
data = (data - 0.1307) / 0.3081
targets = torch.from_numpy(rng.integers(0, 10, 48))
model = Net(0.0, 0.0)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
losses, lrs = [], []
for _epoch in range(1, 4):
    model.train()
    for batch_idx in range(3):
        x, target = data[batch_idx * 16:(batch_idx + 1) * 16], targets[batch_idx * 16:(batch_idx + 1) * 16]
        optimizer.zero_grad()
        output = model(x)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
    lrs.append(scheduler.get_last_lr()[0])

model.eval()
test_loss, correct = 0, 0
with torch.no_grad():
    for i in range(0, 48, 16):
        output = model(data[i:i + 16])
        test_loss += F.nll_loss(output, targets[i:i + 16], reduction='sum').item()
        pred = output.argmax(dim=1, keepdim=True)
        correct += pred.eq(targets[i:i + 16].view_as(pred)).sum().item()
test_loss /= 48

with tempfile.TemporaryDirectory() as folder:
    torch.save(model.state_dict(), os.path.join(folder, "mnist_cnn.pt"))
    again = Net()
    again.load_state_dict(torch.load(os.path.join(folder, "mnist_cnn.pt")))
again.eval()
same_after_loading = bool(torch.equal(again(data[:4]), model(data[:4])))

noisy = Net()
noisy.train()
h = torch.ones(6, 4, 5, 5)
channels = noisy.dropout1(h).sum(dim=(2, 3))  # a channel is dropped whole, or kept and scaled by 1/(1-p)
kept = noisy.dropout2(torch.ones(200))
results = {"losses": losses, "lrs": lrs, "test_loss": test_loss, "correct": correct,
           "keys": list(model.state_dict().keys()), "same_after_loading": str(same_after_loading),
           "whole_channels": str(bool(((channels == 0) | ((channels - 25 / 0.75).abs() < 1e-4)).all())),
           "dropout_values": sorted(set(kept.tolist()) | {0.0, 2.0})}
