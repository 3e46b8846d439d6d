# A small CNN for 8x8 digit images, trained a few steps by hand-written SGD (written for this project).
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(0)
images = torch.tensor(rng.random((16, 1, 8, 8)), dtype=torch.float32)
labels = torch.tensor(np.arange(16) % 10)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 2 * 2, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc(x)


model = SmallCNN()
with torch.no_grad():  # the same starting weights in both libraries
    for p in model.parameters():
        p.copy_(torch.tensor(rng.normal(0.0, 0.3, size=tuple(p.shape)), dtype=torch.float32))

losses = []
for step in range(8):
    logits = model(images)
    loss = F.cross_entropy(logits, labels)
    model.zero_grad()
    loss.backward()
    if step == 0:
        first_grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    losses.append(loss.item())

pooled = F.avg_pool2d(images, 2)
adaptive = F.adaptive_avg_pool2d(model.conv1(images), 1)
results = {"losses": losses, "grads": first_grads, "pooled": pooled, "adaptive": adaptive.detach(),
           "predictions": model(images).argmax(dim=1)}
