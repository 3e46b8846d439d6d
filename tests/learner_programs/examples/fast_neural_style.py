# pytorch/examples "fast_neural_style" style (written for this project): a ConvLayer of nn.ReflectionPad2d and
# Conv2d, InstanceNorm2d(affine=True), a ResidualBlock, an UpsampleConvLayer upsampling with
# F.interpolate(mode='nearest', scale_factor=2), and the style loss on gram matrices features.bmm(features_t) /
# (ch * h * w), with content loss by MSELoss, trained a few steps with Adam. In float64: the conv biases before an
# InstanceNorm have no gradient but rounding's, which Adam scales up to steps of lr in float32, differently in each
# library (and in each run of PyTorch).
import numpy as np
import torch
import torch.nn.functional as F


class ConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super().__init__()
        self.reflection_pad = torch.nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(torch.nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        return self.in2(self.conv2(out)) + residual


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = torch.nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        if self.upsample:
            x = F.interpolate(x, mode='nearest', scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 4, kernel_size=5, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(4, affine=True)
        self.conv2 = ConvLayer(4, 8, kernel_size=3, stride=2)
        self.in2 = torch.nn.InstanceNorm2d(8, affine=True)
        self.res1 = ResidualBlock(8)
        self.deconv1 = UpsampleConvLayer(8, 4, kernel_size=3, stride=1, upsample=2)
        self.in3 = torch.nn.InstanceNorm2d(4, affine=True)
        self.deconv2 = UpsampleConvLayer(4, 3, kernel_size=5, stride=1)
        self.relu = torch.nn.ReLU()

    def forward(self, X):
        y = self.relu(self.in1(self.conv1(X)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.res1(y)
        y = self.relu(self.in3(self.deconv1(y)))
        return self.deconv2(y)


def gram_matrix(y):
    (b, ch, h, w) = y.size()
    features = y.view(b, ch, w * h)
    features_t = features.transpose(1, 2)
    gram = features.bmm(features_t) / (ch * h * w)
    return gram


dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(8)
transformer = TransformerNet()
with torch.no_grad():
    for p in transformer.parameters():
        p.add_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape))) - p)
features = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU())
for p in features.parameters():
    p.requires_grad = False
    p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, tuple(p.shape))))
style = torch.from_numpy(rng.uniform(0, 1, (1, 3, 10, 10)))
gram_style = gram_matrix(features(style))
x = torch.from_numpy(rng.uniform(0, 1, (2, 3, 10, 10)))
optimizer = torch.optim.Adam(transformer.parameters(), 1e-2)
mse_loss = torch.nn.MSELoss()
history = []
for _step in range(4):
    optimizer.zero_grad()
    y = transformer(x)
    features_y, features_x = features(y), features(x)
    content_loss = 1e0 * mse_loss(features_y, features_x)
    gm_y = gram_matrix(features_y)
    style_loss = 1e2 * mse_loss(gm_y, gram_style[:x.size(0), :, :].expand_as(gm_y))
    total_loss = content_loss + style_loss
    total_loss.backward()
    optimizer.step()
    history.append([content_loss.item(), style_loss.item()])
results = {"history": history, "y_shape": list(y.shape), "in_affine": transformer.in1.weight,
           "gram_shape": list(gram_style.shape), "in_keys": sorted(transformer.in2.state_dict().keys())}
