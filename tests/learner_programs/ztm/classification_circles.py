# "Zero to Mastery: Learn PyTorch for Deep Learning", notebook 02 (written for this project): two noisy circles
# made with NumPy (in place of make_circles), split 80/20 by a shuffled index done by hand, a linear model that
# cannot separate them and a nn.Sequential with ReLU that can, BCEWithLogitsLoss on raw logits, predictions as
# torch.round(torch.sigmoid(logits)), an accuracy function built on torch.eq(...).sum().item(), then four blobs
# classified with CrossEntropyLoss and softmax(dim=1).argmax(dim=1).
import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(42)
n_samples = 200
angles = rng.uniform(0, 2 * np.pi, n_samples)
radii = np.where(np.arange(n_samples) % 2 == 0, 1.0, 0.6)
X_np = np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1) + rng.normal(0, 0.03, (n_samples, 2))
y_np = (radii < 1.0).astype(np.int64)
X = torch.from_numpy(X_np).type(torch.float)
y = torch.from_numpy(y_np).type(torch.float)

order = rng.permutation(n_samples)  # train_test_split(test_size=0.2), by hand
cut = int(0.8 * n_samples)
X_train, X_test, y_train, y_test = X[order[:cut]], X[order[cut:]], y[order[:cut]], y[order[cut:]]


def accuracy_fn(y_true, y_pred):
    correct = torch.eq(y_true, y_pred).sum().item()
    return (correct / len(y_pred)) * 100


def set_weights(model, seed):
    """Weights from NumPy in place of the seeded init, so both libraries start alike."""
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for param in model.parameters():
            bound = 1 / np.sqrt(param.shape[-1])
            param.copy_(torch.from_numpy(numbers.uniform(-bound, bound, tuple(param.shape))))
    return model


class CircleModelV0(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer_1 = nn.Linear(in_features=2, out_features=5)
        self.layer_2 = nn.Linear(in_features=5, out_features=1)

    def forward(self, x):
        return self.layer_2(self.layer_1(x))


def fit(model, epochs, lr, every):
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(params=model.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        model.train()
        y_logits = model(X_train).squeeze()
        y_pred = torch.round(torch.sigmoid(y_logits))
        loss = loss_fn(y_logits, y_train)
        acc = accuracy_fn(y_true=y_train, y_pred=y_pred)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.inference_mode():
            test_logits = model(X_test).squeeze()
            test_pred = torch.round(torch.sigmoid(test_logits))
            test_loss = loss_fn(test_logits, y_test)
            test_acc = accuracy_fn(y_true=y_test, y_pred=test_pred)
        if epoch % every == 0:
            history.append([loss.item(), acc, test_loss.item(), test_acc])
    return history


torch.manual_seed(42)
model_0 = set_weights(CircleModelV0(), 0)
with torch.inference_mode():
    untrained_logits = model_0(X_test)[:5]
untrained_probs = torch.sigmoid(untrained_logits)
untrained_labels = torch.round(untrained_probs)
full_round = torch.round(torch.sigmoid(model_0(X_test[:5]))).squeeze()
linear_history = fit(model_0, 100, 0.1, 20)

model_3 = set_weights(nn.Sequential(
    nn.Linear(in_features=2, out_features=10), nn.ReLU(),
    nn.Linear(in_features=10, out_features=10), nn.ReLU(),
    nn.Linear(in_features=10, out_features=1)), 1)
relu_history = fit(model_3, 1000, 0.1, 100)
model_3.eval()
with torch.inference_mode():
    y_preds = torch.round(torch.sigmoid(model_3(X_test))).squeeze()

# multi-class: four blobs
NUM_CLASSES, NUM_FEATURES, RANDOM_SEED = 4, 2, 42
centres = np.array([[-5.0, 5.0], [5.0, 5.0], [-5.0, -5.0], [5.0, -5.0]])
blob_labels = rng.integers(0, NUM_CLASSES, 400)
X_blob = torch.from_numpy(centres[blob_labels] + rng.normal(0, 1.5, (400, NUM_FEATURES))).type(torch.float)
y_blob = torch.from_numpy(blob_labels).type(torch.LongTensor)
X_blob_train, X_blob_test = X_blob[:320], X_blob[320:]
y_blob_train, y_blob_test = y_blob[:320], y_blob[320:]


class BlobModel(nn.Module):
    def __init__(self, input_features, output_features, hidden_units=8):
        super().__init__()
        self.linear_layer_stack = nn.Sequential(
            nn.Linear(in_features=input_features, out_features=hidden_units), nn.ReLU(),
            nn.Linear(in_features=hidden_units, out_features=hidden_units), nn.ReLU(),
            nn.Linear(in_features=hidden_units, out_features=output_features))

    def forward(self, x):
        return self.linear_layer_stack(x)


torch.manual_seed(RANDOM_SEED)
model_4 = set_weights(BlobModel(input_features=NUM_FEATURES, output_features=NUM_CLASSES, hidden_units=8), 2)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model_4.parameters(), lr=0.1)
first_probs = torch.softmax(model_4(X_blob_test[:5]), dim=1)
blob_history = []
for epoch in range(100):
    model_4.train()
    y_logits = model_4(X_blob_train)
    y_pred = torch.softmax(y_logits, dim=1).argmax(dim=1)
    loss = loss_fn(y_logits, y_blob_train)
    acc = accuracy_fn(y_true=y_blob_train, y_pred=y_pred)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    model_4.eval()
    with torch.inference_mode():
        test_logits = model_4(X_blob_test)
        test_pred = torch.softmax(test_logits, dim=1).argmax(dim=1)
        test_loss = loss_fn(test_logits, y_blob_test)
        test_acc = accuracy_fn(y_true=y_blob_test, y_pred=test_pred)
    if epoch % 10 == 0:
        blob_history.append([loss.item(), acc, test_loss.item(), test_acc])
with torch.inference_mode():
    y_logits = model_4(X_blob_test)
y_pred_probs = torch.softmax(y_logits, dim=1)
y_preds_blob = y_pred_probs.argmax(dim=1)

results = {
    "shapes": [list(X_train.shape), list(X_test.shape), list(y_train.shape), str(X.dtype == torch.float32)],
    "untrained_logits": untrained_logits, "untrained_probs": untrained_probs, "untrained_labels": untrained_labels,
    "full_round": full_round.detach(), "linear_history": linear_history, "relu_history": relu_history,
    "relu_preds": y_preds, "relu_accuracy": accuracy_fn(y_test, y_preds),
    "first_probs": first_probs.detach(), "prob_sums": first_probs.sum(dim=1).detach(),
    "blob_history": blob_history, "blob_probs": y_pred_probs[:5], "blob_preds": y_preds_blob,
    "blob_label_dtype": str(y_blob.dtype == torch.int64), "blob_accuracy": accuracy_fn(y_blob_test, y_preds_blob),
}
