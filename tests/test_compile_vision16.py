"""Vision training steps inside ``gg.compile``: convolutions, pooling, resizes, norms, augmentations written with
glassgrad ops and segmentation losses, each trained for several calls eagerly and compiled from one seed. The two
captures meet the same batch; the calls after them get other batches of that shape whose values take other paths
(ties in max pooling, zeros, negatives, NaN, inf). Every returned value, weight, ``.grad`` and optimizer state equals
eager's bit for bit, or the step runs eagerly saying why.

Fixed here (failed on ae26aeb), both conservative refusals (the step ran eagerly, saying why, where a replay could
follow):

* max pooling's ``return_indices`` (``MaxPool1d/2d/3d``, ``AdaptiveMaxPool``) worked its positions out in Python, so
  a step pooling with indices (a SegNet-style ``MaxUnpool2d`` decoder) always ran eagerly; the positions are now one
  kernel of the step, found at each call.
* ``F.grid_sample`` (a spatial transformer) worked out which pixels to read in Python from the grid's values; each
  array it works out is now a kernel of the step, and a replay reads each call's pixels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

nn = gg.nn
F = nn.functional
CALLS = 9


def _flat(value):
    if isinstance(value, gg.Tensor):
        return [value.detach().numpy().copy()]
    if isinstance(value, (list, tuple)):
        return [array for part in value for array in _flat(part)]
    if isinstance(value, dict):
        return [array for key in sorted(value, key=str) for array in _flat(value[key])]
    return [] if value is None else [np.asarray(value)]


def _special(call: int, x: np.ndarray) -> np.ndarray:
    """The batch of a call after the captures: ties, zeros, negatives, a constant image, NaN, inf."""
    changes = {3: np.round, 4: np.zeros_like, 5: lambda a: -np.abs(a), 6: lambda a: np.ones_like(a) * 0.5}
    x = changes.get(call, lambda a: a)(x)
    if call == 7:
        x.flat[2] = np.nan
    if call == 8:
        x.flat[5] = np.inf
    return x.astype(np.float32)


def _batches(shape: tuple, classes: int = 3) -> list:
    rng = np.random.default_rng(1)
    first, labels = rng.standard_normal(shape), rng.integers(0, classes, shape[0])
    batches = []
    for call in range(CALLS):
        x = first.copy() if call < 2 else _special(call, rng.standard_normal(shape))  # the captures: one batch
        batches.append((gg.tensor(x.astype(np.float32)), gg.tensor(labels if call < 2 else
                                                                    rng.integers(0, classes, shape[0]))))
    return batches


def _run(make, batches, compiled: bool):
    gg.manual_seed(0)
    step, state = make()
    run = gg.compile(step) if compiled else step
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen = [_flat(run(*batch)) for batch in batches]
    replays = sum(entry.replays for entry in run.entries.values()) if compiled else 0
    return seen, _flat(state()), replays, [str(w.message) for w in caught if "gg.compile" in str(w.message)]


def _agree(make, batches):
    """Eager and compiled runs equal bit for bit (NaN where NaN); gives the compiled run's replays and warnings."""
    eager, eager_state, _, _ = _run(make, batches, False)
    compiled, compiled_state, replays, messages = _run(make, batches, True)
    for call, (mine, theirs) in enumerate(zip(compiled, eager, strict=True)):
        assert len(mine) == len(theirs), call
        for a, b in zip(mine, theirs):
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), call
    for a, b in zip(compiled_state, eager_state, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    return replays, messages


def _replayed(make, batches):
    replays, messages = _agree(make, batches)
    assert replays == len(batches) - 2 and not messages, messages


def _weights(out: gg.Tensor) -> gg.Tensor:
    return gg.arange(out.numel(), dtype=out.dtype).reshape(out.shape).cos()


def _training(build, body=None, optimizer=gg.optim.SGD, **settings):
    """A step training ``build()`` with ``optimizer``: ``body(model, x, y)`` gives the loss and what else it returns."""
    def make():
        model = build()
        opt = optimizer(model.parameters(), lr=0.05, **settings)

        def step(x, y):
            opt.zero_grad()
            result = body(model, x, y) if body else ((model(x).square() * _weights(model(x))).sum(),)
            result[0].backward()
            opt.step()
            return result
        return step, lambda: (list(model.parameters()), list(model.buffers()), [p.grad for p in model.parameters()],
                              opt.state_dict())
    return make


def _conv(*layers, out=2):
    """A 1×1 convolution of the 2 channels, then ``layers``."""
    return nn.Sequential(nn.Conv2d(2, out, 1), *layers)


class _SegNet(nn.Module):
    """SegNet's encoder–decoder: pool with indices, unpool at them."""

    def __init__(self, dims: int = 2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.pool, self.unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)

    def forward(self, x):
        y, where = self.pool(self.conv(x))
        return self.unpool(y, where, output_size=x.shape[-2:]), where


def _segnet(model, x, y):
    out, where = model(x)
    return (out.square() * _weights(out)).sum() + F.cross_entropy(out.mean((2, 3)), y % 2), where, out


def _pool_with_indices(pool):
    def body(model, x, y):
        out, where = pool(model(x))
        return (out * _weights(out)).sum(), where, out
    return body


@pytest.mark.parametrize("name, body", [
    ("segnet", _segnet),
    ("max_pool2d ceil, padding", _pool_with_indices(lambda h: F.max_pool2d(h, 3, 2, padding=1, ceil_mode=True,
                                                                           return_indices=True))),
    ("max_pool1d, max_unpool1d", _pool_with_indices(lambda h: (lambda o, i: (F.max_unpool1d(o, i, 3, 2), i))(
        *F.max_pool1d(h.flatten(2), 3, 2, return_indices=True)))),
    ("max_pool3d", _pool_with_indices(lambda h: F.max_pool3d(h[:, None], 2, return_indices=True))),
    ("adaptive_max_pool2d", _pool_with_indices(lambda h: F.adaptive_max_pool2d(h, (2, 3), return_indices=True))),
    ("adaptive_max_pool1d", _pool_with_indices(lambda h: F.adaptive_max_pool1d(h.flatten(2), 5,
                                                                               return_indices=True))),
])
def test_max_pooling_with_indices_replays_finding_each_calls_positions(name, body):
    """Fixed: the positions were worked out in Python, so the step ran eagerly (a conservative refusal); they are a
    kernel of the step now, and a later batch's ties, zeros and NaN pick eager's positions."""
    build = _SegNet if name == "segnet" else (lambda: nn.Conv2d(1, 2, 3, padding=1))
    _replayed(_training(build, body, momentum=0.9), _batches((2, 1, 6, 6)))


LAYERS = {
    "conv2d groups, dilation": lambda: nn.Conv2d(2, 4, 3, groups=2, dilation=2, padding=2),
    "conv2d reflect": lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
    "conv2d replicate": lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="replicate"),
    "conv2d circular, same": lambda: nn.Conv2d(2, 3, 4, padding="same", padding_mode="circular"),
    "conv1d stride, groups": lambda: nn.Sequential(nn.Flatten(2), nn.Conv1d(2, 4, 3, stride=2, groups=2)),
    "conv3d": lambda: nn.Sequential(nn.Unflatten(1, (1, 2)), nn.Conv3d(1, 2, 2, padding=1)),
    "conv transpose groups, output_padding": lambda: nn.ConvTranspose2d(2, 4, 3, stride=2, groups=2, padding=1,
                                                                        output_padding=1),
    "max pool ceil, padding": lambda: _conv(nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)),
    "avg pool count_include_pad=False, ceil": lambda: _conv(nn.AvgPool2d(3, 2, padding=1, ceil_mode=True,
                                                                         count_include_pad=False)),
    "adaptive avg, adaptive max": lambda: _conv(nn.AdaptiveAvgPool2d((5, 4)), nn.AdaptiveMaxPool2d((3, 2))),
    "lp pool": lambda: _conv(nn.LPPool2d(2, 2)),
    "upsample nearest 1.5": lambda: _conv(nn.Upsample(scale_factor=1.5)),
    "upsample bilinear align_corners": lambda: _conv(nn.Upsample(size=(7, 5), mode="bilinear",
                                                                 align_corners=True)),
    "upsample bicubic": lambda: _conv(nn.Upsample(scale_factor=1.7, mode="bicubic")),
    "pixel shuffle, unshuffle": lambda: _conv(nn.PixelShuffle(2), nn.PixelUnshuffle(2), out=4),
    "batchnorm2d": lambda: _conv(nn.BatchNorm2d(2)),
    "groupnorm": lambda: _conv(nn.GroupNorm(2, 4), out=4),
    "instancenorm running stats": lambda: _conv(nn.InstanceNorm2d(2, affine=True, track_running_stats=True)),
    "layernorm over images": lambda: _conv(nn.LayerNorm([2, 6, 6])),
    "dropout2d": lambda: _conv(nn.Dropout2d(0.5)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_vision_layer_training_step_equals_eager(name):
    """Pinned: each layer trained with momentum; a later batch's ties, zeros, NaN and inf give eager's numbers."""
    _replayed(_training(LAYERS[name], momentum=0.9), _batches((3, 2, 6, 6)))


class _Residual(nn.Module):
    """A ResNet basic block with ``inplace=True`` ReLUs, ``y += x`` and global average pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 2, 1)
        self.conv1, self.norm1 = nn.Conv2d(2, 2, 3, padding=1, bias=False), nn.BatchNorm2d(2)
        self.conv2, self.norm2 = nn.Conv2d(2, 2, 3, padding=1, bias=False), nn.BatchNorm2d(2)
        self.relu, self.fc = nn.ReLU(inplace=True), nn.Linear(2, 3)

    def forward(self, x):
        x = self.stem(x)
        y = self.norm2(self.conv2(self.relu(self.norm1(self.conv1(x)))))
        y += x
        return self.fc(F.relu(y, inplace=True).mean((2, 3)))


def _flip(model, x, y):
    x = gg.where((gg.rand(x.shape[0]) < 0.5)[:, None, None, None], x.flip(3), x)
    return F.cross_entropy(model(x).mean((2, 3)), y), x


def _mixup(model, x, y):
    lam = gg.distributions.Beta(gg.tensor(0.4), gg.tensor(0.4)).sample()
    perm = gg.randperm(x.shape[0])
    out = model(lam * x + (1 - lam) * x[perm]).mean((2, 3))
    return lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[perm]), lam


def _cutmix(model, x, y):
    lam = gg.distributions.Beta(gg.tensor(1.0), gg.tensor(1.0)).sample()
    side, rows = (1 - lam).sqrt() * x.shape[2], gg.arange(x.shape[2])
    cy, cx = gg.randint(0, x.shape[2], ()), gg.randint(0, x.shape[3], ())
    box = ((rows[:, None] - cy).abs() < side / 2) & ((rows[None, :] - cx).abs() < side / 2)
    kept = 1 - box.float().mean()
    out = model(gg.where(box, x.flip(0), x)).mean((2, 3))
    return kept * F.cross_entropy(out, y) + (1 - kept) * F.cross_entropy(out, y.flip(0)), box


def _smoothed(model, x, y):
    out = model(x).mean((2, 3))
    target = F.one_hot(y, 3).float() * 0.9 + 0.1 / 3
    return -(target * out.log_softmax(-1)).sum(-1).mean() + F.cross_entropy(out, y, label_smoothing=0.1), out


def _segmentation(model, x, y):
    """Per-pixel labels made from the image, 255 (ignored) where it is near 0; class weights."""
    labels = (x[:, 0] > 0).long() + (x[:, 0] > 1).long()
    labels = gg.where(x[:, 0].abs() < 0.1, gg.full_like(labels, 255), labels)
    return F.cross_entropy(model(x), labels, ignore_index=255, weight=gg.tensor([1.0, 2.0, 0.5])), labels


def _all_ignored(model, x, y):
    """A batch whose every pixel is ignored (the zeros): eager's NaN mean."""
    labels = gg.where(x[:, 0] >= 0, gg.full_like(x[:, 0], 255).long(), (x[:, 0] < -1).long())
    return F.cross_entropy(model(x), labels, ignore_index=255), labels


def _bytes(model, x, y):
    image = ((x.clamp(-2, 2) + 2) * 60).to(gg.uint8)
    return F.cross_entropy(model((image.float() / 255 - 0.5) / 0.25).mean((2, 3)), y), image


def _ties(model, x, y):
    out = model(x)
    best = out.max(1)
    return (out.amax((2, 3)).sum() + F.cross_entropy(out.mean((2, 3)), y), out.flatten(1).argmax(1), best.indices,
            F.normalize(out, dim=1).clamp(-0.5, 0.7), (out.argmax(1) == y[:, None, None]).float().mean())


def _dropouts(model, x, y):
    out = F.dropout(F.dropout2d(model(x), 0.5, training=True), 0.3)
    return (out * _weights(out)).sum(), out


STEPS = {"flip by gg.rand": _flip, "mixup Beta": _mixup, "cutmix box from values": _cutmix,
         "one_hot label smoothing": _smoothed, "segmentation ignore_index, weights": _segmentation,
         "segmentation every pixel ignored": _all_ignored, "uint8 image / 255": _bytes,
         "ties: argmax, max, normalize": _ties, "dropout2d, dropout": _dropouts}


@pytest.mark.parametrize("name", list(STEPS))
def test_augmentation_and_loss_steps_equal_eager(name):
    """Pinned: draws, masks and labels made from the batch inside the step are kernels: each call's own."""
    build = lambda: nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU())  # noqa: E731
    _replayed(_training(build, STEPS[name], momentum=0.9), _batches((4, 1, 6, 6)))


def test_resnet_block_inplace_relus_with_adam_equals_eager():
    def body(model, x, y):
        out = model(x)
        return F.cross_entropy(out, y), out
    _replayed(_training(_Residual, body, optimizer=gg.optim.Adam), _batches((3, 1, 6, 6)))


def test_random_crop_reading_item_runs_eagerly_saying_why():
    """Pinned: ``x[:, :, i:i + 4]`` with ``i = gg.randint(...).item()`` reads a number in Python."""
    def crop(model, x, y):
        i, j = gg.randint(0, 3, ()).item(), gg.randint(0, 3, (1,)).item()
        return F.cross_entropy(model(x[:, :, i:i + 4, j:j + 4]).mean((2, 3)), y), x[:, :, i:i + 4, j:j + 4]
    replays, messages = _agree(_training(lambda: nn.Conv2d(1, 3, 3), crop), _batches((2, 1, 6, 6)))
    assert replays == 0 and any(".item()" in message for message in messages), messages


class _Transformer(nn.Module):
    """A spatial transformer: θ from a linear layer, its affine grid, moved by the image, then sampled."""

    def __init__(self, mode: str, padding_mode: str, align_corners: bool) -> None:
        super().__init__()
        self.theta, self.settings = nn.Linear(36, 6), (mode, padding_mode, align_corners)

    def forward(self, x):
        mode, padding_mode, aligned = self.settings
        theta = self.theta(x.flatten(1)).view(-1, 2, 3) * 3 + gg.tensor([[1.0, 0, 0], [0, 1.0, 0]])
        grid = F.affine_grid(theta, list(x.shape), align_corners=aligned)
        grid = grid + x.flatten().repeat(2)[:grid.numel()].reshape(grid.shape) * 0.3
        return F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=aligned)


@pytest.mark.parametrize("mode, padding_mode, align_corners", [
    ("bilinear", "zeros", False), ("bilinear", "reflection", True), ("nearest", "border", False),
    ("nearest", "reflection", False), ("bicubic", "border", True), ("bicubic", "reflection", False)])
def test_spatial_transformer_replays_reading_each_calls_grid(mode, padding_mode, align_corners):
    """Fixed: grid_sample worked out which pixels to read (floors, clips, reflections, flat positions) in Python, so
    a step sampling ran eagerly (a conservative refusal); each is now a kernel of the step, and a later batch's grid
    (NaN, inf, far outside) reads eager's pixels."""
    _replayed(_training(lambda: _Transformer(mode, padding_mode, align_corners)), _batches((2, 1, 6, 6)))


def test_compiled_model_switching_train_and_eval_equals_eager():
    """``gg.compile(model)`` with BatchNorm, Dropout2d and max pooling with indices, a pass in eval() after each
    training step: the same numbers as the model run eagerly, without a warning."""
    def run(compiled: bool):
        gg.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.Dropout2d(0.3), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 3))
        forward = gg.compile(model) if compiled else model
        opt = gg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        seen = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for x, y in _batches((2, 1, 6, 6)):
                model.train()
                opt.zero_grad()
                loss = F.cross_entropy(forward(x), y)
                loss.backward()
                opt.step()
                model.eval()
                with gg.no_grad():
                    seen.append(_flat((loss, forward(x.flip(3)))))
        return seen, _flat((list(model.parameters()), list(model.buffers()), opt.state_dict())), caught

    (eager, eager_state, _), (compiled, compiled_state, caught) = run(False), run(True)
    assert not [str(w.message) for w in caught if "gg.compile" in str(w.message)]
    for mine, theirs in zip([*compiled, compiled_state], [*eager, eager_state], strict=True):
        assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(mine, theirs, strict=True))


@pytest.mark.parametrize("build", [lambda: _Transformer("bicubic", "reflection", False),
                                   lambda: _Transformer("nearest", "zeros", True), _SegNet],
                         ids=["spatial transformer bicubic", "spatial transformer nearest", "segnet"])
def test_compiled_model_with_backward_outside_equals_eager(build):
    """``gg.compile(model)``, its backward and Adam's step outside: fixed as the steps above (it ran eagerly)."""
    def run(compiled: bool):
        gg.manual_seed(0)
        model = build()
        forward = gg.compile(model) if compiled else model
        opt = gg.optim.Adam(model.parameters(), lr=0.01)
        seen = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for x, _ in _batches((2, 1, 6, 6)):
                opt.zero_grad()
                out = forward(x)
                out = out[0] if isinstance(out, tuple) else out
                loss = (out.square() * _weights(out)).sum()
                loss.backward()
                opt.step()
                seen.append(_flat((loss, out, [p.grad for p in model.parameters()])))
        messages = [str(w.message) for w in caught if "gg.compile" in str(w.message)]
        return seen + [_flat(list(model.parameters()))], messages

    (eager, _), (compiled, messages) = run(False), run(True)
    assert not messages, messages
    for mine, theirs in zip(compiled, eager, strict=True):
        assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(mine, theirs, strict=True))
