# A vision course's network-visualization notebook style (written for this project): on a small CNN whose weights
# come from NumPy (frozen with requires_grad = False, in eval mode), saliency maps from the gradient of the correct
# class's score (scores.gather(1, y.view(-1, 1)).squeeze(), backward with torch.ones_like, X.grad.abs().max(dim=1)),
# a fooling image by gradient ascent on the input (X_fooling.data += lr * g / g.norm() until the argmax changes,
# a bounded number of steps), and class visualization (L2-regularized ascent, jitter with torch.roll, clamp_ per
# channel, a blur by a fixed conv). In float64.
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(3)
random.seed(0)

SQUEEZENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float64)
SQUEEZENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float64)


class TinyNet(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(6, 8, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((2, 2)))
        self.classifier = nn.Sequential(nn.Dropout(p=0.5), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


model = TinyNet()
with torch.no_grad():
    for _, p in model.named_parameters():
        p.copy_(torch.from_numpy(0.4 * rng.randn(*p.shape)))
for param in model.parameters():
    param.requires_grad = False
model.eval()


def preprocess(img):
    """uint8 H x W x 3 images to a normalized N x 3 x H x W tensor, by hand (no torchvision)."""
    x = torch.from_numpy(img).to(torch.float64) / 255.0
    x = x.permute(0, 3, 1, 2)
    mean = torch.tensor(SQUEEZENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(SQUEEZENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def deprocess(x):
    x = x * torch.tensor(SQUEEZENET_STD).view(1, 3, 1, 1) + torch.tensor(SQUEEZENET_MEAN).view(1, 3, 1, 1)
    return (x.clamp(0, 1) * 255).permute(0, 2, 3, 1).to(torch.uint8)


def compute_saliency_maps(X, y, model):
    model.eval()
    X.requires_grad_()
    scores = model(X)
    correct = scores.gather(1, y.view(-1, 1)).squeeze()
    correct.backward(torch.ones_like(correct))
    saliency, _ = X.grad.abs().max(dim=1)
    return saliency


def make_fooling_image(X, target_y, model, max_steps=40):
    X_fooling = X.clone()
    X_fooling = X_fooling.requires_grad_()
    learning_rate = 1
    steps = 0
    while steps < max_steps:
        scores = model(X_fooling)
        if scores.data.max(1)[1].item() == target_y:
            break
        steps += 1
        target_score = scores[0, target_y]
        target_score.backward()
        g = X_fooling.grad.data
        X_fooling.data += learning_rate * g / g.norm()
        X_fooling.grad.zero_()
    return X_fooling.detach(), steps


def jitter(X, ox, oy):
    if ox != 0:
        left = X[:, :, :, :-ox]
        right = X[:, :, :, -ox:]
        X = torch.cat([right, left], dim=3)
    if oy != 0:
        top = X[:, :, :-oy]
        bottom = X[:, :, -oy:]
        X = torch.cat([bottom, top], dim=2)
    return X


def blur_image(X, sigma=1.0):
    radius = 2
    xs = np.arange(-radius, radius + 1)
    kernel_1d = np.exp(-xs ** 2 / (2 * sigma ** 2))
    kernel_1d = kernel_1d / kernel_1d.sum()
    kernel = torch.from_numpy(np.outer(kernel_1d, kernel_1d)).view(1, 1, 5, 5).repeat(3, 1, 1, 1)
    X_pad = F.pad(X, (radius, radius, radius, radius), mode='reflect')
    return F.conv2d(X_pad, kernel, groups=3)


def create_class_visualization(target_y, model, num_iterations=12, l2_reg=1e-3, learning_rate=5, max_jitter=2,
                               blur_every=5):
    img = torch.from_numpy(rng.randn(1, 3, 16, 16) * 0.5).requires_grad_()
    jitter_steps = [(1, 2), (0, 1), (2, 0), (1, 1)]
    for t in range(num_iterations):
        ox, oy = jitter_steps[t % len(jitter_steps)]
        img.data.copy_(jitter(img.data, ox, oy))
        scores = model(img)
        objective = scores[0, target_y] - l2_reg * torch.sum(img * img)
        objective.backward()
        img.data += learning_rate * img.grad.data / img.grad.data.norm()
        img.grad.data.zero_()
        img.data.copy_(torch.roll(img.data, shifts=(-oy, -ox), dims=(2, 3)))
        for c in range(3):
            lo = float(-SQUEEZENET_MEAN[c] / SQUEEZENET_STD[c])
            hi = float((1.0 - SQUEEZENET_MEAN[c]) / SQUEEZENET_STD[c])
            img.data[:, c].clamp_(min=lo, max=hi)
        if t % blur_every == 0:
            img.data = blur_image(img.data, sigma=0.5)
    return img.data


images = rng.randint(0, 256, size=(3, 16, 16, 3)).astype(np.uint8)
X = preprocess(images)
y = torch.LongTensor([1, 3, 0])

saliency = compute_saliency_maps(X.clone(), y, model)
scores = model(X)
predicted = scores.argmax(dim=1)

target_y = int((predicted[0].item() + 2) % 5)
X_fooling, steps = make_fooling_image(X[0:1], target_y, model)
fooled_scores = model(X_fooling)
diff = (X_fooling - X[0:1]).abs()

roll_same = torch.equal(torch.roll(X, shifts=(1, 2), dims=(2, 3)), jitter(X, 2, 1))
visual = create_class_visualization(2, model)

results = {
    'scores': scores, 'predicted': predicted, 'saliency': saliency, 'saliency_shape': list(saliency.shape),
    'fooling_steps': steps, 'fooled_class': fooled_scores.argmax(1).item(), 'target': target_y,
    'fooling_diff_max': diff.max().item(), 'fooling_diff_mean': diff.mean().item(),
    'roll_same': roll_same, 'visual': visual, 'visual_scores': model(visual),
    'deprocessed': deprocess(X_fooling).to(torch.int64), 'requires_grad': [p.requires_grad for p in model.parameters()],
}
