# "Machine Learning with PyTorch and Scikit-Learn", an Iris classifier (written for this project): four
# measurements of three kinds of flower (made up here around three centres), standardised with the training
# mean and std in NumPy, torch.from_numpy(...).float(), a TensorDataset and a DataLoader, a two-layer MLP with
# a sigmoid, cross-entropy and Adam, per-epoch loss and accuracy histories, test accuracy, and the weights saved.
import io

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(1)
centres = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
y = np.repeat(np.arange(3), 20)
X = centres[y] + rng.normal(0, 0.3, size=(60, 4))
order = rng.permutation(60)
X_train, y_train, X_test, y_test = X[order[:40]], y[order[:40]], X[order[40:]], y[order[40:]]

X_train_norm = (X_train - np.mean(X_train)) / np.std(X_train)
X_train_norm = torch.from_numpy(X_train_norm).float()
y_train = torch.from_numpy(y_train)
train_ds = TensorDataset(X_train_norm, y_train)
train_dl = DataLoader(train_ds, batch_size=2, shuffle=False)


class Model(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.layer1 = nn.Linear(input_size, hidden_size)
        self.layer2 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        x = self.layer1(x)
        x = nn.Sigmoid()(x)
        x = self.layer2(x)
        return x


model = Model(X_train_norm.shape[1], 16, 3)
weights = np.random.default_rng(2)
with torch.no_grad():
    for param in model.parameters():
        param.copy_(torch.from_numpy(weights.uniform(-0.5, 0.5, size=param.shape)))
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

num_epochs = 20
loss_hist = [0] * num_epochs
accuracy_hist = [0] * num_epochs
for epoch in range(num_epochs):
    for x_batch, y_batch in train_dl:
        pred = model(x_batch)
        loss = loss_fn(pred, y_batch.long())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        loss_hist[epoch] += loss.item() * y_batch.size(0)
        is_correct = (torch.argmax(pred, dim=1) == y_batch).float()
        accuracy_hist[epoch] += is_correct.sum()
    loss_hist[epoch] /= len(train_dl.dataset)
    accuracy_hist[epoch] /= len(train_dl.dataset)

X_test_norm = (X_test - np.mean(X_train)) / np.std(X_train)
X_test_norm = torch.from_numpy(X_test_norm).float()
y_test = torch.from_numpy(y_test)
pred_test = model(X_test_norm)
correct = (torch.argmax(pred_test, dim=1) == y_test).float()
accuracy = correct.mean()

buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
model_new = Model(4, 16, 3)
model_new.load_state_dict(torch.load(buffer))

results = {
    "loss_hist": loss_hist,
    "accuracy_hist": [a.item() for a in accuracy_hist],
    "accuracy_type": type(accuracy_hist[0]).__name__,
    "test_accuracy": accuracy.item(),
    "pred_test": pred_test.detach()[:5],
    "reloaded": model_new(X_test_norm[:3]).detach(),
    "y_dtype": str(y_train.dtype).replace("torch.", ""),
    "n_batches": len(train_dl),
}
