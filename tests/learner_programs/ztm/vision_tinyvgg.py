# "Zero to Mastery: Learn PyTorch for Deep Learning", notebook 03 (written for this project): FashionMNIST-like
# 1x28x28 images (random, with a brighter stripe per class) in a TensorDataset, DataLoader(batch_size=32,
# shuffle=True) after a manual_seed, a TinyVGG of two Conv2d/ReLU/MaxPool2d blocks whose classifier's
# in_features come from a dummy forward, train_step/test_step functions with torch.inference_mode(), a
# timer, eval_model's results dict, and a confusion matrix counted with bincount.
from timeit import default_timer as timer

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(3)
class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress"]
n_train, n_test = 96, 40
labels = rng.integers(0, len(class_names), n_train + n_test)
pictures = rng.uniform(0, 0.5, (n_train + n_test, 1, 28, 28))
for number, label in enumerate(labels):
    pictures[number, 0, 7 * label:7 * label + 7, :] += 1.5
train_data = TensorDataset(torch.from_numpy(pictures[:n_train]).float(), torch.from_numpy(labels[:n_train]))
test_data = TensorDataset(torch.from_numpy(pictures[n_train:]).float(), torch.from_numpy(labels[n_train:]))
image, label = train_data[0]
first_sample = [list(image.shape), label.item(), len(train_data), len(test_data)]

BATCH_SIZE = 32
torch.manual_seed(42)
train_dataloader = DataLoader(train_data, batch_size=BATCH_SIZE, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=BATCH_SIZE, shuffle=False)
train_features_batch, train_labels_batch = next(iter(train_dataloader))
one_epoch_labels = torch.cat([y for _, y in train_dataloader])  # shuffled: each image once, in some order
# the libraries shuffle with their own generators, so training takes its order from NumPy, the same in both
train_dataloader = DataLoader(train_data, batch_size=BATCH_SIZE, sampler=rng.permutation(n_train).tolist())
loader_facts = [len(train_dataloader), len(test_dataloader), list(train_features_batch.shape),
                list(train_labels_batch.shape)]
flatten_model = nn.Flatten()
flat_shape = list(flatten_model(train_features_batch[0]).shape)


class FashionMNISTModelV2(nn.Module):
    def __init__(self, input_shape: int, hidden_units: int, output_shape: int):
        super().__init__()
        self.block_1 = nn.Sequential(
            nn.Conv2d(in_channels=input_shape, out_channels=hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(in_channels=hidden_units, out_channels=hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2))
        self.block_2 = nn.Sequential(
            nn.Conv2d(hidden_units, hidden_units, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2))
        with torch.no_grad():  # how many numbers reach the classifier, from one dummy image
            features = self.block_2(self.block_1(torch.zeros(1, input_shape, 28, 28))).flatten(1).shape[1]
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(in_features=features, out_features=output_shape))

    def forward(self, x: torch.Tensor):
        x = self.block_1(x)
        x = self.block_2(x)
        return self.classifier(x)


def accuracy_fn(y_true, y_pred):
    return torch.eq(y_true, y_pred).sum().item() / len(y_pred) * 100


def train_step(model, data_loader, loss_fn, optimizer, accuracy_fn, device):
    train_loss, train_acc = 0, 0
    model.to(device)
    model.train()
    for X, y in data_loader:
        X, y = X.to(device), y.to(device)
        y_pred = model(X)
        loss = loss_fn(y_pred, y)
        train_loss += loss
        train_acc += accuracy_fn(y_true=y, y_pred=y_pred.argmax(dim=1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    train_loss /= len(data_loader)
    train_acc /= len(data_loader)
    return train_loss.item(), train_acc


def test_step(data_loader, model, loss_fn, accuracy_fn, device):
    test_loss, test_acc = 0, 0
    model.to(device)
    model.eval()
    with torch.inference_mode():
        for X, y in data_loader:
            X, y = X.to(device), y.to(device)
            test_pred = model(X)
            test_loss += loss_fn(test_pred, y)
            test_acc += accuracy_fn(y_true=y, y_pred=test_pred.argmax(dim=1))
        test_loss /= len(data_loader)
        test_acc /= len(data_loader)
    return test_loss.item(), test_acc


def eval_model(model, data_loader, loss_fn, accuracy_fn):
    loss, acc = 0, 0
    model.eval()
    with torch.inference_mode():
        for X, y in data_loader:
            y_pred = model(X)
            loss += loss_fn(y_pred, y)
            acc += accuracy_fn(y_true=y, y_pred=y_pred.argmax(dim=1))
        loss /= len(data_loader)
        acc /= len(data_loader)
    return {"model_name": model.__class__.__name__, "model_loss": loss.item(), "model_acc": acc}


device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(42)
model_2 = FashionMNISTModelV2(input_shape=1, hidden_units=10, output_shape=len(class_names)).to(device)
weights = np.random.default_rng(5)
with torch.no_grad():  # the same start in both libraries
    for param in model_2.parameters():
        fan_in = param[0].numel() if param.dim() > 1 else param.numel()
        param.copy_(torch.from_numpy(weights.uniform(-1, 1, tuple(param.shape)) / np.sqrt(fan_in)))
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(params=model_2.parameters(), lr=0.05)

# the shapes through one block, as the notebook checks them with a single image
test_image = train_data[0][0]
conv_shapes = [list(model_2.block_1(test_image.unsqueeze(dim=0)).shape),
               list(model_2.block_2(model_2.block_1(test_image.unsqueeze(0))).shape),
               model_2.classifier[1].in_features]

train_time_start = timer()
history = []
for _ in range(4):
    train_loss, train_acc = train_step(model_2, train_dataloader, loss_fn, optimizer, accuracy_fn, device)
    test_loss, test_acc = test_step(test_dataloader, model_2, loss_fn, accuracy_fn, device)
    history.append([train_loss, train_acc, test_loss, test_acc])
total_train_time = timer() - train_time_start
model_2_results = eval_model(model=model_2, data_loader=test_dataloader, loss_fn=loss_fn, accuracy_fn=accuracy_fn)

y_preds = []
model_2.eval()
with torch.inference_mode():
    for X, _ in test_dataloader:
        y_logit = model_2(X.to(device))
        y_pred = torch.softmax(y_logit.squeeze(), dim=1).argmax(dim=1)
        y_preds.append(y_pred.cpu())
y_pred_tensor = torch.cat(y_preds)
targets = test_data.tensors[1]
confusion = torch.bincount(targets * len(class_names) + y_pred_tensor,
                           minlength=len(class_names) ** 2).reshape(len(class_names), len(class_names))

results = {
    "first_sample": first_sample, "loader_facts": loader_facts, "flat_shape": flat_shape,
    "each_image_once": torch.equal(one_epoch_labels.sort().values, train_data.tensors[1].sort().values),
    "conv_shapes": conv_shapes, "history": history,
    "model_2_results": model_2_results, "timer_positive": total_train_time > 0,
    "predictions": y_pred_tensor, "confusion": confusion, "confusion_total": confusion.sum().item(),
}
