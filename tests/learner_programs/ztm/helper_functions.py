# "Zero to Mastery: Learn PyTorch for Deep Learning", notebooks 02 and 03's helpers (written for this project):
# the numbers behind plot_decision_boundary (a NumPy meshgrid through the model, binary or multi-class decided by
# torch.unique), ReLU and sigmoid written by hand against torch.relu and torch.sigmoid, a straight line fitted
# by a small nn.Sequential (the notebook's regression check), make_predictions over samples picked with
# random.sample from list(test_data), and a prediction's class name looked up with a tensor index.
import random

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(21)


def fill(model, seed):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.from_numpy(numbers.normal(0, 0.5, tuple(param.shape))))
    return model


def decision_surface(model, X, y, steps=6):
    """What plot_decision_boundary computes before it draws: the predicted class over a grid."""
    model.to("cpu")
    X, y = X.to("cpu"), y.to("cpu")
    x_min, x_max = X[:, 0].min() - 0.1, X[:, 0].max() + 0.1
    y_min, y_max = X[:, 1].min() - 0.1, X[:, 1].max() + 0.1
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, steps), np.linspace(y_min, y_max, steps))
    X_to_pred_on = torch.from_numpy(np.column_stack((xx.ravel(), yy.ravel()))).double()
    model.eval()
    with torch.inference_mode():
        y_logits = model(X_to_pred_on)
    if len(torch.unique(y)) > 2:
        y_pred = torch.softmax(y_logits, dim=1).argmax(dim=1)
    else:
        y_pred = torch.round(torch.sigmoid(y_logits))
    return y_pred.reshape(xx.shape).detach().numpy()


X_binary = torch.from_numpy(rng.normal(size=(30, 2)))
y_binary = (X_binary[:, 0] * X_binary[:, 1] > 0).double()
binary_model = fill(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)), 1)
X_multi = torch.from_numpy(rng.normal(size=(30, 2)))
y_multi = torch.from_numpy(rng.integers(0, 3, 30))
multi_model = fill(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3)), 2)

A = torch.arange(-10, 10, 1, dtype=torch.float64)  # float32 in the notebook; float64 to compare to 1e-9


def relu(x):
    return torch.maximum(torch.tensor(0), x)


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))


activations = [relu(A).tolist(), bool(torch.equal(relu(A), torch.relu(A))), sigmoid(A).tolist(),
               bool(torch.allclose(sigmoid(A), torch.sigmoid(A))), str(relu(A).dtype == torch.float64)]

# a straight line, then a network fitted to it
weight, bias = 0.7, 0.3
X_regression = torch.arange(0, 1, 0.01).unsqueeze(dim=1)
y_regression = weight * X_regression + bias
train_split = int(0.8 * len(X_regression))
X_train_regression, y_train_regression = X_regression[:train_split], y_regression[:train_split]
X_test_regression, y_test_regression = X_regression[train_split:], y_regression[train_split:]
model_2 = fill(nn.Sequential(nn.Linear(in_features=1, out_features=10), nn.Linear(in_features=10, out_features=10),
                             nn.Linear(in_features=10, out_features=1)), 3)
loss_fn = nn.L1Loss()
optimizer = torch.optim.SGD(model_2.parameters(), lr=0.01)
regression_losses = []
for epoch in range(500):
    y_pred = model_2(X_train_regression)
    loss = loss_fn(y_pred, y_train_regression)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    model_2.eval()
    with torch.inference_mode():
        test_loss = loss_fn(model_2(X_test_regression), y_test_regression)
    if epoch % 100 == 0:
        regression_losses.append([loss.item(), test_loss.item()])

# make_predictions on nine samples picked by Python's random
class_names = ["circle", "square", "triangle"]
test_data = TensorDataset(torch.from_numpy(rng.normal(size=(20, 1, 4, 4))), torch.from_numpy(rng.integers(0, 3, 20)))
image_model = fill(nn.Sequential(nn.Flatten(), nn.Linear(16, 3)), 4)


def make_predictions(model: torch.nn.Module, data: list, device: torch.device = "cpu"):
    pred_probs = []
    model.eval()
    with torch.inference_mode():
        for sample in data:
            sample = torch.unsqueeze(sample, dim=0).to(device)
            pred_logit = model(sample)
            pred_prob = torch.softmax(pred_logit.squeeze(), dim=0)
            pred_probs.append(pred_prob.cpu())
    return torch.stack(pred_probs)


random.seed(42)
test_samples, test_labels = [], []
for sample, label in random.sample(list(test_data), k=9):
    test_samples.append(sample)
    test_labels.append(label)
pred_probs = make_predictions(model=image_model, data=test_samples)
pred_classes = pred_probs.argmax(dim=1)
named = [[class_names[pred], class_names[truth]] for pred, truth in zip(pred_classes, test_labels)]
one_image_pred = torch.softmax(image_model(test_samples[0].unsqueeze(dim=0)), dim=1)
one_image_label = torch.argmax(one_image_pred, dim=1)
found_name = class_names[one_image_label.cpu()]
pred_dictionary = {class_names[i]: float(one_image_pred.detach()[0][i]) for i in range(len(class_names))}

results = {
    "binary_surface": decision_surface(binary_model, X_binary, y_binary),
    "multi_surface": decision_surface(multi_model, X_multi, y_multi),
    "activations": activations, "regression_losses": regression_losses,
    "regression_predictions": model_2(X_test_regression[:5]).detach(),
    "test_labels": [int(label) for label in test_labels], "pred_probs": pred_probs, "named": named,
    "found_name": found_name, "pred_dictionary": pred_dictionary,
}
