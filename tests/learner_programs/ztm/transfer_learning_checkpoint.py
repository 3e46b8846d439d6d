# "Zero to Mastery: Learn PyTorch for Deep Learning", notebooks 06, 07 and 09 (written for this project): a
# "pretrained" feature extractor (its weights from NumPy) frozen with requires_grad = False, its classifier swapped
# for nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(...)), trainable parameters counted, set_seeds, a
# few epochs of Adam, a checkpoint dict holding the epoch and the model's and optimizer's state_dicts saved and
# resumed, and the deployment notebook's predict function giving a {class name: probability} dict and a time.
import tempfile
from pathlib import Path
from timeit import default_timer as timer

import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(6)
class_names = ["pizza", "steak", "sushi"]
images = torch.from_numpy(rng.uniform(0, 1, (24, 3, 8, 8))).float()
labels = torch.from_numpy(rng.integers(0, 3, 24))
for number in range(24):
    images[number, labels[number]] += 0.5


def set_seeds(seed: int = 42):
    torch.manual_seed(seed)
    torch.cuda.manual_seed(seed)


class SmallNet(nn.Module):
    """In place of EfficientNet: a features block, a pooling step and a classifier."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU())
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(8, 1000))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def load_pretrained(model, seed):
    numbers = np.random.default_rng(seed)
    state = model.state_dict()
    model.load_state_dict({name: torch.from_numpy(numbers.uniform(0.5 if name.endswith("var") else -0.5, 1.0,
                                                                  tuple(value.shape))).type(value.dtype)
                           for name, value in state.items()})
    return model


device = "cuda" if torch.cuda.is_available() else "cpu"
model = load_pretrained(SmallNet(), 1).to(device)
for param in model.features.parameters():
    param.requires_grad = False
set_seeds()
output_shape = len(class_names)
model.classifier = torch.nn.Sequential(
    torch.nn.Dropout(p=0.2, inplace=True),
    torch.nn.Linear(in_features=8, out_features=output_shape, bias=True)).to(device)
with torch.no_grad():
    model.classifier[1].weight.copy_(torch.from_numpy(rng.normal(0, 0.3, (3, 8))))
    model.classifier[1].bias.zero_()
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
total = sum(torch.numel(p) for p in model.parameters())
frozen_flags = [p.requires_grad for p in model.parameters()]

# train with dropout off (its draws differ between libraries) and BatchNorm in eval, as a frozen extractor is used
model.eval()
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
history = []
for _ in range(5):
    for batch in range(0, 24, 8):
        X, y = images[batch:batch + 8].to(device), labels[batch:batch + 8].to(device)
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    history.append(loss.item())
features_unchanged = bool(torch.equal(model.features[0].weight, load_pretrained(SmallNet(), 1).features[0].weight))

checkpoint_path = Path(tempfile.mkdtemp()) / "checkpoint.pth"
torch.save({"epoch": 5, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
            "loss": history[-1]}, checkpoint_path)
checkpoint = torch.load(checkpoint_path)
resumed = load_pretrained(SmallNet(), 2)
resumed.classifier = nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(8, output_shape))
resumed.load_state_dict(checkpoint["model_state_dict"])
for param in resumed.features.parameters():
    param.requires_grad = False
resumed_optimizer = torch.optim.Adam(resumed.parameters(), lr=0.01)
resumed_optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
resumed.eval()
for _ in range(checkpoint["epoch"], 7):
    loss = loss_fn(resumed(images[:8]), labels[:8])
    resumed_optimizer.zero_grad()
    loss.backward()
    resumed_optimizer.step()
    history.append(loss.item())
model_size = checkpoint_path.stat().st_size > 0


def predict(img) -> tuple[dict, float]:
    start_time = timer()
    img = img.unsqueeze(0)
    resumed.eval()
    with torch.inference_mode():
        pred_probs = torch.softmax(resumed(img), dim=1)
    pred_labels_and_probs = {class_names[i]: float(pred_probs[0][i]) for i in range(len(class_names))}
    pred_time = round(timer() - start_time, 5)
    return pred_labels_and_probs, pred_time


probabilities, pred_time = predict(images[3])

results = {
    "trainable": trainable, "total": total, "frozen_flags": frozen_flags, "history": history,
    "features_unchanged": features_unchanged, "checkpoint_keys": sorted(checkpoint),
    "checkpoint_epoch": checkpoint["epoch"], "optimizer_steps": len(checkpoint["optimizer_state_dict"]["state"]),
    "model_size": model_size, "probabilities": probabilities, "took_time": pred_time >= 0,
    "classifier_weight": resumed.classifier[1].weight.detach(),
}
