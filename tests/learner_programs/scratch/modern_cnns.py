# The blocks of the "modern convolutional networks" chapter, built the way the newer "dive into" edition builds
# them (written for this project): lazy layers whose shapes are found by a first forward pass, a VGG block, a NiN
# block ending in global average pooling, an Inception block concatenating four paths, a residual block with a
# 1x1 shortcut, a dense block, weights then set from NumPy and a few training steps.
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

rng = np.random.default_rng(13)


def vgg_block(num_convs, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def nin_block(out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.LazyConv2d(out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU())


class Inception(nn.Module):
    def __init__(self, c1, c2, c3, c4, **kwargs):
        super().__init__(**kwargs)
        self.b1_1 = nn.LazyConv2d(c1, kernel_size=1)
        self.b2_1 = nn.LazyConv2d(c2[0], kernel_size=1)
        self.b2_2 = nn.LazyConv2d(c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.LazyConv2d(c3[0], kernel_size=1)
        self.b3_2 = nn.LazyConv2d(c3[1], kernel_size=5, padding=2)
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.LazyConv2d(c4, kernel_size=1)

    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)


class Residual(nn.Module):
    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def conv_block(num_channels):
    return nn.Sequential(nn.LazyBatchNorm2d(), nn.ReLU(), nn.LazyConv2d(num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    def __init__(self, num_convs, num_channels):
        super().__init__()
        layer = []
        for _ in range(num_convs):
            layer.append(conv_block(num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(num_channels):
    return nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.LazyConv2d(num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2))


X = torch.from_numpy(rng.normal(size=(3, 1, 8, 8)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 5, 3))
net = nn.Sequential(
    vgg_block(1, 4),
    nin_block(6, kernel_size=3, strides=1, padding=1),
    Inception(2, (2, 4), (1, 2), 2),
    Residual(6, use_1x1conv=True, strides=2),
    Residual(6),
    DenseBlock(2, 3),
    transition_block(4),
    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(5))

shapes = []
net.eval()  # the first pass only finds the shapes: the running statistics stay as they were made
out = X[:1]
for blk in net:
    out = blk(out)
    shapes.append([blk.__class__.__name__, list(out.shape)])
residual_shapes = [list(Residual(3)(torch.ones(2, 3, 6, 6)).shape),  # in training mode: statistics of the batch
                   list(Residual(6, use_1x1conv=True, strides=2)(torch.ones(2, 3, 6, 6)).shape)]
dense_shape = list(DenseBlock(2, 10)(torch.ones(2, 3, 4, 4)).shape)


def init_cnn(module):
    if type(module) is nn.Linear or type(module) is nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


net.apply(init_cnn)
names = [name for name, _ in net.named_parameters()]
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
num_params = sum(p.numel() for p in net.parameters())
optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
losses = []
net.train()
for _ in range(3):
    optimizer.zero_grad()
    loss = F.cross_entropy(net(X), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
net.eval()
with torch.no_grad():
    eval_logits = net(X)
bn = net[3].bn1

results = {"shapes": shapes, "residual_shapes": residual_shapes, "dense_shape": dense_shape, "names": names,
           "num_params": num_params, "losses": losses, "eval_logits": eval_logits,
           "running_mean": bn.running_mean, "running_var": bn.running_var,
           "num_batches_tracked": bn.num_batches_tracked.item(), "last_weight": net[-1].weight.detach()}
