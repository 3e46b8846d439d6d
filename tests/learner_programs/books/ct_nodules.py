# "Deep Learning with PyTorch", part 2 (written for this project): CT chunks (random here) clamped to
# [-1000, 1000] Hounsfield units, augmented by a 3-D affine transform (a flip, an offset, a rotation about the
# z axis, all as a 4x4 matrix built with @=) through F.affine_grid and F.grid_sample with border padding; a
# nodule classifier of Conv3d blocks with a BatchNorm3d tail, its weights initialised the book's way
# (kaiming on .data with mode='fan_out', biases normal in +-1/sqrt(fan_out)) then replaced by repeatable
# numbers; cross-entropy with reduction='none' per sample, metrics collected in a tensor by slices, wrapped in
# DataParallel and unwrapped for saving; then a small U-Net-style segmenter with a dice loss on a bool mask.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(31)
ct_chunks = torch.from_numpy(rng.normal(0, 700, size=(4, 8, 12, 12))).to(torch.float64).unsqueeze(1)
ct_chunks.clamp_(-1000, 1000)
ct_chunks /= 1000
labels = torch.tensor([[not nodule, nodule] for nodule in (True, False, False, True)], dtype=torch.long)


def augment(input_g, flip, offset, angle):
    transform_t = torch.eye(4)
    for i in range(3):
        if flip[i]:
            transform_t[i, i] *= -1
        transform_t[i, 3] = offset[i]
    c, s = math.cos(angle), math.sin(angle)
    rotation_t = torch.tensor([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    transform_t @= rotation_t
    affine_t = F.affine_grid(transform_t[:3].unsqueeze(0).expand(input_g.size(0), -1, -1), input_g.size(),
                             align_corners=False)
    return F.grid_sample(input_g, affine_t, padding_mode="border", align_corners=False)


augmented = augment(ct_chunks, flip=(True, False, False), offset=(0.1, -0.05, 0.0), angle=0.4)


class LunaBlock(nn.Module):
    def __init__(self, in_channels, conv_channels):
        super().__init__()
        self.conv1 = nn.Conv3d(in_channels, conv_channels, kernel_size=3, padding=1, bias=True)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv3d(conv_channels, conv_channels, kernel_size=3, padding=1, bias=True)
        self.relu2 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d(2, 2)

    def forward(self, input_batch):
        block_out = self.relu1(self.conv1(input_batch))
        block_out = self.relu2(self.conv2(block_out))
        return self.maxpool(block_out)


class LunaModel(nn.Module):
    def __init__(self, in_channels=1, conv_channels=4):
        super().__init__()
        self.tail_batchnorm = nn.BatchNorm3d(1)
        self.block1 = LunaBlock(in_channels, conv_channels)
        self.block2 = LunaBlock(conv_channels, conv_channels * 2)
        self.head_linear = nn.Linear(8 * 2 * 3 * 3, 2)
        self.head_softmax = nn.Softmax(dim=1)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if type(m) in {nn.Linear, nn.Conv3d, nn.Conv2d, nn.ConvTranspose2d, nn.ConvTranspose3d}:
                nn.init.kaiming_normal_(m.weight.data, a=0, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(m.weight.data)
                    bound = 1 / math.sqrt(fan_out)
                    nn.init.normal_(m.bias, -bound, bound)

    def forward(self, input_batch):
        bn_output = self.tail_batchnorm(input_batch)
        block_out = self.block2(self.block1(bn_output))
        conv_flat = block_out.view(block_out.size(0), -1)
        linear_output = self.head_linear(conv_flat)
        return linear_output, self.head_softmax(linear_output)


def fill(model, seed):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "batchnorm" not in name:
                p.copy_(torch.from_numpy(numbers.normal(0, 0.2, size=tuple(p.shape))))
    return model


model = fill(LunaModel(), 1)
fan_in_out = nn.init._calculate_fan_in_and_fan_out(model.block1.conv2.weight)
if torch.cuda.device_count() > 1:
    model = nn.DataParallel(model)
model = nn.DataParallel(model)  # what a machine with two GPUs would run
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99)
METRICS_LABEL_NDX, METRICS_PRED_NDX, METRICS_LOSS_NDX = 0, 1, 2
batch_size = 2
history = []
for _ in range(3):
    model.train()
    metrics_g = torch.zeros(3, len(ct_chunks))
    for batch_ndx in range(0, len(ct_chunks), batch_size):
        input_g, label_g = augmented[batch_ndx:batch_ndx + batch_size], labels[batch_ndx:batch_ndx + batch_size]
        optimizer.zero_grad()
        logits_g, probability_g = model(input_g)
        loss_func = nn.CrossEntropyLoss(reduction="none")
        loss_g = loss_func(logits_g, label_g[:, 1])
        start_ndx, end_ndx = batch_ndx, batch_ndx + label_g.size(0)
        metrics_g[METRICS_LABEL_NDX, start_ndx:end_ndx] = label_g[:, 1].detach()
        metrics_g[METRICS_PRED_NDX, start_ndx:end_ndx] = probability_g[:, 1].detach()
        metrics_g[METRICS_LOSS_NDX, start_ndx:end_ndx] = loss_g.detach()
        loss_g.mean().backward()
        optimizer.step()
    metrics_t = metrics_g.to("cpu")
    neg_label_mask = metrics_t[METRICS_LABEL_NDX] <= 0.5
    neg_pred_mask = metrics_t[METRICS_PRED_NDX] <= 0.5
    pos_label_mask, pos_pred_mask = ~neg_label_mask, ~neg_pred_mask
    neg_correct = int((neg_label_mask & neg_pred_mask).sum())
    pos_correct = int((pos_label_mask & pos_pred_mask).sum())
    losses = metrics_t[METRICS_LOSS_NDX]
    history.append([losses.mean().item(), losses[neg_label_mask].mean().item(), neg_correct, pos_correct])
saved = model.module if isinstance(model, nn.DataParallel) else model
state = {"model_state": saved.state_dict(), "epoch": 3}


class UNetUpBlock(nn.Module):
    def __init__(self, in_size, out_size):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_size, out_size, kernel_size=2, stride=2)
        self.conv = nn.Sequential(nn.Conv2d(in_size, out_size, kernel_size=3), nn.ReLU())

    def center_crop(self, layer, target_size):
        _, _, layer_height, layer_width = layer.size()
        diff_y = (layer_height - target_size[0]) // 2
        diff_x = (layer_width - target_size[1]) // 2
        return layer[:, :, diff_y:(diff_y + target_size[0]), diff_x:(diff_x + target_size[1])]

    def forward(self, x, bridge):
        up = self.up(x)
        crop1 = self.center_crop(bridge, up.shape[2:])
        return self.conv(torch.cat([up, crop1], 1))


class SegmentationModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_batchnorm = nn.BatchNorm2d(1)
        self.down = nn.Sequential(nn.Conv2d(1, 4, kernel_size=3), nn.ReLU())
        self.bottom = nn.Sequential(nn.Conv2d(4, 8, kernel_size=3, padding=1), nn.ReLU())
        self.up = UNetUpBlock(8, 4)
        self.last = nn.Conv2d(4, 1, kernel_size=1)
        self.final = nn.Sigmoid()

    def forward(self, input_batch):
        bridge = self.down(self.input_batchnorm(input_batch))
        out = self.bottom(F.max_pool2d(bridge, 2))
        return self.final(self.last(self.up(out, bridge)))


def dice_loss(prediction_g, label_g, epsilon=1):
    dice_label_g = label_g.sum(dim=[1, 2, 3])
    dice_prediction_g = prediction_g.sum(dim=[1, 2, 3])
    dice_correct_g = (prediction_g * label_g).sum(dim=[1, 2, 3])
    dice_ratio_g = (2 * dice_correct_g + epsilon) / (dice_prediction_g + dice_label_g + epsilon)
    return 1 - dice_ratio_g


seg_model = fill(SegmentationModel(), 2)
slices = augmented[:, :, 4]  # the middle slice of each chunk: (N, 1, 12, 12)
masks = slices[:, :, 2:10, 2:10] > 0.2  # the segmenter's output is 8x8
seg_optimizer = torch.optim.Adam(seg_model.parameters(), lr=1e-3)
seg_history = []
for _ in range(3):
    prediction_g = seg_model(slices)
    dice = dice_loss(prediction_g, masks)
    fn_loss = dice_loss(prediction_g * masks, masks)
    loss = dice.mean() + fn_loss.mean() * 8
    seg_optimizer.zero_grad()
    loss.backward()
    seg_optimizer.step()
    with torch.no_grad():
        prediction_bool = (prediction_g[:, 0:1] > 0.5).to(torch.float32)
        tp = (prediction_bool * masks).sum(dim=[1, 2, 3])
        fn = ((1 - prediction_bool) * masks).sum(dim=[1, 2, 3])
        fp = (prediction_bool * (~masks)).sum(dim=[1, 2, 3])
    seg_history.append([loss.item(), tp.tolist(), fn.tolist(), fp.tolist()])

results = {
    "augmented": augmented[0, 0, 2, :3],
    "augmented_sum": augmented.sum().item(),
    "fan_in_out": list(fan_in_out),
    "history": history,
    "state_keys": sorted(state["model_state"])[:5],
    "tail_running_mean": saved.tail_batchnorm.running_mean,
    "seg_history": seg_history,
    "seg_shape": list(prediction_g.shape),
}
