# Fit a cubic to sin(x) by gradient descent, updating the weights by hand (a tutorial classic).
import math

import torch

dtype = "float64"
x = torch.arange(-100, 101, dtype=torch.float64) * (math.pi / 100)
y = torch.sin(x)

a = torch.zeros((), dtype=torch.float64, requires_grad=True)
b = torch.full((), 0.5, dtype=torch.float64, requires_grad=True)
c = torch.zeros((), dtype=torch.float64, requires_grad=True)
d = torch.full((), -0.1, dtype=torch.float64, requires_grad=True)

learning_rate = 1e-6
for _ in range(300):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
    c.data += -learning_rate * c.grad
    d.data += -learning_rate * d.grad
    for p in (a, b, c, d):
        p.grad = None

results = {"loss": loss.item(), "a": a, "b": b, "c": c, "d": d}
