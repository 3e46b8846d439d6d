# A vision course's "PyTorch on CIFAR" notebook style (written for this project): the barebones level (flatten,
# random_weight by Kaiming's rule with torch.randn(..., device=device, dtype=dtype), a three-layer convnet of
# F.conv2d, hand-written SGD with w.grad.zero_()), the nn.Module level (nn.init.kaiming_normal_, model.apply),
# the nn.Sequential level with optim.SGD(nesterov=True), check_accuracy over a DataLoader with a
# SubsetRandomSampler, torchvision-free transforms (permute(0, 3, 1, 2), per-channel mean/std), x.new_zeros,
# and a state_dict saved with torch.save to a temporary file and loaded back. Random draws compared by shape.
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset, sampler

dtype = "float32"
USE_GPU = True
if USE_GPU and torch.cuda.is_available():
    device = torch.device('cuda')
else:
    device = torch.device('cpu')
print_every = 2
rng = np.random.RandomState(0)

# data: uint8 images N x H x W x C made into a normalized N x C x H x W float tensor by hand
raw = rng.randint(0, 256, size=(40, 8, 8, 3)).astype(np.uint8)
labels = rng.randint(10, size=40)
images = torch.from_numpy(raw).float().div(255).permute(0, 3, 1, 2).contiguous()
mean = images.mean(dim=(0, 2, 3))
std = images.std(dim=(0, 2, 3))
images = (images - mean[None, :, None, None]) / std.view(1, 3, 1, 1)
dataset = TensorDataset(images, torch.from_numpy(labels).long())
NUM_TRAIN = 32
loader_train = DataLoader(dataset, batch_size=8, sampler=sampler.SubsetRandomSampler(range(NUM_TRAIN)))
loader_val = DataLoader(dataset, batch_size=8, sampler=sampler.SubsetRandomSampler(range(NUM_TRAIN, 40)))
loader_fixed = DataLoader(dataset, batch_size=8, shuffle=False)


def flatten(x):
    N = x.shape[0]
    return x.view(N, -1)


def random_weight(shape):
    if len(shape) == 2:
        fan_in = shape[0]
    else:
        fan_in = np.prod(shape[1:])
    w = torch.randn(shape, device=device, dtype=torch.float32) * np.sqrt(2. / fan_in)
    w.requires_grad = True
    return w


def zero_weight(shape):
    return torch.zeros(shape, device=device, dtype=torch.float32, requires_grad=True)


def numpy_weight(shape, scale=0.2):
    return torch.tensor(scale * rng.randn(*shape), device=device, dtype=torch.float32, requires_grad=True)


def three_layer_convnet(x, params):
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    x = F.relu(F.conv2d(x, conv_w1, conv_b1, padding=2))
    x = F.relu(F.conv2d(x, conv_w2, bias=conv_b2, padding=1))
    return flatten(x).mm(fc_w) + fc_b


results = {}
drawn = [random_weight((3, 5)), random_weight((6, 3, 5, 5)), zero_weight((4,))]
results['random_shapes'] = [list(w.shape) for w in drawn] + [drawn[0].requires_grad, drawn[2].sum().item()]
results['device'] = [str(device), device.type, str(images.device), images.is_cuda]

params = [numpy_weight((6, 3, 5, 5)), zero_weight((6,)), numpy_weight((9, 6, 3, 3)), zero_weight((9,)),
          numpy_weight((9 * 8 * 8, 10), 0.05), zero_weight((10,))]
learning_rate = 3e-3
barebones_losses = []
for x, y in loader_fixed:
    x = x.to(device=device, dtype=torch.float32)
    y = y.to(device=device, dtype=torch.long)
    scores = three_layer_convnet(x, params)
    loss = F.cross_entropy(scores, y)
    loss.backward()
    with torch.no_grad():
        for w in params:
            w -= learning_rate * w.grad
            w.grad.zero_()
    barebones_losses.append(loss.item())
results['barebones_losses'] = barebones_losses


class ThreeLayerConvNet(nn.Module):
    def __init__(self, in_channel, channel_1, channel_2, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channel, channel_1, kernel_size=5, padding=2)
        nn.init.kaiming_normal_(self.conv1.weight)
        self.conv2 = nn.Conv2d(channel_1, channel_2, kernel_size=3, padding=1)
        nn.init.kaiming_normal_(self.conv2.weight)
        self.fc = nn.Linear(channel_2 * 8 * 8, num_classes)
        nn.init.kaiming_normal_(self.fc.weight)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc(flatten(x))


def init_from_numpy(m):
    if type(m) in [nn.Conv2d, nn.Linear]:
        m.weight.data = torch.from_numpy(0.1 * rng.randn(*m.weight.shape)).float()
        m.bias.data.fill_(0.01)


model = ThreeLayerConvNet(3, 6, 9, 10)
results['kaiming_shapes'] = [list(p.shape) for p in model.parameters()]
fan_in = 6 * 3 * 3
results['kaiming_std_plausible'] = bool(0.2 < model.conv2.weight.std().item() * np.sqrt(fan_in / 2.0) < 5)
model.apply(init_from_numpy)
model = model.to(device=device)


def check_accuracy(loader, model):
    num_correct = 0
    num_samples = 0
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            x = x.to(device=device, dtype=torch.float32)
            y = y.to(device=device, dtype=torch.long)
            scores = model(x)
            _, preds = scores.max(1)
            num_correct += (preds == y).sum()
            num_samples += preds.size(0)
        acc = float(num_correct) / num_samples
    return num_correct.item(), num_samples, acc


def train(model, optimizer, loader, epochs=1):
    model = model.to(device=device)
    losses = []
    for _epoch in range(epochs):
        for x, y in loader:
            model.train()
            x = x.to(device=device, dtype=torch.float32)
            y = y.to(device=device, dtype=torch.long)
            scores = model(x)
            loss = F.cross_entropy(scores, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


optimizer = optim.SGD(model.parameters(), lr=1e-2)
results['module_losses'] = train(model, optimizer, loader_fixed)
results['module_accuracy'] = check_accuracy(loader_fixed, model)
random_order_accuracy = check_accuracy(loader_val, model)
results['val_counts'] = random_order_accuracy[1]

model = nn.Sequential(
    nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
    nn.Conv2d(6, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(0.0), nn.Linear(4 * 4 * 4, 10))
model.apply(init_from_numpy)
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9, nesterov=True, weight_decay=1e-4)
results['sequential_losses'] = train(model, optimizer, loader_fixed, epochs=2)
results['sequential_accuracy'] = check_accuracy(loader_fixed, model)

# checkpoint to a temporary file and back into a fresh model
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, 'checkpoint.pt')
    torch.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'epoch': 2}, path)
    checkpoint = torch.load(path)
fresh = nn.Sequential(
    nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
    nn.Conv2d(6, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(0.0), nn.Linear(4 * 4 * 4, 10))
missing = fresh.load_state_dict(checkpoint['model'])
fresh.eval()
model.eval()
x0 = images[:4]
results['restored_same'] = torch.equal(fresh(x0), model(x0))
results['checkpoint_keys'] = sorted(checkpoint['model'].keys())
results['epoch'] = checkpoint['epoch']
results['momentum_buffers'] = len(checkpoint['optimizer']['state'])
results['missing'] = [list(missing.missing_keys), list(missing.unexpected_keys)]

buffer = x0.new_zeros((2, 3))
filled = x0.new_full((2,), 7.0)
ones = x0.new_ones(3, 2)
results['new_tensors'] = [buffer.dtype == torch.float32, list(buffer.shape), filled, list(ones.shape),
                          x0.new_tensor([1, 2]).dtype == torch.int64]
results['final_scores'] = model(x0)
