# A vision course's style-transfer notebook style (written for this project): features from several layers of a
# small frozen CNN (weights from NumPy), content loss, gram matrices by features.view(N, C, H*W) and torch.bmm
# normalized by C*H*W, a style loss summed over layers, a total-variation loss from slicing differences, then the
# image optimized with torch.optim.Adam([img], lr=...), the learning rate lowered by hand, and img.data.clamp_.
import numpy as np
import torch
import torch.nn as nn

dtype = "float64"
dtype_t = torch.DoubleTensor
rng = np.random.RandomState(7)

cnn = nn.Sequential(
    nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
    nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
    nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(),
).type(dtype_t)
for p in cnn.parameters():
    p.data = torch.from_numpy(0.3 * rng.randn(*p.shape))
    p.requires_grad = False


def extract_features(x, cnn):
    features = []
    prev_feat = x
    for module in cnn._modules.values():
        next_feat = module(prev_feat)
        features.append(next_feat)
        prev_feat = next_feat
    return features


def content_loss(content_weight, content_current, content_original):
    return content_weight * torch.sum((content_current - content_original) ** 2)


def gram_matrix(features, normalize=True):
    N, C, H, W = features.size()
    feats = features.view(N, C, H * W)
    gram = torch.bmm(feats, feats.transpose(1, 2))
    if normalize:
        gram /= (H * W * C)
    return gram


def style_loss(feats, style_layers, style_targets, style_weights):
    loss = 0
    for i, layer in enumerate(style_layers):
        current = gram_matrix(feats[layer])
        loss += style_weights[i] * torch.sum((current - style_targets[i]) ** 2)
    return loss


def tv_loss(img, tv_weight):
    h_var = torch.sum((img[:, :, 1:, :] - img[:, :, :-1, :]) ** 2)
    w_var = torch.sum((img[:, :, :, 1:] - img[:, :, :, :-1]) ** 2)
    return tv_weight * (h_var + w_var)


content_img = torch.from_numpy(rng.rand(1, 3, 12, 12)).type(dtype_t)
style_img = torch.from_numpy(rng.rand(1, 3, 12, 12)).type(dtype_t)
content_layer, content_weight = 3, 5e-2
style_layers, style_weights = (1, 4, 6), [20000, 500, 12]
tv_weight = 5e-2

feats = extract_features(content_img, cnn)
content_target = feats[content_layer].clone()
feats = extract_features(style_img, cnn)
style_targets = [gram_matrix(feats[idx].clone()) for idx in style_layers]

gram_unnormalized = gram_matrix(feats[1], normalize=False)

img = content_img.clone().type(dtype_t)
img.requires_grad_()
initial_lr, decayed_lr, decay_lr_at = 3.0, 0.1, 6
optimizer = torch.optim.Adam([img], lr=initial_lr)
history = []
for t in range(10):
    if t < 8:
        img.data.clamp_(-1.5, 1.5)
    optimizer.zero_grad()
    feats = extract_features(img, cnn)
    c_loss = content_loss(content_weight, feats[content_layer], content_target)
    s_loss = style_loss(feats, style_layers, style_targets, style_weights)
    t_loss = tv_loss(img, tv_weight)
    loss = c_loss + s_loss + t_loss
    loss.backward()
    if t == decay_lr_at:
        optimizer = torch.optim.Adam([img], lr=decayed_lr)
    optimizer.step()
    history.append([c_loss.item(), s_loss.item(), t_loss.item()])

results = {
    'history': history, 'img': img.detach(), 'gram': style_targets[0], 'gram_unnormalized': gram_unnormalized,
    'feature_shapes': [list(f.shape) for f in feats], 'img_grad': img.grad,
}
