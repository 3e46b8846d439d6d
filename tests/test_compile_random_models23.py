"""Random training programs through ``gg.compile``: a model, a loss, an optimizer and a loop drawn at random, run
eagerly and compiled over nine calls, every number bit for bit the same.

``test_compile_random_programs.py`` draws op sequences; this file draws what a user writes: a stack of layers
(linear, convolutions with pooling and a flatten, batch/layer/group norms, dropout, activations, an embedding of
integer tokens, an LSTM or GRU, self-attention, a residual block around shape-keeping layers) with shapes that fit,
a loss (MSE, cross-entropy with label smoothing or an ignored class, BCE with logits, L1, smooth L1, NLL after
``log_softmax``), an optimizer (SGD with momentum, Nesterov or weight decay, Adam/AdamW with AMSGrad, RMSprop
centered, Adagrad), sometimes a scheduler stepped inside the step or after it and ``clip_grad_norm_``, float32 or
float64, and one of two loop shapes: the whole step compiled, or the model compiled with the loss, ``backward()`` and
the step eager. Some calls switch to ``eval()`` for a validation pass under ``no_grad``; the last batch is shorter
(a new key, captured again). The first two calls get the same batch (the captures agree), the next ones others.
Around that: gradient accumulation, a loss scaled and its gradients unscaled by hand, ``zero_grad(set_to_none=False)``,
a layer frozen and unfrozen (by ``requires_grad_`` or ``add_param_group``), a checkpoint restored, the optimizer's
state cleared, a layer called twice (tied weights), an averaged copy (EMA by hand, SWA), L-BFGS with its closure.
Each call's loss, every parameter, ``.grad``, buffer (running statistics) and the optimizer's ``state_dict`` are
compared with eager's bit for bit. And the programs must replay (a test where nothing replays tests nothing): each
runs with no warning and replays at least once, unless it holds one of the refusals :func:`_refused` names (then
each warning must say that), or so many events that capture again that nine calls may end before a replay.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

nn = gg.nn
F = nn.functional
BATCH, SHORT, CLASSES, CALLS = 4, 3, 3, 9
WIDTH, CHANNELS, LENGTH, SIDE, TOKENS, STEPS, VOCAB = 6, 4, 8, 6, 5, 5, 7

# Layers each input family may stack; each keeps the family's layout (the convolutions' kernel 3 with padding 1, the
# pools halve a length only while it stays even), so any sequence of them fits.
VECTOR = ["linear", "weight norm", "spectral norm", "parametrized spectral norm", "pruned", "prelu", "elu", "mish",
          "hardswish", "softplus", "batchnorm", "batchnorm cumulative", "batchnorm plain", "layernorm", "groupnorm",
          "rmsnorm", "dropout", "alpha dropout", "relu", "gelu", "tanh", "silu", "leaky", "softmax"]
IMAGE = ["conv", "conv reflect", "conv circular", "conv grouped", "conv spectral", "adaptive pool", "prelu",
         "batchnorm", "batchnorm cumulative", "batchnorm plain", "groupnorm", "instancenorm", "maxpool", "avgpool",
         "dropout", "channel dropout", "relu", "gelu", "tanh", "silu", "leaky"]
SEQUENCE = ["linear", "encoder", "encoder prenorm", "lstm projected", "layernorm", "rmsnorm", "lstm", "lstm deep",
            "gru", "gru bidirectional", "attention", "attention causal", "attention padded", "dropout", "relu", "gelu",
            "tanh", "silu"]
LOSSES = ["mse", "cross entropy", "cross entropy smoothed", "cross entropy ignoring", "cross entropy all", "bce", "l1",
          "smooth l1", "nll", "soft targets", "kl", "huber sum", "bce weighted"]
INTEGER_TARGETS = ["cross entropy", "cross entropy smoothed", "cross entropy ignoring", "cross entropy all", "nll"]
OPTIMIZERS = ["sgd", "momentum", "nesterov", "sgd decay", "adam", "adam amsgrad", "adamw", "adamw amsgrad", "rmsprop",
              "rmsprop centered", "adagrad", "radam", "nadam", "adamax", "adadelta", "asgd", "rprop", "adam maximize",
              "groups", "adafactor", "lbfgs", "adam tensor lr"]
SCHEDULERS = [None, "step", "onecycle", "restarts", "lambda", "warmup", "sequential", "plateau"]


def _layers(family):
    kinds = {"vector": VECTOR, "image1d": IMAGE, "image2d": IMAGE, "tokens": SEQUENCE, "sequence": SEQUENCE}[family]
    return st.lists(st.tuples(st.sampled_from(kinds), st.booleans()), min_size=1, max_size=5)


PROGRAMS = st.fixed_dictionaries({
    "family": st.sampled_from(["vector", "image1d", "image2d", "tokens", "sequence"]),
    "loss": st.sampled_from(LOSSES),
    "optimizer": st.sampled_from(OPTIMIZERS),
    "scheduler": st.sampled_from(SCHEDULERS),
    "scheduler inside": st.booleans(),
    "embedding": st.sampled_from(["plain", "padding", "max norm", "by frequency"]),
    "accumulate": st.booleans(),
    "log": st.sampled_from([False, False, False, True]),  # loss.item() inside the step: it runs eagerly
    "freeze": st.booleans(),
    "short at": st.sampled_from([None, 4, 6]),
    "restore": st.sampled_from([None, "model", "optimizer", "both"]),  # a checkpoint saved at call 2, loaded at 5
    "unfreeze at": st.sampled_from([None, 3, 5]),
    "unfreeze by": st.sampled_from(["requires_grad_", "add_param_group"]),
    "reset state at": st.sampled_from([None, 4]),  # optimizer.state.clear(), as after a warm restart
    "accuracy": st.booleans(),  # also returned: the batch's accuracy, under no_grad
    "norms frozen": st.booleans(),  # the norm layers' running statistics frozen by their eval()
    "shared": st.booleans(),  # the first layer called again at the end (tied weights, unrolled blocks)
    "data": st.sampled_from(["fresh", "slices"]),  # new tensors, or slices (views) of one dataset tensor
    "augment": st.sampled_from([None, "noise", "in place"]),  # x + noise, or x.mul_(…) on the batch itself
    "average": st.sampled_from([None, "ema by hand", "swa"]),  # an averaged copy updated after each update
    "validate with": st.sampled_from(["no_grad", "inference_mode", "grad"]),
    "zeros": st.booleans(),  # zero_grad(set_to_none=False)
    "clip value": st.booleans(),
    "scale": st.sampled_from([None, 8.0]),  # the loss scaled, the gradients unscaled before the update
    "clip": st.booleans(),
    "shape": st.sampled_from(["whole step", "model", "both"]),
    "double": st.booleans(),
    "validate at": st.sets(st.integers(2, CALLS - 2), max_size=2),
    "sequential": st.booleans(),
}).flatmap(lambda program: _layers(program["family"]).map(lambda layers: {**program, "layers": layers}))


class _Net(nn.Module):
    """The drawn layers in order; a layer drawn ``residual`` adds its input back (where it keeps its input's shape)."""

    def __init__(self, program, layers):
        super().__init__()
        family = program["family"]
        embedding = {"plain": {}, "padding": {"padding_idx": 0}, "max norm": {"max_norm": 1.0},
                     "by frequency": {"scale_grad_by_freq": True}}[program["embedding"]]
        self.embed = nn.Embedding(VOCAB, WIDTH, **embedding) if family == "tokens" else None
        self.blocks = nn.ModuleList(layer for layer, _ in layers)
        self.residual = [residual for _, residual in layers]
        self.head = nn.Linear(_flat(family, [layer for layer, _ in layers]), CLASSES)

    def forward(self, x):
        padded = None
        if self.embed is not None:
            padded = x == 0
            x = self.embed(x)
        for block, residual in zip(self.blocks, self.residual, strict=True):
            out = _apply(block, x, padded)
            x = x + out if residual and out.shape == x.shape else out
        return self.head(x.flatten(1))


class _Attention(nn.MultiheadAttention):
    """Self-attention, causal or with the padding tokens masked, as drawn."""

    def __init__(self, mask):
        super().__init__(WIDTH, 2, batch_first=True)
        self.mask = mask


def _apply(block, x, padded):
    if isinstance(block, (nn.LSTM, nn.GRU)):
        return block(x)[0]
    if isinstance(block, _Attention):
        if block.mask == "causal":
            steps = x.shape[1]
            mask = gg.triu(gg.ones(steps, steps, dtype=gg.bool), 1)
            return block(x, x, x, attn_mask=mask, need_weights=False)[0]
        if block.mask == "padded" and padded is not None:
            keep_one = padded.clone()
            keep_one[:, 0] = False  # a row with every key masked gives NaNs, in PyTorch too
            return block(x, x, x, key_padding_mask=keep_one, need_weights=False)[0]
        return block(x, x, x)[0]
    return block(x)


def _layer(kind, family, length):
    """One layer of ``kind`` for ``family``; ``length``: the image's current side (the pools halve it)."""
    two = family == "image2d"
    feature = CHANNELS if family.startswith("image") else WIDTH
    batchnorm = nn.BatchNorm2d if two else nn.BatchNorm1d
    if kind == "linear":
        return nn.Linear(WIDTH, WIDTH)
    conv = nn.Conv2d if two else nn.Conv1d
    if kind == "conv":
        return conv(CHANNELS, CHANNELS, 3, padding=1)
    if kind in ("conv reflect", "conv circular"):
        return conv(CHANNELS, CHANNELS, 3, padding=1, padding_mode=kind.split()[1])
    if kind == "conv grouped":
        return conv(CHANNELS, CHANNELS, 3, padding=2, dilation=2, groups=2)
    if kind == "conv spectral":
        return nn.utils.spectral_norm(conv(CHANNELS, CHANNELS, 3, padding=1))
    if kind == "adaptive pool":
        return (nn.AdaptiveAvgPool2d if two else nn.AdaptiveAvgPool1d)(length)
    if kind == "weight norm":
        return nn.utils.parametrizations.weight_norm(nn.Linear(WIDTH, WIDTH))
    if kind == "spectral norm":
        return nn.utils.spectral_norm(nn.Linear(WIDTH, WIDTH))
    if kind == "parametrized spectral norm":
        return nn.utils.parametrizations.spectral_norm(nn.Linear(WIDTH, WIDTH))
    if kind == "pruned":
        return nn.utils.prune.l1_unstructured(nn.Linear(WIDTH, WIDTH), "weight", amount=0.3)
    if kind == "prelu":
        return nn.PReLU(feature)
    if kind in ("encoder", "encoder prenorm"):
        return nn.TransformerEncoderLayer(WIDTH, 2, 12, dropout=0.1, batch_first=True, norm_first=kind != "encoder")
    if kind == "lstm projected":
        return nn.LSTM(WIDTH, 8, proj_size=WIDTH, batch_first=True)
    if kind.startswith("batchnorm"):
        settings = {"batchnorm": {}, "batchnorm cumulative": {"momentum": None},
                    "batchnorm plain": {"affine": False, "track_running_stats": False}}[kind]
        return batchnorm(feature, **settings)
    if kind == "instancenorm":
        return (nn.InstanceNorm2d if two else nn.InstanceNorm1d)(feature, affine=True, track_running_stats=True)
    if kind == "layernorm":
        return nn.LayerNorm(WIDTH)
    if kind == "rmsnorm":
        return nn.RMSNorm(WIDTH)
    if kind == "groupnorm":
        return nn.GroupNorm(2, feature)
    if kind in ("maxpool", "avgpool"):
        if length % 2:
            return nn.Identity()
        pool = {"maxpool": (nn.MaxPool1d, nn.MaxPool2d), "avgpool": (nn.AvgPool1d, nn.AvgPool2d)}[kind][two]
        return pool(2)
    if kind == "dropout":
        return nn.Dropout(0.25)
    if kind == "alpha dropout":
        return nn.AlphaDropout(0.2)
    if kind == "channel dropout":
        return (nn.Dropout2d if two else nn.Dropout1d)(0.25)
    if kind == "lstm":
        return nn.LSTM(WIDTH, WIDTH, batch_first=True)
    if kind == "lstm deep":
        return nn.LSTM(WIDTH, WIDTH, num_layers=2, dropout=0.2, batch_first=True)
    if kind == "gru":
        return nn.GRU(WIDTH, WIDTH, batch_first=True)
    if kind == "gru bidirectional":
        return nn.GRU(WIDTH, WIDTH // 2, batch_first=True, bidirectional=True)
    if kind.startswith("attention"):
        return _Attention(kind.removeprefix("attention").strip())
    return {"elu": nn.ELU, "mish": nn.Mish, "hardswish": nn.Hardswish, "softplus": lambda: nn.Softplus(2.0),
            "relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU, "leaky": lambda: nn.LeakyReLU(0.1),
            "softmax": lambda: nn.Softmax(-1)}[kind]()


def _build(family, kinds):
    """The layers for ``kinds`` (each a kind and whether it is residual), pools halving the side they see."""
    length = SIDE if family == "image2d" else LENGTH
    built = []
    for kind, residual in kinds:
        layer = _layer(kind, family, length)
        if isinstance(layer, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)):
            length //= 2
        built.append((layer, residual))
    return built


def _flat(family, layers):
    length = SIDE if family == "image2d" else LENGTH
    for layer in layers:
        if isinstance(layer, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)):
            length //= 2
    return {"vector": WIDTH, "image1d": CHANNELS * length, "image2d": CHANNELS * length * length,
            "tokens": TOKENS * WIDTH, "sequence": STEPS * WIDTH}[family]


def _model(program):
    family = program["family"]
    layers = _build(family, program["layers"])
    first = layers[0][0]
    if program["shared"] and not isinstance(first, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
                                                    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)):
        layers.append(layers[0])
    if program["sequential"] and family in ("vector", "image1d", "image2d"):
        plain = [layer for layer, _ in layers]
        return nn.Sequential(*plain, nn.Flatten(), nn.Linear(_flat(family, plain), CLASSES))
    return _Net(program, layers)


def _loss(name):
    return {"mse": nn.MSELoss(), "cross entropy": nn.CrossEntropyLoss(),
            "cross entropy smoothed": nn.CrossEntropyLoss(label_smoothing=0.1),
            "cross entropy ignoring": nn.CrossEntropyLoss(ignore_index=1), "bce": nn.BCEWithLogitsLoss(),
            "l1": nn.L1Loss(), "smooth l1": nn.SmoothL1Loss(beta=0.5),
            "nll": lambda out, y: F.nll_loss(F.log_softmax(out, 1), y),
            "cross entropy all": nn.CrossEntropyLoss(weight=gg.tensor([1.0, 2.0, 0.5]), ignore_index=2,
                                                     label_smoothing=0.2),
            "soft targets": lambda out, y: F.cross_entropy(out, y.softmax(1)),
            "kl": lambda out, y: F.kl_div(F.log_softmax(out, 1), F.log_softmax(y, 1), reduction="batchmean",
                                          log_target=True),
            "huber sum": nn.HuberLoss(reduction="sum", delta=0.3),
            "bce weighted": nn.BCEWithLogitsLoss(pos_weight=gg.tensor([1.0, 3.0, 0.5]))}[name]


def _optimizer(name, model, adding):
    o = gg.optim
    p = [q for q in model.parameters() if q.requires_grad or not adding]
    if name == "groups":  # the head learns faster, without weight decay
        head = list(model[-1].parameters() if isinstance(model, nn.Sequential) else model.head.parameters())
        rest = [q for q in p if all(q is not h for h in head)]
        return o.AdamW([{"params": rest}, {"params": head, "lr": 3e-2, "weight_decay": 0.0}], lr=1e-2)
    return {"sgd": lambda: o.SGD(p, lr=0.05), "momentum": lambda: o.SGD(p, lr=0.05, momentum=0.9, dampening=0.1),
            "nesterov": lambda: o.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
            "sgd decay": lambda: o.SGD(p, lr=0.05, momentum=0.5, weight_decay=1e-2),
            "adam": lambda: o.Adam(p, lr=1e-2),
            "adam amsgrad": lambda: o.Adam(p, lr=1e-2, amsgrad=True, weight_decay=1e-3),
            "adamw": lambda: o.AdamW(p, lr=1e-2), "adamw amsgrad": lambda: o.AdamW(p, lr=1e-2, amsgrad=True),
            "rmsprop": lambda: o.RMSprop(p, lr=1e-2),
            "rmsprop centered": lambda: o.RMSprop(p, lr=1e-2, centered=True, momentum=0.5),
            "adagrad": lambda: o.Adagrad(p, lr=0.05), "radam": lambda: o.RAdam(p, lr=1e-2),
            "nadam": lambda: o.NAdam(p, lr=1e-2), "adamax": lambda: o.Adamax(p, lr=1e-2),
            "adadelta": lambda: o.Adadelta(p), "asgd": lambda: o.ASGD(p, lr=1e-2, t0=3),
            "rprop": lambda: o.Rprop(p, lr=1e-2), "adafactor": lambda: o.Adafactor(p, lr=1e-2),
            "lbfgs": lambda: o.LBFGS(p, lr=0.1, max_iter=3, history_size=4),
            "adam tensor lr": lambda: o.Adam(p, lr=gg.tensor(1e-2)),
            "adam maximize": lambda: o.Adam(p, lr=1e-3, maximize=True)}[name]()


def _scheduler(name, optimizer):
    s = gg.optim.lr_scheduler
    cycles = any(key in optimizer.param_groups[0] for key in ("momentum", "betas"))
    if name is None:
        return None
    return {"step": lambda: s.StepLR(optimizer, 2, 0.5),
            "onecycle": lambda: s.OneCycleLR(optimizer, 0.05, total_steps=3 * CALLS, cycle_momentum=cycles),
            "restarts": lambda: s.CosineAnnealingWarmRestarts(optimizer, 3),
            "lambda": lambda: s.LambdaLR(optimizer, lambda epoch: 1 / (1 + epoch)),
            "warmup": lambda: s.LinearLR(optimizer, 0.1, total_iters=4),
            "sequential": lambda: s.SequentialLR(optimizer, [s.ConstantLR(optimizer, 0.5, total_iters=2),
                                                             s.ExponentialLR(optimizer, 0.9)], milestones=[3]),
            "plateau": lambda: s.ReduceLROnPlateau(optimizer, patience=1, factor=0.5)}[name]()


def _batch(program, call):
    """Call ``call``'s inputs and targets (calls 0 and 1 the same; the last one shorter)."""
    rng = np.random.default_rng(max(call, 1))
    size = SHORT if call in (CALLS - 1, program["short at"]) else BATCH
    dtype = np.float64 if program["double"] else np.float32
    family = program["family"]
    if family == "tokens":
        x = gg.tensor(rng.integers(0, VOCAB, (size, TOKENS)))
    else:
        shape = {"vector": (size, WIDTH), "image1d": (size, CHANNELS, LENGTH), "image2d": (size, CHANNELS, SIDE, SIDE),
                 "sequence": (size, STEPS, WIDTH)}[family]
        x = gg.tensor(rng.standard_normal(shape).astype(dtype))
    if program["loss"] in INTEGER_TARGETS:
        y = gg.tensor(rng.integers(0, CLASSES, size))
    elif program["loss"].startswith("bce"):
        y = gg.tensor((rng.random((size, CLASSES)) < 0.5).astype(dtype))
    else:
        y = gg.tensor(rng.standard_normal((size, CLASSES)).astype(dtype))
    return x, y


def _batches(program):
    """Each call's batch, and the dataset tensor they are slices of (None where each batch is a tensor of its own)."""
    batches = [_batch(program, call) for call in range(CALLS)]
    if program["data"] == "fresh":
        return batches, None
    dataset = [gg.cat([batch[part] for batch in batches[1:]]) for part in (0, 1)]
    starts = np.cumsum([0] + [len(batch[0]) for batch in batches[1:]])
    sliced = []
    for call, (x, _) in enumerate(batches):
        start = starts[max(call, 1) - 1]
        sliced.append(tuple(whole[start:start + len(x)] for whole in dataset))
    return sliced, dataset


def _snap(value):
    if isinstance(value, gg.Tensor):
        return value.array.dtype.str, value.array.shape, value.array.tobytes()
    if isinstance(value, np.ndarray):
        return value.dtype.str, value.shape, value.tobytes()
    if isinstance(value, dict):
        return tuple((repr(key), _snap(part)) for key, part in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_snap(part) for part in value)
    return repr(value)


def _counts(run):
    entries = getattr(run, "_compiled", run).entries.values()
    return sum(entry.replays for entry in entries)


def _replays_of_eagers_run(run):
    """``run(compiled)`` gives each call's results and the function it called: compiled, with no warning, they must be
    eager's; how many calls replayed."""
    eager, _ = run(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled, called = run(True)
    assert compiled == eager
    return _counts(called)


def _train(program, compiled):
    """Each call's results and state, the warnings said, and how many calls replayed."""
    gg.manual_seed(0)
    model = _model(program)
    if program["double"]:
        model = model.double()
    if program["freeze"]:
        for parameter in next(iter(model.children())).parameters():
            parameter.requires_grad_(False)
    loss_fn = _loss(program["loss"])
    adding = program["freeze"] and program["unfreeze by"] == "add_param_group"  # after the schedule: eager's error
    adding = adding and program["scheduler"] is None and program["restore"] is None
    optimizer = _optimizer(program["optimizer"], model, adding)
    scheduler = _scheduler(program["scheduler"], optimizer)
    plateau = program["scheduler"] == "plateau"
    inside = program["scheduler inside"] and not plateau
    history = []
    model_run = gg.compile(model) if compiled and program["shape"] != "whole step" else model

    averaged = None
    if any(kind == "pruned" for kind, _ in program["layers"]):  # its weight, made by a mul, refuses a deepcopy
        program = {**program, "average": None}
    if program["average"] == "swa":
        averaged = gg.optim.swa_utils.AveragedModel(model)
    elif program["average"]:
        averaged = copy.deepcopy(model)

    def step(x, y, update):
        if program["augment"] == "noise" and x.is_floating_point():
            x = x + 0.05 * gg.randn_like(x)
        elif program["augment"] == "in place" and x.is_floating_point():
            x.mul_(0.9)  # the caller's batch (a slice of the dataset, where it is one) changed too

        def closure():
            optimizer.zero_grad()
            again = loss_fn(model_run(x), y)
            again.backward()
            return again

        out = model_run(x)
        loss = loss_fn(out, y)
        (loss * program["scale"] if program["scale"] else loss).backward()
        if update:
            if program["scale"]:
                for parameter in model.parameters():
                    if parameter.grad is not None:
                        parameter.grad /= program["scale"]
            if program["clip"]:
                nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            if program["clip value"]:
                nn.utils.clip_grad_value_(model.parameters(), 0.05)
            if program["optimizer"] == "lbfgs":
                optimizer.step(closure)
            else:
                optimizer.step()
            optimizer.zero_grad(set_to_none=not program["zeros"])
            if program["average"] == "swa":
                averaged.update_parameters(model)
            elif program["average"]:
                with gg.no_grad():
                    for mine, theirs in zip(averaged.parameters(), model.parameters(), strict=True):
                        mine.mul_(0.9).add_(theirs, alpha=0.1)
            if scheduler is not None and inside:
                scheduler.step()
        if program["log"]:
            history.append(loss.item())
        if program["accuracy"]:
            with gg.no_grad():
                return loss.detach(), (out.argmax(1) == y).float().mean() if y.ndim == 1 else (out - y).abs().max()
        return loss.detach()

    def validate(x, y):
        return loss_fn(model_run(x), y)

    whole = compiled and program["shape"] != "model"
    step_run, validate_run = (gg.compile(step), gg.compile(validate)) if whole else (step, validate)
    _freeze_norms(program, model)
    batches, dataset = _batches(program)
    seen, trained = [], 0
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        for call in range(CALLS):
            x, y = batches[call]
            update = not program["accumulate"] or trained % 2 == 1  # validation calls leave the cycle as it was
            if call == 2 and program["restore"]:
                saved = copy.deepcopy((model.state_dict(), optimizer.state_dict()))
            if call == 5 and program["restore"] in ("model", "both"):
                model.load_state_dict(saved[0])
            if call == 5 and program["restore"] in ("optimizer", "both"):
                optimizer.load_state_dict(saved[1])
            if call == program["unfreeze at"] and program["freeze"]:
                first = list(next(iter(model.children())).parameters())
                for parameter in first:
                    parameter.requires_grad_(True)
                if adding and first:
                    optimizer.add_param_group({"params": first, "lr": 1e-3})
            if call == program["reset state at"]:
                optimizer.state.clear()
            try:
                if call in program["validate at"]:
                    model.eval()
                    with {"no_grad": gg.no_grad, "inference_mode": gg.inference_mode,
                          "grad": gg.enable_grad}[program["validate with"]]():
                        result = validate_run(x, y).detach()
                    model.train()
                    _freeze_norms(program, model)
                else:
                    trained += 1
                    result = step_run(x, y, update)
                    if scheduler is not None and update and not inside:
                        loss = result[0] if isinstance(result, tuple) else result
                        scheduler.step(loss.item()) if plateau else scheduler.step()
            except RuntimeError as error:
                seen.append(("raised", type(error).__name__, str(error)))
                continue
            seen.append(_snap([result, list(model.state_dict().items()), [p.grad for p in model.parameters()],
                               optimizer.state_dict(), [g["lr"] for g in optimizer.param_groups], history,
                               averaged and list(averaged.state_dict().items()), dataset]))
    replays = _counts(step_run) + _counts(validate_run) if whole else 0
    replays += _counts(model_run) if model_run is not model else 0
    return seen, [str(w.message) for w in said], replays


def _freeze_norms(program, model):
    if program["norms frozen"]:
        for layer in model.modules():
            if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d, nn.InstanceNorm1d, nn.InstanceNorm2d)):
                layer.eval()


def _run(program):
    """Eager and compiled runs compared call by call; the compiled run's warnings and replays."""
    default = gg.get_default_dtype()
    try:
        if program["double"]:
            gg.set_default_dtype(gg.float64)
        eager, _, _ = _train(program, False)
        compiled, said, replays = _train(program, True)
    finally:
        gg.set_default_dtype(default)
    for call, (mine, theirs) in enumerate(zip(compiled, eager, strict=True)):
        assert mine == theirs, f"call {call} differs from eager's"
    return said, replays


def _refused(program):
    """Why the drawn program is known to run eagerly (each warning names one of these), or [] where it must replay."""
    reasons = []
    if program["log"] and program["shape"] != "model":
        reasons.append(".item() reads a tensor's value inside the step")
    if program["optimizer"] == "lbfgs" and program["shape"] != "model":
        reasons.append("LBFGS.step(closure) runs the closure's Python inside the step")
    return reasons


def _settled(program):
    """Whether the program leaves some key three calls in a row without an event that captures again (a layer
    unfrozen, a checkpoint loaded, the optimizer's state cleared, a short batch, the first ``.grad`` kept as zeros and
    unscaled by hand; accumulation halves each key's calls): where it does not, nine calls may end before any replay,
    or three such events in a row may exhaust :data:`~glassgrad.compiler.compiled.MAX_CAPTURES`, and rightly so."""
    events = [program["freeze"] and program["unfreeze at"], program["restore"], program["reset state at"],
              program["short at"]]
    first = program["zeros"] and program["scale"]  # .grad None at the first call only: two captures of it spent
    return sum(bool(event) for event in events) + 2 * program["accumulate"] + 2 * bool(first) <= 2


def _replays_or_says_why(program):
    said, replays = _run(program)
    said = [message for message in said if message.startswith("gg.compile")]
    reasons = _refused(program)
    if not reasons and _settled(program):
        assert said == [] and replays > 0, said
    elif not reasons:  # three changes in a row, each making two captures disagree, may exhaust MAX_CAPTURES
        assert all("does different work on each call" in message for message in said), said
    else:
        assert said and all(any(reason in message for reason in reasons) for message in said), said
    return replays




@given(PROGRAMS)
def test_a_random_training_program_compiled_gives_eagers_numbers_at_every_call_and_replays(program):
    _replays_or_says_why(program)


def _program(**drawn):
    """A program with nothing drawn but ``drawn``: a plain loop, whole step compiled."""
    return {"family": "vector", "loss": "mse", "optimizer": "sgd", "scheduler": None, "scheduler inside": False,
            "clip": False, "shape": "whole step", "double": False, "validate at": set(), "sequential": False,
            "embedding": "plain", "accumulate": False, "log": False, "freeze": False, "short at": None,
            "restore": None, "unfreeze at": None, "unfreeze by": "requires_grad_", "zeros": False,
            "clip value": False, "scale": None, "reset state at": None, "accuracy": False, "norms frozen": False,
            "average": None, "validate with": "no_grad", "shared": False, "data": "fresh", "augment": None,
            "layers": [("linear", False)], **drawn}


def test_gradual_unfreezing_with_gradients_unscaled_by_hand_and_kept_as_zeros_goes_on_replaying():
    """``zero_grad(set_to_none=False)`` and ``p.grad /= scale`` for each ``.grad`` that is not None: a layer's first
    call after it is unfrozen stores its ``.grad`` where the next ones add to it, so its two captures disagree once,
    and the next two agree. The disagreements were counted over the key's whole life, so at the third such change
    (the first call of the run is one: every ``.grad`` is None then) the step ran eagerly for good, saying it did
    different work on each call. Now two captures that agree reset the count, and the step replays on."""
    program = _program()

    def run(compiled):
        gg.manual_seed(0)
        model = nn.Sequential(nn.Linear(WIDTH, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, CLASSES))
        model[0].requires_grad_(False)
        model[2].requires_grad_(False)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            loss = F.mse_loss(model(x), y)
            loss.backward()
            for parameter in model.parameters():
                if parameter.grad is not None:
                    parameter.grad /= 4.0
            optimizer.step()
            optimizer.zero_grad(set_to_none=False)
            return loss.detach()

        go = gg.compile(step) if compiled else step
        seen = []
        for call in range(16):
            if call in (5, 10):  # one more block unfrozen, from the top down as ULMFiT does
                model[2 if call == 5 else 0].requires_grad_(True)
            x, y = _batch(program, call % (CALLS - 1))
            seen.append(_snap([go(x, y), list(model.state_dict().items()), [p.grad for p in model.parameters()],
                               optimizer.state_dict()]))
        return seen, go

    assert _replays_of_eagers_run(run) == 7


def test_a_compiled_model_unfrozen_after_a_validation_pass_with_gradients_on_goes_on_replaying():
    """``model = gg.compile(model)``, two validation batches in ``eval()`` with gradients left on (no ``no_grad``),
    then a frozen layer unfrozen: the call after found the latest program (the validation's) in another mode and the
    training one failing its ``requires_grad`` guard, and counted it as a call whose layers are in another mode than
    the step runs them in; at the fourth the model ran eagerly for good, saying a step that sets the mode itself was
    likely. A call whose modes have a program is not counted now: it is captured again and replays."""
    program = _program(loss="cross entropy")

    def run(compiled):
        gg.manual_seed(0)
        model = nn.Sequential(nn.Linear(WIDTH, 8), nn.Dropout(0.2), nn.Tanh(), nn.Linear(8, CLASSES))
        model[0].requires_grad_(False)
        optimizer = gg.optim.Adam(model.parameters(), lr=0.01)
        forward = gg.compile(model) if compiled else model
        seen = []
        for call in range(CALLS - 1):
            x, y = _batch(program, call)
            if call == 4:
                model[0].requires_grad_(True)  # fine-tuning: the first layer unfrozen after an epoch
            if call in (2, 3):  # the validation pass
                model.eval()
                seen.append(_snap(F.cross_entropy(forward(x), y).detach()))
                model.train()
                continue
            loss = F.cross_entropy(forward(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen.append(_snap([loss, list(model.state_dict().items()), [p.grad for p in model.parameters()],
                               optimizer.state_dict()]))
        return seen, forward

    assert _replays_of_eagers_run(run) == 2  # calls 6 and 7, after calls 4 and 5 were captured


PINNED = {
    "tokens through an LSTM and causal self-attention, cross-entropy ignoring a class, AdamW with AMSGrad, clipped,"
    " a warm-up stepped inside": _program(
        family="tokens", layers=[("lstm", True), ("attention causal", True), ("layernorm", False)],
        loss="cross entropy ignoring", optimizer="adamw amsgrad", clip=True, scheduler="warmup",
        **{"scheduler inside": True, "validate at": {3, 6}}),
    "a conv net with batch norms, pools and dropout, the model compiled, SGD with Nesterov, a short batch mid-run":
        _program(family="image2d", shape="model", sequential=True, optimizer="nesterov", loss="cross entropy smoothed",
                 layers=[("conv", False), ("batchnorm", False), ("relu", False), ("maxpool", False),
                         ("channel dropout", False), ("conv grouped", True)], **{"short at": 4, "validate at": {5}}),
    "an encoder layer, both the model and the step compiled, RAdam, a checkpoint restored, float64": _program(
        family="sequence", shape="both", layers=[("encoder", False), ("gru bidirectional", True)], optimizer="radam",
        restore="both", double=True, loss="huber sum"),
    "a vector net, cumulative batch norm, a layer tied, RMSprop centered, accumulation, EMA, frozen norms": _program(
        layers=[("linear", False), ("batchnorm cumulative", False), ("gelu", False)], shared=True,
        optimizer="rmsprop centered", accumulate=True, average="ema by hand", loss="bce weighted",
        **{"norms frozen": True, "validate at": {2}, "validate with": "inference_mode"}),
    "L-BFGS with its closure calling the compiled model, OneCycle outside, a layer unfrozen": _program(
        layers=[("linear", False), ("mish", False)], optimizer="lbfgs", freeze=True, loss="kl", shape="model",
        **{"unfreeze at": 3, "unfreeze by": "requires_grad_", "scheduler": "onecycle"}),
    "SWA with Adafactor, a plateau schedule read from the loss outside, accuracy returned": _program(
        family="image1d", layers=[("conv reflect", False), ("instancenorm", False), ("avgpool", False)],
        optimizer="adafactor", average="swa", scheduler="plateau", accuracy=True, loss="nll"),
}


def test_the_pinned_programs_replay_with_eagers_numbers():
    for name, program in PINNED.items():
        assert _replays_or_says_why(program) > 0, name
