# "Zero to Mastery: Learn PyTorch for Deep Learning", notebook 01 (written for this project): a straight line's
# points split 80/20 by hand, a LinearRegressionModel whose weight and bias are nn.Parameters, predictions under
# torch.inference_mode(), L1 loss and SGD named by keyword, the training and testing loop recording its losses,
# the state_dict saved with torch.save(obj=..., f=...) and loaded with torch.load(f=...), then the same with
# nn.Linear, moved to a device-agnostic `device`.
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

weight, bias = 0.7, 0.3
start, end, step = 0, 1, 0.02
X = torch.arange(start, end, step).unsqueeze(dim=1)
y = weight * X + bias
train_split = int(0.8 * len(X))
X_train, y_train = X[:train_split], y[:train_split]
X_test, y_test = X[train_split:], y[train_split:]


class LinearRegressionModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(1, requires_grad=True, dtype=torch.float))
        self.bias = nn.Parameter(torch.randn(1, requires_grad=True, dtype=torch.float))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weights * x + self.bias


torch.manual_seed(42)
model_0 = LinearRegressionModel()
model_0.load_state_dict({"weights": torch.tensor([0.3367]), "bias": torch.tensor([0.1288])})  # one seed's draws
first_parameters = [p.tolist() for p in model_0.parameters()]
state_keys = list(model_0.state_dict().keys())
with torch.inference_mode():
    y_preds = model_0(X_test)
inference_facts = [y_preds.requires_grad, y_preds.is_inference(), list(y_preds.shape)]

loss_fn = nn.L1Loss()
optimizer = torch.optim.SGD(params=model_0.parameters(), lr=0.01)
epoch_count, train_loss_values, test_loss_values = [], [], []
for epoch in range(200):
    model_0.train()
    y_pred = model_0(X_train)
    loss = loss_fn(y_pred, y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    model_0.eval()
    with torch.inference_mode():
        test_pred = model_0(X_test)
        test_loss = loss_fn(test_pred, y_test.type(torch.float))
        if epoch % 10 == 0:
            epoch_count.append(epoch)
            train_loss_values.append(loss.detach().numpy())
            test_loss_values.append(test_loss.numpy())
learned = model_0.state_dict()

MODEL_PATH = Path(tempfile.mkdtemp()) / "models"
MODEL_PATH.mkdir(parents=True, exist_ok=True)
MODEL_SAVE_PATH = MODEL_PATH / "01_pytorch_workflow_model_0.pth"
torch.save(obj=model_0.state_dict(), f=MODEL_SAVE_PATH)
loaded_model_0 = LinearRegressionModel()
loaded_model_0.load_state_dict(torch.load(f=MODEL_SAVE_PATH))
loaded_model_0.eval()
with torch.inference_mode():
    loaded_model_preds = loaded_model_0(X_test)
    y_preds = model_0(X_test)
    one_by_one = torch.tensor([model_0(x) for x in X_test])  # each prediction has shape (1,): a 1-d tensor of them


device = "cuda" if torch.cuda.is_available() else "cpu"


class LinearRegressionModelV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear_layer = nn.Linear(in_features=1, out_features=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_layer(x)


torch.manual_seed(42)
model_1 = LinearRegressionModelV2()
with torch.no_grad():
    model_1.linear_layer.weight.copy_(torch.from_numpy(np.array([[0.7645]])))
    model_1.linear_layer.bias.fill_(0.8300)
model_1.to(device)
X_train, y_train, X_test, y_test = X_train.to(device), y_train.to(device), X_test.to(device), y_test.to(device)
optimizer = torch.optim.SGD(params=model_1.parameters(), lr=0.01)
v2_losses = []
for epoch in range(1000):
    model_1.train()
    loss = loss_fn(model_1(X_train), y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    model_1.eval()
    with torch.inference_mode():
        test_loss = loss_fn(model_1(X_test), y_test)
    if epoch % 100 == 0:
        v2_losses.append([loss.item(), test_loss.item()])

results = {
    "split": [len(X_train), len(y_train), len(X_test), len(y_test)],
    "first_parameters": first_parameters, "state_keys": state_keys, "inference_facts": inference_facts,
    "epoch_count": epoch_count,
    "train_loss_values": [float(value) for value in train_loss_values],
    "test_loss_values": [float(value) for value in test_loss_values],
    "learned": {key: value.tolist() for key, value in learned.items()},
    "loaded_equal": (y_preds == loaded_model_preds).tolist(),
    "one_by_one": [list(one_by_one.shape), one_by_one.tolist()],
    "v2_state": {key: value.tolist() for key, value in model_1.state_dict().items()},
    "v2_losses": v2_losses,
    "v2_device": str(next(model_1.parameters()).device),
    "v2_predictions": model_1(X_test).detach().cpu(),
}
