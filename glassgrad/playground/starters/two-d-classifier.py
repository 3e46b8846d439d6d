# A small classifier for the 2-D "moons" data: two interleaved half circles, one class each.
# It trains for a few hundred steps and prints its accuracy; the model it leaves opens in the
# step-through (one point, x and y) and in Train (its weights as the start).
import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.data import load_dataset

gg.manual_seed(0)
points, labels = load_dataset("moons", n_samples=200, noise=0.15, seed=0).tensors

model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
optimizer = gg.optim.SGD(model.parameters(), lr=0.5)

for step in range(300):
    loss = F.cross_entropy(model(points), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")

with gg.no_grad():
    accuracy = (model(points).argmax(dim=1) == labels).float().mean().item()
print(f"accuracy: {accuracy:.1%}")

x, y = points[:1], labels[:1]  # one point for the step-through
