# A vision course's saliency/Grad-CAM notebook style (written for this project): guided backpropagation by a custom
# torch.autograd.Function replacing each ReLU (ctx.save_for_backward, the gradient zeroed where the input or the
# upstream gradient is negative), Grad-CAM from a forward hook keeping the last conv's activations and a full
# backward hook keeping their gradient (weights = gradient averaged over space, cam = relu(sum(w * A)), upsampled with
# F.interpolate(mode='bilinear')), a tensor hook through register_hook, and the hooks removed afterwards. In float64.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(17)


class GuidedReluFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        grad_input[grad_output < 0] = 0
        return grad_input


class GuidedReLU(nn.Module):
    def forward(self, x):
        return GuidedReluFunction.apply(x)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 5, 3, padding=1), nn.ReLU(),
            nn.Conv2d(5, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 7, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(7, 4)

    def forward(self, x):
        x = self.features(x)
        return self.fc(self.pool(x).view(x.size(0), -1))


def build_model():
    model = SmallCNN()
    state = {k: torch.from_numpy(0.5 * rng.randn(*v.shape)) for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    return model


model = build_model()
model.eval()
X = torch.from_numpy(rng.randn(2, 3, 8, 8))
y = torch.tensor([1, 3])

# guided backprop: swap every ReLU for the guided one
guided_model = build_model()
guided_model.load_state_dict(model.state_dict())
for idx, module in guided_model.features._modules.items():
    if module.__class__.__name__ == 'ReLU':
        guided_model.features._modules[idx] = GuidedReLU()
X_guided = X.clone().requires_grad_(True)
scores = guided_model(X_guided)
guided_model.zero_grad()
scores.gather(1, y.view(-1, 1)).sum().backward()
guided = X_guided.grad.clone()
guided_image = guided.permute(0, 2, 3, 1)
guided_image = (guided_image - guided_image.min()) / (guided_image.max() - guided_image.min())

# Grad-CAM with hooks on the last conv layer
stored = {}


def forward_hook(module, inputs, output):
    stored['activations'] = output.detach()


def backward_hook(module, grad_input, grad_output):
    stored['gradients'] = grad_output[0].detach()


target_layer = model.features[5]
handles = [target_layer.register_forward_hook(forward_hook),
           target_layer.register_full_backward_hook(backward_hook)]
X_cam = X.clone().requires_grad_()
scores = model(X_cam)
model.zero_grad()
one_hot = torch.zeros_like(scores)
one_hot.scatter_(1, y.unsqueeze(1), 1.0)
scores.backward(gradient=one_hot)
for handle in handles:
    handle.remove()
weights = stored['gradients'].mean(dim=(2, 3), keepdim=True)
cam = F.relu(torch.sum(weights * stored['activations'], dim=1, keepdim=True))
cam_up = F.interpolate(cam, size=X.shape[2:], mode='bilinear', align_corners=False)
cam_min = cam_up.view(2, -1).min(dim=1)[0].view(2, 1, 1, 1)
cam_max = cam_up.view(2, -1).max(dim=1)[0].view(2, 1, 1, 1)
cam_normalized = (cam_up - cam_min) / (cam_max - cam_min + 1e-8)
guided_gradcam = guided * cam_normalized

# after removal the hooks no longer fire
stored.clear()
model(X)
hooks_removed = 'activations' not in stored

# a tensor hook scaling the gradient on its way back
seen = []
X_hook = X.clone().requires_grad_()
hidden = model.features(X_hook)
hidden.register_hook(lambda grad: seen.append(grad.abs().sum().item()) or grad * 2)
model.fc(model.pool(hidden).flatten(1))[:, 0].sum().backward()

results = {
    'scores': scores.detach(), 'guided': guided, 'guided_image_mean': guided_image.mean().item(),
    'cam': cam.squeeze(1), 'cam_up': cam_up, 'guided_gradcam': guided_gradcam, 'hooks_removed': hooks_removed,
    'hook_seen': seen, 'hooked_input_grad': X_hook.grad, 'x_cam_grad': X_cam.grad,
}
