# "Zero to Mastery: Learn PyTorch for Deep Learning", notebooks 04 and 05 (written for this project): pictures in
# class folders (NumPy files here, in place of JPEGs), a find_classes helper, an ImageFolderCustom Dataset
# subclass with __len__/__getitem__ and a transform callable, random_split of a dataset, DataLoaders with
# num_workers=os.cpu_count() and a manual_seed before shuffling, a TinyVGG trained by modular train_step /
# test_step / train functions that return a results dict, a timer, and early stopping by hand.
import os
import tempfile
from pathlib import Path
from timeit import default_timer as timer

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

rng = np.random.default_rng(11)
data_path = Path(tempfile.mkdtemp()) / "pizza_steak_sushi"
for split, count in (("train", 24), ("test", 9)):
    for number, name in enumerate(["pizza", "steak", "sushi"]):
        folder = data_path / split / name
        folder.mkdir(parents=True, exist_ok=True)
        for image_number in range(count // 3):
            picture = rng.uniform(0, 255, (16, 16, 3))  # height, width, colour: as an image file holds it
            picture[..., number] = np.clip(picture[..., number] + 120, 0, 255)
            np.save(folder / f"{image_number}.npy", picture.astype(np.uint8))
train_dir, test_dir = data_path / "train", data_path / "test"


def find_classes(directory: str) -> tuple[list[str], dict[str, int]]:
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any classes in {directory}.")
    return classes, {cls_name: i for i, cls_name in enumerate(classes)}


class ToScaledTensor:
    """What transforms.ToTensor does: HWC bytes to a CHW float tensor in [0, 1]."""

    def __call__(self, picture):
        return torch.from_numpy(picture).permute(2, 0, 1).type(torch.float32) / 255


class CentreCrop:
    def __init__(self, size):
        self.size = size

    def __call__(self, image):
        top = (image.shape[1] - self.size) // 2
        return image[:, top:top + self.size, top:top + self.size]


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x


class ImageFolderCustom(Dataset):
    def __init__(self, targ_dir: str, transform=None) -> None:
        self.paths = sorted(Path(targ_dir).glob("*/*.npy"))
        self.transform = transform
        self.classes, self.class_to_idx = find_classes(targ_dir)

    def load_image(self, index: int):
        return np.load(self.paths[index])

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        img = self.load_image(index)
        class_idx = self.class_to_idx[self.paths[index].parent.name]
        if self.transform:
            return self.transform(img), class_idx
        return img, class_idx


train_transforms = Compose([ToScaledTensor(), CentreCrop(12)])
train_data_custom = ImageFolderCustom(targ_dir=train_dir, transform=train_transforms)
test_data_custom = ImageFolderCustom(targ_dir=test_dir, transform=train_transforms)
img, label = train_data_custom[0]
dataset_facts = [len(train_data_custom), len(test_data_custom), train_data_custom.classes,
                 train_data_custom.class_to_idx, list(img.shape), label, str(img.dtype == torch.float32),
                 img.mean().item(), img.permute(1, 2, 0).shape[-1]]

torch.manual_seed(42)
part_a, part_b = torch.utils.data.random_split(train_data_custom, [18, 6])
fractions = torch.utils.data.random_split(train_data_custom, [0.75, 0.25],
                                          generator=torch.Generator().manual_seed(42))
split_facts = [len(part_a), len(part_b), sorted(set(part_a.indices) | set(part_b.indices)) == list(range(24)),
               [len(part) for part in fractions], type(part_a).__name__, type(part_a[0][1]).__name__]

NUM_WORKERS = os.cpu_count()
BATCH_SIZE = 8
torch.manual_seed(42)
shuffled_dataloader = DataLoader(dataset=train_data_custom, batch_size=BATCH_SIZE, num_workers=NUM_WORKERS,
                                 shuffle=True, pin_memory=True)
img_batch, label_batch = next(iter(shuffled_dataloader))
loader_facts = [len(shuffled_dataloader), list(img_batch.shape), list(label_batch.shape),
                label_batch.dtype == torch.int64]
# the libraries shuffle with their own generators: the order training sees comes from NumPy, the same in both
order = rng.permutation(len(train_data_custom)).tolist()
train_dataloader_custom = DataLoader(Subset(train_data_custom, order), batch_size=BATCH_SIZE, num_workers=0)
test_dataloader_custom = DataLoader(test_data_custom, batch_size=BATCH_SIZE, shuffle=False, num_workers=NUM_WORKERS)


class TinyVGG(nn.Module):
    def __init__(self, input_shape: int, hidden_units: int, output_shape: int) -> None:
        super().__init__()
        self.conv_block_1 = nn.Sequential(
            nn.Conv2d(input_shape, hidden_units, kernel_size=3, stride=1, padding=0), nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, kernel_size=3, stride=1, padding=0), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(hidden_units * 4 * 4, output_shape))

    def forward(self, x: torch.Tensor):
        return self.classifier(self.conv_block_1(x))


def train_step(model, dataloader, loss_fn, optimizer, device):
    model.train()
    train_loss, train_acc = 0, 0
    for X, y in dataloader:
        X, y = X.to(device), y.to(device)
        y_pred = model(X)
        loss = loss_fn(y_pred, y)
        train_loss += loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        y_pred_class = torch.argmax(torch.softmax(y_pred, dim=1), dim=1)
        train_acc += (y_pred_class == y).sum().item() / len(y_pred)
    return train_loss / len(dataloader), train_acc / len(dataloader)


def test_step(model, dataloader, loss_fn, device):
    model.eval()
    test_loss, test_acc = 0, 0
    with torch.inference_mode():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            test_pred_logits = model(X)
            test_loss += loss_fn(test_pred_logits, y).item()
            test_pred_labels = test_pred_logits.argmax(dim=1)
            test_acc += (test_pred_labels == y).sum().item() / len(test_pred_labels)
    return test_loss / len(dataloader), test_acc / len(dataloader)


def train(model, train_dataloader, test_dataloader, optimizer, loss_fn=nn.CrossEntropyLoss(), epochs=5,
          device="cpu", patience=2):
    results = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    best_loss, epochs_without_progress, best_state = float("inf"), 0, None
    for _ in range(epochs):
        train_loss, train_acc = train_step(model, train_dataloader, loss_fn, optimizer, device)
        test_loss, test_acc = test_step(model, test_dataloader, loss_fn, device)
        results["train_loss"].append(train_loss)
        results["train_acc"].append(train_acc)
        results["test_loss"].append(test_loss)
        results["test_acc"].append(test_acc)
        if test_loss < best_loss:  # early stopping, by hand
            best_loss, epochs_without_progress = test_loss, 0
            best_state = {key: value.clone() for key, value in model.state_dict().items()}
        else:
            epochs_without_progress += 1
            if epochs_without_progress >= patience:
                break
    model.load_state_dict(best_state)
    results["stopped_after"] = len(results["test_loss"])
    return results


device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(42)
torch.cuda.manual_seed(42)
model_0 = TinyVGG(input_shape=3, hidden_units=10, output_shape=len(train_data_custom.classes)).to(device)
numbers = np.random.default_rng(12)
with torch.no_grad():
    for param in model_0.parameters():
        fan_in = param[0].numel() if param.dim() > 1 else param.numel()
        param.copy_(torch.from_numpy(numbers.uniform(-1, 1, tuple(param.shape)) / np.sqrt(fan_in)))
optimizer = torch.optim.Adam(params=model_0.parameters(), lr=0.003)
start_time = timer()
model_0_results = train(model=model_0, train_dataloader=train_dataloader_custom,
                        test_dataloader=test_dataloader_custom, optimizer=optimizer, epochs=12, device=device)
end_time = timer()
with torch.inference_mode():
    final_logits = model_0(torch.stack([test_data_custom[i][0] for i in range(3)]))

results = {
    "dataset_facts": dataset_facts, "split_facts": split_facts, "loader_facts": loader_facts,
    "model_0_results": model_0_results, "took_time": end_time > start_time, "final_logits": final_logits,
}
