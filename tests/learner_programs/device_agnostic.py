# Device-agnostic training: the same script runs on a GPU if there is one, else on the CPU.
import torch
from torch import nn

device = "cuda" if torch.cuda.is_available() else "cpu"
if torch.backends.mps.is_available():
    device = "mps"
device = torch.device(device)

X = torch.linspace(-2, 2, 40).reshape(-1, 1)
y = torch.sin(2 * X) + 0.1 * X ** 2

model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.7 + i).reshape(p.shape) * 0.5)
model = model.to(device)
X, y = X.to(device), y.to(device)

optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
loss_fn = nn.MSELoss()
losses = []
for _ in range(25):
    pred = model(X)
    loss = loss_fn(pred, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    out = model(torch.tensor([[0.5]], device=device)).cpu().numpy()

results = {
    "device": str(device) == "cpu",
    "on_cpu": X.device.type == "cpu",
    "losses": losses,
    "prediction": out.tolist(),
    "weights": model[0].weight.detach().cpu(),
}
