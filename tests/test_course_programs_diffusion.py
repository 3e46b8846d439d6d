"""Programs written the way diffusion-model courses and tutorials write PyTorch (DDPM from scratch with a small UNet,
an EMA of the weights, DDPM/DDIM samplers with eps-, x0- and v-prediction, classifier-free guidance, score matching
with Langevin sampling, a callback Learner with activation hooks and a one-cycle schedule, latent-diffusion
conditioning blocks, Karras sigmas with Euler/Heun samplers and rectified flow, a VQ autoencoder as the latent
stage, a GaussianDiffusion module in a popular repository's style), each run unchanged under PyTorch 2.13 and under
glassgrad (``import torch`` giving glassgrad), with the same numbers and warnings: rtol 1e-4 in float32, 1e-9 in
float64. Weights, data and noise come from NumPy so both start alike; random draws are compared only by shape.

The programs live in ``tests/learner_programs/diffusion/``; below them, what glassgrad once did differently."""

from __future__ import annotations

import copy
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

DIFFUSION_PROGRAMS = Path(__file__).parent / "learner_programs" / "diffusion"
PROGRAMS = sorted(DIFFUSION_PROGRAMS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_diffusion_course_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program, same_warnings=True)


IN_PLACE_CALLS = {
    "lerp_(end, w)": lambda x, other: x.lerp_(x.new_ones(()), other),
    "lerp_(other, 0.3)": lambda x, other: x.lerp_(other, 0.3),
    "addcmul_": lambda x, other: x.addcmul_(other, x.new_ones(()), value=0.5),
    "addcdiv_": lambda x, other: x.addcdiv_(x.new_ones(()), other + 3, value=2),
    "clamp_(min=tensor)": lambda x, other: x.clamp_(min=other),
    "pow_": lambda x, other: x.abs().pow_(other),
    "div_(rounding_mode)": lambda x, other: x.div_(other + 3, rounding_mode="floor"),
}


def _in_place_outcome(library, call, shape, other_shape):
    x = library.tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape))
    other = library.tensor(np.linspace(0.5, 1.5, int(np.prod(other_shape))).reshape(other_shape))
    try:
        return IN_PLACE_CALLS[call](x, other).tolist()
    except RuntimeError as error:
        return type(error), str(error)


@pytest.mark.torch
@given(call=st.sampled_from(sorted(IN_PLACE_CALLS)), shape=st.lists(st.integers(1, 3), max_size=3),
       other_shape=st.lists(st.integers(1, 3), max_size=4))
def test_an_in_place_op_does_not_grow_its_tensor_as_in_pytorch(call, shape, other_shape, torch):
    """An EMA update ``ema.lerp_(p, w)`` or ``x.addcmul_(a, b)`` where another operand broadcasts to a larger shape
    than ``x`` raises RuntimeError in PyTorch ("output with shape [2] doesn't match the broadcast shape [1, 2]"):
    an in-place op keeps its tensor's shape. glassgrad computed the larger result and copied it into ``x``: one
    with extra leading 1s was taken without a word, a larger one failed in ``copy_`` with another message. Now
    PyTorch's error; where PyTorch updates, the numbers agree."""
    ours = _in_place_outcome(gg, call, tuple(shape), tuple(other_shape))
    theirs = _in_place_outcome(torch, call, tuple(shape), tuple(other_shape))
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and ours[0] is theirs[0], (ours, theirs)
        assert "\n" not in ours[1]
        if "doesn't match the broadcast shape" in theirs[1]:  # not where the shapes do not broadcast at all
            assert "doesn't match the broadcast shape" in ours[1]
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def _histogram_outcome(library, name, dtype):
    x = library.tensor([0, 1, 3, 3], dtype=getattr(library, dtype))
    call = {"histc": lambda: library.histc(x, bins=4, min=0, max=4), "Tensor.histc": lambda: x.histc(4),
            "histogram": lambda: library.histogram(x, bins=4)[0]}[name]
    try:
        return call().tolist()
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)


@pytest.mark.torch
@given(name=st.sampled_from(["histc", "Tensor.histc", "histogram"]),
       dtype=st.sampled_from(["int64", "int32", "uint8", "bool", "float32", "float64"]))
def test_histograms_of_integers_fail_with_pytorchs_error_type(name, dtype, torch):
    """``acts.histc(40, 0, 10)`` of an integer tensor raises NotImplementedError in PyTorch (no integer kernel:
    "histogram_cpu" not implemented for 'Long'); glassgrad raised RuntimeError, its base. Now the same type, the
    message still naming the fix (``.float()``); floating tensors are counted alike."""
    assert _histogram_outcome(gg, name, dtype) == _histogram_outcome(torch, name, dtype)


def _copied_after_a_step(library, sizes, requires_grad, seed):
    rng = np.random.default_rng(seed)
    layers = [library.nn.Linear(a, b).double() for a, b in zip(sizes, sizes[1:])]
    model = library.nn.Sequential(*layers, library.nn.BatchNorm1d(sizes[-1]).double())
    with library.no_grad():
        for p in model.parameters():
            p.copy_(library.tensor(rng.normal(size=tuple(p.shape))))
    model[-1].weight.requires_grad_(requires_grad)
    model(library.tensor(rng.normal(size=(3, sizes[0])))).pow(2).sum().backward()
    ema = copy.deepcopy(model)
    return ([p.grad is None for p in ema.parameters()], [p.requires_grad for p in ema.parameters()],
            [type(p).__name__ for p in ema.parameters()], [p.detach().tolist() for p in ema.parameters()],
            [p.grad is None for p in model.parameters()], [b.tolist() for b in ema.buffers()])


@pytest.mark.torch
@given(sizes=st.lists(st.integers(1, 3), min_size=2, max_size=4), requires_grad=st.booleans(),
       seed=st.integers(0, 2**16))
def test_a_deep_copy_of_a_trained_model_starts_without_gradients_as_in_pytorch(sizes, requires_grad, seed, torch):
    """``ema_model = copy.deepcopy(model)`` after a backward (an EMA made once training has begun): PyTorch's
    Parameter copies its numbers and ``requires_grad`` and nothing else, so the copy's ``.grad`` is None.
    glassgrad's copy carried each ``.grad`` along (an EMA model holding the live model's gradients). Now the same
    as PyTorch; the original keeps its gradients."""
    ours = _copied_after_a_step(gg, sizes, requires_grad, seed)
    theirs = _copied_after_a_step(torch, sizes, requires_grad, seed)
    assert ours[:3] == theirs[:3] and ours[4] == theirs[4]
    for mine, its in zip(ours[3] + ours[5], theirs[3] + theirs[5]):
        np.testing.assert_allclose(mine, its, rtol=1e-12)


def _padding_outcome(library, rows, padding_idx, how):
    try:
        if how == "layer":
            return library.nn.Embedding(rows, 2, padding_idx=padding_idx).padding_idx
        if how == "from_pretrained":
            return library.nn.Embedding.from_pretrained(library.ones(rows, 2), padding_idx=padding_idx).padding_idx
        return library.nn.functional.embedding(library.tensor([0]), library.ones(rows, 2),
                                               padding_idx=padding_idx).tolist()
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)


@pytest.mark.torch
@given(rows=st.integers(1, 5), padding_idx=st.integers(-7, 7),
       how=st.sampled_from(["layer", "from_pretrained", "functional"]))
def test_a_padding_row_outside_the_table_fails_with_pytorchs_error_type(rows, padding_idx, how, torch):
    """``nn.Embedding(num_classes + 1, dim, padding_idx=num_classes + 1)`` (the null class's row counted one too far)
    fails in PyTorch with AssertionError ("Padding_idx must be within num_embeddings"); glassgrad raised
    ValueError. Now the same type; a row inside the table (negative ones counted from the end) is taken alike."""
    assert _padding_outcome(gg, rows, padding_idx, how) == _padding_outcome(torch, rows, padding_idx, how)


def _lerp_outcome(library, dtype, weight_kind, in_place):
    start = library.tensor([1, 2, 6]).to(getattr(library, dtype))
    end = library.tensor([3, 0, 7]).to(getattr(library, dtype))
    weight = {"number": 0.25, "tensor": library.tensor([0.5, 1.0, 0.0]).to(getattr(library, dtype))}[weight_kind]
    try:
        return (start.lerp_(end, weight) if in_place else library.lerp(start, end, weight)).tolist()
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)


@pytest.mark.torch
@given(dtype=st.sampled_from(["int64", "int32", "uint8", "bool", "float32", "float64"]),
       weight_kind=st.sampled_from(["number", "tensor"]), in_place=st.booleans())
def test_lerp_of_integers_fails_with_pytorchs_error_type(dtype, weight_kind, in_place, torch):
    """An EMA written over ``state_dict().values()`` reaches BatchNorm's integer ``num_batches_tracked``:
    ``v.lerp_(p, 0.1)`` (and ``torch.lerp`` of integer tensors) raises NotImplementedError in PyTorch ("lerp_kernel
    not implemented for 'Long'"). glassgrad's ``torch.lerp`` returned floats, and ``lerp_`` raised RuntimeError
    (the floats did not fit). Now NotImplementedError for both; floating tensors are interpolated alike."""
    ours = _lerp_outcome(gg, dtype, weight_kind, in_place)
    theirs = _lerp_outcome(torch, dtype, weight_kind, in_place)
    if isinstance(theirs, list):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    else:
        assert ours is theirs


def _resumed_schedule_outcome(library, name, groups):
    optimizer = library.optim.Adam([{"params": [library.nn.Parameter(library.zeros(1))]} for _ in range(groups)],
                                   lr=0.1)
    make = {"OneCycleLR": lambda: library.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10,
                                                                          last_epoch=3),
            "StepLR": lambda: library.optim.lr_scheduler.StepLR(optimizer, step_size=2, last_epoch=3),
            "CosineAnnealingLR": lambda: library.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4,
                                                                                        last_epoch=1)}[name]
    try:
        make()
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error), "param_groups[0]" in str(error)
    return None


@pytest.mark.torch
@given(name=st.sampled_from(["OneCycleLR", "StepLR", "CosineAnnealingLR"]), groups=st.integers(1, 3))
def test_resuming_a_schedule_without_initial_lr_fails_with_pytorchs_error_type(name, groups, torch):
    """``OneCycleLR(optimizer, ..., last_epoch=step)`` to resume training with a fresh optimizer (its param groups
    have no ``initial_lr`` yet) raises KeyError in PyTorch; glassgrad raised ValueError. Now KeyError, naming the
    group and the fix (load the optimizer's state dict first)."""
    assert _resumed_schedule_outcome(gg, name, groups) == _resumed_schedule_outcome(torch, name, groups)


def _moved_outcome(library, owner, format_name, dtype_name, spelling):
    memory_format = getattr(library, format_name) if format_name != "a string" else "channels_last"
    dtype = getattr(library, dtype_name) if dtype_name else None
    made = library.nn.Conv2d(2, 3, 3) if owner == "module" else library.arange(32.0).reshape(1, 2, 4, 4)
    arguments = {"keywords": ((), {"dtype": dtype, "memory_format": memory_format}),
                 "device first": (("cpu",), {"dtype": dtype, "memory_format": memory_format}),
                 "dtype first": (((dtype,) if dtype else ()), {"memory_format": memory_format})}[spelling]
    try:
        moved = made.to(*arguments[0], **arguments[1])
    except TypeError:
        return TypeError
    tensor = moved.weight if owner == "module" else moved
    return str(tensor.dtype).removeprefix("torch."), list(tensor.shape)


@pytest.mark.torch
@given(owner=st.sampled_from(["module", "tensor"]),
       format_name=st.sampled_from(["channels_last", "contiguous_format", "preserve_format", "a string"]),
       dtype_name=st.sampled_from([None, "float64", "float32"]),
       spelling=st.sampled_from(["keywords", "device first", "dtype first"]))
def test_to_takes_a_memory_format_as_pytorch(owner, format_name, dtype_name, spelling, torch):
    """``unet.to(device, memory_format=torch.channels_last)`` (a diffusion training script's speed-up) and
    ``x.to(memory_format=torch.channels_last)`` raised TypeError here ("unexpected keyword argument(s):
    memory_format"). The format changes only the order in memory, so glassgrad accepts every one of PyTorch's,
    refusing anything else with TypeError as PyTorch does; dtypes and shapes come out alike."""
    ours = _moved_outcome(gg, owner, format_name, dtype_name, spelling)
    assert ours == _moved_outcome(torch, owner, format_name, dtype_name, spelling)


FORMATTED = {
    "x.to(memory_format=f)": lambda lib, x, f: x.to(memory_format=f),
    "x.to(float64, memory_format=f)": lambda lib, x, f: x.to(lib.float64, memory_format=f),
    "x.contiguous(memory_format=f)": lambda lib, x, f: x.contiguous(memory_format=f),
    "x.clone(memory_format=f)": lambda lib, x, f: x.clone(memory_format=f),
    "x.double(memory_format=f)": lambda lib, x, f: x.double(memory_format=f),
    "x.half(memory_format=f)": lambda lib, x, f: x.half(memory_format=f),
    "x.cpu(memory_format=f)": lambda lib, x, f: x.cpu(memory_format=f),
    "zeros_like(x, memory_format=f)": lambda lib, x, f: lib.zeros_like(x, memory_format=f),
    "empty_like(x, memory_format=f)": lambda lib, x, f: lib.empty_like(x, memory_format=f).zero_(),
    "full_like(x, 2, memory_format=f)": lambda lib, x, f: lib.full_like(x, 2.0, memory_format=f),
    "randn_like(x, memory_format=f)": lambda lib, x, f: lib.randn_like(x, memory_format=f) * 0,
    "x.to(float64, False, True)": lambda lib, x, f: x.to(lib.float64, False, True),
    "x.to(float32, True, False)": lambda lib, x, f: x.to(lib.float32, True, False),
}


def _formatted_outcome(library, call, format_name, ndim):
    x = library.arange(float(2 ** ndim)).reshape((2,) * ndim)
    try:
        made = FORMATTED[call](library, x, getattr(library, format_name))
    except RuntimeError as error:
        return re.findall(r"required rank \d tensor to use \w+ format", str(error))
    relaid = format_name.startswith("channels_last")  # PyTorch copies into the new order; row-major here stays put
    return str(made.dtype).removeprefix("torch."), made.tolist(), None if relaid else made is x


@pytest.mark.torch
@given(call=st.sampled_from(sorted(FORMATTED)), format_name=st.sampled_from(["channels_last", "channels_last_3d",
                                                                              "contiguous_format", "preserve_format"]),
       ndim=st.integers(1, 5))
def test_a_channels_last_format_needs_its_rank_as_in_pytorch(call, format_name, ndim, torch):
    """``x.to(memory_format=torch.channels_last)`` of a 3-d tensor raises in PyTorch ("required rank 4 tensor to use
    channels_last format"), as do ``contiguous``, ``clone`` and the ``*_like`` factories; glassgrad took any rank,
    so a script that ran here failed there. ``x.double(memory_format=...)``, ``x.cpu(memory_format=...)`` and
    ``x.to(dtype, non_blocking, copy)`` by position were TypeErrors here. Now all as PyTorch: the same refusals,
    and the same numbers, dtype and identity (a copy or the tensor itself) otherwise; a channels-last layout aside,
    where PyTorch copies the entries into that order and glassgrad keeps its row-major memory."""
    assert _formatted_outcome(gg, call, format_name, ndim) == _formatted_outcome(torch, call, format_name, ndim)


def _shown_warnings(library, run):
    """The first sentence of each warning ``run`` shows (without the C++ source line PyTorch's warnings from C++
    add), with every warning shown every time (PyTorch's warn-once ones too)."""
    library.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run()
    finally:
        library.set_warn_always(False)
    return ([re.split(r"\. | \(Triggered internally", str(warning.message))[0] for warning in caught],
            {warning.filename for warning in caught})


def _same_padding_run(library, kernel, dilation, dims, padding_mode):
    layer = getattr(library.nn, f"Conv{dims}d")(2, 3, kernel, padding="same", dilation=dilation,
                                                 padding_mode=padding_mode)
    return lambda: layer(library.ones((1, 2) + (7,) * dims))


@pytest.mark.torch
@given(kernel=st.integers(1, 4), dilation=st.integers(1, 3), dims=st.integers(1, 3),
       padding_mode=st.sampled_from(["zeros", "reflect"]))
def test_same_padding_that_is_uneven_warns_as_in_pytorch(kernel, dilation, dims, padding_mode, torch):
    """``nn.Conv2d(c, c, 4, padding='same')`` (an even kernel: more padding after than before) warns in PyTorch,
    once in a process: "Using padding='same' with even kernel lengths and odd dilation may require a zero-padded
    copy of the input be created"; glassgrad was silent. Now the same warning where the padding is uneven, at the
    learner's line (a layer that pads itself, padding_mode='reflect', does not warn in either)."""
    ours = _shown_warnings(gg, _same_padding_run(gg, kernel, dilation, dims, padding_mode))
    theirs = _shown_warnings(torch, _same_padding_run(torch, kernel, dilation, dims, padding_mode))
    assert ours[0] == theirs[0]
    assert ours[1] <= {__file__}


def _attention_masks_run(library, padding_dtype, mask_dtype, where):
    x = library.ones(3, 3, 4)  # (N, L, E) or (L, N, E): three of each
    padding = library.tensor([[False, False, True], [False, False, False], [True, False, False]])
    causal = library.ones(3, 3).triu(1).bool()
    padding = {None: None, "bool": padding, "float32": padding.float() * -1e9}[padding_dtype]
    mask = {None: None, "bool": causal, "float32": causal.float() * -1e9}[mask_dtype]
    nn = library.nn
    if where == "MultiheadAttention":
        layer = nn.MultiheadAttention(4, 2)
        return lambda: layer(x, x, x, key_padding_mask=padding, attn_mask=mask)
    encoder_layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0)
    if where == "TransformerEncoderLayer":
        return lambda: encoder_layer(x, src_mask=mask, src_key_padding_mask=padding)
    if where == "TransformerEncoder":
        encoder = nn.TransformerEncoder(encoder_layer, 2, enable_nested_tensor=False)
        return lambda: encoder(x, mask=mask, src_key_padding_mask=padding)
    decoder_layer = nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0)
    return lambda: decoder_layer(x, x, tgt_mask=mask, tgt_key_padding_mask=padding)


@pytest.mark.torch
@given(padding_dtype=st.sampled_from([None, "bool", "float32"]), mask_dtype=st.sampled_from([None, "bool", "float32"]),
       where=st.sampled_from(["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
                              "TransformerDecoderLayer"]))
def test_masks_of_two_dtypes_warn_as_in_pytorch(padding_dtype, mask_dtype, where, torch):
    """Attention over padded text tokens with a bool padding mask beside a float attention mask warns in PyTorch
    ("Support for mismatched key_padding_mask and attn_mask is deprecated"; an encoder or encoder layer says so
    once, naming its own arguments, src_key_padding_mask and mask or src_mask, and passes float masks on).
    glassgrad was silent. Now the same warnings, as many, at the learner's line."""
    ours = _shown_warnings(gg, _attention_masks_run(gg, padding_dtype, mask_dtype, where))
    theirs = _shown_warnings(torch, _attention_masks_run(torch, padding_dtype, mask_dtype, where))
    assert ours[0] == theirs[0]
    assert ours[1] <= {__file__}


def _hooked_backward_run(library, input_requires_grad, which, layers):
    model = library.nn.Sequential(*(library.nn.Linear(2, 2) for _ in range(layers)))
    for layer in model:
        if which == "full":
            layer.register_full_backward_hook(lambda module, grad_input, grad_output: None)
        else:
            layer.register_full_backward_pre_hook(lambda module, grad_output: None)
    x = library.ones(3, 2, requires_grad=input_requires_grad)
    return lambda: model(x).sum().backward()


@pytest.mark.torch
@given(input_requires_grad=st.booleans(), which=st.sampled_from(["full", "pre"]), layers=st.integers(1, 3))
def test_a_backward_hook_on_a_layer_fed_data_warns_as_in_pytorch(input_requires_grad, which, layers, torch):
    """fast.ai-style gradient hooks on every layer: the first layer's input (the batch) needs no gradient, and
    PyTorch warns at the backward call ("Full backward hook is firing when gradients are computed with respect to
    module outputs since no inputs require gradients"); glassgrad was silent. Now the same warnings, as many, at
    the learner's line."""
    ours = _shown_warnings(gg, _hooked_backward_run(gg, input_requires_grad, which, layers))
    theirs = _shown_warnings(torch, _hooked_backward_run(torch, input_requires_grad, which, layers))
    assert ours[0] == theirs[0]
    assert ours[1] <= {__file__}


SCATTER_SPELLINGS = {
    "x.scatter(d, i, src)": lambda x, index, src, options: x.scatter(1, index, src, **options),
    "x.scatter_(d, i, src)": lambda x, index, src, options: x.scatter_(1, index, src, **options),
    "torch.scatter(x, d, i, src)": lambda x, index, src, options: type(x).scatter(x, 1, index, src, **options),
    "x.scatter_(d, i, number)": lambda x, index, src, options: x.scatter_(1, index, 2.0, **options),
}


def _scatter_run(library, spelling, reduce, seed):
    rng = np.random.default_rng(seed)
    index = library.tensor(rng.integers(0, 4, (2, 3)))
    src = library.tensor(rng.normal(size=(2, 3)))
    options = {} if reduce is None else {"reduce": reduce}
    found = []
    return lambda: found.append(SCATTER_SPELLINGS[spelling](library.ones(2, 4, dtype=library.float64), index, src,
                                                            options).tolist()), found


@pytest.mark.torch
@given(spelling=st.sampled_from(sorted(SCATTER_SPELLINGS)), reduce=st.sampled_from([None, "add", "multiply"]),
       seed=st.integers(0, 2**16))
def test_scatter_with_reduce_and_a_tensor_source_warns_as_in_pytorch(spelling, reduce, seed, torch):
    """``x.scatter_(1, index, src, reduce='add')`` with a tensor ``src`` warns in PyTorch (once in a process): the
    reduce argument is deprecated there, ``scatter_reduce`` replaces it; glassgrad was silent. Now the same
    warning where PyTorch gives it (a number as src gives none), at the learner's line, and the same numbers."""
    (ours, our_numbers), (theirs, their_numbers) = (_scatter_run(library, spelling, reduce, seed)
                                                    for library in (gg, torch))
    (our_messages, our_files), (their_messages, _) = _shown_warnings(gg, ours), _shown_warnings(torch, theirs)
    assert our_messages == their_messages
    assert our_files <= {__file__}
    np.testing.assert_allclose(our_numbers, their_numbers, rtol=1e-12)


def _weight_norm_warnings(library, spelling, dim):
    layer = library.nn.Conv2d(2, 3, 3)
    utils = library.nn.utils
    call = {"old": lambda: utils.weight_norm(layer, dim=dim),
            "parametrizations": lambda: utils.parametrizations.weight_norm(layer, dim=dim)}[spelling]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [(warning.category, str(warning.message), warning.filename) for warning in caught]


@pytest.mark.torch
@given(spelling=st.sampled_from(["old", "parametrizations"]), dim=st.sampled_from([0, 1, None]))
def test_the_old_weight_norm_warns_that_it_is_deprecated_as_in_pytorch(spelling, dim, torch):
    """``torch.nn.utils.weight_norm(conv)`` (score-model and vocoder code) warns in PyTorch 2.13, FutureWarning:
    it is deprecated in favor of ``torch.nn.utils.parametrizations.weight_norm``; glassgrad was silent. Now the
    same warning at the learner's line; the newer spelling warns in neither."""
    ours = _weight_norm_warnings(gg, spelling, dim)
    theirs = _weight_norm_warnings(torch, spelling, dim)
    assert [warning[:2] for warning in ours] == [warning[:2] for warning in theirs]
    assert {warning[2] for warning in ours} <= {__file__}


FOREACH_CALLS = {
    "add(xs, ys, alpha=2)": lambda lib, xs, ys, w: lib._foreach_add(xs, ys, alpha=2),
    "add_(xs, 0.5)": lambda lib, xs, ys, w: lib._foreach_add_(xs, 0.5),
    "sub_(xs, ys)": lambda lib, xs, ys, w: lib._foreach_sub_(xs, ys),
    "sub(xs, [numbers])": lambda lib, xs, ys, w: lib._foreach_sub(xs, [0.5 * k for k in range(len(xs))]),
    "mul_(xs, 0-d tensor)": lambda lib, xs, ys, w: lib._foreach_mul_(xs, lib.tensor(0.9, dtype=lib.float64)),
    "mul(xs, ys)": lambda lib, xs, ys, w: lib._foreach_mul(xs, ys),
    "div_(xs, ys)": lambda lib, xs, ys, w: lib._foreach_div_(xs, [y.abs() + 1 for y in ys]),
    "lerp_(xs, ys, number)": lambda lib, xs, ys, w: lib._foreach_lerp_(xs, ys, w),
    "lerp(xs, ys, tensors)": lambda lib, xs, ys, w: lib._foreach_lerp(xs, ys, [y.abs() / 4 for y in ys]),
    "copy_(xs, ys)": lambda lib, xs, ys, w: lib._foreach_copy_(xs, ys),
    "zero_(xs)": lambda lib, xs, ys, w: lib._foreach_zero_(xs),
    "sqrt(xs)": lambda lib, xs, ys, w: lib._foreach_sqrt([x.abs() for x in xs]),
    "neg_(xs)": lambda lib, xs, ys, w: lib._foreach_neg_(xs),
    "norm(xs)": lambda lib, xs, ys, w: lib._foreach_norm(xs),
    "norm(xs, 1)": lambda lib, xs, ys, w: lib._foreach_norm(xs, 1),
    "norm(xs, ord=3, dtype)": lambda lib, xs, ys, w: lib._foreach_norm(xs, ord=3, dtype=lib.float64),
    "add(xs, other=ys, alpha=2)": lambda lib, xs, ys, w: lib._foreach_add(xs, other=ys, alpha=2),
    "add(xs, scalar=2)": lambda lib, xs, ys, w: lib._foreach_add(xs, scalar=2),
    "add_(xs, scalars=[…])": lambda lib, xs, ys, w: lib._foreach_add_(xs, scalars=[k / 2 for k, _ in enumerate(xs)]),
    "lerp(xs, tensors1=ys, weight=number)": lambda lib, xs, ys, w: lib._foreach_lerp(xs, tensors1=ys, weight=w),
    "copy_(xs, ys, non_blocking=True)": lambda lib, xs, ys, w: lib._foreach_copy_(xs, ys, non_blocking=True),
    "add(xs, one too few)": lambda lib, xs, ys, w: lib._foreach_add(xs, ys[:-1]),
    "mul_([], 2)": lambda lib, xs, ys, w: lib._foreach_mul_([], 2.0),
}


def _foreach_outcome(library, call, shapes, weight, seed):
    rng = np.random.default_rng(seed)
    xs = [library.tensor(rng.normal(size=shape)) for shape in shapes]
    ys = [library.tensor(rng.normal(size=shape)) for shape in shapes]
    try:
        returned = FOREACH_CALLS[call](library, xs, ys, weight)
    except RuntimeError as error:
        return type(error)
    return type(returned).__name__, [t.tolist() for t in returned], [x.tolist() for x in xs]


@pytest.mark.torch
@given(call=st.sampled_from(sorted(FOREACH_CALLS)),
       shapes=st.lists(st.lists(st.integers(1, 3), max_size=3).map(tuple), min_size=1, max_size=4),
       weight=st.floats(0, 1), seed=st.integers(0, 2**16))
def test_foreach_functions_update_every_tensor_as_pytorchs(call, shapes, weight, seed, torch):
    """An EMA written as ema-pytorch and timm write it: ``torch._foreach_lerp_(ema_params, params, 1 - decay)``,
    ``torch._foreach_copy_(ema_buffers, buffers)``, ``torch._foreach_mul_`` for a hand-written optimizer. glassgrad
    had no ``torch._foreach_*`` (AttributeError). Now each is the tensor method applied to every tensor of the list:
    the same numbers, the list given back by the in-place forms and a tuple of new tensors by the others, and
    PyTorch's RuntimeError for lists of two lengths or none."""
    ours = _foreach_outcome(gg, call, shapes, weight, seed)
    theirs = _foreach_outcome(torch, call, shapes, weight, seed)
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        assert ours[0] == theirs[0]
        for mine, its in zip(ours[1] + ours[2], theirs[1] + theirs[2]):
            np.testing.assert_allclose(mine, its, rtol=1e-12, atol=1e-15)


def _deep_copy_outcome(library, made, requires_grad, holder):
    x = library.tensor([1.5, -2.0, 0.5], dtype=library.float64, requires_grad=requires_grad)
    tensor = {"the leaf": lambda: x, "x * 2": lambda: x * 2, "a view x[1:]": lambda: x[1:],
              "x * 2 under no_grad": lambda: library.no_grad()(lambda: x * 2)(),
              "(x * 2).detach()": lambda: (x * 2).detach()}[made]()
    if holder == "a module attribute":
        held = library.nn.Linear(3, 1)
        held.last_output = tensor
    else:
        held = {"tensor": tensor, "alone": None}
    try:
        copied = copy.deepcopy(held)
    except RuntimeError:
        return RuntimeError
    twin = copied.last_output if holder == "a module attribute" else copied["tensor"]
    return twin.tolist(), twin.requires_grad, twin.is_leaf


@pytest.mark.torch
@given(made=st.sampled_from(["the leaf", "x * 2", "a view x[1:]", "x * 2 under no_grad", "(x * 2).detach()"]),
       requires_grad=st.booleans(), holder=st.sampled_from(["a module attribute", "a dict"]))
def test_deep_copies_of_tensors_made_in_a_graph_are_refused_as_in_pytorch(made, requires_grad, holder, torch):
    """``ema = copy.deepcopy(model)`` of a model that keeps a forward's output as an attribute (or whose weight the
    old ``nn.utils.weight_norm`` computes) raises RuntimeError in PyTorch: only graph leaves support deepcopy.
    glassgrad copied such a tensor as a leaf, so the copy worked here and failed there. Now the same refusal; a
    leaf, a detached tensor or one made without a graph is copied alike."""
    assert _deep_copy_outcome(gg, made, requires_grad, holder) == _deep_copy_outcome(torch, made, requires_grad,
                                                                                      holder)


RESIZE_MODES = {"nearest": 4, "nearest-exact": 4, "linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5,
                "area": 4}


def _resized(library, dtype, mode, antialias, seed):
    dims = RESIZE_MODES[mode]
    values = np.random.default_rng(seed).integers(0, 9, (1, 2) + (3,) * (dims - 2))
    x = library.tensor(values).to(getattr(library, dtype))
    try:
        return library.nn.functional.interpolate(x, scale_factor=2, mode=mode, antialias=antialias).tolist()
    except NotImplementedError as error:
        return NotImplementedError, str(error)


@pytest.mark.torch
@given(dtype=st.sampled_from(["int64", "int32", "int8", "uint8", "bool", "float16", "float32", "float64"]),
       mode=st.sampled_from(sorted(RESIZE_MODES)), antialias=st.booleans(), seed=st.integers(0, 2**16))
def test_resizing_integer_images_fails_as_in_pytorch_instead_of_cutting_the_weights(dtype, mode, antialias, seed,
                                                                                     torch):
    """``F.interpolate(labels, scale_factor=2, mode='bilinear')`` of an integer tensor: PyTorch has no kernel
    (NotImplementedError) but for uint8 in the nearest modes. glassgrad resized with the weights cast to the
    integer dtype, so a bilinear upsampling came out mostly zeros without a word. Now PyTorch's error; nearest
    modes of uint8 give PyTorch's image; uint8 in the bilinear and bicubic modes, whose fixed-point rounding
    glassgrad does not copy, is refused naming the fix (float16 with antialias as PyTorch refuses it)."""
    antialias = antialias and mode in ("bilinear", "bicubic")  # the only modes that take it
    ours = _resized(gg, dtype, mode, antialias, seed)
    theirs = _resized(torch, dtype, mode, antialias, seed)
    if dtype == "uint8" and mode in ("bilinear", "bicubic"):
        assert ours[0] is NotImplementedError and "x.float()" in ours[1]
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and ours[0] is NotImplementedError and "\n" not in ours[1]
    else:
        # float16's rounding is relative to the image's values (0 to 8), not to an entry near 0 by cancellation
        # (bicubic's negative lobes: −0.0312 against PyTorch's −0.0308 at seed 478)
        np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=2e-3,
                                   atol=8 * 2e-3 if dtype == "float16" else 0)


def _attention_backend_outcome(library, chosen, spelling):
    from importlib import import_module

    attention = import_module(f"{library.__name__}.nn.attention")
    q = library.ones(1, 2, 3, 4)
    names = ["MATH", "FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if spelling == "sdpa_kernel":
                block = attention.sdpa_kernel([getattr(attention.SDPBackend, names[k]) for k in chosen])
            elif spelling == "sdpa_kernel('math')":
                block = attention.sdpa_kernel("math")
            else:
                block = library.backends.cuda.sdp_kernel(enable_math=0 in chosen, enable_flash=1 in chosen,
                                                         enable_mem_efficient=2 in chosen, enable_cudnn=3 in chosen)
            with block:
                inside = [library.backends.cuda.math_sdp_enabled(), library.backends.cuda.flash_sdp_enabled()]
                found = library.nn.functional.scaled_dot_product_attention(q, q, q).tolist()
        except (RuntimeError, AssertionError) as error:
            found, inside = type(error), None
    after = [library.backends.cuda.math_sdp_enabled(), library.backends.cuda.mem_efficient_sdp_enabled()]
    return found, inside, after, [warning.category for warning in caught]


@pytest.mark.torch
@given(chosen=st.sets(st.integers(0, 3)),
       spelling=st.sampled_from(["sdpa_kernel", "sdp_kernel", "sdpa_kernel('math')"]))
def test_choosing_attention_kernels_works_as_on_a_cpu_in_pytorch(chosen, spelling, torch):
    """``with sdpa_kernel(SDPBackend.FLASH_ATTENTION):`` (``from torch.nn.attention import SDPBackend, sdpa_kernel``)
    and the older ``torch.backends.cuda.sdp_kernel(enable_math=False, ...)``, as GPU diffusion code narrows the
    attention kernels: glassgrad had neither (ImportError, AttributeError). Now both, as PyTorch behaves on a
    CPU: math and flash run, a choice of only memory-efficient or cuDNN fails at the call with RuntimeError, the
    old spelling warns (FutureWarning), a non-backend is refused, and the choice ends with the block."""
    assert _attention_backend_outcome(gg, sorted(chosen), spelling) == _attention_backend_outcome(
        torch, sorted(chosen), spelling)


FLASH_INPUTS = {  # name: (query, key, value shapes, keywords)
    "4-d": ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), {}),
    "3-d": ((3, 5, 4), (3, 6, 4), (3, 6, 4), {}),
    "2-d": ((5, 4), (6, 4), (6, 4), {}),
    "5-d": ((1, 2, 3, 5, 4), (1, 2, 3, 6, 4), (1, 2, 3, 6, 4), {}),
    "dropout": ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), {"dropout_p": 0.1}),
    "value's features differ": ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 8), {}),
    "2-d bool mask": ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), {"mask": (5, 6)}),
    "4-d mask": ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), {"mask": (2, 1, 5, 6)}),
    "3-d mask": ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), {"mask": (3, 5, 6)}),
    "causal": ((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4), {"is_causal": True}),
    "key's batch of 1": ((2, 3, 5, 4), (1, 3, 6, 4), (1, 3, 6, 4), {}),
    "grouped heads": ((2, 4, 5, 4), (2, 2, 6, 4), (2, 2, 6, 4), {"enable_gqa": True}),
    "fewer heads, no gqa": ((2, 4, 5, 4), (2, 2, 6, 4), (2, 2, 6, 4), {}),
    "transposed query": ((2, 3, 4, 5), (2, 3, 6, 4), (2, 3, 6, 4), {"transpose": True}),
}


def _flash_outcome(library, name, math_too):
    from importlib import import_module

    attention = import_module(f"{library.__name__}.nn.attention")
    *shapes, options = FLASH_INPUTS[name]
    options = dict(options)
    q, k, v = (library.tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)) for shape in shapes)
    if options.pop("transpose", False):
        q = q.transpose(-1, -2)
    if "mask" in options:
        options["attn_mask"] = library.tensor(np.arange(np.prod(options["mask"])).reshape(options.pop("mask")) % 3 > 0)
    chosen = [attention.SDPBackend.FLASH_ATTENTION] + ([attention.SDPBackend.MATH] if math_too else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch says why in warnings; glassgrad in its error's one line
        try:
            with attention.sdpa_kernel(chosen):
                library.manual_seed(0)
                out = library.nn.functional.scaled_dot_product_attention(q, k, v, **options)
        except RuntimeError as error:
            return str(error)
    return tuple(out.shape), (None if options.get("dropout_p") else out.tolist())


@pytest.mark.torch
@given(name=st.sampled_from(sorted(FLASH_INPUTS)), math_too=st.booleans())
def test_flash_attention_alone_takes_what_pytorchs_cpu_kernel_takes(name, math_too, torch):
    """``with sdpa_kernel(SDPBackend.FLASH_ATTENTION):`` around 3-d inputs, dropout, a value with other features, a
    3-d mask, a key batch to broadcast or fewer key heads without ``enable_gqa`` raises in PyTorch on a CPU ("No
    available kernel"): its flash kernel takes only 4-d inputs of one batch and head count, no dropout, one feature
    size, 2-d or 4-d masks and a last dim of stride 1. glassgrad ran them all, so code that ran here failed there.
    Now the same refusals (with the reason in one line), the same numbers where flash runs, and everything runs
    when the math backend is allowed too."""
    ours, theirs = _flash_outcome(gg, name, math_too), _flash_outcome(torch, name, math_too)
    if isinstance(theirs, str) or isinstance(ours, str):  # an error: the kernel's refusal, or a shape error of both
        assert isinstance(ours, str) and isinstance(theirs, str)
        assert ours.startswith("No available kernel") == theirs.startswith("No available kernel"), (ours, theirs)
        refusal = (r"No available kernel for scaled_dot_product_attention: only SDPBackend\.FLASH_ATTENTION is "
                   r"allowed, and on a CPU it needs [^\n]+; allow SDPBackend\.MATH too \(sdpa_kernel\("
                   r"\[SDPBackend\.FLASH_ATTENTION, SDPBackend\.MATH\]\)\)")
        assert not theirs.startswith("No available kernel") or re.fullmatch(refusal, ours)
    else:
        assert ours[0] == theirs[0]
        np.testing.assert_allclose(np.asarray(ours[1], dtype=float), np.asarray(theirs[1], dtype=float), rtol=1e-6,
                                   atol=1e-7)


def _checkpointed_outcome(library, flag, input_requires_grad, sequential, with_keyword):
    from importlib import import_module

    checkpointing = import_module(f"{library.__name__}.utils.checkpoint")
    blocks = library.nn.Sequential(*(library.nn.Linear(2, 2).double() for _ in range(4)))
    with library.no_grad():
        for number, parameter in enumerate(blocks.parameters()):
            parameter.copy_(library.tensor(np.linspace(-1, 1, parameter.numel()).reshape(parameter.shape) + number))
    x = library.tensor([[0.5, -1.5]], dtype=library.float64, requires_grad=input_requires_grad)
    options = {} if flag == "left out" else {"use_reentrant": flag}
    run = lambda: (checkpointing.checkpoint_sequential(blocks, 2, x, **options) if sequential else  # noqa: E731
                   checkpointing.checkpoint(lambda h, scale=1.0: blocks(h) * scale, x,
                                            **options, **({"scale": 2.0} if with_keyword else {})))
    found = []

    def step():
        out = run()
        found.append(out.tolist())
        out.sum().backward()
        found.append([None if p.grad is None else p.grad.tolist() for p in blocks.parameters()])
    try:
        messages, _ = _shown_warnings(library, step)
    except (RuntimeError, ValueError) as error:
        return type(error)
    return found, messages


@pytest.mark.torch
@given(flag=st.sampled_from(["left out", True, False]), input_requires_grad=st.booleans(), sequential=st.booleans(),
       with_keyword=st.booleans())
def test_checkpoint_without_use_reentrant_is_reentrant_and_warns_as_in_pytorch(flag, input_requires_grad, sequential,
                                                                                 with_keyword, torch):
    """``checkpoint(block, h)`` without ``use_reentrant`` (older UNet code) is the reentrant kind in PyTorch 2.13,
    with a warning that the argument should be given: the data fed to it needs no gradient, so the block's weights
    get none and ``backward`` fails, and a keyword argument for the block raises ValueError. glassgrad took the
    other kind silently: the weights got gradients. Now as PyTorch, warnings included (its reentrant warning starts
    with PyTorch's sentence); ``checkpoint_sequential`` too."""
    settings = (flag, input_requires_grad, sequential, with_keyword and not sequential)
    ours, theirs = _checkpointed_outcome(gg, *settings), _checkpointed_outcome(torch, *settings)
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        (our_out, our_grads), (their_out, their_grads) = ours[0], theirs[0]
        assert ours[1] == theirs[1]
        np.testing.assert_allclose(our_out, their_out, rtol=1e-12)
        for mine, its in zip(our_grads, their_grads):
            assert (mine is None) == (its is None)
            if its is not None:
                np.testing.assert_allclose(mine, its, rtol=1e-12)


def _integral_outcome(library, function, y_dtype, x_given, x_dtype):
    y = library.tensor([[1, 0, 1, 1], [0, 2, 1, 3]]).to(getattr(library, y_dtype))
    x = (library.tensor([0, 1, 3, 4]).to(getattr(library, x_dtype)),) if x_given else ()
    try:
        return getattr(library, function)(y, *x).tolist()
    except RuntimeError as error:
        return RuntimeError, str(error).split(",")[0]


@pytest.mark.torch
@given(function=st.sampled_from(["trapezoid", "trapz", "cumulative_trapezoid"]),
       y_dtype=st.sampled_from(["bool", "int64", "float64"]), x_given=st.booleans(),
       x_dtype=st.sampled_from(["bool", "int64", "float64"]))
def test_integrals_of_bool_samples_are_refused_as_in_pytorch(function, y_dtype, x_given, x_dtype, torch):
    """``torch.trapezoid(mask)`` (the area under a 0/1 curve kept as bools) raises RuntimeError in PyTorch ("received
    a bool input for `y`, but bool is not supported"); glassgrad integrated the bools as numbers. Now the same
    refusal, naming the fix; integer and float samples are integrated alike."""
    ours = _integral_outcome(gg, function, y_dtype, x_given, x_dtype)
    theirs = _integral_outcome(torch, function, y_dtype, x_given, x_dtype)
    if isinstance(theirs, tuple):
        assert ours == theirs
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


ARRAY_VIEWS = {"a": lambda a: a, "a[::-1]": lambda a: a[::-1], "a[:, ::-1]": lambda a: a[:, ::-1],
               "np.flip(a, 0)": lambda a: np.flip(a, 0), "a[::-1].copy()": lambda a: a[::-1].copy(),
               "a.T": lambda a: a.T, "a[::2]": lambda a: a[::2], "a[::-2, 1:]": lambda a: a[::-2, 1:]}


def _converted(library, entry, view, dtype):
    array = ARRAY_VIEWS[view](np.arange(12, dtype=dtype).reshape(4, 3))
    convert = {"tensor": library.tensor, "as_tensor": library.as_tensor, "from_numpy": library.from_numpy,
               "tensor(dtype=float64)": lambda a: library.tensor(a, dtype=library.float64),
               "as_tensor(dtype=float32)": lambda a: library.as_tensor(a, dtype=library.float32),
               "asarray": library.asarray, "x.new_tensor": library.ones(1).new_tensor, "x.new": library.ones(1).new,
               "Tensor": library.Tensor, "FloatTensor": library.FloatTensor}[entry]
    try:
        return convert(array).tolist()
    except ValueError:
        return ValueError


@pytest.mark.torch
@given(entry=st.sampled_from(["tensor", "as_tensor", "from_numpy", "tensor(dtype=float64)",
                              "as_tensor(dtype=float32)", "asarray", "x.new_tensor", "x.new", "Tensor",
                              "FloatTensor"]),
       view=st.sampled_from(sorted(ARRAY_VIEWS)), dtype=st.sampled_from(["float64", "int64", "float32"]))
def test_arrays_that_step_backwards_are_refused_as_in_pytorch(entry, view, dtype, torch):
    """A diffusion scheduler's ``timesteps = torch.from_numpy(np.arange(0, T)[::-1])`` raises ValueError in PyTorch
    (negative strides), which is why schedulers write ``[::-1].copy()``; glassgrad took the reversed array, so code
    written here failed there. Now the same refusal from ``tensor``, ``as_tensor``, ``from_numpy``, ``asarray``,
    ``new_tensor``, ``new`` and the legacy constructors, naming the fix; other views (transposed, strided, copied)
    convert alike."""
    assert _converted(gg, entry, view, dtype) == _converted(torch, entry, view, dtype)


def _instance_norm_outcome(library, dims, channels, affine, track, batched):
    layer = getattr(library.nn, f"InstanceNorm{dims}d")(3, affine=affine, track_running_stats=track).double()
    shape = ((2,) if batched else ()) + (channels,) + (4,) * dims
    x = library.tensor(np.linspace(-1, 2, int(np.prod(shape))).reshape(shape))
    found = []
    try:
        messages, _ = _shown_warnings(library, lambda: found.append(layer(x).tolist()))
    except (RuntimeError, ValueError) as error:
        return type(error)
    return messages, found


@pytest.mark.torch
@given(dims=st.integers(1, 3), channels=st.integers(2, 4), affine=st.booleans(), track=st.booleans(),
       batched=st.booleans())
def test_instance_norm_given_another_channel_count_warns_as_in_pytorch(dims, channels, affine, track, batched,
                                                                        torch):
    """``nn.InstanceNorm2d(64)`` (affine=False, as in a style-transfer or diffusion block) fed another number of
    channels works in PyTorch, with a warning that num_features is not used ("input's size at dim=1 does not match
    num_features"); glassgrad was silent. Now the same warning (dim 0 for an unbatched input), the same numbers, and
    PyTorch's errors where the weights or running statistics do not fit."""
    ours = _instance_norm_outcome(gg, dims, channels, affine, track, batched)
    theirs = _instance_norm_outcome(torch, dims, channels, affine, track, batched)
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        assert ours[0] == theirs[0]
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), dim=st.integers(0, 2))
def test_a_gradient_through_cumsum_converts_back_to_a_tensor(shape, dim, torch):
    """``g, = autograd.grad(x.cumsum(d).sum(), x)`` then ``from_numpy(g.numpy())``: cumsum's backward handed out a
    reversed view (negative strides), which ``from_numpy`` rightly refuses; PyTorch's gradient converts. Now the
    gradient is an array of its own, with PyTorch's numbers."""
    dim = dim % len(shape)
    values = np.random.default_rng(dim).normal(size=shape)
    grads = []
    for library in (gg, torch):
        x = library.tensor(values, requires_grad=True)
        (x.cumsum(dim) * library.tensor(values)).sum().backward()
        grads.append(library.from_numpy(x.grad.numpy()).tolist())
        g, = library.autograd.grad((x.cumsum(dim) * library.tensor(values)).sum(), x)
        grads.append(library.from_numpy(g.numpy()).tolist())
    np.testing.assert_allclose(grads[:2], grads[2:], rtol=1e-12)


def _copied_in(library, target, source, non_blocking):
    x = library.zeros(*target, dtype=library.float64)
    try:
        numbers = library.arange(float(np.prod(source)), dtype=library.float64).reshape(*source)
        x.copy_(numbers, non_blocking=non_blocking)
    except RuntimeError as error:
        return [shape.strip("[]()").rstrip(",") for shape in re.findall(r"[\[(][\d, ]*[\])]", str(error))]
    return x.tolist()


@pytest.mark.torch
@given(target=st.lists(st.integers(1, 3), min_size=1, max_size=3), extra=st.lists(st.just(1), max_size=2),
       cut=st.integers(0, 2), non_blocking=st.booleans())
def test_copy_into_a_tensor_refuses_a_source_with_more_dims_as_pytorch(target, extra, cut, non_blocking, torch):
    """``x.copy_(y, non_blocking=True)`` (a data loader's habit) was a TypeError here, and ``x.copy_(y)`` with y of
    shape (1, 1, 4) for an x of shape (3, 4) dropped y's leading 1s where PyTorch refuses it ("doesn't match the
    broadcast shape"). Now the keyword is taken and the same refusal, with the same broadcast shape, is given;
    sources that broadcast to x's shape copy alike."""
    source = tuple(extra) + tuple(target[cut % len(target):])
    assert _copied_in(gg, target, source, non_blocking) == _copied_in(torch, target, source, non_blocking)
