"""Round 62: convolutions against PyTorch 2.13.

``F.conv1d/2d/3d`` and ``nn.Conv*`` (stride, padding as ints, tuples, ``'same'``/``'valid'``, dilation, groups,
no bias, the padding modes, unbatched inputs, float32/float64, gradients of input, weight and bias, second order),
``F.conv_transpose*`` and ``nn.ConvTranspose*`` (output_padding, ``output_size=``), ``F.unfold``/``F.fold`` and
the lazy layers, and misuse: PyTorch's exception class in one line. PyTorch comes through the ``torch`` fixture
(skipped without it).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


def _close(ours, theirs, dtype: str) -> None:
    tol = 1e-10 if dtype == "float64" else 2e-4
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


def _both(torch, call, arrays: list, dtype: str) -> None:
    """``call(lib, *tensors)`` on both libraries from the same numbers: equal outputs and gradients."""
    results = []
    for lib in (torch, gg):
        tensors = [None if a is None else lib.tensor(a, requires_grad=True) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = call(lib, *tensors)
        up = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype)
        (out * lib.tensor(up)).sum().backward()
        results.append((out, [None if t is None else t.grad for t in tensors]))
    (theirs, their_grads), (ours, our_grads) = results
    assert tuple(ours.shape) == tuple(theirs.shape)
    _close(ours, theirs, dtype)
    for mine, want in zip(our_grads, their_grads):
        assert (mine is None) == (want is None)
        if want is not None:
            _close(mine, want, dtype)


def _refused_alike(torch, call, kind: type[Exception]) -> None:
    """PyTorch raises ``kind`` for ``call``, and glassgrad the same class, in one line."""
    with pytest.raises(kind):
        call(torch)
    with pytest.raises(kind) as error:
        call(gg)
    assert "\n" not in str(error.value)


# ---------------------------------------------------------------- the fuzzer's core

@st.composite
def _convolutions(draw):
    dims = draw(st.sampled_from([1, 2, 3]))
    groups = draw(st.sampled_from([1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = draw(st.one_of(st.integers(0, 2), st.sampled_from(["same", "valid"]),
                             st.tuples(*[st.integers(0, 2)] * dims)))
    stride = 1 if padding == "same" else draw(st.one_of(st.integers(1, 3), st.tuples(*[st.integers(1, 3)] * dims)))
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = tuple(draw(st.integers(r, r + 3)) for r in reach)
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    return dims, groups, cin, cout, kernel, dilation, padding, stride, size, batch, draw(st.booleans()), \
        draw(st.sampled_from(["float32", "float64"])), draw(st.integers(0, 2**31))


@settings(max_examples=25, deadline=None)
@given(case=_convolutions())
def test_drawn_convolutions_and_gradients_match_pytorch(torch, case):
    """F.convNd's values and its input, weight and bias gradients, for drawn settings (unbatched inputs too)."""
    dims, groups, cin, cout, kernel, dilation, padding, stride, size, batch, bias, dtype, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(batch + (cin,) + size).astype(dtype)
    w = rng.standard_normal((cout, cin // groups) + kernel).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype) if bias else None
    _both(torch, lambda lib, X, W, B: getattr(lib.nn.functional, f"conv{dims}d")(X, W, B, stride, padding, dilation,
                                                                                  groups), [x, w, b], dtype)


@settings(max_examples=20, deadline=None)
@given(case=_convolutions(), extra=st.integers(0, 2))
def test_drawn_transposed_convolutions_match_pytorch(torch, case, extra):
    """F.conv_transposeNd with output_padding below the stride or dilation, and its gradients."""
    dims, groups, cin, cout, kernel, dilation, padding, stride, size, batch, bias, dtype, seed = case
    stride = (2,) * dims if isinstance(stride, int) or isinstance(padding, str) else stride
    padding = 0 if isinstance(padding, str) else padding
    output_padding = tuple(min(extra, max(s, d) - 1) for s, d in zip(stride, dilation))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(batch + (cin,) + size).astype(dtype)
    w = rng.standard_normal((cin, cout // groups) + kernel).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype) if bias else None
    pads = (padding,) * dims if isinstance(padding, int) else padding
    if min((n - 1) * s - 2 * p + d * (k - 1) + e + 1
           for n, s, p, d, k, e in zip(size, stride, pads, dilation, kernel, output_padding)) < 1:
        return
    _both(torch, lambda lib, X, W, B: getattr(lib.nn.functional, f"conv_transpose{dims}d")(
        X, W, B, stride, padding, output_padding, groups, dilation), [x, w, b], dtype)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (1, 2), "same"])
def test_layer_padding_modes_match_pytorch(torch, mode, padding):
    """nn.Conv2d's padding_mode (the input padded in that mode first), with 'same' and an even kernel."""
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 2, 6, 7)), rng.standard_normal((4, 1, 2, 3)), rng.standard_normal(4)

    def call(lib, X, W, B):
        layer = lib.nn.Conv2d(2, 4, (2, 3), padding=padding, groups=2, padding_mode=mode, dtype=lib.float64)
        return lib.func.functional_call(layer, {"weight": W, "bias": B}, (X,))
    _both(torch, call, [x, w, b], "float64")


def test_second_order_gradients_match_pytorch(torch):
    """∂/∂(x, w, b) of the squared norm of conv2d's gradients (create_graph=True), groups and dilation."""
    rng = np.random.default_rng(4)
    arrays = rng.standard_normal((2, 4, 6, 6)), rng.standard_normal((2, 2, 3, 3)), rng.standard_normal(2)
    results = []
    for lib in (torch, gg):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in arrays)
        out = lib.nn.functional.conv2d(x, w, b, stride=2, padding=1, dilation=(1, 2), groups=2)
        grads = lib.autograd.grad((out ** 2).sum(), (x, w, b), create_graph=True)
        results.append(lib.autograd.grad(sum((g ** 2).sum() for g in grads), (x, w, b)))
    for ours, theirs in zip(results[1], results[0]):
        _close(ours, theirs, "float64")


@pytest.mark.parametrize("output_size", [[9, 10], [1, 3, 10, 9]])
def test_transposed_layer_output_size_matches_pytorch(torch, output_size):
    """ConvTranspose2d(…)(x, output_size=…) picks the output_padding that gives that size (spatial or whole shape)."""
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(3)

    def call(lib, X, W, B):
        layer = lib.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=lib.float64)
        return lib.func.functional_call(layer, {"weight": W, "bias": B}, (X,), {"output_size": output_size})
    _both(torch, call, [x, w, b], "float64")


@settings(max_examples=15, deadline=None)
@given(kernel=st.sampled_from([2, 3, (1, 2), (3, 2)]), dilation=st.sampled_from([1, 2, (2, 1)]),
       padding=st.sampled_from([0, 1, (0, 1)]), stride=st.sampled_from([1, 2, (1, 2)]),
       batch=st.sampled_from([(), (2,)]), seed=st.integers(0, 2**31))
def test_drawn_unfold_and_fold_match_pytorch(torch, kernel, dilation, padding, stride, batch, seed):
    """F.unfold and its adjoint F.fold, values and gradients, unbatched inputs too."""
    x = np.random.default_rng(seed).standard_normal(batch + (2, 6, 5))
    _both(torch, lambda lib, X: lib.nn.functional.unfold(X, kernel, dilation, padding, stride), [x], "float64")
    columns = torch.nn.functional.unfold(torch.tensor(x), kernel, dilation, padding, stride).numpy()
    _both(torch, lambda lib, C: lib.nn.functional.fold(C, (6, 5), kernel, dilation, padding, stride), [columns],
          "float64")


@pytest.mark.parametrize("name, shape", [("LazyConv1d", (2, 3, 7)), ("LazyConv2d", (3, 6, 6)),
                                         ("LazyConv3d", (1, 2, 4, 4, 4)), ("LazyConvTranspose2d", (1, 4, 5, 5))])
def test_lazy_layers_take_their_in_channels_from_the_input(torch, name, shape):
    """The lazy layers' weight shape and output shape, unbatched inputs too."""
    groups = 2 if "Transpose" in name else 1
    outs = [getattr(lib.nn, name)(4, 3, groups=groups)(lib.ones(*shape)) for lib in (torch, gg)]
    assert tuple(outs[0].shape) == tuple(outs[1].shape)


# ---------------------------------------------------------------- defects fixed in this round

@pytest.mark.parametrize("dims", [1, 2, 3])
def test_a_one_element_stride_padding_or_dilation_stands_for_every_dim(torch, dims):
    """F.conv2d(x, w, stride=(2,), padding=(1,), dilation=(1,)) raised ValueError ('stride must be … 2 of them'):
    PyTorch reads a one-element list as the same value for every spatial dim, in F.conv*, F.conv_transpose* and
    the layers alike."""
    rng = np.random.default_rng(dims)
    x, w = rng.standard_normal((1, 2) + (6,) * dims), rng.standard_normal((2, 2) + (3,) * dims)
    _both(torch, lambda lib, X, W: getattr(lib.nn.functional, f"conv{dims}d")(X, W, None, (2,), (1,), (1,)),
          [x, w], "float64")
    _both(torch, lambda lib, X, W: getattr(lib.nn.functional, f"conv_transpose{dims}d")(X, W, None, (2,), (1,), (1,)),
          [x, w], "float64")
    layer = getattr(gg.nn, f"Conv{dims}d")(2, 2, 3, stride=(2,), padding=[1])
    assert layer.stride == (2,) * dims and layer.padding == (1,) * dims


CONV_MISUSE = [
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3), stride=2, padding="same"),
     "padding='same' is not supported"),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3), padding="full"), "'full'"),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3), padding=-1), "padding"),
    (lambda lib: lib.nn.Conv2d(1, 1, 3, padding=-1)(lib.ones(1, 1, 5, 5)), "padding"),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3), stride=0), "stride"),
    (lambda lib: lib.nn.Conv1d(1, 1, 3, stride=0)(lib.ones(1, 1, 5)), "stride"),
    (lambda lib: lib.nn.functional.conv3d(lib.ones(1, 1, 5, 5, 5), lib.ones(1, 1, 3, 3, 3), dilation=0), "dilation"),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3), stride=(1, 1, 1)), "stride"),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 4, 5, 5), lib.ones(4, 2, 3, 3), groups=0), "groups"),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 4, 5, 5), lib.ones(3, 2, 3, 3), groups=2), "groups=2"),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3)), "weight"),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(2, 1, 3, 3), lib.ones(3)), "bias"),
    (lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 1, 5, 5), lib.ones(1, 2, 3, 3), lib.ones(3)), "bias"),
    (lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3), padding=-1),
     "padding"),
    (lambda lib: lib.nn.functional.conv_transpose1d(lib.ones(1, 1, 5), lib.ones(1, 1, 3, 3)), "weight"),
    (lambda lib: lib.nn.functional.unfold(lib.ones(1, 1, 4, 4), 0), "kernel_size"),
    (lambda lib: lib.nn.functional.unfold(lib.ones(1, 1, 4, 4), 2, padding=-1), "padding"),
    (lambda lib: lib.nn.functional.unfold(lib.ones(1, 1, 4, 4), (2, 2, 2)), "kernel_size"),
    (lambda lib: lib.nn.functional.unfold(lib.ones(1, 1, 1, 4, 4), 2), "unfold"),
    (lambda lib: lib.nn.functional.fold(lib.ones(1, 4, 9), (4, 4), 2, stride=0), "stride"),
    (lambda lib: lib.nn.functional.fold(lib.ones(1, 4, 9), (4,), 2), "output_size"),
]


@pytest.mark.parametrize("call, words", CONV_MISUSE)
def test_functional_misuse_is_pytorchs_runtime_error(torch, call, words):
    """These raised ValueError where PyTorch raises RuntimeError ('negative padding is not supported', 'non-positive
    stride', 'padding='same' is not supported for strided convolutions', 'expected bias to be 1-dimensional with 2
    elements', …); a transposed convolution's wrong bias raised add's broadcasting error. Now RuntimeError, in one
    line naming the argument."""
    _refused_alike(torch, call, RuntimeError)
    with pytest.raises(RuntimeError, match=words.replace("(", r"\(")):
        call(gg)


def test_unfold_of_too_few_dims_is_pytorchs_index_error(torch):
    """F.unfold of a 2-d tensor raised ValueError; PyTorch's IndexError (dim 2 out of range), in one line."""
    _refused_alike(torch, lambda lib: lib.nn.functional.unfold(lib.ones(5, 5), 2), IndexError)


# ---------------------------------------------------------------- pins of what already behaved

LAYER_MISUSE = [
    (lambda lib: lib.nn.Conv2d(1, 1, 3, stride=2, padding="same"), ValueError),
    (lambda lib: lib.nn.Conv2d(1, 1, 3, padding="full"), ValueError),
    (lambda lib: lib.nn.Conv2d(3, 4, 3, groups=2), ValueError),
    (lambda lib: lib.nn.Conv2d(4, 4, 3, groups=0), ValueError),
    (lambda lib: lib.nn.Conv2d(4, 4, 3, padding_mode="foo"), ValueError),
    (lambda lib: lib.nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect"), ValueError),
    (lambda lib: lib.nn.ConvTranspose2d(1, 1, 3, stride=2)(lib.ones(1, 1, 5, 5), output_size=(20, 20)), ValueError),
    (lambda lib: lib.nn.ConvTranspose2d(1, 1, 3, stride=2)(lib.ones(1, 1, 5, 5), output_size=(1, 11, 11)),
     ValueError),
    (lambda lib: lib.nn.Conv2d(4, 4, 3)(lib.ones(1, 3, 5, 5)), RuntimeError),
    (lambda lib: lib.nn.Conv2d(1, 1, 3)(lib.ones(1, 1, 2, 2)), RuntimeError),
    (lambda lib: lib.nn.Conv1d(1, 2, 3)(lib.ones(1, 1, 5, 5)), RuntimeError),
    (lambda lib: lib.nn.Conv2d(1, 1, 3, padding=3, padding_mode="reflect")(lib.ones(1, 1, 3, 3)), RuntimeError),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3).double()), RuntimeError),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(0, 1, 3, 3)), RuntimeError),
    (lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3), stride=2,
                                                    output_padding=2), RuntimeError),
    (lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3), padding="same"),
     TypeError),
    (lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3), stride=1.0), TypeError),
    (lambda lib: lib.nn.functional.fold(lib.ones(1, 5, 9), (4, 4), 2), RuntimeError),
    (lambda lib: lib.nn.functional.unfold(lib.ones(1, 1, 2, 2), 3), RuntimeError),
    (lambda lib: lib.nn.LazyConv2d(4, 3, groups=2)(lib.ones(1, 3, 5, 5)), ValueError),
]


@pytest.mark.parametrize("call, kind", LAYER_MISUSE)
def test_misuse_already_raising_pytorchs_class(torch, call, kind):
    """Layer constructors' ValueErrors, shape and dtype RuntimeErrors, TypeErrors for non-ints."""
    _refused_alike(torch, call, kind)


def test_transposed_output_of_size_zero_is_refused_as_pytorchs_reference_path(torch):
    """A transposed convolution whose output would have a size-0 dim: PyTorch's float64 path refuses it
    ('Output size is too small', RuntimeError); its oneDNN float32 path may return an empty tensor instead, a backend
    quirk glassgrad does not copy."""
    call = lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(2, 1, 3, 4, dtype=lib.float64),  # noqa: E731
                                                          lib.ones(1, 1, 2, 1, dtype=lib.float64), None, (1, 2), 2)
    _refused_alike(torch, call, RuntimeError)


def test_empty_batch_gives_an_empty_output(torch):
    """A batch of 0 inputs gives a (0, C_out, …) output, convolution and transposed."""
    for f, w in (("conv2d", (2, 1, 3, 3)), ("conv_transpose2d", (1, 2, 3, 3))):
        shapes = [tuple(getattr(lib.nn.functional, f)(lib.ones(0, 1, 5, 5), lib.ones(*w)).shape) for lib in (torch, gg)]
        assert shapes[0] == shapes[1]
