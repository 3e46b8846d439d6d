# A spatial transformer network, as in the "Spatial Transformer Networks" tutorials (written for this
# project): a small localisation net predicts an affine matrix theta per image, F.affine_grid turns it
# into a sampling grid, F.grid_sample warps the image, and a conv classifier reads the warped image.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
rng = np.random.default_rng(0)
images = torch.tensor(np.sin(np.arange(6 * 10 * 10).reshape(6, 1, 10, 10) / 5.3) ** 3, dtype=torch.float64)
labels = torch.tensor([0, 1, 2, 0, 1, 2])


class SpatialTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.localisation = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.ReLU())
        self.fc_loc = nn.Sequential(nn.Linear(4 * 4 * 4, 8), nn.ReLU(), nn.Linear(8, 6))
        self.classifier = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                                        nn.Flatten(), nn.Linear(12, 3))

    def transform(self, x):
        features = self.localisation(x).view(-1, 4 * 4 * 4)
        theta = self.fc_loc(features).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False), theta

    def forward(self, x):
        warped, _ = self.transform(x)
        return self.classifier(warped)


model = SpatialTransformer().double()
for p in model.parameters():
    p.data = torch.tensor(rng.normal(0.0, 0.3, tuple(p.shape)), dtype=torch.float64)
with torch.no_grad():  # start near the identity transform, as the tutorial does
    model.fc_loc[2].weight.mul_(0.1)
    model.fc_loc[2].bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], dtype=torch.float64))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

losses = []
for _ in range(6):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    warped, theta = model.transform(images)
    zoom = torch.tensor([[[0.7, 0.2, 0.1], [-0.15, 0.8, 0.05]]], dtype=torch.float64).expand(6, 2, 3)
    grid = F.affine_grid(zoom * 1.9, images.size(), align_corners=True)
    other_modes = [F.grid_sample(images, grid, mode=mode, padding_mode=padding, align_corners=True)
                   for mode, padding in [("nearest", "border"), ("bicubic", "reflection"), ("bilinear", "zeros")]]

results = {"losses": losses, "theta": theta, "warped": warped,
           "other_modes": torch.stack(other_modes),
           "weights": torch.nn.utils.parameters_to_vector(model.parameters())}
