"""A sweep of second derivatives: every differentiable function a learner reaches for, against PyTorch 2.13.

For each case, inputs of hypothesis-drawn shapes (float64, all requiring grad) go through the function in both
libraries; then, for the two losses ``L₁ = Σ w·out`` and ``L₂ = Σ w·out²``,

- the gradients ``gᵢ = ∂L/∂xᵢ`` with ``create_graph=True, allow_unused=True``, and
- the Hessian-vector products ``∂(Σᵢ gᵢ·vᵢ)/∂xⱼ`` (``allow_unused=True``)

must be the same numbers (1e-9), with ``None`` (input not reached) in the same places; where PyTorch raises
(no second derivative), glassgrad raises the same exception type, in one line, at the same step. ``L₁`` shows a
rule's own second derivative (zero for a linear op: PyTorch's gradient then does not require grad, nor must
glassgrad's); ``L₂`` sends a varying upstream through the first backward, so the backward of the backward is
exercised for linear ops too.

Integer inputs (labels, indices) are worked out from the shapes, never drawn, so both libraries get the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes
from test_autograd_grad import _inputs

import glassgrad as gg


@dataclass(frozen=True)
class Case:
    """``call(lib, F, *xs)`` for both libraries; ``shapes`` draws the inputs' shapes; ``domains`` one per input
    (names of ``test_autograd_grad._inputs``: "any", "positive", "unit", "not zero", "above one"); ``ties``:
    whether the inputs of domain "any" may also be drawn on a grid of halves (ties, zeros, |d| = 0.5);
    ``pytorch_second_wrong``: why PyTorch's second derivatives are not the oracle (then finite differences are)."""

    call: Callable
    shapes: st.SearchStrategy
    domains: tuple[str, ...] = ("any",)
    ties: bool = True
    pytorch_second_wrong: str = ""


def _one(min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 3) -> st.SearchStrategy:
    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side).map(lambda s: (s,))


def _fixed(*shapes: tuple) -> st.SearchStrategy:
    return st.just(shapes)


def _broadcast(count: int = 2, min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy:
    return mutually_broadcastable_shapes(num_shapes=count, min_dims=min_dims, max_dims=max_dims,
                                         max_side=3).map(lambda drawn: drawn.input_shapes)


def _same(count: int, min_dims: int = 1, max_dims: int = 3, min_side: int = 1) -> st.SearchStrategy:
    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=3).map(
        lambda s: (s,) * count)


def _batched(channels: st.SearchStrategy = st.integers(1, 3), spatial: int = 2, side: tuple = (2, 4),
             extra: Callable = lambda n, c, space: ()) -> st.SearchStrategy:
    """(N, C, *space) and whatever ``extra`` adds from them (a weight of C, a bias...)."""
    sides = st.tuples(*[st.integers(*side)] * spatial)
    return st.tuples(st.integers(1, 3), channels, sides).map(
        lambda drawn: ((drawn[0], drawn[1], *drawn[2]), *extra(*drawn)))


def _labels(t, classes: int, ignore: int | None = None):
    """Class labels for the rows of t (N, C, ...): a pattern from the positions, with ``ignore`` every third."""
    shape = (t.shape[0], *t.shape[2:])
    picks = np.arange(int(np.prod(shape))).reshape(shape) * 7 % classes
    if ignore is not None:
        picks.reshape(-1)[::3] = ignore
    return t.new_tensor(picks).long()


def _index(t, dim: int, count: int):
    """``count`` positions along t's dim, repeats included."""
    return t.new_tensor((np.arange(count) * 2 + 1) % t.shape[dim]).long()


def _along(t, dim: int, width: int):
    """An index shaped as t but ``width`` long along dim (gather, scatter, take_along_dim)."""
    shape = list(t.shape)
    shape[dim] = width
    return t.new_tensor(np.indices(shape).sum(axis=0) % t.shape[dim]).long()


def _mask(t):
    return t.new_tensor(np.arange(t.numel()).reshape(tuple(t.shape)) % 3 == 1).bool()


def _layer(lib, make: Callable, x, parameters: tuple):
    """The layer ``make(lib.nn)`` (float64) run on x (or a tuple of inputs) with ``parameters`` in place of its own,
    in order, through ``torch.func.functional_call``."""
    layer = make(lib.nn).double()
    names = [name for name, _ in layer.named_parameters()]
    return lib.func.functional_call(layer, dict(zip(names, parameters)), x if isinstance(x, tuple) else (x,))


def _written(x, values):
    """``y[0] = values`` on a copy of x·x: a write of a tensor that requires grad, recorded."""
    y = x * x
    y[0] = values.sin()
    return y


def _x_broadest(shapes: tuple) -> bool:
    """The first shape is the broadcast result (PyTorch 2.13's clamp backward fails otherwise: "output with shape []
    doesn't match the broadcast shape [1]")."""
    return np.broadcast_shapes(*shapes) == tuple(shapes[0])


CASES: dict[str, Case] = {
    # elementwise, several inputs broadcasting
    "add_alpha": Case(lambda lib, F, a, b: a.add(b, alpha=-1.5), _broadcast()),
    "mul_div": Case(lambda lib, F, a, b: a * a / b, _broadcast(), ("any", "positive")),
    "pow_tensor_exponent": Case(lambda lib, F, a, b: a ** b, _broadcast(), ("positive", "any")),
    "pow_number_base": Case(lambda lib, F, b: 2.5 ** b, _one(0)),
    "float_power": Case(lambda lib, F, a, b: lib.float_power(a, b), _broadcast(), ("positive", "any")),
    "atan2": Case(lambda lib, F, a, b: lib.atan2(a, b), _broadcast(), ("not zero", "not zero")),
    "hypot": Case(lambda lib, F, a, b: lib.hypot(a, b), _broadcast(), ("not zero", "not zero")),
    "xlogy": Case(lambda lib, F, a, b: lib.xlogy(a, b), _broadcast(), ("any", "positive")),
    "logaddexp": Case(lambda lib, F, a, b: lib.logaddexp(a, b), _broadcast()),
    "maximum_minimum": Case(lambda lib, F, a, b: a.maximum(b) * a.minimum(b), _broadcast(), ("not zero", "any")),
    "clamp_tensor_bounds": Case(lambda lib, F, x, lo, hi: x.clamp(lo, hi + 1.0), _broadcast(3).filter(_x_broadest),
                                ("any", "not zero", "not zero")),
    "clamp_min_tensor": Case(lambda lib, F, x, lo: lib.clamp(x, min=lo), _broadcast(), ("not zero", "any")),
    "addcmul_addcdiv": Case(lambda lib, F, x, a, b: lib.addcdiv(lib.addcmul(x, a, b, value=0.5), a, b, value=2.0),
                            _broadcast(3), ("any", "any", "positive")),
    "lerp_tensor_weight": Case(lambda lib, F, a, b, w: lib.lerp(a, b, w), _broadcast(3)),
    "where": Case(lambda lib, F, a, b: lib.where(_mask(a * b), a.exp(), b * a), _broadcast()),
    "copysign_sinc": Case(lambda lib, F, a, b: lib.copysign(a, b) * lib.sinc(a), _broadcast(),
                          ("not zero", "not zero")),
    "fmod_remainder": Case(lambda lib, F, a, b: lib.fmod(a, b) + lib.remainder(a * a, b), _broadcast(),
                           ("any", "positive")),
    "rsub_true_divide": Case(lambda lib, F, a, b: lib.rsub(a, b).true_divide(b), _broadcast(), ("any", "positive")),
    # activations (the kinks kept away by the domain "not zero": |x| in [0.1, 0.4] or [1.1, 1.4])
    "relu": Case(lambda lib, F, x: F.relu(x) * x, _one(0), ("not zero",)),
    "leaky_relu": Case(lambda lib, F, x: F.leaky_relu(x, 0.2) * x, _one(0), ("not zero",)),
    "elu": Case(lambda lib, F, x: F.elu(x, alpha=0.8), _one(0), ("not zero",)),
    "selu": Case(lambda lib, F, x: F.selu(x), _one(0), ("not zero",)),
    "celu": Case(lambda lib, F, x: F.celu(x, alpha=1.25), _one(0), ("not zero",)),
    "gelu": Case(lambda lib, F, x: F.gelu(x), _one(0)),
    "gelu_tanh": Case(lambda lib, F, x: F.gelu(x, approximate="tanh"), _one(0)),
    "silu": Case(lambda lib, F, x: F.silu(x), _one(0)),
    "mish": Case(lambda lib, F, x: F.mish(x), _one(0)),
    "softplus": Case(lambda lib, F, x: F.softplus(x), _one(0)),
    "softplus_beta_threshold": Case(lambda lib, F, x: F.softplus(x, beta=3.0, threshold=2.0), _one(0),
                                    ("not zero",)),
    "hardtanh": Case(lambda lib, F, x: F.hardtanh(x, -0.5, 1.2) * x, _one(0), ("not zero",)),
    "relu6": Case(lambda lib, F, x: F.relu6(4 * x) * x, _one(0), ("not zero",)),
    "hardswish": Case(lambda lib, F, x: F.hardswish(2 * x), _one(0), ("not zero",)),
    "sigmoid_tanh": Case(lambda lib, F, x: x.sigmoid() * x.tanh(), _one(0)),
    "logsigmoid": Case(lambda lib, F, x: F.logsigmoid(3 * x), _one(0)),
    "softsign_tanhshrink": Case(lambda lib, F, x: F.softsign(x) + F.tanhshrink(x), _one(0)),
    "prelu": Case(lambda lib, F, x, w: F.prelu(x, w) * x, _batched(extra=lambda n, c, s: ((c,),)),
                  ("not zero", "any")),
    "glu": Case(lambda lib, F, x: F.glu(x, dim=-1), _one(1, 3).map(lambda s: ((*s[0][:-1], 2 * s[0][-1]),))),
    # reductions
    "sum_dims_keepdim": Case(lambda lib, F, x: x.sum(dim=(0, -1), keepdim=True) * x, _one(2)),
    "mean_dim": Case(lambda lib, F, x: x.mean(dim=-1) ** 2, _one(1)),
    "prod_dim": Case(lambda lib, F, x: x.prod(dim=0), _one(1), ("not zero",)),
    "amax_amin": Case(lambda lib, F, x: x.amax(dim=-1) * x.amin(dim=0, keepdim=True).sum(), _one(2)),
    # ties=False: max(dim) shares a tie's gradient evenly, PyTorch's goes to one entry (tests/test_engine_kinks.py)
    "max_min_values": Case(lambda lib, F, x: x.max(dim=-1).values * x.min(), _one(1), ties=False),
    "max_all": Case(lambda lib, F, x: x.max() * x, _one(0)),
    "var_std": Case(lambda lib, F, x: x.var(dim=-1, correction=0) + x.std(dim=0, keepdim=True).sum(),
                    _one(2, min_side=2), ties=False),  # std 0: PyTorch's ∂/∂w of a gradient it made 0 is NaN
    "var_mean": Case(lambda lib, F, x: lib.var_mean(x, dim=-1)[0] * lib.var_mean(x, dim=-1)[1], _one(1, min_side=2)),
    "logsumexp_dims": Case(lambda lib, F, x: lib.logsumexp(x, dim=(0, -1), keepdim=True) * x, _one(2)),
    "norm_2": Case(lambda lib, F, x: x.norm(dim=-1), _one(1), ("not zero",)),
    "norm_1": Case(lambda lib, F, x: x.norm(p=1, dim=0) * x, _one(1), ("not zero",)),
    "norm_inf": Case(lambda lib, F, x: x.norm(p=math.inf) * x, _one(1), ("not zero",)),
    "norm_3": Case(lambda lib, F, x: lib.norm(x, p=3, dim=-1, keepdim=True), _one(1), ("not zero",)),
    "norm_fro": Case(lambda lib, F, x: lib.norm(x, p="fro"), _one(1), ("not zero",)),
    "vector_norm_1": Case(lambda lib, F, x: lib.linalg.vector_norm(x, ord=1) * x, _one(1), ("not zero",)),
    "vector_norm_inf": Case(lambda lib, F, x: lib.linalg.vector_norm(x, ord=math.inf, dim=-1) * x.sum(), _one(1),
                            ("not zero",)),
    "vector_norm_2": Case(lambda lib, F, x: lib.linalg.vector_norm(x, dim=(0, -1)), _one(2), ("not zero",)),
    "matrix_norm_fro": Case(lambda lib, F, x: lib.linalg.matrix_norm(x), _one(2), ("not zero",)),
    "cumsum": Case(lambda lib, F, x: x.cumsum(dim=-1) * x, _one(1)),
    "cumprod": Case(lambda lib, F, x: x.cumprod(dim=0), _one(1), ("not zero",)),
    # ties=False: where the upstream is 0, PyTorch 2.13's second derivative of logcumsumexp is 0 (d²(x²)/dx² = 2)
    "logcumsumexp": Case(lambda lib, F, x: x.logcumsumexp(dim=-1), _one(1), ties=False),
    "cummax_values": Case(lambda lib, F, x: x.cummax(dim=-1).values * x, _one(1)),
    "sort_values": Case(lambda lib, F, x: x.sort(dim=-1, descending=True).values * x, _one(1)),
    "topk_values": Case(lambda lib, F, x: x.topk(1, dim=0).values.exp(), _one(1)),
    "median_values": Case(lambda lib, F, x: x.median(dim=-1).values ** 3, _one(1)),
    "kthvalue": Case(lambda lib, F, x: x.kthvalue(1, dim=-1).values ** 3, _one(1), ties=False),  # PyTorch's
    # pick among ties is its selection algorithm's (the second of [-1, -1, 1.5]); glassgrad's, the first
    # products
    "matmul_batched": Case(lambda lib, F, a, b: a @ b, st.sampled_from([((2, 3), (3, 2)), ((3,), (3, 2)),
                                                                       ((2, 1, 3), (2, 3, 2)), ((2, 3), (3,))])),
    "bmm": Case(lambda lib, F, a, b: lib.bmm(a, b).tanh(), _fixed((2, 2, 3), (2, 3, 2))),
    "linear_bias": Case(lambda lib, F, x, w, b: F.linear(x, w, b).tanh(), _fixed((2, 3), (4, 3), (4,))),
    "linear_no_bias": Case(lambda lib, F, x, w: F.linear(x, w), _fixed((2, 2, 3), (4, 3))),
    "bilinear": Case(lambda lib, F, x, y, w, b: F.bilinear(x, y, w, b), _fixed((2, 3), (2, 2), (4, 3, 2), (4,))),
    "einsum_contraction": Case(lambda lib, F, a, b: lib.einsum("bij,bjk->bik", a, b), _fixed((2, 2, 3), (2, 3, 2))),
    "einsum_trace_outer": Case(lambda lib, F, a, b: lib.einsum("ii,j->j", a, b), _fixed((3, 3), (2,))),
    "addmm_baddbmm": Case(lambda lib, F, m, a, b: lib.addmm(m, a, b, beta=0.5, alpha=2.0),
                          _fixed((2, 2), (2, 3), (3, 2))),
    "mv_dot_outer": Case(lambda lib, F, m, v: lib.outer(lib.mv(m, v), v) * lib.dot(v, v), _fixed((2, 3), (3,))),
    "tensordot": Case(lambda lib, F, a, b: lib.tensordot(a, b, dims=([1], [0])), _fixed((2, 3), (3, 2))),
    "cdist": Case(lambda lib, F, a, b: lib.cdist(a, b), _fixed((3, 2), (2, 2)), ties=False),  # a tie: distance 0,
    # a kink (and PyTorch has no second derivative of cdist: finite differences are the oracle here)
    # indexing, scattering, masks
    "getitem_advanced": Case(lambda lib, F, x: x[_index(x, 0, 4)] * x[0], _one(1)),
    "gather": Case(lambda lib, F, x: x.gather(-1, _along(x, -1, 3)) ** 2, _one(1)),
    "take_along_dim": Case(lambda lib, F, x: lib.take_along_dim(x, _along(x, 0, 2), dim=0) ** 2, _one(1)),
    "scatter_src": Case(lambda lib, F, x, s: x.scatter(0, _along(x, 0, 1), s[:1]) * s, _same(2)),
    "scatter_add_src": Case(lambda lib, F, x, s: x.scatter_add(-1, _along(s, -1, s.shape[-1]), s) * x, _same(2)),
    "scatter_reduce_sum": Case(lambda lib, F, x, s: x.scatter_reduce(0, _along(s, 0, s.shape[0]), s * s, "sum"),
                               _same(2)),
    "index_select": Case(lambda lib, F, x: x.index_select(-1, _index(x, -1, 4)) ** 2, _one(1)),
    "index_add": Case(lambda lib, F, x, s: x.index_add(0, _index(x, 0, 2), s * s, alpha=0.5),
                      _one(1).map(lambda s: (s[0], (2, *s[0][1:])))),
    "index_copy": Case(lambda lib, F, x, s: x.index_copy(0, x.new_tensor([0]).long(), s) * x,
                       _one(1).map(lambda s: (s[0], (1, *s[0][1:])))),
    "masked_fill": Case(lambda lib, F, x: x.masked_fill(_mask(x), 0.5) * x, _one(0)),
    "masked_fill_tensor_value": Case(lambda lib, F, x, v: x.masked_fill(_mask(x), v) * v, _one(1).map(
        lambda s: (s[0], ()))),
    "masked_select": Case(lambda lib, F, x: x.masked_select(_mask(x)) ** 3, _one(1)),
    "take": Case(lambda lib, F, x: lib.take(x, _index(x.reshape(-1), 0, 5)) ** 3, _one(1)),
    "narrow_select": Case(lambda lib, F, x: x.narrow(0, 0, 1) * x.select(-1, 0).unsqueeze(-1), _one(2)),
    # joins and views
    "cat_stack": Case(lambda lib, F, a, b: lib.cat([a, b * a], dim=0) * lib.stack([a, b]).sum(0).sum(0), _same(2)),
    "split_chunk": Case(lambda lib, F, x: lib.cat([p * p for p in x.split(1, dim=0)] + [x.chunk(2, dim=-1)[0]],
                                                  dim=-1), _one(2)),
    "unbind": Case(lambda lib, F, x: sum(p * p[0] for p in x.unbind(0)), _one(1)),
    "views": Case(lambda lib, F, x: x.permute(*range(x.dim() - 1, -1, -1)).reshape(-1).view(1, -1).t()
                  .unsqueeze(0).squeeze(0) ** 2, _one(1)),
    "expand_movedim": Case(lambda lib, F, x: x.unsqueeze(0).expand(2, *x.shape).movedim(0, -1).flatten() ** 2,
                           _one(1)),
    "flip_roll_repeat": Case(lambda lib, F, x: x.flip(0).roll(1, 0).repeat(2, 1) ** 2, _one(2)),
    "diagonal_tril": Case(lambda lib, F, x: x.tril(-1) * x.diagonal().sum(), _one(2, 2)),
    # softmax family
    "softmax": Case(lambda lib, F, x: F.softmax(x, dim=-1), _one(1)),
    "log_softmax_dim0": Case(lambda lib, F, x: F.log_softmax(x, dim=0), _one(1)),
    "softmin": Case(lambda lib, F, x: F.softmin(x, dim=-1), _one(1)),
    "normalize": Case(lambda lib, F, x: F.normalize(x, dim=-1), _one(1), ("not zero",)),
    "normalize_p1": Case(lambda lib, F, x: F.normalize(x, p=1, dim=0), _one(1), ("not zero",)),
    # normalization layers
    "layer_norm": Case(lambda lib, F, x, w, b: F.layer_norm(x, x.shape[-1:], w, b),
                       _one(1, min_side=2).map(lambda s: (s[0], s[0][-1:], s[0][-1:]))),
    "layer_norm_plain": Case(lambda lib, F, x: F.layer_norm(x, x.shape[-2:]), _one(2, min_side=2)),
    "rms_norm": Case(lambda lib, F, x, w: F.rms_norm(x, x.shape[-1:], w),
                     _one(1).map(lambda s: (s[0], s[0][-1:]))),
    "batch_norm_train": Case(lambda lib, F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                             _batched(spatial=1, side=(2, 3), extra=lambda n, c, s: ((c,), (c,)))),
    "batch_norm_train_running": Case(
        lambda lib, F, x: F.batch_norm(x, lib.zeros(x.shape[1], dtype=lib.float64),
                                       lib.ones(x.shape[1], dtype=lib.float64), training=True, momentum=0.3),
        _batched(spatial=0).filter(lambda s: s[0][0] > 1)),
    "batch_norm_eval": Case(lambda lib, F, x, m, v, w, b: F.batch_norm(x, m.detach(), v.detach() + 1.0, w, b),
                            _batched(spatial=2, extra=lambda n, c, s: ((c,), (c,), (c,), (c,))),
                            ("any", "any", "positive", "any", "any")),
    "group_norm": Case(lambda lib, F, x, w, b: F.group_norm(x, 2, w, b),
                       _batched(st.sampled_from([2, 4]), 1, (2, 3), lambda n, c, s: ((c,), (c,)))),
    "instance_norm": Case(lambda lib, F, x, w, b: F.instance_norm(x, weight=w, bias=b),
                          _batched(spatial=2, extra=lambda n, c, s: ((c,), (c,)))),
    "local_response_norm": Case(lambda lib, F, x: F.local_response_norm(x, 2), _batched(spatial=1)),
    # losses: the target also requires grad where PyTorch sends it a gradient
    "mse": Case(lambda lib, F, x, y: F.mse_loss(x, y), _same(2)),
    "mse_none": Case(lambda lib, F, x, y: F.mse_loss(x, y, reduction="none"), _same(2)),
    "l1": Case(lambda lib, F, x, y: F.l1_loss(x, y.tanh(), reduction="sum"), _same(2)),
    "smooth_l1": Case(lambda lib, F, x, y: F.smooth_l1_loss(x, y, beta=0.5), _same(2)),
    "huber": Case(lambda lib, F, x, y: F.huber_loss(x, y, delta=0.7, reduction="none"), _same(2)),
    "bce": Case(lambda lib, F, x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()), _same(2)),
    "bce_weight": Case(lambda lib, F, x, y, w: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), weight=w.detach().exp(),
                                                                      reduction="sum"), _same(3)),
    "bce_with_logits": Case(lambda lib, F, x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid()), _same(2)),
    "bce_with_logits_pos_weight": Case(
        lambda lib, F, x, y, p: F.binary_cross_entropy_with_logits(x, y.sigmoid(), pos_weight=p.detach().exp()),
        _one(1).map(lambda s: (s[0], s[0], s[0][-1:]))),
    "cross_entropy": Case(lambda lib, F, x: F.cross_entropy(x, _labels(x, x.shape[1])), _one(2, 2, 2)),
    "cross_entropy_smoothing": Case(lambda lib, F, x: F.cross_entropy(x, _labels(x, x.shape[1]),
                                                                      label_smoothing=0.2), _one(2, 3, 2)),
    "cross_entropy_weight_ignore": Case(
        lambda lib, F, x, w: F.cross_entropy(x, _labels(x, x.shape[1], ignore=-100), weight=w.exp()),
        _one(2, 2, 2).filter(lambda s: s[0][0] > 1).map(lambda s: (s[0], s[0][1:2]))),
    "cross_entropy_all_options": Case(
        lambda lib, F, x, w: F.cross_entropy(x, _labels(x, x.shape[1], ignore=1), weight=w.exp(), ignore_index=1,
                                             label_smoothing=0.1, reduction="sum"),
        _one(2, 3, 2).map(lambda s: (s[0], s[0][1:2]))),
    "cross_entropy_probabilities": Case(lambda lib, F, x, y: F.cross_entropy(x, y.softmax(dim=1),
                                                                             label_smoothing=0.3), _same(2, 2, 3, 2)),
    "nll": Case(lambda lib, F, x, w: F.nll_loss(x.log_softmax(1), _labels(x, x.shape[1], ignore=0),
                                                weight=w.exp(), ignore_index=0),
                _one(2, 3, 2).map(lambda s: (s[0], s[0][1:2]))),
    "kl_div": Case(lambda lib, F, x, y: F.kl_div(x.log_softmax(-1), y.softmax(-1), reduction="batchmean"), _same(2)),
    "kl_div_log_target": Case(lambda lib, F, x, y: F.kl_div(x, y, log_target=True, reduction="sum"), _same(2)),
    "cosine_similarity": Case(lambda lib, F, x, y: F.cosine_similarity(x, y, dim=-1), _broadcast(2, 1),
                              ("not zero", "not zero")),
    "pairwise_distance": Case(lambda lib, F, x, y: F.pairwise_distance(x, y), _same(2, 2, 2)),
    "pairwise_distance_p1": Case(lambda lib, F, x, y: F.pairwise_distance(x, y, p=1.0, eps=0.0) * x.sum(),
                                 _same(2, 2, 2)),
    "cosine_embedding": Case(lambda lib, F, x, y: F.cosine_embedding_loss(
        x, y, x.new_tensor(np.resize([1.0, -1.0], x.shape[0])), margin=-0.9), _same(2, 2, 2), ("not zero",)),
    "margin_ranking": Case(lambda lib, F, x, y: F.margin_ranking_loss(
        x, y, x.new_tensor(np.resize([1.0, -1.0], x.shape)), margin=5.0) * x.sum(), _same(2, 1, 1)),
    "soft_margin_multilabel": Case(lambda lib, F, x: F.soft_margin_loss(x, (x.detach() > 0).double() * 2 - 1)
                                   + F.multilabel_soft_margin_loss(x, (x.detach() > 0).double()), _one(2, 2)),
    "poisson_gaussian_nll": Case(lambda lib, F, x, y, v: F.poisson_nll_loss(x, y.exp()) +
                                 F.gaussian_nll_loss(x, y, v.exp()), _same(3)),
    "triplet_margin": Case(lambda lib, F, a, p, n: F.triplet_margin_loss(a, p, n, margin=10.0), _same(3, 2, 2)),
    # convolution, pooling, resampling, padding
    "conv1d": Case(lambda lib, F, x, w, b: F.conv1d(x, w, b, padding=1, stride=2), _fixed((2, 2, 5), (3, 2, 3),
                                                                                          (3,))),
    "conv2d": Case(lambda lib, F, x, w, b: F.conv2d(x, w, b, padding=(1, 0), dilation=(1, 2)),
                   _fixed((1, 2, 4, 5), (3, 2, 2, 2), (3,))),
    "conv_transpose2d": Case(lambda lib, F, x, w: F.conv_transpose2d(x, w, stride=2, padding=1),
                             _fixed((1, 2, 3, 3), (2, 3, 3, 3))),
    "conv_transpose1d": Case(lambda lib, F, x, w, b: F.conv_transpose1d(x, w, b, stride=2),
                             _fixed((2, 2, 4), (2, 1, 3), (1,))),
    "max_pool1d": Case(lambda lib, F, x: F.max_pool1d(x, 2) ** 2, _batched(spatial=1, side=(2, 5))),
    "max_pool2d": Case(lambda lib, F, x: F.max_pool2d(x, 2, stride=1) ** 2, _batched(side=(2, 4))),
    "avg_pool1d": Case(lambda lib, F, x: F.avg_pool1d(x, 2, ceil_mode=True) ** 2, _batched(spatial=1, side=(2, 5))),
    "avg_pool2d": Case(lambda lib, F, x: F.avg_pool2d(x, 2, padding=1) ** 2, _batched(side=(2, 4))),
    "adaptive_avg_pool2d": Case(lambda lib, F, x: F.adaptive_avg_pool2d(x, (2, 1)) ** 2, _batched(side=(2, 4))),
    "adaptive_max_pool2d": Case(lambda lib, F, x: F.adaptive_max_pool2d(x, (2, 2)) ** 2, _batched(side=(2, 4))),
    "adaptive_max_pool1d": Case(lambda lib, F, x: F.adaptive_max_pool1d(x, 2) ** 2, _batched(spatial=1)),
    "lp_pool2d": Case(lambda lib, F, x: F.lp_pool2d(x, 2, 2), _batched(side=(2, 4)), ("positive",)),
    "interpolate_nearest": Case(lambda lib, F, x: F.interpolate(x, scale_factor=2) ** 2, _batched(side=(1, 3))),
    "interpolate_linear": Case(lambda lib, F, x: F.interpolate(x, size=5, mode="linear") ** 2,
                               _batched(spatial=1, side=(2, 4))),
    "interpolate_bilinear_corners": Case(lambda lib, F, x: F.interpolate(x, size=(3, 4), mode="bilinear",
                                                                         align_corners=True) ** 2,
                                         _batched(side=(2, 3))),
    "interpolate_bicubic": Case(lambda lib, F, x: F.interpolate(x, scale_factor=2, mode="bicubic") ** 2,
                                _batched(side=(2, 3))),
    "pad_constant": Case(lambda lib, F, x: F.pad(x, (1, 2), value=0.5) ** 2, _one(1)),
    "pad_reflect": Case(lambda lib, F, x: F.pad(x, (1, 1), mode="reflect") ** 2, _batched(spatial=1, side=(2, 4))),
    "pad_replicate": Case(lambda lib, F, x: F.pad(x, (1, 0, 2, 1), mode="replicate") ** 2, _batched(side=(1, 3))),
    "pad_circular": Case(lambda lib, F, x: F.pad(x, (1, 1), mode="circular") ** 2, _batched(spatial=1)),
    "unfold_fold": Case(lambda lib, F, x: F.fold(F.unfold(x, 2) ** 2, x.shape[-2:], 2), _batched(side=(2, 3))),
    "pixel_shuffle": Case(lambda lib, F, x: F.pixel_shuffle(x, 2) ** 2, _fixed((1, 4, 2, 3))),
    "embedding": Case(lambda lib, F, w: F.embedding(_index(w, 0, 5), w, max_norm=None) ** 2, _fixed((4, 3))),
    "attention": Case(lambda lib, F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                      _fixed((1, 3, 2), (1, 3, 2), (1, 3, 2))),
    "dropout_eval": Case(lambda lib, F, x: F.dropout(x, 0.5, training=False) ** 2, _one(1)),
    # more math
    "special_functions": Case(lambda lib, F, x: lib.special.erfinv(x) + lib.lgamma(x + 2) + lib.digamma(x + 2)
                              + lib.special.xlog1py(x, x + 1) + lib.logit(x * 0.5 + 0.5), _one(0), ("unit",)),
    "erfc_expit_log_ndtr": Case(lambda lib, F, x: lib.special.erfc(x) * lib.special.expit(x)
                                + lib.special.log_ndtr(x), _one(0)),
    "diff_cross_trapz": Case(lambda lib, F, a, b: lib.diff(a * b, dim=-1).sum() * lib.cross(a, b, dim=-1)
                             + lib.trapezoid(a * a, dim=-1).unsqueeze(-1), _same(2, 2, 2).map(
                                 lambda s: ((*s[0][:-1], 3),) * 2)),
    "nan_to_num_frac": Case(lambda lib, F, x: lib.nan_to_num(x.log()) * x.frac(), _one(0), ("positive",)),
    "std_mean_aminmax": Case(lambda lib, F, x: lib.std_mean(x, dim=0)[0] * lib.aminmax(x, dim=0).max,
                             _one(2, min_side=2), ties=False),
    "renorm": Case(lambda lib, F, x: x.renorm(2, 0, 1.0), _one(2), ("not zero",)),
    "trace_det_inverse": Case(lambda lib, F, x: lib.trace(x) * lib.linalg.det(x + 3 * lib.eye(3, dtype=x.dtype))
                              + lib.linalg.inv(x + 3 * lib.eye(3, dtype=x.dtype)), _fixed((3, 3)), ties=False),
    # ties=False: halves plus 3·I can be exactly singular, which glassgrad refuses (README) and PyTorch's LU inverts
    # into numbers of 1e48
    "solve_cholesky": Case(lambda lib, F, a, b: lib.linalg.solve(a @ a.mT + lib.eye(2, dtype=a.dtype), b)
                           + lib.linalg.cholesky(a @ a.mT + lib.eye(2, dtype=a.dtype)), _fixed((2, 2), (2, 2))),
    "grid_sample_affine_grid": Case(lambda lib, F, x, theta: F.grid_sample(
        x, F.affine_grid(theta, (1, 1, 3, 3), align_corners=False), align_corners=False),
        _fixed((1, 1, 4, 4), (1, 2, 3))),
    "embedding_bag": Case(lambda lib, F, w: F.embedding_bag(_index(w, 0, 6).reshape(2, 3), w, mode="mean") ** 2,
                          _fixed((4, 3))),
    "index_put_accumulate": Case(lambda lib, F, x, v: x.index_put((_index(x, 0, 3),), v * v, accumulate=True) * x,
                                 _one(1).map(lambda s: (s[0], (3, *s[0][1:])))),
    "index_put": Case(lambda lib, F, x, v: x.index_put((x.new_tensor([0]).long(),), v.exp()) * x,
                      _one(1).map(lambda s: (s[0], (1, *s[0][1:])))),
    "setitem_tensor_values": Case(lambda lib, F, x, v: _written(x, v), _one(1).map(lambda s: (s[0], s[0][1:]))),
    "masked_scatter": Case(lambda lib, F, x, s: x.masked_scatter(_mask(x), s * s) * x, _same(2)),
    "index_fill_diag_embed": Case(lambda lib, F, x: lib.diag_embed(x.index_fill(-1, _index(x, -1, 1), 0.5)) ** 2,
                                  _one(1, 2)),
    "block_diag": Case(lambda lib, F, a, b: lib.block_diag(a, b * a.sum()) ** 2, _fixed((2, 2), (1, 3))),
    "multi_margin": Case(lambda lib, F, x: F.multi_margin_loss(x, _labels(x, x.shape[1]), margin=2.0) * x.sum(),
                         _one(2, 2, 2), ties=False),  # finite differences (PyTorch has none) across a tie's kink
    "hinge_embedding": Case(lambda lib, F, x: F.hinge_embedding_loss(
        x, x.new_tensor(np.resize([1.0, -1.0], x.shape)), margin=3.0) * x.sum(), _one(1)),
    "triplet_with_distance": Case(lambda lib, F, a, p, n: F.triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda u, w: 1 - F.cosine_similarity(u, w), margin=1.5), _same(3, 2, 2),
        ("not zero",)),
    "weight_norm_linear": Case(lambda lib, F, x, g, v, b: _layer(
        lib, lambda nn: nn.utils.parametrizations.weight_norm(nn.Linear(3, 2)), x, (b, g, v)).tanh(),
        _fixed((2, 3), (2, 1), (2, 3), (2,)), ("any", "not zero", "not zero", "any"),
        pytorch_second_wrong="torch._weight_norm's double backward w.r.t. v disagrees with finite differences and "
                             "with g·v/‖v‖ written out, in PyTorch 2.13 itself"),
    "ctc_loss": Case(lambda lib, F, x: F.ctc_loss(x.log_softmax(-1), x.new_tensor([[1, 2]]).long(), [4], [2]),
                     _fixed((4, 1, 3))),
    "max_unpool2d": Case(lambda lib, F, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2) ** 2,
                         _fixed((1, 2, 4, 4)), ties=False),
    "cummin_values": Case(lambda lib, F, x: x.cummin(dim=0).values * x, _one(1), ties=False),
    "nll_loss_2d": Case(lambda lib, F, x: F.nll_loss(x.log_softmax(1), _labels(x, x.shape[1]), reduction="sum"),
                        _batched(st.integers(2, 3), 2, (1, 3))),
    "logsumexp_softmax_3d": Case(lambda lib, F, x: x.softmax(1) * x.logsumexp(-1, keepdim=True), _one(3, 3)),
    # layers, their parameters as inputs through torch.func.functional_call
    "lstm": Case(lambda lib, F, x, *p: _layer(lib, lambda nn: nn.LSTM(2, 3, batch_first=True), x, p)[0],
                 _fixed((2, 3, 2), (12, 2), (12, 3), (12,), (12,))),
    "gru": Case(lambda lib, F, x, *p: _layer(lib, lambda nn: nn.GRU(2, 3), x, p)[1],
                _fixed((3, 2, 2), (9, 2), (9, 3), (9,), (9,))),
    "rnn_relu": Case(lambda lib, F, x, *p: _layer(lib, lambda nn: nn.RNN(2, 3, nonlinearity="tanh",
                                                                         bias=False), x, p)[0],
                     _fixed((3, 2), (3, 2), (3, 3))),
    "multihead_attention": Case(lambda lib, F, x, *p: _layer(lib, lambda nn: nn.MultiheadAttention(
        4, 2, batch_first=True), (x, x, x), p)[0], _fixed((1, 3, 4), (12, 4), (12,), (4, 4), (4,))),
    "transformer_encoder_layer": Case(lambda lib, F, x, *p: _layer(lib, lambda nn: nn.TransformerEncoderLayer(
        4, 2, dim_feedforward=6, dropout=0.0, batch_first=True, norm_first=True), x, p),
        _fixed((1, 3, 4), (12, 4), (12,), (4, 4), (4,), (6, 4), (6,), (4, 6), (4,), (4,), (4,), (4,), (4,))),
    "batch_norm_module": Case(lambda lib, F, x, w, b: _layer(lib, lambda nn: nn.BatchNorm2d(2, momentum=0.5),
                                                             x, (w, b)), _fixed((2, 2, 2, 2), (2,), (2,))),
    "conv2d_module_reflect": Case(lambda lib, F, x, w, b: _layer(lib, lambda nn: nn.Conv2d(
        1, 2, 3, padding=1, padding_mode="reflect"), x, (w, b)), _fixed((1, 1, 3, 4), (2, 1, 3, 3), (2,))),
}


def _derivatives(lib, case: Case, arrays: list, outer: np.ndarray, inner: list, squared: bool) -> list:
    """What the user sees, step by step: the output, ∇L recorded, then the Hessian-vector product, and the
    derivative of Σᵢ gᵢ·vᵢ w.r.t. the weights w of L (a Jacobian-vector product: the "double-backward trick"
    ``torch.autograd.functional.jvp`` uses); an exception raised stops the list there with (its type, whether its
    message is one line, whether it says "not implemented")."""
    F = lib.nn.functional
    force = {} if lib is gg else {"force": True}  # PyTorch's zero second derivatives can be ZeroTensors
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    found: list = []
    try:
        out = case.call(lib, F, *xs)
        found.append(out.detach().numpy())
        loss, weights = _loss(lib, out, outer, squared)
        firsts = lib.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
        found.append([None if g is None else g.detach().numpy() for g in firsts])
        total = sum((g * lib.tensor(v, dtype=lib.float64)).sum() for g, v in zip(firsts, inner) if g is not None)
        seconds = ([None] * (len(xs) + 1) if not total.requires_grad
                   else lib.autograd.grad(total, [*xs, weights], allow_unused=True))
        found.append([None if g is None else g.detach().numpy(**force) for g in seconds])
    except Exception as error:  # noqa: BLE001 (the type and the shape of the message are what is compared)
        found.append((type(error), "\n" not in str(error), "not implemented" in str(error)))
    return found


def _loss(lib, out, outer: np.ndarray, squared: bool) -> tuple:
    """L₁ = Σ w·out or L₂ = Σ w·out², and its weights w (which require grad)."""
    weights = lib.tensor(np.resize(outer, tuple(out.shape)), dtype=lib.float64, requires_grad=True)
    return (out * out * weights).sum() if squared else (out * weights).sum(), weights


def _differences(case: Case, arrays: list, outer: np.ndarray, inner: list, squared: bool) -> list:
    """The Hessian-vector product by central differences of glassgrad's first gradients: ∂(Σᵢ gᵢ·vᵢ)/∂xⱼ."""

    def total(values: list) -> float:
        xs = [gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in values]
        firsts = gg.autograd.grad(_loss(gg, case.call(gg, gg.nn.functional, *xs), outer, squared)[0], xs,
                                  allow_unused=True, materialize_grads=True)
        return sum(float((g.numpy() * v).sum()) for g, v in zip(firsts, inner))

    step, found = 1e-6, []
    for j, array in enumerate(arrays):
        slope = np.zeros(array.shape)
        for k in np.ndindex(array.shape):
            up, down = [a.copy() for a in arrays], [a.copy() for a in arrays]
            up[j][k] += step
            down[j][k] -= step
            slope[k] = (total(up) - total(down)) / (2 * step)
        found.append(slope)
    return found


def _assert_same(mine: list, theirs: list, name: str) -> None:
    assert len(mine) == len(theirs), f"{name}: glassgrad {mine[-1]!r} where PyTorch {theirs[-1]!r}"
    for step, (ours, reference) in enumerate(zip(mine, theirs)):
        where = f"{name} step {step}"
        if isinstance(reference, tuple):  # an exception
            assert isinstance(ours, tuple) and issubclass(ours[0], reference[0]) and ours[1], (where, ours, reference)
        elif isinstance(reference, list):
            if step == 1:
                assert [g is None for g in ours] == [g is None for g in reference], (where, "None", ours, reference)
            for number, (g, r) in enumerate(zip(ours, reference)):
                if g is None or r is None:  # after step 1: None (not reached) and 0 are the same answer
                    assert not np.any(g if r is None else r), (where, "None where not 0", ours, reference)
                    continue
                np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-9, err_msg=f"{where} input {number}")
        else:
            np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-9, err_msg=where)


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**16), squared=st.booleans(), ties=st.booleans())
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_and_hessian_vector_products_match_pytorch(torch, name, data, seed, squared, ties):
    """PyTorch's numbers, None where PyTorch's, its exception where it raises; where PyTorch has not implemented a
    second derivative that exists ("derivative for aten::_cdist_backward is not implemented") or gets it wrong,
    glassgrad's Hessian-vector product is checked by central differences of its own first gradients instead."""
    case = CASES[name]
    shapes = data.draw(case.shapes, label="shapes")
    domains = case.domains * len(shapes) if len(case.domains) == 1 else case.domains
    rng = np.random.default_rng(seed)
    arrays = [_inputs(rng, tuple(shape), domain) for shape, domain in zip(shapes, domains)]
    if ties and case.ties:
        arrays = [np.round(a * 2) / 2 if d == "any" else a for a, d in zip(arrays, domains)]
    outer, inner = rng.normal(size=64), [rng.normal(size=tuple(shape)) for shape in shapes]
    theirs = _derivatives(torch, case, arrays, outer, inner, squared)
    mine = _derivatives(gg, case, arrays, outer, inner, squared)
    not_implemented = len(theirs) == 3 and isinstance(theirs[2], tuple) and theirs[2][2]
    if (not_implemented or case.pytorch_second_wrong) and len(mine) == 3 and isinstance(mine[2], list):
        theirs[2] = _differences(case, arrays, outer, inner, squared)
        for ours, reference in zip(mine[2], theirs[2]):
            np.testing.assert_allclose(0 if ours is None else ours, reference, rtol=1e-5,
                                       atol=1e-6 * max(1.0, np.abs(reference).max(initial=0)), err_msg=name)
        theirs, mine = theirs[:2], mine[:2]
    _assert_same(mine, theirs, name)


# --- what the sweep found, pinned -------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("name, setting", [("smooth_l1_loss", "beta"), ("huber_loss", "delta")])
@pytest.mark.parametrize("width", [0.5, 1.0, 2.0])
def test_smooth_l1_and_huber_are_linear_where_the_error_is_exactly_the_width(torch, name, setting, width):
    """At |ŷ − y| = β (or δ) both losses are on their linear piece: the second derivative is 0 there, as in PyTorch
    (0.5 on a grid of halves is common). glassgrad's recorded slope was ``clamp(d, −1, 1)``, whose derivative at
    the bound is 1: ``∂²L/∂ŷ²`` came out 1/β (δ for Huber) instead of 0. Either side of the width, as before."""
    found = []
    for lib in (gg, torch):
        x = lib.tensor([width, -width, 0.9 * width, 1.1 * width, 0.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([0.0, 0.0, 0.0, 0.0, 0.0], dtype=lib.float64, requires_grad=True)
        loss = getattr(lib.nn.functional, name)(x, y, reduction="sum", **{setting: width})
        firsts = lib.autograd.grad(loss, (x, y), create_graph=True)
        seconds = lib.autograd.grad(firsts[0].sum() + 2 * firsts[1].sum(), (x, y))
        found.append([t.detach().numpy() for t in (*firsts, *seconds)])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("name, call", [("elu", lambda F, x: F.elu(x, 0.7)), ("selu", lambda F, x: F.selu(x)),
                                        ("celu", lambda F, x: F.celu(x, 1.5)), ("ELU", lambda F, x: F.elu(x))])
def test_the_elus_have_pytorchs_second_derivative_at_exactly_zero(torch, name, call):
    """A physics-informed net with ELU and zero-initialised biases evaluates the first layer at exactly 0 on the
    boundary x = 0. There PyTorch's first derivative is the lower piece's (α·e⁰) and its second derivative 0 (the
    double backward masks ``a < 0``); glassgrad's recorded slope ``α·exp(clamp(a, max=0))`` passed clamp's slope 1
    at the bound, giving α (α/α·… for celu, scale·α for selu). Away from 0 and the first derivatives, unchanged."""
    found = []
    for lib in (gg, torch):
        x = lib.tensor([0.0, -0.0, 0.3, -0.4], dtype=lib.float64, requires_grad=True)
        (first,) = lib.autograd.grad((call(lib.nn.functional, x) * 1.3).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((first * lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64)).sum(), x)
        found.append([first.detach().numpy(), second.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 1.0), (0.5, 1.5), (4.0, 2.0)])
def test_softplus_has_pytorchs_second_derivative_where_beta_x_is_the_threshold(torch, beta, threshold):
    """At β·x = threshold PyTorch's softplus slope is still σ(β·x) but its second derivative is 0 (the double
    backward masks β·x < threshold); glassgrad's recorded slope σ(clamp(β·x, max=threshold)) passed clamp's slope
    1 there, giving β·σ'(threshold). Either side of it, unchanged."""
    at = threshold / beta
    found = []
    for lib in (gg, torch):
        x = lib.tensor([at, at - 0.25, at + 0.25, 0.0], dtype=lib.float64, requires_grad=True)
        out = lib.nn.functional.softplus(x, beta=beta, threshold=threshold)
        (first,) = lib.autograd.grad((out * 1.3).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((first * lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64)).sum(), x)
        found.append([first.detach().numpy(), second.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


IN_PLACE_STEPS = {
    "y.mul_(x)": lambda lib, y, x: y.mul_(x),
    "y *= x": lambda lib, y, x: y.__imul__(x),
    "y.div_(x + 3)": lambda lib, y, x: y.div_(x + 3),
    "y /= x.exp()": lambda lib, y, x: y.__itruediv__(x.exp()),
    "y.add_(x * x)": lambda lib, y, x: y.add_(x * x),
    "y.mul_(2)": lambda lib, y, x: y.mul_(2.0),
}


def _through_in_place(lib, step, values, first):
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    y = first(lib, x)
    IN_PLACE_STEPS[step](lib, y, x)
    (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
    (h,) = lib.autograd.grad((g * lib.tensor(values[::-1].copy())).sum(), x)
    return g.detach().numpy(), h.numpy()


@pytest.mark.torch
@given(step=st.sampled_from(sorted(IN_PLACE_STEPS)), first=st.sampled_from(["x * 1", "x.sin()", "x ** 2 + 1"]),
       values=st.lists(st.floats(-2, 2), min_size=1, max_size=4).map(np.array))
def test_second_derivatives_through_an_in_place_change_read_the_old_value(step, first, values, torch):
    """``y = x * 1; y.mul_(x)`` then ``grad(..., create_graph=True)``: the differentiable backward read y's new value
    where the rule needs the old one the in-place op copied for itself: the gradient of ``y.sum()`` at x = (1, 2)
    was (2, 6), not 2x = (2, 4), and every second derivative after it was wrong, silently (the plain backward was
    right); forward-mode tangents, made by the double backward, were wrong too. Now the copy stands in for the old
    value, as a cast recorded on the input: PyTorch's first and second derivatives to 1e-12."""
    build = {"x * 1": lambda lib, x: x * 1, "x.sin()": lambda lib, x: x.sin(), "x ** 2 + 1": lambda lib, x: x ** 2 + 1}
    ours = _through_in_place(gg, step, values, build[first])
    theirs = _through_in_place(torch, step, values, build[first])
    for mine, pytorchs in zip(ours, theirs):
        np.testing.assert_allclose(mine, pytorchs, rtol=1e-12, atol=1e-12)


INFINITE_UPSTREAM = {  # each sends an infinite gradient into entries where its own slope is 0
    "where(x > 0, x, 0).sqrt()": lambda lib, x: lib.where(x > 0, x, 0.0).sqrt(),
    "x.relu().sqrt()": lambda lib, x: x.relu().sqrt(),
    "maximum(x, 0).sqrt()": lambda lib, x: lib.maximum(x, lib.zeros((), dtype=x.dtype)).sqrt(),
    "x.max() + x.sqrt()": lambda lib, x: x.relu().max() + x.relu().sqrt(),
    "hardtanh(x).sqrt()": lambda lib, x: lib.nn.functional.hardtanh(x, 0.0, 1.0).sqrt(),
    "x.floor() + x.relu().sqrt()": lambda lib, x: x.floor() + x.relu().sqrt(),
    "(x * 2).zero_() reciprocal": lambda lib, x: (x * 2).zero_().reciprocal(),
    "(x * 2).fill_(0) reciprocal": lambda lib, x: (x * 2).fill_(0.0).reciprocal(),
    "(x * 2)[0] = 0, reciprocal": lambda lib, x: _written(x * 2, lambda c: c.__setitem__(0, 0.0)).reciprocal(),
    "masked_fill_ then reciprocal": lambda lib, x: (x * 2).masked_fill_(x > 0.6, 0.0).reciprocal(),
    "copy_(zeros) reciprocal": lambda lib, x: (x * 2).copy_(lib.zeros(3, dtype=x.dtype)).reciprocal(),
    "index_fill_ reciprocal": lambda lib, x: (x * 2).index_fill_(0, lib.tensor([0]), 0.0).reciprocal(),
    "scatter_ reciprocal": lambda lib, x: (x * 2).scatter_(0, lib.tensor([0]), 0.0).reciprocal(),
    "rows.diagonal().sqrt()": lambda lib, x: _rows(lib, x).diagonal().sqrt(),
    "rows.diagonal(1).sqrt()": lambda lib, x: _rows(lib, x).diagonal(1).sqrt(),
    "diag(rows).sqrt()": lambda lib, x: lib.diag(_rows(lib, x)).sqrt(),
    "rows[None].diagonal(0, 1, 2).sqrt()": lambda lib, x: _rows(lib, x)[None].diagonal(0, 1, 2).sqrt(),
}


def _rows(lib, x):
    """A 3 × 3 matrix whose row i is relu(xᵢ): its diagonal's gradient reaches every entry of a row."""
    return x.relu()[:, None] * lib.ones(3, 3, dtype=x.dtype)


def _written(tensor, write):
    write(tensor)
    return tensor


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(INFINITE_UPSTREAM))
def test_a_zero_slope_under_an_infinite_upstream_is_zero_with_create_graph(torch, name):
    """``where(x > 0, x, 0).sqrt()`` at x ≤ 0 sends ∞ into where's unpicked side, whose slope is 0: PyTorch's
    gradient is 0 there, with or without create_graph. glassgrad's plain backward gave 0, but the recorded one
    (create_graph=True: gradient penalties, Hessians) multiplied by a 0/1 mask, ∞ · 0 = NaN. Now the recorded rules
    pick, as the plain ones do: where, relu, maximum, max, the flat pieces (hardtanh, floor), every write
    (zero_, fill_, x[i] = v, masked_fill_, copy_, index_fill_, scatter_) and diagonal, which multiplied by a 0/1
    matrix and put NaN off the diagonal."""
    found = []
    for library in (gg, torch):
        for create_graph in (False, True):
            x = library.tensor([-1.0, 0.5, 4.0], dtype=library.float64, requires_grad=True)
            (g,) = library.autograd.grad(INFINITE_UPSTREAM[name](library, x).sum(), x, create_graph=create_graph)
            found.append(g.detach().numpy())
    for mine in (*found[:2], found[3]):  # to the last bit but for √'s rounding; a NaN matches no number
        np.testing.assert_allclose(mine, found[2], rtol=1e-15, atol=0)


PIECEWISE_LINEAR = {
    "relu": lambda lib, x: lib.relu(x),
    "relu_": lambda lib, x: (x * 1).relu_(),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, -0.5, 1.2),
    "relu6": lambda lib, x: lib.nn.functional.relu6(4 * x),
    "abs": lambda lib, x: x.abs(),
    "l1_loss": lambda lib, x: lib.nn.functional.l1_loss(x, x.detach() * 0.5 + 0.25),
    "max_pool1d": lambda lib, x: lib.nn.functional.max_pool1d(x.reshape(1, 1, -1), 2, ceil_mode=True),
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x.reshape(1, 1, 1, -1), (1, 2), ceil_mode=True),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.2, -1.0),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x, 0.5),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x, 0.3),
    "prelu": lambda lib, x: lib.nn.functional.prelu(x, lib.tensor([0.25], dtype=x.dtype)),
    "prelu_channels": lambda lib, x: lib.nn.functional.prelu(x.reshape(1, -1, 1), lib.tensor(
        np.linspace(-0.5, 0.5, len(x)), dtype=x.dtype)),
    "clamp": lambda lib, x: x.clamp(-0.5, 0.5),  # PyTorch's backward is a pick: its gradient leaves the graph
    "maximum": lambda lib, x: lib.maximum(x, x.detach() * 0 + 0.25),
    "amax": lambda lib, x: x.amax(0),
}


@pytest.mark.torch
@given(values=st.lists(st.sampled_from([-1.5, -0.3, 0.0, 0.2, 0.5, 2.0]), min_size=1, max_size=6),
       weights=st.lists(st.floats(-2, 2), min_size=6, max_size=6))
@pytest.mark.parametrize("name", sorted(PIECEWISE_LINEAR))
def test_the_second_derivative_through_a_piecewise_linear_op_alone_is_pytorchs(torch, name, values, weights):
    """∇ of Σ w·relu(x) stays in x's graph, as PyTorch's threshold_backward keeps it, so differentiating it again
    gives 0 (the Hessian of a ReLU network with respect to its input; glassgrad refused: "does not require grad");
    where PyTorch's gradient leaves the graph (clamp, maximum, amax), both refuse. Threshold, the shrinks and PReLU
    (a constant slope) are rows of their own for it: made of masked_fill and where, their gradient left the graph."""
    found = {}
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = PIECEWISE_LINEAR[name](lib, x)
        (first,) = lib.autograd.grad((out * lib.tensor(np.resize(weights, tuple(out.shape)))).sum(), x,
                                     create_graph=True)
        try:
            (second,) = lib.autograd.grad((first * lib.tensor(weights[:len(values)])).sum(), x)
            found[lib] = (first.detach().numpy(), first.requires_grad, second.numpy(**({} if lib is gg else
                                                                                       {"force": True})))
        except RuntimeError as error:
            found[lib] = (first.detach().numpy(), first.requires_grad, "does not require grad" in str(error))
    (ours, our_graph, our_second), (theirs, their_graph, their_second) = found[gg], found[torch]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    assert our_graph == their_graph
    if isinstance(their_second, bool):
        assert our_second == their_second
    else:
        np.testing.assert_array_equal(our_second, their_second)


def _prelu_inputs(lib, values: np.ndarray, slopes: np.ndarray, wanted: str) -> tuple:
    x = lib.tensor(values, dtype=lib.float64, requires_grad="x" in wanted)
    return x, lib.tensor(slopes, dtype=lib.float64, requires_grad="slope" in wanted)


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 3), min_size=2, max_size=4), one_slope=st.booleans(),
       wanted=st.sampled_from(["x", "slope", "x and slope"]), seed=st.integers(0, 2**16))
def test_prelu_second_derivatives_are_pytorchs_with_either_input_alone(torch, shape, one_slope, wanted, seed):
    """PReLU is one row, as PyTorch's ``_prelu_kernel``: its gradients stay in both inputs' graphs, so ∂²/∂x² is 0
    with a constant slope (it raised "does not require grad"), ∂²/∂a² is 0 with a constant x, and the mixed
    derivative ∂²L/∂x∂a is the upstream where x < 0, summed per channel. x is kept off 0, where PyTorch's double
    backward masks x ≥ 0 but its first derivative takes the slope's side (glassgrad takes that side in both)."""
    rng = np.random.default_rng(seed)
    values = rng.choice([-1, 1], size=shape) * rng.uniform(0.1, 2.0, size=shape)
    slopes = rng.normal(size=1 if one_slope else shape[1])
    outer, found = rng.normal(size=shape), []
    for lib in (gg, torch):
        x, slope = _prelu_inputs(lib, values, slopes, wanted)
        inputs = [t for t in (x, slope) if t.requires_grad]
        out = lib.nn.functional.prelu(x, slope)
        firsts = lib.autograd.grad((out * lib.tensor(outer)).sum(), inputs, create_graph=True)
        total = sum((g * g).sum() for g in firsts)
        seconds = lib.autograd.grad(total, inputs)
        found.append([g.detach().numpy() for g in (*firsts, *seconds)] + [[g.requires_grad for g in firsts]])
    mine, theirs = found
    assert mine[-1] == theirs[-1]
    for ours, reference in zip(mine[:-1], theirs[:-1]):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)
