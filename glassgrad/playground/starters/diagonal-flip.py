# The diagonal flip: a 4→3→4 ReLU network learns to flip the 2×2 image [1 0; 1 1] on its diagonal.
# Run it, then open the trace below, or the step-through, to see every number of one training step.
import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F

model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 4))
with gg.no_grad():  # the lessons' starting weights, so the numbers come out round
    model[0].weight.copy_(gg.tensor([[0.2, -0.1, 0.1, 0.2], [-0.3, 0.4, 0.1, -0.2], [0.1, 0.3, -0.2, 0.3]]))
    model[0].bias.copy_(gg.tensor([0.0, 0.1, 0.0]))
    model[2].weight.copy_(gg.tensor([[0.4, -0.2, 0.5], [-0.2, 0.3, 0.5], [0.1, -0.4, -0.5], [-0.3, 0.2, 0.5]]))
    model[2].bias.copy_(gg.tensor([-0.2, -0.1, 0.0, -0.2]))

x = gg.tensor([[1.0, 0.0, 1.0, 1.0]])  # the image, row by row
y = gg.tensor([[1.0, 1.0, 0.0, 1.0]])  # its diagonal flip

with gg.trace(model) as tape:  # record the forward and backward pass
    loss = F.mse_loss(model(x), y)
    loss.backward()

print("prediction:", [round(value, 4) for value in model(x)[0].tolist()])
print(f"loss: {loss.item():.5f}")
print("∂L/∂W₂, first row:", [round(value, 4) for value in model[2].weight.grad[0].tolist()])
